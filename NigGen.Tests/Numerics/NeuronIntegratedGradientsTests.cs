using System;
using System.Linq;
using NigGen.Attribution;
using NigGen.Tests.Attribution;
using Xunit;

namespace NigGen.Tests.Numerics;

/// <summary>Neuron Integrated Gradients against the paper's formula, its identities and the completeness property.</summary>
public sealed class NeuronIntegratedGradientsTests
{
    public static TheoryData<string, IntegrationRule> SubjectsAndRules()
    {
        var data = new TheoryData<string, IntegrationRule>();
        foreach (string name in Subjects.All)
        {
            foreach (var rule in Enum.GetValues<IntegrationRule>())
            {
                data.Add(name, rule);
            }
        }

        return data;
    }

    /// <summary>
    /// importance_j = Σ_k ∂F/∂h_j(α_k)·(h_j(α_k+1) − h_j(α_k)) over the rule's Steps + 1 points, evaluated on the
    /// reference: hidden values by its forward pass, ∂F/∂h by finite differences of the layers above.
    /// </summary>
    [Theory]
    [MemberData(nameof(SubjectsAndRules))]
    public void Matches_the_path_formula_on_every_attribute_layer(string name, IntegrationRule rule)
    {
        var subject = Subjects.ByName(name);
        var reference = subject.Reference;
        var description = subject.Network.Description;
        const int steps = 6;
        var input = subject.RandomInput(seed: 31);
        var baseline = subject.RandomInput(seed: 32).Select(v => v * 0.1f).ToArray();
        int target = reference.OutputLength - 1;

        var importance = new float[description.ImportanceLength];
        subject.Network.NeuronIntegratedGradients(input, baseline, target, importance, new AttributionOptions { Steps = steps, Rule = rule });

        var alphas = Quadrature.Get(rule, steps + 1).Alphas();
        foreach (var layer in description.AttributeLayers)
        {
            int index = reference.IndexOf(layer.Name);
            var points = alphas.Select(a => Interpolate(input, baseline, (float)a)).ToArray();
            var hidden = points.Select(x => reference.Hidden(x, index, layer.PreActivation)).ToArray();
            var expected = new double[layer.Length];
            for (int k = 0; k + 1 < points.Length; k++)
            {
                var gradient = FiniteDifferences.Gradient(h => reference.ForwardFromHidden(h, index, layer.PreActivation)[target], hidden[k]);
                for (int j = 0; j < layer.Length; j++)
                {
                    expected[j] += gradient[j] * (hidden[k + 1][j] - hidden[k][j]);
                }
            }

            ForwardAndGradientTests.AssertClose(expected, importance.AsSpan(layer.Offset, layer.Length), $"{name} {rule} layer {layer.Name}");
        }
    }

    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Trapezoid_completeness_delta_goes_to_zero_as_steps_grow(string name)
    {
        var subject = Subjects.ByName(name);
        var input = subject.RandomInput(seed: 41);
        var baseline = new float[input.Length];
        var importance = new float[subject.Network.Description.ImportanceLength];

        float Delta(int steps) => Math.Abs(subject.Network.NeuronIntegratedGradients(input, baseline, 0, importance, new AttributionOptions { Steps = steps }));

        float coarse = Delta(4), fine = Delta(400);
        Assert.True(fine < 2e-3, $"{name}: delta {fine} at 400 steps");
        Assert.True(fine <= coarse + 1e-5, $"{name}: delta grew from {coarse} (4 steps) to {fine} (400 steps)");
    }

