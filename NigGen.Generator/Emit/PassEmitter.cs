using NigGen.Generator.Layers;
using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>Writes the specialised forward pass and the split backward pass: one kernel call per layer, every shape a constant.</summary>
internal static class PassEmitter
{
    public static void EmitForward(SourceWriter w, EmitPlan plan)
    {
        var affine = plan.AffinePrefixLayer;
        var fused = plan.FusedPathLayer;
        var chained = plan.PathChainLayer;
        w.Line("// Forward over a batch: every layer's pre-activation and output stay in the workspace for the backward pass.");
        w.Open("private void ForwardLayers(Workspace ws, ReadOnlySpan<float> input, int batch)");
        bool methodStart = true;
        LayerPlan? fusedBelow = null;
        foreach (var layer in plan.Layers)
        {
            var m = layer.Model;
            if (fusedBelow is not null && layer.Inputs.Count == 1 && layer.Inputs[0] == fusedBelow)
            {
                continue; // the pooling emitted with the activation below it
            }

            if (!methodStart)
            {
                w.Line();
            }

            methodStart = false;

            if (layer.FoldedInto is not null)
            {
                w.Line($"// {layer.Name}: {NoSteps(layer)}.");
                continue;
            }

            w.Line("// " + Describe(m));
            bool poolsAbove = affine is not null && layer.Index > affine.Index && plan.FusesActivationIntoPool(layer);
            if (layer == chained)
            {
                EmitChainedLayer(w, plan, layer, poolsAbove);
                fusedBelow = poolsAbove ? layer : null;
                continue;
            }

            if (!poolsAbove)
            {
                EmitLayerKernel(w, plan, layer, "input");
            }

            if (layer == affine)
            {
                // Everything so far is affine in the input, so along the straight input path this pre-activation is
                // affine in α: the path methods interpolate it instead of recomputing these layers at every point.
                w.Line($"ForwardAbove{layer.Pascal}PreActivation(ws, batch, backwardTo: Position.Input);");
                w.Close();
                w.Line();
                w.Line($"// Forward from {layer.Name}'s pre-activation (already in the workspace) to the output, keeping what a backward pass");
                w.Line("// down to position 'backwardTo' reads (Position.Input: everything).");
                w.Open($"private void ForwardAbove{layer.Pascal}PreActivation(Workspace ws, int batch, int backwardTo)");
                methodStart = true;
            }

            if (poolsAbove)
            {
                fusedBelow = layer;
                EmitPoolAfterActivation(w, plan, layer, plan.Layers[layer.Index + 1]);
            }
            else if (m.HasActivation)
            {
                EmitActivation(w, plan, layer);
            }

            if (layer == fused && layer != plan.Last)
            {
                // The path methods' fused kernel writes this output straight from the interpolated pre-activation.
                w.Line($"ForwardAbove{layer.Pascal}Output(ws, batch, backwardTo);");
                w.Close();
                w.Line();
                w.Line($"// Forward from {layer.Name}'s output (already in the workspace) to the output, keeping what a backward pass down to");
                w.Line("// position 'backwardTo' reads.");
                w.Open($"private void ForwardAbove{layer.Pascal}Output(Workspace ws, int batch, int backwardTo)");
                methodStart = true;
            }
        }

        w.Close();
        w.Line();
    }

