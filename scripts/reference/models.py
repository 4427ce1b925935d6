"""PyTorch definitions of the reference networks, with the module names a real model's state_dict has.

Every model here has a NigGen twin declared in NigGen.Tests/Reference/ReferenceNetworks.cs (the test-sized ones) or
NigGen.Benchmarks/Graph/BenchmarkNetworks.cs (the benchmark-sized ones); `check_declarations.py` proves that each
declaration computes the same function on the same state_dict.

Two rules make Captum's numbers comparable with NigGen's:
- NigGen's attribute layer of a layer with an Activation scores the output after the activation. Captum's
  LayerConductance/LayerDeepLift attribute a module's output. So every activation is its own module instance (never
  functional, never in place, never shared between two call sites), and the module attributed for a NigGen layer is the
  one whose output is that layer's output: the ReLU module after a BatchNorm declared with Activation.Relu, the
  BatchNorm itself for [AttributeLayer(PreActivation = true)], the Add/Concat module for an Add/Concat layer.
- Captum's DeepLift hooks activation modules by their exact type and must see each used once per forward pass, for
  the same reason (torchvision's BasicBlock shares one `relu`; ours has `relu1` and the Add's own ReLU, which have no
  parameters and so change nothing in the state_dict).
"""

from dataclasses import dataclass
from typing import Callable, List, Tuple

import torch
from torch import nn


# ---------------------------------------------------------------------------------------------------------------
# Parameter-free building blocks that NigGen has as layers.


class Add(nn.Module):
    """NigGen's [Add(...)]: element-wise sum of its inputs, then an optional activation module (its own instance)."""

    def __init__(self, activation: nn.Module = None):
        super().__init__()
        self.activation = activation

    def forward(self, *inputs):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total if self.activation is None else self.activation(total)


class Concat(nn.Module):
    """NigGen's [Concat(...)]: torch.cat along channels (dimension 1 of a batch), then an optional activation."""

    def __init__(self, activation: nn.Module = None):
        super().__init__()
        self.activation = activation

    def forward(self, *inputs):
        joined = torch.cat(inputs, 1)
        return joined if self.activation is None else self.activation(joined)


class GlobalAvgPool(nn.Module):
    """NigGen's [GlobalAvgPool]: (N, C, L) or (N, C, H, W) -> (N, C), as x.mean over the spatial dimensions."""

    def forward(self, x):
        return x.mean(dim=tuple(range(2, x.dim())))


class GlobalMaxPool(nn.Module):
    """NigGen's [GlobalMaxPool]: x.amax over the spatial dimensions, built as a MaxPool whose window is the whole input
    (as NigGen builds it), so that Captum's DeepLift applies its max-pool rule rather than plain gradients."""

    def __init__(self, spatial: Tuple[int, ...]):
        super().__init__()
        self.pool = nn.MaxPool1d(spatial[0]) if len(spatial) == 1 else nn.MaxPool2d(tuple(spatial))

    def forward(self, x):
        return torch.flatten(self.pool(x), 1)


# ---------------------------------------------------------------------------------------------------------------
# Architectures.


class Basset(nn.Module):
    """Basset (Kelley et al. 2016) as Kipoi's PyTorch port names it: three conv blocks (conv, BatchNorm, ReLU, max
    pool), then two dense blocks (Linear, BatchNorm1d, ReLU, Dropout) and a logits head fc3 (no sigmoid)."""

    def __init__(self, length, convs, pools, dense, outputs, dropout=0.3):
        super().__init__()
        channels = 4
        for i, ((out, kernel), pool) in enumerate(zip(convs, pools), start=1):
            setattr(self, f"conv{i}", nn.Conv1d(channels, out, kernel))
            setattr(self, f"bn{i}", nn.BatchNorm1d(out))
            setattr(self, f"relu{i}", nn.ReLU())
            setattr(self, f"maxpool{i}", nn.MaxPool1d(pool))
            channels, length = out, (length - kernel + 1) // pool
        self.blocks = len(convs)
        self.flatten = nn.Flatten()
        features = channels * length
        for i, units in enumerate(dense, start=self.blocks + 1):
            setattr(self, f"fc{i - self.blocks}", nn.Linear(features, units))
            setattr(self, f"bn{i}", nn.BatchNorm1d(units))
            setattr(self, f"relu{i}", nn.ReLU())
            setattr(self, f"dropout{i}", nn.Dropout(dropout))
            features = units
        self.dense = len(dense)
        setattr(self, f"fc{self.dense + 1}", nn.Linear(features, outputs))

    def forward(self, x):
        for i in range(1, self.blocks + 1):
            x = getattr(self, f"maxpool{i}")(getattr(self, f"relu{i}")(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x))))
        x = self.flatten(x)
        for i in range(self.blocks + 1, self.blocks + self.dense + 1):
            fc = getattr(self, f"fc{i - self.blocks}")
            x = getattr(self, f"dropout{i}")(getattr(self, f"relu{i}")(getattr(self, f"bn{i}")(fc(x))))
        return getattr(self, f"fc{self.dense + 1}")(x)


