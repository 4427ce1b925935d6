using System.Linq;
using NigGen.Generator.Layers;
using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>
/// Writes DeepLIFT: the public methods (input features for every network, attribute-layer neurons where there are
/// any) and the DeepLIFT pass, a backward walk like BackwardLayers that carries multipliers instead of gradients. The
/// rules themselves are runtime kernels (DeepLiftKernels); the driver is DeepLiftAttribution.
/// </summary>
internal static class DeepLiftEmitter
{
    private const string Inputs = EmitPlan.WorkspaceInputs;

    public static void EmitPublicApi(SourceWriter w, EmitPlan plan)
    {
        w.Line("/// <summary>");
        w.Line("/// DeepLIFT attribution of output[<paramref name=\"target\"/>] to every input feature: multiplier × (x − x'), the multipliers");
        w.Line("/// carried from the output by <paramref name=\"rule\"/> (Captum's DeepLift conventions for Rescale, kundajelab/deeplift's for");
        w.Line("/// RevealCancel) from one forward pass over input and baseline and one backward pass. Returns the summation delta");
        w.Line("/// Σ attribution − (F(x) − F(x')), zero up to float rounding.");
        w.Line("/// </summary>");
        w.Line("public float DeepLiftInputs(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> attribution, global::NigGen.DeepLiftRule rule = global::NigGen.DeepLiftRule.Rescale) =>");
        w.Line($"    global::NigGen.Attribution.DeepLiftAttribution.Inputs(RentWorkspace(global::NigGen.Attribution.DeepLiftAttribution.Capacity), Description, input, baseline, target, attribution, {Rule(plan)});");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// DeepLIFT attribution to the input features for a batch: <paramref name=\"inputs\"/> holds n × InputLength floats,");
        w.Line("/// <paramref name=\"baselines\"/> one baseline per sample or a single one for all, <paramref name=\"targets\"/> n targets,");
        w.Line("/// <paramref name=\"attributions\"/> n × InputLength and <paramref name=\"deltas\"/> n floats.");
        w.Line("/// </summary>");
        w.Line("public void DeepLiftInputs(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> attributions, Span<float> deltas, global::NigGen.DeepLiftRule rule = global::NigGen.DeepLiftRule.Rescale) =>");
        w.Line($"    global::NigGen.Attribution.DeepLiftAttribution.Inputs(RentWorkspace(global::NigGen.Attribution.DeepLiftAttribution.Capacity), Description, inputs, baselines, targets, attributions, deltas, {Rule(plan)});");
        w.Line();
        if (!plan.HasAttributeLayers)
        {
            return;
        }

        w.Line("/// <summary>");
        w.Line("/// DeepLIFT importance of every neuron of every [AttributeLayer] for output[<paramref name=\"target\"/>], in the layout of");
        w.Line("/// NeuronIntegratedGradients: multiplier × (h(x) − h(x')), the multipliers carried from the output by <paramref name=\"rule\"/>");
        w.Line("/// (Captum's LayerDeepLift for Rescale, kundajelab/deeplift for RevealCancel) from one forward pass over input and");
        w.Line("/// baseline and one backward pass down to the earliest attribute layer. Returns the summation delta");
        w.Line("/// Σ importance − (F(x) − F(x')) of the attribute layer where it is largest in magnitude, zero up to float rounding.");
        w.Line("/// </summary>");
        w.Line("public float DeepLift(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance, global::NigGen.DeepLiftRule rule = global::NigGen.DeepLiftRule.Rescale) =>");
        w.Line($"    global::NigGen.Attribution.DeepLiftAttribution.Neurons(RentWorkspace(global::NigGen.Attribution.DeepLiftAttribution.Capacity), Description, input, baseline, target, importance, {Rule(plan)});");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// DeepLIFT importance for a batch of samples: <paramref name=\"inputs\"/> holds n × InputLength floats,");
        w.Line("/// <paramref name=\"baselines\"/> one baseline per sample or a single one for all, <paramref name=\"targets\"/> n targets,");
        w.Line("/// <paramref name=\"importances\"/> n × ImportanceLength and <paramref name=\"deltas\"/> n floats.");
        w.Line("/// </summary>");
        w.Line("public void DeepLift(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, global::NigGen.DeepLiftRule rule = global::NigGen.DeepLiftRule.Rescale) =>");
        w.Line($"    global::NigGen.Attribution.DeepLiftAttribution.Neurons(RentWorkspace(global::NigGen.Attribution.DeepLiftAttribution.Capacity), Description, inputs, baselines, targets, importances, deltas, {Rule(plan)});");
        w.Line();
    }

