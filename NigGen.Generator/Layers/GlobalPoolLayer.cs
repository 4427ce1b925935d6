using NigGen.Generator.Diagnostics;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>
/// [GlobalAvgPool] and [GlobalMaxPool]: (C, L) or (C, H, W) → (C), as <c>x.mean((2, 3))</c> and <c>x.amax((2, 3))</c>;
/// the pooling kernels over one window that spans the whole extent.
/// </summary>
internal sealed class GlobalPoolLayer(LayerKind kind) : LayerRules
{
    private bool IsMax => kind == LayerKind.GlobalMaxPool;

    public override LayerKind Kind => kind;

    public override int[]? InferShape(ShapeContext context)
    {
        if (context.Input.Length is not (2 or 3))
        {
            context.Report(DiagnosticDescriptors.SpatialLayerNeedsChannels, context.Layer.Kind, context.Layer.Name, Model.Shapes.Format(context.Input));
            return null;
        }

        return [context.Input[0]];
    }

    public override bool HasArgmax => IsMax;

    public override string Geometry(LayerPlan layer)
    {
        var m = layer.Model;
        // One window over the whole spatial extent.
        string geometry = m.SpatialRank == 2
            ? $"new(Channels: {m.InputShape[0]}, InHeight: {m.InputShape[1]}, InWidth: {m.InputShape[2]}, SizeHeight: {m.InputShape[1]}, SizeWidth: {m.InputShape[2]}, StrideHeight: 1, StrideWidth: 1)"
            : $"new(Channels: {m.InputShape[0]}, InHeight: 1, InWidth: {m.InputShape[1]}, SizeHeight: 1, SizeWidth: {m.InputShape[1]}, StrideHeight: 1, StrideWidth: 1)";
        return $"public static readonly global::NigGen.Kernels.PoolGeometry {layer.Pascal} = {geometry};";
    }

    public override void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input) => PoolKernels.EmitForward(w, plan, layer, input, IsMax);

    public override void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows) =>
        PoolKernels.EmitInputGradient(w, plan, layer, writes, rows, IsMax);

    public override bool DeepLiftUsesGradientKernel => !IsMax;

    public override void EmitDeepLift(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes) =>
        PoolKernels.EmitDeepLift(w, plan, layer, writes, IsMax);
}
