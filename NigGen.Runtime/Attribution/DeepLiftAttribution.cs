using System;
using System.ComponentModel;

namespace NigGen.Attribution;

/// <summary>
/// DeepLIFT, written once for every generated network: argument checks, the forward pass over the input and the
/// baseline (rows 0 and 1 of the workspace), the seed of the target's multiplier, and the summation delta. The
/// generated DeepLIFT pass (<see cref="NetworkWorkspace.DeepLift"/>) applies the rules layer by layer in between.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DeepLiftAttribution
{
    /// <summary>Workspace capacity DeepLIFT needs: the input and the baseline.</summary>
    public const int Capacity = 2;

    /// <summary>DeepLIFT importance of every attribute-layer neuron of one sample; returns the summation delta (see the generated method).</summary>
    public static float Neurons(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance, DeepLiftRule rule)
    {
        network.RequireSample(input.Length, nameof(input));
        network.RequireSample(baseline.Length, nameof(baseline));
        network.RequireTarget(target);
        network.RequireLength(importance.Length, network.ImportanceLength, nameof(importance), "ImportanceLength");
        network.RequireFinite(input, nameof(input));
        network.RequireFinite(baseline, nameof(baseline));
        RequireDefined(rule);
        return NeuronsCore(ws, network, input, baseline, target, importance, rule);
    }

    /// <summary>DeepLIFT importance for a batch; <paramref name="baselines"/> holds one baseline per sample or one for all.</summary>
    public static void Neurons(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, DeepLiftRule rule)
    {
        int samples = network.RequireBatch(inputs, baselines, targets, importances.Length, network.ImportanceLength, nameof(importances), "ImportanceLength", deltas.Length);
        RequireDefined(rule);
        int inputLength = network.InputLength;
        bool sharedBaseline = baselines.Length == inputLength;
        for (int s = 0; s < samples; s++)
        {
            var baseline = sharedBaseline ? baselines : baselines.Slice(s * inputLength, inputLength);
            deltas[s] = NeuronsCore(
                ws, network, inputs.Slice(s * inputLength, inputLength), baseline, targets[s],
                importances.Slice(s * network.ImportanceLength, network.ImportanceLength), rule);
        }
    }

    /// <summary>DeepLIFT attribution of every input feature of one sample; returns the summation delta.</summary>
    public static float Inputs(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> attribution, DeepLiftRule rule)
    {
        network.RequireSample(input.Length, nameof(input));
        network.RequireSample(baseline.Length, nameof(baseline));
        network.RequireTarget(target);
        network.RequireSample(attribution.Length, nameof(attribution));
        network.RequireFinite(input, nameof(input));
        network.RequireFinite(baseline, nameof(baseline));
        RequireDefined(rule);
        return InputsCore(ws, network, input, baseline, target, attribution, rule);
    }

    /// <summary>DeepLIFT attribution of the input features for a batch; <paramref name="baselines"/> holds one baseline per sample or one for all.</summary>
    public static void Inputs(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> attributions, Span<float> deltas, DeepLiftRule rule)
    {
        int inputLength = network.InputLength;
        int samples = network.RequireBatch(inputs, baselines, targets, attributions.Length, inputLength, nameof(attributions), "InputLength", deltas.Length);
        RequireDefined(rule);
        bool sharedBaseline = baselines.Length == inputLength;
        for (int s = 0; s < samples; s++)
        {
            var baseline = sharedBaseline ? baselines : baselines.Slice(s * inputLength, inputLength);
            deltas[s] = InputsCore(
                ws, network, inputs.Slice(s * inputLength, inputLength), baseline, targets[s],
                attributions.Slice(s * inputLength, inputLength), rule);
        }
    }

    private static float NeuronsCore(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance, DeepLiftRule rule)
    {
        float difference = ForwardPair(ws, network, input, baseline, target);
        ws.DeepLift(rule, network.EarliestAttributePosition, importance);

        // Every attribute layer is a cut of the network, so each layer's importances alone sum to F(x) − F(x').
        float worst = 0;
        foreach (var layer in network.AttributeLayerSpan)
        {
            float delta = Sum(importance.Slice(layer.Offset, layer.Length)) - difference;
            if (Math.Abs(delta) >= Math.Abs(worst) || float.IsNaN(delta))
            {
                worst = delta;
            }
        }

        return worst;
    }

    private static float InputsCore(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> attribution, DeepLiftRule rule)
    {
        float difference = ForwardPair(ws, network, input, baseline, target);
        ws.DeepLift(rule, -1, Span<float>.Empty);
        var multipliers = ws.InputGradients.AsSpan(0, network.InputLength);
        for (int i = 0; i < attribution.Length; i++)
        {
            attribution[i] = multipliers[i] * (input[i] - baseline[i]);
        }

        return Sum(attribution) - difference;
    }

    // Runs input and baseline as one batch of two and seeds the target's multiplier in row 0; returns F(x) − F(x').
    private static float ForwardPair(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target)
    {
        input.CopyTo(ws.Inputs);
        baseline.CopyTo(ws.Inputs.AsSpan(network.InputLength));
        ws.Forward(Capacity);
        var outputs = ws.Outputs(Capacity);
        var seed = ws.OutputGradients(1);
        seed.Clear();
        seed[target] = 1f;
        return outputs[target] - outputs[network.OutputLength + target];
    }

    // In double, so that the delta measures the method, not the rounding of the sum.
    private static float Sum(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values)
        {
            sum += v;
        }

        return (float)sum;
    }

    private static void RequireDefined(DeepLiftRule rule)
    {
        if (!Enum.IsDefined(rule))
        {
            throw new ArgumentOutOfRangeException(nameof(rule), rule, "rule is not a defined DeepLiftRule.");
        }
    }
}