    public static void EmitWorkspaceMembers(SourceWriter w)
    {
        w.Line();
        w.Line("public override void DeepLift(global::NigGen.DeepLiftRule rule, int to, Span<float> importance) => Network.DeepLiftLayers(this, rule, to, importance);");
    }

    /// <summary>
    /// The first layer whose activation RevealCancel cannot handle: one that does not read a Dense or Conv layer's
    /// weighted sum (an Add, a Concat, an unfolded BatchNorm), so there are no positive and negative terms to split.
    /// </summary>
    public static LayerPlan? RevealCancelUndefinedAt(EmitPlan plan) =>
        plan.Layers.FirstOrDefault(l => l.Model.HasActivation && l.HasSteps && !l.ComputeRules.IsWeightedSum && RevealCancelSource(l) is null);

    /// <summary>
    /// For an unfolded BatchNorm with an activation that reads a Dense or Conv layer nothing else reads (kept apart because
    /// that layer is scored): the layer whose weighted sum's positive and negative terms RevealCancel splits, carried
    /// through the BatchNorm's scale (deeplift's BatchNormalization is linear: <c>BatchNormKernels.ScaleParts</c>).
    /// Null elsewhere.
    /// </summary>
    public static LayerPlan? RevealCancelSource(LayerPlan layer) =>
        layer.Rules.CarriesRevealCancelSplit && layer.Folds is null && layer.Model.HasActivation && layer.HasSteps
        && layer.Inputs[0] is { } source && source.Rules.IsWeightedSum && !source.Model.HasActivation
        && source.HasSteps && source.Consumers.Count == 1
            ? source : null;

    /// <summary>The BatchNorm that carries <paramref name="layer"/>'s terms to a RevealCancel activation, or null.</summary>
    private static LayerPlan? RevealCancelTarget(LayerPlan layer) =>
        layer.Consumers.Count == 1 && RevealCancelSource(layer.Consumers[0]) == layer ? layer.Consumers[0] : null;

    /// <summary>The local flag that says RevealCancel splits the terms of a weighted sum of this kind.</summary>
    private static string Flag(LayerRules weightedSum) => weightedSum.RevealCancelFlag!.Value.Flag;

    /// <summary>The rule argument as the public methods pass it on: checked first where RevealCancel is undefined.</summary>
    private static string Rule(EmitPlan plan) => RevealCancelUndefinedAt(plan) is null ? "rule" : "CheckDeepLiftRule(rule)";

    private static void EmitRuleCheck(SourceWriter w, EmitPlan plan)
    {
        if (RevealCancelUndefinedAt(plan) is not { } layer)
        {
            return;
        }

        w.Line($"// RevealCancel splits a weighted sum's positive and negative terms; {layer.Name}'s {layer.Model.Activation} reads no weighted sum.");
        w.Line("private static global::NigGen.DeepLiftRule CheckDeepLiftRule(global::NigGen.DeepLiftRule rule) =>");
        w.Line("    rule != global::NigGen.DeepLiftRule.RevealCancel ? rule : throw new ArgumentException(");
        w.Line($"        \"DeepLiftRule.RevealCancel is not defined at layer '{layer.Name}' ({layer.Model.Kind} with {layer.Model.Activation}): \" +");
        w.Line("        \"its activation does not follow a Dense or Conv layer's weighted sum. \" +");
        w.Line("        \"Use Rescale, or GenomicsDefault (RevealCancel after Dense layers only).\", nameof(rule));");
        w.Line();
    }

    public static void EmitPass(SourceWriter w, EmitPlan plan)
    {
        // The weighted-sum kinds RevealCancel splits here: under an activation, or through an unfolded BatchNorm's scale.
        var splitKinds = LayerRegistry.All.Where(kind => kind.RevealCancelFlag is not null && plan.Layers.Any(l =>
            (l.ComputeRules == kind && l.Model.HasActivation && l.HasSteps) || RevealCancelSource(l)?.Rules == kind)).ToList();
        EmitRuleCheck(w, plan);
        w.Line("// DeepLIFT from the target's multiplier (seeded in row 0 of the output gradient) down to position 'to'. Rows 0 and 1 of");
        w.Line("// the value buffers hold the forward pass over the input and the baseline; multipliers live in row 0 of the gradient");
        w.Line("// buffers, row 1 being scratch. Attribute layers are scored into 'importance' on the way unless it is empty.");
        w.Open("private void DeepLiftLayers(Workspace ws, global::NigGen.DeepLiftRule rule, int to, Span<float> importance)");
        w.Line("const int batch = 2;");
        if (plan.Layers.Any(l => l.HasSteps && l.ComputeRules.DeepLiftUsesGradientKernel))
        {
            w.Line("const int multiplierRows = 1; // the gradient kernels run on the input's row only");
        }

        foreach (var kind in splitKinds)
        {
            w.Line($"bool {kind.RevealCancelFlag!.Value.Flag} = {kind.RevealCancelFlag.Value.Condition};");
        }

        if (splitKinds.Count == 0)
        {
            w.Line(plan.Layers.Any(l => l.Model.HasActivation)
                ? "// No activation follows a weighted sum: every rule is Rescale here."
                : "// No activations: every layer is linear, and DeepLIFT's multipliers are the gradients whatever the rule.");
        }

        var writes = new GradientWrites(plan);
        writes.EmitDeclarations(w);
        for (int i = plan.Layers.Count - 1; i >= 0; i--)
        {
            w.Line();
            EmitLayer(w, plan, plan.Layers[i], writes);
        }

        w.Close();
        w.Line();
    }

