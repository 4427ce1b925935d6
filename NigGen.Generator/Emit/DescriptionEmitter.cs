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
        w.Line("private static global::NigGen.Attribution.LayerDescription[] DescribeLayers() =>");
        w.Line("[");
        foreach (var layer in model.Layers)
        {
            var spec = layer.Spec;
            string inputs = string.Join(", ", layer.Inputs.Select(i => i < 0 ? "global::NigGen.Attribution.LayerDescription.NetworkInput" : $"\"{model.Layers[i].Name}\""));
            string weights = string.Join(", ", Weights(layer).Select(t => $"new({Literal(t.Name)}, [{string.Join(", ", t.Shape)}]{(t.IsParameter ? "" : ", isParameter: false")})"));
            w.Line($"    new(\"{spec.Name}\", \"{spec.Kind}\", {Literal(Declaration(layer, model))}, global::NigGen.Activation.{spec.Activation}, inputs: [{inputs}], " +
                   $"outputShape: [{string.Join(", ", layer.OutputShape)}], weights: [{weights}]),");
        }

        w.Line("];");
        w.Line();
    }

    private static string Literal(string text) => Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(text, quote: true);

    /// <summary>The tensors, named and shaped as in PyTorch's state_dict (the construction reads the same).</summary>
    private static IEnumerable<(string Name, IEnumerable<int> Shape, bool IsParameter)> Weights(LayerModel layer)
    {
        var spec = layer.Spec;
        string prefix = layer.WeightsPrefix;
        switch (spec.Kind)
        {
            case LayerKind.Dense or LayerKind.Conv:
                yield return (prefix + ".weight", layer.WeightShape, true);
                if (spec.HasBias)
                {
                    yield return (prefix + ".bias", [spec.Size], true);
                }

                break;
            case LayerKind.BatchNorm:
                int channels = layer.OutputShape[0];
                if (spec.Affine)
                {
                    yield return (prefix + ".weight", [channels], true);
                    yield return (prefix + ".bias", [channels], true);
                }

                // Buffers, not parameters: the file holds them, the trainer does not fit them.
                yield return (prefix + ".running_mean", [channels], false);
                yield return (prefix + ".running_var", [channels], false);
                yield return (prefix + ".num_batches_tracked", [], false);
                break;
        }
    }

    /// <summary>The layer attribute as a user would write it, with only the arguments that differ from their defaults.</summary>
    private static string Declaration(LayerModel layer, NetworkModel model)
    {
        var spec = layer.Spec;
        var arguments = new List<string>();
        string Name(int index) => index < 0 ? "Layer.Input" : $"nameof({model.Layers[index].Name})";
        string Number(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
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

                if (spec.Dilation != 1)
                {
                    arguments.Add("Dilation = " + spec.Dilation);
                }

                if (spec.Groups != 1)
                {
                    arguments.Add("Groups = " + spec.Groups);
                }

                break;
            case LayerKind.MaxPool or LayerKind.AvgPool:
                arguments.Add(spec.Size.ToString());
                if (layer.PoolStride != spec.Size)
                {
                    arguments.Add("Stride = " + layer.PoolStride);
                }

                if (spec.Padding != 0)
                {
                    arguments.Add("Padding = " + spec.Padding);
                }

                break;
            case LayerKind.Add or LayerKind.Concat:
                arguments.AddRange(layer.Inputs.Select(Name));
                break;
            case LayerKind.Dropout:
                arguments.Add(Number(spec.Probability));
                break;
            case LayerKind.BatchNorm:
                if (spec.Epsilon != 1e-5)
                {
                    arguments.Add("Epsilon = " + Number(spec.Epsilon));
                }

                if (spec.Momentum != 0.1)
                {
                    arguments.Add("Momentum = " + Number(spec.Momentum));
                }

                if (!spec.Affine)
                {
                    arguments.Add("Affine = false");
                }

                break;
        }

        // Where it reads a layer other than the previous field.
        int index = model.Layers.ToList().IndexOf(layer);
        if (spec.Kind is not (LayerKind.Add or LayerKind.Concat) && layer.Inputs[0] != index - 1)
        {
            arguments.Add("From = " + Name(layer.Inputs[0]));
        }

        if (spec.Activation != ActivationKind.None)
        {
            arguments.Add("Activation = " + spec.Activation);
        }

        if (!spec.HasBias && spec.Kind is LayerKind.Dense or LayerKind.Conv)
        {
            arguments.Add("Bias = false");
        }

        if (spec.WeightsPrefix is not null)
        {
            arguments.Add("Weights = " + Literal(spec.WeightsPrefix));
        }

        return arguments.Count == 0 ? spec.Kind.ToString() : $"{spec.Kind}({string.Join(", ", arguments)})";
    }
}
