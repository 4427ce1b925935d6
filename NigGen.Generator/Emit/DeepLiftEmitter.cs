using System.Linq;
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
        w.Line("public float DeepLiftInputs(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> attribution, DeepLiftRule rule = DeepLiftRule.Rescale) =>");
        w.Line("    DeepLiftAttribution.Inputs(RentWorkspace(DeepLiftAttribution.Capacity), Description, input, baseline, target, attribution, rule);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// DeepLIFT attribution to the input features for a batch: <paramref name=\"inputs\"/> holds n × InputLength floats,");
        w.Line("/// <paramref name=\"baselines\"/> one baseline per sample or a single one for all, <paramref name=\"targets\"/> n targets,");
        w.Line("/// <paramref name=\"attributions\"/> n × InputLength and <paramref name=\"deltas\"/> n floats.");
        w.Line("/// </summary>");
        w.Line("public void DeepLiftInputs(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> attributions, Span<float> deltas, DeepLiftRule rule = DeepLiftRule.Rescale) =>");
        w.Line("    DeepLiftAttribution.Inputs(RentWorkspace(DeepLiftAttribution.Capacity), Description, inputs, baselines, targets, attributions, deltas, rule);");
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
        w.Line("public float DeepLift(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance, DeepLiftRule rule = DeepLiftRule.Rescale) =>");
        w.Line("    DeepLiftAttribution.Neurons(RentWorkspace(DeepLiftAttribution.Capacity), Description, input, baseline, target, importance, rule);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// DeepLIFT importance for a batch of samples: <paramref name=\"inputs\"/> holds n × InputLength floats,");
        w.Line("/// <paramref name=\"baselines\"/> one baseline per sample or a single one for all, <paramref name=\"targets\"/> n targets,");
        w.Line("/// <paramref name=\"importances\"/> n × ImportanceLength and <paramref name=\"deltas\"/> n floats.");
        w.Line("/// </summary>");
        w.Line("public void DeepLift(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, DeepLiftRule rule = DeepLiftRule.Rescale) =>");
        w.Line("    DeepLiftAttribution.Neurons(RentWorkspace(DeepLiftAttribution.Capacity), Description, inputs, baselines, targets, importances, deltas, rule);");
        w.Line();
    }

    public static void EmitWorkspaceMembers(SourceWriter w)
    {
        w.Line();
        w.Line("public override void DeepLift(DeepLiftRule rule, int to, Span<float> importance) => Network.DeepLiftLayers(this, rule, to, importance);");
    }

    public static void EmitPass(SourceWriter w, EmitPlan plan)
    {
        bool denseActivations = plan.Layers.Any(l => l.Model.Kind == LayerKind.Dense && l.Model.HasActivation);
        bool convActivations = plan.Layers.Any(l => l.Model.Kind == LayerKind.Conv && l.Model.HasActivation);
        w.Line("// DeepLIFT from the target's multiplier (seeded in row 0 of the output gradient) down to position 'to'. Rows 0 and 1 of");
        w.Line("// the value buffers hold the forward pass over the input and the baseline; multipliers live in row 0 of the gradient");
        w.Line("// buffers, row 1 being scratch. Attribute layers are scored into 'importance' on the way unless it is empty.");
        w.Open("private void DeepLiftLayers(Workspace ws, DeepLiftRule rule, int to, Span<float> importance)");
        w.Line("const int batch = 2;");
        if (plan.Layers.Any(l => l.Model.Kind is LayerKind.Dense or LayerKind.Conv or LayerKind.AvgPool))
        {
            w.Line("const int multiplierRows = 1; // the gradient kernels run on the input's row only");
        }

        if (denseActivations)
        {
            w.Line("bool revealCancelAfterDense = rule is DeepLiftRule.RevealCancel or DeepLiftRule.GenomicsDefault;");
        }

        if (convActivations)
        {
            w.Line("bool revealCancelAfterConv = rule is DeepLiftRule.RevealCancel;");
        }

        if (!denseActivations && !convActivations)
        {
            w.Line("// No activations: every layer is linear, and DeepLIFT's multipliers are the gradients whatever the rule.");
        }

        for (int i = plan.Layers.Count - 1; i >= 0; i--)
        {
            w.Line();
            EmitLayer(w, plan, plan.Layers[i]);
        }

        w.Close();
        w.Line();
    }

    private static void EmitLayer(SourceWriter w, EmitPlan plan, LayerPlan layer)
    {
        var m = layer.Model;
        int i = layer.Index;
        bool scored = m.Spec.Attribution != AttributionPoint.NotScored;
        string values = plan.Values(i, Inputs);
        string outputMultipliers = plan.OutputGradient(i);
        w.Line("// " + PassEmitter.Describe(m));
        if (scored && !layer.ScoresPreActivation)
        {
            EmitScore(w, layer, outputMultipliers, values);
            w.Line();
        }

        if (m.Kind == LayerKind.Flatten)
        {
            w.Line("// Flatten shares the buffers of the layer below; nothing to do.");
            return;
        }

        string pre = plan.PreActivationValues(i, Inputs);
        string preMultipliers = plan.PreActivationGradient(i);
        string below = plan.Values(i - 1, Inputs);
        string belowMultipliers = plan.OutputGradient(i - 1);
        string flag = m.Kind == LayerKind.Dense ? "revealCancelAfterDense" : "revealCancelAfterConv";
        if (m.HasActivation)
        {
            w.Open($"if (to < {layer.OutputPositionName})");
            w.Open($"if ({flag})");
            w.Line(m.Kind == LayerKind.Dense
                ? $"DeepLiftKernels.SplitDense({below}, {layer.Field}.WeightTransposed, {preMultipliers}, inFeatures: {m.InputLength}, outFeatures: {m.OutputLength});"
                : $"DeepLiftKernels.SplitConv(in {layer.GeometryName}, {below}, {layer.Field}.Weight, {preMultipliers});");
            w.Line($"DeepLiftKernels.RevealCancel(Activation.{m.Activation}, {pre}, {values}, {outputMultipliers}, {preMultipliers});");
            if (layer.ScoresPreActivation)
            {
                // The neuron's positive and negative parts contribute m⁺Δx⁺ + m⁻Δx⁻ = multiplier of y × Δy.
                EmitScore(w, layer, outputMultipliers, values);
            }

            w.Close();
            w.Open("else");
            w.Line($"DeepLiftKernels.Rescale(Activation.{m.Activation}, {pre}, {values}, {outputMultipliers}, {preMultipliers});");
            if (layer.ScoresPreActivation)
            {
                EmitScore(w, layer, preMultipliers, pre);
            }

            w.Close();
            w.Close();
            w.Line();
        }

        w.Open($"if (to < {layer.PreActivationPositionName})");
        switch (m.Kind)
        {
            case LayerKind.Dense:
                string dense = $"DenseKernels.BackwardInput({preMultipliers}, {layer.Field}.Weight, {belowMultipliers}, multiplierRows, inFeatures: {m.InputLength}, outFeatures: {m.OutputLength});";
                EmitLinear(w, m.HasActivation, flag, $"DeepLiftKernels.DenseRevealCancelBackward({preMultipliers}, {layer.Field}.Weight, {below}, {belowMultipliers}, inFeatures: {m.InputLength}, outFeatures: {m.OutputLength});", dense);
                break;
            case LayerKind.Conv:
                string conv = $"ConvKernels.BackwardInput(in {layer.GeometryName}, {preMultipliers}, {layer.Field}.WeightTransposed, {belowMultipliers}, multiplierRows, ws.Scratch);";
                EmitLinear(w, m.HasActivation, flag, $"DeepLiftKernels.ConvRevealCancelBackward(in {layer.GeometryName}, {preMultipliers}, {layer.Field}.Weight, {below}, {belowMultipliers});", conv);
                break;
            case LayerKind.MaxPool:
                w.Line($"DeepLiftKernels.MaxPool(in {layer.GeometryName}, {below}, {values}, ws.{layer.Pascal}Argmax.AsSpan(0, batch * {layer.LengthName}), {outputMultipliers}, {belowMultipliers});");
                break;
            case LayerKind.AvgPool:
                w.Line($"PoolKernels.AvgBackward(in {layer.GeometryName}, {outputMultipliers}, {belowMultipliers}, multiplierRows);");
                break;
        }

        w.Close();
    }

    // Below a RevealCancel activation the layer's positive and negative terms take their own multipliers; otherwise
    // multipliers pass through a linear layer as gradients do.
    private static void EmitLinear(SourceWriter w, bool hasActivation, string flag, string revealCancel, string linear)
    {
        if (!hasActivation)
        {
            w.Line(linear);
            return;
        }

        w.Open($"if ({flag})");
        w.Line(revealCancel);
        w.Close();
        w.Open("else");
        w.Line(linear);
        w.Close();
    }

    private static void EmitScore(SourceWriter w, LayerPlan layer, string multipliers, string values)
    {
        w.Open("if (!importance.IsEmpty)");
        w.Line($"DeepLiftKernels.Contributions({multipliers}, {values}, importance.Slice({layer.Pascal}ImportanceOffset, {layer.Pascal}ImportanceLength));");
        w.Close();
    }
}
