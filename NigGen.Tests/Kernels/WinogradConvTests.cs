using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Kernels;
using NigGen.Weights;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

public class WinogradConvTests
{
    public static IEnumerable<object[]> Geometries() => new[]
    {
        new object[] { new[] { 16, 12, 12, 32, 5, 5, 0 } }, // the small CNN's second layer: 8×8 outputs, four whole 4×4 tiles
        new object[] { new[] { 20, 13, 11, 40, 5, 5, 2 } }, // padded, odd sizes: partial tiles; channels not a whole vector
        new object[] { new[] { 8, 7, 9, 16, 3, 3, 1 } },    // 3×3 padded: 7×9 outputs in 4×4 tiles, the last ones partial
        new object[] { new[] { 9, 6, 6, 17, 3, 3, 0 } },    // exactly one 4×4 tile; 17 output channels
        new object[] { new[] { 33, 5, 5, 16, 5, 5, 2 } },   // three vectors of input channels
        new object[] { new[] { 8, 30, 30, 16, 3, 3, 1 } },  // 64 tiles: two blocks of 32
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Matches_the_double_reference_and_does_not_depend_on_the_batch(int[] shape)
    {
        var g = new ConvGeometry(shape[0], shape[1], shape[2], shape[3], shape[4], shape[5], 1, 1, shape[6], shape[6]);
        Assert.True(WinogradConv.Applies(g));
        Assert.Equal(System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated, WinogradConv.Supports(g));
        var layer = Layer.Create("conv", [g.OutChannels, g.InChannels, g.KernelHeight, g.KernelWidth], hasBias: true, new RandomWeightSource(shape[0]));
        Assert.False(layer.HasWinogradWeight); // built on the first call that runs Winograd's algorithm

        var random = new Random(g.GetHashCode());
        // Samples of fewer than 32 tiles share blocks (8 of the small CNN's, 32 of a one-tile image): 35 samples end in a
        // partial block.
        const int batch = 35;
        float[] input = RandomArray(random, batch * g.InputLength);
        float[] output = RandomArray(random, batch * g.OutputLength); // overwritten, whatever it held
        ConvKernels.Forward(g, input, layer, output, batch, RandomArray(random, g.ScratchLength));
        Assert.Equal(WinogradConv.Supports(g), layer.HasWinogradWeight);
        Assert.Equal(WinogradConv.WeightLength(g.OutChannels, g.InChannels, g.KernelHeight), layer.WinogradWeight(out _).Length);

        double[] expected = ConvKernelsTests.ReferenceForward(g, input, layer.Weight.ToArray(), layer.Bias.ToArray(), batch, out double[] magnitude);
        for (int i = 0; i < expected.Length; i++)
        {
            // The transforms reassociate the sum: a few float roundings of the terms' magnitude, not of the result's.
            Close(expected[i], output[i], 1e-5 * magnitude[i] + 1e-6, $"{g} output {i}");
        }

        foreach (int sample in new[] { 1, batch - 1 })
        {
            float[] alone = new float[g.OutputLength];
            ConvKernels.Forward(g, input.AsSpan(sample * g.InputLength, g.InputLength), layer, alone, 1, RandomArray(random, g.ScratchLength));
            BitwiseEqual(output.AsSpan(sample * g.OutputLength, g.OutputLength), alone, $"{g}: sample {sample} alone and in a batch of {batch}");
        }
    }

    // Input gradients that run as forward convolutions on Winograd's kernels: (in, H, W, out, k, padding height,
    // padding width), whose gradient convolution maps out channels (at least 8) to in channels (at least 16) with
    // padding k − 1 − padding.
    public static IEnumerable<object[]> BackwardGeometries() => new[]
    {
        new object[] { new[] { 16, 8, 8, 32, 3, 1, 1 } },   // a ResNet block's convolution: 4 tiles, 8 samples a block
        new object[] { new[] { 16, 12, 12, 32, 5, 0, 0 } }, // the small CNN's second layer: its gradient padded by 4
        new object[] { new[] { 17, 7, 9, 9, 3, 2, 2 } },    // padding 2 of a 3×3 kernel (none in the gradient); odd sizes, partial tiles
        new object[] { new[] { 16, 9, 10, 8, 3, 1, 0 } },   // padding on one axis only
        new object[] { new[] { 16, 30, 30, 8, 3, 1, 1 } },  // 64 tiles a sample: blocks within a sample
    };

    [Theory]
    [MemberData(nameof(BackwardGeometries))]
    public void Input_gradient_as_a_forward_convolution_matches_the_double_reference_and_does_not_depend_on_the_batch(int[] shape)
    {
        var g = new ConvGeometry(shape[0], shape[1], shape[2], shape[3], shape[4], shape[4], 1, 1, shape[5], shape[6]);
        Assert.True(g.BackwardInputIsForward && WinogradConv.Applies(g.BackwardInputAsForward));
        bool winograd = WinogradConv.Supports(g.BackwardInputAsForward); // false where Vector256 is not accelerated
        var layer = Layer.Create("conv", [g.OutChannels, g.InChannels, g.KernelHeight, g.KernelWidth], hasBias: true, new RandomWeightSource(shape[0]));
        Assert.False(layer.HasWinogradBackwardWeight);

        var random = new Random(g.GetHashCode());
        const int batch = 35;
        float[] gradient = RandomArray(random, batch * g.OutputLength);
        float[] result = RandomArray(random, batch * g.InputLength); // overwritten, whatever it held
        ConvKernels.BackwardInput(g, gradient, layer, result, batch, RandomArray(random, g.ScratchLength));
        Assert.Equal(System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated, layer.HasWinogradBackwardWeight);
        Assert.False(layer.HasWinogradWeight);

        // Near the borders an element sums few terms while the transforms' rounding scales with the whole tile's: the
        // error is bounded by the sample's largest sum of magnitudes (1.5e-5 of an element's own was seen at a corner).
        double[] expected = ConvKernelsTests.ReferenceBackward(g, gradient, layer.Weight.ToArray(), batch, out double[] magnitude);
        for (int s = 0; s < batch; s++)
        {
            double largest = magnitude.AsSpan(s * g.InputLength, g.InputLength).ToArray().Max();
            for (int i = s * g.InputLength; i < (s + 1) * g.InputLength; i++)
            {
                Close(expected[i], result[i], 1e-5 * largest + 1e-6, $"{g} input gradient {i}");
            }
        }

        foreach (int sample in new[] { 1, batch - 1 })
        {
            float[] alone = new float[g.InputLength];
            ConvKernels.BackwardInput(g, gradient.AsSpan(sample * g.OutputLength, g.OutputLength), layer, alone, 1, RandomArray(random, g.ScratchLength));
            BitwiseEqual(result.AsSpan(sample * g.InputLength, g.InputLength), alone, $"{g}: sample {sample} alone and in a batch of {batch}");
        }

        // Accumulating adds the same gradient to what the buffer held: one rounding per element on Winograd's kernels;
        // GEMM and col2im (no Vector256) add each tap onto the held value, equal up to rounding.
        float[] held = RandomArray(random, batch * g.InputLength), added = (float[])held.Clone();
        ConvKernels.BackwardInput(g, gradient, layer, added, batch, new float[g.ScratchLength], accumulate: true);
        float[] sum = held.Select((v, i) => v + result[i]).ToArray();
        if (winograd)
        {
            BitwiseEqual(sum, added, $"{g}: accumulated");
        }
        else
        {
            Assert.All(Enumerable.Range(0, sum.Length), i => Close(sum[i], added[i], 1e-5 * (Math.Abs(held[i]) + magnitude[i]) + 1e-6, $"{g}: accumulated {i}"));
        }
    }

    [Theory]
    [InlineData(3e37f)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NaN)]
    public void Output_gradients_the_transforms_could_overflow_take_GEMM_and_col2im_sample_by_sample(float extreme)
    {
        var g = new ConvGeometry(16, 8, 8, 16, 3, 3, 1, 1, 1, 1);
        var layer = Layer.Create("conv", [16, 16, 3, 3], hasBias: true, new RandomWeightSource(7));
        var random = new Random(8);
        const int batch = 4;
        float[] gradient = RandomArray(random, batch * g.OutputLength);
        gradient[17] = extreme;                       // sample 0: Winograd's kernel takes none, then sample 1
        gradient[2 * g.OutputLength + 17] = extreme;  // samples 2 and 3: a run of two to the batch's end
        gradient[3 * g.OutputLength + 40] = extreme;
        float[] result = new float[batch * g.InputLength];
        ConvKernels.BackwardInput(g, gradient, layer, result, batch, new float[g.ScratchLength]);

        foreach (int s in new[] { 0, 2, 3 })
        {
            float[] exact = new float[g.InputLength];
            ConvKernels.BackwardInput(g, gradient.AsSpan(s * g.OutputLength, g.OutputLength), layer.WeightTransposed, exact, 1, new float[g.ScratchLength]);
            BitwiseEqual(exact, result.AsSpan(s * g.InputLength, g.InputLength), $"sample {s} holding {extreme}");
        }

        foreach (int s in new[] { 1 })
        {
            float[] alone = new float[g.InputLength];
            ConvKernels.BackwardInput(g, gradient.AsSpan(s * g.OutputLength, g.OutputLength), layer, alone, 1, new float[g.ScratchLength]);
            BitwiseEqual(alone, result.AsSpan(s * g.InputLength, g.InputLength), $"sample {s} beside an extreme one");
        }
    }

