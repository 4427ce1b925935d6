"""Proves that the NigGen declarations (C#) compute the PyTorch models of models.py.

Parses every [Network] class of the C# files (issue 13's attribute API: From, Add, Concat, BatchNorm, Dropout, Conv
with Dilation/Groups, padded pools, global pools, Weights, AttributeLayer), evaluates each declaration as NigGen
defines it, in double precision, on the model's state_dict, and checks:
- the state_dict is consumed exactly: every tensor a layer needs is there with the shape the declaration implies, and
  no tensor is left over (NigGen loads a complete state_dict with no AllowUnexpectedTensors);
- every Conv and BatchNorm declaration agrees with the PyTorch module at its Weights prefix (stride, padding,
  dilation, groups, bias; eps, momentum, affine), since momentum never shows in a forward pass;
- the output equals the PyTorch model's (eval mode), and each [AttributeLayer]'s scored value equals the output of the
  PyTorch module that make_reference.py attributes for it (models.ModelSpec.attribute_layers), in declaration order.

Run: python3 check_declarations.py [file.cs ...] (default: the two declaration files). Exits non-zero on a mismatch.
"""

import os
import re
import sys

import torch
import torch.nn.functional as F
from torch import nn

import models

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_FILES = [
    os.path.join(ROOT, "NigGen.Tests", "Reference", "ReferenceNetworks.cs"),
    os.path.join(ROOT, "NigGen.Benchmarks", "Graph", "BenchmarkNetworks.cs"),
]
INPUT = "<input>"  # NigGen's Layer.Input

ACTIVATIONS = {
    "None": lambda x: x,
    "Relu": torch.relu,
    "LeakyRelu": lambda x: F.leaky_relu(x, 0.01),
    "Sigmoid": torch.sigmoid,
    "Tanh": torch.tanh,
    "Softplus": F.softplus,
    "Elu": F.elu,
    "Gelu": F.gelu,
    "Silu": F.silu,
}


# ---------------------------------------------------------------------------------------------------------------
# Parsing.


def split_top_level(text):
    """Splits at commas outside parentheses and quotes."""
    parts, depth, quoted, current = [], 0, False, ""
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def parse_value(text):
    text = text.strip()
    if m := re.fullmatch(r"nameof\((\w+)\)", text):
        return m.group(1)
    if text == "Layer.Input":
        return INPUT
    if m := re.fullmatch(r'"([^"]*)"', text):
        return m.group(1)
    if m := re.fullmatch(r"Activation\.(\w+)", text):
        return m.group(1)
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?[\d.]+(e-?\d+)?[fd]?", text):
        return float(text.rstrip("fd"))
    raise ValueError(f"cannot parse attribute value {text!r}")


def parse_attribute(text):
    m = re.fullmatch(r"(\w+)(?:\((.*)\))?", text.strip(), re.S)
    if not m:
        raise ValueError(f"cannot parse attribute {text!r}")
    name, args = m.group(1), m.group(2)
    positional, named = [], {}
    for arg in split_top_level(args or ""):
        if (kv := re.fullmatch(r"(\w+)\s*=\s*(.+)", arg, re.S)) and not arg.startswith("nameof"):
            named[kv.group(1)] = parse_value(kv.group(2))
        else:
            positional.append(parse_value(arg))
    return name, positional, named


def parse_networks(path):
    """Returns {class name: (input shape, [layer dict])} for every [Network] class in a C# file."""
    source = open(path, encoding="utf-8").read()
    source = re.sub(r"//[^\n]*", "", source)
    networks = {}
    for m in re.finditer(r"\[Network\]\s*\[Input\(([^)]*)\)\]\s*public sealed partial class (\w+)\s*\{(.*?)\n\}", source, re.S):
        shape = tuple(int(v) for v in m.group(1).split(","))
        layers = []
        for field in re.finditer(r"((?:\[[^\]]*\]\s*)+)Layer\s+(\w+);", m.group(3)):
            groups = re.findall(r"\[([^\]]*)\]", field.group(1))
            attributes = [parse_attribute(a) for g in groups for a in split_top_level(g)]
            kind = [a for a in attributes if a[0] != "AttributeLayer"]
            scored = [a for a in attributes if a[0] == "AttributeLayer"]
            if len(kind) != 1:
                raise ValueError(f"{m.group(2)}.{field.group(2)}: expected exactly one layer attribute, got {kind}")
            name, positional, named = kind[0]
            layers.append({
                "field": field.group(2), "kind": name, "args": positional, "named": named,
                "scored": bool(scored), "pre_activation": bool(scored and scored[0][2].get("PreActivation", False)),
            })
        networks[m.group(2)] = (shape, layers)
    return networks


# ---------------------------------------------------------------------------------------------------------------
# Evaluation, as NigGen defines each layer.


