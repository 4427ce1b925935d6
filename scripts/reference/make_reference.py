"""Makes the PyTorch/Captum reference data of issue 13 (NigGen.Tests/Reference/): for every model of
models.REFERENCE_MODELS, its complete state_dict and the values of Captum's attribution methods on a few samples.

What each tensor is, and which Captum call with which arguments made it: scripts/reference/README.md.

Deterministic: fixed seeds, one thread, CPU. Run with `bash scripts/reference/run.sh` (sets up PYTHONPATH for Captum).
"""

import argparse
import copy
import os
import warnings
import zlib

import numpy
import torch
from torch import nn

import captum
from captum.attr import (DeepLift, IntegratedGradients, LayerConductance, LayerDeepLift,
                         LayerGradientXActivation, NeuronConductance)
from captum.attr._core import deep_lift

import models
from models import Named
import safetensors_io

# Captum warns on every DeepLift call that it sets hooks on the activations, and that inputs need gradients.
warnings.filterwarnings("ignore", category=UserWarning)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "NigGen.Tests", "Reference")

SAMPLES = 3          # sample 0: zero baseline; samples 1 and 2: non-zero baselines
WARMUP_STEPS = 4     # train-mode forward passes that move the BatchNorm running statistics
WARMUP_BATCH = 16
N_STEPS = 50
IG_METHOD = "gausslegendre"  # a rule where NigGen's and Captum's integrated-gradients weights agree (METHOD.md)


# ---------------------------------------------------------------------------------------------------------------
# Captum's DeepLift, completed where it is silent or lossy; see README.md ("DeepLIFT: two additions to Captum").

def _register_backward_hook_fixed(module, hook, attr_obj):
    """Captum 0.8's captum._utils.common._register_backward_hook with the fix of Captum issue #1104 (merged upstream as
    pull request #1843, after 0.8): when two hooked nonlinear modules are adjacent (ReLU -> MaxPool), Captum 0.8 reads
    the first one's output gradient from a tensor hook that runs before the second module's hook has rewritten that
    gradient into DeepLIFT multipliers, so the ReLU rescales a plain gradient and the attributions no longer sum to
    F(x) - F(x'). Here the output gradient is captured on the module's own output while the module returns a clone of
    it, so every hook a later module registers (on the clone) runs first. And the input gradient is rewritten on a
    clone of the input that only this module reads: Captum 0.8 hooks the input tensor itself, so when another layer
    also reads it (GlobalPool1dNet: one feature map into a global max pool and a global average pool), the max-pool
    rule replaced the sum of both consumers' gradients."""
    grad_out = {}

    def forward_hook(module, inputs, output):
        def capture(output_grad):
            grad_out[output_grad.device] = output_grad

        single = output[0] if isinstance(output, tuple) else output
        single.register_hook(capture)
        return single.clone()

    def pre_hook(module, inputs):
        def rewrite(input_grad):
            if not grad_out:
                return None
            result = hook(module, input_grad, grad_out[input_grad.device])
            return result[0] if isinstance(result, tuple) else result

        own = (inputs[0] if isinstance(inputs, tuple) else inputs).clone()
        own.register_hook(rewrite)
        return own

    return [module.register_forward_pre_hook(pre_hook), module.register_forward_hook(forward_hook)]


CAPTUM_REGISTER_BACKWARD_HOOK = deep_lift._register_backward_hook
deep_lift._register_backward_hook = _register_backward_hook_fixed

# Captum 0.8 lists no rule for GELU and SiLU, so it would pass their plain gradients (not DeepLIFT). Rescale is the
# rule DeepLIFT defines for any element-wise nonlinearity, and the one NigGen applies: Captum's own `nonlinear`.
deep_lift.SUPPORTED_NON_LINEAR[nn.GELU] = deep_lift.nonlinear
deep_lift.SUPPORTED_NON_LINEAR[nn.SiLU] = deep_lift.nonlinear
CAPTUM_MAXPOOL = {t: deep_lift.SUPPORTED_NON_LINEAR[t] for t in (nn.MaxPool1d, nn.MaxPool2d)}


