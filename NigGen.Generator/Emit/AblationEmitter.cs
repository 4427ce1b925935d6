using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>
/// Writes the two tools of a neuron-ranking comparison: gradient × activation, the cheapest ranking, and ablation, the
/// check of any ranking. Ablation needs its own forward pass: the same kernel calls as ForwardLayers over the input
/// (row 0) and the baseline (row 1), with the chosen neurons of row 0 set to row 1's values at each attribute layer
/// before the layers above read them. Only networks with an [AttributeLayer] get them.
/// </summary>
internal static class AblationEmitter
{
    public static void EmitPublicApi(SourceWriter w, EmitPlan plan)
    {
        if (!plan.HasAttributeLayers)
        {
            return;
        }

        w.Line("/// <summary>");
        w.Line("/// Gradient × activation of every neuron of every [AttributeLayer] for output[<paramref name=\"target\"/>]: ∂F/∂h · h, in the");
        w.Line("/// layout of NeuronIntegratedGradients, from one forward pass and one backward pass down to the earliest attribute layer.");
        w.Line("/// The cheapest ranking; it has no baseline and no completeness property.");
        w.Line("/// </summary>");
        w.Line("public void GradientTimesActivation(ReadOnlySpan<float> input, int target, Span<float> importance) =>");
        w.Line("    global::NigGen.Attribution.GradientAttribution.GradientTimesActivation(RentWorkspace(1), Description, input, target, importance);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// The network's output (OutputLength floats) for <paramref name=\"input\"/> with the listed <paramref name=\"neurons\"/>");
        w.Line("/// (indices into the importance vector) fixed to their values at <paramref name=\"baseline\"/>: each attribute layer takes");
        w.Line("/// the baseline's values for them before the layers above read it. The test of a neuron ranking.");
        w.Line("/// </summary>");
        w.Line("public void Ablate(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, ReadOnlySpan<int> neurons, Span<float> output) =>");
        w.Line("    global::NigGen.Attribution.NeuronAblation.Ablate(RentWorkspace(global::NigGen.Attribution.NeuronAblation.Capacity), Description, input, baseline, neurons, output);");
        w.Line();
    }

    public static void EmitWorkspaceMembers(SourceWriter w, EmitPlan plan)
    {
        if (plan.HasAttributeLayers)
        {
            w.Line();
            w.Line("public override void ForwardAblated(ReadOnlySpan<int> neurons) => Network.AblatedForwardLayers(this, neurons);");
        }
    }

    public static void EmitPass(SourceWriter w, EmitPlan plan)
    {
        if (!plan.HasAttributeLayers)
        {
            return;
        }

        w.Line("// ForwardLayers over the input (row 0) and the baseline (row 1), except that the listed neurons of row 0 take row 1's");
        w.Line("// values at every attribute layer before the layers above read them.");
        w.Open("private void AblatedForwardLayers(Workspace ws, ReadOnlySpan<int> neurons)");
        w.Line("const int batch = 2;");
        w.Line("var input = ws.Inputs.AsSpan(0, batch * InputLength);");
        foreach (var layer in plan.Layers)
        {
            var m = layer.Model;
            string pre = plan.PreActivationValues(layer.Index, "input");
            string values = plan.Values(layer.Index, "input");
            w.Line();
            if (layer.FoldedInto is not null)
            {
                w.Line($"// {layer.Name}: {PassEmitter.NoSteps(layer)}.");
                continue;
            }

            w.Line("// " + PassEmitter.Describe(m));

            // The kernel calls of ForwardLayers, so that ablating no neuron gives Forward's output.
            PassEmitter.EmitLayerKernel(w, plan, layer, "input");
            if (layer.ScoresPreActivation)
            {
                w.Line($"global::NigGen.Attribution.NeuronAblation.FixToBaseline({pre}, neurons, {layer.Pascal}ImportanceOffset);");
            }

            if (m.HasActivation)
            {
                w.Line($"global::NigGen.Kernels.ActivationKernels.{m.Activation}({pre}, {values});");
            }

            if (m.Spec.Attribution == AttributionPoint.Output)
            {
                w.Line($"global::NigGen.Attribution.NeuronAblation.FixToBaseline({values}, neurons, {layer.Pascal}ImportanceOffset);");
            }
        }

        w.Close();
        w.Line();
    }
}
