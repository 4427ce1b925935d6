using System.Collections.Generic;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>
/// [BatchNorm]: PyTorch's BatchNorm1d on (C) or (C, L) and BatchNorm2d on (C, H, W). Forward and attribution use the
/// running statistics (eval mode); training normalises with the batch's and updates the running ones. A BatchNorm
/// reading an unscored Dense or Conv layer nothing else reads is folded into it (<c>EmitPlan</c>): it then computes with
/// that layer's rules and the folded weights.
/// </summary>
internal sealed class BatchNormLayer : LayerRules
{
    public override LayerKind Kind => LayerKind.BatchNorm;

    public override bool HasActivationArgument => true;

    public override int[]? InferShape(ShapeContext context)
    {
        var layer = context.Layer;
        // PyTorch's BatchNorm1d takes (C) and (C, L) samples and BatchNorm2d (C, H, W): every shape NigGen has.
        if (!(layer.Epsilon > 0 && layer.Epsilon < double.PositiveInfinity))
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Epsilon", layer.Epsilon, "positive and finite");
            return null;
        }

        if (!(layer.Momentum >= 0 && layer.Momentum <= 1))
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Momentum", layer.Momentum, "in [0, 1]");
            return null;
        }

        return context.Input;
    }

    public override bool HasWeights => true;

    public override bool FoldsIntoWeightedSum => true;

    public override IEnumerable<LayerTensor> Tensors(LayerModel layer)
    {
        string prefix = layer.WeightsPrefix;
        int channels = layer.OutputShape[0];
        if (layer.Spec.Affine)
        {
            yield return new LayerTensor(prefix + ".weight", [channels], true);
            yield return new LayerTensor(prefix + ".bias", [channels], true);
        }

        // Buffers, not parameters: the file holds them, the trainer does not fit them.
        yield return new LayerTensor(prefix + ".running_mean", [channels], false);
        yield return new LayerTensor(prefix + ".running_var", [channels], false);
        yield return new LayerTensor(prefix + ".num_batches_tracked", [], false);
    }

    public override string Construction(LayerPlan layer, string prefix)
    {
        var m = layer.Model;
        return $"{layer.Field} = global::NigGen.Layer.CreateBatchNorm({prefix}, channels: {m.OutputShape[0]}, affine: {(m.Spec.Affine ? "true" : "false")}, epsilon: {Number(m.Spec.Epsilon)}, weights);";
    }

    public override void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input)
    {
        var m = layer.Model;
        w.Line($"global::NigGen.Kernels.BatchNormKernels.Forward({plan.InputValues(layer, input)}, {layer.Field}.Scale, {layer.Field}.Shift, {plan.PreActivationValues(layer.Index, input)}, batch, {ChannelsAndSpatial(m)});");
    }

    public override void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows)
    {
        var m = layer.Model;
        w.Line($"global::NigGen.Kernels.BatchNormKernels.BackwardInput({plan.PreActivationGradient(layer.Index)}, {layer.Field}.Scale, {plan.InputGradient(layer)}, {rows}, {ChannelsAndSpatial(m)}{writes.Accumulate(layer, 0)});");
        writes.EmitWritten(w, layer, 0);
    }

    // deeplift's BatchNormalization is linear: a split's parts go through the scale (BatchNormKernels.ScaleParts).
    public override bool CarriesRevealCancelSplit => true;

    public override string CarrySplitParts(LayerPlan layer, string parts) =>
        $"global::NigGen.Kernels.BatchNormKernels.ScaleParts({layer.Field}.Scale, {parts}, {ChannelsAndSpatial(layer.Model)});";

    public override string CarrySplitMultipliersBack(LayerPlan layer, string multipliers) =>
        $"global::NigGen.Kernels.BatchNormKernels.ScalePartMultipliers({layer.Field}.Scale, {multipliers}, {ChannelsAndSpatial(layer.Model)});";

    private static string ChannelsAndSpatial(LayerModel m) => $"channels: {m.OutputShape[0]}, spatial: {m.OutputLength / m.OutputShape[0]}";

    public override bool IsTrained(LayerSpec spec) => spec.Affine;

    public override bool HasTrainingForward => true;

    public override void EmitTrainingForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string source, string pre)
    {
        var m = layer.Model;
        int channels = m.OutputShape[0], spatial = m.OutputLength / channels;
        w.Line($"global::NigGen.Kernels.BatchNormKernels.TrainingForward({source}, {layer.Field}.Weight, {layer.Field}.Bias, {layer.Field}.Epsilon, {pre}, state.{layer.Pascal}Mean, state.{layer.Pascal}Variance, batch, channels: {channels}, spatial: {spatial});");
        w.Line($"{layer.Field}.TrackBatch(state.{layer.Pascal}Mean, state.{layer.Pascal}Variance, count: (long)batch * {spatial}, momentum: {Float(m.Spec.Momentum)});");
    }

    /// <summary>Its input gradient runs through the batch statistics, so one kernel gives it with γ's and β's gradients.</summary>
    public override void EmitTrainingBackward(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, bool inputGradient)
    {
        var m = layer.Model;
        string gradients = $"state.{layer.Pascal}Gradients";
        string weight = m.Spec.Affine ? gradients + ".WeightAccumulator" : "Span<float>.Empty";
        string bias = m.Spec.Affine ? gradients + ".BiasAccumulator" : "Span<float>.Empty";
        w.Line($"global::NigGen.Kernels.BatchNormKernels.TrainingBackward({plan.InputValues(layer, EmitPlan.WorkspaceInputs)}, {plan.PreActivationGradient(layer.Index)}, {layer.Field}.Weight, state.{layer.Pascal}Mean, state.{layer.Pascal}Variance, {layer.Field}.Epsilon, {plan.InputGradient(layer)}, {weight}, {bias}, batch, {ChannelsAndSpatial(m)}{writes.Accumulate(layer, 0)});");
        writes.EmitWritten(w, layer, 0);
        w.Line();
    }

    public override bool AlwaysWritesTrainingInputGradient => true;

    public override bool TrainsOnWholeBatch => true;

    public override void EmitTrainingState(SourceWriter w, LayerPlan layer)
    {
        w.Line($"public readonly float[] {layer.Pascal}Mean = new float[{layer.Model.OutputShape[0]}];");
        w.Line($"public readonly float[] {layer.Pascal}Variance = new float[{layer.Model.OutputShape[0]}];");
    }

    public override void AddDeclarationArguments(List<string> arguments, LayerModel layer, System.Func<int, string> name)
    {
        var spec = layer.Spec;
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
    }
}
