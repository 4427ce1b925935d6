using System.Linq;
using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>
/// Writes in-process training for networks with a Dense or Conv layer: <c>CreateTrainer</c>, the training backward pass
/// and the state it fills. The pass walks from the loss gradient at the output down to the input-most parameter layer
/// (not to the attribute layers, as BackwardLayers does), and at every Dense and Conv layer also adds the weight and bias
/// gradients; it reuses the backward kernel calls of <see cref="PassEmitter"/>. The loss, the batching and Adam live in
/// NigGen.Runtime (Trainer). The runtime's training types are written fully qualified: a user's own Trainer or
/// TrainingOptions beside the network (a sample's command, say) must not capture them.
/// </summary>
internal static class TrainingEmitter
{
    public static void Emit(SourceWriter w, EmitPlan plan)
    {
        if (!plan.ParameterLayers.Any())
        {
            return;
        }

        if (plan.UntrainableLayer is { } untrainable)
        {
            // Training with batch statistics (BatchNorm) and random masks (Dropout) is not built yet: say so by name
            // rather than train a different network.
            w.Line("/// <summary>Not supported for this network yet: training a BatchNorm or Dropout layer.</summary>");
            w.Line($"/// <exception cref=\"NotSupportedException\">Always: layer '{untrainable.Name}' is a {untrainable.Model.Kind} layer.</exception>");
            w.Line("public global::NigGen.Training.Trainer CreateTrainer(global::NigGen.Training.TrainingOptions options) => throw new NotSupportedException(");
            w.Line($"    \"{plan.Model.ClassName} cannot be trained in process yet: layer '{untrainable.Name}' is a {untrainable.Model.Kind} layer, and NigGen does not train BatchNorm or Dropout layers yet. Train it in PyTorch and load its state_dict.\");");
            w.Line();
            return;
        }

        EmitCreateTrainer(w, plan);
        EmitBackward(w, plan);
        EmitState(w, plan);
    }

