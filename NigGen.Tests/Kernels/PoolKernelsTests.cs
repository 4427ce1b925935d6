using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

public class PoolKernelsTests
{
    private static readonly PoolGeometry[] Geometries =
    {
        new(3, 8, 8, 2, 2, 2, 2),    // the common 2×2 pool
        new(2, 7, 9, 2, 3, 2, 2),    // floor mode drops the last row/column
        new(2, 6, 5, 3, 3, 1, 1),    // overlapping, stride 1
        new(1, 9, 9, 3, 3, 2, 2),    // overlapping, stride 2
        new(2, 10, 10, 2, 2, 3, 4),  // stride larger than the window
        new(4, 1, 13, 1, 3, 1, 2),   // 1D
        new(2, 1, 10, 1, 4, 1, 1),   // 1D overlapping
        new(2, 6, 24, 2, 2, 2, 2),   // 12 outputs a row: one 8-lane block and a scalar tail
        new(3, 1, 40, 1, 3, 1, 1),   // 1D, 38 outputs, contiguous lanes
        new(2, 5, 37, 3, 3, 1, 3),   // overlapping rows, strided lanes
        new(2, 4, 14, 2, 2, 2, 2),   // 2×2 with 7 outputs a row: two overlapping 4-lane blocks
        new(1, 5, 35, 2, 2, 2, 2),   // 2×2 with 17 outputs a row, floor mode drops a row and a column
        new(2, 7, 9, 3, 3, 2, 2) { PaddingHeight = 1, PaddingWidth = 1 },   // ResNet's stem pool: 3×3, stride 2, padding 1
        new(2, 6, 18, 2, 2, 2, 2) { PaddingHeight = 1, PaddingWidth = 1 },  // a padded 2×2 stays off the 2×2 vector paths
        new(3, 1, 11, 1, 5, 1, 2) { PaddingWidth = 2 },                     // 1D, padded
        new(1, 5, 4, 3, 2, 1, 1) { PaddingHeight = 1 },                     // padded vertically only
        new(3, 6, 5, 6, 5, 1, 1),    // global 2D: the window is the whole input
        new(4, 1, 23, 1, 23, 1, 1),  // global 1D
    };

    public static IEnumerable<object[]> Cases()
    {
        for (int i = 0; i < Geometries.Length; i++)
        {
            yield return new object[] { i };
        }
    }

    /// <summary>Window element offsets (within the sample) of output j, in row-major window order, padding left out.</summary>
    private static IEnumerable<int> Window(PoolGeometry g, int j)
    {
        int x = j % g.OutWidth, y = j / g.OutWidth % g.OutHeight, c = j / (g.OutWidth * g.OutHeight);
        for (int dy = 0; dy < g.SizeHeight; dy++)
        {
            for (int dx = 0; dx < g.SizeWidth; dx++)
            {
                int row = y * g.StrideHeight - g.PaddingHeight + dy, column = x * g.StrideWidth - g.PaddingWidth + dx;
                if (row >= 0 && row < g.InHeight && column >= 0 && column < g.InWidth)
                {
                    yield return (c * g.InHeight + row) * g.InWidth + column;
                }
            }
        }
    }