    /// <summary>The paper's identity: summed over inputs, a neuron's conductance is its Neuron Integrated Gradients.</summary>
    [Theory]
    [InlineData("Conv2dNet")]
    [InlineData("DenseActivationsNet")]
    [InlineData("Conv1dNet")]
    public void Sum_of_neuron_conductance_over_inputs_equals_neuron_integrated_gradients(string name)
    {
        var subject = Subjects.ByName(name);
        var network = subject.Network;
        var input = subject.RandomInput(seed: 51);
        var baseline = subject.RandomInput(seed: 52).Select(v => v * 0.2f).ToArray();
        var options = new AttributionOptions { Steps = 600 };
        var importance = new float[network.Description.ImportanceLength];
        network.NeuronIntegratedGradients(input, baseline, 1, importance, options);

        double scale = importance.Max(Math.Abs);
        Assert.True(scale > 1e-3, $"{name}: every importance is zero; pick another target or seed");
        var attribution = new float[input.Length];
        for (int neuron = 0; neuron < importance.Length; neuron += Math.Max(1, importance.Length / 9))
        {
            network.NeuronConductance(input, baseline, 1, neuron, attribution, options);
            double total = attribution.Sum(v => (double)v);
            Assert.True(Math.Abs(total - importance[neuron]) < 5e-3 * scale,
                $"{name} {network.Description.DescribeNeuron(neuron)}: Σ conductance {total:G6} vs NIG {importance[neuron]:G6}");
        }
    }

    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Results_do_not_depend_on_the_chunk_size(string name)
    {
        var subject = Subjects.ByName(name);
        var input = subject.RandomInput(seed: 61);
        var baseline = new float[input.Length];
        var network = subject.Network;

        float[] Run(int chunk, out float delta)
        {
            var importance = new float[network.Description.ImportanceLength];
            delta = network.NeuronIntegratedGradients(input, baseline, 0, importance, new AttributionOptions { Steps = 20, Rule = IntegrationRule.GaussLegendre, ChunkSize = chunk });
            return importance;
        }

        var automatic = Run(0, out float automaticDelta);
        foreach (int chunk in new[] { 2, 3, 7, 21, 500 })
        {
            Assert.Equal(automatic, Run(chunk, out float delta));
            Assert.Equal(automaticDelta, delta);
        }

        float[] Integrated(int chunk)
        {
            var attribution = new float[input.Length];
            network.IntegratedGradients(input, baseline, 0, attribution, new AttributionOptions { Steps = 9, ChunkSize = chunk });
            return attribution;
        }

        Assert.Equal(Integrated(0), Integrated(2));
        Assert.Equal(Integrated(0), Integrated(4));
    }

    /// <summary>The shortcuts (interpolating the first affine layer, stopping the backward early) change nothing but rounding.</summary>
    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Optimised_and_unoptimised_paths_agree(string name)
    {
        var subject = Subjects.ByName(name);
        var network = subject.Network;
        var input = subject.RandomInput(seed: 65);
        var baseline = subject.RandomInput(seed: 66).Select(v => v * 0.3f).ToArray();
        var fast = new float[network.Description.ImportanceLength];
        var slow = new float[network.Description.ImportanceLength];
        var options = new AttributionOptions { Steps = 16 };

        float fastDelta = network.NeuronIntegratedGradients(input, baseline, 1, fast, options);
        float slowDelta = network.NeuronIntegratedGradients(input, baseline, 1, slow, options with { Unoptimised = true });

        ForwardAndGradientTests.AssertClose(slow.Select(v => (double)v).ToArray(), fast, $"{name} importance", relative: 1e-4);
        Assert.True(Math.Abs(fastDelta - slowDelta) < 1e-4 * (1 + Math.Abs(slowDelta)), $"{name}: delta {fastDelta} vs {slowDelta}");

        var fastInputs = new float[input.Length];
        var slowInputs = new float[input.Length];
        network.IntegratedGradients(input, baseline, 1, fastInputs, options);
        network.IntegratedGradients(input, baseline, 1, slowInputs, options with { Unoptimised = true });
        ForwardAndGradientTests.AssertClose(slowInputs.Select(v => (double)v).ToArray(), fastInputs, $"{name} integrated gradients", relative: 1e-4);
    }

