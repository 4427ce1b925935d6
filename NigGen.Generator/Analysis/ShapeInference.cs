using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Model;
using NigGen.Generator.Parsing;

namespace NigGen.Generator.Analysis;

/// <summary>
/// The analysis stage's result: a network ready to emit (null when any error was found), every diagnostic, and the
/// diagnostic to report only when the compilation references the GPU backend (the layer it cannot run).
/// </summary>
internal sealed record AnalysedNetwork(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics, EquatableArray<DiagnosticInfo> GpuDiagnostics);

/// <summary>
/// Walks the layers in declaration order, which is a topological order of the graph (a layer reads only earlier ones):
/// resolves what each layer reads, computes its output shape the way PyTorch does and reports every declaration that
/// PyTorch would reject at run time, at the attribute that declares it.
/// </summary>
internal static class ShapeInference
{
    /// <summary>Largest tensor per sample (floats); keeps every index and buffer size within int.</summary>
    public const int MaxTensorLength = 1 << 26;

    public static AnalysedNetwork Analyse(ParsedNetwork parsed)
    {
        var diagnostics = new List<DiagnosticInfo>(parsed.Diagnostics);
        var spec = parsed.Spec;
        if (spec is null)
        {
            return new AnalysedNetwork(null, diagnostics.ToEquatableArray(), EquatableArray<DiagnosticInfo>.Empty);
        }

        if (spec.Layers.Count == 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoLayers, parsed.ClassLocation, spec.ClassName));
        }
        else if (!spec.Layers.Any(l => l.Attribution != AttributionPoint.NotScored))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoAttributeLayer, parsed.ClassLocation, spec.ClassName));
        }

        bool inputValid = spec.InputShape.Count is >= 1 and <= 3 && spec.InputShape.All(d => d > 0);
        long inputLength = spec.InputShape.Aggregate(1L, (a, b) => a * b);
        if (inputValid && inputLength > MaxTensorLength)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TensorTooLarge, parsed.InputLocation, $"Network '{spec.ClassName}'", $"its {Format(spec.InputShape.ToArray())} input", inputLength, MaxTensorLength));
            inputValid = false;
        }

        var layers = new List<LayerModel>();
        if (inputValid)
        {
            var indices = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < spec.Layers.Count; i++)
            {
                var layer = spec.Layers[i];
                var location = parsed.LayerLocations[i];
                int errorsBefore = diagnostics.Count;
                var inputs = ResolveInputs(spec, i, indices, location, diagnostics);
                var output = inputs is null ? null : InferLayer(layer, inputs.Select(j => j < 0 ? spec.InputShape.ToArray() : layers[j].OutputShape.ToArray()).ToArray(), inputs.Select(j => j < 0 ? "the input" : "'" + layers[j].Name + "'").ToArray(), location, diagnostics);
                if (output is null || diagnostics.Count > errorsBefore && diagnostics.Skip(errorsBefore).Any(IsError))
                {
                    // Later shapes depend on this one: stop rather than report errors that follow from it.
                    break;
                }

                if (layer.Attribution == AttributionPoint.PreActivation && layer.Activation == ActivationKind.None)
                {
                    string what = layer.Kind is LayerKind.Dense or LayerKind.Conv or LayerKind.BatchNorm or LayerKind.Add or LayerKind.Concat
                        ? $"a {layer.Kind} layer declared without Activation" : $"a {layer.Kind} layer";
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PreActivationWithoutActivation, location, layer.Name, what));
                    layer = layer with { Attribution = AttributionPoint.Output };
                }

                var inputShape = inputs![0] < 0 ? spec.InputShape : layers[inputs[0]].OutputShape;
                layers.Add(new LayerModel(layer, inputShape, output.ToEquatableArray(), inputs.ToEquatableArray()));
                indices[layer.Name] = i;
            }

            if (layers.Count == spec.Layers.Count)
            {
                ReportGraphWarnings(spec, layers, parsed.LayerLocations, diagnostics);
            }
        }

        // Every buffer of the generated workspace is indexed with int: the whole per-sample footprint must fit.
        long floatsPerSample = 2 * inputLength + layers.Sum(l => 4L * l.OutputLength);
        if (!diagnostics.Any(IsError) && floatsPerSample > int.MaxValue / 4)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TensorTooLarge, parsed.ClassLocation, $"Network '{spec.ClassName}'", "its workspace for one sample", floatsPerSample, int.MaxValue / 4));
        }

        bool hasErrors = diagnostics.Any(IsError);
        var model = hasErrors ? null : new NetworkModel(spec.Namespace, spec.ClassName, spec.InputShape, layers.ToEquatableArray());
        var gpu = EquatableArray<DiagnosticInfo>.Empty;
        if (model is not null && Emit.GpuEmitter.UnsupportedLayer(model) is { } unsupported)
        {
            gpu = new[] { DiagnosticInfo.Create(DiagnosticDescriptors.GpuUnsupportedLayer, parsed.LayerLocations[unsupported.Index], spec.ClassName, unsupported.Layer.Name, unsupported.Reason) }.ToEquatableArray();
        }

        return new AnalysedNetwork(model, diagnostics.ToEquatableArray(), gpu);
    }

    /// <summary>
    /// The layers layer <paramref name="index"/> reads, as indices of earlier layers (−1 the network's input): an Add's or
    /// Concat's named inputs, else From, else the previous field. Null after reporting a name that does not resolve.
    /// </summary>
    private static int[]? ResolveInputs(NetworkSpec spec, int index, Dictionary<string, int> indices, LocationInfo location, List<DiagnosticInfo> diagnostics)
    {
        var layer = spec.Layers[index];
        string[] names;
        if (layer.Kind is LayerKind.Add or LayerKind.Concat)
        {
            if (layer.From is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FromOnMultiInputLayer, location, layer.Kind, layer.Name));
                return null;
            }

            if (layer.Inputs.Count < 2)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooFewInputs, location, layer.Kind, layer.Name, layer.Inputs.Count));
                return null;
            }

            names = layer.Inputs.ToArray();
        }
        else
        {
            names = [layer.From ?? (index == 0 ? LayerSpec.InputName : spec.Layers[index - 1].Name)];
        }

        var inputs = new int[names.Length];
        for (int k = 0; k < names.Length; k++)
        {
            string name = names[k];
            if (name == LayerSpec.InputName)
            {
                inputs[k] = -1;
            }
            else if (indices.TryGetValue(name, out int earlier))
            {
                inputs[k] = earlier;
            }
            else
            {
                bool later = spec.Layers.Skip(index).Any(l => l.Name == name);
                diagnostics.Add(later
                    ? DiagnosticInfo.Create(DiagnosticDescriptors.LaterLayerReference, location, layer.Name, name, name == layer.Name ? "as itself" : "after it")
                    : DiagnosticInfo.Create(DiagnosticDescriptors.UnknownLayerReference, location, layer.Name, name, spec.ClassName));
                return null;
            }
        }

        return inputs;
    }

    // Warnings that need the whole graph: layers nothing reads (other than the output), and two layers reading the same tensors.
    private static void ReportGraphWarnings(NetworkSpec spec, List<LayerModel> layers, EquatableArray<LocationInfo> locations, List<DiagnosticInfo> diagnostics)
    {
        var read = new HashSet<int>(layers.SelectMany(l => l.Inputs));
        for (int i = 0; i < layers.Count - 1; i++)
        {
            if (!read.Contains(i))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnusedLayer, locations[i], layers[i].Name, layers[layers.Count - 1].Name));
            }
        }

        var prefixes = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Kind is LayerKind.Dense or LayerKind.Conv or LayerKind.BatchNorm)
            {
                string prefix = layers[i].WeightsPrefix;
                if (prefixes.TryGetValue(prefix, out string? other))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SharedWeightsPrefix, locations[i], other, layers[i].Name, prefix));
                }
                else
                {
                    prefixes.Add(prefix, layers[i].Name);
                }
            }
        }
    }

    private static bool IsError(DiagnosticInfo diagnostic) => diagnostic.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error;

    private static int[]? InferLayer(LayerSpec layer, int[][] inputs, string[] inputNames, LocationInfo location, List<DiagnosticInfo> diagnostics)
    {
        var input = inputs[0];
        string inputText = Format(input);
        if (layer.Activation is < ActivationKind.None or > ActivationKind.Silu)
        {
            Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Activation", (int)layer.Activation, "a defined NigGen.Activation value");
        }

        switch (layer.Kind)
        {
            case LayerKind.Flatten:
                return [input.Aggregate(1, (a, b) => a * b)];

            case LayerKind.Dense:
                if (layer.Size <= 0)
                {
                    Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "units", layer.Size, "at least 1");
                    return null;
                }

                if (input.Length != 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DenseNeedsFlatInput, location, layer.Name, inputText));
                    return null;
                }

                if (layer.Size > MaxTensorLength || (long)layer.Size * input[0] > int.MaxValue)
                {
                    Report(DiagnosticDescriptors.TensorTooLarge, $"Layer '{layer.Name}'", $"its weight [{layer.Size}, {input[0]}]", (long)layer.Size * input[0], int.MaxValue);
                    return null;
                }

                return [layer.Size];

            case LayerKind.Conv:
            case LayerKind.MaxPool:
            case LayerKind.AvgPool:
                return InferSpatial(layer, input, location, diagnostics);

            case LayerKind.GlobalAvgPool:
            case LayerKind.GlobalMaxPool:
                if (input.Length is not (2 or 3))
                {
                    Report(DiagnosticDescriptors.SpatialLayerNeedsChannels, layer.Kind, layer.Name, inputText);
                    return null;
                }

                return [input[0]];

            case LayerKind.BatchNorm:
                // PyTorch's BatchNorm1d takes (C) and (C, L) samples and BatchNorm2d (C, H, W): every shape NigGen has.
                if (!(layer.Epsilon > 0 && layer.Epsilon < double.PositiveInfinity))
                {
                    Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Epsilon", layer.Epsilon, "positive and finite");
                    return null;
                }

                if (!(layer.Momentum >= 0 && layer.Momentum <= 1))
                {
                    Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Momentum", layer.Momentum, "in [0, 1]");
                    return null;
                }

                return input;

            case LayerKind.Dropout:
                if (!(layer.Probability >= 0 && layer.Probability < 1))
                {
                    Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "the dropout probability", layer.Probability, "in [0, 1)");
                    return null;
                }

                return input;

            case LayerKind.Add:
                for (int k = 1; k < inputs.Length; k++)
                {
                    if (!inputs[k].SequenceEqual(input))
                    {
                        Report(DiagnosticDescriptors.AddShapeMismatch, layer.Name, inputNames[0], inputText, inputNames[k], Format(inputs[k]));
                        return null;
                    }
                }

                return input;

            case LayerKind.Concat:
                long channels = input[0];
                for (int k = 1; k < inputs.Length; k++)
                {
                    if (inputs[k].Length != input.Length || !inputs[k].Skip(1).SequenceEqual(input.Skip(1)))
                    {
                        Report(DiagnosticDescriptors.ConcatShapeMismatch, layer.Name, inputNames[0], inputText, inputNames[k], Format(inputs[k]));
                        return null;
                    }

                    channels += inputs[k][0];
                }

                var concatenated = (int[])input.Clone();
                long total = channels * (Shapes.Length(input.ToEquatableArray()) / input[0]);
                if (total > MaxTensorLength)
                {
                    Report(DiagnosticDescriptors.TensorTooLarge, $"Layer '{layer.Name}'", "its output", total, MaxTensorLength);
                    return null;
                }

                concatenated[0] = (int)channels;
                return concatenated;

            default:
                // A kind added to the parser but not here must never emit a network without that layer.
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "its kind", layer.Kind, "a kind NigGen can infer a shape for");
                return null;
        }

        void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, params object[] arguments) =>
            diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));
    }

    private static int[]? InferSpatial(LayerSpec layer, int[] input, LocationInfo location, List<DiagnosticInfo> diagnostics)
    {
        bool isConv = layer.Kind == LayerKind.Conv;
        string kindName = isConv ? "Conv" : layer.Kind.ToString();
        int errors = diagnostics.Count;
        void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, params object[] arguments) =>
            diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));

        if (input.Length is not (2 or 3))
        {
            Report(DiagnosticDescriptors.SpatialLayerNeedsChannels, kindName, layer.Name, Format(input));
            return null;
        }

        int window;
        int stride;
        int padding = 0;
        if (isConv)
        {
            if (layer.Size <= 0)
            {
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "output channels", layer.Size, "at least 1");
            }

            if (layer.Kernel == 0)
            {
                Report(DiagnosticDescriptors.MissingKernel, layer.Name, layer.Size);
            }
            else if (layer.Kernel < 0)
            {
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Kernel", layer.Kernel, "at least 1");
            }

            if (layer.Stride <= 0)
            {
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Stride", layer.Stride, "at least 1");
            }

            if (layer.Padding < 0)
            {
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Padding", layer.Padding, "0 or more");
            }

            if (layer.Dilation < 1)
            {
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Dilation", layer.Dilation, "at least 1");
            }

            if (layer.Groups < 1)
            {
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Groups", layer.Groups, "at least 1");
            }
            else if (layer.Size > 0 && (input[0] % layer.Groups != 0 || layer.Size % layer.Groups != 0))
            {
                Report(DiagnosticDescriptors.GroupsMismatch, layer.Name, layer.Groups, input[0], layer.Size);
            }

            // A dilated kernel spans d·(k − 1) + 1 input positions.
            window = layer.Kernel > 0 && layer.Dilation > 0 ? layer.Dilation * (layer.Kernel - 1) + 1 : layer.Kernel;
            stride = layer.Stride;
            padding = layer.Padding;
        }
        else
        {
            if (layer.Size <= 0)
            {
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "window size", layer.Size, "at least 1");
            }

            if (layer.Stride < 0)
            {
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Stride", layer.Stride, "at least 1 (or 0 for the window size)");
            }

            if (layer.Padding < 0)
            {
                Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Padding", layer.Padding, "0 or more");
            }
            else if (layer.Size > 0 && layer.Padding > layer.Size / 2)
            {
                Report(DiagnosticDescriptors.PoolPaddingTooLarge, layer.Name, layer.Padding, layer.Size);
            }

            window = layer.Size;
            stride = layer.Stride == 0 ? layer.Size : layer.Stride;
            padding = layer.Padding;
        }

        if (diagnostics.Count > errors)
        {
            return null;
        }

        var output = new int[input.Length];
        output[0] = isConv ? layer.Size : input[0];
        for (int d = 1; d < input.Length; d++)
        {
            int padded = input[d] + 2 * padding;
            if (window > padded)
            {
                string what = isConv ? "kernel" : "pooling";
                string paddingText = padding > 0 ? $" (padded by {padding} to {padded} along that axis)" : string.Empty;
                string windowText = input.Length == 3 ? $"{window}×{window}" : window.ToString();
                if (isConv && layer.Dilation > 1)
                {
                    windowText += $" (kernel {layer.Kernel} dilated by {layer.Dilation})";
                }
                Report(DiagnosticDescriptors.KernelLargerThanInput, layer.Name, what, windowText, Format(input), paddingText);
                return null;
            }

            output[d] = (padded - window) / stride + 1;
        }

        long length = output.Aggregate(1L, (a, b) => a * b);
        if (length > MaxTensorLength)
        {
            Report(DiagnosticDescriptors.TensorTooLarge, $"Layer '{layer.Name}'", $"its {Format(output)} output", length, MaxTensorLength);
            return null;
        }

        long patch = isConv ? (long)input[0] / layer.Groups * layer.Kernel * (input.Length == 3 ? layer.Kernel : 1) : 0;
        if (isConv && patch * Math.Max(layer.Size, length / output[0]) > int.MaxValue)
        {
            Report(DiagnosticDescriptors.TensorTooLarge, $"Layer '{layer.Name}'", "its weight or im2col buffer", patch * Math.Max(layer.Size, length / output[0]), int.MaxValue);
            return null;
        }

        return output;
    }

    private static string Format(int[] shape) => "(" + string.Join(", ", shape) + ")";
}