    // The first weighted sum above the fused path: along the path of Neuron Integrated Gradients (ws.Chain entered), the
    // chain updates its pre-activation from the previous point; otherwise, and where the chain leaves a convolution to
    // Winograd's kernel, the layer runs as anywhere else.
    private static void EmitChainedLayer(SourceWriter w, EmitPlan plan, LayerPlan layer, bool poolsAbove)
    {
        var m = layer.Model;
        string call = layer.ComputeRules.PathChainCall(plan, layer, "input")!;
        w.Line($"// Along the path, updated from the previous point where its inputs changed line (NigGen.Kernels.PathChain).");
        if (!m.HasActivation && !poolsAbove)
        {
            w.Open($"if (!(ws.Chain.IsActive && {call}))");
            EmitLayerKernel(w, plan, layer, "input");
            w.Close();
            return;
        }

        w.Open($"if (ws.Chain.IsActive && {call})");
        if (m.HasActivation)
        {
            EmitActivation(w, plan, layer);
        }

        if (poolsAbove)
        {
            var pool = plan.Layers[layer.Index + 1];
            w.Line("// " + Describe(pool.Model));
            EmitLayerKernel(w, plan, pool, "input");
        }

        w.Close();
        w.Open("else");
        if (poolsAbove)
        {
            EmitPoolAfterActivation(w, plan, layer, plan.Layers[layer.Index + 1]);
        }
        else
        {
            EmitLayerKernel(w, plan, layer, "input");
            if (m.HasActivation)
            {
                EmitActivation(w, plan, layer);
            }
        }

        w.Close();
    }

    // Above the affine prefix, a layer whose activation a max pooling right above it takes: when the backward pass that
    // follows stops at or above the pooling (a path method scoring higher layers), nothing reads the layer's
    // pre-activation, activations or the argmax, and the layer, its activation and the pooling run as in
    // InferenceLayers (a convolution pooled in its own kernel).
    private static void EmitPoolAfterActivation(SourceWriter w, EmitPlan plan, LayerPlan layer, LayerPlan pool)
    {
        w.Line($"// {Describe(pool.Model)}, after {layer.Name}'s {layer.Model.Activation}: the three in one call when no backward pass");
        w.Line($"// reads {layer.Name}'s values or {pool.Name}'s argmax.");
        w.Open($"if (backwardTo >= {pool.PreActivationPositionName})");
        layer.ComputeRules.EmitForwardMaxPooled(w, plan, layer, pool, "input");
        w.Close();
        w.Open("else");
        EmitLayerKernel(w, plan, layer, "input");
        EmitActivation(w, plan, layer);
        EmitLayerKernel(w, plan, pool, "input");
        w.Close();
    }

    /// <summary>
    /// The forward pass of callers that read only the network's output (Forward): ForwardLayers' kernel calls, except that
    /// an activation right below a max pooling is fused into it, so that neither the activations nor the argmax are
    /// written, and a Dense layer's ReLU is applied inside its matrix multiply, so its pre-activation is not.
    /// </summary>
    public static void EmitInference(SourceWriter w, EmitPlan plan)
    {
        if (!plan.HasInferencePass)
        {
            return;
        }

        w.Line("// Forward for callers that read only the output: ForwardLayers' numbers, with activations fused into the kernel below or");
        w.Line("// above them, so that the pre-activations they replace and max poolings' argmax are not written.");
        w.Open("private void InferenceLayers(Workspace ws, ReadOnlySpan<float> input, int batch)");
        foreach (var layer in plan.Layers)
        {
            var m = layer.Model;
            var below = layer.Model.Inputs.Count == 1 && layer.Model.Inputs[0] >= 0 ? plan.Layers[layer.Model.Inputs[0]] : null;
            bool poolsBelow = below is not null && plan.FusesActivationIntoPool(below);
            if (layer.Index > 0 && !poolsBelow)
            {
                w.Line();
            }

            if (layer.FoldedInto is not null)
            {
                w.Line($"// {layer.Name}: {NoSteps(layer)}.");
                continue;
            }

            if (poolsBelow)
            {
                // The layer below was described just above; it, its activation and this pooling run in one call.
                w.Line($"// {Describe(m)}, after {below!.Name}'s {below.Model.Activation}, in one call");
                below.ComputeRules.EmitForwardMaxPooled(w, plan, below, layer, "input");
                continue;
            }

            w.Line("// " + Describe(m));
            if (plan.FusesActivationIntoPool(layer))
            {
                continue;
            }

            if (plan.FusesReluIntoDense(layer))
            {
                layer.ComputeRules.EmitFusedInference(w, plan, layer, below: null);
                continue;
            }

            EmitLayerKernel(w, plan, layer, "input");
            if (m.HasActivation)
            {
                EmitActivation(w, plan, layer);
            }
        }

        w.Close();
        w.Line();
    }

