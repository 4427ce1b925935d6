"""Makes the BatchNorm training-step reference of issue 13 (NigGen.Tests/Reference/batchnorm_training.*).

A small conv + BatchNorm network (BatchNormTrainingNet in NigGen.Tests/Reference/ReferenceNetworks.cs) takes two
train-mode steps of nn.CrossEntropyLoss with probability targets and torch.optim.Adam (lr 1e-3, PyTorch's defaults),
as NigGen's Trainer does them (docs/TRAINING.md): per step the loss before the update, every parameter's gradient,
and the complete state_dict after the update (parameters, running_mean, running_var, num_batches_tracked).

float32 throughout, as PyTorch trains and as NigGen's trainer computes. Deterministic: fixed seeds, one thread.
Run with `bash scripts/reference/run.sh` (or directly: python3 make_training_reference.py; no Captum needed).
"""

import os

import torch
from torch import nn

import models
import safetensors_io
from models import ModelSpec, Named

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "NigGen.Tests", "Reference")
SEED = 20240613
BATCH = 8
STEPS = 2
WARMUP_STEPS = 3


def build():
    """conv -> BatchNorm2d (momentum 0.2) + ReLU -> max pool -> flatten -> dense -> BatchNorm1d (eps 1e-3) + ReLU ->
    dense logits: BatchNorm on (C, H, W) and on (C), with non-default options."""
    return Named(
        ("conv1", nn.Conv2d(2, 4, 3, padding=1, bias=False)),
        ("bn1", nn.BatchNorm2d(4, momentum=0.2)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(36, 6, bias=False)),
        ("bn2", nn.BatchNorm1d(6, eps=1e-3)),
        ("relu2", nn.ReLU()),
        ("fc2", nn.Linear(6, 3)))


SPEC = ModelSpec("batchnorm_training", "BatchNormTrainingNet", build, (2, 6, 6), attribute_layers=[])


def main():
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    model = build()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
        # Running statistics that are neither 0/1 nor fresh (num_batches_tracked = WARMUP_STEPS).
        model.train()
        for _ in range(WARMUP_STEPS):
            model(1.5 * torch.randn(16, *SPEC.input_shape) + 0.3)
    safetensors_io.save(os.path.join(OUT, "batchnorm_training.weights.safetensors"), model.state_dict(), {"format": "pt"})

    values = {}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    first_input = None
    for step in range(1, STEPS + 1):
        x = torch.randn(BATCH, *SPEC.input_shape)
        target = torch.softmax(2.0 * torch.randn(BATCH, 3), dim=1)  # probability rows (soft labels)
        first_input = x if first_input is None else first_input
        model.train()
        optimizer.zero_grad()
        logits = model(x)
        loss = loss_fn(logits, target)
        loss.backward()
        values[f"step{step}.input"] = x
        values[f"step{step}.target"] = target
        values[f"step{step}.logits"] = logits.detach()
        values[f"step{step}.loss"] = loss.detach().reshape(1)
        for name, p in model.named_parameters():
            values[f"step{step}.grad.{name}"] = p.grad.detach().clone()
        optimizer.step()
        for name, t in model.state_dict().items():
            # num_batches_tracked as float32 here (exact): NigGen's SafetensorsFile reads float dtypes only. The
            # weights file keeps the state_dict's own int64.
            values[f"step{step}.after.{name}"] = t.detach().clone().float()
    model.eval()
    with torch.no_grad():
        values["eval.input"] = first_input
        values["eval.forward"] = model(first_input)
    safetensors_io.save(os.path.join(OUT, "batchnorm_training.reference.safetensors"), values, {
        "model": SPEC.name,
        "niggen_class": f"NigGen.Tests.Reference.{SPEC.csharp}",
        "loss": "nn.CrossEntropyLoss() (mean) with probability targets",
        "optimizer": "torch.optim.Adam(lr=1e-3) defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0",
        "steps": str(STEPS),
        "torch": torch.__version__,
        "made_by": "scripts/reference/make_training_reference.py",
    })
    print(f"{SPEC.name}: losses {[round(values[f'step{s}.loss'].item(), 6) for s in range(1, STEPS + 1)]}, "
          f"num_batches_tracked {values[f'step{STEPS}.after.bn1.num_batches_tracked'].item()}, {len(values)} tensors")


if __name__ == "__main__":
    main()
