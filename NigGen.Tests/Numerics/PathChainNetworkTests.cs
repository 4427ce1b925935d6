using System;
using System.Linq;
using System.Reflection;
using NigGen.Kernels;
using NigGen.Tests.Networks;
using NigGen.Tests.Reference;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Numerics;

/// <summary>
/// Neuron Integrated Gradients with the first weighted sum above the affine prefix chained (PathChain) against the same
/// call recomputing that layer at every point: equal up to float rounding, on networks where the chain runs (Dense and
/// convolutions, after a ReLU with or without a max pooling, folded into a BatchNorm, read by an Add), and bitwise
/// independent of the chunk size, the number of threads and the batch. The kernel itself: PathChainTests.
/// </summary>
public sealed class PathChainNetworkTests
{
    // Networks whose chain runs, and where it runs: the fused route (the backward pass stops above the pooling) and the
    // unfused one (a scored layer below: the pooling's argmax is kept).
    public static TheoryData<string> Chained => new()
    {
        nameof(SmallMlp), nameof(PooledReluNet), nameof(PooledLinearNet), nameof(ScoredBelowPoolNet), nameof(SecondBlockNet),
        nameof(SmallBasset), nameof(SmallBpNet), nameof(DilatedResidual1d),
    };

    private static IAttributedNetwork Create(string name) => name switch
    {
        nameof(SmallMlp) => SmallMlp.CreateRandom(1),
        nameof(PooledReluNet) => PooledReluNet.CreateRandom(2),
        nameof(PooledLinearNet) => PooledLinearNet.CreateRandom(3),
        nameof(ScoredBelowPoolNet) => ScoredBelowPoolNet.CreateRandom(4),
        nameof(SecondBlockNet) => SecondBlockNet.CreateRandom(5),
        nameof(SmallBasset) => SmallBasset.CreateRandom(6),
        nameof(SmallBpNet) => SmallBpNet.CreateRandom(8),
        nameof(DilatedResidual1d) => DilatedResidual1d.CreateRandom(9),
        nameof(AvgPooledReluNet) => AvgPooledReluNet.CreateRandom(10),
        nameof(PooledLeakyNet) => PooledLeakyNet.CreateRandom(11),
        nameof(WinogradBlockNet) => WinogradBlockNet.CreateRandom(12),
        _ => throw new ArgumentException(name),
    };

