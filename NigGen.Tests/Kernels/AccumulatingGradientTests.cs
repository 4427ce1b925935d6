using System;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

/// <summary>
/// The input-gradient kernels with <c>accumulate: true</c> add their gradient to what the destination holds (a layer read
/// by several consumers sums their gradients): the result is the destination plus what the kernel writes when it
/// overwrites, up to the rounding of adding in a different order.
/// </summary>
public sealed class AccumulatingGradientTests
{
    private static void AssertSum(float[] before, float[] overwritten, float[] accumulated, string what)
    {
        for (int i = 0; i < before.Length; i++)
        {
            double expected = (double)before[i] + overwritten[i];
            Close(expected, accumulated[i], 64 * FloatEpsilon * (Math.Abs(before[i]) + Math.Abs(overwritten[i]) + 1), $"{what}[{i}]");
        }

        Assert.NotEqual(overwritten, accumulated);
    }

    [Fact]
    public void Dense()
    {
        var random = new Random(1);
        const int batch = 3, inFeatures = 37, outFeatures = 21;
        float[] gradient = RandomArray(random, batch * outFeatures), weight = RandomArray(random, outFeatures * inFeatures);
        float[] before = RandomArray(random, batch * inFeatures, 5f);
        float[] overwritten = RandomArray(random, before.Length), accumulated = (float[])before.Clone();
        DenseKernels.BackwardInput(gradient, weight, overwritten, batch, inFeatures, outFeatures);
        DenseKernels.BackwardInput(gradient, weight, accumulated, batch, inFeatures, outFeatures, accumulate: true);
        AssertSum(before, overwritten, accumulated, "dense");
    }

    public static TheoryData<int> ConvCases => new() { 0, 1, 2, 3 };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv(int which)
    {
        ConvGeometry g = which switch
        {
            0 => new ConvGeometry(3, 9, 11, 6, 3, 3, 2, 2, 1, 1),              // im2col + col2im
            1 => new ConvGeometry(5, 4, 6, 7, 1, 1, 1, 1, 0, 0),               // pointwise: the GEMM writes the gradient
            2 => new ConvGeometry(4, 9, 10, 6, 3, 3, 1, 1, 1, 1) { Groups = 2 }, // grouped
            _ => new ConvGeometry(2, 1, 40, 3, 1, 3, 1, 1, 0, 3) { DilationWidth = 3 },
        };
        var random = new Random(10 + which);
        const int batch = 2;
        float[] gradient = RandomArray(random, batch * g.OutputLength);
        float[] weightTransposed = RandomArray(random, g.PatchLength * g.OutChannels);
        float[] before = RandomArray(random, batch * g.InputLength, 5f);
        float[] overwritten = RandomArray(random, before.Length), accumulated = (float[])before.Clone();
        var scratch = new float[g.ScratchLength];
        ConvKernels.BackwardInput(g, gradient, weightTransposed, overwritten, batch, scratch);
        ConvKernels.BackwardInput(g, gradient, weightTransposed, accumulated, batch, scratch, accumulate: true);
        AssertSum(before, overwritten, accumulated, $"{g}");
    }

    [Fact]
    public void Pools()
    {
        var random = new Random(20);
        foreach (var g in new[]
                 {
                     new PoolGeometry(2, 8, 8, 2, 2, 2, 2),
                     new PoolGeometry(2, 6, 5, 3, 3, 1, 1),
                     new PoolGeometry(2, 7, 9, 3, 3, 2, 2) { PaddingHeight = 1, PaddingWidth = 1 },
                 })
        {
            const int batch = 2;
            float[] input = RandomArray(random, batch * g.InputLength), output = new float[batch * g.OutputLength];
            int[] argmax = new int[output.Length];
            PoolKernels.MaxForward(g, input, output, argmax, batch);
            float[] gradient = RandomArray(random, output.Length);
            float[] before = RandomArray(random, input.Length, 5f);

            float[] overwritten = RandomArray(random, before.Length), accumulated = (float[])before.Clone();
            PoolKernels.MaxBackward(g, gradient, argmax, overwritten, batch);
            PoolKernels.MaxBackward(g, gradient, argmax, accumulated, batch, accumulate: true);
            AssertSum(before, overwritten, accumulated, $"max {g}");

            overwritten = RandomArray(random, before.Length);
            accumulated = (float[])before.Clone();
            PoolKernels.AvgBackward(g, gradient, overwritten, batch);
            PoolKernels.AvgBackward(g, gradient, accumulated, batch, accumulate: true);
            AssertSum(before, overwritten, accumulated, $"avg {g}");
        }
    }
}
