using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>
/// [MaxPool(size, Stride = s, Padding = p)] and [AvgPool(…)]: PyTorch's MaxPool1d/2d (padding with −∞) and
/// AvgPool1d/2d (count_include_pad=True), floor mode, stride defaulting to the window. The two share their shape rule,
/// geometry and declaration; their kernels differ (<see cref="PoolKernels"/>).
/// </summary>
internal sealed class PoolLayer(LayerKind kind) : LayerRules
{
    private bool IsMax => kind == LayerKind.MaxPool;

    public override LayerKind Kind => kind;

    public override LayerSpec? ReadConstructorArguments(AttributeData attribute, LayerSpec spec) => AttributeArguments.WithSize(attribute, spec);

    public override int[]? InferShape(ShapeContext context)
    {
        var layer = context.Layer;
        if (!SpatialShape.HasChannels(context, layer.Kind.ToString()))
        {
            return null;
        }

        int errors = context.DiagnosticCount;
        if (layer.Size <= 0)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "window size", layer.Size, "at least 1");
        }

        if (layer.Stride < 0)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Stride", layer.Stride, "at least 1 (or 0 for the window size)");
        }

        if (layer.Padding < 0)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, layer.Name, "Padding", layer.Padding, "0 or more");
        }
        else if (layer.Size > 0 && layer.Padding > layer.Size / 2)
        {
            context.Report(DiagnosticDescriptors.PoolPaddingTooLarge, layer.Name, layer.Padding, layer.Size);
        }

        if (context.DiagnosticCount > errors)
        {
            return null;
        }

        return SpatialShape.Output(context, context.Input[0], layer.Size, layer.Stride == 0 ? layer.Size : layer.Stride, layer.Padding, "pooling");
    }

    public override bool HasArgmax => IsMax;

    // Average pooling is linear; with padding its windows near the border read zeros, which the prefix does not model.
    public override bool PassesAffinePrefix(LayerSpec spec) => !IsMax && spec.Padding == 0;

    public override bool FusesIntoPath(LayerSpec spec) => spec.Padding == 0;

    public override bool FusesActivationBelow(LayerSpec spec) => IsMax && spec.Padding == 0;

    public override string Geometry(LayerPlan layer)
    {
        var m = layer.Model;
        bool twoD = m.SpatialRank == 2;
        int size = m.Spec.Size, s = m.PoolStride, p = m.Spec.Padding;
        string geometry = twoD
            ? $"new(Channels: {m.InputShape[0]}, InHeight: {m.InputShape[1]}, InWidth: {m.InputShape[2]}, SizeHeight: {size}, SizeWidth: {size}, StrideHeight: {s}, StrideWidth: {s})"
            : $"new(Channels: {m.InputShape[0]}, InHeight: 1, InWidth: {m.InputShape[1]}, SizeHeight: 1, SizeWidth: {size}, StrideHeight: 1, StrideWidth: {s})";
        string init = p == 0 ? string.Empty : twoD ? $" {{ PaddingHeight = {p}, PaddingWidth = {p} }}" : $" {{ PaddingWidth = {p} }}";
        return $"public static readonly global::NigGen.Kernels.PoolGeometry {layer.Pascal} = {geometry}{init};";
    }

    public override string Describe(LayerModel m) => IsMax
        ? $"{m.Name}: MaxPool{m.SpatialRank}d {m.Spec.Size}, stride {m.PoolStride}{(m.Spec.Padding > 0 ? $", padding {m.Spec.Padding}" : "")}: {Shapes(m)}"
        : $"{m.Name}: AvgPool{m.SpatialRank}d {m.Spec.Size}, stride {m.PoolStride}: {Shapes(m)}";

    public override void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input) => PoolKernels.EmitForward(w, plan, layer, input, IsMax);

    public override void EmitFusedInference(SourceWriter w, EmitPlan plan, LayerPlan layer, LayerPlan? below) =>
        w.Line($"global::NigGen.Kernels.PoolKernels.MaxForwardActivated(in {layer.GeometryName}, global::NigGen.Activation.{below!.Model.Activation}, {plan.PreActivationValues(below.Index, "input")}, {plan.Values(below.Index, "input")}, {plan.Values(layer.Index, "input")}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), batch);");

    public override void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows) =>
        PoolKernels.EmitInputGradient(w, plan, layer, writes, rows, IsMax);

    public override string FusedPathKernel(LayerPlan layer, string activation, string output, string scratch) => IsMax
        ? $"global::NigGen.Kernels.InterpolationKernels.InterpolateMaxPooled(in {layer.GeometryName}, {activation}, AffineDifference, AffineAtBaseline, alphas, {output}, {scratch}, {layer.Pascal}Argmax.AsSpan(0, {layer.LengthName}));"
        : $"global::NigGen.Kernels.InterpolationKernels.InterpolateAvgPooled(in {layer.GeometryName}, {activation}, AffineDifference, AffineAtBaseline, alphas, {output}, {scratch});";

    public override bool DeepLiftUsesGradientKernel => !IsMax;

    public override void EmitDeepLift(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes) =>
        PoolKernels.EmitDeepLift(w, plan, layer, writes, IsMax);

    public override void AddDeclarationArguments(List<string> arguments, LayerModel layer, System.Func<int, string> name)
    {
        arguments.Add(layer.Spec.Size.ToString());
        if (layer.PoolStride != layer.Spec.Size)
        {
            arguments.Add("Stride = " + layer.PoolStride);
        }

        if (layer.Spec.Padding != 0)
        {
            arguments.Add("Padding = " + layer.Spec.Padding);
        }
    }

    public override string? GpuUnsupportedReason(LayerModel layer) => layer.Spec.Padding != 0 ? $"a padded {layer.Kind}" : null;

    public override string GpuLayer(LayerPlan layer) => IsMax
        ? $"global::NigGen.Gpu.GpuLayer.MaxPool({layer.Field}, in {layer.GeometryName})"
        : $"global::NigGen.Gpu.GpuLayer.AvgPool({layer.Field}, in {layer.GeometryName})";
}