    private static void EmitLayer(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes)
    {
        var m = layer.Model;
        int i = layer.Index;
        bool scored = m.Spec.Attribution != AttributionPoint.NotScored;
        string values = plan.Values(i, Inputs);
        string outputMultipliers = plan.OutputGradient(i);
        w.Line("// " + PassEmitter.Describe(m));
        if (!plan.ReachesOutput(layer))
        {
            // Its output reaches no output: its multipliers are zero, and nothing below receives any from it.
            if (scored)
            {
                w.Open("if (!importance.IsEmpty)");
                w.Line($"importance.Slice({layer.Pascal}ImportanceOffset, {layer.Pascal}ImportanceLength).Clear();");
                w.Close();
            }
            else
            {
                w.Line("// Its output flows into no output: nothing to do.");
            }

            return;
        }

        var batchNorm = RevealCancelTarget(layer);
        if (scored && !layer.ScoresPreActivation && batchNorm is not null)
        {
            // Under RevealCancel this output's positive and negative parts carry their own multipliers; what they
            // contribute, m⁺Δx⁺ + m⁻Δx⁻, is what reaches the BatchNorm's activation: its multiplier × Δy.
            w.Open($"if ({Flag(layer.Rules)})");
            EmitScore(w, layer, plan.OutputGradient(batchNorm.Index), plan.Values(batchNorm.Index, Inputs));
            w.Close();
            w.Open("else");
            EmitScore(w, layer, outputMultipliers, values);
            w.Close();
            w.Line();
        }
        else if (scored && !layer.ScoresPreActivation)
        {
            EmitScore(w, layer, outputMultipliers, values);
            w.Line();
        }

        if (!layer.HasSteps)
        {
            w.Line($"// {PassEmitter.NoSteps(layer)}; nothing to do.");
            return;
        }

        var rules = layer.ComputeRules;
        bool weighted = rules.IsWeightedSum;
        string pre = plan.PreActivationValues(i, Inputs);
        string preMultipliers = plan.PreActivationGradient(i);
        string below = plan.InputValues(layer, Inputs);
        if (m.HasActivation && weighted)
        {
            w.Open($"if (to < {layer.OutputPositionName})");
            w.Open($"if ({Flag(rules)})");
            w.Line(rules.RevealCancelSplit(layer.ComputeLayer, below, layer.KernelField, preMultipliers));
            w.Line($"global::NigGen.Kernels.DeepLiftKernels.RevealCancel(global::NigGen.Activation.{m.Activation}, {pre}, {values}, {outputMultipliers}, {preMultipliers});");
            if (layer.ScoresPreActivation)
            {
                // The neuron's positive and negative parts contribute m⁺Δx⁺ + m⁻Δx⁻ = multiplier of y × Δy.
                EmitScore(w, layer, outputMultipliers, values);
            }

            w.Close();
            w.Open("else");
            w.Line($"global::NigGen.Kernels.DeepLiftKernels.Rescale(global::NigGen.Activation.{m.Activation}, {pre}, {values}, {outputMultipliers}, {preMultipliers});");
            if (layer.ScoresPreActivation)
            {
                EmitScore(w, layer, preMultipliers, pre);
            }

            w.Close();
            w.Close();
            w.Line();
        }
        else if (m.HasActivation && RevealCancelSource(layer) is { } source)
        {
            // RevealCancel splits the source layer's terms and carries them through this BatchNorm's scale.
            string sourceInputs = plan.InputValues(source, Inputs);
            w.Open($"if (to < {layer.OutputPositionName})");
            w.Open($"if ({Flag(source.Rules)})");
            w.Line(source.Rules.RevealCancelSplit(source, sourceInputs, source.Field, preMultipliers));
            w.Line(layer.Rules.CarrySplitParts(layer, preMultipliers));
            w.Line($"global::NigGen.Kernels.DeepLiftKernels.RevealCancel(global::NigGen.Activation.{m.Activation}, {pre}, {values}, {outputMultipliers}, {preMultipliers});");
            if (layer.ScoresPreActivation)
            {
                EmitScore(w, layer, outputMultipliers, values);
            }

            w.Close();
            w.Open("else");
            w.Line($"global::NigGen.Kernels.DeepLiftKernels.Rescale(global::NigGen.Activation.{m.Activation}, {pre}, {values}, {outputMultipliers}, {preMultipliers});");
            if (layer.ScoresPreActivation)
            {
                EmitScore(w, layer, preMultipliers, pre);
            }

            w.Close();
            w.Close();
            w.Line();
            w.Open($"if (to < {layer.PreActivationPositionName})");
            w.Open($"if ({Flag(source.Rules)})");
            w.Line("// The parts' multipliers back through the scale, into the source layer's two rows (m⁺, m⁻).");
            w.Line(layer.Rules.CarrySplitMultipliersBack(layer, preMultipliers));
            w.Line($"{preMultipliers}.CopyTo({plan.InputGradient(layer)});");
            w.Close();
            w.Open("else");
            PassEmitter.EmitInputGradient(w, plan, layer, writes, rows: "multiplierRows");
            w.Close();
            w.Close();
            return;
        }
        else if (m.HasActivation)
        {
            w.Open($"if (to < {layer.OutputPositionName})");
            w.Line($"global::NigGen.Kernels.DeepLiftKernels.Rescale(global::NigGen.Activation.{m.Activation}, {pre}, {values}, {outputMultipliers}, {preMultipliers});");
            if (layer.ScoresPreActivation)
            {
                EmitScore(w, layer, preMultipliers, pre);
            }

            w.Close();
            w.Line();
        }

        if (!plan.WritesInputGradients(layer))
        {
            rules.EmitDeepLift(w, plan, layer, writes); // only says where its inputs read the multipliers
            return;
        }

        w.Open($"if (to < {layer.PreActivationPositionName})");
        if (weighted && (batchNorm is not null || m.HasActivation))
        {
            // Below a RevealCancel activation (its own, or the BatchNorm's it feeds) the terms take their own multipliers.
            EmitRevealCancelOrLinear(w, plan, layer, writes, Flag(rules), target => rules.RevealCancelBackward(layer, preMultipliers, below, target));
        }
        else
        {
            rules.EmitDeepLift(w, plan, layer, writes);
        }

        w.Close();
    }

