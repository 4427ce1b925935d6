using System;
using System.Collections.Generic;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

/// <summary>The training kernels' weight and bias gradients against double-precision sums written from the definitions.</summary>
public class WeightGradientKernelsTests
{
    private static readonly ConvGeometry[] Geometries =
    {
        new(3, 1, 17, 5, 1, 3, 1, 1, 0, 0),   // 1D
        new(2, 1, 20, 4, 1, 5, 1, 2, 0, 2),   // 1D, stride 2, padding 2
        new(3, 9, 11, 6, 3, 3, 2, 2, 1, 1),   // stride 2, padding 1
        new(2, 7, 5, 3, 3, 2, 1, 2, 2, 1),    // asymmetric everything
        new(5, 4, 6, 7, 1, 1, 1, 1, 0, 0),    // pointwise: the input is its own columns
        new(3, 12, 12, 5, 5, 5, 1, 1, 0, 0),  // 8-wide output rows (im2col's vector path)
        new(1, 3, 3, 2, 5, 5, 1, 1, 1, 1),    // kernel larger than the input
        new(4, 9, 10, 6, 3, 3, 1, 1, 1, 1) { Groups = 2 },                           // groups 2
        new(6, 8, 9, 12, 3, 3, 2, 2, 1, 1) { Groups = 6 },                           // depthwise, two outputs per channel
        new(2, 1, 40, 3, 1, 3, 1, 1, 0, 3) { DilationWidth = 3 },                     // 1D, dilation 3
        new(6, 10, 9, 9, 3, 2, 2, 1, 3, 1) { DilationHeight = 3, DilationWidth = 2, Groups = 3 }, // all of them
    };

    public static IEnumerable<object[]> ConvCases()
    {
        for (int i = 0; i < Geometries.Length; i++)
        {
            yield return new object[] { i };
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 2)]
    [InlineData(17, 40, 33)]
    [InlineData(64, 9, 10)]
    public void Dense_weight_gradient_adds_the_batch_sum_of_outer_products(int batch, int inFeatures, int outFeatures)
    {
        var random = new Random(batch * 1000 + inFeatures * 10 + outFeatures);
        var input = RandomArray(random, batch * inFeatures);
        var gradient = RandomArray(random, batch * outFeatures);
        var weightGradient = RandomArray(random, outFeatures * inFeatures);
        var biasGradient = RandomArray(random, outFeatures);
        var initialWeight = (float[])weightGradient.Clone();
        var initialBias = (float[])biasGradient.Clone();

        DenseKernels.BackwardWeight(input, gradient, weightGradient, biasGradient, batch, inFeatures, outFeatures, new float[batch * outFeatures]);

        for (int o = 0; o < outFeatures; o++)
        {
            double bias = initialBias[o], biasSize = Math.Abs(bias);
            for (int b = 0; b < batch; b++)
            {
                bias += gradient[b * outFeatures + o];
                biasSize += Math.Abs(gradient[b * outFeatures + o]);
            }

            Close(bias, biasGradient[o], 4 * (batch + 1) * FloatEpsilon * biasSize, $"bias[{o}]");
            for (int i = 0; i < inFeatures; i++)
            {
                double sum = initialWeight[o * inFeatures + i], size = Math.Abs(sum);
                for (int b = 0; b < batch; b++)
                {
                    double term = (double)gradient[b * outFeatures + o] * input[b * inFeatures + i];
                    sum += term;
                    size += Math.Abs(term);
                }

                Close(sum, weightGradient[o * inFeatures + i], 4 * (batch + 1) * FloatEpsilon * size, $"weight[{o}, {i}]");
            }
        }
    }

