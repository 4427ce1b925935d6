using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using NigGen.Generator.Analysis;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>[Dense(units)]: PyTorch's nn.Linear on a flat (features) input, weight [out, in], bias [out].</summary>
internal sealed class DenseLayer : LayerRules
{
    public override LayerKind Kind => LayerKind.Dense;

    public override LayerSpec? ReadConstructorArguments(AttributeData attribute, LayerSpec spec) => AttributeArguments.WithSize(attribute, spec);

    public override bool HasBiasArgument => true;

    public override bool HasActivationArgument => true;

    public override int[]? InferShape(ShapeContext context)
    {
        var layer = context.Layer;
        var input = context.Input;
        if (layer.Size <= 0)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "units", layer.Size, "at least 1");
            return null;
        }

        if (input.Length != 1)
        {
            context.Report(DiagnosticDescriptors.DenseNeedsFlatInput, layer.Name, Model.Shapes.Format(input));
            return null;
        }

        if (layer.Size > ShapeInference.MaxTensorLength || (long)layer.Size * input[0] > int.MaxValue)
        {
            context.Report(DiagnosticDescriptors.TensorTooLarge, $"Layer '{layer.Name}'", $"its weight [{layer.Size}, {input[0]}]", (long)layer.Size * input[0], int.MaxValue);
            return null;
        }

        return [layer.Size];
    }

    public override bool HasWeights => true;

    public override bool IsWeightedSum => true;

    public override int[] WeightShape(LayerModel layer) => [layer.Spec.Size, layer.InputLength];

    public override IEnumerable<LayerTensor> Tensors(LayerModel layer) => WeightedSum.Tensors(layer);

    public override string Construction(LayerPlan layer, string prefix) => WeightedSum.Construction(layer, prefix);

    public override bool FusesRelu => true;

    public override string Describe(LayerModel m) => $"{m.Name}: Dense {Shapes(m)}{Activation(m)}";

    public override void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input)
    {
        var c = layer.ComputeLayer.Model;
        // ws.LayerThreads is 1 except in a multi-threaded Forward of too few samples to share out.
        w.Line($"global::NigGen.Kernels.DenseKernels.Forward({plan.InputValues(layer, input)}, {layer.KernelField}.WeightTransposed, {layer.KernelField}.Bias, {plan.PreActivationValues(layer.Index, input)}, batch, inFeatures: {c.InputLength}, outFeatures: {c.OutputLength}, ws.LayerThreads);");
    }

    public override string PathChainCall(EmitPlan plan, LayerPlan layer, string input) =>
        $"ws.Chain.Dense({layer.KernelField}, {plan.InputValues(layer, input)}, {plan.PreActivationValues(layer.Index, input)}, batch)";

    public override void EmitFusedInference(SourceWriter w, EmitPlan plan, LayerPlan layer, LayerPlan? below)
    {
        var dense = layer.ComputeLayer.Model;
        w.Line($"global::NigGen.Kernels.DenseKernels.ForwardRelu({plan.InputValues(layer, "input")}, {layer.KernelField}.WeightTransposed, {layer.KernelField}.Bias, {plan.Values(layer.Index, "input")}, batch, inFeatures: {dense.InputLength}, outFeatures: {dense.OutputLength}, ws.LayerThreads);");
    }

    public override void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows)
    {
        var c = layer.ComputeLayer.Model;
        w.Line($"global::NigGen.Kernels.DenseKernels.BackwardInput({plan.PreActivationGradient(layer.Index)}, {layer.KernelField}.Weight, {plan.InputGradient(layer)}, {rows}, inFeatures: {c.InputLength}, outFeatures: {c.OutputLength}{writes.Accumulate(layer, 0)});");
        writes.EmitWritten(w, layer, 0);
    }

    public override (string Flag, string Condition)? RevealCancelFlag =>
        ("revealCancelAfterDense", "rule is global::NigGen.DeepLiftRule.RevealCancel or global::NigGen.DeepLiftRule.GenomicsDefault");

    public override string RevealCancelSplit(LayerPlan shapes, string inputs, string weights, string multipliers) =>
        $"global::NigGen.Kernels.DeepLiftKernels.SplitDense({inputs}, {weights}.WeightTransposed, {multipliers}, inFeatures: {shapes.Model.InputLength}, outFeatures: {shapes.Model.OutputLength});";

    public override string RevealCancelBackward(LayerPlan layer, string multipliers, string inputs, string target)
    {
        var c = layer.ComputeLayer.Model;
        return $"global::NigGen.Kernels.DeepLiftKernels.DenseRevealCancelBackward({multipliers}, {layer.KernelField}.Weight, {inputs}, {target}, inFeatures: {c.InputLength}, outFeatures: {c.OutputLength});";
    }

    public override void EmitTrainingBackward(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, bool inputGradient)
    {
        var m = layer.Model;
        string gradients = $"state.{layer.Pascal}Gradients";
        w.Line($"global::NigGen.Kernels.DenseKernels.BackwardWeight({plan.InputValues(layer, EmitPlan.WorkspaceInputs)}, {plan.PreActivationGradient(layer.Index)}, {gradients}.WeightAccumulator, {gradients}.BiasAccumulator, batch, inFeatures: {m.InputLength}, outFeatures: {m.OutputLength}, state.Scratch);");
        base.EmitTrainingBackward(w, plan, layer, writes, inputGradient);
    }

    /// <summary>A block's transposed output gradient.</summary>
    public override int WeightGradientScratchPerSample(LayerModel layer) => layer.OutputLength;

    public override void AddDeclarationArguments(List<string> arguments, LayerModel layer, System.Func<int, string> name) =>
        arguments.Add(layer.Spec.Size.ToString());

    public override string? GpuUnsupportedReason(LayerModel layer) => null;

    public override string GpuLayer(LayerPlan layer) =>
        $"global::NigGen.Gpu.GpuLayer.Dense({layer.Field}, inFeatures: {layer.Model.InputLength}, outFeatures: {layer.Model.OutputLength}, global::NigGen.Activation.{layer.Model.Activation})";
}

/// <summary>What Dense and Conv share: the attribute's constructor argument and their weight and bias tensors.</summary>
internal static class WeightedSum
{
    public static IEnumerable<LayerTensor> Tensors(LayerModel layer)
    {
        yield return new LayerTensor(layer.WeightsPrefix + ".weight", layer.WeightShape, true);
        if (layer.Spec.HasBias)
        {
            yield return new LayerTensor(layer.WeightsPrefix + ".bias", [layer.Spec.Size], true);
        }
    }

    public static string Construction(LayerPlan layer, string prefix) =>
        $"{layer.Field} = global::NigGen.Layer.Create({prefix}, [{string.Join(", ", layer.Model.WeightShape)}], hasBias: {(layer.Model.Spec.HasBias ? "true" : "false")}, weights);";
}

/// <summary>Reading the constructor arguments the attributes share.</summary>
internal static class AttributeArguments
{
    /// <summary>The one int argument (units, output channels, window), or null when it did not compile.</summary>
    public static LayerSpec? WithSize(AttributeData attribute, LayerSpec spec) =>
        attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int size ? spec with { Size = size } : null;
}
