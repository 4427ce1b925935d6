using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NigGen.Attribution;
using NigGen.Tests.Networks;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Graph;

/// <summary>
/// Every method on layer graphs, checked against properties that hold whatever the layers: gradients against finite
/// differences, completeness of integrated gradients and of Neuron Integrated Gradients on a layer every path crosses,
/// DeepLIFT's summation to delta, neuron conductance summing to the neuron's Neuron Integrated Gradients (a backward
/// pass started inside a branch), and results independent of batching, chunking and threads. The values themselves are
/// checked against PyTorch and Captum in <see cref="PyTorchReferenceTests"/>.
/// </summary>
public sealed class GraphNetworkTests
{
    public static TheoryData<string> Names => new() { nameof(ResidualMlp), nameof(InputSkipMlp), nameof(ResidualCnn), nameof(ResidualCnnUnfolded), nameof(DilatedResidual1d), nameof(ScoredBranchMlp), nameof(ChainedAddMlp) };

    /// <summary>The networks, with random weights and BatchNorm statistics far from the identity.</summary>
    public static IAttributedNetwork Create(string name, int seed = 7) => name switch
    {
        nameof(ResidualMlp) => GraphWeights.Randomised(ResidualMlp.CreateRandom(seed).Save, seed, ResidualMlp.Load),
        nameof(InputSkipMlp) => GraphWeights.Randomised(InputSkipMlp.CreateRandom(seed).Save, seed, InputSkipMlp.Load),
        nameof(ResidualCnn) => GraphWeights.Randomised(ResidualCnn.CreateRandom(seed).Save, seed, ResidualCnn.Load),
        nameof(ResidualCnnUnfolded) => GraphWeights.Randomised(ResidualCnnUnfolded.CreateRandom(seed).Save, seed, ResidualCnnUnfolded.Load),
        nameof(DilatedResidual1d) => GraphWeights.Randomised(DilatedResidual1d.CreateRandom(seed).Save, seed, DilatedResidual1d.Load),
        nameof(ScoredBranchMlp) => GraphWeights.Randomised(ScoredBranchMlp.CreateRandom(seed).Save, seed, ScoredBranchMlp.Load),
        nameof(ChainedAddMlp) => GraphWeights.Randomised(ChainedAddMlp.CreateRandom(seed).Save, seed, ChainedAddMlp.Load),
        nameof(DropoutBranchMlp) => GraphWeights.Randomised(DropoutBranchMlp.CreateRandom(seed).Save, seed, DropoutBranchMlp.Load),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Attribute layers every path from the input to the output crosses, where completeness holds.</summary>
    private static readonly Dictionary<string, string[]> Cuts = new()
    {
        [nameof(ResidualMlp)] = ["block"],
        [nameof(InputSkipMlp)] = [],
        [nameof(ResidualCnn)] = ["catBn"],
        [nameof(ResidualCnnUnfolded)] = ["stem", "catBn"],
        [nameof(DilatedResidual1d)] = ["res2", "pooled"],
        [nameof(ScoredBranchMlp)] = ["sum"],
        [nameof(ChainedAddMlp)] = ["outer"],
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Input_gradient_matches_central_differences(string name)
    {
        var net = Create(name);
        var d = net.Description;
        var x = Random(d.InputLength, seed: 1);
        var gradient = new float[d.InputLength];
        int target = d.OutputLength - 1;
        net.InputGradient(x, target, gradient);

        // Directional derivatives along random directions, in double from float evaluations (h large enough to beat rounding).
        for (int trial = 0; trial < 4; trial++)
        {
            var v = Random(d.InputLength, seed: 10 + trial);
            const float h = 1e-2f;
            double numeric = (Output(net, Add(x, v, h))[target] - (double)Output(net, Add(x, v, -h))[target]) / (2 * h);
            double analytic = gradient.Zip(v, (g, vi) => (double)g * vi).Sum();
            Assert.True(Math.Abs(numeric - analytic) <= 2e-2 * Math.Max(1, Math.Abs(analytic)), $"{name}: ∇F·v {analytic} but differences give {numeric}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Integrated_gradients_and_cut_layers_are_complete(string name)
    {
        var net = Create(name);
        var d = net.Description;
        var x = Random(d.InputLength, seed: 2);
        var baseline = Random(d.InputLength, seed: 3).Select(v => v * 0.2f).ToArray();
        int target = 0;
        double expected = Output(net, x)[target] - (double)Output(net, baseline)[target];
        var options = new AttributionOptions { Steps = 256, Rule = IntegrationRule.GaussLegendre };

        var attribution = new float[d.InputLength];
        float delta = net.IntegratedGradients(x, baseline, target, attribution, options);
        Assert.True(Math.Abs(attribution.Sum(v => (double)v) - expected) <= 2e-3 * Math.Max(1, Math.Abs(expected)), $"{name}: Σ IG − ΔF = {delta}");

        var importance = new float[d.ImportanceLength];
        net.NeuronIntegratedGradients(x, baseline, target, importance, options);
        foreach (var layer in d.AttributeLayers.Where(l => Cuts[name].Contains(l.Name)))
        {
            double sum = importance.AsSpan(layer.Offset, layer.Length).ToArray().Sum(v => (double)v);
            Assert.True(Math.Abs(sum - expected) <= 2e-3 * Math.Max(1, Math.Abs(expected)), $"{name}.{layer.Name}: Σ conductance {sum}, ΔF {expected}");
        }
    }

    [Fact]
    public void A_layer_bypassed_by_a_skip_connection_reports_its_incompleteness()
    {
        // InputSkipMlp's fc1 is bypassed by the input itself: its conductances miss the skip's share of F(x) − F(x').
        var net = Create(nameof(InputSkipMlp));
        var x = Random(6, seed: 4);
        var baseline = new float[6];
        var importance = new float[InputSkipMlp.ImportanceLength];
        float delta = net.NeuronIntegratedGradients(x, baseline, 0, importance, new AttributionOptions { Steps = 256, Rule = IntegrationRule.GaussLegendre });
        double expected = Output(net, x)[0] - (double)Output(net, baseline)[0];
        Assert.Equal(importance.Sum(v => (double)v) - expected, delta, 1e-4);
        Assert.True(Math.Abs(delta) > 1e-2, $"the skip carries part of ΔF, so the delta shows it: {delta}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void DeepLift_sums_to_delta_through_every_join(string name)
    {
        var net = Create(name);
        var d = net.Description;
        var x = Random(d.InputLength, seed: 5);
        var baseline = Random(d.InputLength, seed: 6).Select(v => v * 0.3f).ToArray();
        double expected = Output(net, x)[1] - (double)Output(net, baseline)[1];

        var attribution = new float[d.InputLength];
        float delta = net.DeepLiftInputs(x, baseline, 1, attribution);
        Assert.True(Math.Abs(delta) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"{name}: DeepLiftInputs delta {delta}");

        var importance = new float[d.ImportanceLength];
        net.DeepLift(x, baseline, 1, importance);
        foreach (var layer in d.AttributeLayers.Where(l => Cuts[name].Contains(l.Name)))
        {
            double sum = importance.AsSpan(layer.Offset, layer.Length).ToArray().Sum(v => (double)v);
            Assert.True(Math.Abs(sum - expected) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"{name}.{layer.Name}: Σ DeepLIFT {sum}, ΔF {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Neuron_conductance_sums_to_the_neurons_importance(string name)
    {
        // NeuronConductance runs a second backward pass from the neuron's layer down to the input: inside a graph it must
        // visit exactly the layers that flow into that layer, and add the gradients of every branch at the joins.
        var net = Create(name);
        var d = net.Description;
        var x = Random(d.InputLength, seed: 8);
        var baseline = Random(d.InputLength, seed: 9).Select(v => v * 0.1f).ToArray();
        var options = new AttributionOptions { Steps = 128, Rule = IntegrationRule.GaussLegendre };
        var importance = new float[d.ImportanceLength];
        net.NeuronIntegratedGradients(x, baseline, 0, importance, options);
        var attribution = new float[d.InputLength];
        foreach (var layer in d.AttributeLayers)
        {
            foreach (int neuron in new[] { layer.Offset, layer.Offset + layer.Length / 2, layer.Offset + layer.Length - 1 })
            {
                net.NeuronConductance(x, baseline, 0, neuron, attribution, options);
                double sum = attribution.Sum(v => (double)v);
                // Within the quadrature's error: a max pooling's winner changes along the path, so convergence is slow there.
                Assert.True(Math.Abs(sum - importance[neuron]) <= 1e-2 * Math.Max(0.05, Math.Abs(importance[neuron])), $"{name}.{layer.Name}[{neuron - layer.Offset}]: Σ conductance {sum}, NIG {importance[neuron]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Batches_chunks_and_threads_give_the_same_bits(string name)
    {
        var net = Create(name);
        var d = net.Description;
        const int n = 5;
        var inputs = Random(n * d.InputLength, seed: 11);
        var baselines = new float[d.InputLength];
        int[] targets = Enumerable.Range(0, n).Select(i => i % d.OutputLength).ToArray();
        var options = new AttributionOptions { Steps = 20 };
        var single = new float[n * d.ImportanceLength];
        for (int i = 0; i < n; i++)
        {
            net.NeuronIntegratedGradients(inputs.AsSpan(i * d.InputLength, d.InputLength), baselines, targets[i], single.AsSpan(i * d.ImportanceLength, d.ImportanceLength), options);
        }

        foreach (var variant in new[] { options with { ChunkSize = 3 }, options with { MaxDegreeOfParallelism = -1 }, options with { ChunkSize = 7, MaxDegreeOfParallelism = 2 } })
        {
            var batched = new float[n * d.ImportanceLength];
            net.NeuronIntegratedGradients(inputs, baselines, targets, batched, new float[n], variant);
            Assert.Equal(single, batched);
        }

        var outputs = new float[n * d.OutputLength];
        var parallel = new float[n * d.OutputLength];
        net.Forward(inputs, outputs);
        net.Forward(inputs, parallel, -1);
        Assert.Equal(outputs, parallel);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Ablating_no_neuron_is_forward_and_ablating_a_cut_layer_is_the_baseline(string name)
    {
        var net = Create(name);
        var d = net.Description;
        var x = Random(d.InputLength, seed: 12);
        var baseline = Random(d.InputLength, seed: 13);
        var output = new float[d.OutputLength];
        net.Ablate(x, baseline, [], output);
        Assert.Equal(Output(net, x), output);
        foreach (var layer in d.AttributeLayers.Where(l => Cuts[name].Contains(l.Name)))
        {
            net.Ablate(x, baseline, Enumerable.Range(layer.Offset, layer.Length).ToArray(), output);
            var expected = Output(net, baseline);
            for (int i = 0; i < output.Length; i++)
            {
                Assert.Equal(expected[i], output[i], 1e-5f);
            }
        }

        var importance = new float[d.ImportanceLength];
        net.GradientTimesActivation(x, 0, importance);
        Assert.All(importance, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Folded_and_unfolded_BatchNorm_compute_the_same_network()
    {
        // Same weights file: stemBn folds into stem in ResidualCnn, and runs as its own layer in ResidualCnnUnfolded.
        var folded = (ResidualCnn)Create(nameof(ResidualCnn));
        var stream = new MemoryStream();
        folded.Save(stream);
        stream.Position = 0;
        var unfolded = ResidualCnnUnfolded.Load(stream);
        var x = Random(ResidualCnn.InputLength * 3, seed: 14);
        var a = new float[3 * ResidualCnn.OutputLength];
        var b = new float[3 * ResidualCnn.OutputLength];
        folded.Forward(x, a);
        unfolded.Forward(x, b);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i], b[i], 2e-5f);
        }
    }

    [Fact]
    public void Save_writes_the_state_dict_names_and_load_gives_the_same_network()
    {
        var net = (ResidualCnn)Create(nameof(ResidualCnn));
        var stream = new MemoryStream();
        net.Save(stream);
        var file = SafetensorsFile.Read(new MemoryStream(stream.ToArray()), "saved");
        Assert.Contains("stem.0.weight", file.TensorNames);
        Assert.DoesNotContain("stem.0.bias", file.TensorNames);
        Assert.Contains("stem.1.running_var", file.TensorNames);
        Assert.Contains("layer1.0.bn2.num_batches_tracked", file.TensorNames);
        Assert.Contains("sideBn.weight", file.TensorNames);
        Assert.Equal(7, file.GetInt64Scalar("layer1.0.bn2.num_batches_tracked"));

        stream.Position = 0;
        var loaded = ResidualCnn.Load(stream);
        var x = Random(ResidualCnn.InputLength, seed: 15);
        Assert.Equal(Output(net, x), Output(loaded, x));
    }

    [Fact]
    public void RevealCancel_is_refused_where_it_is_undefined_and_runs_elsewhere()
    {
        // ResidualMlp's block applies SiLU to a sum, not to a weighted sum: RevealCancel has no terms to split there.
        var net = Create(nameof(ResidualMlp));
        var x = Random(6, seed: 16);
        var importance = new float[ResidualMlp.ImportanceLength];
        var error = Assert.Throws<ArgumentException>(() => net.DeepLift(x, new float[6], 0, importance, DeepLiftRule.RevealCancel));
        Assert.Equal("rule", error.ParamName);
        Assert.Contains("layer 'block' (Add with Silu)", error.Message);

        // GenomicsDefault applies RevealCancel after Dense layers only (Rescale at the join); summation still holds.
        float delta = net.DeepLift(x, new float[6], 0, importance, DeepLiftRule.GenomicsDefault);
        Assert.True(Math.Abs(delta) < 1e-4, $"delta {delta}");
    }

    internal static float[] Output(INetwork net, float[] x)
    {
        var output = new float[net.Description.OutputLength];
        net.Forward(x, output);
        return output;
    }

    private static float[] Add(float[] x, float[] v, float h) => x.Zip(v, (a, b) => a + h * b).ToArray();

    internal static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}

/// <summary>Weights for graph tests: a network's random weights with BatchNorm's parameters and statistics made non-trivial.</summary>
internal static class GraphWeights
{
    public static T Randomised<T>(Action<Stream> save, int seed, Func<Stream, T> load)
    {
        var saved = new MemoryStream();
        save(saved);
        var file = SafetensorsFile.Read(new MemoryStream(saved.ToArray()), "random");
        var random = new Random(seed);
        var writer = new SafetensorsWriter();
        foreach (string name in file.TensorNames)
        {
            if (name.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            {
                writer.AddInt64(name, [], [7]);
                continue;
            }

            var shape = file.ShapeOf(name);
            var values = file.GetTensor(name, shape, 1);
            bool batchNorm = file.TensorNames.Contains(name[..name.LastIndexOf('.')] + ".running_var");
            for (int i = 0; i < values.Length && batchNorm; i++)
            {
                values[i] = name.EndsWith(".running_var") ? (float)(0.3 + 1.5 * random.NextDouble())
                    : name.EndsWith(".running_mean") ? (float)(random.NextDouble() - 0.5)
                    : name.EndsWith(".weight") ? (float)(0.5 + random.NextDouble())
                    : (float)(0.6 * random.NextDouble() - 0.3);
            }

            writer.Add(name, shape, values);
        }

        var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        return load(stream);
    }
}
