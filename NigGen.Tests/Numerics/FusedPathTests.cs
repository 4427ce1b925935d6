using System;
using System.Linq;
using System.Reflection;
using System.Threading;
using NigGen.Tests.Networks;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Numerics;

/// <summary>
/// The fused first layers of the path (interpolation, activation and pooling in one kernel, when the backward pass stops
/// above them), and activations fused into the max pooling above them higher up (with a convolution Winograd's kernel
/// takes, pooled on its tiles), change no bit of Neuron Integrated Gradients: single samples, chunks, both rules, batches and threads,
/// against the same shortcut unfused. The kernels themselves: InterpolationKernelsTests.
/// </summary>
public sealed class FusedPathTests
{
    public static TheoryData<string> Networks => new()
    {
        nameof(PooledReluNet), nameof(PooledLinearNet), nameof(AvgPooledReluNet), nameof(PooledLeakyNet), nameof(ScoredBelowPoolNet),
        nameof(SecondBlockNet), nameof(ScoredSecondBlockNet), nameof(Conv2dNet), nameof(Conv1dNet), nameof(SmallMlp), nameof(DenseActivationsNet),
        nameof(WinogradBlockNet), nameof(Winograd5x5BlockNet), nameof(WinogradBatchNormBlockNet),
    };

    private static IAttributedNetwork Create(string name) => name switch
    {
        nameof(PooledReluNet) => PooledReluNet.CreateRandom(1),
        nameof(PooledLinearNet) => PooledLinearNet.CreateRandom(2),
        nameof(AvgPooledReluNet) => AvgPooledReluNet.CreateRandom(3),
        nameof(PooledLeakyNet) => PooledLeakyNet.CreateRandom(4),
        nameof(ScoredBelowPoolNet) => ScoredBelowPoolNet.CreateRandom(5),
        nameof(SecondBlockNet) => SecondBlockNet.CreateRandom(6),
        nameof(ScoredSecondBlockNet) => ScoredSecondBlockNet.CreateRandom(7),
        nameof(WinogradBlockNet) => WinogradBlockNet.CreateRandom(8),
        nameof(Winograd5x5BlockNet) => Winograd5x5BlockNet.CreateRandom(9),
        nameof(WinogradBatchNormBlockNet) => WinogradBatchNormBlockNet.CreateRandom(10),
        _ => Subjects.ByName(name).Network,
    };