def _unpool_sum(values, indices, input_shape):
    """max_unpool that adds the values of windows sharing an argmax instead of keeping one of them."""
    n, c = values.shape[:2]
    out = values.new_zeros(n, c, int(torch.tensor(input_shape[2:]).prod()))
    out.scatter_add_(2, indices.reshape(n, c, -1), values.reshape(n, c, -1))
    return out.reshape(input_shape)


def maxpool_summing(module, inputs, outputs, grad_input, grad_output, eps=1e-10):
    """Captum's max-pool rule with two changes. Where windows overlap (stride < kernel) and two outputs route their
    difference to the same input, the contributions add up, as the gradient does, instead of F.max_unpool keeping only
    one of them. Where |x - x'| < eps the multiplier is the input's own gradient; Captum 0.8 takes `grad_input[0]`,
    which since its hooks pass a tensor rather than a tuple is the first sample's gradient broadcast to all. For
    non-overlapping windows and inputs that differ from the baseline it is Captum's rule exactly."""
    pool = nn.functional.max_pool1d if isinstance(module, nn.MaxPool1d) else nn.functional.max_pool2d
    with torch.no_grad():
        x, x_ref = inputs.chunk(2)
        y, y_ref = outputs.chunk(2)
        delta_in = torch.cat(2 * [x - x_ref])
        y_max = torch.max(y, y_ref)
        delta_out = torch.cat([y_max - y_ref, y - y_max])
        _, indices = pool(module.input, module.kernel_size, module.stride, module.padding, module.dilation,
                          module.ceil_mode, True)
        routed = _unpool_sum(grad_output * delta_out, indices, list(module.input.shape))
        routed = sum(routed.chunk(2))
        routed = torch.cat(2 * [routed])
    return torch.where(abs(delta_in) < eps, grad_input, routed / delta_in)


def use_maxpool_rule(summing):
    for t, rule in CAPTUM_MAXPOOL.items():
        deep_lift.SUPPORTED_NON_LINEAR[t] = maxpool_summing if summing else rule


# ---------------------------------------------------------------------------------------------------------------
# Models and data.


def seed_of(name):
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


def random_inputs(spec, count, generator):
    """One-hot DNA for genomic models (random bases), standard normal values otherwise."""
    if spec.genomic:
        channels, length = spec.input_shape
        bases = torch.randint(0, channels, (count, length), generator=generator)
        return nn.functional.one_hot(bases, channels).permute(0, 2, 1).float()
    return torch.randn(count, *spec.input_shape, generator=generator)


def non_zero_baselines(spec, count, generator):
    """Genomic: the uniform background 0.25 for the first, a random one-hot sequence for the others.
    Otherwise: normal values of standard deviation 0.5."""
    if spec.genomic:
        uniform = torch.full((1, *spec.input_shape), 0.25)
        return torch.cat([uniform, random_inputs(spec, count - 1, generator)])[:count]
    return 0.5 * torch.randn(count, *spec.input_shape, generator=generator)


def prepare(spec):
    """The model in eval mode with non-trivial parameters: BatchNorm's affine parameters drawn at random (PyTorch
    initialises them to 1 and 0), and running statistics moved by WARMUP_STEPS train-mode passes over random data (so
    running_mean/var are not 0/1 and num_batches_tracked = WARMUP_STEPS)."""
    torch.manual_seed(seed_of(spec.name))
    model = spec.build()
    generator = torch.Generator().manual_seed(seed_of(spec.name) + 1)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.normal_(0.0, 0.2, generator=generator)
    model.train()
    with torch.no_grad():
        for _ in range(WARMUP_STEPS):
            batch = random_inputs(spec, WARMUP_BATCH, generator)
            if not spec.genomic:
                batch = 1.5 * batch + 0.3
            model(batch)
    return model.eval()


# ---------------------------------------------------------------------------------------------------------------
# Attributions.


def flat_delta(delta):
    return delta.reshape(-1)


