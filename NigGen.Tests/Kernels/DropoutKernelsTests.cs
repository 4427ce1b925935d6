using System;
using System.Linq;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

/// <summary>Inverted dropout: its statistics, the identity at p = 0, reproducibility from the seed, and the backward pass.</summary>
public sealed class DropoutKernelsTests
{
    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.8f)]
    public void Drops_a_fraction_p_and_scales_the_rest_by_one_over_one_minus_p(float p)
    {
        const int n = 200_000;
        float[] input = RandomArray(new Random(1), n, 3f), output = new float[n], mask = new float[n];
        DropoutKernels.TrainingForward(input, p, seed: 42, stream: 7, firstIndex: 0, output, mask);
        float scale = 1f / (1f - p);
        int dropped = 0;
        for (int i = 0; i < n; i++)
        {
            if (mask[i] == 0f)
            {
                dropped++;
                Assert.Equal(0f, Math.Abs(output[i]));
            }
            else
            {
                Assert.Equal(scale, mask[i]);
                Assert.Equal(input[i] * scale, output[i]);
            }
        }

        // Binomial: within 5 standard deviations of n·p.
        double sigma = Math.Sqrt(n * p * (1 - p));
        Assert.True(Math.Abs(dropped - n * p) < 5 * sigma, $"dropped {dropped} of {n} at p = {p}");

        // Neighbours are independent: the fraction of dropped elements whose successor is dropped is p too.
        int pairs = 0, both = 0;
        for (int i = 0; i + 1 < n; i++)
        {
            if (mask[i] == 0f)
            {
                pairs++;
                both += mask[i + 1] == 0f ? 1 : 0;
            }
        }

        double pairSigma = Math.Sqrt(pairs * p * (1 - p));
        Assert.True(Math.Abs(both - pairs * p) < 5 * pairSigma, $"{both} of {pairs} dropped pairs at p = {p}");

        // The expected output is the input: the mean of the mask is 1.
        Assert.True(Math.Abs(mask.Average(m => (double)m) - 1) < 5 * Math.Sqrt(p / (1 - p) / n), $"mean mask {mask.Average(m => (double)m)}");
    }

    [Fact]
    public void Zero_probability_is_the_identity_and_one_zeroes_everything()
    {
        float[] input = { 1.5f, -0f, float.NaN, float.PositiveInfinity, -3e-40f, 7f };
        float[] output = new float[input.Length], mask = new float[input.Length];
        DropoutKernels.TrainingForward(input, 0f, seed: 3, stream: 0, firstIndex: 0, output, mask);
        BitwiseEqual(input, output, "p = 0");
        Assert.All(mask, m => Assert.Equal(1f, m));

        DropoutKernels.TrainingForward(input, 1f, seed: 3, stream: 0, firstIndex: 0, output, mask);
        Assert.All(mask, m => Assert.Equal(0f, m));
        Assert.Equal(new[] { 0f, 0f }, new[] { output[0], output[5] });
        Assert.True(float.IsNaN(output[2]) && float.IsNaN(output[3]), "NaN and ∞ times 0, as PyTorch's input·0");
    }

    [Fact]
    public void Masks_are_reproducible_from_seed_stream_and_index()
    {
        const int n = 1000;
        float[] input = RandomArray(new Random(2), n), first = new float[n], again = new float[n], mask = new float[n];
        DropoutKernels.TrainingForward(input, 0.3f, seed: 11, stream: 5, firstIndex: 0, first, mask);
        DropoutKernels.TrainingForward(input, 0.3f, seed: 11, stream: 5, firstIndex: 0, again, new float[n]);
        BitwiseEqual(first, again, "same arguments");

        // Blocks of a batch, each with its offset, draw what the whole batch draws.
        float[] blocks = new float[n], blockMask = new float[n];
        foreach (var (start, count) in new[] { (0, 300), (300, 1), (301, 699) })
        {
            DropoutKernels.TrainingForward(input.AsSpan(start, count), 0.3f, 11, 5, start, blocks.AsSpan(start, count), blockMask.AsSpan(start, count));
        }

        BitwiseEqual(first, blocks, "blocks");
        BitwiseEqual(mask, blockMask, "block masks");

        // Another stream or seed gives another mask.
        float[] other = new float[n];
        DropoutKernels.TrainingForward(input, 0.3f, seed: 11, stream: 6, firstIndex: 0, other, new float[n]);
        Assert.True(first.Zip(other).Count(t => t.First != t.Second) > n / 5, "stream 6 repeats stream 5");
        DropoutKernels.TrainingForward(input, 0.3f, seed: 12, stream: 5, firstIndex: 0, other, new float[n]);
        Assert.True(first.Zip(other).Count(t => t.First != t.Second) > n / 5, "seed 12 repeats seed 11");

        // In place.
        float[] inPlace = (float[])input.Clone();
        DropoutKernels.TrainingForward(inPlace, 0.3f, 11, 5, 0, inPlace, new float[n]);
        BitwiseEqual(first, inPlace, "in place");
    }

    [Fact]
    public void Backward_applies_the_mask()
    {
        const int n = 37;
        var random = new Random(4);
        float[] input = RandomArray(random, n), output = new float[n], mask = new float[n];
        DropoutKernels.TrainingForward(input, 0.4f, 1, 2, 0, output, mask);
        float[] gradient = RandomArray(random, n), inputGradient = RandomArray(random, n);
        DropoutKernels.Backward(gradient, mask, inputGradient);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(gradient[i] * mask[i], inputGradient[i]);
        }

        float[] before = RandomArray(random, n), accumulated = (float[])before.Clone();
        DropoutKernels.Backward(gradient, mask, accumulated, accumulate: true);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(before[i] + gradient[i] * mask[i], accumulated[i]);
        }

        DropoutKernels.Backward(gradient, mask, gradient);
        BitwiseEqual(inputGradient, gradient, "in place");
    }

    [Fact]
    public void Bad_arguments_name_what_is_wrong()
    {
        float[] ten = new float[10];
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => DropoutKernels.TrainingForward(ten, 1.5f, 0, 0, 0, ten, ten));
        Assert.Equal("probability", error.ParamName);
        Assert.StartsWith("probability must lie between 0 and 1 but is 1.5.", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>("probability", () => DropoutKernels.TrainingForward(ten, float.NaN, 0, 0, 0, ten, ten));
        Assert.Throws<ArgumentOutOfRangeException>("firstIndex", () => DropoutKernels.TrainingForward(ten, 0.5f, 0, 0, -1, ten, ten));
        ThrowsLength(() => DropoutKernels.TrainingForward(ten, 0.5f, 0, 0, 0, new float[9], ten), "output", 10, 9);
        ThrowsLength(() => DropoutKernels.TrainingForward(ten, 0.5f, 0, 0, 0, ten, new float[9]), "mask", 10, 9);
        ThrowsLength(() => DropoutKernels.Backward(ten, new float[9], ten), "mask", 10, 9);
        ThrowsLength(() => DropoutKernels.Backward(ten, ten, new float[9]), "inputGradient", 10, 9);
    }
}
