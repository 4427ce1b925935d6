using System;

namespace NigGen.Gpu.Tests;

/// <summary>
/// One CPU-simulated accelerator for the whole test assembly (its kernels compile once), and the helpers that
/// compare the GPU path with the CPU path.
/// </summary>
public static class GpuFixture
{
    private static readonly Lazy<GpuDevice> LazyDevice = new(() => GpuDevice.CreateCpuSimulator(maxGroupSize: 16));
    private static readonly Lazy<GpuDevice> LazyWideDevice = new(() => GpuDevice.CreateCpuSimulator(maxGroupSize: 64));

    /// <summary>ILGPU's CPU accelerator, groups of 16 threads.</summary>
    public static GpuDevice Device => LazyDevice.Value;

    /// <summary>ILGPU's CPU accelerator with groups of 64 threads: larger GEMM tiles (more threads along N).</summary>
    public static GpuDevice WideDevice => LazyWideDevice.Value;

    /// <summary>Deterministic values in [−1, 1).</summary>
    public static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = 2f * random.NextSingle() - 1f;
        }

        return values;
    }

    /// <summary>
    /// "Within 1e-4 relative", measured against the vector's scale: every |actual − expected| ≤ 1e-4·max|expected|
    /// (an element-wise relative test would fail on neurons whose importance cancels to near zero, where both sides
    /// are float rounding).
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double tolerance = 1e-4)
    {
        Xunit.Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (float value in expected)
        {
            scale = Math.Max(scale, Math.Abs(value));
        }

        Xunit.Assert.True(scale > 0, $"{what}: the expected values are all zero, which would make the comparison vacuous.");
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            Xunit.Assert.True(error <= tolerance * scale, $"{what}[{i}]: GPU {actual[i]:R}, CPU {expected[i]:R}; |error| {error:E2} > {tolerance:E0} × {scale:E3}.");
        }
    }

    /// <summary>
    /// Completeness deltas agree when they differ by at most 1e-4 of the importances' total magnitude: a delta is
    /// Σ importance − (F(x) − F(x')), a small difference of large sums.
    /// </summary>
    public static void AssertDeltaClose(float expected, float actual, ReadOnlySpan<float> importance, string what)
    {
        double magnitude = 0;
        foreach (float value in importance)
        {
            magnitude += Math.Abs(value);
        }

        Xunit.Assert.True(Math.Abs(actual - expected) <= 1e-4 * magnitude + 1e-6, $"{what}: GPU delta {actual:R}, CPU {expected:R}, importances' magnitude {magnitude:E3}.");
    }

    /// <summary>The index of the largest output of one sample: the class an explanation is usually asked for.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