    [Fact]
    public void Batched_overload_equals_one_call_per_sample_with_own_or_shared_baseline()
    {
        var subject = Subjects.Conv2d();
        var network = subject.Network;
        int inputLength = network.Description.InputLength, importanceLength = network.Description.ImportanceLength;
        const int samples = 3;
        var inputs = subject.RandomInput(seed: 71, samples);
        var baselines = subject.RandomInput(seed: 72, samples).Select(v => v * 0.1f).ToArray();
        int[] targets = [0, 2, 1];
        var options = new AttributionOptions { Steps = 12 };

        var importances = new float[samples * importanceLength];
        var deltas = new float[samples];
        network.NeuronIntegratedGradients(inputs, baselines, targets, importances, deltas, options);
        var shared = new float[samples * importanceLength];
        var sharedDeltas = new float[samples];
        network.NeuronIntegratedGradients(inputs, baselines.AsSpan(0, inputLength), targets, shared, sharedDeltas, options);

        var single = new float[importanceLength];
        for (int s = 0; s < samples; s++)
        {
            float delta = network.NeuronIntegratedGradients(inputs.AsSpan(s * inputLength, inputLength), baselines.AsSpan(s * inputLength, inputLength), targets[s], single, options);
            Assert.Equal(single, importances.AsSpan(s * importanceLength, importanceLength).ToArray());
            Assert.Equal(delta, deltas[s]);

            network.NeuronIntegratedGradients(inputs.AsSpan(s * inputLength, inputLength), baselines.AsSpan(0, inputLength), targets[s], single, options);
            Assert.Equal(single, shared.AsSpan(s * importanceLength, importanceLength).ToArray());
        }
    }

    [Fact]
    public void Integrated_gradients_satisfy_completeness_and_match_finite_differences_of_the_reference()
    {
        var subject = Subjects.DenseActivations();
        var reference = subject.Reference;
        var input = subject.RandomInput(seed: 81);
        var baseline = new float[input.Length];
        var attribution = new float[input.Length];
        var options = new AttributionOptions { Steps = 16, Rule = IntegrationRule.GaussLegendre };

        subject.Network.IntegratedGradients(input, baseline, 2, attribution, options);

        var table = Quadrature.Get(IntegrationRule.GaussLegendre, 16);
        var alphas = table.Alphas();
        var steps = table.StepSizes();
        var expected = new double[input.Length];
        for (int k = 0; k < table.Count; k++)
        {
            var gradient = FiniteDifferences.Gradient(x => reference.Forward(x)[2], Interpolate(input, baseline, (float)alphas[k]));
            for (int i = 0; i < expected.Length; i++)
            {
                expected[i] += steps[k] * gradient[i] * (input[i] - baseline[i]);
            }
        }

        ForwardAndGradientTests.AssertClose(expected, attribution, "integrated gradients");

        float fine = subject.Network.IntegratedGradients(input, baseline, 2, attribution, new AttributionOptions { Steps = 400 });
        Assert.True(Math.Abs(fine) < 1e-3, $"IG completeness delta {fine} at 400 trapezoid steps");
    }

    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Results_do_not_depend_on_the_number_of_threads(string name)
    {
        var subject = Subjects.ByName(name);
        var network = subject.Network;
        int inputLength = network.Description.InputLength, importanceLength = network.Description.ImportanceLength;
        const int samples = 5;
        var inputs = subject.RandomInput(seed: 111, samples);
        var baseline = new float[inputLength];
        int[] targets = [0, 1, 0, 1, 0];

        (float[] Importances, float[] Deltas) Run(int threads, int steps)
        {
            var options = new AttributionOptions { Steps = steps, MaxDegreeOfParallelism = threads };
            var importances = new float[samples * importanceLength];
            var deltas = new float[samples];
            network.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, options);
            var single = new float[importanceLength];
            float delta = network.NeuronIntegratedGradients(inputs.AsSpan(0, inputLength), baseline, 0, single, options with { ChunkSize = 5 });
            Assert.Equal(importances.AsSpan(0, importanceLength).ToArray(), single);
            Assert.Equal(deltas[0], delta);
            return (importances, deltas);
        }

