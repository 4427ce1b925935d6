using System;

namespace NigGen;

/// <summary>
/// What every generated network implements, for code that works with any network (scoring services, benchmarks).
/// The generated class also has the same members with its shapes as constants.
/// </summary>
public interface INetwork
{
    /// <summary>The network's shapes and attribute layers.</summary>
    Attribution.NetworkDescription Description { get; }

    /// <summary>Runs the network on a batch of samples.</summary>
    void Forward(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Runs the network on a batch on up to <paramref name="maxDegreeOfParallelism"/> threads (−1: every core).</summary>
    void Forward(ReadOnlySpan<float> input, Span<float> output, int maxDegreeOfParallelism);

    /// <summary>The gradient of output[target] with respect to one input sample.</summary>
    void InputGradient(ReadOnlySpan<float> input, int target, Span<float> gradient);

    /// <summary>Integrated gradients of output[target] for every input feature; returns the completeness delta.</summary>
    float IntegratedGradients(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> attribution, AttributionOptions options = default);

    /// <summary>DeepLIFT attribution of output[target] to every input feature; returns the summation delta.</summary>
    float DeepLiftInputs(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> attribution, DeepLiftRule rule = DeepLiftRule.Rescale);

    /// <summary>DeepLIFT attribution to the input features for a batch of samples.</summary>
    void DeepLiftInputs(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> attributions, Span<float> deltas, DeepLiftRule rule = DeepLiftRule.Rescale);
}

/// <summary>A generated network with at least one [AttributeLayer]: it scores internal neurons.</summary>
public interface IAttributedNetwork : INetwork
{
    /// <summary>Neuron Integrated Gradients (total conductance) of every attribute-layer neuron; returns the completeness delta.</summary>
    float NeuronIntegratedGradients(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance, AttributionOptions options = default);

    /// <summary>Neuron Integrated Gradients for a batch of samples.</summary>
    void NeuronIntegratedGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, AttributionOptions options = default);

    /// <summary>Neuron Integrated Gradients for a batch of samples, stopped by <paramref name="cancellationToken"/> between samples and between chunks.</summary>
    void NeuronIntegratedGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, AttributionOptions options, System.Threading.CancellationToken cancellationToken);

    /// <summary>Conductance of one neuron (an index into the importance vector) for every input feature.</summary>
    void NeuronConductance(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, int neuron, Span<float> attribution, AttributionOptions options = default);

    /// <summary>DeepLIFT importance of every attribute-layer neuron; returns the summation delta.</summary>
    float DeepLift(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance, DeepLiftRule rule = DeepLiftRule.Rescale);

    /// <summary>DeepLIFT importance for a batch of samples.</summary>
    void DeepLift(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, DeepLiftRule rule = DeepLiftRule.Rescale);

    /// <summary>Gradient × activation of every attribute-layer neuron.</summary>
    void GradientTimesActivation(ReadOnlySpan<float> input, int target, Span<float> importance);

    /// <summary>The network's output with the listed neurons (indices into the importance vector) fixed to their values at the baseline.</summary>
    void Ablate(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, ReadOnlySpan<int> neurons, Span<float> output);
}
