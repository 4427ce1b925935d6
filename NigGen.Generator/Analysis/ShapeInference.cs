using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Model;
using NigGen.Generator.Parsing;

namespace NigGen.Generator.Analysis;

/// <summary>The analysis stage's result: a network ready to emit (null when any error was found) and every diagnostic.</summary>
internal sealed record AnalysedNetwork(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// Walks the layers in order, computing each output shape the way PyTorch does and reporting every declaration that
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
            return new AnalysedNetwork(null, diagnostics.ToEquatableArray());
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
            var shape = spec.InputShape.ToArray();
            for (int i = 0; i < spec.Layers.Count; i++)
            {
                var layer = spec.Layers[i];
                var location = parsed.LayerLocations[i];
                int errorsBefore = diagnostics.Count;
                var output = InferLayer(layer, shape, location, diagnostics);
                if (output is null || diagnostics.Count > errorsBefore && diagnostics.Skip(errorsBefore).Any(IsError))
                {
                    // Later shapes depend on this one: stop rather than report errors that follow from it.
                    break;
                }

                if (layer.Attribution == AttributionPoint.PreActivation && layer.Activation == ActivationKind.None)
                {
                    string what = layer.Kind is LayerKind.Dense or LayerKind.Conv ? $"a {layer.Kind} layer declared without Activation" : $"a {layer.Kind} layer";
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PreActivationWithoutActivation, location, layer.Name, what));
                    layer = layer with { Attribution = AttributionPoint.Output };
                }

                layers.Add(new LayerModel(layer, shape.ToEquatableArray(), output.ToEquatableArray()));
                shape = output;
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
        return new AnalysedNetwork(model, diagnostics.ToEquatableArray());
    }

    private static bool IsError(DiagnosticInfo diagnostic) => diagnostic.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error;

    private static int[]? InferLayer(LayerSpec layer, int[] input, LocationInfo location, List<DiagnosticInfo> diagnostics)
    {
        string inputText = Format(input);
        if (layer.Activation is < ActivationKind.None or > ActivationKind.Elu)
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

            default:
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

            window = layer.Kernel;
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

            window = layer.Size;
            stride = layer.Stride == 0 ? layer.Size : layer.Stride;
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

        long patch = isConv ? (long)input[0] * window * (input.Length == 3 ? window : 1) : 0;
        if (isConv && patch * Math.Max(layer.Size, length / output[0]) > int.MaxValue)
        {
            Report(DiagnosticDescriptors.TensorTooLarge, $"Layer '{layer.Name}'", "its weight or im2col buffer", patch * Math.Max(layer.Size, length / output[0]), int.MaxValue);
            return null;
        }

        return output;
    }

    private static string Format(int[] shape) => "(" + string.Join(", ", shape) + ")";
}
