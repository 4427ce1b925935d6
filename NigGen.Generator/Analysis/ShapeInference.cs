using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Layers;
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
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TensorTooLarge, parsed.InputLocation, $"Network '{spec.ClassName}'", $"its {Shapes.Format(spec.InputShape)} input", inputLength, MaxTensorLength));
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
                    string what = LayerRegistry.For(layer.Kind).HasActivationArgument
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
        if (LayerRegistry.TryGet(layer.Kind, out var rules) && rules.NamesItsInputs)
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
            if (LayerRegistry.For(layers[i].Kind).HasWeights)
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
        var context = new ShapeContext(layer, inputs, inputNames, location, diagnostics);
        if (layer.Activation is < ActivationKind.None or > ActivationKind.Silu)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Activation", (int)layer.Activation, "a defined NigGen.Activation value");
        }

        // A kind without rules must never emit a network without that layer.
        if (!LayerRegistry.TryGet(layer.Kind, out var rules))
        {
            context.Report(DiagnosticDescriptors.LayerKindWithoutRules, layer.Name, $"[{layer.Kind}]", LayerRegistry.KnownAttributes);
            return null;
        }

        return rules.InferShape(context);
    }
}