def attributions(spec, model32):
    """Every reference value (names: README.md), computed in float64 on the float32 weights (so the reference is Captum's algorithm with
    less rounding than NigGen's float32 kernels), stored as float32."""
    model = copy.deepcopy(model32).double().eval()
    generator = torch.Generator().manual_seed(seed_of(spec.name) + 2)
    x = random_inputs(spec, SAMPLES, generator)
    baseline = torch.cat([torch.zeros(1, *spec.input_shape), non_zero_baselines(spec, SAMPLES - 1, generator)])
    with torch.no_grad():
        outputs = model(x.double()).shape[1]
    target = torch.randint(0, outputs, (SAMPLES,), generator=generator)
    xd, bd = x.double(), baseline.double()
    t = target.tolist()

    out = {"input": x, "baseline": baseline, "target": target}
    with torch.no_grad():
        out["forward"] = model(xd)
        out["forward_baseline"] = model(bd)

    xg = xd.clone().requires_grad_(True)
    selected = model(xg).gather(1, target.view(-1, 1)).sum()
    out["input_gradient"] = torch.autograd.grad(selected, xg)[0]

    ig, delta = IntegratedGradients(model).attribute(
        xd, bd, target=t, n_steps=N_STEPS, method=IG_METHOD, return_convergence_delta=True)
    out["integrated_gradients"], out["integrated_gradients.delta"] = ig, flat_delta(delta)

    use_maxpool_rule(summing=False)
    stock = DeepLift(model).attribute(xd, bd, target=t)
    use_maxpool_rule(summing=True)
    dl, delta = DeepLift(model).attribute(xd, bd, target=t, return_convergence_delta=True)
    out["deeplift"], out["deeplift.delta"] = dl, flat_delta(delta)
    # Reported by `write`: how far Captum's own max-pool rule is from the one stored.
    out["_stock_maxpool_difference"] = (stock - dl).abs().max().reshape(1)

    for field, path in spec.attribute_layers:
        layer = model.get_submodule(path)
        captured = {}
        hook = layer.register_forward_hook(lambda _m, _i, o: captured.__setitem__("v", o.detach()))
        with torch.no_grad():
            model(xd)
            out[f"layer.{field}"] = captured["v"]
            model(bd)
            out[f"layer_baseline.{field}"] = captured["v"]
        hook.remove()

        for key, method in (("conductance", "riemann_trapezoid"), ("conductance_gausslegendre", "gausslegendre")):
            attr, delta = LayerConductance(model, layer).attribute(
                xd, bd, target=t, n_steps=N_STEPS, method=method, return_convergence_delta=True)
            out[f"{key}.{field}"], out[f"{key}.{field}.delta"] = attr, flat_delta(delta)

        attr, delta = LayerDeepLift(model, layer).attribute(xd, bd, target=t, return_convergence_delta=True)
        out[f"layer_deeplift.{field}"], out[f"layer_deeplift.{field}.delta"] = attr, flat_delta(delta)

        out[f"gradient_x_activation.{field}"] = LayerGradientXActivation(model, layer).attribute(xd, target=t)

        # One neuron's conductance for every input feature: the neuron of largest |value| in sample 0 (flat, C-major
        # index stored as float), Gauss-Legendre (the rule whose step sizes NigGen and Captum share).
        neuron = out[f"layer.{field}"][0].abs().flatten().argmax().item()
        selector = tuple(int(i) for i in numpy.unravel_index(neuron, tuple(out[f"layer.{field}"].shape[1:])))
        out[f"neuron_conductance.{field}"] = NeuronConductance(model, layer).attribute(
            xd, selector, bd, target=t, n_steps=N_STEPS, method="gausslegendre")
        out[f"neuron_conductance.{field}.neuron"] = torch.tensor([float(neuron)])

    # All float32, the target too (small integers are exact): NigGen's SafetensorsFile returns float32 and refuses I64.
    return {k: v.detach().to(torch.float32) for k, v in out.items()}


