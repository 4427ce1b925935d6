using System;
using System.Linq;
using NigGen.Tests.Numerics;
using Xunit;

namespace NigGen.Tests.Reliability;

/// <summary>
/// The numerical edges of the path methods and DeepLIFT: input equal to baseline, saturated activations, 10,000 steps,
/// and chunk sizes at both ends. Results must be finite and consistent (bitwise the same for every chunk size and
/// thread count, complete where the method promises completeness).
/// </summary>
public sealed class NumericalEdgeTests
{
    private static readonly AttributionOptions[] Options =
    [
        default,
        new() { Steps = 7, Rule = IntegrationRule.GaussLegendre },
        new() { Steps = 5, Rule = IntegrationRule.RiemannLeft, ChunkSize = 2 },
        new() { Steps = 33, Rule = IntegrationRule.RiemannMiddle, MaxDegreeOfParallelism = 2 },
    ];

    private static void AssertAllZero(ReadOnlySpan<float> values, string what)
    {
        for (int i = 0; i < values.Length; i++)
        {
            Assert.True(values[i] == 0f, $"{what}[{i}] = {values[i]} for an input equal to its baseline");
        }
    }

    private static void AssertFinite(ReadOnlySpan<float> values, string what)
    {
        for (int i = 0; i < values.Length; i++)
        {
            Assert.True(float.IsFinite(values[i]), $"{what}[{i}] = {values[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Input_equal_to_baseline_gives_zero_importances_and_zero_delta_for_every_method(string name)
    {
        var network = Subjects.ByName(name).Network;
        var description = network.Description;
        foreach (float scale in new[] { 0f, 1f, 1e4f })
        {
            // Zero, ordinary and saturating points: the DeepLIFT rules must take their Δx ≈ 0 (eps) branch, never divide by 0.
            var input = Subjects.ByName(name).RandomInput(seed: 5).Select(v => v * scale).ToArray();
            var importance = new float[description.ImportanceLength];
            var attribution = new float[description.InputLength];
            foreach (var options in Options)
            {
                string what = $"{name} ×{scale} {options}";
                Assert.Equal(0f, network.NeuronIntegratedGradients(input, input, 1, importance, options));
                AssertAllZero(importance, "NeuronIntegratedGradients " + what);
                Assert.Equal(0f, network.IntegratedGradients(input, input, 1, attribution, options));
                AssertAllZero(attribution, "IntegratedGradients " + what);
                foreach (int neuron in new[] { 0, description.ImportanceLength - 1 })
                {
                    network.NeuronConductance(input, input, 1, neuron, attribution, options);
                    AssertAllZero(attribution, $"NeuronConductance({neuron}) " + what);
                }
            }

            foreach (var rule in Enum.GetValues<DeepLiftRule>())
            {
                string what = $"{name} ×{scale} {rule}";
                Assert.Equal(0f, network.DeepLift(input, input, 1, importance, rule));
                AssertAllZero(importance, "DeepLift " + what);
                Assert.Equal(0f, network.DeepLiftInputs(input, input, 1, attribution, rule));
                AssertAllZero(attribution, "DeepLiftInputs " + what);
            }

            var deltas = new float[2];
            var importances = new float[2 * description.ImportanceLength];
            network.NeuronIntegratedGradients([.. input, .. input], input, [0, 1], importances, deltas);
            AssertAllZero(importances, "batched NeuronIntegratedGradients");
            AssertAllZero(deltas, "batched deltas");
        }
    }

    [Theory]
    [InlineData(50f)]
    [InlineData(1e4f)]
    [InlineData(1e30f)]
    public void Saturated_activations_give_finite_consistent_results(float magnitude)
    {
        // Every layer of DenseActivationsNet (sigmoid, tanh, softplus, elu, leaky, relu) is driven far into saturation.
        var subject = Subjects.DenseActivations();
        var network = subject.Network;
        var input = subject.RandomInput(seed: 17).Select(v => v * magnitude).ToArray();
        var baseline = input.Select(v => -v).ToArray();
        int length = network.Description.ImportanceLength;

        var output = new float[2 * network.Description.OutputLength];
        network.Forward([.. input, .. baseline], output);
        AssertFinite(output, $"output at ±{magnitude}");
        var reference = subject.Reference.Forward(input.Select(v => (double)v).ToArray());
        for (int o = 0; o < reference.Length; o++)
        {
            Assert.True(Math.Abs(output[o] - reference[o]) <= 1e-3 * (1 + Math.Abs(reference[o])), $"output {o}: {output[o]} vs reference {reference[o]}");
        }

        foreach (int target in new[] { 0, 2 })
        {
            var importance = new float[length];
            var options = new AttributionOptions { Steps = 200 };
            float delta = network.NeuronIntegratedGradients(input, baseline, target, importance, options);
            AssertFinite(importance, "importance");
            Assert.True(float.IsFinite(delta));

            // Chunks and threads change nothing, even where the gradients vanish.
            var again = new float[length];
            Assert.Equal(delta, network.NeuronIntegratedGradients(input, baseline, target, again, options with { ChunkSize = 2, MaxDegreeOfParallelism = 3 }));
            Assert.Equal(importance, again);

            // Completeness holds wherever the path is resolved: the trapezoid's delta shrinks as steps grow.
            float fine = network.NeuronIntegratedGradients(input, baseline, target, again, options with { Steps = 10_000 });
            AssertFinite(again, "importance at 10,000 steps");
            double difference = output[target] - output[network.Description.OutputLength + target];
            Assert.True(Math.Abs(fine) <= 0.02 * (1 + Math.Abs(difference)), $"±{magnitude}: delta {fine} at 10,000 steps for F(x) − F(x') = {difference}");

            var attribution = new float[input.Length];
            AssertFinite([network.IntegratedGradients(input, baseline, target, attribution, options)], "IntegratedGradients delta");
            AssertFinite(attribution, "IntegratedGradients");
            network.NeuronConductance(input, baseline, target, length - 1, attribution, options);
            AssertFinite(attribution, "NeuronConductance");
            foreach (var rule in Enum.GetValues<DeepLiftRule>())
            {
                float deepLiftDelta = network.DeepLift(input, baseline, target, importance, rule);
                AssertFinite(importance, $"DeepLift {rule}");
                Assert.True(Math.Abs(deepLiftDelta) <= 1e-3 * (1 + Math.Abs(difference)), $"DeepLift {rule} summation delta {deepLiftDelta} for F(x) − F(x') = {difference}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Subjects.Small), MemberType = typeof(Subjects))]
    public void Ten_thousand_steps_are_finite_complete_and_independent_of_chunks_and_threads(string name)
    {
        var subject = Subjects.ByName(name);
        var network = subject.Network;
        var input = subject.RandomInput(seed: 23);
        var baseline = new float[input.Length];
        int length = network.Description.ImportanceLength;
        var output = new float[2 * network.Description.OutputLength];
        network.Forward([.. input, .. baseline], output);
        double difference = output[0] - output[network.Description.OutputLength];

        foreach (var rule in new[] { IntegrationRule.RiemannTrapezoid, IntegrationRule.GaussLegendre })
        {
            var options = new AttributionOptions { Steps = 10_000, Rule = rule };
            var importance = new float[length];
            float delta = network.NeuronIntegratedGradients(input, baseline, 0, importance, options);
            AssertFinite(importance, $"{rule} importance");
            Assert.True(Math.Abs(delta) <= 1e-3 * (1 + Math.Abs(difference)), $"{name} {rule}: delta {delta} at 10,000 steps");

            var again = new float[length];
            Assert.Equal(delta, network.NeuronIntegratedGradients(input, baseline, 0, again, options with { ChunkSize = 2, MaxDegreeOfParallelism = 2 }));
            Assert.Equal(importance, again);

        }

        // One Gauss-Legendre table of 10,001 points is enough (building one costs O(n²)); integrated gradients use the trapezoid.
        var attribution = new float[input.Length];
        float integratedDelta = network.IntegratedGradients(input, baseline, 0, attribution, new AttributionOptions { Steps = 10_000 });
        AssertFinite(attribution, "attribution");
        Assert.True(Math.Abs(integratedDelta) <= 1e-3 * (1 + Math.Abs(difference)), $"{name}: integrated gradients delta {integratedDelta} at 10,000 steps");
    }

    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Chunk_sizes_from_the_smallest_allowed_to_larger_than_the_steps_give_identical_results(string name)
    {
        var subject = Subjects.ByName(name);
        var network = subject.Network;
        var input = subject.RandomInput(seed: 29);
        var baseline = subject.RandomInput(seed: 30);
        int length = network.Description.ImportanceLength;

        float[] Neurons(int chunk, out float delta)
        {
            var importance = new float[length];
            delta = network.NeuronIntegratedGradients(input, baseline, 1, importance, new AttributionOptions { Steps = 20, ChunkSize = chunk });
            return importance;
        }

        float[] Inputs(int chunk)
        {
            var attribution = new float[input.Length];
            network.IntegratedGradients(input, baseline, 1, attribution, new AttributionOptions { Steps = 20, ChunkSize = chunk });
            return attribution;
        }

        float[] Conductance(int chunk)
        {
            var attribution = new float[input.Length];
            network.NeuronConductance(input, baseline, 1, length / 2, attribution, new AttributionOptions { Steps = 20, ChunkSize = chunk });
            return attribution;
        }

        var automatic = Neurons(0, out float automaticDelta);
        // ChunkSize 1 runs as 2: consecutive points share an interval, and the endpoints run as one batch of two.
        foreach (int chunk in new[] { 1, 2, 21, 22, 1_000, int.MaxValue })
        {
            Assert.Equal(automatic, Neurons(chunk, out float delta));
            Assert.Equal(automaticDelta, delta);
        }

        // The same for integrated gradients and neuron conductance.
        foreach (int chunk in new[] { 1, 2, 20, 21, int.MaxValue })
        {
            Assert.Equal(Inputs(0), Inputs(chunk));
            Assert.Equal(Conductance(0), Conductance(chunk));
        }
    }
}
