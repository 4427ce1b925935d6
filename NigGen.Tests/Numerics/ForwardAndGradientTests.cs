using System;
using System.Linq;
using NigGen.Tests.Networks;
using Xunit;

namespace NigGen.Tests.Numerics;

/// <summary>Every layer kind and activation, compiled by the generator and checked against the double-precision reference.</summary>
public sealed class ForwardAndGradientTests
{
    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Forward_matches_the_reference_for_a_batch(string name)
    {
        var subject = Subjects.ByName(name);
        var reference = subject.Reference;
        const int batch = 5;
        var input = subject.RandomInput(seed: 10, batch);
        var output = new float[batch * reference.OutputLength];

        subject.Network.Forward(input, output);

        for (int s = 0; s < batch; s++)
        {
            var expected = reference.Forward(input.AsSpan(s * reference.InputLength, reference.InputLength).ToArray().Select(v => (double)v).ToArray());
            for (int o = 0; o < expected.Length; o++)
            {
                Assert.True(Math.Abs(expected[o] - output[s * reference.OutputLength + o]) < 1e-5 + 1e-5 * Math.Abs(expected[o]),
                    $"{name} sample {s} output {o}: expected {expected[o]}, got {output[s * reference.OutputLength + o]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Subjects.All), MemberType = typeof(Subjects))]
    public void Input_gradient_matches_finite_differences_of_the_reference(string name)
    {
        var subject = Subjects.ByName(name);
        var reference = subject.Reference;
        for (int target = 0; target < reference.OutputLength; target++)
        {
            var input = subject.RandomInput(seed: 20 + target);
            var gradient = new float[input.Length];
            subject.Network.InputGradient(input, target, gradient);

            var expected = FiniteDifferences.Gradient(x => reference.Forward(x)[target], input.Select(v => (double)v).ToArray());
            AssertClose(expected, gradient, $"{name} target {target}");
        }
    }

    [Fact]
    public void Batches_larger_than_one_forward_block_give_the_same_rows_as_single_samples()
    {
        var subject = Subjects.Conv2d();
        int batch = NigGen.Attribution.PathAttribution.ForwardBlock * 2 + 3;
        int inputLength = subject.Reference.InputLength, outputLength = subject.Reference.OutputLength;
        var input = subject.RandomInput(seed: 5, batch);
        var output = new float[batch * outputLength];
        subject.Network.Forward(input, output);

        var single = new float[outputLength];
        foreach (int s in new[] { 0, 63, 64, 130 })
        {
            subject.Network.Forward(input.AsSpan(s * inputLength, inputLength), single);
            Assert.Equal(single, output.AsSpan(s * outputLength, outputLength).ToArray());
        }
    }

    [Fact]
    public void Multi_threaded_forward_gives_the_single_threaded_rows()
    {
        var subject = Subjects.Conv1d();
        int batch = NigGen.Attribution.PathAttribution.ForwardBlock * 3 + 5;
        var input = subject.RandomInput(seed: 6, batch);
        var serial = new float[batch * subject.Reference.OutputLength];
        var parallel = new float[serial.Length];
        subject.Network.Forward(input, serial);
        subject.Network.Forward(input, parallel, maxDegreeOfParallelism: -1);
        Assert.Equal(serial, parallel);
        Assert.Throws<ArgumentException>(() => subject.Network.Forward(input.AsSpan(1), parallel, maxDegreeOfParallelism: 2));
    }

    [Fact]
    public void A_few_samples_on_many_threads_share_the_dense_layers_columns_and_give_the_single_threaded_rows()
    {
        // Batches too small to share out by samples run each Dense layer's column ranges on several threads (batch 15 on
        // two threads is split by samples instead; batch 100 on 16 threads in two blocks of 64 and 36, each block's layers
        // on 8); either way every row is the single-threaded one, bit for bit.
        var network = WideMlp.CreateRandom(21);
        var random = new Random(22);
        var input = Enumerable.Range(0, 100 * WideMlp.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        foreach (int batch in new[] { 1, 2, 5, 15, 100 })
        {
            var samples = input.AsSpan(0, batch * WideMlp.InputLength);
            var serial = new float[batch * WideMlp.OutputLength];
            network.Forward(samples, serial);
            foreach (int threads in new[] { 2, 3, -1, 16 })
            {
                var parallel = new float[serial.Length];
                network.Forward(samples, parallel, threads);
                Assert.True(serial.Select(BitConverter.SingleToInt32Bits).SequenceEqual(parallel.Select(BitConverter.SingleToInt32Bits)), $"batch {batch} on {threads} threads");
            }
        }

        Assert.True(NigGen.Kernels.DenseKernels.ColumnParts(1, 500, 320, 3) == 3, "fc1 of one sample is shared out");
    }

    [Theory]
    [InlineData(64, 2)]   // one block of 64 would leave a core idle: two of 32
    [InlineData(20, 2)]   // two blocks of 10
    [InlineData(9, 2)]    // too few samples for two threads
    [InlineData(200, 3)]
    [InlineData(64, 1)]
    public void Multi_threaded_forward_splits_small_batches_across_threads_and_gives_the_single_threaded_rows(int batch, int threads)
    {
        var subject = Subjects.SmallMlp();
        var description = subject.Network.Description;
        var (block, used) = NigGen.Attribution.PathAttribution.ForwardSplit(description, batch, threads);
        int expectedBlock = (batch + threads - 1) / threads >= NigGen.Attribution.PathAttribution.MinSamplesPerThread
            ? Math.Min(description.ForwardBlock, (batch + threads - 1) / threads)
            : description.ForwardBlock;
        Assert.Equal(expectedBlock, block);
        Assert.Equal(Math.Min(threads, (batch + block - 1) / block), used);
        if (batch == 64 && threads == 2)
        {
            Assert.Equal((32, 2), (block, used));
        }

        var input = subject.RandomInput(seed: 7, batch);
        var serial = new float[batch * subject.Reference.OutputLength];
        var parallel = new float[serial.Length];
        subject.Network.Forward(input, serial);
        subject.Network.Forward(input, parallel, threads);
        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void A_network_without_attribute_layers_predicts_and_explains_inputs()
    {
        INetwork network = Networks.ForwardOnlyNet.CreateRandom(seed: 3);
        Assert.IsNotAssignableFrom<IAttributedNetwork>(network);
        var output = new float[2];
        network.Forward([1, 2, 3, 4], output);
        var attribution = new float[4];
        float delta = network.IntegratedGradients([1, 2, 3, 4], new float[4], 1, attribution, new AttributionOptions { Steps = 200 });
        Assert.True(Math.Abs(delta) < 1e-3, $"delta {delta}");
        Assert.Equal(0, Networks.ForwardOnlyNet.ImportanceLength);
    }

    [Fact]
    public void An_empty_batch_is_a_no_op()
    {
        var subject = Subjects.SmallMlp();
        subject.Network.Forward(ReadOnlySpan<float>.Empty, Span<float>.Empty);
    }

    internal static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string what, double relative = 2e-3)
    {
        double scale = Math.Max(1e-3, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale,
                $"{what} [{i}]: expected {expected[i]:G6}, got {actual[i]:G6} (scale {scale:G3})");
        }
    }
}

public static class FiniteDifferences
{
    /// <summary>Central differences in double precision; the reference is smooth away from ReLU and max-pool kinks.</summary>
    public static double[] Gradient(Func<double[], double> function, double[] at, double step = 1e-6)
    {
        var gradient = new double[at.Length];
        var x = (double[])at.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            double original = x[i];
            x[i] = original + step;
            double up = function(x);
            x[i] = original - step;
            double down = function(x);
            x[i] = original;
            gradient[i] = (up - down) / (2 * step);
        }

        return gradient;
    }
}
