using System;
using Xunit;

namespace NigGen.Tests.Reliability;

/// <summary>The finiteness check behind every public input check and weights load: any position, any vector width.</summary>
public sealed class FiniteValuesTests
{
    public static TheoryData<float> NonFinite => new() { float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(-1) };

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void Finds_the_first_non_finite_value_at_every_position(float bad)
    {
        // Lengths around the vector loops' steps (64 and 32 floats) and a long batch; the bad value in the unrolled body,
        // in each of its accumulators and in the scalar tail.
        foreach (int length in new[] { 1, 15, 31, 32, 33, 63, 64, 65, 127, 200, 64 * 784 })
        {
            var values = Finite(length);
            Assert.Equal(-1, FiniteValues.IndexOfNonFinite(values));
            Assert.True(FiniteValues.AllFinite(values));
            foreach (int at in new[] { 0, 1, 16, 17, 31, 40, 63, length / 2, length - 2, length - 1 })
            {
                if (at < 0 || at >= length)
                {
                    continue;
                }

                values[at] = bad;
                Assert.False(FiniteValues.AllFinite(values), $"length {length}, {bad} at {at}");
                Assert.Equal(at, FiniteValues.IndexOfNonFinite(values));
                values[length - 1] = float.NaN;
                Assert.Equal(at, FiniteValues.IndexOfNonFinite(values));
                values = Finite(length);
            }
        }
    }

    [Fact]
    public void Extreme_finite_values_are_finite()
    {
        float[] values = [float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, -0f, 0f, 1e-45f, 3e38f, -3e38f];
        var repeated = new float[values.Length * 30];
        for (int i = 0; i < repeated.Length; i++)
        {
            repeated[i] = values[i % values.Length];
        }

        Assert.True(FiniteValues.AllFinite(repeated));
        Assert.Equal(-1, FiniteValues.IndexOfNonFinite(repeated));
        Assert.True(FiniteValues.AllFinite([]));
    }

    private static float[] Finite(int length)
    {
        var random = new Random(length);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-30, 30)));
        }

        return values;
    }
}
