using System.Linq;
using NigGen.Generator.Emit;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>[Flatten]: PyTorch's nn.Flatten, C-major, so the same memory as its input (<see cref="IdentityKernels"/>).</summary>
internal sealed class FlattenLayer : LayerRules
{
    public override LayerKind Kind => LayerKind.Flatten;

    public override int[]? InferShape(ShapeContext context) => [context.Input.Aggregate(1, (a, b) => a * b)];

    public override bool IsAlias(bool training) => true;

    public override string AliasReason => "Flatten shares the buffers of the layer below";

    public override bool PassesAffinePrefix(LayerSpec spec) => true;

    public override string Describe(LayerModel m) => $"{m.Name}: Flatten {Shapes(m)}";

    public override void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input) =>
        IdentityKernels.EmitForward(w, plan, layer, input, "// Nothing to do: the C-major flattened tensor is the same memory.");

    public override void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows) =>
        IdentityKernels.EmitInputGradient(w, plan, layer, writes, rows);

    public override string? GpuUnsupportedReason(LayerModel layer) => null;

    public override string GpuLayer(LayerPlan layer) => $"global::NigGen.Gpu.GpuLayer.Flatten({layer.Field}, length: {layer.Model.OutputLength})";
}

/// <summary>
/// What Flatten and Dropout (outside training) share: they are the identity, so they alias the buffers of the layer
/// they read, except when scored (<c>LayerPlan.IsAlias</c>): then they copy forward and pass the gradient back.
/// </summary>
internal static class IdentityKernels
{
    public static void EmitForward(SourceWriter w, EmitPlan plan, LayerPlan layer, string input, string aliasComment)
    {
        if (layer.OwnsBuffers)
        {
            // A scored Flatten or Dropout keeps its own copy (see LayerPlan.IsAlias).
            w.Line($"{plan.InputValues(layer, input)}.CopyTo({plan.PreActivationValues(layer.Index, input)});");
        }
        else
        {
            w.Line(aliasComment);
        }
    }

    /// <summary>A scored copy (LayerPlan.IsAlias): the identity's gradient.</summary>
    public static void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows)
    {
        string gradient = plan.PreActivationGradient(layer.Index);
        w.Line($"global::NigGen.Kernels.GraphKernels.AddBackward({LayerRules.Rows(gradient, layer, rows)}, {plan.InputGradient(layer)}{writes.Accumulate(layer, 0)});");
        writes.EmitWritten(w, layer, 0);
    }
}
