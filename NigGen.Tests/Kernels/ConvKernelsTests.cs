using System;
using System.Collections.Generic;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

public class ConvKernelsTests
{
    private static readonly ConvGeometry[] Geometries =
    {
        new(3, 1, 17, 5, 1, 3, 1, 1, 0, 0),   // 1D
        new(2, 1, 20, 4, 1, 5, 1, 2, 0, 2),   // 1D, stride 2, padding 2
        new(1, 28, 28, 16, 5, 5, 1, 1, 0, 0), // the small CNN's first layer
        new(3, 9, 11, 6, 3, 3, 2, 2, 1, 1),   // stride 2, padding 1
        new(2, 10, 8, 3, 2, 2, 3, 3, 0, 0),   // stride larger than the kernel
        new(2, 7, 5, 3, 3, 2, 1, 2, 2, 1),    // asymmetric everything
        new(5, 4, 6, 7, 1, 1, 1, 1, 0, 0),    // pointwise: im2col skipped
        new(1, 3, 3, 2, 5, 5, 1, 1, 1, 1),    // kernel larger than the input
        new(2, 4, 4, 2, 3, 3, 1, 1, 3, 3),    // padding as large as the kernel
        new(3, 12, 12, 5, 5, 5, 1, 1, 0, 0),  // 8-wide output rows, like the small CNN's second layer
        new(4, 9, 10, 6, 3, 3, 1, 1, 1, 1) { Groups = 2 },                          // groups 2, padded
        new(6, 8, 9, 6, 3, 3, 2, 2, 1, 1) { Groups = 6 },                           // depthwise, stride 2
        new(4, 7, 8, 8, 3, 3, 1, 1, 2, 2) { Groups = 4 },                           // depthwise, two channels per group
        new(3, 12, 11, 4, 3, 3, 1, 1, 2, 2) { DilationHeight = 2, DilationWidth = 2 }, // dilation 2, "same" padding
        new(2, 1, 40, 3, 1, 3, 1, 1, 0, 3) { DilationWidth = 3 },                    // 1D, dilation 3 (Basenji, BPNet)
        new(4, 1, 30, 4, 1, 5, 1, 2, 0, 4) { DilationWidth = 2, Groups = 4 },        // 1D depthwise, dilated, stride 2
        new(6, 10, 9, 9, 3, 2, 2, 1, 3, 1) { DilationHeight = 3, DilationWidth = 2, Groups = 3 }, // all of them
        new(4, 5, 5, 6, 1, 1, 1, 1, 0, 0) { Groups = 2 },                           // grouped pointwise
    };

    public static IEnumerable<object[]> Cases()
    {
        for (int i = 0; i < Geometries.Length; i++)
        {
            yield return new object[] { i };
        }
    }