    private static void EmitCreateTrainer(SourceWriter w, EmitPlan plan)
    {
        var head = plan.ParameterLayers.Last();
        w.Line("/// <summary>");
        w.Line("/// Creates a trainer that fits this network's Dense and Conv parameters in place with Adam: each <see cref=\"global::NigGen.Training.Trainer.Step\"/>");
        w.Line("/// takes a batch of inputs and targets, returns its mean loss and updates every parameter. The loss reads the output as");
        w.Line($"/// logits, so the head '{head.Name}' must have no activation. While a trainer steps this network, no other thread may use it.");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"ArgumentException\">An option is out of its range.</exception>");
        w.Line($"/// <exception cref=\"InvalidOperationException\">The head '{head.Name}' applies an activation, so the output is not logits.</exception>");
        w.Line("public global::NigGen.Training.Trainer CreateTrainer(global::NigGen.Training.TrainingOptions options) => new(new TrainingState(this), options);");
        w.Line();
    }

    private static void EmitBackward(SourceWriter w, EmitPlan plan)
    {
        int lowest = plan.ParameterLayers.First().Index;
        w.Line($"// Training's backward pass, from the loss gradient in the output gradient down to {plan.Layers[lowest].Name}, the input-most parameter");
        w.Line("// layer, adding every Dense and Conv layer's weight and bias gradients to 'state' on the way.");
        w.Open("private void TrainingBackwardLayers(Workspace ws, int batch, TrainingState state)");
        var writes = new GradientWrites(plan);
        writes.EmitDeclarations(w);
        for (int i = plan.Layers.Count - 1; i >= lowest; i--)
        {
            var layer = plan.Layers[i];
            var m = layer.Model;
            w.Line("// " + PassEmitter.Describe(m));
            if (!layer.HasSteps || !plan.ReachesOutput(layer))
            {
                w.Line(layer.HasSteps ? "// Its output flows into no output: no gradient." : $"// {PassEmitter.NoSteps(layer)}; nothing to do.");
                w.Line();
                continue;
            }

            if (m.HasActivation)
            {
                PassEmitter.EmitActivationGradient(w, plan, layer);
            }

            string input = plan.InputValues(layer, EmitPlan.WorkspaceInputs);
            string gradient = plan.PreActivationGradient(i);
            string gradients = $"state.{layer.Pascal}Gradients";
            switch (m.Kind)
            {
                case LayerKind.Dense:
                    w.Line($"global::NigGen.Kernels.DenseKernels.BackwardWeight({input}, {gradient}, {gradients}.WeightAccumulator, {gradients}.BiasAccumulator, batch, inFeatures: {m.InputLength}, outFeatures: {m.OutputLength}, state.Scratch);");
                    break;
                case LayerKind.Conv:
                    w.Line($"global::NigGen.Kernels.ConvKernels.BackwardWeight(in {layer.GeometryName}, {input}, {gradient}, {gradients}.WeightAccumulator, {gradients}.BiasAccumulator, batch, state.Scratch);");
                    break;
            }

            // Below the input-most parameter layer nothing needs a gradient.
            if (i > lowest)
            {
                PassEmitter.EmitInputGradient(w, plan, layer, writes);
                w.Line();
            }
        }

        w.Close();
        w.Line();
    }

    private static void EmitState(SourceWriter w, EmitPlan plan)
    {
        string name = plan.Model.ClassName;
        var layers = plan.ParameterLayers.ToList();
        var head = layers[layers.Count - 1];
        w.Line("// A trainer's workspace (its own, not a thread's) and every Dense and Conv layer's gradients, which TrainingBackwardLayers fills.");
        w.Open("private sealed class TrainingState : global::NigGen.Training.TrainingPass");
        w.Line("// Weight-gradient scratch: a block's transposed output gradient of the widest Dense layer (per sample), or one");
        w.Line("// sample's im2col columns and transposed output gradient of the largest convolution.");
        w.Line($"private const int DenseScratchPerSample = {plan.DenseGradientScratchPerSample};");
        var convolutions = plan.Layers.Where(l => l.Model.Kind == LayerKind.Conv).ToList();
        w.Line(convolutions.Count == 0
            ? "private const int ConvScratch = 0;"
            : $"private static readonly int ConvScratch = {NetworkEmitter.MaxOf(convolutions.Select(l => l.GeometryName + ".WeightGradientScratchLength"))};");
        w.Line();
        w.Line($"private readonly {name} _network;");
        w.Line("private readonly Workspace _workspace;");
        w.Line("public readonly float[] Scratch;");
        foreach (var layer in layers)
        {
            w.Line($"public readonly global::NigGen.Training.LayerGradients {layer.Pascal}Gradients;");
        }

        w.Line();
        w.Open($"public TrainingState({name} network) : base({name}.Description, headName: \"{head.Name}\", headActivation: global::NigGen.Activation.{head.Model.Activation})");
        w.Line("_network = network;");
        w.Line("_workspace = new Workspace(Capacity) { Network = network };");
        w.Line("Scratch = new float[Math.Max(Capacity * DenseScratchPerSample, ConvScratch)];");
        foreach (var layer in layers)
        {
            // The convolution kernel produces its weight gradient in the transposed layout [in·k…, out].
            string transposed = layer.Model.Kind == LayerKind.Conv ? "true" : "false";
            w.Line($"{layer.Pascal}Gradients = new({layer.FieldOf("network")}, transposed: {transposed});");
        }

        w.Line($"Layers = [{string.Join(", ", layers.Select(l => l.Pascal + "Gradients"))}];");
        w.Close();
        w.Line();
        w.Line("public override global::NigGen.Attribution.NetworkWorkspace Workspace => _workspace;");
        w.Line();
        w.Line("public override System.Collections.Generic.IReadOnlyList<global::NigGen.Training.LayerGradients> Layers { get; }");
        w.Line();
        w.Line("public override void Backward(int batch) => _network.TrainingBackwardLayers(_workspace, batch, this);");
        w.Close();
        w.Line();
    }
}
