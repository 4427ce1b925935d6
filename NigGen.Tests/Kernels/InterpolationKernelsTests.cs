using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

/// <summary>
/// The fused path kernels against the unfused sequence they replace (InterpolateRows, the activation's kernel over the
/// whole batch, then the pooling kernel), bit for bit (a NaN where the other has a NaN: KernelTestSupport.BitwiseEqual).
/// </summary>
public class InterpolationKernelsTests
{
    // Endpoint values whose interpolations hit every special case of the activations and of the max pooling's rule: NaNs
    // (one with a payload of its own, and ∞·0, ∞ − ∞ made on the way), ±∞, ±0, subnormals (LeakyReLU's 0.01·x rounds
    // them to ±0) and values that tie.
    private static readonly float[] Special =
    {
        float.NaN, BitConverter.Int32BitsToSingle(0x7FC0_0123), float.PositiveInfinity, float.NegativeInfinity,
        0f, -0f, 1f, -1f, 2f, 1e-45f, -1e-45f, -3e-39f, -0.5f, 25f,
    };

    private static readonly double[] Alphas = { 0, 1, 0.5, 1.0 / 3, 0.75, 1e-3, 0.999 };

    public static IEnumerable<object[]> Activations() =>
        Enum.GetValues<Activation>().Select(a => new object[] { a });

    // Every 2×2, stride-2 width from 1 to 20 outputs (16-, 8- and 4-lane blocks, overlapping last blocks, scalar-only
    // rows; widths a multiple of four in runs of four across rows and channels), with and without a row and a column
    // that floor mode drops; then the general windows.
    private static IEnumerable<PoolGeometry> Geometries()
    {
        for (int outW = 1; outW <= 20; outW++)
        {
            yield return new PoolGeometry(2, 4 + outW % 2, 2 * outW + outW % 2, 2, 2, 2, 2);
            yield return new PoolGeometry(1, 2, 2 * outW, 2, 2, 2, 2);
            yield return new PoolGeometry(3, 7, 2 * outW + 1, 2, 2, 2, 2);
        }

        // Larger than one tile of the path kernel (256 outputs): DigitNet's pool1 (runs of four across tiles), a width of
        // 13 (windows gathered one at a time, a last partial tile) and 259 outputs (a last tile of three, recomputed as four).
        yield return new PoolGeometry(16, 24, 24, 2, 2, 2, 2);
        yield return new PoolGeometry(5, 30, 27, 2, 2, 2, 2);
        yield return new PoolGeometry(1, 74, 14, 2, 2, 2, 2);

        yield return new PoolGeometry(2, 6, 5, 3, 3, 1, 1);    // overlapping, stride 1
        yield return new PoolGeometry(2, 10, 10, 2, 2, 3, 4);  // stride larger than the window
        yield return new PoolGeometry(2, 9, 8, 2, 2, 1, 1);    // 2×2, stride 1
        yield return new PoolGeometry(4, 1, 13, 1, 3, 1, 2);   // 1D
        yield return new PoolGeometry(3, 1, 40, 1, 20, 1, 20); // 1D, a window wider than a vector
        yield return new PoolGeometry(2, 8, 8, 2, 2, 2, 2) { PaddingHeight = 1, PaddingWidth = 1 }; // padded 2×2
        yield return new PoolGeometry(2, 7, 9, 3, 3, 2, 2) { PaddingHeight = 1, PaddingWidth = 1 }; // ResNet's stem pool
        yield return new PoolGeometry(3, 1, 11, 1, 5, 1, 2) { PaddingWidth = 2 };                   // 1D, padded
        yield return new PoolGeometry(2, 3, 5, 3, 5, 1, 1);                                          // global
    }

    private static (float[] Difference, float[] Start) Endpoints(Random random, int length, bool special)
    {
        if (!special)
        {
            // Values on a coarse grid, so that windows often tie.
            float[] difference = RandomArray(random, length, 2f), start = RandomArray(random, length, 2f);
            for (int i = 0; i < length; i += 3)
            {
                difference[i] = MathF.Round(difference[i]);
                start[i] = MathF.Round(start[i]);
            }

            return (difference, start);
        }

        var d = new float[length];
        var s = new float[length];
        for (int i = 0; i < length; i++)
        {
            d[i] = Special[random.Next(Special.Length)];
            s[i] = Special[random.Next(Special.Length)];
        }

        return (d, s);
    }