    [Fact]
    public void PaddingFollowsPyTorch()
    {
        // x = [1, 2, 3, 4], kernel 3, stride 2, padding 1: (4 + 2 − 3)/2 + 1 = 2 windows, [pad, 1, 2] and [2, 3, 4].
        // MaxPool1d pads with −∞; AvgPool1d (count_include_pad=True) counts the pad as 0 and divides by 3.
        var g = new PoolGeometry(1, 1, 4, 1, 3, 1, 2) { PaddingWidth = 1 };
        Assert.Equal(2, g.OutWidth);
        float[] input = { 1, 2, 3, 4 }, output = new float[2];
        int[] argmax = new int[2];
        PoolKernels.MaxForward(g, input, output, argmax, 1);
        Assert.Equal(new float[] { 2, 4 }, output);
        Assert.Equal(new[] { 1, 3 }, argmax);
        PoolKernels.AvgForward(g, input, output, 1);
        Assert.Equal(new float[] { 1, 3 }, output);
        float[] inputGradient = new float[4];
        PoolKernels.AvgBackward(g, new float[] { 3, 6 }, inputGradient, 1);
        Assert.Equal(new float[] { 1, 3, 2, 2 }, inputGradient);

        // A padded window whose real elements are all −∞ keeps −∞ and names its first real element, as PyTorch.
        float[] low = { float.NegativeInfinity, float.NegativeInfinity, 0, 0 };
        PoolKernels.MaxForward(g, low, output, argmax, 1);
        Assert.Equal(float.NegativeInfinity, output[0]);
        Assert.Equal(0, argmax[0]);

        // 2D, 2×2 windows padded by 1 on a 2×2 input: each of the 2×2 outputs sees exactly one real element.
        var corners = new PoolGeometry(1, 2, 2, 2, 2, 2, 2) { PaddingHeight = 1, PaddingWidth = 1 };
        float[] four = { -5, 6, 7, -8 }, pooled = new float[4];
        PoolKernels.MaxForward(corners, four, pooled, new int[4], 1);
        Assert.Equal(four, pooled);
        PoolKernels.AvgForward(corners, four, pooled, 1);
        Assert.Equal(new float[] { -1.25f, 1.5f, 1.75f, -2f }, pooled);
    }

    [Fact]
    public void GlobalPoolingIsTheMeanAndMaximumOfEachChannel()
    {
        // x.mean((2, 3)) and x.amax((2, 3)) over (C, H, W) = (3, 4, 5), and over (C, L) = (2, 9) for the 1-D form.
        var random = new Random(8);
        foreach (var g in new[] { new PoolGeometry(3, 4, 5, 4, 5, 1, 1), new PoolGeometry(2, 1, 9, 1, 9, 1, 1) })
        {
            Assert.Equal(g.Channels, g.OutputLength);
            const int batch = 2;
            float[] input = RandomArray(random, batch * g.InputLength, 4f);
            float[] mean = new float[batch * g.Channels], max = new float[batch * g.Channels];
            PoolKernels.AvgForward(g, input, mean, batch);
            PoolKernels.MaxForward(g, input, max, new int[max.Length], batch);
            int plane = g.InHeight * g.InWidth;
            for (int c = 0; c < batch * g.Channels; c++)
            {
                var channel = input.Skip(c * plane).Take(plane);
                Close(channel.Average(v => (double)v), mean[c], 4 * plane * FloatEpsilon, $"{g} mean {c}");
                Assert.Equal(channel.Max(), max[c]);
            }
        }
    }

    [Fact]
    public void PaddedMaxFollowsTheScalarRuleWithTiesNaNsAndInfinities()
    {
        float[] values = { float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, 0f, 1f, 1f, 2f };
        var random = new Random(9);
        foreach (var g in Geometries.Where(g => g.IsPadded))
        {
            for (int trial = 0; trial < 10; trial++)
            {
                float[] input = Enumerable.Range(0, 2 * g.InputLength).Select(_ => values[random.Next(values.Length)]).ToArray();
                float[] output = new float[2 * g.OutputLength];
                int[] argmax = new int[2 * g.OutputLength];
                PoolKernels.MaxForward(g, input, output, argmax, 2);
                for (int b = 0; b < 2; b++)
                {
                    for (int j = 0; j < g.OutputLength; j++)
                    {
                        int best = -1;
                        float max = float.NegativeInfinity;
                        foreach (int index in Window(g, j))
                        {
                            float v = input[b * g.InputLength + index];
                            best = best < 0 ? index : best;
                            if (v > max || float.IsNaN(v))
                            {
                                max = v;
                                best = index;
                            }
                        }

                        int at = b * g.OutputLength + j;
                        Assert.True(BitConverter.SingleToInt32Bits(max) == BitConverter.SingleToInt32Bits(output[at]), $"{g}, output {at}: {max} vs {output[at]}");
                        Assert.True(best == argmax[at], $"{g}, argmax {at}: {best} vs {argmax[at]}");
                    }
                }
            }
        }
    }