        foreach (int steps in new[] { 7, 50, 130 })
        {
            var serial = Run(1, steps);
            foreach (int threads in new[] { 2, 3, -1 })
            {
                var parallel = Run(threads, steps);
                Assert.Equal(serial.Importances, parallel.Importances);
                Assert.Equal(serial.Deltas, parallel.Deltas);
            }
        }
    }

    [Fact]
    public void Steady_state_calls_allocate_nothing()
    {
        var subject = Subjects.Conv2d();
        var network = subject.Network;
        var input = subject.RandomInput(seed: 91);
        var baseline = new float[input.Length];
        var importance = new float[network.Description.ImportanceLength];
        var attribution = new float[input.Length];
        var output = new float[network.Description.OutputLength];
        var options = new AttributionOptions { Steps = 30 };

        int[] targets = [0];
        var deltas = new float[1];

        void Calls()
        {
            network.Forward(input, output);
            network.NeuronIntegratedGradients(input, baseline, 0, importance, options);
            network.IntegratedGradients(input, baseline, 0, attribution, options);
            network.NeuronConductance(input, baseline, 0, 3, attribution, options);
            network.NeuronIntegratedGradients(input, baseline, targets, importance, deltas, options);
            network.Forward(input, output, maxDegreeOfParallelism: 1);
        }

        Assert.Equal(0, SteadyStateAllocations.Measure(Calls));
    }

    [Fact]
    public void Steady_state_multi_threaded_calls_allocate_nothing_on_the_calling_thread()
    {
        // Parallel.For allocated its options, closure and tasks on every call (about 1.8 KiB); the reusable jobs do not.
        var subject = Subjects.Conv2d();
        var network = subject.Network;
        const int samples = 40;
        var inputs = subject.RandomInput(seed: 92, samples);
        var baseline = new float[subject.Reference.InputLength];
        var importances = new float[samples * network.Description.ImportanceLength];
        var outputs = new float[samples * network.Description.OutputLength];
        var targets = new int[samples];
        var deltas = new float[samples];
        var twoThreads = new AttributionOptions { Steps = 30, ChunkSize = 4, MaxDegreeOfParallelism = 2 };
        var input = inputs.AsSpan(0, baseline.Length).ToArray();
        var importance = importances.AsSpan(0, network.Description.ImportanceLength).ToArray();

        void Calls()
        {
            network.Forward(inputs, outputs, maxDegreeOfParallelism: 2);
            network.NeuronIntegratedGradients(input, baseline, 0, importance, twoThreads);
            network.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, twoThreads);
        }

        Assert.Equal(0, SteadyStateAllocations.Measure(Calls));
    }

    [Fact]
    public void One_network_used_from_many_threads_gives_the_single_threaded_results()
    {
        var subject = Subjects.Conv1d();
        var network = subject.Network;
        int inputLength = network.Description.InputLength, importanceLength = network.Description.ImportanceLength;
        const int samples = 24;
        var inputs = subject.RandomInput(seed: 101, samples);
        var baseline = new float[inputLength];
        var options = new AttributionOptions { Steps = 25 };

        var expected = new float[samples * importanceLength];
        for (int s = 0; s < samples; s++)
        {
            network.NeuronIntegratedGradients(inputs.AsSpan(s * inputLength, inputLength), baseline, s % 2, expected.AsSpan(s * importanceLength, importanceLength), options);
        }

        var actual = new float[samples * importanceLength];
        System.Threading.Tasks.Parallel.For(0, samples * 4, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            int s = i % samples;
            var importance = new float[importanceLength];
            network.NeuronIntegratedGradients(inputs.AsSpan(s * inputLength, inputLength), baseline, s % 2, importance, options with { ChunkSize = 2 + i % 5 });
            lock (actual)
            {
                importance.CopyTo(actual, s * importanceLength);
            }
        });

        Assert.Equal(expected, actual);
    }

    internal static double[] Interpolate(float[] input, float[] baseline, float alpha) =>
        input.Select((x, i) => (double)(baseline[i] + alpha * (x - baseline[i]))).ToArray();
}
