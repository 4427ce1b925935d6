using System;
using System.Linq;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Weights;

public class RandomWeightSourceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(25)]
    [InlineData(512)]
    [InlineData(800)]
    public void StaysInsidePyTorchsHalfOpenInterval(int fanIn)
    {
        float bound = (float)(1.0 / Math.Sqrt(fanIn));
        float[] values = new RandomWeightSource(11).GetTensor("fc.weight", new[] { 100, 200 }, fanIn);

        Assert.Equal(20_000, values.Length);
        Assert.All(values, v => Assert.True(v >= -bound && v < bound, $"{v} is outside [-{bound}, {bound})"));
        Assert.True(values.Min() < -0.999f * bound);
        Assert.True(values.Max() > 0.999f * bound);
    }

    [Fact]
    public void IsUniform()
    {
        const int FanIn = 16;
        float[] values = new RandomWeightSource(5).GetTensor("w", new[] { 200_000 }, FanIn);
        double bound = 0.25;

        double mean = values.Average(v => (double)v);
        double variance = values.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, -0.002, 0.002);
        Assert.InRange(variance, bound * bound / 3 * 0.99, bound * bound / 3 * 1.01);
        int[] bins = new int[10];
        foreach (float v in values)
        {
            bins[(int)((v + bound) / (2 * bound) * 10)]++;
        }

        Assert.All(bins, count => Assert.InRange(count, 19_000, 21_000));
    }

    [Fact]
    public void IsDeterministicForASeedAndIndependentOfRequestOrder()
    {
        var first = new RandomWeightSource(42);
        float[] weight = first.GetTensor("fc1.weight", new[] { 8, 4 }, 4);
        float[] bias = first.GetTensor("fc1.bias", new[] { 8 }, 4);

        var second = new RandomWeightSource(42);
        Assert.Equal(bias, second.GetTensor("fc1.bias", new[] { 8 }, 4));
        Assert.Equal(weight, second.GetTensor("fc1.weight", new[] { 8, 4 }, 4));
        Assert.Equal(weight, first.GetTensor("fc1.weight", new[] { 8, 4 }, 4));
        Assert.Equal(42, first.Seed);
    }

    [Fact]
    public void MatchesPinnedValuesOnEveryPlatform()
    {
        // The generator is NigGen's own (xoshiro256**), so these bits must never change between runs or platforms.
        Assert.Equal(
            new uint[] { 0xBE34213C, 0xBE95A3FC, 0x3E007FF9, 0xBDFFF086 },
            new RandomWeightSource(0).GetTensor("fc1.weight", new[] { 4 }, 3).Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(
            new uint[] { 0xBE471A72, 0x3E1AD89B, 0x3D1561AD },
            new RandomWeightSource(-7).GetTensor("conv.bias", new[] { 3 }, 25).Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void DifferentSeedsAndNamesGiveDifferentValues()
    {
        float[] a = new RandomWeightSource(1).GetTensor("fc1.weight", new[] { 64 }, 8);
        float[] b = new RandomWeightSource(2).GetTensor("fc1.weight", new[] { 64 }, 8);
        float[] c = new RandomWeightSource(1).GetTensor("fc2.weight", new[] { 64 }, 8);

        Assert.True(a.Zip(b).Count(p => p.First != p.Second) > 60);
        Assert.True(a.Zip(c).Count(p => p.First != p.Second) > 60);
    }

    [Fact]
    public void HandlesEmptyShapesAndRejectsBadArguments()
    {
        var source = new RandomWeightSource(3);
        Assert.Empty(source.GetTensor("w", new[] { 0, 5 }, 5));
        Assert.Single(source.GetTensor("s", Array.Empty<int>(), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.GetTensor("w", new[] { 2 }, 0));
        Assert.Throws<ArgumentException>(() => source.GetTensor("w", new[] { 2, -1 }, 2));
        Assert.Throws<ArgumentException>(() => source.GetTensor("w", new[] { int.MaxValue, 4 }, 2));
        Assert.Throws<ArgumentNullException>(() => source.GetTensor(null!, new[] { 2 }, 2));
        Assert.Throws<ArgumentNullException>(() => source.GetTensor("w", null!, 2));
    }
}
