using System;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

public class DenseKernelsTests
{
    [Theory]
    [InlineData(1, 784, 256, true)]
    [InlineData(1, 5, 3, false)]
    [InlineData(5, 17, 10, true)]
    [InlineData(8, 300, 47, false)]
    [InlineData(64, 33, 129, true)]
    public void ForwardMatchesDoubleReference(int batch, int inFeatures, int outFeatures, bool withBias)
    {
        var random = new Random(batch * 31 + inFeatures * 7 + outFeatures);
        float[] input = RandomArray(random, batch * inFeatures);
        float[] weight = RandomArray(random, outFeatures * inFeatures, 0.5f);
        float[] bias = withBias ? RandomArray(random, outFeatures) : Array.Empty<float>();
        float[] output = new float[batch * outFeatures];
        DenseKernels.Forward(input, Transpose(weight, outFeatures, inFeatures), bias, output, batch, inFeatures, outFeatures);

        for (int b = 0; b < batch; b++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = withBias ? bias[o] : 0, magnitude = Math.Abs(sum);
                for (int i = 0; i < inFeatures; i++)
                {
                    double term = (double)input[b * inFeatures + i] * weight[o * inFeatures + i];
                    sum += term;
                    magnitude += Math.Abs(term);
                }

                Close(sum, output[b * outFeatures + o], (inFeatures + 2) * FloatEpsilon * magnitude + 1e-30, $"y[{b},{o}]");
            }
        }
    }

    [Theory]
    [InlineData(1, 3, 5)]
    [InlineData(5, 17, 10)]
    [InlineData(64, 129, 33)]
    public void BackwardInputMatchesDoubleReference(int batch, int inFeatures, int outFeatures)
    {
        var random = new Random(batch + inFeatures + outFeatures);
        float[] gradient = RandomArray(random, batch * outFeatures);
        float[] weight = RandomArray(random, outFeatures * inFeatures);
        float[] inputGradient = RandomArray(random, batch * inFeatures);
        DenseKernels.BackwardInput(gradient, weight, inputGradient, batch, inFeatures, outFeatures);

        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < inFeatures; i++)
            {
                double sum = 0, magnitude = 0;
                for (int o = 0; o < outFeatures; o++)
                {
                    double term = (double)gradient[b * outFeatures + o] * weight[o * inFeatures + i];
                    sum += term;
                    magnitude += Math.Abs(term);
                }

                Close(sum, inputGradient[b * inFeatures + i], (outFeatures + 2) * FloatEpsilon * magnitude + 1e-30, $"dx[{b},{i}]");
            }
        }
    }

    [Theory]
    [InlineData(3, 11, 7)]
    [InlineData(9, 64, 33)]
    public void BackwardInputIsTheAdjointOfForward(int batch, int inFeatures, int outFeatures)
    {
        var random = new Random(99 + batch);
        float[] x = RandomArray(random, batch * inFeatures);
        float[] g = RandomArray(random, batch * outFeatures);
        float[] weight = RandomArray(random, outFeatures * inFeatures);
        float[] y = new float[batch * outFeatures];
        float[] dx = new float[batch * inFeatures];
        DenseKernels.Forward(x, Transpose(weight, outFeatures, inFeatures), ReadOnlySpan<float>.Empty, y, batch, inFeatures, outFeatures);
        DenseKernels.BackwardInput(g, weight, dx, batch, inFeatures, outFeatures);
        double left = Dot(y, g), right = Dot(x, dx);
        Assert.True(Math.Abs(left - right) <= 1e-4 * (1 + Math.Abs(left)), $"<Wx,g> = {left}, <x,Wᵀg> = {right}");
    }

    [Theory]
    [InlineData(10, 3, true)]
    [InlineData(37, 17, false)]
    [InlineData(784, 256, true)]
    public void RowResultDoesNotDependOnBatch(int inFeatures, int outFeatures, bool withBias)
    {
        var random = new Random(inFeatures);
        float[] input = RandomArray(random, 64 * inFeatures);
        float[] weightTransposed = RandomArray(random, inFeatures * outFeatures);
        float[] weight = Transpose(weightTransposed, inFeatures, outFeatures);
        float[] bias = withBias ? RandomArray(random, outFeatures) : Array.Empty<float>();
        float[] all = new float[64 * outFeatures];
        float[] allBack = new float[64 * inFeatures];
        DenseKernels.Forward(input, weightTransposed, bias, all, 64, inFeatures, outFeatures);
        DenseKernels.BackwardInput(all, weight, allBack, 64, inFeatures, outFeatures);

        float[] seven = new float[7 * outFeatures];
        float[] sevenBack = new float[7 * inFeatures];
        DenseKernels.Forward(input.AsSpan(14 * inFeatures), weightTransposed, bias, seven, 7, inFeatures, outFeatures);
        DenseKernels.BackwardInput(all.AsSpan(14 * outFeatures), weight, sevenBack, 7, inFeatures, outFeatures);
        BitwiseEqual(all.AsSpan(14 * outFeatures, 7 * outFeatures), seven, "forward batch 7");
        BitwiseEqual(allBack.AsSpan(14 * inFeatures, 7 * inFeatures), sevenBack, "backward batch 7");

        float[] one = new float[outFeatures];
        float[] oneBack = new float[inFeatures];
        foreach (int row in new[] { 0, 5, 18, 63 })
        {
            DenseKernels.Forward(input.AsSpan(row * inFeatures, inFeatures), weightTransposed, bias, one, 1, inFeatures, outFeatures);
            DenseKernels.BackwardInput(all.AsSpan(row * outFeatures, outFeatures), weight, oneBack, 1, inFeatures, outFeatures);
            BitwiseEqual(all.AsSpan(row * outFeatures, outFeatures), one, $"forward row {row}");
            BitwiseEqual(allBack.AsSpan(row * inFeatures, inFeatures), oneBack, $"backward row {row}");
        }
    }

    /// <summary>Shapes around every kernel boundary: m &lt; 4 (in-place panels), full and partial panels, tails, k blocks.</summary>
    public static TheoryData<int, int, int> EpilogueShapes => new()
    {
        { 1, 784, 256 }, { 1, 256, 10 }, { 2, 0, 5 }, { 3, 33, 70 }, { 4, 1, 1 }, { 5, 17, 10 }, { 8, 300, 47 },
        { 9, 64, 16 }, { 13, 2100, 33 }, { 64, 784, 256 }, { 64, 256, 10 }, { 17, 1030, 3 }, { 6, 5, 100 }, { 40, 1500, 12 }, { 51, 128, 10 },
    };

    [Theory]
    [MemberData(nameof(EpilogueShapes))]
    public void BiasSeedsTheChainsAsAFilledOutputWould(int batch, int inFeatures, int outFeatures)
    {
        // The bias is folded into the micro-kernel's accumulators: bitwise the numbers of copying it into the output
        // and accumulating the product on top.
        var random = new Random(batch * 7 + inFeatures * 3 + outFeatures);
        float[] input = RandomArray(random, batch * inFeatures);
        float[] weightTransposed = RandomArray(random, inFeatures * outFeatures);
        float[] bias = RandomArray(random, outFeatures);
        float[] output = new float[batch * outFeatures];
        DenseKernels.Forward(input, weightTransposed, bias, output, batch, inFeatures, outFeatures);

        float[] expected = new float[batch * outFeatures];
        for (int b = 0; b < batch; b++)
        {
            bias.CopyTo(expected, b * outFeatures);
        }

        Gemm.Multiply(input, weightTransposed, expected, batch, inFeatures, outFeatures, accumulate: true);
        BitwiseEqual(expected, output, "bias-seeded forward");
    }

    [Theory]
    [MemberData(nameof(EpilogueShapes))]
    public void ForwardReluIsForwardThenRelu(int batch, int inFeatures, int outFeatures)
    {
        var random = new Random(batch * 5 + inFeatures * 11 + outFeatures);
        float[] input = RandomArray(random, batch * inFeatures);
        float[] weightTransposed = RandomArray(random, inFeatures * outFeatures);
        foreach (bool withBias in new[] { true, false })
        {
            // Some biases give exact zeros, −0 and NaN outputs (zero input rows, a NaN input), so the ReLU's edge cases run
            // through every kernel: NaN stays NaN, −0 becomes +0.
            float[] bias = withBias ? RandomArray(random, outFeatures) : Array.Empty<float>();
            if (withBias)
            {
                bias[0] = -0f;
            }

            float[] x = (float[])input.Clone();
            if (batch > 1 && inFeatures > 0)
            {
                Array.Clear(x, 0, inFeatures);
                x[inFeatures] = float.NaN;
            }

            float[] expected = new float[batch * outFeatures];
            DenseKernels.Forward(x, weightTransposed, bias, expected, batch, inFeatures, outFeatures);
            ActivationKernels.Relu(expected, expected);
            float[] output = RandomArray(random, batch * outFeatures);
            DenseKernels.ForwardRelu(x, weightTransposed, bias, output, batch, inFeatures, outFeatures);
            BitwiseEqual(expected, output, withBias ? "relu(bias + x·W)" : "relu(x·W)");
        }
    }

    [Theory]
    [InlineData(1, 784, 256)]
    [InlineData(1, 500, 320)]
    [InlineData(2, 1100, 130)]
    [InlineData(5, 320, 200)]
    [InlineData(9, 256, 130)]
    [InlineData(64, 784, 256)]
    public void ColumnsSharedAmongThreadsGiveTheSingleThreadedNumbers(int batch, int inFeatures, int outFeatures)
    {
        var random = new Random(batch * 13 + inFeatures + outFeatures);
        float[] input = RandomArray(random, batch * inFeatures);
        float[] weightTransposed = RandomArray(random, inFeatures * outFeatures);
        float[] bias = RandomArray(random, outFeatures);
        float[] expected = new float[batch * outFeatures];
        float[] expectedRelu = new float[batch * outFeatures];
        DenseKernels.Forward(input, weightTransposed, bias, expected, batch, inFeatures, outFeatures);
        DenseKernels.ForwardRelu(input, weightTransposed, bias, expectedRelu, batch, inFeatures, outFeatures);
        Assert.True(DenseKernels.ColumnParts(batch, inFeatures, outFeatures, 3) > 1, "the shape is shared out");
        foreach (int threads in new[] { 2, 3, 4, -1 })
        {
            float[] output = RandomArray(random, batch * outFeatures);
            DenseKernels.Forward(input, weightTransposed, bias, output, batch, inFeatures, outFeatures, threads);
            BitwiseEqual(expected, output, $"forward on {threads} threads");
            DenseKernels.ForwardRelu(input, weightTransposed, bias, output, batch, inFeatures, outFeatures, threads);
            BitwiseEqual(expectedRelu, output, $"forward with ReLU on {threads} threads");
        }
    }

    [Fact]
    public void ColumnPartsRepayTheirThreads()
    {
        // One range per allowed thread, each at least MinWorkPerThread multiply-adds and 64 columns.
        Assert.Equal(1, DenseKernels.ColumnParts(1, 256, 10, -1));                  // a 10-class head: too narrow
        Assert.Equal(1, DenseKernels.ColumnParts(1, 100, 256, 8));                  // too little work
        Assert.Equal(2, DenseKernels.ColumnParts(1, 784, 256, 2));
        Assert.Equal(3, DenseKernels.ColumnParts(1, 784, 256, 3));                  // 200K multiply-adds: 4 ranges' worth
        Assert.Equal(4, DenseKernels.ColumnParts(64, 784, 256, 16));                // 64-column ranges at most
        Assert.Equal(1, DenseKernels.ColumnParts(1, 784, 256, 1));
        Assert.Equal(Math.Min(Environment.ProcessorCount, 4), DenseKernels.ColumnParts(64, 784, 256, -1));
        Assert.Throws<ArgumentOutOfRangeException>("maxDegreeOfParallelism", () => DenseKernels.Forward(new float[3], new float[6], [], new float[2], 1, 3, 2, -2));
    }

    [Fact]
    public void RejectsWrongLengths()
    {
        float[] x = new float[6], w = new float[12], bias = new float[4], y = new float[8];
        ThrowsLength(() => DenseKernels.Forward(x.AsSpan(0, 5), w, bias, y, 2, 3, 4), "input", 6, 5);
        ThrowsLength(() => DenseKernels.Forward(x, w.AsSpan(0, 11), bias, y, 2, 3, 4), "weightTransposed", 12, 11);
        ThrowsLength(() => DenseKernels.Forward(x, w, bias.AsSpan(0, 3), y, 2, 3, 4), "bias", 4, 3);
        ThrowsLength(() => DenseKernels.Forward(x, w, bias, y.AsSpan(0, 7), 2, 3, 4), "output", 8, 7);
        ThrowsLength(() => DenseKernels.BackwardInput(y.AsSpan(0, 7), w, x, 2, 3, 4), "outputGradient", 8, 7);
        ThrowsLength(() => DenseKernels.BackwardInput(y, w.AsSpan(0, 11), x, 2, 3, 4), "weight", 12, 11);
        ThrowsLength(() => DenseKernels.BackwardInput(y, w, x.AsSpan(0, 5), 2, 3, 4), "inputGradient", 6, 5);
        Assert.Throws<ArgumentOutOfRangeException>("batch", () => DenseKernels.Forward(x, w, bias, y, -1, 3, 4));
        ThrowsLength(() => DenseKernels.ForwardRelu(x, w, bias, y.AsSpan(0, 7), 2, 3, 4), "output", 8, 7);
        ThrowsLength(() => DenseKernels.ForwardRelu(x, w, bias.AsSpan(0, 3), y, 2, 3, 4), "bias", 4, 3);
    }
}
