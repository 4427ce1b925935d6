using System.Collections.Generic;
using System.Linq;
using NigGen.Generator.Layers;
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
            string weights = string.Join(", ", LayerRegistry.For(layer.Kind).Tensors(layer).Select(t => $"new({Literal(t.Name)}, [{string.Join(", ", t.Shape)}]{(t.IsParameter ? "" : ", isParameter: false")})"));
            w.Line($"    new(\"{spec.Name}\", \"{spec.Kind}\", {Literal(Declaration(layer, model))}, global::NigGen.Activation.{spec.Activation}, inputs: [{inputs}], " +
                   $"outputShape: [{string.Join(", ", layer.OutputShape)}], weights: [{weights}]),");
        }

        w.Line("];");
        w.Line();
    }

    private static string Literal(string text) => Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(text, quote: true);

    /// <summary>The layer attribute as a user would write it, with only the arguments that differ from their defaults.</summary>
    private static string Declaration(LayerModel layer, NetworkModel model)
    {
        var spec = layer.Spec;
        var arguments = new List<string>();
        string Name(int index) => index < 0 ? "Layer.Input" : $"nameof({model.Layers[index].Name})";
        var rules = LayerRegistry.For(spec.Kind);
        rules.AddDeclarationArguments(arguments, layer, Name);

        // Where it reads a layer other than the previous field.
        int index = model.Layers.ToList().IndexOf(layer);
        if (!rules.NamesItsInputs && layer.Inputs[0] != index - 1)
        {
            arguments.Add("From = " + Name(layer.Inputs[0]));
        }

        if (spec.Activation != ActivationKind.None)
        {
            arguments.Add("Activation = " + spec.Activation);
        }

        if (!spec.HasBias && rules.HasBiasArgument)
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