    [Fact]
    public void PaddingBeyondHalfTheWindowIsRefused()
    {
        var g = new PoolGeometry(1, 4, 4, 3, 3, 1, 1) { PaddingHeight = 2 };
        var error = Assert.Throws<ArgumentException>(() => PoolKernels.AvgForward(g, new float[16], new float[64], 1));
        Assert.Equal("geometry needs a padding between 0 and half the window: channels 1, in 4×4, window 3×3, stride 1×1, padding 2×0. (Parameter 'geometry')", error.Message);
        var negative = new PoolGeometry(1, 4, 4, 3, 3, 1, 1) { PaddingWidth = -1 };
        Assert.Throws<ArgumentException>(() => PoolKernels.MaxForward(negative, new float[16], new float[64], new int[64], 1));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MaxForwardAndBackwardMatchReference(int which)
    {
        PoolGeometry g = Geometries[which];
        var random = new Random(which);
        foreach (bool coarse in new[] { false, true })
        {
            const int batch = 3;
            float[] input = RandomArray(random, batch * g.InputLength);
            if (coarse)
            {
                // Few distinct values: many ties, which must resolve to the first maximum.
                for (int i = 0; i < input.Length; i++)
                {
                    input[i] = MathF.Round(input[i] * 2);
                }
            }

            float[] output = new float[batch * g.OutputLength];
            int[] argmax = new int[batch * g.OutputLength];
            PoolKernels.MaxForward(g, input, output, argmax, batch);

            float[] gradient = RandomArray(random, batch * g.OutputLength);
            float[] inputGradient = RandomArray(random, batch * g.InputLength);
            PoolKernels.MaxBackward(g, gradient, argmax, inputGradient, batch);
            double[] expectedGradient = new double[inputGradient.Length];

            for (int b = 0; b < batch; b++)
            {
                for (int j = 0; j < g.OutputLength; j++)
                {
                    int best = -1;
                    float max = float.NegativeInfinity;
                    foreach (int index in Window(g, j))
                    {
                        if (best < 0 || input[b * g.InputLength + index] > max)
                        {
                            best = index;
                            max = input[b * g.InputLength + index];
                        }
                    }

                    Assert.Equal(max, output[b * g.OutputLength + j]);
                    Assert.Equal(best, argmax[b * g.OutputLength + j]);
                    expectedGradient[b * g.InputLength + best] += gradient[b * g.OutputLength + j];
                }
            }

            for (int i = 0; i < inputGradient.Length; i++)
            {
                Close(expectedGradient[i], inputGradient[i], 1e-6, $"{g} dx[{i}]");
            }
        }
    }

    public static IEnumerable<object[]> Activations() => Enum.GetValues<Activation>().Select(a => new object[] { a });

    [Theory]
    [MemberData(nameof(Activations))]
    public void MaxForwardActivatedEqualsActivationThenMaxPoolingBitwise(Activation activation)
    {
        // Every 2×2 width (registers: runs of four, rows, overlapping blocks) and the general windows; values that tie,
        // NaNs with two payloads, infinities, signed zeros and subnormals.
        float[] special = { float.NaN, BitConverter.Int32BitsToSingle(0x7FC0_0123), float.NegativeInfinity, float.PositiveInfinity, -0f, 0f, 1f, 1f, -1e-45f, 1e-45f, -2f };
        var shapes = new List<PoolGeometry>(Geometries);
        for (int outW = 1; outW <= 20; outW++)
        {
            shapes.Add(new PoolGeometry(2, 4 + outW % 2, 2 * outW + outW % 2, 2, 2, 2, 2));
            shapes.Add(new PoolGeometry(1, 2, 2 * outW, 2, 2, 2, 2));
        }

        var random = new Random(17 + (int)activation);
        const int batch = 3;
        foreach (var g in shapes)
        {
            foreach (bool coarse in new[] { false, true })
            {
                float[] pre = coarse
                    ? Enumerable.Range(0, batch * g.InputLength).Select(_ => special[random.Next(special.Length)]).ToArray()
                    : RandomArray(random, batch * g.InputLength, 3f);
                var activations = new float[pre.Length];
                ActivationKernels.Forward(activation, pre, activations);
                var expected = new float[batch * g.OutputLength];
                PoolKernels.MaxForward(g, activations, expected, new int[expected.Length], batch);

                var actual = new float[expected.Length];
                PoolKernels.MaxForwardActivated(g, activation, pre, new float[pre.Length], actual, new int[expected.Length], batch);
                // ReLU and the maximum only select values: which NaN wins is the rule's, bit for bit.
                BitwiseEqual(expected, actual, $"{activation}, {g}, coarse {coarse}", nanPayloads: activation is Activation.None or Activation.Relu);
            }
        }
    }

    [Fact]
    public void MaxForwardActivatedNamesABadArgument()
    {
        var g = new PoolGeometry(2, 4, 8, 2, 2, 2, 2);
        float[] pre = new float[2 * g.InputLength];
        ThrowsLength(() => PoolKernels.MaxForwardActivated(g, Activation.Relu, pre, new float[pre.Length - 1], new float[2 * g.OutputLength], new int[2 * g.OutputLength], 2), "activations", pre.Length, pre.Length - 1);
        ThrowsLength(() => PoolKernels.MaxForwardActivated(g, Activation.Relu, pre, pre, new float[2 * g.OutputLength], new int[3], 2), "argmax", 2 * g.OutputLength, 3);
        ThrowsLength(() => PoolKernels.MaxForwardActivated(g, Activation.Relu, pre, pre, new float[5], new int[2 * g.OutputLength], 2), "output", 2 * g.OutputLength, 5);
    }

    [Fact]
    public void MaxTiesChooseTheFirstElement()
    {
        var g = new PoolGeometry(1, 2, 4, 2, 2, 2, 2);
        float[] input = { 1, 3, 7, 2, 3, 3, 7, 7 };
        float[] output = new float[2];
        int[] argmax = new int[2];
        PoolKernels.MaxForward(g, input, output, argmax, 1);
        Assert.Equal(new float[] { 3, 7 }, output);
        Assert.Equal(new[] { 1, 2 }, argmax);

        // Ten windows of four (eight through the vector path, two through the scalar tail), each with a tie.
        var g1 = new PoolGeometry(1, 1, 40, 1, 4, 1, 4);
        float[] ties = new float[40];
        int[] expected = new int[10];
        for (int w = 0; w < 10; w++)
        {
            int first = w % 3;
            ties[4 * w + first] = 5f;
            ties[4 * w + 3] = 5f;
            expected[w] = 4 * w + first;
        }

        ties[36] = ties[37] = ties[38] = ties[39] = float.NegativeInfinity;
        expected[9] = 36;
        ties[0] = ties[1] = ties[2] = ties[3] = float.NegativeInfinity;
        expected[0] = 0;
        float[] tieOutput = new float[10];
        int[] tieArgmax = new int[10];
        PoolKernels.MaxForward(g1, ties, tieOutput, tieArgmax, 1);
        Assert.Equal(expected, tieArgmax);
    }

    [Fact]
    public void MaxPropagatesNaNLikePyTorch()
    {
        // Ten windows of four, so both the vector lanes and the scalar tail see NaNs.
        var g = new PoolGeometry(1, 1, 40, 1, 4, 1, 4);
        float[] input = new float[40];
        for (int w = 0; w < 10; w++)
        {
            input[4 * w] = 1;
            input[4 * w + 1] = float.NaN;
            input[4 * w + 2] = 9;
            input[4 * w + 3] = w % 2 == 0 ? float.NaN : 2; // PyTorch takes every NaN it meets, so the last one wins
        }

        float[] output = new float[10];
        int[] argmax = new int[10];
        PoolKernels.MaxForward(g, input, output, argmax, 1);
        for (int w = 0; w < 10; w++)
        {
            Assert.True(float.IsNaN(output[w]), $"window {w}");
            Assert.Equal(4 * w + (w % 2 == 0 ? 3 : 1), argmax[w]);
        }
    }

    [Fact]
    public void Max2x2FollowsTheScalarRuleWithTiesNaNsAndInfinitiesAtEveryWidth()
    {
        // Every output width reaches the 2×2 vector code (4- and 8-lane blocks, overlapping last blocks; for widths a
        // multiple of four, runs of four that cross output rows and channels, an odd number of them leaving a last
        // 4-lane run) or its scalar fallback, with and without a row and a column that floor mode drops; values drawn
        // from a tiny set make ties, NaNs, infinities and signed zeros common.
        float[] values = { float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, 0f, 1f, 1f, 2f };
        var random = new Random(5);
        var shapes = new List<PoolGeometry>();
        for (int outW = 1; outW <= 20; outW++)
        {
            shapes.Add(new PoolGeometry(2, 4, 2 * outW + outW % 2, 2, 2, 2, 2));
            shapes.Add(new PoolGeometry(1, 2, 2 * outW, 2, 2, 2, 2));
            shapes.Add(new PoolGeometry(3, 7, 2 * outW + 1, 2, 2, 2, 2));
        }

        foreach (var g in shapes)
        {
            float[] input = new float[2 * g.InputLength];
            for (int i = 0; i < input.Length; i++)
            {
                input[i] = values[random.Next(values.Length)];
            }

            float[] output = new float[2 * g.OutputLength];
            int[] argmax = new int[2 * g.OutputLength];
            PoolKernels.MaxForward(g, input, output, argmax, 2);
            float[] average = new float[2 * g.OutputLength];
            PoolKernels.AvgForward(g, input, average, 2);
            for (int b = 0; b < 2; b++)
            {
                for (int j = 0; j < g.OutputLength; j++)
                {
                    int best = -1;
                    float max = float.NegativeInfinity, sum = 0f;
                    foreach (int index in Window(g, j))
                    {
                        float v = input[b * g.InputLength + index];
                        best = best < 0 ? index : best;
                        if (v > max || float.IsNaN(v))
                        {
                            max = v;
                            best = index;
                        }

                        sum += v;
                    }

                    int at = b * g.OutputLength + j;
                    Assert.True(BitConverter.SingleToInt32Bits(max) == BitConverter.SingleToInt32Bits(output[at]), $"{g}, output {at}: {max} vs {output[at]}");
                    Assert.True(best == argmax[at], $"{g}, argmax {at}: {best} vs {argmax[at]}");
                    Assert.True(BitConverter.SingleToInt32Bits(sum / 4) == BitConverter.SingleToInt32Bits(average[at]), $"{g}, average {at}");
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 40, 1, 20, 1, 20)] // the sample's 1-D pool: 20 positions, non-overlapping
    [InlineData(1, 37, 1, 8, 1, 3)]   // exactly a vector wide, overlapping
    [InlineData(1, 50, 1, 15, 1, 7)]  // a vector and an overlapping partial one
    [InlineData(3, 30, 2, 9, 1, 4)]   // two rows of nine
    [InlineData(2, 17, 2, 17, 1, 1)]  // the whole input
    [InlineData(1, 150, 1, 70, 1, 9)] // wider than 64: two overlapping chunks of columns
    public void MaxOverWideWindowsFollowsTheScalarRuleWithTiesNaNsAndInfinities(int inH, int inW, int kh, int kw, int sh, int sw)
    {
        // Windows a vector wide or more take the vector-max-then-first-match path (NaN windows fall back to the scalar
        // scan); values from a tiny set make ties, NaNs, infinities and signed zeros common. NaN-free inputs too, so the
        // vector path is not always bypassed.
        var g = new PoolGeometry(3, inH, inW, kh, kw, sh, sw);
        float[] withNaN = { float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, 0f, 1f, 1f, 2f };
        float[] withoutNaN = { float.NegativeInfinity, -0f, 0f, 0f, 1f, 1f, 2f, -3f };
        var random = new Random(inW * 31 + kw);
        foreach (float[] values in new[] { withNaN, withoutNaN, new[] { float.NegativeInfinity } })
        {
            for (int trial = 0; trial < 20; trial++)
            {
                float[] input = new float[2 * g.InputLength];
                for (int i = 0; i < input.Length; i++)
                {
                    input[i] = values[random.Next(values.Length)];
                }

                float[] output = new float[2 * g.OutputLength];
                int[] argmax = new int[2 * g.OutputLength];
                PoolKernels.MaxForward(g, input, output, argmax, 2);
                for (int b = 0; b < 2; b++)
                {
                    for (int j = 0; j < g.OutputLength; j++)
                    {
                        int best = -1;
                        float max = float.NegativeInfinity;
                        foreach (int index in Window(g, j))
                        {
                            float v = input[b * g.InputLength + index];
                            best = best < 0 ? index : best;
                            if (v > max || float.IsNaN(v))
                            {
                                max = v;
                                best = index;
                            }
                        }

                        int at = b * g.OutputLength + j;
                        Assert.True(BitConverter.SingleToInt32Bits(max) == BitConverter.SingleToInt32Bits(output[at]), $"{g} trial {trial}, output {at}: {max} vs {output[at]}");
                        Assert.True(best == argmax[at], $"{g} trial {trial}, argmax {at}: {best} vs {argmax[at]}");
                    }
                }
            }
        }
    }

    [Fact]
    public void MaxBackwardAddsUpOverlappingWindows()
    {
        var g = new PoolGeometry(1, 1, 5, 1, 3, 1, 1);
        float[] input = { 0, 1, 9, 1, 0 };
        float[] output = new float[3];
        int[] argmax = new int[3];
        PoolKernels.MaxForward(g, input, output, argmax, 1);
        Assert.Equal(new[] { 2, 2, 2 }, argmax);
        float[] inputGradient = { 5, 5, 5, 5, 5 };
        PoolKernels.MaxBackward(g, new float[] { 1, 2, 4 }, argmax, inputGradient, 1);
        Assert.Equal(new float[] { 0, 0, 7, 0, 0 }, inputGradient);
    }

    // One window over whole rows, as GlobalAvgPool runs: channel counts with and without a remainder beyond groups of 8.
    public static TheoryData<int, int, int, int> WholeRowWindows => new()
    {
        { 11, 1, 37, 1 },  // 1-D, global
        { 19, 5, 7, 5 },   // 2-D, global
        { 9, 5, 7, 3 },    // the first three rows only (one window, stride 3)
        { 32, 1, 500, 1 }, // BPNet's global pooling
    };

    [Theory]
    [MemberData(nameof(WholeRowWindows))]
    public void AveragesOverWholeRowsAreTheScalarSumsBitwise(int channels, int height, int width, int windowHeight)
    {
        var g = new PoolGeometry(channels, height, width, windowHeight, width, windowHeight, width);
        Assert.Equal(1, g.OutputLength / channels);
        var random = new Random(channels * 100 + width);
        const int batch = 2;
        float[] input = RandomArray(random, batch * g.InputLength);
        float[] output = new float[batch * g.OutputLength];
        PoolKernels.AvgForward(g, input, output, batch);
        float[] gradient = RandomArray(random, batch * g.OutputLength);
        float[] held = RandomArray(random, batch * g.InputLength), inputGradient = (float[])held.Clone();
        PoolKernels.AvgBackward(g, gradient, inputGradient, batch, accumulate: true);

        int n = windowHeight * width;
        float[] expected = new float[output.Length], expectedGradient = (float[])held.Clone();
        for (int b = 0; b < batch; b++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = b * g.InputLength + c * height * width;
                float sum = 0f;
                float delta = gradient[b * channels + c] / n;
                for (int i = 0; i < n; i++)
                {
                    sum += input[start + i];
                    expectedGradient[start + i] += delta;
                }

                expected[b * channels + c] = sum / n;
            }
        }

        BitwiseEqual(expected, output, $"{g} averages");
        BitwiseEqual(expectedGradient, inputGradient, $"{g} input gradient");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AvgForwardAndBackwardMatchReference(int which)
    {
        PoolGeometry g = Geometries[which];
        var random = new Random(50 + which);
        const int batch = 3;
        int size = g.SizeHeight * g.SizeWidth;
        float[] input = RandomArray(random, batch * g.InputLength);
        float[] output = new float[batch * g.OutputLength];
        PoolKernels.AvgForward(g, input, output, batch);
        float[] gradient = RandomArray(random, batch * g.OutputLength);
        float[] inputGradient = RandomArray(random, batch * g.InputLength);
        PoolKernels.AvgBackward(g, gradient, inputGradient, batch);

        double[] expectedGradient = new double[inputGradient.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < g.OutputLength; j++)
            {
                double sum = 0;
                foreach (int index in Window(g, j))
                {
                    sum += input[b * g.InputLength + index];
                    expectedGradient[b * g.InputLength + index] += (double)gradient[b * g.OutputLength + j] / size;
                }

                Close(sum / size, output[b * g.OutputLength + j], (size + 1) * FloatEpsilon * 2, $"{g} y[{j}]");
            }
        }

        for (int i = 0; i < inputGradient.Length; i++)
        {
            Close(expectedGradient[i], inputGradient[i], 1e-6, $"{g} dx[{i}]");
        }

        double left = Dot(output, gradient), right = Dot(input, inputGradient);
        Assert.True(Math.Abs(left - right) <= 1e-4 * (1 + Math.Abs(left)), $"{g}: {left} vs {right}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SampleResultDoesNotDependOnBatch(int which)
    {
        PoolGeometry g = Geometries[which];
        var random = new Random(70 + which);
        const int batch = 7;
        float[] input = RandomArray(random, batch * g.InputLength);
        float[] all = new float[batch * g.OutputLength];
        int[] allIndices = new int[batch * g.OutputLength];
        float[] allAvg = new float[batch * g.OutputLength];
        float[] allAvgBack = new float[batch * g.InputLength];
        PoolKernels.MaxForward(g, input, all, allIndices, batch);
        PoolKernels.AvgForward(g, input, allAvg, batch);
        PoolKernels.AvgBackward(g, allAvg, allAvgBack, batch);

        float[] one = new float[g.OutputLength];
        int[] oneIndices = new int[g.OutputLength];
        float[] oneBack = new float[g.InputLength];
        for (int s = 0; s < batch; s++)
        {
            PoolKernels.MaxForward(g, input.AsSpan(s * g.InputLength, g.InputLength), one, oneIndices, 1);
            BitwiseEqual(all.AsSpan(s * g.OutputLength, g.OutputLength), one, "max");
            Assert.Equal(allIndices.AsSpan(s * g.OutputLength, g.OutputLength).ToArray(), oneIndices);
            PoolKernels.AvgForward(g, input.AsSpan(s * g.InputLength, g.InputLength), one, 1);
            BitwiseEqual(allAvg.AsSpan(s * g.OutputLength, g.OutputLength), one, "avg");
            PoolKernels.AvgBackward(g, allAvg.AsSpan(s * g.OutputLength, g.OutputLength), oneBack, 1);
            BitwiseEqual(allAvgBack.AsSpan(s * g.InputLength, g.InputLength), oneBack, "avg backward");
        }
    }

    [Fact]
    public void RejectsWrongLengthsAndBadGeometry()
    {
        var g = new PoolGeometry(2, 4, 4, 2, 2, 2, 2);
        float[] x = new float[2 * g.InputLength], y = new float[2 * g.OutputLength];
        int[] argmax = new int[2 * g.OutputLength];
        ThrowsLength(() => PoolKernels.MaxForward(g, x.AsSpan(1), y, argmax, 2), "input", x.Length, x.Length - 1);
        ThrowsLength(() => PoolKernels.MaxForward(g, x, y.AsSpan(1), argmax, 2), "output", y.Length, y.Length - 1);
        ThrowsLength(() => PoolKernels.MaxForward(g, x, y, argmax.AsSpan(1), 2), "argmax", argmax.Length, argmax.Length - 1);
        ThrowsLength(() => PoolKernels.MaxBackward(g, y.AsSpan(1), argmax, x, 2), "outputGradient", y.Length, y.Length - 1);
        ThrowsLength(() => PoolKernels.MaxBackward(g, y, argmax.AsSpan(1), x, 2), "argmax", argmax.Length, argmax.Length - 1);
        ThrowsLength(() => PoolKernels.MaxBackward(g, y, argmax, x.AsSpan(1), 2), "inputGradient", x.Length, x.Length - 1);
        ThrowsLength(() => PoolKernels.AvgForward(g, x.AsSpan(1), y, 2), "input", x.Length, x.Length - 1);
        ThrowsLength(() => PoolKernels.AvgBackward(g, y, x.AsSpan(1), 2), "inputGradient", x.Length, x.Length - 1);
        Assert.Throws<ArgumentException>("geometry", () => PoolKernels.AvgForward(g with { SizeWidth = 5 }, x, y, 1));
        Assert.Throws<ArgumentException>("geometry", () => PoolKernels.AvgForward(g with { StrideHeight = 0 }, x, y, 1));
    }
}