    /// <summary>
    /// The kernel calls computing a layer's pre-activation (its output, for layers without activation) from the layers it
    /// reads, by the kind that computes it (a folded BatchNorm's Dense or Conv layer): shared by every forward pass.
    /// </summary>
    // The layer's activation from its pre-activation into its output, as every forward pass applies it.
    private static void EmitActivation(SourceWriter w, EmitPlan plan, LayerPlan layer) =>
        w.Line($"global::NigGen.Kernels.ActivationKernels.{layer.Model.Activation}({plan.PreActivationValues(layer.Index, "input")}, {plan.Values(layer.Index, "input")});");

    public static void EmitLayerKernel(SourceWriter w, EmitPlan plan, LayerPlan layer, string input) =>
        layer.ComputeRules.EmitForward(w, plan, layer, input);

    public static void EmitBackward(SourceWriter w, EmitPlan plan)
    {
        w.Line("// Backward from the gradient at position 'from' down to position 'to' only: layers below 'to' are never visited.");
        w.Open("private void BackwardLayers(Workspace ws, int batch, int from, int to)");
        var writes = new GradientWrites(plan);
        writes.EmitDeclarations(w);
        for (int i = plan.Layers.Count - 1; i >= 0; i--)
        {
            var layer = plan.Layers[i];
            var m = layer.Model;
            if (!layer.HasSteps)
            {
                w.Line($"// {layer.Name}: {NoSteps(layer)}; nothing to do.");
                w.Line();
                continue;
            }

            // A pass started inside a branch must not visit the layers whose output does not flow into where it started.
            string reach = plan.ReachCondition(layer) is { } condition ? $" && ({condition})" : string.Empty;
            w.Line("// " + Describe(m));
            if (m.HasActivation)
            {
                w.Open($"if (from >= {layer.OutputPositionName} && to < {layer.OutputPositionName}{reach})");
                EmitActivationGradient(w, plan, layer);
                w.Close();
                w.Line();
            }

            if (plan.WritesInputGradients(layer))
            {
                w.Open($"if (from >= {layer.PreActivationPositionName} && to < {layer.PreActivationPositionName}{reach})");
                EmitInputGradient(w, plan, layer, writes);
                w.Close();
            }
            else
            {
                EmitInputGradient(w, plan, layer, writes); // only says where its inputs read the gradient
            }

            if (i > 0)
            {
                w.Line();
            }
        }

        w.Close();
        w.Line();
    }

    /// <summary>Why a layer without steps has none: Flatten and Dropout alias their input; a folded layer computes in its BatchNorm.</summary>
    public static string NoSteps(LayerPlan layer) => layer.FoldedInto is { } batchNorm
        ? $"folded into {batchNorm.Name}, which computes both"
        : layer.Rules.AliasReason;

    /// <summary>The kernel call taking a layer's output gradient to its pre-activation gradient (layers with an activation).</summary>
    public static void EmitActivationGradient(SourceWriter w, EmitPlan plan, LayerPlan layer)
    {
        int i = layer.Index;
        w.Line($"global::NigGen.Kernels.ActivationKernels.{layer.Model.Activation}Backward({plan.PreActivationValues(i, EmitPlan.WorkspaceInputs)}, {plan.Values(i, EmitPlan.WorkspaceInputs)}, {plan.OutputGradient(i)}, {plan.PreActivationGradient(i)});");
    }

    /// <summary>
    /// The kernel calls taking a layer's pre-activation gradient to the output gradients of the layers it reads, adding
    /// to a buffer another layer has already written in this pass: shared by every backward pass the generator writes.
    /// </summary>
    public static void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows = "batch") =>
        layer.ComputeRules.EmitInputGradient(w, plan, layer, writes, rows);

    /// <summary>The comment line naming a layer above its kernel calls.</summary>
    public static string Describe(LayerModel m) => LayerRegistry.For(m.Kind).Describe(m);
}