    // Below a RevealCancel activation the layer's positive and negative terms take their own multipliers; otherwise
    // multipliers pass through a linear layer as gradients do.
    private static void EmitRevealCancelOrLinear(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, string flag, System.Func<string, string> revealCancel)
    {
        w.Open($"if ({flag})");
        EmitIntoGradient(w, plan, layer, writes, revealCancel);
        w.Close();
        w.Open("else");
        PassEmitter.EmitInputGradient(w, plan, layer, writes, rows: "multiplierRows");
        w.Close();
    }

    // A DeepLIFT kernel writes its input's multipliers; where another layer has already written that buffer in this
    // pass, it writes into the join scratch instead and its row is added.
    internal static void EmitIntoGradient(SourceWriter w, EmitPlan plan, LayerPlan layer, GradientWrites writes, System.Func<string, string> call)
    {
        string target = plan.InputGradient(layer);
        if (!writes.IsShared(layer, 0))
        {
            w.Line(call(target));
            return;
        }

        int source = plan.GradientOwner(layer.SourceIndex(0));
        string length = source < 0 ? "InputLength" : plan.Layers[source].LengthName;
        w.Open($"if ({writes.FlagOf(layer, 0)})");
        w.Line(call($"ws.JoinScratch.AsSpan(0, batch * {length})"));
        w.Line($"global::NigGen.Kernels.GraphKernels.AddBackward(ws.JoinScratch.AsSpan(0, {length}), {target}, accumulate: true);");
        w.Close();
        w.Open("else");
        w.Line(call(target));
        w.Close();
        writes.EmitWritten(w, layer, 0);
    }

    private static void EmitScore(SourceWriter w, LayerPlan layer, string multipliers, string values)
    {
        w.Open("if (!importance.IsEmpty)");
        w.Line($"global::NigGen.Kernels.DeepLiftKernels.Contributions({multipliers}, {values}, importance.Slice({layer.Pascal}ImportanceOffset, {layer.Pascal}ImportanceLength));");
        w.Close();
    }
}
