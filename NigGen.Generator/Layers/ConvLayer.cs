using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>
/// [Conv(outChannels, Kernel = k, …)]: PyTorch's Conv1d on (C, L) and Conv2d on (C, H, W), with stride, padding,
/// dilation and groups; weight [out, in / groups, k(, k)], bias [out].
/// </summary>
internal sealed class ConvLayer : LayerRules
{
    public override LayerKind Kind => LayerKind.Conv;

    public override LayerSpec? ReadConstructorArguments(AttributeData attribute, LayerSpec spec) => AttributeArguments.WithSize(attribute, spec);

    public override int DefaultStride => 1;

    public override bool HasBiasArgument => true;

    public override bool HasActivationArgument => true;

    public override int[]? InferShape(ShapeContext context)
    {
        var layer = context.Layer;
        var input = context.Input;
        if (!SpatialShape.HasChannels(context, "Conv"))
        {
            return null;
        }

        int errors = context.DiagnosticCount;
        if (layer.Size <= 0)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "output channels", layer.Size, "at least 1");
        }

        if (layer.Kernel == 0)
        {
            context.Report(DiagnosticDescriptors.MissingKernel, layer.Name, layer.Size);
        }
        else if (layer.Kernel < 0)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Kernel", layer.Kernel, "at least 1");
        }

        if (layer.Stride <= 0)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Stride", layer.Stride, "at least 1");
        }

        if (layer.Padding < 0)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Padding", layer.Padding, "0 or more");
        }

        if (layer.Dilation < 1)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Dilation", layer.Dilation, "at least 1");
        }

        if (layer.Groups < 1)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Groups", layer.Groups, "at least 1");
        }
        else if (layer.Size > 0 && (input[0] % layer.Groups != 0 || layer.Size % layer.Groups != 0))
        {
            context.Report(DiagnosticDescriptors.GroupsMismatch, layer.Name, layer.Groups, input[0], layer.Size);
        }

        if (context.DiagnosticCount > errors)
        {
            return null;
        }

        // A dilated kernel spans d·(k − 1) + 1 input positions.
        int window = layer.Dilation * (layer.Kernel - 1) + 1;
        string dilated = layer.Dilation > 1 ? $" (kernel {layer.Kernel} dilated by {layer.Dilation})" : string.Empty;
        var output = SpatialShape.Output(context, layer.Size, window, layer.Stride, layer.Padding, "kernel", dilated);
        if (output is null)
        {
            return null;
        }

        long length = System.Linq.Enumerable.Aggregate(output, 1L, (a, b) => a * b);
        long patch = (long)input[0] / layer.Groups * layer.Kernel * (input.Length == 3 ? layer.Kernel : 1);
        if (patch * Math.Max(layer.Size, length / output[0]) > int.MaxValue)
        {
            context.Report(DiagnosticDescriptors.TensorTooLarge, $"Layer '{layer.Name}'", "its weight or im2col buffer", patch * Math.Max(layer.Size, length / output[0]), int.MaxValue);
            return null;
        }

        return output;
    }

    public override bool HasWeights => true;

    public override bool IsWeightedSum => true;

    public override int[] WeightShape(LayerModel layer) => layer.SpatialRank == 2
        ? [layer.Spec.Size, layer.InputShape[0] / layer.Spec.Groups, layer.Spec.Kernel, layer.Spec.Kernel]
        : [layer.Spec.Size, layer.InputShape[0] / layer.Spec.Groups, layer.Spec.Kernel];

    public override IEnumerable<LayerTensor> Tensors(LayerModel layer) => WeightedSum.Tensors(layer);

    public override string Construction(LayerPlan layer, string prefix) => WeightedSum.Construction(layer, prefix);

    public override string Geometry(LayerPlan layer)
    {
        var m = layer.Model;
        int k = m.Spec.Kernel, s = m.Spec.Stride, p = m.Spec.Padding;
        bool twoD = m.SpatialRank == 2;
        string geometry = twoD
            ? $"new(InChannels: {m.InputShape[0]}, InHeight: {m.InputShape[1]}, InWidth: {m.InputShape[2]}, OutChannels: {m.Spec.Size}, KernelHeight: {k}, KernelWidth: {k}, StrideHeight: {s}, StrideWidth: {s}, PaddingHeight: {p}, PaddingWidth: {p})"
            : $"new(InChannels: {m.InputShape[0]}, InHeight: 1, InWidth: {m.InputShape[1]}, OutChannels: {m.Spec.Size}, KernelHeight: 1, KernelWidth: {k}, StrideHeight: 1, StrideWidth: {s}, PaddingHeight: 0, PaddingWidth: {p})";
        var extras = new List<string>();
        if (m.Spec.Dilation != 1)
        {
            extras.Add(twoD ? $"DilationHeight = {m.Spec.Dilation}, DilationWidth = {m.Spec.Dilation}" : $"DilationWidth = {m.Spec.Dilation}");
        }

        if (m.Spec.Groups != 1)
        {
            extras.Add($"Groups = {m.Spec.Groups}");
        }

        string init = extras.Count == 0 ? string.Empty : " { " + string.Join(", ", extras) + " }";
        return $"public static readonly global::NigGen.Kernels.ConvGeometry {layer.Pascal} = {geometry}{init};";
    }

    // The runtime's rule, asked of the geometry rather than mirrored here.
    public override string ScratchLength(LayerPlan layer) => layer.GeometryName + ".ScratchLength";

    public override string Describe(LayerModel m)
    {
        string extras = (m.Spec.Dilation != 1 ? $", dilation {m.Spec.Dilation}" : string.Empty) + (m.Spec.Groups != 1 ? $", groups {m.Spec.Groups}" : string.Empty);
        return $"{m.Name}: Conv{m.SpatialRank}d kernel {m.Spec.Kernel}, stride {m.Spec.Stride}, padding {m.Spec.Padding}{extras}: {Shapes(m)}{Activation(m)}";
    }

    public override void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input) =>
        w.Line($"global::NigGen.Kernels.ConvKernels.Forward(in {layer.ComputeLayer.GeometryName}, {plan.InputValues(layer, input)}, {layer.KernelField}, {plan.PreActivationValues(layer.Index, input)}, batch, ws.Scratch);");

    // One call: where Winograd's kernel runs, the pooling is taken from its tiles and the full map is never stored.
    public override void EmitForwardMaxPooled(SourceWriter w, EmitPlan plan, LayerPlan layer, LayerPlan pool, string input) =>
        w.Line($"global::NigGen.Kernels.ConvKernels.ForwardMaxPooled(in {layer.ComputeLayer.GeometryName}, in {pool.GeometryName}, global::NigGen.Activation.{layer.Model.Activation}, {plan.InputValues(layer, input)}, {layer.KernelField}, {plan.PreActivationValues(layer.Index, input)}, {plan.Values(layer.Index, input)}, {plan.Values(pool.Index, input)}, ws.{pool.Pascal}Argmax.AsSpan(0, batch * {pool.LengthName}), batch, ws.Scratch);");

    public override string PathChainCall(EmitPlan plan, LayerPlan layer, string input) =>
        $"ws.Chain.Conv(in {layer.ComputeLayer.GeometryName}, {layer.KernelField}, {plan.InputValues(layer, input)}, {plan.PreActivationValues(layer.Index, input)}, batch, ws.Scratch)";

    public override void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows)
    {
        w.Line($"global::NigGen.Kernels.ConvKernels.BackwardInput(in {layer.ComputeLayer.GeometryName}, {plan.PreActivationGradient(layer.Index)}, {layer.KernelField}, {plan.InputGradient(layer)}, {rows}, ws.Scratch{writes.Accumulate(layer, 0)});");
        writes.EmitWritten(w, layer, 0);
    }

    public override (string Flag, string Condition)? RevealCancelFlag => ("revealCancelAfterConv", "rule is global::NigGen.DeepLiftRule.RevealCancel");

    public override string RevealCancelSplit(LayerPlan shapes, string inputs, string weights, string multipliers) =>
        $"global::NigGen.Kernels.DeepLiftKernels.SplitConv(in {shapes.GeometryName}, {inputs}, {weights}.Weight, {multipliers});";

    public override string RevealCancelBackward(LayerPlan layer, string multipliers, string inputs, string target) =>
        $"global::NigGen.Kernels.DeepLiftKernels.ConvRevealCancelBackward(in {layer.ComputeLayer.GeometryName}, {multipliers}, {layer.KernelField}.Weight, {inputs}, {target});";

    public override void EmitTrainingBackward(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, bool inputGradient)
    {
        string gradients = $"state.{layer.Pascal}Gradients";
        w.Line($"global::NigGen.Kernels.ConvKernels.BackwardWeight(in {layer.GeometryName}, {plan.InputValues(layer, EmitPlan.WorkspaceInputs)}, {plan.PreActivationGradient(layer.Index)}, {gradients}.WeightAccumulator, {gradients}.BiasAccumulator, batch, state.Scratch);");
        base.EmitTrainingBackward(w, plan, layer, writes, inputGradient);
    }

    public override string WeightGradientScratchLength(LayerPlan layer) => layer.GeometryName + ".WeightGradientScratchLength";

    public override bool WeightGradientTransposed => true;

    public override void AddDeclarationArguments(List<string> arguments, LayerModel layer, Func<int, string> name)
    {
        var spec = layer.Spec;
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
    }

    public override string? GpuUnsupportedReason(LayerModel layer) =>
        layer.Spec.Dilation != 1 || layer.Spec.Groups != 1 ? "a dilated or grouped Conv" : null;

    public override string GpuLayer(LayerPlan layer) =>
        $"global::NigGen.Gpu.GpuLayer.Conv({layer.Field}, in {layer.GeometryName}, global::NigGen.Activation.{layer.Model.Activation})";
}
