using System.Collections.Generic;
using System.Linq;
using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>
/// Writes <c>DescribeLayers()</c>: every layer as <c>Description.Layers</c> lists it and the model summary prints it
/// (kind, declaration, the layers it reads, output shape, weight names and shapes). It reads the validated model only.
/// </summary>
internal static class DescriptionEmitter
{
    public static void EmitLayers(SourceWriter w, NetworkModel model)
    {
        w.Line("// Every layer as declared, for Description.Layers and the model summary (Description.ToString()).");
        w.Line("private static LayerDescription[] DescribeLayers() =>");
        w.Line("[");
        string input = "global::NigGen.Attribution.LayerDescription.NetworkInput";
        foreach (var layer in model.Layers)
        {
            var spec = layer.Spec;
            string weights = string.Join(", ", Weights(layer).Select(t => $"new(\"{t.Name}\", [{string.Join(", ", t.Shape)}])"));
            w.Line($"    new(\"{spec.Name}\", \"{spec.Kind}\", \"{Declaration(layer)}\", Activation.{spec.Activation}, inputs: [{input}], " +
                   $"outputShape: [{string.Join(", ", layer.OutputShape)}], weights: [{weights}]),");

            // A sequential network: each layer reads the one declared before it.
            input = $"\"{spec.Name}\"";
        }

        w.Line("];");
        w.Line();
    }

    /// <summary>The parameter tensors, named and shaped as in PyTorch's state_dict (the construction reads the same).</summary>
    private static IEnumerable<(string Name, IEnumerable<int> Shape)> Weights(LayerModel layer)
    {
        var spec = layer.Spec;
        int[] weight = spec.Kind switch
        {
            LayerKind.Dense => [spec.Size, layer.InputLength],
            LayerKind.Conv => layer.SpatialRank == 2
                ? [spec.Size, layer.InputShape[0], spec.Kernel, spec.Kernel]
                : [spec.Size, layer.InputShape[0], spec.Kernel],
            _ => [],
        };
        if (weight.Length == 0)
        {
            yield break;
        }

        yield return (spec.Name + ".weight", weight);
        if (spec.HasBias)
        {
            yield return (spec.Name + ".bias", [spec.Size]);
        }
    }

    /// <summary>The layer attribute as a user would write it, with only the arguments that differ from their defaults.</summary>
    private static string Declaration(LayerModel layer)
    {
        var spec = layer.Spec;
        var arguments = new List<string>();
        switch (spec.Kind)
        {
            case LayerKind.Dense:
                arguments.Add(spec.Size.ToString());
                break;
            case LayerKind.Conv:
                arguments.Add(spec.Size.ToString());
                arguments.Add("Kernel = " + spec.Kernel);
                if (spec.Stride != 1)
                {
                    arguments.Add("Stride = " + spec.Stride);
                }

                if (spec.Padding != 0)
                {
                    arguments.Add("Padding = " + spec.Padding);
                }

                break;
            case LayerKind.MaxPool or LayerKind.AvgPool:
                arguments.Add(spec.Size.ToString());
                if (layer.PoolStride != spec.Size)
                {
                    arguments.Add("Stride = " + layer.PoolStride);
                }

                break;
        }

        if (spec.Activation != ActivationKind.None)
        {
            arguments.Add("Activation = " + spec.Activation);
        }

        if (!spec.HasBias && spec.Kind is LayerKind.Dense or LayerKind.Conv)
        {
            arguments.Add("Bias = false");
        }

        return arguments.Count == 0 ? spec.Kind.ToString() : $"{spec.Kind}({string.Join(", ", arguments)})";
    }
}