    private static float[] Random(int seed, int length, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    // The calling thread's workspace of the network's last call, and its chain.
    private static PathChain? ChainOf(IAttributedNetwork network)
    {
        var workspace = network.GetType().GetField("t_workspace", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null);
        return ((NigGen.Attribution.NetworkWorkspace?)workspace)?.PathChain;
    }

    [Theory]
    [MemberData(nameof(Chained))]
    public void Chained_layer_gives_the_recomputed_numbers_up_to_rounding(string name)
    {
        var network = Create(name);
        var description = network.Description;
        var input = Random(21, description.InputLength);
        var baseline = Random(22, description.InputLength, 0.2f);
        int target = description.OutputLength - 1;
        foreach (var options in new AttributionOptions[] { new() { Steps = 50 }, new() { Steps = 40, Rule = IntegrationRule.GaussLegendre } })
        {
            var chained = new float[description.ImportanceLength];
            var recomputed = new float[description.ImportanceLength];
            float chainedDelta = network.NeuronIntegratedGradients(input, baseline, target, chained, options);
            var chain = ChainOf(network);
            Assert.NotNull(chain);
            Assert.True(chain.Runs, $"{name}: the chain should run");
            long updates = chain.ColumnUpdates, anchors = chain.Anchors;
            float recomputedDelta = network.NeuronIntegratedGradients(input, baseline, target, recomputed, options with { Unchained = true });
            Assert.Equal(updates, chain.ColumnUpdates); // the recomputing call does not touch the chain
            Assert.Equal(anchors, chain.Anchors);
            Assert.True(anchors >= 2, $"{name}: {anchors} chains for two reduction blocks");

            double scale = recomputed.Max(v => Math.Abs((double)v)) + 1e-6;
            for (int j = 0; j < chained.Length; j++)
            {
                Assert.True(Math.Abs(chained[j] - recomputed[j]) <= 2e-5 * scale, $"{name} {options.Rule}: importance {j} is {chained[j]} chained, {recomputed[j]} recomputed");
            }

            Assert.True(Math.Abs(chainedDelta - recomputedDelta) <= 2e-5 * (scale + Math.Abs(recomputedDelta)), $"{name}: delta {chainedDelta} chained, {recomputedDelta} recomputed");
        }
    }

    [Theory]
    [MemberData(nameof(Chained))]
    public void Chunks_threads_and_batches_change_no_bit(string name)
    {
        var network = Create(name);
        var description = network.Description;
        int inputLength = description.InputLength, importanceLength = description.ImportanceLength;
        var input = Random(23, inputLength);
        var baseline = Random(24, inputLength, 0.2f);

        // 70 steps: three reduction blocks; chunks of 4 split every block; two threads split the blocks.
        var options = new AttributionOptions { Steps = 70 };
        var expected = new float[importanceLength];
        float expectedDelta = network.NeuronIntegratedGradients(input, baseline, 0, expected, options);
        foreach (var variant in new[] { options with { ChunkSize = 4 }, options with { ChunkSize = 1 }, options with { MaxDegreeOfParallelism = 2 }, options with { ChunkSize = 5, MaxDegreeOfParallelism = 2 } })
        {
            var importance = new float[importanceLength];
            float delta = network.NeuronIntegratedGradients(input, baseline, 0, importance, variant);
            BitwiseEqual(expected, importance, $"{name} {variant}");
            BitwiseEqual([expectedDelta], [delta], $"{name} {variant} delta");
        }

        // The same sample inside a batch of three, on one thread and two.
        var inputs = Random(25, 3 * inputLength);
        input.CopyTo(inputs, inputLength);
        var baselines = Random(26, 3 * inputLength, 0.2f);
        baseline.CopyTo(baselines, inputLength);
        foreach (int threads in new[] { 1, 2 })
        {
            var importances = new float[3 * importanceLength];
            network.NeuronIntegratedGradients(inputs, baselines, [1, 0, 1], importances, new float[3], options with { MaxDegreeOfParallelism = threads });
            BitwiseEqual(expected, importances.AsSpan(importanceLength, importanceLength), $"{name} in a batch on {threads} threads");
        }
    }

    [Theory]
    [InlineData(nameof(AvgPooledReluNet))] // an average pooling: its output is a sum of lines
    [InlineData(nameof(PooledLeakyNet))] // a leaky ReLU: not zero below the kink
    [InlineData(nameof(WinogradBlockNet))] // Winograd's kernel takes the second convolution
    public void Networks_the_chain_cannot_or_should_not_take_recompute_the_layer(string name)
    {
        var network = Create(name);
        var description = network.Description;
        var importance = new float[description.ImportanceLength];
        var recomputed = new float[description.ImportanceLength];
        var input = Random(27, description.InputLength);
        var baseline = new float[description.InputLength];
        network.NeuronIntegratedGradients(input, baseline, 0, importance, new AttributionOptions { Steps = 20 });
        network.NeuronIntegratedGradients(input, baseline, 0, recomputed, new AttributionOptions { Steps = 20, Unchained = true });
        BitwiseEqual(recomputed, importance, name);
        var chain = ChainOf(network);
        Assert.True(chain is null || !chain.Runs && chain.Anchors == 0, $"{name}: no chain should run");
    }

    [Fact]
    public void Other_path_methods_never_enter_the_chain()
    {
        // IntegratedGradients and NeuronConductance walk the path too but never start chains: their numbers are the
        // recomputed ones, and the chain's counters stay as Neuron Integrated Gradients left them.
        IAttributedNetwork network = SmallBasset.CreateRandom(3);
        var description = network.Description;
        var input = Random(28, description.InputLength);
        var baseline = new float[description.InputLength];
        network.NeuronIntegratedGradients(input, baseline, 0, new float[description.ImportanceLength], new AttributionOptions { Steps = 10 });
        var chain = ChainOf(network)!;
        long updates = chain.ColumnUpdates;
        var attribution = new float[description.InputLength];
        network.IntegratedGradients(input, baseline, 0, attribution, new AttributionOptions { Steps = 10 });
        network.NeuronConductance(input, baseline, 0, 0, attribution, new AttributionOptions { Steps = 10 });
        Assert.Equal(updates, chain.ColumnUpdates);
        Assert.False(chain.IsActive);
    }
}