    [Fact]
    public void A_training_update_rewrites_the_input_gradients_transformed_weight()
    {
        var g = new ConvGeometry(16, 6, 6, 8, 3, 3, 1, 1, 1, 1);
        var layer = Layer.Create("conv", [8, 16, 3, 3], hasBias: true, new RandomWeightSource(9));
        float[] gradient = RandomArray(new Random(10), g.OutputLength);
        float[] result = new float[g.InputLength];
        ConvKernels.BackwardInput(g, gradient, layer, result, 1, new float[g.ScratchLength]);
        layer.MutableWeight[7] += 0.5f;
        layer.SynchroniseWeight(fromTransposed: false);
        ConvKernels.BackwardInput(g, gradient, layer, result, 1, new float[g.ScratchLength]);
        double[] expected = ConvKernelsTests.ReferenceBackward(g, gradient, layer.Weight.ToArray(), 1, out double[] magnitude);
        for (int i = 0; i < expected.Length; i++)
        {
            Close(expected[i], result[i], 1e-5 * magnitude[i] + 1e-6, $"input gradient {i} after the update");
        }
    }

    [Fact]
    public void A_layer_without_bias_adds_none()
    {
        var g = new ConvGeometry(8, 6, 6, 16, 3, 3, 1, 1, 1, 1);
        var layer = Layer.Create("conv", [16, 8, 3, 3], hasBias: false, new RandomWeightSource(4));
        float[] input = RandomArray(new Random(5), g.InputLength);
        float[] output = new float[g.OutputLength];
        ConvKernels.Forward(g, input, layer, output, 1, new float[g.ScratchLength]);
        double[] expected = ConvKernelsTests.ReferenceForward(g, input, layer.Weight.ToArray(), [], 1, out double[] magnitude);
        for (int i = 0; i < expected.Length; i++)
        {
            Close(expected[i], output[i], 1e-5 * magnitude[i] + 1e-6, $"output {i}");
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void The_transform_matrices_compute_a_correlation(int taps)
    {
        // y_k = Σ_j g_j d_(k+j) = Aᵀ[(G g) ⊙ (Bᵀ d)], exactly up to double rounding, for the tables the kernel's
        // hard-coded transforms implement (they are checked through the convolution above).
        var t = WinogradTransform.ForKernel(taps)!;
        int n = t.Size, m = t.Outputs;
        var random = new Random(taps);
        for (int trial = 0; trial < 20; trial++)
        {
            double[] d = new double[n], g = new double[taps];
            for (int i = 0; i < n; i++) d[i] = random.NextDouble() * 2 - 1;
            for (int i = 0; i < taps; i++) g[i] = random.NextDouble() * 2 - 1;
            var products = new double[n];
            for (int i = 0; i < n; i++)
            {
                double filtered = 0, transformed = 0;
                for (int j = 0; j < taps; j++) filtered += t.Filter[i * taps + j] * g[j];
                for (int j = 0; j < n; j++) transformed += t.InputTransposed[i * n + j] * d[j];
                products[i] = filtered * transformed;
            }

            for (int k = 0; k < m; k++)
            {
                double expected = 0, actual = 0;
                for (int j = 0; j < taps; j++) expected += g[j] * d[k + j];
                for (int i = 0; i < n; i++) actual += t.OutputTransposed[k * n + i] * products[i];
                Assert.True(Math.Abs(expected - actual) < 1e-12, $"F({m}, {taps}) output {k}: {actual} instead of {expected}");
            }
        }
    }

    [Fact]
    public void Applies_only_to_stride_1_square_3_or_5_kernels_with_enough_channels()
    {
        Assert.True(WinogradConv.Applies(new ConvGeometry(8, 8, 8, 16, 3, 3, 1, 1, 0, 0)));
        Assert.False(WinogradConv.Applies(new ConvGeometry(8, 8, 8, 16, 3, 3, 2, 2, 0, 0)));  // stride 2
        Assert.False(WinogradConv.Applies(new ConvGeometry(4, 8, 8, 16, 3, 3, 1, 1, 0, 0)));  // too few input channels
        Assert.False(WinogradConv.Applies(new ConvGeometry(8, 8, 8, 8, 3, 3, 1, 1, 0, 0)));   // too few output channels
        Assert.False(WinogradConv.Applies(new ConvGeometry(8, 8, 8, 16, 7, 7, 1, 1, 0, 0)));  // 7×7
        Assert.False(WinogradConv.Applies(new ConvGeometry(8, 1, 40, 16, 1, 5, 1, 1, 0, 0))); // 1-D
        Assert.False(WinogradConv.Applies(new ConvGeometry(8, 4, 4, 16, 3, 3, 1, 1, 0, 0)));  // 2×2 output: less than a 4×4 tile
        Assert.False(WinogradConv.Applies(new ConvGeometry(8, 8, 8, 16, 3, 3, 1, 1, 3, 3)));  // windows of padding alone
        Assert.False(WinogradConv.AppliesToWeight(16, 4, 3, 3));
        Assert.False(WinogradConv.AppliesToWeight(16, 8, 7, 7));

        // A layer whose geometry never runs Winograd's algorithm never builds (nor holds) its weight for it.
        var strided = new ConvGeometry(8, 9, 9, 16, 3, 3, 2, 2, 1, 1);
        var layer = Layer.Create("strided", [16, 8, 3, 3], true, new RandomWeightSource(1));
        ConvKernels.Forward(strided, new float[strided.InputLength], layer, new float[strided.OutputLength], 1, new float[strided.ScratchLength]);
        Assert.False(layer.HasWinogradWeight);
    }

    [Theory]
    [InlineData(3e37f, new[] { 1 })]             // finite, but the transforms would overflow
    [InlineData(float.PositiveInfinity, new[] { 1 })]
    [InlineData(float.NaN, new[] { 1 })]
    [InlineData(float.NaN, new[] { 0 })]          // Winograd's kernel takes no sample, then the rest
    [InlineData(3e37f, new[] { 0, 1 })]           // a run of two
    [InlineData(-3e37f, new[] { 2 })]             // the last sample
    [InlineData(float.NegativeInfinity, new[] { 0, 2 })]
    public void Values_the_transforms_could_overflow_take_the_direct_kernels_sample_by_sample(float extreme, int[] extremeSamples)
    {
        var g = new ConvGeometry(16, 8, 8, 16, 3, 3, 1, 1, 1, 1);
        var layer = Layer.Create("conv", [16, 16, 3, 3], hasBias: true, new RandomWeightSource(5));
        var random = new Random(6);
        const int batch = 3;
        float[] input = RandomArray(random, batch * g.InputLength);
        foreach (int s in extremeSamples)
        {
            input[s * g.InputLength + 17 + 20 * s] = extreme;
        }

        float[] output = new float[batch * g.OutputLength];
        ConvKernels.Forward(g, input, layer, output, batch, new float[g.ScratchLength]);

        // The extreme samples as the direct kernels give them (finite where they are), the others as Winograd gives them alone.
        foreach (int s in extremeSamples)
        {
            float[] direct = DirectOutput(g, layer, input, s);
            BitwiseEqual(direct, output.AsSpan(s * g.OutputLength, g.OutputLength), $"sample {s} holding {extreme}");
            if (float.IsFinite(extreme))
            {
                Assert.All(direct, v => Assert.True(float.IsFinite(v)));
            }
        }

        foreach (int s in Enumerable.Range(0, batch).Except(extremeSamples))
        {
            float[] alone = new float[g.OutputLength];
            ConvKernels.Forward(g, input.AsSpan(s * g.InputLength, g.InputLength), layer, alone, 1, new float[g.ScratchLength]);
            BitwiseEqual(alone, output.AsSpan(s * g.OutputLength, g.OutputLength), $"sample {s} beside an extreme one");
            bool reassociated = !output.AsSpan(s * g.OutputLength, g.OutputLength).SequenceEqual(DirectOutput(g, layer, input, s));
            Assert.True(reassociated == WinogradConv.Supports(g), $"sample {s} beside an extreme one went through Winograd's kernel: {reassociated}");
        }
    }

    private static float[] DirectOutput(in ConvGeometry g, Layer layer, float[] input, int sample)
    {
        float[] direct = new float[g.OutputLength];
        ConvKernels.Forward(g, input.AsSpan(sample * g.InputLength, g.InputLength), layer.Weight, layer.WeightTransposed, layer.Bias, direct, 1, new float[g.ScratchLength]);
        return direct;
    }

    [Fact]
    public void The_overflow_check_compares_every_value_with_the_largest_magnitude_allowed()
    {
        // 16 input channels and a largest weight of 2: |x| must stay below float.MaxValue / (1e5 · 16 · 2), wherever
        // the value sits (16-lane body, 8-lane body or scalar tail: 29 values have all three), NaN and infinities failing.
        var g = new ConvGeometry(16, 8, 8, 16, 3, 3, 1, 1, 1, 1);
        float limit = (float)(float.MaxValue / (1e5 * 16 * 2.0));
        foreach (int length in new[] { 1, 8, 13, 29, 1024 })
        {
            foreach (int at in new[] { 0, length / 2, Math.Max(0, length - 6), length - 1 })
            {
                float[] values = RandomArray(new Random(length + at), length);
                Assert.True(WinogradConv.CannotOverflow(g, values, 2f), $"ordinary values, length {length}");
                foreach (float bad in new[] { MathF.BitIncrement(limit), -MathF.BitIncrement(limit), float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    values[at] = bad;
                    Assert.False(WinogradConv.CannotOverflow(g, values, 2f), $"{bad} at {at} of {length}");
                }

                values[at] = MathF.BitDecrement(MathF.BitDecrement(limit));
                Assert.True(WinogradConv.CannotOverflow(g, values, 2f), $"just below the limit at {at} of {length}");
                values[at] = -values[at];
                Assert.True(WinogradConv.CannotOverflow(g, values, 2f), $"just above minus the limit at {at} of {length}");
            }
        }

        // Zero weights: every finite value is safe, NaN still is not.
        Assert.True(WinogradConv.CannotOverflow(g, [float.MaxValue, -float.MaxValue], 0f));
        Assert.False(WinogradConv.CannotOverflow(g, [1f, float.NaN], 0f));
    }

    [Fact]
    public void A_training_update_rewrites_the_transformed_weight()
    {
        var g = new ConvGeometry(8, 6, 6, 16, 5, 5, 1, 1, 2, 2);
        var layer = Layer.Create("conv", [16, 8, 5, 5], hasBias: true, new RandomWeightSource(2));
        layer.MutableWeight[7] += 0.5f;
        layer.SynchroniseWeight(fromTransposed: false);
        float[] input = RandomArray(new Random(3), g.InputLength);
        float[] output = new float[g.OutputLength];
        ConvKernels.Forward(g, input, layer, output, 1, new float[g.ScratchLength]);
        double[] expected = ConvKernelsTests.ReferenceForward(g, input, layer.Weight.ToArray(), layer.Bias.ToArray(), 1, out double[] magnitude);
        for (int i = 0; i < expected.Length; i++)
        {
            Close(expected[i], output[i], 1e-5 * magnitude[i] + 1e-6, $"output {i} after the update");
        }
    }

    // A convolution with the 2×2, stride-2 max pooling above it: (in, H, W, out, k, padding).
    public static IEnumerable<object[]> PooledGeometries() => new[]
    {
        new object[] { new[] { 16, 12, 12, 32, 5, 0 } }, // the small CNN's second layer: 8×8 → 4×4
        new object[] { new[] { 20, 13, 11, 40, 5, 2 } }, // 13×11 outputs: the pooling drops the last row and column; partial tiles
        new object[] { new[] { 8, 7, 9, 17, 3, 1 } },    // 7×9 → 3×4; 17 output channels, not a whole vector
        new object[] { new[] { 9, 4, 4, 16, 3, 1 } },    // one tile → 2×2: fewer pooled pixels than a transposition block
        new object[] { new[] { 8, 30, 30, 16, 3, 1 } },  // 64 tiles, two blocks of 32; 15×15 pooled
    };

    [Theory]
    [MemberData(nameof(PooledGeometries))]
    public void Pooling_the_tiles_gives_the_bits_of_pooling_the_stored_map(int[] shape)
    {
        var g = new ConvGeometry(shape[0], shape[1], shape[2], shape[3], shape[4], shape[4], 1, 1, shape[5], shape[5]);
        var pool = new PoolGeometry(g.OutChannels, g.OutHeight, g.OutWidth, 2, 2, 2, 2);
        var layer = Layer.Create("conv", [g.OutChannels, g.InChannels, g.KernelHeight, g.KernelWidth], hasBias: true, new RandomWeightSource(shape[0]));
        var random = new Random(g.GetHashCode());
        const int batch = 35;
        float[] input = RandomArray(random, batch * g.InputLength);
        input[3 * g.InputLength + 5] = 3e37f;     // sample 3 through the direct kernels and the stored map
        input[4 * g.InputLength + 1] = float.NaN; // and sample 4, whose NaNs the pooling passes on
        foreach (var activation in new[] { Activation.Relu, Activation.None, Activation.Gelu })
        {
            float[] pre = new float[batch * g.OutputLength], activations = new float[batch * g.OutputLength];
            float[] expected = new float[batch * pool.OutputLength];
            ConvKernels.Forward(g, input, layer, pre, batch, new float[g.ScratchLength]);
            PoolKernels.MaxForwardActivated(pool, activation, pre, activations, expected, new int[expected.Length], batch);

            // A sample pooled from the tiles never writes the full map: it keeps a value no convolution here gives.
            const float untouched = -7777.25f;
            float[] fusedPre = Enumerable.Repeat(untouched, pre.Length).ToArray();
            float[] output = RandomArray(random, expected.Length);
            ConvKernels.ForwardMaxPooled(g, pool, activation, input, layer, fusedPre, new float[pre.Length], output, new int[expected.Length], batch,
                RandomArray(random, g.ScratchLength));
            BitwiseEqual(expected, output, $"{g}, {activation}", nanPayloads: true);

            bool fromTiles = WinogradConv.Supports(g) && activation != Activation.Gelu;
            for (int s = 0; s < batch; s++)
            {
                bool stored = fusedPre[s * g.OutputLength] != untouched;
                Assert.True(stored == (!fromTiles || s is 3 or 4), $"{g}, {activation}: sample {s} {(stored ? "stored" : "did not store")} the full map");
            }

            float[] alone = new float[pool.OutputLength];
            ConvKernels.ForwardMaxPooled(g, pool, activation, input.AsSpan(g.InputLength, g.InputLength), layer, new float[g.OutputLength], new float[g.OutputLength],
                alone, new int[pool.OutputLength], 1, new float[g.ScratchLength]);
            BitwiseEqual(output.AsSpan(pool.OutputLength, pool.OutputLength), alone, $"{g}, {activation}: sample 1 alone and in a batch");
        }
    }

    [Fact]
    public void Random_geometries_pool_as_the_stored_map_does_and_write_only_their_buffers()
    {
        // Found by an independent review's probe (no bug): 3×3 and 5×5 kernels with any padding, channel counts on both
        // sides of Winograd's minimum, one-tile and many-tile images, 2×2/2, 3×3 and stride-1 poolings, three
        // activations, and batches with a zero sample and a non-finite one; the scratch and the output guarded past
        // their lengths.
        const float guard = -31337.5f;
        var random = new Random(1234);
        for (int iteration = 0; iteration < 40; iteration++)
        {
            int k = random.Next(2) == 0 ? 3 : 5, padding = random.Next(k);
            int inChannels = random.Next(3) == 0 ? random.Next(1, 40) : random.Next(8, 40);
            int outChannels = random.Next(3) == 0 ? random.Next(4, 70) : random.Next(16, 70);
            int height = random.Next(Math.Max(2, k - 2 * padding + 1), 24), width = random.Next(Math.Max(2, k - 2 * padding + 1), 24);
            if (iteration % 17 == 0)
            {
                padding = 0;
                height = width = 4 + k - 1; // one tile
            }
            else if (iteration % 23 == 0)
            {
                (height, width) = (34, 31); // several blocks a sample
            }

            var g = new ConvGeometry(inChannels, height, width, outChannels, k, k, 1, 1, padding, padding);
            int size = random.Next(4) == 0 && g.OutHeight >= 3 && g.OutWidth >= 3 ? 3 : 2, stride = random.Next(5) == 0 ? 1 : 2;
            var pool = new PoolGeometry(g.OutChannels, g.OutHeight, g.OutWidth, size, size, stride, stride);
            var layer = Layer.Create("conv", [g.OutChannels, g.InChannels, k, k], hasBias: random.Next(4) != 0, new RandomWeightSource(iteration + 1));
            var activation = new[] { Activation.Relu, Activation.Relu, Activation.None, Activation.Tanh }[random.Next(4)];
            int batch = random.Next(1, 45);
            float[] input = RandomArray(random, batch * g.InputLength);
            if (batch > 2)
            {
                Array.Clear(input, 2 * g.InputLength, g.InputLength);
            }

            if (batch > 5)
            {
                input[5 * g.InputLength + random.Next(g.InputLength)] = random.Next(2) == 0 ? float.NaN : 3e37f;
            }

            float[] pre = new float[batch * g.OutputLength], expected = new float[batch * pool.OutputLength];
            ConvKernels.Forward(g, input, layer, pre, batch, new float[g.ScratchLength]);
            PoolKernels.MaxForwardActivated(pool, activation, pre, new float[pre.Length], expected, new int[expected.Length], batch);

            float[] scratch = RandomArray(random, g.ScratchLength + 64, 1e30f), output = RandomArray(random, expected.Length + 64);
            scratch.AsSpan((int)g.ScratchLength).Fill(guard);
            output.AsSpan(expected.Length).Fill(guard);
            ConvKernels.ForwardMaxPooled(g, pool, activation, input, layer, new float[pre.Length], new float[pre.Length], output.AsSpan(0, expected.Length),
                new int[expected.Length], batch, scratch.AsSpan(0, (int)g.ScratchLength));
            string what = $"{g}, pooling {size}/{stride}, {activation}, batch {batch}";
            BitwiseEqual(expected, output.AsSpan(0, expected.Length), what, nanPayloads: true);
            Assert.True(scratch.AsSpan((int)g.ScratchLength).IndexOfAnyExcept(guard) < 0, $"{what}: written past the scratch");
            Assert.True(output.AsSpan(expected.Length).IndexOfAnyExcept(guard) < 0, $"{what}: written past the output");
        }
    }

    [Fact]
    public void A_pooling_that_does_not_read_the_convolutions_output_is_rejected_with_both_shapes()
    {
        var g = new ConvGeometry(16, 12, 12, 32, 5, 5, 1, 1, 0, 0);
        var layer = Layer.Create("conv", [32, 16, 5, 5], hasBias: true, new RandomWeightSource(2));
        var pool = new PoolGeometry(32, 12, 12, 2, 2, 2, 2);
        var error = Assert.Throws<ArgumentException>("pooling", () => ConvKernels.ForwardMaxPooled(g, pool, Activation.Relu, new float[g.InputLength], layer,
            new float[g.OutputLength], new float[g.OutputLength], new float[pool.OutputLength], new int[pool.OutputLength], 1, new float[g.ScratchLength]));
        Assert.Contains("(32, 12, 12)", error.Message);
        Assert.Contains("(32, 8, 8)", error.Message);
    }

    [Fact]
    public void A_layer_of_another_shape_is_rejected_by_name()
    {
        var g = new ConvGeometry(8, 6, 6, 16, 3, 3, 1, 1, 1, 1);
        var layer = Layer.Create("conv7", [16, 8, 5, 5], hasBias: true, new RandomWeightSource(2));
        var error = Assert.Throws<ArgumentException>("layer", () => ConvKernels.Forward(g, new float[g.InputLength], layer, new float[g.OutputLength], 1, new float[g.ScratchLength]));
        Assert.Contains("conv7", error.Message);
        Assert.Contains("[16, 8, 5, 5]", error.Message);
    }
}
