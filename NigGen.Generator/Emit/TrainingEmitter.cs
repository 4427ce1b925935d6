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
            var (what, consequence) = untrainable.Rules.UntrainableAsOutput!.Value;
            w.Line($"/// <summary>Not supported for this network: its output is {what}.</summary>");
            w.Line($"/// <exception cref=\"NotSupportedException\">Always: layer '{untrainable.Name}' is the output and {what}.</exception>");
            w.Line("public global::NigGen.Training.Trainer CreateTrainer(global::NigGen.Training.TrainingOptions options) => throw new NotSupportedException(");
            w.Line($"    \"{plan.Model.ClassName} cannot be trained: its output '{untrainable.Name}' is {what}, {consequence}. Declare the logits layer last.\");");
            w.Line();
            return;
        }

        // Training's passes use their own plan: BatchNorm with batch statistics (nothing folded) and Dropout's masks.
        var training = new EmitPlan(plan.Model, training: true);
        EmitCreateTrainer(w, plan);
        bool folds = plan.Layers.Any(l => l.Folds is not null);
        EmitForward(w, training, folds);
        EmitBackward(w, training);
        EmitRefold(w, plan);
        EmitState(w, training, folds);
    }

    /// <summary>The buffers training's passes need that inference's do not: folded layers' own outputs, and Dropout's.</summary>
    public static System.Collections.Generic.IEnumerable<LayerPlan> TrainingOnlyBuffers(EmitPlan plan)
    {
        if (!plan.ParameterLayers.Any() || plan.UntrainableLayer is not null)
        {
            return [];
        }

        var training = new EmitPlan(plan.Model, training: true);
        return training.Layers.Where(l => l.OwnsBuffers && !plan.Layers[l.Index].OwnsBuffers);
    }

    /// <summary>The layers (Dropout) whose masks a trainer's workspace holds.</summary>
    public static System.Collections.Generic.IEnumerable<LayerPlan> DropoutMasks(EmitPlan plan) =>
        !plan.ParameterLayers.Any() || plan.UntrainableLayer is not null ? [] : plan.Layers.Where(l => l.Rules.HasTrainingMask);

    private static void EmitForward(SourceWriter w, EmitPlan plan, bool folds)
    {
        if (!plan.Layers.Any(l => l.Rules.HasTrainingForward))
        {
            return;
        }

        w.Line("// Training's forward pass: ForwardLayers' kernels, except that BatchNorm normalises with the batch's statistics (and");
        w.Line("// updates its running ones, as PyTorch's train mode does) and Dropout zeroes elements with a mask drawn from the seed.");
        w.Open("private void TrainingForwardLayers(Workspace ws, int batch, TrainingState state, long step, int firstSample)");
        foreach (var layer in plan.Layers)
        {
            var m = layer.Model;
            if (layer.Index > 0)
            {
                w.Line();
            }

            w.Line("// " + PassEmitter.Describe(m));
            string source = plan.InputValues(layer, EmitPlan.WorkspaceInputs);
            string pre = plan.PreActivationValues(layer.Index, EmitPlan.WorkspaceInputs);
            // Nothing is folded in training's plan: every layer computes with its own kind's kernels.
            layer.Rules.EmitTrainingForward(w, plan, layer, source, pre);

            if (m.HasActivation)
            {
                w.Line($"global::NigGen.Kernels.ActivationKernels.{m.Activation}({pre}, {plan.Values(layer.Index, EmitPlan.WorkspaceInputs)});");
            }
        }

        if (folds)
        {
            w.Line();
            w.Line("// The running statistics moved: the inference passes' folded weights follow them.");
            w.Line("RefoldBatchNorms();");
        }

        w.Close();
        w.Line();
    }

    private static void EmitRefold(SourceWriter w, EmitPlan plan)
    {
        var folded = plan.Layers.Where(l => l.Folds is not null).ToList();
        if (folded.Count == 0)
        {
            return;
        }

        w.Line("// After training changed a folded pair's parameters or statistics, the inference passes' folded weights follow them.");
        w.Open("private void RefoldBatchNorms()");
        foreach (var layer in folded)
        {
            w.Line($"this.{layer.FoldedFieldName}.Refold({layer.Folds!.Field}, {layer.Field});");
        }

        w.Close();
        w.Line();
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
        w.Line("public global::NigGen.Training.Trainer CreateTrainer(global::NigGen.Training.TrainingOptions options) =>");
        w.Line("    new(new TrainingState(this, options?.Seed ?? 0), options!);");
        w.Line();
    }

    private static void EmitBackward(SourceWriter w, EmitPlan plan)
    {
        int lowest = plan.TrainedLayers.First().Index;
        w.Line($"// Training's backward pass, from the loss gradient in the output gradient down to {plan.Layers[lowest].Name}, the input-most parameter");
        w.Line("// layer, adding every Dense, Conv and BatchNorm layer's parameter gradients to 'state' on the way.");
        w.Open("private void TrainingBackwardLayers(Workspace ws, int batch, TrainingState state)");
        // Below the input-most trained layer nothing needs a gradient; a BatchNorm there still writes its input's (its
        // kernel computes it with γ's and β's).
        bool Writes(LayerPlan l) => l.Index > lowest || l.Rules.AlwaysWritesTrainingInputGradient;
        var writes = new GradientWrites(plan, l => l.Index >= lowest && Writes(l) && l.HasSteps && plan.ReachesOutput(l));
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

            // Below the input-most parameter layer nothing needs a gradient.
            layer.Rules.EmitTrainingBackward(w, plan, layer, writes, inputGradient: i > lowest);
        }

        w.Close();
        w.Line();
    }

    private static void EmitState(SourceWriter w, EmitPlan plan, bool folds)
    {
        string name = plan.Model.ClassName;
        var layers = plan.TrainedLayers.ToList();
        var head = plan.ParameterLayers.Last();
        bool ownForward = plan.Layers.Any(l => l.Rules.HasTrainingForward);
        bool masks = plan.Layers.Any(l => l.Rules.HasTrainingMask);
        w.Line("// A trainer's workspace (its own, not a thread's) and every trained layer's gradients, which TrainingBackwardLayers fills.");
        w.Open("private sealed class TrainingState : global::NigGen.Training.TrainingPass");
        w.Line("// Weight-gradient scratch: a block's transposed output gradient of the widest Dense layer (per sample), or one");
        w.Line("// sample's im2col columns and transposed output gradient of the largest convolution.");
        w.Line($"private const int DenseScratchPerSample = {plan.DenseGradientScratchPerSample};");
        var scratches = plan.Layers.Select(l => l.Rules.WeightGradientScratchLength(l)).OfType<string>().ToList();
        w.Line(scratches.Count == 0
            ? "private const int ConvScratch = 0;"
            : $"private static readonly int ConvScratch = {NetworkEmitter.MaxOf(scratches)};");
        w.Line();
        w.Line($"private readonly {name} _network;");
        w.Line("private Workspace _workspace;");
        w.Line("public float[] Scratch;");
        foreach (var layer in layers)
        {
            w.Line($"public readonly global::NigGen.Training.LayerGradients {layer.Pascal}Gradients;");
        }

        foreach (var layer in plan.Layers)
        {
            layer.Rules.EmitTrainingState(w, layer);
        }

        if (masks)
        {
            w.Line("public readonly ulong Seed;");
        }

        w.Line();
        w.Open($"public TrainingState({name} network, int seed) : base({name}.Description, headName: \"{head.Name}\", headActivation: global::NigGen.Activation.{head.Model.Activation})");
        w.Line("_network = network;");
        w.Line("_workspace = new Workspace(Capacity, training: true) { Network = network };");
        w.Line("Scratch = new float[Math.Max(Capacity * DenseScratchPerSample, ConvScratch)];");
        if (masks)
        {
            w.Line("Seed = (ulong)seed;");
        }

        foreach (var layer in layers)
        {
            // The convolution kernel produces its weight gradient in the transposed layout [in·k…, out].
            string transposed = layer.Rules.WeightGradientTransposed ? "true" : "false";
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
        if (plan.TrainsOnWholeBatch)
        {
            w.Line();
            w.Line("// BatchNorm's batch statistics cover the whole batch: the workspace grows to hold it.");
            w.Line("public override bool WholeBatch => true;");
            w.Line();
            w.Line("public override int Capacity => _workspace?.Capacity ?? base.Capacity;");
            w.Line();
            w.Open("public override void Reserve(int batch)");
            w.Open("if (batch > _workspace.Capacity)");
            w.Line("_workspace = new Workspace(batch, training: true) { Network = _network };");
            w.Line("Scratch = new float[Math.Max(batch * DenseScratchPerSample, ConvScratch)];");
            w.Close();
            w.Close();
        }

        if (ownForward)
        {
            w.Line();
            w.Line("public override void TrainingForward(int batch, long step, int firstSample) =>");
            w.Line("    _network.TrainingForwardLayers(_workspace, batch, this, step, firstSample);");
        }

        if (folds)
        {
            w.Line();
            w.Line("public override void AfterUpdate() => _network.RefoldBatchNorms();");
        }

        w.Close();
        w.Line();
    }
}
