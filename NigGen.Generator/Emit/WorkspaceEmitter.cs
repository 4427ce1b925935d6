using System.Linq;
using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>
/// Writes the network's workspace: every buffer of a pass, sized for a number of samples at creation and reused
/// afterwards, one per thread, so that calls allocate nothing once warm and a network can be shared by threads.
/// </summary>
internal static class WorkspaceEmitter
{
    public static void Emit(SourceWriter w, EmitPlan plan)
    {
        string name = plan.Model.ClassName;
        w.Line("[ThreadStatic]");
        w.Line("private static Workspace? t_workspace;");
        w.Line();
        w.Line("// One workspace per thread, grown when a call needs more samples in flight than it holds.");
        w.Open("private Workspace RentWorkspace(int capacity)");
        w.Line("var ws = t_workspace;");
        w.Open("if (ws is null || ws.Capacity < capacity)");
        w.Line("ws = new Workspace(Math.Max(capacity, 1));");
        w.Line("t_workspace = ws;");
        w.Close();
        w.Line();
        w.Line("ws.Network = this;");
        w.Line("return ws;");
        w.Close();
        w.Line();

        w.Open("private sealed class Workspace : global::NigGen.Attribution.NetworkWorkspace");
        w.Line($"public {name} Network = null!;");
        w.Line("public readonly float[] Scratch = new float[ScratchLength];");
        foreach (var layer in plan.Layers.Where(l => l.OwnsBuffers))
        {
            if (layer.Model.HasActivation)
            {
                w.Line($"public readonly float[] {layer.Pascal}PreActivation;");
                w.Line($"public readonly float[] {layer.Pascal}PreActivationGradient;");
            }

            w.Line($"public readonly float[] {layer.Pascal}Output;");
            if (layer.OwnsOutputGradient)
            {
                w.Line($"public readonly float[] {layer.Pascal}OutputGradient;");
            }

            if (layer.HasArgmax)
            {
                w.Line($"public readonly int[] {layer.Pascal}Argmax;");
            }
        }

        var trainingOnly = TrainingEmitter.TrainingOnlyBuffers(plan).ToList();
        var masks = TrainingEmitter.DropoutMasks(plan).ToList();
        foreach (var layer in trainingOnly)
        {
            w.Line($"public readonly float[] {layer.Pascal}Output;");
            if (layer.OwnsOutputGradient)
            {
                w.Line($"public readonly float[] {layer.Pascal}OutputGradient;");
            }
        }

        foreach (var layer in masks)
        {
            w.Line($"public readonly float[] {layer.Pascal}Mask;");
        }

        if (plan.SharedGradients.Count > 0)
        {
            // Where a DeepLIFT kernel adds its multipliers to a buffer another layer has written: two rows of the largest one.
            int largest = plan.SharedGradients.Select(o => o < 0 ? plan.InputLength : plan.Layers[o].Model.OutputLength).Max();
            w.Line($"public readonly float[] JoinScratch = new float[{2 * largest}];");
        }

        var affine = plan.AffinePrefixLayer;
        if (affine is not null)
        {
            w.Line($"public readonly float[] AffineAtBaseline = new float[{affine.LengthName}];");
            w.Line($"public readonly float[] AffineDifference = new float[{affine.LengthName}];");
        }

        var chained = plan.PathChainLayer;
        if (chained is not null)
        {
            w.Line("public readonly global::NigGen.Kernels.PathChain Chain;");
        }

        w.Line();
        if (trainingOnly.Count + masks.Count > 0)
        {
            w.Line("// A trainer's workspace also holds what only training's passes write: the outputs of layers folded into a BatchNorm, and Dropout's.");
        }

        w.Open("public Workspace(int capacity, bool training = false) : base(capacity, InputLength, Math.Max(InputLength, ImportanceLength))");
        foreach (var layer in trainingOnly)
        {
            string length = $"training ? new float[capacity * {layer.LengthName}] : []";
            w.Line($"{layer.Pascal}Output = {length};");
            if (layer.OwnsOutputGradient)
            {
                w.Line($"{layer.Pascal}OutputGradient = {length};"); // none where the only Add above lends its gradient
            }
        }

        foreach (var layer in masks)
        {
            w.Line($"{layer.Pascal}Mask = training ? new float[capacity * {layer.LengthName}] : [];");
        }

        if (chained is not null)
        {
            var fused = plan.FusedPathLayer!;
            string pool = fused == affine ? "null" : fused.GeometryName;
            string convolution = chained.ComputeLayer.Model.Kind == LayerKind.Conv ? $", {chained.ComputeLayer.GeometryName}" : string.Empty;
            w.Line($"Chain = new(AffineAtBaseline, AffineDifference, {pool}, {fused.LengthName}, {chained.LengthName}{convolution});");
        }

        foreach (var layer in plan.Layers.Where(l => l.OwnsBuffers))
        {
            string length = $"capacity * {layer.LengthName}";
            if (layer.Model.HasActivation)
            {
                w.Line($"{layer.Pascal}PreActivation = new float[{length}];");
                w.Line($"{layer.Pascal}PreActivationGradient = new float[{length}];");
            }

            w.Line($"{layer.Pascal}Output = new float[{length}];");
            if (layer.OwnsOutputGradient)
            {
                w.Line($"{layer.Pascal}OutputGradient = new float[{length}];");
            }

            if (layer.HasArgmax)
            {
                w.Line($"{layer.Pascal}Argmax = new int[{length}];");
            }
        }

        w.Close();
        w.Line();
        w.Line("public override void Forward(int batch) => Network.ForwardLayers(this, Inputs.AsSpan(0, batch * InputLength), batch);");
        if (plan.HasInferencePass)
        {
            w.Line();
            w.Line("public override void ForwardInference(int batch) => Network.InferenceLayers(this, Inputs.AsSpan(0, batch * InputLength), batch);");
        }

        w.Line();
        w.Line("public override void Backward(int batch, int from, int to) => Network.BackwardLayers(this, batch, from, to);");
        DeepLiftEmitter.EmitWorkspaceMembers(w);
        AblationEmitter.EmitWorkspaceMembers(w, plan);
        w.Line();
        w.Line("public override global::NigGen.Attribution.NetworkWorkspace ForCurrentThread(int capacity) => Network.RentWorkspace(capacity);");
        w.Line();
        w.Open("public override global::NigGen.Attribution.NetworkWorkspace ForHelper(global::NigGen.Attribution.NetworkWorkspace? spare, int capacity)");
        w.Line("var ws = spare is Workspace kept && kept.Capacity >= capacity ? kept : new Workspace(Math.Max(capacity, 1));");
        w.Line("ws.Network = Network;");
        w.Line("return ws;");
        w.Close();
        w.Line();
        w.Line("public override void Unbind() => Network = null!;");
        if (affine is not null)
        {
            string pre = Unqualify(plan.PreActivationValues(affine.Index, "Inputs.AsSpan(0, batch * InputLength)"));
            w.Line();
            w.Line("public override bool HasAffinePrefix => true;");
            w.Line();
            if (chained is not null)
            {
                w.Line("public override global::NigGen.Kernels.PathChain PathChain => Chain;");
                w.Line();
            }

            w.Open("public override void CaptureAffineEndpoints()");
            w.Line("const int batch = 2;");
            w.Line($"global::NigGen.Kernels.InterpolationKernels.CaptureEndpoints({pre}, AffineAtBaseline, AffineDifference);");
            w.Close();
            w.Line();
            w.Open("public override void CopyAffineEndpoints(global::NigGen.Attribution.NetworkWorkspace source)");
            w.Line("var prepared = (Workspace)source;");
            w.Line("prepared.AffineAtBaseline.AsSpan().CopyTo(AffineAtBaseline);");
            w.Line("prepared.AffineDifference.AsSpan().CopyTo(AffineDifference);");
            w.Close();
            w.Line();
            w.Open("public override void ForwardAlongPath(int batch, ReadOnlySpan<double> alphas, int backwardTo)");
            if (chained is not null)
            {
                // The chained layer takes these points when Neuron Integrated Gradients has started chains.
                w.Line("Chain.Enter(alphas);");
                w.Open("try");
                w.Line("ForwardPoints(batch, alphas, backwardTo);");
                w.Close();
                w.Open("finally");
                w.Line("Chain.Leave();");
                w.Close();
                w.Close();
                w.Line();
                w.Open("private void ForwardPoints(int batch, ReadOnlySpan<double> alphas, int backwardTo)");
            }

            if (plan.FusedPathLayer is { } fused)
            {
                EmitFusedPath(w, plan, affine, fused);
            }

            w.Line($"global::NigGen.Kernels.InterpolationKernels.InterpolateRows(AffineDifference, AffineAtBaseline, alphas, {pre});");
            w.Line($"Network.ForwardAbove{affine.Pascal}PreActivation(this, batch, backwardTo);");
            w.Close();
        }
        w.Line();
        string inputs = "Inputs.AsSpan(0, batch * InputLength)";
        w.Line($"public override Span<float> Outputs(int batch) => {Unqualify(plan.Values(plan.Last.Index, inputs))};");
        w.Line();
        w.Line($"public override Span<float> OutputGradients(int batch) => {Unqualify(plan.OutputGradient(plan.Last.Index))};");
        w.Line();
        EmitSwitch(w, plan, "Values", l => l.ScoresPreActivation ? plan.PreActivationValues(l.Index, inputs) : plan.Values(l.Index, inputs));
        w.Line();
        EmitSwitch(w, plan, "Gradients", l => l.ScoresPreActivation ? plan.PreActivationGradient(l.Index) : plan.OutputGradient(l.Index));
        w.Close();
    }

