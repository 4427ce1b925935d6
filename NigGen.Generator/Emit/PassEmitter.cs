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

            if (layer.FoldedInto is not null)
            {
                w.Line($"// {layer.Name}: {NoSteps(layer)}.");
                continue;
            }

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
                w.Line($"global::NigGen.Kernels.ActivationKernels.{m.Activation}({pre}, {plan.Values(layer.Index, "input")});");
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

            if (layer.FoldedInto is not null)
            {
                w.Line($"// {layer.Name}: {NoSteps(layer)}.");
                continue;
            }

            var below = layer.Model.Inputs.Count == 1 && layer.Model.Inputs[0] >= 0 ? plan.Layers[layer.Model.Inputs[0]] : null;
            if (below is not null && plan.FusesActivationIntoPool(below))
            {
                w.Line($"// {Describe(m)}, after {below.Name}'s {below.Model.Activation}");
                w.Line($"global::NigGen.Kernels.PoolKernels.MaxForwardActivated(in {layer.GeometryName}, global::NigGen.Activation.{below.Model.Activation}, {plan.PreActivationValues(below.Index, "input")}, {plan.Values(below.Index, "input")}, {plan.Values(layer.Index, "input")}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), batch);");
                continue;
            }

            w.Line("// " + Describe(m));
            if (plan.FusesReluIntoDense(layer))
            {
                var dense = layer.ComputeLayer.Model;
                w.Line($"global::NigGen.Kernels.DenseKernels.ForwardRelu({plan.InputValues(layer, "input")}, {layer.KernelField}.WeightTransposed, {layer.KernelField}.Bias, {plan.Values(layer.Index, "input")}, batch, inFeatures: {dense.InputLength}, outFeatures: {dense.OutputLength}, ws.LayerThreads);");
                continue;
            }

            EmitLayerKernel(w, plan, layer, "input");
            if (m.HasActivation && !plan.FusesActivationIntoPool(layer))
            {
                w.Line($"global::NigGen.Kernels.ActivationKernels.{m.Activation}({plan.PreActivationValues(layer.Index, "input")}, {plan.Values(layer.Index, "input")});");
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
        var c = layer.ComputeLayer;
        string source = plan.InputValues(layer, input);
        string pre = plan.PreActivationValues(layer.Index, input);
        switch (layer.ComputeKind)
        {
            case LayerKind.Dense:
                // ws.LayerThreads is 1 except in a multi-threaded Forward of too few samples to share out.
                w.Line($"global::NigGen.Kernels.DenseKernels.Forward({source}, {layer.KernelField}.WeightTransposed, {layer.KernelField}.Bias, {pre}, batch, inFeatures: {c.Model.InputLength}, outFeatures: {c.Model.OutputLength}, ws.LayerThreads);");
                break;
            case LayerKind.Conv:
                w.Line($"global::NigGen.Kernels.ConvKernels.Forward(in {c.GeometryName}, {source}, {layer.KernelField}, {pre}, batch, ws.Scratch);");
                break;
            case LayerKind.MaxPool or LayerKind.GlobalMaxPool:
                w.Line($"global::NigGen.Kernels.PoolKernels.MaxForward(in {layer.GeometryName}, {source}, {pre}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), batch);");
                break;
            case LayerKind.AvgPool or LayerKind.GlobalAvgPool:
                w.Line($"global::NigGen.Kernels.PoolKernels.AvgForward(in {layer.GeometryName}, {source}, {pre}, batch);");
                break;
            case LayerKind.BatchNorm:
                w.Line($"global::NigGen.Kernels.BatchNormKernels.Forward({source}, {layer.Field}.Scale, {layer.Field}.Shift, {pre}, batch, channels: {m.OutputShape[0]}, spatial: {m.OutputLength / m.OutputShape[0]});");
                break;
            case LayerKind.Add:
                w.Line($"global::NigGen.Kernels.GraphKernels.Add({source}, {plan.InputValues(layer, input, 1)}, {pre});");
                for (int k = 2; k < m.Inputs.Count; k++)
                {
                    w.Line($"global::NigGen.Kernels.GraphKernels.Add({pre}, {plan.InputValues(layer, input, k)}, {pre});");
                }

                break;
            case LayerKind.Concat:
                int offset = 0;
                for (int k = 0; k < m.Inputs.Count; k++)
                {
                    int part = PartLength(plan, layer, k);
                    w.Line($"global::NigGen.Kernels.GraphKernels.ConcatForward({plan.InputValues(layer, input, k)}, {pre}, batch, partLength: {part}, outputLength: {layer.LengthName}, offset: {offset});");
                    offset += part;
                }

                break;
            case LayerKind.Flatten or LayerKind.Dropout when layer.OwnsBuffers:
                // A scored Flatten or Dropout keeps its own copy (see LayerPlan.IsAlias).
                w.Line($"{source}.CopyTo({pre});");
                break;
            case LayerKind.Flatten:
                w.Line("// Nothing to do: the C-major flattened tensor is the same memory.");
                break;
            case LayerKind.Dropout:
                w.Line("// Nothing to do: dropout is the identity outside training; it reads and writes the same memory.");
                break;
        }
    }

    /// <summary>Floats per sample of input <paramref name="k"/> of a Concat.</summary>
    public static int PartLength(EmitPlan plan, LayerPlan layer, int k)
    {
        int source = layer.Model.Inputs[k];
        return source < 0 ? plan.InputLength : plan.Layers[source].Model.OutputLength;
    }

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

            w.Open($"if (from >= {layer.PreActivationPositionName} && to < {layer.PreActivationPositionName}{reach})");
            EmitInputGradient(w, plan, layer, writes);
            w.Close();
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
        : layer.Model.Kind == LayerKind.Dropout ? "Dropout shares the buffers of the layer it reads" : "Flatten shares the buffers of the layer below";

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
    public static void EmitInputGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string rows = "batch")
    {
        var m = layer.Model;
        var c = layer.ComputeLayer;
        string gradient = plan.PreActivationGradient(layer.Index);
        string below = plan.InputGradient(layer);
        string accumulate = writes.Accumulate(layer, 0);
        switch (layer.ComputeKind)
        {
            case LayerKind.Dense:
                w.Line($"global::NigGen.Kernels.DenseKernels.BackwardInput({gradient}, {layer.KernelField}.Weight, {below}, {rows}, inFeatures: {c.Model.InputLength}, outFeatures: {c.Model.OutputLength}{accumulate});");
                break;
            case LayerKind.Conv:
                w.Line($"global::NigGen.Kernels.ConvKernels.BackwardInput(in {c.GeometryName}, {gradient}, {layer.KernelField}.WeightTransposed, {below}, {rows}, ws.Scratch{accumulate});");
                break;
            case LayerKind.MaxPool or LayerKind.GlobalMaxPool:
                w.Line($"global::NigGen.Kernels.PoolKernels.MaxBackward(in {layer.GeometryName}, {gradient}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), {below}, {rows}{accumulate});");
                break;
            case LayerKind.AvgPool or LayerKind.GlobalAvgPool:
                w.Line($"global::NigGen.Kernels.PoolKernels.AvgBackward(in {layer.GeometryName}, {gradient}, {below}, {rows}{accumulate});");
                break;
            case LayerKind.BatchNorm:
                w.Line($"global::NigGen.Kernels.BatchNormKernels.BackwardInput({gradient}, {layer.Field}.Scale, {below}, {rows}, channels: {m.OutputShape[0]}, spatial: {m.OutputLength / m.OutputShape[0]}{accumulate});");
                break;
            case LayerKind.Flatten or LayerKind.Dropout:
                // A scored copy (LayerPlan.IsAlias): the identity's gradient.
                string copied = rows == "batch" ? gradient : $"{gradient}.Slice(0, {rows} * {layer.LengthName})";
                w.Line($"global::NigGen.Kernels.GraphKernels.AddBackward({copied}, {below}{accumulate});");
                break;
            case LayerKind.Add:
                for (int k = 0; k < m.Inputs.Count; k++)
                {
                    string rowsOfGradient = rows == "batch" ? gradient : $"{gradient}.Slice(0, {rows} * {layer.LengthName})";
                    w.Line($"global::NigGen.Kernels.GraphKernels.AddBackward({rowsOfGradient}, {plan.InputGradient(layer, k)}{writes.Accumulate(layer, k)});");
                    writes.EmitWritten(w, layer, k);
                }

                return;
            case LayerKind.Concat:
                int offset = 0;
                for (int k = 0; k < m.Inputs.Count; k++)
                {
                    int part = PartLength(plan, layer, k);
                    w.Line($"global::NigGen.Kernels.GraphKernels.ConcatBackward({gradient}, {plan.InputGradient(layer, k)}, {rows}, partLength: {part}, outputLength: {layer.LengthName}, offset: {offset}{writes.Accumulate(layer, k)});");
                    writes.EmitWritten(w, layer, k);
                    offset += part;
                }

                return;
        }

        writes.EmitWritten(w, layer, 0);
    }

    private static string ConvExtras(LayerModel m) =>
        (m.Spec.Dilation != 1 ? $", dilation {m.Spec.Dilation}" : string.Empty) + (m.Spec.Groups != 1 ? $", groups {m.Spec.Groups}" : string.Empty);

    public static string Describe(LayerModel m)
    {
        string shapes = $"{Shapes.Format(m.InputShape)} → {Shapes.Format(m.OutputShape)}";
        string activation = m.HasActivation ? ", " + m.Activation : string.Empty;
        return m.Kind switch
        {
            LayerKind.Dense => $"{m.Name}: Dense {shapes}{activation}",
            LayerKind.Conv => $"{m.Name}: Conv{m.SpatialRank}d kernel {m.Spec.Kernel}, stride {m.Spec.Stride}, padding {m.Spec.Padding}{ConvExtras(m)}: {shapes}{activation}",
            LayerKind.MaxPool => $"{m.Name}: MaxPool{m.SpatialRank}d {m.Spec.Size}, stride {m.PoolStride}{(m.Spec.Padding > 0 ? $", padding {m.Spec.Padding}" : "")}: {shapes}",
            LayerKind.AvgPool => $"{m.Name}: AvgPool{m.SpatialRank}d {m.Spec.Size}, stride {m.PoolStride}: {shapes}",
            LayerKind.Flatten => $"{m.Name}: Flatten {shapes}",
            _ => $"{m.Name}: {m.Kind} {shapes}{activation}",
        };
    }
}
