using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>Writes the specialised forward pass and the split backward pass: one kernel call per layer, every shape a constant.</summary>
internal static class PassEmitter
{
    public static void EmitForward(SourceWriter w, EmitPlan plan)
    {
        var affine = plan.AffinePrefixLayer;
        var fused = plan.FusedPathLayer;
        w.Line("// Forward over a batch: every layer's pre-activation and output stay in the workspace for the backward pass.");
        w.Open("private void ForwardLayers(Workspace ws, ReadOnlySpan<float> input, int batch)");
        bool methodStart = true;
        foreach (var layer in plan.Layers)
        {
            var m = layer.Model;
            string pre = plan.PreActivationValues(layer.Index, "input");
            if (!methodStart)
            {
                w.Line();
            }

            methodStart = false;

            w.Line("// " + Describe(m));
            EmitLayerKernel(w, plan, layer, "input");
            if (layer == affine)
            {
                // Everything so far is affine in the input, so along the straight input path this pre-activation is
                // affine in α: the path methods interpolate it instead of recomputing these layers at every point.
                w.Line($"ForwardAbove{layer.Pascal}PreActivation(ws, batch);");
                w.Close();
                w.Line();
                w.Line($"// Forward from {layer.Name}'s pre-activation (already in the workspace) to the output.");
                w.Open($"private void ForwardAbove{layer.Pascal}PreActivation(Workspace ws, int batch)");
                methodStart = true;
            }

            if (m.HasActivation)
            {
                w.Line($"ActivationKernels.{m.Activation}({pre}, {plan.Values(layer.Index, "input")});");
            }

            if (layer == fused && layer != plan.Last)
            {
                // The path methods' fused kernel writes this output straight from the interpolated pre-activation.
                w.Line($"ForwardAbove{layer.Pascal}Output(ws, batch);");
                w.Close();
                w.Line();
                w.Line($"// Forward from {layer.Name}'s output (already in the workspace) to the output.");
                w.Open($"private void ForwardAbove{layer.Pascal}Output(Workspace ws, int batch)");
                methodStart = true;
            }
        }

        w.Close();
        w.Line();
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
            if (layer.Index > 0)
            {
                w.Line();
            }

            var below = layer.Index > 0 ? plan.Layers[layer.Index - 1] : null;
            if (below is not null && plan.FusesActivationIntoPool(below))
            {
                w.Line($"// {Describe(m)}, after {below.Name}'s {below.Model.Activation}");
                w.Line($"PoolKernels.MaxForwardActivated(in {layer.GeometryName}, global::NigGen.Activation.{below.Model.Activation}, {plan.PreActivationValues(below.Index, "input")}, {plan.Values(below.Index, "input")}, {plan.Values(layer.Index, "input")}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), batch);");
                continue;
            }

            w.Line("// " + Describe(m));
            if (plan.FusesReluIntoDense(layer))
            {
                w.Line($"DenseKernels.ForwardRelu({plan.Values(layer.Index - 1, "input")}, {layer.Field}.WeightTransposed, {layer.Field}.Bias, {plan.Values(layer.Index, "input")}, batch, inFeatures: {m.InputLength}, outFeatures: {m.OutputLength}, ws.LayerThreads);");
                continue;
            }

            EmitLayerKernel(w, plan, layer, "input");
            if (m.HasActivation && !plan.FusesActivationIntoPool(layer))
            {
                w.Line($"ActivationKernels.{m.Activation}({plan.PreActivationValues(layer.Index, "input")}, {plan.Values(layer.Index, "input")});");
            }
        }