    // What the unfused path computes: every point's pre-activation, the activation over the whole batch.
    private static float[] Unfused(Activation activation, float[] difference, float[] start)
    {
        var pre = new float[Alphas.Length * start.Length];
        InterpolationKernels.InterpolateRows(difference, start, Alphas, pre);
        var post = new float[pre.Length];
        ActivationKernels.Forward(activation, pre, post);
        return post;
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void MaxPooled_equals_interpolation_activation_and_max_pooling_bitwise(Activation activation)
    {
        var random = new Random(11 + (int)activation);
        foreach (var g in Geometries())
        {
            foreach (bool special in new[] { false, true })
            {
                var (difference, start) = Endpoints(random, g.InputLength, special);
                var expected = new float[Alphas.Length * g.OutputLength];
                PoolKernels.MaxForward(g, Unfused(activation, difference, start), expected, new int[expected.Length], Alphas.Length);

                var actual = new float[expected.Length];
                InterpolationKernels.InterpolateMaxPooled(g, activation, difference, start, Alphas, actual, new float[g.InputLength], new int[g.OutputLength]);
                BitwiseEqual(expected, actual, $"{activation}, {g}, special {special}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void AvgPooled_equals_interpolation_activation_and_average_pooling_bitwise(Activation activation)
    {
        var random = new Random(23 + (int)activation);
        foreach (var g in Geometries())
        {
            foreach (bool special in new[] { false, true })
            {
                var (difference, start) = Endpoints(random, g.InputLength, special);
                var expected = new float[Alphas.Length * g.OutputLength];
                PoolKernels.AvgForward(g, Unfused(activation, difference, start), expected, Alphas.Length);

                var actual = new float[expected.Length];
                InterpolationKernels.InterpolateAvgPooled(g, activation, difference, start, Alphas, actual, new float[g.InputLength]);
                BitwiseEqual(expected, actual, $"{activation}, {g}, special {special}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Activated_equals_interpolation_then_activation_bitwise(Activation activation)
    {
        var random = new Random(37 + (int)activation);
        foreach (int length in new[] { 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100 })
        {
            foreach (bool special in new[] { false, true })
            {
                var (difference, start) = Endpoints(random, length, special);
                var actual = new float[Alphas.Length * length];
                InterpolationKernels.InterpolateActivated(activation, difference, start, Alphas, actual);
                BitwiseEqual(Unfused(activation, difference, start), actual, $"{activation}, length {length}, special {special}");
            }
        }
    }

    [Fact]
    public void Max_pooling_keeps_the_first_of_tied_signed_zeros_and_ReLU_makes_them_positive_in_every_vector_width()
    {
        // Where no element is NaN the 2×2 kernels use x86's max instruction, which returns its second operand on ties:
        // the operands' order must keep the rule's first maximum (−0 then +0 gives −0, +0 then −0 gives +0). Outputs of
        // 64 (whole 16-lane vectors), 20 (an overlapping last vector; five runs of four, the last in 4 lanes) and 6 (4-lane
        // vectors only); −0·α + s is s with its sign, so the path values are the start's.
        foreach (var g in new[] { new PoolGeometry(2, 4, 64, 2, 2, 2, 2), new PoolGeometry(1, 2, 40, 2, 2, 2, 2), new PoolGeometry(1, 2, 12, 2, 2, 2, 2) })
        {
            // Without activation both zeros survive; ReLU (max(m, +0) on the fast path) must turn −0 into +0.
            foreach (var activation in new[] { Activation.None, Activation.Relu })
            {
                var random = new Random(g.OutputLength);
                float[] difference = Enumerable.Repeat(-0f, g.InputLength).ToArray();
                float[] start = Enumerable.Range(0, g.InputLength).Select(_ => random.Next(3) switch { 0 => -0f, 1 => 0f, _ => -1f }).ToArray();
                var expected = new float[Alphas.Length * g.OutputLength];
                PoolKernels.MaxForward(g, Unfused(activation, difference, start), expected, new int[expected.Length], Alphas.Length);
                Assert.Equal(activation == Activation.None, expected.Any(v => BitConverter.SingleToInt32Bits(v) == BitConverter.SingleToInt32Bits(-0f)));
                Assert.Contains(expected, v => BitConverter.SingleToInt32Bits(v) == 0);

                var actual = new float[expected.Length];
                InterpolationKernels.InterpolateMaxPooled(g, activation, difference, start, Alphas, actual, new float[g.InputLength], new int[g.OutputLength]);
                BitwiseEqual(expected, actual, $"path max pooling of signed zeros, {activation}, {g}", nanPayloads: true);

                var stored = new float[g.OutputLength];
                PoolKernels.MaxForwardActivated(g, activation, start, new float[g.InputLength], stored, new int[g.OutputLength], 1);
                BitwiseEqual(expected.AsSpan(0, g.OutputLength), stored, $"stored max pooling of signed zeros, {activation}, {g}", nanPayloads: true);
            }
        }
    }

    [Fact]
    public void LeakyReLU_stays_before_the_maximum_where_it_would_change_a_signed_zero()
    {
        // Why only ReLU moves after the maximum: LeakyReLU takes −1e-45 (the window's first element) to −0 and +0 to +0;
        // the rule keeps the first of the tied zeros, −0, where LeakyReLU after the maximum gives +0.
        var g = new PoolGeometry(1, 2, 2, 2, 2, 2, 2);
        float[] difference = { 0f, 0f, 0f, 0f }, start = { -1e-45f, 0f, -1f, -1f };
        var output = new float[1];
        InterpolationKernels.InterpolateMaxPooled(g, Activation.LeakyRelu, difference, start, [0.5], output, new float[4], new int[1]);
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(output[0]));

        InterpolationKernels.InterpolateMaxPooled(g, Activation.Relu, difference, start, [0.5], output, new float[4], new int[1]);
        Assert.Equal(BitConverter.SingleToInt32Bits(0f), BitConverter.SingleToInt32Bits(output[0]));
    }

    [Fact]
    public void Bad_lengths_name_the_argument()
    {
        var g = new PoolGeometry(2, 4, 8, 2, 2, 2, 2);
        float[] one = new float[g.InputLength];
        double[] alphas = { 0, 0.5, 1 };
        ThrowsLength(() => InterpolationKernels.InterpolateMaxPooled(g, Activation.Relu, new float[g.InputLength - 1], one, alphas, new float[3 * g.OutputLength], one, new int[g.OutputLength]), "difference", g.InputLength, g.InputLength - 1);
        ThrowsLength(() => InterpolationKernels.InterpolateMaxPooled(g, Activation.Relu, one, new float[g.InputLength + 1], alphas, new float[3 * g.OutputLength], one, new int[g.OutputLength]), "start", g.InputLength, g.InputLength + 1);
        ThrowsLength(() => InterpolationKernels.InterpolateMaxPooled(g, Activation.Relu, one, one, alphas, new float[3 * g.OutputLength - 1], one, new int[g.OutputLength]), "output", 3 * g.OutputLength, 3 * g.OutputLength - 1);
        ThrowsLength(() => InterpolationKernels.InterpolateMaxPooled(g, Activation.Relu, one, one, alphas, new float[3 * g.OutputLength], new float[5], new int[g.OutputLength]), "sampleScratch", g.InputLength, 5);
        ThrowsLength(() => InterpolationKernels.InterpolateMaxPooled(g, Activation.Relu, one, one, alphas, new float[3 * g.OutputLength], one, new int[2]), "argmaxScratch", g.OutputLength, 2);
        ThrowsLength(() => InterpolationKernels.InterpolateAvgPooled(g, Activation.Tanh, one, one, alphas, new float[3 * g.OutputLength - 2], one), "output", 3 * g.OutputLength, 3 * g.OutputLength - 2);
        ThrowsLength(() => InterpolationKernels.InterpolateActivated(Activation.Relu, new float[4], new float[5], alphas, new float[15]), "difference", 5, 4);
        ThrowsLength(() => InterpolationKernels.InterpolateActivated(Activation.Relu, new float[5], new float[5], alphas, new float[14]), "destination", 15, 14);
        Assert.Throws<ArgumentOutOfRangeException>(() => InterpolationKernels.InterpolateActivated((Activation)9, new float[5], new float[5], alphas, new float[15]));
    }
}