class BasicBlock(nn.Module):
    """torchvision's BasicBlock (same parameter names), with its two ReLUs as separate modules: out = relu(bn2(conv2(
    relu1(bn1(conv1(x))))) + identity), identity = downsample(x) when the block changes shape."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))
        self.add = Add(nn.ReLU())

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.add(out, identity)


class ResNet(nn.Module):
    """torchvision's ResNet layout and names (conv1, bn1, maxpool, layer1..., avgpool, fc) at a configurable size;
    `stem` = (kernel, stride, padding) of conv1, `maxpool` = False for the CIFAR variant without it."""

    def __init__(self, widths, blocks, classes, stem=(7, 2, 3), maxpool=True, in_channels=3):
        super().__init__()
        kernel, stride, padding = stem
        self.conv1 = nn.Conv2d(in_channels, widths[0], kernel, stride=stride, padding=padding, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1) if maxpool else nn.Identity()
        inplanes = widths[0]
        for i, (width, count) in enumerate(zip(widths, blocks), start=1):
            layer = []
            for b in range(count):
                layer.append(BasicBlock(inplanes, width, stride=2 if (b == 0 and i > 1) else 1))
                inplanes = width
            setattr(self, f"layer{i}", nn.Sequential(*layer))
        self.layers = len(widths)
        self.avgpool = GlobalAvgPool()
        self.fc = nn.Linear(inplanes, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, self.layers + 1):
            x = getattr(self, f"layer{i}")(x)
        return self.fc(self.avgpool(x))


class BPNet(nn.Module):
    """BPNet's body as bpnet-lite names it (iconv, rconvs.i, linear): X = relu(iconv(x)); then per layer
    X = X + relu(rconvs[i](X)) with dilation 2^(i+1); the counts head is linear(mean over positions). The profile head
    (a second output) is left out: a NigGen network has one output."""

    def __init__(self, filters, layers, kernel, tasks):
        super().__init__()
        self.iconv = nn.Conv1d(4, filters, kernel, padding=kernel // 2)
        self.irelu = nn.ReLU()
        self.rconvs = nn.ModuleList(
            nn.Conv1d(filters, filters, 3, padding=2 ** (i + 1), dilation=2 ** (i + 1)) for i in range(layers))
        self.rrelus = nn.ModuleList(nn.ReLU() for _ in range(layers))
        self.radds = nn.ModuleList(Add() for _ in range(layers))
        self.pool = GlobalAvgPool()
        self.linear = nn.Linear(filters, tasks)

    def forward(self, x):
        x = self.irelu(self.iconv(x))
        for conv, relu, add in zip(self.rconvs, self.rrelus, self.radds):
            x = add(x, relu(conv(x)))
        return self.linear(self.pool(x))


class BasicConv2d(nn.Module):
    """torchvision Inception's BasicConv2d: conv (no bias), BatchNorm, ReLU."""

    def __init__(self, inputs, outputs, kernel, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(inputs, outputs, kernel, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(outputs, eps=0.001)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class InceptionNet(nn.Module):
    """A GELU stem, then one Inception-style block of four parallel branches concatenated along channels: a 1x1 conv,
    1x1 then 3x3, a MobileNet-style depthwise 3x3 (groups = channels) + BatchNorm + SiLU then a pointwise conv + SiLU,
    and a padded 3x3 average pool then 1x1; then global average pooling, Dropout and a linear head."""

    def __init__(self, classes=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.GELU())
        self.branch1x1 = BasicConv2d(8, 4, 1)
        self.branch3x3_1 = BasicConv2d(8, 4, 1)
        self.branch3x3_2 = BasicConv2d(4, 6, 3, padding=1)
        self.branch_dw = nn.Sequential(
            nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8), nn.SiLU(),
            nn.Conv2d(8, 4, 1), nn.SiLU())
        self.branch_pool_avg = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = BasicConv2d(8, 3, 1)
        self.concat = Concat()
        self.avgpool = GlobalAvgPool()
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(17, classes)

    def forward(self, x):
        x = self.stem(x)
        joined = self.concat(
            self.branch1x1(x), self.branch3x3_2(self.branch3x3_1(x)), self.branch_dw(x),
            self.branch_pool(self.branch_pool_avg(x)))
        return self.fc(self.dropout(self.avgpool(joined)))


class Named(nn.Module):
    """Runs named children in order (an nn.Sequential whose children have names instead of indices)."""

    def __init__(self, *named):
        super().__init__()
        for name, module in named:
            self.add_module(name, module)

    def forward(self, x):
        for module in self.children():
            x = module(x)
        return x


class GlobalPool1dNet(nn.Module):
    """conv + ReLU, then GlobalMaxPool and GlobalAvgPool of the same feature map, concatenated, then a linear head."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 6, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.gmax = GlobalMaxPool((16,))
        self.gavg = GlobalAvgPool()
        self.concat = Concat()
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        h = self.relu1(self.conv1(x))
        return self.fc(self.concat(self.gmax(h), self.gavg(h)))


# ---------------------------------------------------------------------------------------------------------------
# The catalogue: every reference model, its NigGen class, its input, and its attribute layers.


@dataclass
class ModelSpec:
    """One reference model.

    name: file stem of its outputs (<name>.weights.safetensors, <name>.reference.safetensors).
    csharp: the [Network] class declaring it.
    build: makes the PyTorch module (weights drawn from the current torch seed).
    input_shape: one sample, channels first.
    attribute_layers: (NigGen field, PyTorch module path) in declaration order; the module's output is the field's
        scored value.
    genomic: inputs are one-hot DNA (4, L) and the non-zero baseline is the uniform 0.25 background.
    """

    name: str
    csharp: str
    build: Callable[[], nn.Module]
    input_shape: Tuple[int, ...]
    attribute_layers: List[Tuple[str, str]]
    genomic: bool = False


def _small_basset():
    return Basset(48, convs=[(6, 5), (5, 3), (4, 3)], pools=[2, 2, 2], dense=[12, 10], outputs=5)


REFERENCE_MODELS = [
    ModelSpec("basset_small", "SmallBasset", _small_basset, (4, 48),
              [("bn2", "relu2"), ("bn4", "bn4")], genomic=True),
    ModelSpec("resnet_small", "SmallResNet",
              lambda: ResNet(widths=[8, 16], blocks=[2, 1], classes=4, stem=(5, 2, 2)), (3, 16, 16),
              [("layer1_0", "layer1.0.add"), ("layer2_0_bn1", "layer2.0.relu1"), ("avgpool", "avgpool")]),
    ModelSpec("bpnet_small", "SmallBpNet", lambda: BPNet(filters=8, layers=3, kernel=7, tasks=2), (4, 64),
              [("rconv0", "rrelus.0"), ("radd1", "radds.1")], genomic=True),
    ModelSpec("inception_small", "SmallInception", InceptionNet, (3, 12, 12),
              [("branch_dw_1", "branch_dw.2"), ("concat", "concat")]),
    ModelSpec("batchnorm_options", "BatchNormOptionsNet", lambda: Named(
        ("bn0", nn.BatchNorm1d(3)),
        ("conv1", nn.Conv1d(3, 4, 3)),
        ("bn1", nn.BatchNorm1d(4, eps=1e-3, momentum=0.3, affine=False)),
        ("relu1", nn.ReLU()),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(32, 6)),
        ("bn2", nn.BatchNorm1d(6, eps=1e-2, momentum=0.05)),
        ("tanh2", nn.Tanh()),
        ("fc2", nn.Linear(6, 3))), (3, 10),
        [("bn1", "relu1"), ("bn2", "tanh2")]),
    ModelSpec("dropout_gelu_silu", "DropoutGeluSiluNet", lambda: Named(
        ("drop0", nn.Dropout(0.5)),
        ("fc1", nn.Linear(6, 8)),
        ("gelu1", nn.GELU()),
        ("drop1", nn.Dropout(0.2)),
        ("fc2", nn.Linear(8, 7)),
        ("silu2", nn.SiLU()),
        ("fc3", nn.Linear(7, 3))), (6,),
        [("drop1", "drop1"), ("fc2", "silu2")]),
    ModelSpec("pool_padding_1d", "PoolPadding1dNet", lambda: Named(
        ("conv1", nn.Conv1d(2, 4, 3, padding=1)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool1d(3, stride=2, padding=1)),
        ("conv2", nn.Conv1d(4, 5, 3, padding=1)),
        ("relu2", nn.ReLU()),
        ("pool2", nn.AvgPool1d(3, stride=2, padding=1)),
        ("pool3", nn.MaxPool1d(2, padding=1)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(15, 3))), (2, 20),
        [("conv1", "relu1"), ("conv2", "relu2")]),
    ModelSpec("pool_padding_2d", "PoolPadding2dNet", lambda: Named(
        ("conv1", nn.Conv2d(2, 4, 3, padding=1)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(3, stride=2, padding=1)),
        ("conv2", nn.Conv2d(4, 4, 3, padding=1)),
        ("relu2", nn.ReLU()),
        ("pool2", nn.AvgPool2d(3, stride=2, padding=1)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(36, 3))), (2, 9, 9),
        [("conv1", "relu1"), ("pool2", "pool2")]),
    ModelSpec("global_pool_1d", "GlobalPool1dNet", GlobalPool1dNet, (3, 16),
              [("conv1", "relu1"), ("concat", "concat")]),
    ModelSpec("global_max_pool_2d", "GlobalMaxPool2dNet", lambda: Named(
        ("conv1", nn.Conv2d(2, 5, 3)),
        ("relu1", nn.ReLU()),
        ("gmax", GlobalMaxPool((4, 4))),
        ("fc", nn.Linear(5, 3))), (2, 6, 6),
        [("conv1", "relu1")]),
    ModelSpec("dilated_grouped_1d", "DilatedGrouped1dNet", lambda: Named(
        ("conv1", nn.Conv1d(4, 6, 3, dilation=2, padding=2)),
        ("relu1", nn.ReLU()),
        ("conv2", nn.Conv1d(6, 6, 3, groups=3, padding=1)),
        ("relu2", nn.ReLU()),
        ("conv3", nn.Conv1d(6, 6, 5, groups=6, dilation=3, stride=2)),
        ("elu3", nn.ELU()),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(36, 3))), (4, 24),
        [("conv2", "relu2"), ("conv3", "elu3")], genomic=True),
    ModelSpec("dilated_grouped_2d", "DilatedGrouped2dNet", lambda: Named(
        ("conv1", nn.Conv2d(4, 6, 3, dilation=2, padding=1)),
        ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(6, 9, 3, groups=3, stride=2, padding=1)),
        ("silu2", nn.SiLU()),
        ("conv3", nn.Conv2d(9, 9, 3, groups=9, dilation=2, padding=2, bias=False)),
        ("gelu3", nn.GELU()),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(144, 3))), (4, 10, 10),
        [("conv1", "relu1"), ("conv3", "gelu3")]),
]


# Benchmark-sized models (captum_timing.py; NigGen.Benchmarks/Graph/BenchmarkNetworks.cs).
BENCHMARK_MODELS = [
    ModelSpec("basset", "BassetBenchmarkNet",
              lambda: Basset(600, convs=[(300, 19), (200, 11), (200, 7)], pools=[3, 4, 4], dense=[1000, 1000], outputs=164),
              (4, 600), [("bn1", "relu1"), ("bn4", "relu4")], genomic=True),
    ModelSpec("resnet_cifar", "CifarResNetBenchmarkNet",
              lambda: ResNet(widths=[16, 32, 64], blocks=[1, 1, 1], classes=10, stem=(3, 1, 1), maxpool=False),
              (3, 32, 32), [("layer1_0", "layer1.0.add"), ("layer3_0", "layer3.0.add")]),
    ModelSpec("bpnet", "BpNetBenchmarkNet", lambda: BPNet(filters=32, layers=4, kernel=21, tasks=1), (4, 500),
              [("iconv", "irelu"), ("radd3", "radds.3")], genomic=True),
    # The README's LeNet-style CNN (NigGen.Benchmarks/Networks.cs, Cnn): the performance issues' CNN target.
    ModelSpec("digitnet", "Cnn", lambda: Named(
        ("conv1", nn.Conv2d(1, 16, 5)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(16, 32, 5)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("flat", nn.Flatten()), ("fc1", nn.Linear(512, 128)), ("relu3", nn.ReLU()), ("fc2", nn.Linear(128, 10))),
              (1, 28, 28), [("fc1", "relu3")]),
]


def by_name(name):
    for spec in REFERENCE_MODELS + BENCHMARK_MODELS:
        if spec.name == name:
            return spec
    raise KeyError(name)