    private static float[] Random(int seed, int length, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Fused_path_gives_the_unfused_numbers_bit_for_bit(string name)
    {
        var network = Create(name);
        var description = network.Description;
        int inputLength = description.InputLength, importanceLength = description.ImportanceLength;
        var input = Random(41, inputLength);
        var baseline = Random(42, inputLength, 0.2f);
        int target = description.OutputLength - 1;

        // Steps = 70 is three reduction blocks, so two threads split one sample; ChunkSize = 5 splits every block.
        foreach (var options in new AttributionOptions[]
        {
            new() { Steps = 12 },
            new() { Steps = 70, ChunkSize = 5, Rule = IntegrationRule.GaussLegendre },
            new() { Steps = 70, MaxDegreeOfParallelism = 2 },
        })
        {
            var fused = new float[importanceLength];
            var unfused = new float[importanceLength];
            float fusedDelta = network.NeuronIntegratedGradients(input, baseline, target, fused, options);
            float unfusedDelta = network.NeuronIntegratedGradients(input, baseline, target, unfused, options with { Unfused = true });
            BitwiseEqual(unfused, fused, $"{name} {options} importance");
            BitwiseEqual([unfusedDelta], [fusedDelta], $"{name} {options} delta");

            // The shortcut itself still agrees with the straightforward path up to float rounding.
            var plain = new float[importanceLength];
            network.NeuronIntegratedGradients(input, baseline, target, plain, options with { Unoptimised = true });
            double scale = plain.Max(v => Math.Abs((double)v)) + 1e-6;
            Assert.All(Enumerable.Range(0, importanceLength), j => Assert.True(Math.Abs(fused[j] - plain[j]) <= 1e-4 * scale, $"{name} importance {j}: {fused[j]} vs unoptimised {plain[j]}"));
        }

        // Batches: per-sample baselines, on one thread and on two (whole samples per worker).
        const int samples = 3;
        var inputs = Random(43, samples * inputLength);
        var baselines = Random(44, samples * inputLength, 0.2f);
        int[] targets = Enumerable.Range(0, samples).Select(s => s % description.OutputLength).ToArray();
        var expected = new float[samples * importanceLength];
        var expectedDeltas = new float[samples];
        network.NeuronIntegratedGradients(inputs, baselines, targets, expected, expectedDeltas, new AttributionOptions { Steps = 20, Unfused = true });
        foreach (int threads in new[] { 1, 2 })
        {
            var importances = new float[expected.Length];
            var deltas = new float[samples];
            network.NeuronIntegratedGradients(inputs, baselines, targets, importances, deltas, new AttributionOptions { Steps = 20, MaxDegreeOfParallelism = threads });
            BitwiseEqual(expected, importances, $"{name} batch on {threads} threads");
            BitwiseEqual(expectedDeltas, deltas, $"{name} batch deltas on {threads} threads");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Forward_with_fused_activations_gives_the_full_pass_numbers_bit_for_bit(string name)
    {
        // Forward runs the inference pass (activation and max pooling fused where one follows the other, a Dense layer's
        // ReLU inside its matrix multiply); Ablate with no neuron runs ForwardLayers' kernel calls on the input and the
        // baseline. Batches of 1, 70 (two forward blocks) and on two threads.
        var network = Create(name);
        var description = network.Description;
        int inputLength = description.InputLength, outputLength = description.OutputLength;
        const int samples = 70;
        var inputs = Random(46, samples * inputLength);
        var expected = new float[samples * outputLength];
        var row = new float[outputLength];
        for (int s = 0; s < samples; s++)
        {
            network.Ablate(inputs.AsSpan(s * inputLength, inputLength), inputs.AsSpan(s * inputLength, inputLength), [], row);
            row.CopyTo(expected, s * outputLength);
        }

        var single = new float[outputLength];
        network.Forward(inputs.AsSpan(0, inputLength), single);
        BitwiseEqual(expected.AsSpan(0, outputLength), single, $"{name} forward of one sample");
        foreach (int threads in new[] { 1, 2 })
        {
            var outputs = new float[expected.Length];
            network.Forward(inputs, outputs, threads);
            BitwiseEqual(expected, outputs, $"{name} forward of {samples} on {threads} threads");
        }
    }

    [Fact]
    public void Fused_path_writes_neither_the_first_layers_values_nor_the_argmax_at_the_path_points()
    {
        // On a fresh thread (so a fresh workspace), the endpoint pass writes rows 0 and 1 of every buffer; with the fusion
        // the path's points (rows 0 … 10 of the chunk) reach conv1's buffers and pool1's argmax never; without it they do.
        var network = PooledReluNet.CreateRandom(5);
        var input = Random(45, PooledReluNet.InputLength);
        var baseline = new float[PooledReluNet.InputLength];
        foreach (bool unfused in new[] { false, true })
        {
            var buffers = WorkspaceBuffersAfter(() => network.NeuronIntegratedGradients(input, baseline, 0, new float[PooledReluNet.ImportanceLength], new AttributionOptions { Steps = 10, Unfused = unfused }));
            foreach (var (field, values, length) in buffers)
            {
                bool pathRowsWritten = values.Skip(2 * length).Any(v => v != 0);
                Assert.True(pathRowsWritten == unfused, $"{field}: path rows written {pathRowsWritten}, unfused {unfused}");
            }
        }
    }

    [Fact]
    public void Forward_writes_neither_activations_below_a_max_pooling_nor_its_argmax()
    {
        var network = PooledReluNet.CreateRandom(6);
        var inputs = Random(47, 5 * PooledReluNet.InputLength);
        var buffers = WorkspaceBuffersAfter(() => network.Forward(inputs, new float[5 * PooledReluNet.OutputLength]));
        Assert.True(buffers[0].Values.Any(v => v != 0), "conv1's pre-activation is written");
        Assert.All(buffers.Skip(1), b => Assert.True(b.Values.All(v => v == 0), $"{b.Field} is written"));
    }

    // Runs a call on a new thread and reads back that thread's workspace buffers below pool1 (generated private members).
    private static (string Field, double[] Values, int Length)[] WorkspaceBuffersAfter(Action call)
    {
        (string, double[], int)[] result = [];
        var thread = new Thread(() =>
        {
            call();
            object workspace = typeof(PooledReluNet).GetField("t_workspace", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
            double[] Read(string field) => ((Array)workspace.GetType().GetField(field)!.GetValue(workspace)!).Cast<object>().Select(Convert.ToDouble).ToArray();
            const int conv1 = 3 * 10 * 18, pool1 = 3 * 5 * 9;
            result = [("Conv1PreActivation", Read("Conv1PreActivation"), conv1), ("Conv1Output", Read("Conv1Output"), conv1), ("Pool1Argmax", Read("Pool1Argmax"), pool1)];
        });
        thread.Start();
        thread.Join();
        Assert.NotEmpty(result);
        return result;
    }
}
