using System;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Weights;

public class AlignedParametersTests
{
    [Fact]
    public unsafe void Every_layer_keeps_its_parameters_on_64_byte_boundaries()
    {
        var dense = Layer.Create("fc", [37, 19], hasBias: true, new RandomWeightSource(1));
        var conv = Layer.Create("conv", [16, 3, 5, 5], hasBias: true, new RandomWeightSource(2));
        var batchNorm = Layer.CreateBatchNorm("bn", 16, affine: true, 1e-5, new RandomWeightSource(3));
        var folded = Layer.FoldBatchNorm(conv, batchNorm);
        foreach (var (layer, what) in new[] { (dense, "dense"), (conv, "conv"), (folded, "folded") })
        {
            AssertAligned(layer.Weight, what + ".Weight");
            AssertAligned(layer.WeightTransposed, what + ".WeightTransposed");
            AssertAligned(layer.Bias, what + ".Bias");
        }

        AssertAligned(batchNorm.Weight, "bn.Weight");
        AssertAligned(batchNorm.Bias, "bn.Bias");
    }

    private static unsafe void AssertAligned(ReadOnlySpan<float> values, string what)
    {
        Assert.False(values.IsEmpty, what);
        fixed (float* start = values)
        {
            Assert.True((nint)start % 64 == 0, $"{what} starts {(nint)start % 64} bytes past a 64-byte boundary");
        }
    }

    [Fact]
    public void Aligned_storage_holds_exactly_what_it_is_given()
    {
        float[] values = [1f, -0f, float.NaN, 3.5f, float.Epsilon];
        var copy = AlignedFloats.CopyOf(values);
        Assert.Equal(values.Length, copy.Length);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(values[i]), BitConverter.SingleToInt32Bits(copy.Span[i]));
        }

        Assert.True(AlignedFloats.Allocate(0).Span.IsEmpty);
        Assert.True(AlignedFloats.Empty.Span.IsEmpty);
        Assert.All(AlignedFloats.Allocate(33).Span.ToArray(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => AlignedFloats.Allocate(-1));
    }
}