    internal static double[] ReferenceForward(in ConvGeometry g, float[] input, float[] weight, float[] bias, int batch, out double[] magnitude)
    {
        int outH = g.OutHeight, outW = g.OutWidth;
        var result = new double[batch * g.OutputLength];
        magnitude = new double[result.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                for (int y = 0; y < outH; y++)
                {
                    for (int x = 0; x < outW; x++)
                    {
                        double sum = bias.Length > 0 ? bias[oc] : 0, size = Math.Abs(sum);
                        for (int k = 0; k < g.InChannelsPerGroup; k++)
                        {
                            int c = oc / g.OutChannelsPerGroup * g.InChannelsPerGroup + k;
                            for (int kh = 0; kh < g.KernelHeight; kh++)
                            {
                                for (int kw = 0; kw < g.KernelWidth; kw++)
                                {
                                    int ih = y * g.StrideHeight - g.PaddingHeight + kh * g.DilationHeight;
                                    int iw = x * g.StrideWidth - g.PaddingWidth + kw * g.DilationWidth;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth)
                                    {
                                        continue;
                                    }

                                    double term = (double)input[b * g.InputLength + (c * g.InHeight + ih) * g.InWidth + iw]
                                        * weight[((oc * g.InChannelsPerGroup + k) * g.KernelHeight + kh) * g.KernelWidth + kw];
                                    sum += term;
                                    size += Math.Abs(term);
                                }
                            }
                        }

                        int index = b * g.OutputLength + (oc * outH + y) * outW + x;
                        result[index] = sum;
                        magnitude[index] = size;
                    }
                }
            }
        }

        return result;
    }

    internal static double[] ReferenceBackward(in ConvGeometry g, float[] gradient, float[] weight, int batch, out double[] magnitude)
    {
        int outH = g.OutHeight, outW = g.OutWidth;
        var result = new double[batch * g.InputLength];
        magnitude = new double[result.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                for (int y = 0; y < outH; y++)
                {
                    for (int x = 0; x < outW; x++)
                    {
                        double go = gradient[b * g.OutputLength + (oc * outH + y) * outW + x];
                        for (int k = 0; k < g.InChannelsPerGroup; k++)
                        {
                            int c = oc / g.OutChannelsPerGroup * g.InChannelsPerGroup + k;
                            for (int kh = 0; kh < g.KernelHeight; kh++)
                            {
                                for (int kw = 0; kw < g.KernelWidth; kw++)
                                {
                                    int ih = y * g.StrideHeight - g.PaddingHeight + kh * g.DilationHeight;
                                    int iw = x * g.StrideWidth - g.PaddingWidth + kw * g.DilationWidth;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth)
                                    {
                                        continue;
                                    }

                                    int index = b * g.InputLength + (c * g.InHeight + ih) * g.InWidth + iw;
                                    double term = go * weight[((oc * g.InChannelsPerGroup + k) * g.KernelHeight + kh) * g.KernelWidth + kw];
                                    result[index] += term;
                                    magnitude[index] += Math.Abs(term);
                                }
                            }
                        }
                    }
                }
            }
        }

        return result;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesDirectConvolution(int which)
    {
        ConvGeometry g = Geometries[which];
        var random = new Random(which);
        foreach (int batch in new[] { 1, 3 })
        {
            foreach (bool withBias in new[] { true, false })
            {
                float[] input = RandomArray(random, batch * g.InputLength);
                float[] weight = RandomArray(random, g.OutChannels * g.PatchLength);
                float[] bias = withBias ? RandomArray(random, g.OutChannels) : Array.Empty<float>();
                float[] output = RandomArray(random, batch * g.OutputLength);
                float[] scratch = RandomArray(random, g.ScratchLength);
                ConvKernels.Forward(g, input, weight, bias, output, batch, scratch);

                double[] expected = ReferenceForward(g, input, weight, bias, batch, out double[] magnitude);
                for (int i = 0; i < expected.Length; i++)
                {
                    Close(expected[i], output[i], (g.PatchLength + 2) * FloatEpsilon * magnitude[i] + 1e-30, $"{g} batch {batch} y[{i}]");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardInputMatchesTransposedConvolution(int which)
    {
        ConvGeometry g = Geometries[which];
        var random = new Random(100 + which);
        const int batch = 2;
        float[] gradient = RandomArray(random, batch * g.OutputLength);
        float[] weight = RandomArray(random, g.OutChannels * g.PatchLength);
        float[] inputGradient = RandomArray(random, batch * g.InputLength);
        float[] scratch = RandomArray(random, g.ScratchLength);
        ConvKernels.BackwardInput(g, gradient, Transpose(weight, g.OutChannels, g.PatchLength), inputGradient, batch, scratch);

        double[] expected = ReferenceBackward(g, gradient, weight, batch, out double[] magnitude);
        int terms = g.OutChannels * g.KernelHeight * g.KernelWidth;
        for (int i = 0; i < expected.Length; i++)
        {
            Close(expected[i], inputGradient[i], (terms + 2) * FloatEpsilon * magnitude[i] + 1e-30, $"{g} dx[{i}]");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardInputIsTheAdjointOfForward(int which)
    {
        ConvGeometry g = Geometries[which];
        var random = new Random(200 + which);
        const int batch = 2;
        float[] x = RandomArray(random, batch * g.InputLength);
        float[] gradient = RandomArray(random, batch * g.OutputLength);
        float[] weight = RandomArray(random, g.OutChannels * g.PatchLength);
        float[] y = new float[batch * g.OutputLength];
        float[] dx = new float[batch * g.InputLength];
        float[] scratch = new float[g.ScratchLength];
        ConvKernels.Forward(g, x, weight, ReadOnlySpan<float>.Empty, y, batch, scratch);
        ConvKernels.BackwardInput(g, gradient, Transpose(weight, g.OutChannels, g.PatchLength), dx, batch, scratch);
        double left = Dot(y, gradient), right = Dot(x, dx);
        Assert.True(Math.Abs(left - right) <= 1e-4 * (1 + Math.Abs(left)), $"{g}: <Kx,g> = {left}, <x,Kᵀg> = {right}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SampleResultDoesNotDependOnBatch(int which)
    {
        ConvGeometry g = Geometries[which];
        var random = new Random(300 + which);
        const int batch = 7;
        float[] input = RandomArray(random, batch * g.InputLength);
        float[] weight = RandomArray(random, g.OutChannels * g.PatchLength);
        float[] weightTransposed = Transpose(weight, g.OutChannels, g.PatchLength);
        float[] bias = RandomArray(random, g.OutChannels);
        float[] scratch = new float[g.ScratchLength];
        float[] all = new float[batch * g.OutputLength];
        float[] allBack = new float[batch * g.InputLength];
        ConvKernels.Forward(g, input, weight, bias, all, batch, scratch);
        ConvKernels.BackwardInput(g, all, weightTransposed, allBack, batch, scratch);

        float[] one = new float[g.OutputLength];
        float[] oneBack = new float[g.InputLength];
        for (int s = 0; s < batch; s++)
        {
            ConvKernels.Forward(g, input.AsSpan(s * g.InputLength, g.InputLength), weight, bias, one, 1, scratch);
            ConvKernels.BackwardInput(g, all.AsSpan(s * g.OutputLength, g.OutputLength), weightTransposed, oneBack, 1, scratch);
            BitwiseEqual(all.AsSpan(s * g.OutputLength, g.OutputLength), one, $"{g} sample {s}");
            BitwiseEqual(allBack.AsSpan(s * g.InputLength, g.InputLength), oneBack, $"{g} sample {s} backward");
        }
    }

    // Geometries for the fast paths: implicit GEMM (64+ taps; channel panels full, partial and mixed), the direct kernel
    // (fewer taps, stride 1 along the width, 8+ output columns), and im2col (neither).
    public static TheoryData<int[], string> FastPathCases => new()
    {
        { [16, 12, 12, 32, 5, 5, 1, 1, 0, 0], "implicit" }, // the small CNN's second layer
        { [8, 1, 50, 20, 1, 9, 1, 2, 0, 4], "implicit" },   // 1D, stride 2, padding 4, 20 channels
        { [16, 9, 9, 40, 3, 3, 2, 2, 1, 1], "implicit" },   // 40 channels: a full panel and a partial one
        { [8, 6, 6, 5, 3, 3, 1, 1, 1, 1], "implicit" },     // 5 channels, padded
        { [8, 1, 20, 3, 1, 8, 1, 8, 0, 4], "implicit" },    // stride as large as the kernel: the padded copy outgrows im2col's buffer
        { [1, 28, 28, 16, 5, 5, 1, 1, 0, 0], "direct" },    // the small CNN's first layer: 24 columns, three vectors
        { [4, 1, 200, 13, 1, 15, 1, 1, 0, 7], "direct" },   // 1D DNA-like: 200 columns, padded, 13 channels (a partial block)
        { [2, 12, 12, 6, 5, 5, 2, 1, 2, 2], "direct" },     // stride 2 along the height only, 12 columns (overlapping vectors)
        { [3, 5, 10, 2, 3, 3, 1, 1, 0, 0], "direct" },      // exactly 8 columns
        { [3, 9, 11, 6, 3, 3, 2, 2, 1, 1], "im2col" },      // stride 2 along the width
        { [2, 10, 10, 4, 3, 3, 1, 1, 0, 0], "direct" },     // 8 columns, 18 taps
        { [2, 6, 42, 5, 3, 3, 1, 1, 0, 0], "direct" },      // 40 columns: 16-float vectors at 0, 16 and 24 (the last overlapping)
        { [1, 3, 52, 3, 1, 3, 1, 1, 0, 0], "direct" },      // 50 columns: a chunk of 48, then a vector overlapping it back to 34
        { [3, 4, 17, 4, 2, 2, 1, 1, 0, 0], "direct" },      // 16 columns: one 16-float vector; 15 would take 8-float ones
        { [2, 6, 6, 4, 3, 3, 1, 1, 0, 0], "im2col" },       // 4 columns: fewer than a vector
        { [32, 1, 100, 32, 1, 3, 1, 1, 0, 4, 4], "implicit" },  // BPNet's dilated residual convolution: 1D, dilation 4, 96 taps
        { [8, 12, 12, 20, 3, 3, 1, 1, 2, 2, 2], "implicit" },   // 2D, dilation 2, padded, 20 channels (a partial panel)
        { [16, 11, 11, 8, 3, 3, 2, 2, 2, 2, 2], "implicit" },   // dilation 2 with stride 2
        { [4, 1, 60, 8, 1, 5, 1, 1, 0, 4, 2], "im2col" },       // dilated, 20 taps: too few for the implicit GEMM
        { [6, 1, 29, 8, 1, 7, 1, 1, 0, 3], "direct" },          // 1D, padded: borders of 3 pixels, an interior of 23 read in place
        { [4, 1, 50, 8, 1, 5, 1, 1, 0, 8, 4], "im2col" },       // 1D, dilated, padded, 20 taps (direct on the 256-bit path)
        { [12, 1, 4, 16, 1, 6, 1, 2, 0, 1], "implicit" },       // 1D, every window reaches into the padding: no interior pixel
        { [16, 1, 5, 8, 1, 5, 1, 1, 0, 4], "implicit" },        // 1D, one interior pixel between four on each side
        { [13, 1, 37, 24, 1, 5, 1, 3, 0, 5, 2], "implicit" },   // 1D, stride 3, dilation 2, padding wider than the stride
    };

    [Theory]
    [MemberData(nameof(FastPathCases))]
    public void FastPathsEqualIm2ColBitwise(int[] shape, string path)
    {
        // An eleventh number is the dilation (both axes); a dilated geometry's reference is the grouped path's im2col.
        int dilation = shape.Length > 10 ? shape[10] : 1;
        var g = new ConvGeometry(shape[0], shape[1], shape[2], shape[3], shape[4], shape[5], shape[6], shape[7], shape[8], shape[9]) { DilationHeight = dilation, DilationWidth = dilation };
        // The labels are the 512-bit path's kernels; with 256-bit vectors 1-D layers take the direct kernel instead of
        // the implicit GEMM (DirectConv.PreferredOverImplicit), and without vectors everything is im2col.
        string taken = ConvKernels.FastestExactKernel(g) switch
        {
            ConvKernels.ExactKernel.Implicit => "implicit",
            ConvKernels.ExactKernel.Direct => "direct",
            _ => "im2col",
        };
        string expected = !System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "im2col"
            : !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && g.InHeight == 1 && g.StrideWidth == 1 && g.Groups == 1 && g.OutWidth >= 8 && g.PatchLength > 1 ? "direct"
            : path;
        Assert.Equal(expected, taken);

        var random = new Random(g.GetHashCode());
        const int batch = 3;
        float[] input = RandomArray(random, batch * g.InputLength);
        float[] weight = RandomArray(random, g.OutChannels * g.PatchLength);
        float[] weightTransposed = Transpose(weight, g.OutChannels, g.PatchLength);
        foreach (bool withBias in new[] { true, false })
        {
            float[] bias = withBias ? RandomArray(random, g.OutChannels) : Array.Empty<float>();
            float[] viaIm2Col = new float[batch * g.OutputLength];
            float[] viaFastest = RandomArray(random, batch * g.OutputLength);
            float[] viaFastestWithoutTranspose = RandomArray(random, batch * g.OutputLength);
            ConvKernels.Forward(g, input, weight, ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, 0, bias, viaIm2Col, batch, RandomArray(random, g.ScratchLength), ConvKernels.ForwardPath.Im2Col);
            ConvKernels.Forward(g, input, weight, weightTransposed, bias, viaFastest, batch, RandomArray(random, g.ScratchLength));
            ConvKernels.Forward(g, input, weight, bias, viaFastestWithoutTranspose, batch, RandomArray(random, g.ScratchLength));
            BitwiseEqual(viaIm2Col, viaFastest, $"{g} {taken}, bias {withBias}");
            BitwiseEqual(viaIm2Col, viaFastestWithoutTranspose, $"{g} without the transposed weight, bias {withBias}");
        }

        ThrowsLength(() => ConvKernels.Forward(g, input, weight, weightTransposed.AsSpan(1), ReadOnlySpan<float>.Empty, new float[batch * g.OutputLength], batch, new float[g.ScratchLength]), "weightTransposed", weight.Length, weight.Length - 1);
    }

    // Stride-1 layers whose input gradient Winograd's algorithm does not take, run on the implicit GEMM as a forward
    // convolution with the flipped weight: [in channels, height, width, out channels, kernel h, kernel w, padding h,
    // padding w, dilation]. Backward pixels that leave partial tiles, channel counts that leave columns outside whole
    // 8×8 blocks, and padding of the gradient from none to the whole dilated kernel.
    public static TheoryData<int[]> ImplicitBackwardCases() => new()
    {
        { [32, 1, 100, 32, 1, 3, 0, 2, 2] },  // BPNet's residual convolution: 1D, dilation 2, "same" padding
        { [13, 1, 60, 16, 1, 11, 0, 5, 1] },  // a long 1-D kernel (Basset's conv2 is 11 taps): 13 gradient channels
        { [8, 12, 12, 20, 3, 3, 2, 2, 2] },   // 2D, dilation 2, padded
        { [24, 5, 7, 16, 3, 3, 0, 0, 2] },    // dilation 2, no padding: the gradient padded by 4 on a 1×3 output
        { [8, 10, 10, 8, 7, 7, 3, 3, 1] },    // a 7×7 kernel, which has no Winograd form
    };

    [Theory]
    [MemberData(nameof(ImplicitBackwardCases))]
    public void InputGradientOnTheImplicitGemmMatchesTheDoubleReference(int[] shape)
    {
        var g = new ConvGeometry(shape[0], shape[1], shape[2], shape[3], shape[4], shape[5], 1, 1, shape[6], shape[7]) { DilationHeight = shape[8], DilationWidth = shape[8] };
        Assert.Equal(System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated, g.BackwardInputIsImplicit);
        int[] weightShape = g.KernelHeight == 1 ? [g.OutChannels, g.InChannels, g.KernelWidth] : [g.OutChannels, g.InChannels, g.KernelHeight, g.KernelWidth];
        var layer = Layer.Create("conv", weightShape, hasBias: true, new NigGen.Weights.RandomWeightSource(shape[0]));

        var random = new Random(g.GetHashCode());
        const int batch = 5;
        float[] gradient = RandomArray(random, batch * g.OutputLength);
        float[] result = RandomArray(random, batch * g.InputLength); // overwritten, whatever it held
        ConvKernels.BackwardInput(g, gradient, layer, result, batch, RandomArray(random, g.ScratchLength));
        Assert.Equal(g.BackwardInputIsImplicit, layer.HasFlippedWeight);

        double[] expected = ReferenceBackward(g, gradient, layer.Weight.ToArray(), batch, out double[] magnitude);
        int terms = g.OutChannels * g.KernelHeight * g.KernelWidth;
        for (int i = 0; i < expected.Length; i++)
        {
            Close(expected[i], result[i], (terms + 2) * FloatEpsilon * magnitude[i] + 1e-30, $"{g} dx[{i}]");
        }

        foreach (int sample in new[] { 0, batch - 1 })
        {
            float[] alone = new float[g.InputLength];
            ConvKernels.BackwardInput(g, gradient.AsSpan(sample * g.OutputLength, g.OutputLength), layer, alone, 1, new float[g.ScratchLength]);
            BitwiseEqual(result.AsSpan(sample * g.InputLength, g.InputLength), alone, $"{g}: sample {sample} alone and in a batch of {batch}");
        }

        // Accumulating forms each gradient as above, then adds it: one rounding per element on the implicit GEMM.
        float[] held = RandomArray(random, batch * g.InputLength), added = (float[])held.Clone();
        ConvKernels.BackwardInput(g, gradient, layer, added, batch, new float[g.ScratchLength], accumulate: true);
        float[] sum = new float[held.Length];
        for (int i = 0; i < sum.Length; i++)
        {
            sum[i] = held[i] + result[i];
        }

        if (g.BackwardInputIsImplicit)
        {
            BitwiseEqual(sum, added, $"{g}: accumulated");
        }
        else
        {
            for (int i = 0; i < sum.Length; i++)
            {
                Close(sum[i], added[i], 1e-5 * (Math.Abs(held[i]) + magnitude[i]) + 1e-6, $"{g}: accumulated {i}");
            }
        }

        // A training update rewrites the flipped weight.
        layer.MutableWeight[3] += 0.5f;
        layer.SynchroniseWeight(fromTransposed: false);
        ConvKernels.BackwardInput(g, gradient, layer, result, batch, new float[g.ScratchLength]);
        expected = ReferenceBackward(g, gradient, layer.Weight.ToArray(), batch, out magnitude);
        for (int i = 0; i < expected.Length; i++)
        {
            Close(expected[i], result[i], (terms + 2) * FloatEpsilon * magnitude[i] + 1e-30, $"{g} dx[{i}] after an update");
        }
    }

    [Fact]
    public void GeometryDerivesSizes()
    {
        var g = new ConvGeometry(3, 9, 11, 6, 3, 3, 2, 2, 1, 1);
        Assert.Equal(5, g.OutHeight);
        Assert.Equal(6, g.OutWidth);
        Assert.Equal(3 * 9 * 11, g.InputLength);
        Assert.Equal(6 * 5 * 6, g.OutputLength);
        Assert.Equal(27, g.PatchLength);
        Assert.Equal(3 * 11 * 13 + 27 * 32, g.ScratchLength); // the implicit GEMM's padded sample and channel panel outgrow im2col's 27·30
    }

    [Fact]
    public void DilatedAndGroupedGeometriesDeriveSizesAsPyTorch()
    {
        // Conv2d(8, 12, 3, stride=2, padding=2, dilation=2, groups=4) on 8×17×15: (17 + 4 − 4 − 1)/2 + 1 = 9, (15 + 4 − 5)/2 + 1 = 8.
        var g = new ConvGeometry(8, 17, 15, 12, 3, 3, 2, 2, 2, 2) { DilationHeight = 2, DilationWidth = 2, Groups = 4 };
        Assert.Equal(9, g.OutHeight);
        Assert.Equal(8, g.OutWidth);
        Assert.Equal(2, g.InChannelsPerGroup);
        Assert.Equal(3, g.OutChannelsPerGroup);
        Assert.Equal(2 * 3 * 3, g.PatchLength);                    // the weight is [12, 2, 3, 3]
        Assert.Equal(18 * 9 * 8 + 18 * 3, g.ScratchLength);        // one group's columns and one group's weight block
        Assert.Equal("ConvGeometry { in 8×17×15, out channels 12, kernel 3×3, stride 2×2, padding 2×2, dilation 2×2, groups 4 }", g.ToString());

        var bad = new ConvGeometry(6, 5, 5, 4, 3, 3, 1, 1, 0, 0) { Groups = 4 };
        var error = Assert.Throws<ArgumentException>(() => ConvKernels.Forward(bad, new float[150], new float[4 * 9], [], new float[36], 1, new float[100]));
        Assert.Equal("geometry needs groups that divide both the input and the output channels: in 6×5×5, out channels 4, kernel 3×3, stride 1×1, padding 0×0, groups 4. (Parameter 'geometry')", error.Message);
        var tooDilated = new ConvGeometry(1, 5, 5, 1, 3, 3, 1, 1, 0, 0) { DilationHeight = 3 };
        Assert.Contains("kernel larger than the padded input", Assert.Throws<ArgumentException>(() => ConvKernels.Forward(tooDilated, new float[25], new float[9], [], new float[25], 1, new float[100])).Message);
        var zeroDilation = new ConvGeometry(1, 5, 5, 1, 3, 3, 1, 1, 0, 0) { DilationWidth = 0 };
        Assert.Throws<ArgumentException>("geometry", () => ConvKernels.Forward(zeroDilation, new float[25], new float[9], [], new float[25], 1, new float[100]));
        var hugeDilation = new ConvGeometry(1, 5, 5, 1, 3, 3, 1, 1, 0, 0) { DilationWidth = int.MaxValue };
        Assert.Throws<ArgumentException>("geometry", () => ConvKernels.Forward(hugeDilation, new float[25], new float[9], [], new float[25], 1, new float[100]));
        var hugePadding = new ConvGeometry(1, 5, 5, 1, 3, 3, 1 << 30, 1 << 30, 1 << 30, 1 << 30) { DilationHeight = 1 << 30 };
        Assert.Contains("larger than a span can hold", Assert.Throws<ArgumentException>("geometry", () => ConvKernels.Forward(hugePadding, new float[25], new float[9], [], new float[25], 1, new float[100])).Message);

        // Small buffers, but the input gradient's padded copy on the implicit GEMM (1024 channels × 2²² columns) is not
        // (found by review: ScratchLength wrapped around to 65536).
        var hugeGradientPadding = new ConvGeometry(1, 1, (1 << 21) + 1, 1024, 1, 2, 1, 1, 0, 0) { DilationWidth = (1 << 21) - 1 };
        Assert.True(hugeGradientPadding.BackwardInputIsForward);
        var layer = Layer.Create("wide", [1024, 1, 2], hasBias: false, new NigGen.Weights.RandomWeightSource(1));
        Assert.Contains("larger than a span can hold", Assert.Throws<ArgumentException>("geometry", () => ConvKernels.BackwardInput(hugeGradientPadding, new float[2048], layer, new float[(1 << 21) + 1], 1, new float[100])).Message);
        Assert.Throws<OverflowException>(() => hugeGradientPadding.ScratchLength);
    }

    [Fact]
    public void ForwardWithALayerTakesTheGroupedWeightShape()
    {
        // A depthwise layer's weight is [channels, 1, k, k]; a layer shaped for the ungrouped convolution is refused.
        var g = new ConvGeometry(4, 6, 6, 4, 3, 3, 1, 1, 1, 1) { Groups = 4 };
        var layer = Layer.Create("depthwise", [4, 1, 3, 3], hasBias: true, new NigGen.Weights.RandomWeightSource(3));
        var random = new Random(3);
        float[] input = RandomArray(random, g.InputLength), output = new float[g.OutputLength];
        ConvKernels.Forward(g, input, layer, output, 1, new float[g.ScratchLength]);
        double[] expected = ReferenceForward(g, input, layer.Weight.ToArray(), layer.Bias.ToArray(), 1, out double[] magnitude);
        for (int i = 0; i < expected.Length; i++)
        {
            Close(expected[i], output[i], 12 * FloatEpsilon * magnitude[i] + 1e-30, $"y[{i}]");
        }

        var ungrouped = Layer.Create("conv", [4, 4, 3, 3], hasBias: true, new NigGen.Weights.RandomWeightSource(3));
        var error = Assert.Throws<ArgumentException>(() => ConvKernels.Forward(g, input, ungrouped, output, 1, new float[g.ScratchLength]));
        Assert.Equal("Layer 'conv' has a weight of shape [4, 4, 3, 3], which does not fit the convolution (ConvGeometry { in 4×6×6, out channels 4, kernel 3×3, stride 1×1, padding 1×1, groups 4 }). (Parameter 'layer')", error.Message);
    }

    [Fact]
    public void RejectsWrongLengthsAndBadGeometry()
    {
        var g = new ConvGeometry(2, 5, 5, 3, 3, 3, 1, 1, 0, 0);
        float[] x = new float[2 * g.InputLength], w = new float[g.OutChannels * g.PatchLength], bias = new float[3];
        float[] y = new float[2 * g.OutputLength], scratch = new float[g.ScratchLength];
        ThrowsLength(() => ConvKernels.Forward(g, x.AsSpan(1), w, bias, y, 2, scratch), "input", x.Length, x.Length - 1);
        ThrowsLength(() => ConvKernels.Forward(g, x, w.AsSpan(1), bias, y, 2, scratch), "weight", w.Length, w.Length - 1);
        ThrowsLength(() => ConvKernels.Forward(g, x, w, bias.AsSpan(1), y, 2, scratch), "bias", 3, 2);
        ThrowsLength(() => ConvKernels.Forward(g, x, w, bias, y.AsSpan(1), 2, scratch), "output", y.Length, y.Length - 1);
        ThrowsLength(() => ConvKernels.Forward(g, x, w, bias, y, 2, scratch.AsSpan(1)), "scratch", scratch.Length, scratch.Length - 1);
        ThrowsLength(() => ConvKernels.BackwardInput(g, y.AsSpan(1), w, x, 2, scratch), "outputGradient", y.Length, y.Length - 1);
        ThrowsLength(() => ConvKernels.BackwardInput(g, y, w.AsSpan(1), x, 2, scratch), "weightTransposed", w.Length, w.Length - 1);
        ThrowsLength(() => ConvKernels.BackwardInput(g, y, w, x.AsSpan(1), 2, scratch), "inputGradient", x.Length, x.Length - 1);
        ThrowsLength(() => ConvKernels.BackwardInput(g, y, w, x, 2, scratch.AsSpan(1)), "scratch", scratch.Length, scratch.Length - 1);

        var tooLarge = new ConvGeometry(1, 2, 2, 1, 3, 3, 1, 1, 0, 0);
        Assert.Throws<ArgumentException>("geometry", () => ConvKernels.Forward(tooLarge, x, w, bias, y, 1, scratch));
        var zeroStride = g with { StrideWidth = 0 };
        Assert.Throws<ArgumentException>("geometry", () => ConvKernels.BackwardInput(zeroStride, y, w, x, 1, scratch));
    }

    // Col2Im's vector paths (masked tails, stride 2 through −0 interleaving, whole-row blocks, the tap-range table)
    // against the plain scatter-add they replace, taps in the same order: bitwise equal, signed zeros, infinities and
    // NaNs included. The CIFAR ResNet's shapes (32×32 and 16×16 maps, stride 2 and 1) and rows of every remainder.
    public static TheoryData<ConvGeometry> Col2ImGeometries() => new()
    {
        new(16, 32, 32, 32, 3, 3, 2, 2, 1, 1),  // the ResNet's layer2.0.conv1: 16-wide rows at stride 2
        new(32, 16, 16, 64, 3, 3, 2, 2, 1, 1),  // layer3.0.conv1: 8-wide rows at stride 2
        new(32, 16, 16, 32, 3, 3, 1, 1, 1, 1),  // layer2.0.conv2: whole-row blocks for the middle column of taps
        new(3, 5, 37, 4, 2, 3, 1, 2, 1, 1),     // stride 2 along the width only, 19 columns (two groups of 8 and a tail of 3)
        new(2, 3, 23, 2, 1, 5, 1, 1, 0, 2),     // stride 1, rows of 23: a 16-, an 8- and a masked 7-wide piece
        new(2, 1, 40, 3, 1, 3, 1, 1, 0, 3) { DilationWidth = 3 },
        new(2, 1, 90, 2, 1, 40, 1, 2, 0, 20),   // a kernel longer than the tap-range table
    };

    [Theory]
    [MemberData(nameof(Col2ImGeometries))]
    public unsafe void Col2ImEqualsThePlainScatterAddBitwise(ConvGeometry g)
    {
        var random = new Random(g.GetHashCode());
        float[] columns = RandomArray(random, g.PatchLength * g.OutHeight * g.OutWidth);
        float[] input = RandomArray(random, g.InputLength);
        float[] special = [-0f, 0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon];
        for (int i = 0; i < input.Length; i += 3)
        {
            input[i] = special[i % special.Length];
        }

        for (int i = 1; i < columns.Length; i += 5)
        {
            columns[i] = special[(i / 5) % special.Length];
        }

        float[] expected = (float[])input.Clone();
        int row = 0;
        for (int c = 0; c < g.InChannels; c++)
        {
            for (int kh = 0; kh < g.KernelHeight; kh++)
            {
                for (int kw = 0; kw < g.KernelWidth; kw++, row++)
                {
                    for (int y = 0; y < g.OutHeight; y++)
                    {
                        for (int x = 0; x < g.OutWidth; x++)
                        {
                            int iy = y * g.StrideHeight - g.PaddingHeight + kh * g.DilationHeight;
                            int ix = x * g.StrideWidth - g.PaddingWidth + kw * g.DilationWidth;
                            if (iy >= 0 && iy < g.InHeight && ix >= 0 && ix < g.InWidth)
                            {
                                expected[(c * g.InHeight + iy) * g.InWidth + ix] += columns[(row * g.OutHeight + y) * g.OutWidth + x];
                            }
                        }
                    }
                }
            }
        }

        fixed (float* pc = columns, pi = input)
        {
            ConvKernels.Col2Im(g, pc, pi);
        }

        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(input[i]), $"{g} dx[{i}]: {expected[i]} expected, {input[i]} computed");
        }
    }
}