    [Fact]
    public void Dense_gradients_added_block_by_block_equal_the_whole_batch_bitwise()
    {
        const int batch = 70, inFeatures = 37, outFeatures = 19;
        var random = new Random(5);
        var input = RandomArray(random, batch * inFeatures);
        var gradient = RandomArray(random, batch * outFeatures);
        var scratch = new float[batch * outFeatures];
        var whole = new float[outFeatures * inFeatures];
        var wholeBias = new float[outFeatures];
        DenseKernels.BackwardWeight(input, gradient, whole, wholeBias, batch, inFeatures, outFeatures, scratch);

        var blocks = new float[whole.Length];
        var blocksBias = new float[outFeatures];
        foreach (var (start, count) in new[] { (0, 3), (3, 64), (67, 1), (68, 2) })
        {
            DenseKernels.BackwardWeight(input.AsSpan(start * inFeatures, count * inFeatures), gradient.AsSpan(start * outFeatures, count * outFeatures), blocks, blocksBias, count, inFeatures, outFeatures, scratch);
        }

        Assert.Equal(whole, blocks);
        Assert.Equal(wholeBias, blocksBias);
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv_weight_gradient_adds_the_correlation_of_input_and_output_gradient(int index)
    {
        var g = Geometries[index];
        const int batch = 3;
        var random = new Random(100 + index);
        var input = RandomArray(random, batch * g.InputLength);
        var gradient = RandomArray(random, batch * g.OutputLength);
        var weightGradientTransposed = RandomArray(random, g.PatchLength * g.OutChannels);
        var biasGradient = RandomArray(random, g.OutChannels);
        var initialWeight = (float[])weightGradientTransposed.Clone();
        var initialBias = (float[])biasGradient.Clone();

        ConvKernels.BackwardWeight(in g, input, gradient, weightGradientTransposed, biasGradient, batch, new float[g.WeightGradientScratchLength]);

        int pixels = g.OutHeight * g.OutWidth;
        for (int oc = 0; oc < g.OutChannels; oc++)
        {
            double bias = initialBias[oc], biasSize = Math.Abs(bias);
            for (int s = 0; s < batch; s++)
            {
                for (int p = 0; p < pixels; p++)
                {
                    bias += gradient[s * g.OutputLength + oc * pixels + p];
                    biasSize += Math.Abs(gradient[s * g.OutputLength + oc * pixels + p]);
                }
            }

            Close(bias, biasGradient[oc], 4 * (batch * pixels + 1) * FloatEpsilon * biasSize, $"{g} bias[{oc}]");
            for (int k = 0; k < g.InChannelsPerGroup; k++)
            {
                int c = oc / g.OutChannelsPerGroup * g.InChannelsPerGroup + k;
                for (int kh = 0; kh < g.KernelHeight; kh++)
                {
                    for (int kw = 0; kw < g.KernelWidth; kw++)
                    {
                        int patch = (k * g.KernelHeight + kh) * g.KernelWidth + kw;
                        double sum = initialWeight[patch * g.OutChannels + oc], size = Math.Abs(sum);
                        for (int s = 0; s < batch; s++)
                        {
                            for (int y = 0; y < g.OutHeight; y++)
                            {
                                for (int x = 0; x < g.OutWidth; x++)
                                {
                                    int ih = y * g.StrideHeight - g.PaddingHeight + kh * g.DilationHeight, iw = x * g.StrideWidth - g.PaddingWidth + kw * g.DilationWidth;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth)
                                    {
                                        continue;
                                    }

                                    double term = (double)gradient[s * g.OutputLength + oc * pixels + y * g.OutWidth + x]
                                        * input[s * g.InputLength + (c * g.InHeight + ih) * g.InWidth + iw];
                                    sum += term;
                                    size += Math.Abs(term);
                                }
                            }
                        }

                        Close(sum, weightGradientTransposed[patch * g.OutChannels + oc], 4 * (batch * pixels + 1) * FloatEpsilon * size, $"{g} weight[{oc}, {c}, {kh}, {kw}]");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv_gradients_added_sample_by_sample_equal_the_whole_batch_bitwise(int index)
    {
        var g = Geometries[index];
        const int batch = 5;
        var random = new Random(200 + index);
        var input = RandomArray(random, batch * g.InputLength);
        var gradient = RandomArray(random, batch * g.OutputLength);
        var scratch = new float[g.WeightGradientScratchLength];
        var whole = new float[g.PatchLength * g.OutChannels];
        var wholeBias = new float[g.OutChannels];
        ConvKernels.BackwardWeight(in g, input, gradient, whole, wholeBias, batch, scratch);

        var parts = new float[whole.Length];
        var partsBias = new float[g.OutChannels];
        foreach (var (start, count) in new[] { (0, 2), (2, 1), (3, 2) })
        {
            ConvKernels.BackwardWeight(in g, input.AsSpan(start * g.InputLength, count * g.InputLength), gradient.AsSpan(start * g.OutputLength, count * g.OutputLength), parts, partsBias, count, scratch);
        }

        Assert.Equal(whole, parts);
        Assert.Equal(wholeBias, partsBias);
    }

    [Fact]
    public void Short_buffers_are_rejected_by_name()
    {
        var g = Geometries[2];
        var input = new float[g.InputLength];
        var gradient = new float[g.OutputLength];
        var weight = new float[g.PatchLength * g.OutChannels];
        var bias = new float[g.OutChannels];
        var error = Assert.Throws<ArgumentException>(() => ConvKernels.BackwardWeight(in g, input, gradient, weight, bias, 1, new float[g.WeightGradientScratchLength - 1]));
        Assert.Equal("scratch", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => ConvKernels.BackwardWeight(in g, input, gradient, weight.AsSpan(1), bias, 1, new float[g.WeightGradientScratchLength]));
        Assert.Equal("weightGradientTransposed", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => ConvKernels.BackwardWeight(in g, input, gradient, weight, bias.AsSpan(1), 1, new float[g.WeightGradientScratchLength]));
        Assert.Equal("biasGradient", error.ParamName);

        error = Assert.Throws<ArgumentException>(() => DenseKernels.BackwardWeight(new float[6], new float[4], new float[6], new float[2], 2, 3, 2, new float[3]));
        Assert.Equal("scratch", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => DenseKernels.BackwardWeight(new float[6], new float[4], new float[5], [], 2, 3, 2, new float[4]));
        Assert.Equal("weightGradient", error.ParamName);
    }
}