class Interpreter:
    def __init__(self, class_name, state_dict, model):
        self.class_name = class_name
        self.state = {k: v.double() if v.is_floating_point() else v for k, v in state_dict.items()}
        self.used = set()
        self.model = model

    def tensor(self, layer, name, shape):
        key = f"{layer['named'].get('Weights', layer['field'])}.{name}"
        if key not in self.state:
            raise AssertionError(f"{self.class_name}.{layer['field']}: state_dict has no '{key}'")
        t = self.state[key]
        if tuple(t.shape) != tuple(shape):
            raise AssertionError(f"{self.class_name}.{layer['field']}: '{key}' has shape {tuple(t.shape)}, the declaration implies {tuple(shape)}")
        self.used.add(key)
        return t

    def module(self, layer):
        return self.model.get_submodule(layer["named"].get("Weights", layer["field"]))

    def run(self, layer, inputs):
        kind, args, named = layer["kind"], layer["args"], layer["named"]
        fail = lambda msg: AssertionError(f"{self.class_name}.{layer['field']}: {msg}")
        x = inputs[0]
        pre = None
        if kind == "Conv":
            out, k = args[0], named["Kernel"]
            stride, padding = named.get("Stride", 1), named.get("Padding", 0)
            dilation, groups, bias = named.get("Dilation", 1), named.get("Groups", 1), named.get("Bias", True)
            spatial = x.dim() - 2
            if x.shape[1] % groups or out % groups:
                raise fail(f"Groups {groups} does not divide {x.shape[1]} and {out}")
            w = self.tensor(layer, "weight", (out, x.shape[1] // groups) + (k,) * spatial)
            b = self.tensor(layer, "bias", (out,)) if bias else None
            m = self.module(layer)
            expected = dict(stride=(stride,) * spatial, padding=(padding,) * spatial, dilation=(dilation,) * spatial, groups=groups)
            actual = dict(stride=m.stride, padding=m.padding, dilation=m.dilation, groups=m.groups)
            if expected != actual or (m.bias is not None) != bias:
                raise fail(f"declares {expected}, bias={bias}; the PyTorch module has {actual}, bias={m.bias is not None}")
            conv = F.conv1d if spatial == 1 else F.conv2d
            pre = conv(x, w, b, stride, padding, dilation, groups)
        elif kind == "Dense":
            if x.dim() != 2:
                raise fail(f"Dense on a {tuple(x.shape[1:])} input needs a Flatten first")
            units, bias = args[0], named.get("Bias", True)
            w = self.tensor(layer, "weight", (units, x.shape[1]))
            b = self.tensor(layer, "bias", (units,)) if bias else None
            pre = F.linear(x, w, b)
        elif kind == "BatchNorm":
            c = x.shape[1]
            affine, eps, momentum = named.get("Affine", True), named.get("Epsilon", 1e-5), named.get("Momentum", 0.1)
            w = self.tensor(layer, "weight", (c,)) if affine else None
            b = self.tensor(layer, "bias", (c,)) if affine else None
            mean, var = self.tensor(layer, "running_mean", (c,)), self.tensor(layer, "running_var", (c,))
            self.tensor(layer, "num_batches_tracked", ())
            m = self.module(layer)
            if m.affine != affine or abs(m.eps - eps) > 1e-7 * eps or abs(m.momentum - momentum) > 1e-7:
                raise fail(f"declares Affine={affine}, Epsilon={eps}, Momentum={momentum}; the module has {m.affine}, {m.eps}, {m.momentum}")
            pre = F.batch_norm(x, mean, var, w, b, False, 0.0, eps)
        elif kind in ("MaxPool", "AvgPool"):
            size = args[0]
            stride, padding = named.get("Stride", 0) or size, named.get("Padding", 0)
            if 2 * padding > size:
                raise fail(f"padding {padding} over half the window {size}")
            spatial = x.dim() - 2
            if kind == "MaxPool":
                pre = (F.max_pool1d if spatial == 1 else F.max_pool2d)(x, size, stride, padding)
            else:
                pre = (F.avg_pool1d if spatial == 1 else F.avg_pool2d)(x, size, stride, padding, count_include_pad=True)
        elif kind == "GlobalAvgPool":
            pre = x.mean(dim=tuple(range(2, x.dim())))
        elif kind == "GlobalMaxPool":
            pre = x.amax(dim=tuple(range(2, x.dim())))
        elif kind == "Flatten":
            pre = torch.flatten(x, 1)
        elif kind == "Dropout":
            if not 0 <= args[0] < 1:
                raise fail(f"Dropout p {args[0]} outside [0, 1)")
            pre = x
        elif kind == "Add":
            if any(t.shape != x.shape for t in inputs):
                raise fail(f"Add of unequal shapes {[tuple(t.shape[1:]) for t in inputs]}")
            pre = sum(inputs[1:], inputs[0])
        elif kind == "Concat":
            if any(t.shape[2:] != x.shape[2:] for t in inputs):
                raise fail(f"Concat of unequal spatial sizes {[tuple(t.shape[1:]) for t in inputs]}")
            pre = torch.cat(inputs, 1)
        else:
            raise fail(f"unknown layer kind {kind}")
        activation = named.get("Activation", "None")
        return pre, ACTIVATIONS[activation](pre)


def check(spec, declared, state_dict, model, samples=3, seed=7):
    shape, layers = declared
    if tuple(shape) != tuple(spec.input_shape):
        raise AssertionError(f"{spec.csharp}: [Input{shape}] but the model takes {spec.input_shape}")
    torch.manual_seed(seed)
    x = torch.randn(samples, *shape, dtype=torch.float64)
    model = model.double().eval()

    captured = {}
    hooks = [model.get_submodule(path).register_forward_hook(
        lambda _m, _i, out, path=path: captured.__setitem__(path, out)) for _, path in spec.attribute_layers]
    with torch.no_grad():
        expected = model(x)
    for h in hooks:
        h.remove()

    interpreter = Interpreter(spec.csharp, state_dict, model)
    values, scored = {INPUT: x}, []
    previous = INPUT
    names = [layer["field"] for layer in layers]
    for i, layer in enumerate(layers):
        if layer["kind"] in ("Add", "Concat"):
            sources = layer["args"]
            if len(sources) < 2:
                raise AssertionError(f"{spec.csharp}.{layer['field']}: {layer['kind']} needs two or more inputs")
        else:
            sources = [layer["named"].get("From", previous)]
        for s in sources:
            if s != INPUT and s not in names[:i]:
                raise AssertionError(f"{spec.csharp}.{layer['field']}: reads '{s}', which is not an earlier layer")
        pre, out = interpreter.run(layer, [values[s] for s in sources])
        values[layer["field"]] = out
        if layer["scored"]:
            scored.append((layer["field"], pre if layer["pre_activation"] else out))
        previous = layer["field"]

    leftover = set(state_dict) - interpreter.used
    if leftover:
        raise AssertionError(f"{spec.csharp}: state_dict tensors no layer reads: {sorted(leftover)}")
    output = values[layers[-1]["field"]]
    if output.shape != expected.shape or not torch.allclose(output, expected, rtol=1e-9, atol=1e-9):
        raise AssertionError(f"{spec.csharp}: output differs from PyTorch's by {(output - expected).abs().max():.3g}")
    if [f for f, _ in scored] != [f for f, _ in spec.attribute_layers]:
        raise AssertionError(f"{spec.csharp}: attribute layers {[f for f, _ in scored]}, models.py has {[f for f, _ in spec.attribute_layers]}")
    for (field, value), (_, path) in zip(scored, spec.attribute_layers):
        reference = captured[path]
        if value.shape != reference.shape or not torch.allclose(value, reference, rtol=1e-9, atol=1e-9):
            raise AssertionError(f"{spec.csharp}.{field}: scored value differs from module '{path}''s output")
    return len(layers)


def randomised(spec):
    """The model with random running statistics and affine parameters, so that a BatchNorm read at the wrong prefix
    cannot pass."""
    model = spec.build().eval()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
            if m.affine:
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.normal_()
    return model


def main(files):
    import make_training_reference
    import safetensors_io

    declared = {}
    for path in files:
        declared.update(parse_networks(path))
    known = models.REFERENCE_MODELS + models.BENCHMARK_MODELS + [make_training_reference.SPEC]
    missing = [s.csharp for s in known if s.csharp not in declared and any(
        os.path.basename(f) == ("BenchmarkNetworks.cs" if s in models.BENCHMARK_MODELS else "ReferenceNetworks.cs") for f in files)]
    extra = set(declared) - {s.csharp for s in known}
    torch.manual_seed(0)
    for spec in known:
        if spec.csharp not in declared:
            continue
        model = randomised(spec)
        count = check(spec, declared[spec.csharp], model.state_dict(), model)
        note = "random weights"
        # The checked-in weights, read back from the file: what NigGen's Load will get.
        weights = os.path.join(ROOT, "NigGen.Tests", "Reference", f"{spec.name}.weights.safetensors")
        if os.path.exists(weights):
            state, _ = safetensors_io.load(weights)
            model = spec.build().eval()
            model.load_state_dict(state, strict=True)
            check(spec, declared[spec.csharp], state, model)
            note += f" and {os.path.basename(weights)}"
        print(f"ok  {spec.csharp}: {count} layers, {len(model.state_dict())} tensors ({note})")
    if missing or extra:
        raise SystemExit(f"declarations missing for {missing}; declared but unknown to models.py: {sorted(extra)}")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT_FILES)
