using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>
/// [Dropout(p)]: the identity in Forward and every attribution method (it aliases the buffers of the layer it reads,
/// <see cref="IdentityKernels"/>); training applies inverted dropout with a mask drawn from the trainer's seed.
/// </summary>
internal sealed class DropoutLayer : LayerRules
{
    public override LayerKind Kind => LayerKind.Dropout;

    public override LayerSpec? ReadConstructorArguments(AttributeData attribute, LayerSpec spec) =>
        attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is double p ? spec with { Probability = p } : null;

    public override int[]? InferShape(ShapeContext context)
    {
        var layer = context.Layer;
        if (!(layer.Probability >= 0 && layer.Probability < 1))
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "the dropout probability", layer.Probability, "in [0, 1)");
            return null;
        }

        return context.Input;
    }

    // In training it applies a mask, so it owns buffers there.
    public override bool IsAlias(bool training) => !training;

    public override string AliasReason => "Dropout shares the buffers of the layer it reads";

    public override bool PassesAffinePrefix(LayerSpec spec) => true;

    public override void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input) =>
        IdentityKernels.EmitForward(w, plan, layer, input, "// Nothing to do: dropout is the identity outside training; it reads and writes the same memory.");

    public override void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows) =>
        IdentityKernels.EmitInputGradient(w, plan, layer, writes, rows);

    public override bool HasTrainingForward => true;

    public override void EmitTrainingForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string source, string pre)
    {
        // One mask stream per step and layer; an element's index in the whole batch picks its draw.
        string probability = Float(layer.Model.Spec.Probability);
        w.Line($"global::NigGen.Kernels.DropoutKernels.TrainingForward({source}, {probability}, state.Seed, stream: (ulong)step * {plan.Layers.Count} + {layer.Index}, firstIndex: (long)firstSample * {layer.LengthName}, {pre}, ws.{layer.Pascal}Mask.AsSpan(0, batch * {layer.LengthName}));");
    }

    public override void EmitTrainingBackward(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, bool inputGradient)
    {
        w.Line($"global::NigGen.Kernels.DropoutKernels.Backward({plan.PreActivationGradient(layer.Index)}, ws.{layer.Pascal}Mask.AsSpan(0, batch * {layer.LengthName}), {plan.InputGradient(layer)}{writes.Accumulate(layer, 0)});");
        writes.EmitWritten(w, layer, 0);
        w.Line();
    }

    public override (string What, string Consequence)? UntrainableAsOutput => ("a Dropout layer", "so the loss would read a random mask of the logits");

    public override bool HasTrainingMask => true;

    public override void AddDeclarationArguments(List<string> arguments, LayerModel layer, System.Func<int, string> name) =>
        arguments.Add(Number(layer.Spec.Probability));
}