def write(spec):
    model = prepare(spec)
    state = model.state_dict()
    safetensors_io.save(os.path.join(OUT, f"{spec.name}.weights.safetensors"), state, {"format": "pt"})
    values = attributions(spec, model)
    stock_difference = values.pop("_stock_maxpool_difference").item()
    metadata = {
        "model": spec.name,
        "niggen_class": f"NigGen.Tests.Reference.{spec.csharp}",
        "attribute_layers": ",".join(f"{f}={p}" for f, p in spec.attribute_layers),
        "n_steps": str(N_STEPS),
        "integrated_gradients_method": IG_METHOD,
        "torch": torch.__version__,
        "captum": captum.__version__,
        "made_by": "scripts/reference/make_reference.py",
    }
    safetensors_io.save(os.path.join(OUT, f"{spec.name}.reference.safetensors"), values, metadata)

    def worst(prefix, cut_only=False):
        skipped = {f"{prefix}.{f}.delta" for f in _bypassed(spec)} if cut_only else set()
        keys = [k for k in values if k.startswith(prefix + ".") and k.endswith(".delta") and k not in skipped]
        return max(values[k].abs().max().item() for k in keys)

    print(f"{spec.name}: {len(state)} state_dict tensors, {len(values)} reference tensors; max |delta|: "
          f"deeplift {worst('deeplift'):.1e}, layer_deeplift (cuts) {worst('layer_deeplift', True):.1e}, "
          f"integrated_gradients {worst('integrated_gradients'):.1e}, conductance (cuts) "
          f"{worst('conductance', True):.1e}; Captum's max-pool rule differs by {stock_difference:.1e}")


def _bypassed(spec):
    """The attribute layers that are not a cut of the graph (a skip connection or a parallel branch goes around them):
    their conductances and DeepLIFT contributions do not sum to F(x) - F(x'), by design."""
    return {"resnet_small": ["layer2_0_bn1"], "bpnet_small": ["rconv0"], "inception_small": ["branch_dw_1"]}.get(spec.name, [])


def self_test():
    """Checks the script's Captum setup before trusting it: Captum's own published cases (METHOD.md), and that the
    hook fix changes nothing where Captum 0.8 was right (no adjacent or shared hooked modules)."""
    relu_deeplift = Named(("fc1", nn.Linear(2, 2)), ("relu", nn.ReLU()), ("fc2", nn.Linear(2, 1, bias=False))).double()
    with torch.no_grad():
        relu_deeplift.fc1.weight.copy_(torch.eye(2))
        relu_deeplift.fc1.bias.copy_(torch.tensor([0.0, -1.5]))
        relu_deeplift.fc2.weight.fill_(2.0)
    attr, delta = DeepLift(relu_deeplift).attribute(
        torch.tensor([[1.0, 2.0]], dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64), target=0,
        return_convergence_delta=True)
    assert torch.allclose(attr, torch.tensor([[2.0, 1.0]], dtype=torch.float64)) and abs(delta.item()) < 1e-12, attr

    multilayer = Named(("linear0", nn.Linear(3, 3)), ("linear1", nn.Linear(3, 4)), ("relu", nn.ReLU()),
                       ("linear2", nn.Linear(4, 2))).double()
    with torch.no_grad():
        multilayer.linear0.weight.copy_(torch.eye(3))
        multilayer.linear0.bias.zero_()
        multilayer.linear1.weight.fill_(1.0)
        multilayer.linear1.bias.copy_(torch.tensor([-10.0, 1.0, 1.0, 1.0]))
        multilayer.linear2.weight.fill_(1.0)
        multilayer.linear2.bias.copy_(torch.tensor([-1.0, 1.0]))
    x = torch.tensor([[0.0, 100.0, 0.0]], dtype=torch.float64)
    attr, delta = LayerConductance(multilayer, multilayer.linear1).attribute(
        x, target=0, n_steps=500, method="gausslegendre", return_convergence_delta=True)
    assert torch.allclose(attr, torch.tensor([[90.0, 100.0, 100.0, 100.0]], dtype=torch.float64), atol=0.1), attr
    assert abs(delta.item()) < 0.01, delta

    spec = models.by_name("dilated_grouped_2d")  # ReLU, SiLU, GELU, never adjacent, never sharing an input
    model = prepare(spec).double()
    generator = torch.Generator().manual_seed(1)
    x = random_inputs(spec, 2, generator).double()
    fixed = DeepLift(model).attribute(x, torch.zeros_like(x), target=0)
    deep_lift._register_backward_hook = CAPTUM_REGISTER_BACKWARD_HOOK
    try:
        stock = DeepLift(model).attribute(x, torch.zeros_like(x), target=0)
    finally:
        deep_lift._register_backward_hook = _register_backward_hook_fixed
    assert torch.equal(fixed, stock), (fixed - stock).abs().max()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="models to make (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    self_test()
    for spec in models.REFERENCE_MODELS:
        if not args.names or spec.name in args.names:
            write(spec)


if __name__ == "__main__":
    main()
