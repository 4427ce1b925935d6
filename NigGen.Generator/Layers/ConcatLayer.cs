using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using NigGen.Generator.Analysis;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>[Concat(nameof(a), nameof(b), …)]: concatenation along channels, as <c>torch.cat(…, 1)</c>.</summary>
internal sealed class ConcatLayer : LayerRules
{
    public override LayerKind Kind => LayerKind.Concat;

    public override LayerSpec? ReadConstructorArguments(AttributeData attribute, LayerSpec spec) => MultiInput.WithInputs(attribute, spec);

    public override bool HasActivationArgument => true;

    public override bool NamesItsInputs => true;

    public override int[]? InferShape(ShapeContext context)
    {
        var input = context.Input;
        long channels = input[0];
        for (int k = 1; k < context.Inputs.Length; k++)
        {
            var other = context.Inputs[k];
            if (other.Length != input.Length || !other.Skip(1).SequenceEqual(input.Skip(1)))
            {
                context.Report(DiagnosticDescriptors.ConcatShapeMismatch, context.Layer.Name, context.InputNames[0], Model.Shapes.Format(input), context.InputNames[k], Model.Shapes.Format(other));
                return null;
            }

            channels += other[0];
        }

        var concatenated = (int[])input.Clone();
        long total = channels * (Model.Shapes.Length(input.ToEquatableArray()) / input[0]);
        if (total > ShapeInference.MaxTensorLength)
        {
            context.Report(DiagnosticDescriptors.TensorTooLarge, $"Layer '{context.Layer.Name}'", "its output", total, ShapeInference.MaxTensorLength);
            return null;
        }

        concatenated[0] = (int)channels;
        return concatenated;
    }

    public override void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input)
    {
        string pre = plan.PreActivationValues(layer.Index, input);
        int offset = 0;
        for (int k = 0; k < layer.Model.Inputs.Count; k++)
        {
            int part = PartLength(plan, layer, k);
            w.Line($"global::NigGen.Kernels.GraphKernels.ConcatForward({plan.InputValues(layer, input, k)}, {pre}, batch, partLength: {part}, outputLength: {layer.LengthName}, offset: {offset});");
            offset += part;
        }
    }

    public override void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows)
    {
        string gradient = plan.PreActivationGradient(layer.Index);
        int offset = 0;
        for (int k = 0; k < layer.Model.Inputs.Count; k++)
        {
            int part = PartLength(plan, layer, k);
            w.Line($"global::NigGen.Kernels.GraphKernels.ConcatBackward({gradient}, {plan.InputGradient(layer, k)}, {rows}, partLength: {part}, outputLength: {layer.LengthName}, offset: {offset}{writes.Accumulate(layer, k)});");
            writes.EmitWritten(w, layer, k);
            offset += part;
        }
    }

    public override void AddDeclarationArguments(List<string> arguments, LayerModel layer, System.Func<int, string> name) =>
        arguments.AddRange(layer.Inputs.Select(name));

    /// <summary>Floats per sample of input <paramref name="k"/>.</summary>
    private static int PartLength(EmitPlan plan, LayerPlan layer, int k)
    {
        int source = layer.Model.Inputs[k];
        return source < 0 ? plan.InputLength : plan.Layers[source].Model.OutputLength;
    }
}