/// <summary>
/// The kernel calls of max and average pooling, windowed (<see cref="PoolLayer"/>) or global (<see cref="GlobalPoolLayer"/>):
/// both run the same kernels over a <c>PoolGeometry</c>, a global pooling's being one window over the whole extent.
/// </summary>
internal static class PoolKernels
{
    public static void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input, bool max)
    {
        string source = plan.InputValues(layer, input);
        string pre = plan.PreActivationValues(layer.Index, input);
        w.Line(max
            ? $"global::NigGen.Kernels.PoolKernels.MaxForward(in {layer.GeometryName}, {source}, {pre}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), batch);"
            : $"global::NigGen.Kernels.PoolKernels.AvgForward(in {layer.GeometryName}, {source}, {pre}, batch);");
    }

    public static void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows, bool max)
    {
        string gradient = plan.PreActivationGradient(layer.Index);
        string below = plan.InputGradient(layer);
        string accumulate = writes.Accumulate(layer, 0);
        w.Line(max
            ? $"global::NigGen.Kernels.PoolKernels.MaxBackward(in {layer.GeometryName}, {gradient}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), {below}, {rows}{accumulate});"
            : $"global::NigGen.Kernels.PoolKernels.AvgBackward(in {layer.GeometryName}, {gradient}, {below}, {rows}{accumulate});");
        writes.EmitWritten(w, layer, 0);
    }

    /// <summary>Max pooling's DeepLIFT kernel (deeplift's rule for the max: the difference goes where the input's max moved); average pooling is linear.</summary>
    public static void EmitDeepLift(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, bool max)
    {
        if (!max)
        {
            EmitInputGradient(w, plan, layer, writes, rows: "multiplierRows", max: false);
            return;
        }

        string below = plan.InputValues(layer, EmitPlan.WorkspaceInputs);
        string values = plan.Values(layer.Index, EmitPlan.WorkspaceInputs);
        DeepLiftEmitter.EmitIntoGradient(w, plan, layer, writes, target =>
            $"global::NigGen.Kernels.DeepLiftKernels.MaxPool(in {layer.GeometryName}, {below}, {values}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), {plan.OutputGradient(layer.Index)}, {target});");
    }
}