        w.Close();
        w.Line();
    }

    /// <summary>
    /// The kernel call computing a layer's pre-activation (its output, for layers without activation) from the layer
    /// below: shared by every forward pass the generator writes, so they all compute the same numbers.
    /// </summary>
    public static void EmitLayerKernel(SourceWriter w, EmitPlan plan, LayerPlan layer, string input)
    {
        var m = layer.Model;
        string source = plan.Values(layer.Index - 1, input);
        string pre = plan.PreActivationValues(layer.Index, input);
        switch (m.Kind)
        {
            case LayerKind.Dense:
                // ws.LayerThreads is 1 except in a multi-threaded Forward of too few samples to share out.
                w.Line($"DenseKernels.Forward({source}, {layer.Field}.WeightTransposed, {layer.Field}.Bias, {pre}, batch, inFeatures: {m.InputLength}, outFeatures: {m.OutputLength}, ws.LayerThreads);");
                break;
            case LayerKind.Conv:
                w.Line($"ConvKernels.Forward(in {layer.GeometryName}, {source}, {layer.Field}, {pre}, batch, ws.Scratch);");
                break;
            case LayerKind.MaxPool:
                w.Line($"PoolKernels.MaxForward(in {layer.GeometryName}, {source}, {pre}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), batch);");
                break;
            case LayerKind.AvgPool:
                w.Line($"PoolKernels.AvgForward(in {layer.GeometryName}, {source}, {pre}, batch);");
                break;
            case LayerKind.Flatten:
                w.Line("// Nothing to do: the C-major flattened tensor is the same memory.");
                break;
        }
    }

    public static void EmitBackward(SourceWriter w, EmitPlan plan)
    {
        w.Line("// Backward from the gradient at position 'from' down to position 'to' only: layers below 'to' are never visited.");
        w.Open("private void BackwardLayers(Workspace ws, int batch, int from, int to)");
        for (int i = plan.Layers.Count - 1; i >= 0; i--)
        {
            var layer = plan.Layers[i];
            var m = layer.Model;
            if (m.Kind == LayerKind.Flatten)
            {
                w.Line($"// {layer.Name}: Flatten shares the buffers of the layer below; nothing to do.");
                w.Line();
                continue;
            }

            w.Line("// " + Describe(m));
            if (m.HasActivation)
            {
                w.Open($"if (from >= {layer.OutputPositionName} && to < {layer.OutputPositionName})");
                EmitActivationGradient(w, plan, layer);
                w.Close();
                w.Line();
            }

            w.Open($"if (from >= {layer.PreActivationPositionName} && to < {layer.PreActivationPositionName})");
            EmitInputGradient(w, plan, layer);
            w.Close();
            if (i > 0)
            {
                w.Line();
            }
        }

        w.Close();
        w.Line();
    }

    /// <summary>The kernel call taking a layer's output gradient to its pre-activation gradient (layers with an activation).</summary>
    public static void EmitActivationGradient(SourceWriter w, EmitPlan plan, LayerPlan layer)
    {
        int i = layer.Index;
        w.Line($"ActivationKernels.{layer.Model.Activation}Backward({plan.PreActivationValues(i, EmitPlan.WorkspaceInputs)}, {plan.Values(i, EmitPlan.WorkspaceInputs)}, {plan.OutputGradient(i)}, {plan.PreActivationGradient(i)});");
    }

    /// <summary>
    /// The kernel call taking a layer's pre-activation gradient to the output gradient of the layer below (nothing for
    /// Flatten): shared by every backward pass the generator writes.
    /// </summary>
    public static void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer)
    {
        var m = layer.Model;
        string gradient = plan.PreActivationGradient(layer.Index);
        string below = plan.OutputGradient(layer.Index - 1);
        switch (m.Kind)
        {
            case LayerKind.Dense:
                w.Line($"DenseKernels.BackwardInput({gradient}, {layer.Field}.Weight, {below}, batch, inFeatures: {m.InputLength}, outFeatures: {m.OutputLength});");
                break;
            case LayerKind.Conv:
                w.Line($"ConvKernels.BackwardInput(in {layer.GeometryName}, {gradient}, {layer.Field}.WeightTransposed, {below}, batch, ws.Scratch);");
                break;
            case LayerKind.MaxPool:
                w.Line($"PoolKernels.MaxBackward(in {layer.GeometryName}, {gradient}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), {below}, batch);");
                break;
            case LayerKind.AvgPool:
                w.Line($"PoolKernels.AvgBackward(in {layer.GeometryName}, {gradient}, {below}, batch);");
                break;
        }
    }

    public static string Describe(LayerModel m)
    {
        string shapes = $"{Shapes.Format(m.InputShape)} → {Shapes.Format(m.OutputShape)}";
        string activation = m.HasActivation ? ", " + m.Activation : string.Empty;
        return m.Kind switch
        {
            LayerKind.Dense => $"{m.Name}: Dense {shapes}{activation}",
            LayerKind.Conv => $"{m.Name}: Conv{m.SpatialRank}d kernel {m.Spec.Kernel}, stride {m.Spec.Stride}, padding {m.Spec.Padding}: {shapes}{activation}",
            LayerKind.MaxPool => $"{m.Name}: MaxPool{m.SpatialRank}d {m.Spec.Size}, stride {m.PoolStride}: {shapes}",
            LayerKind.AvgPool => $"{m.Name}: AvgPool{m.SpatialRank}d {m.Spec.Size}, stride {m.PoolStride}: {shapes}",
            _ => $"{m.Name}: Flatten {shapes}",
        };
    }
}