    // The branch of ForwardAlongPath taken when the backward pass stops at or above the fused layer: one kernel from the
    // interpolated pre-activation to the fused layer's output, then the layers above.
    private static void EmitFusedPath(SourceWriter w, EmitPlan plan, LayerPlan affine, LayerPlan fused)
    {
        string activation = $"global::NigGen.Activation.{affine.Model.Activation}";
        string output = Unqualify(plan.Values(fused.Index, "Inputs.AsSpan(0, batch * InputLength)"));

        // One sample of the affine layer's buffer serves the fused kernel as scratch: the backward pass never reads it.
        string scratch = $"{affine.Pascal}{(affine.Model.HasActivation ? "PreActivation" : "Output")}.AsSpan(0, {affine.LengthName})";
        w.Line($"// A backward pass that stops at or above {fused.Name} reads no value below {fused.Name}'s output{(fused.HasArgmax ? " nor its argmax" : string.Empty)}:");
        w.Line($"// the path points go straight into {fused.Name}'s output.");
        w.Open($"if (backwardTo >= {plan.FusedPathStop(fused)})");
        w.Line(fused.Rules.FusedPathKernel(fused, activation, output, scratch));

        if (fused != plan.Last)
        {
            w.Line($"Network.ForwardAbove{fused.Pascal}Output(this, batch, backwardTo);");
        }

        w.Line("return;");
        w.Close();
        w.Line();
    }

    // The attribution driver reads the values and gradients of the attribute layers by backward position.
    private static void EmitSwitch(SourceWriter w, EmitPlan plan, string method, System.Func<LayerPlan, string> buffer)
    {
        w.Line($"public override Span<float> {method}(int position, int batch) => position switch");
        w.Line("{");
        foreach (var layer in plan.AttributeLayers)
        {
            w.Line($"    {layer.ScoredPositionName} => {Unqualify(buffer(layer))},");
        }

        w.Line($"    _ => throw new ArgumentOutOfRangeException(nameof(position), position, \"not the position of an attribute layer\"),");
        w.Line("};");
    }

    // Inside the workspace the buffers are its own fields.
    private static string Unqualify(string expression) => expression.Replace("ws.", string.Empty);
}
