using System;
using NigGen.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace NigGen.Tests.Reliability;

/// <summary>
/// Every option value a caller can pass keeps memory and time bounded: values outside the documented ranges are
/// refused with messages that state the range, before any arithmetic, and distinct Steps values leave nothing behind.
/// </summary>
[Collection(MemoryMeasurements.Name)]
public sealed class OptionLimitsTests(ITestOutputHelper output)
{
    [Fact]
    public void Steps_above_the_maximum_and_int_MaxValue_are_refused_stating_the_range()
    {
        Assert.Equal(16_777_216, AttributionOptions.MaxSteps);
        Assert.Equal(AttributionOptions.MaxSteps, new AttributionOptions { Steps = AttributionOptions.MaxSteps }.Steps);
        foreach (int steps in new[] { AttributionOptions.MaxSteps + 1, int.MaxValue, 0, -1, int.MinValue })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AttributionOptions { Steps = steps });
            Assert.Equal("Steps", e.ParamName);
            Assert.Equal(steps, e.ActualValue);
            Assert.StartsWith($"AttributionOptions.Steps = {steps} is outside [1, 16777216]: beyond 2^24 steps neighbouring points round to the same float32 alpha.", e.Message);
        }

        // A `with` goes through the same check, so no call ever sees Steps + 1 overflow.
        var options = new AttributionOptions { Rule = IntegrationRule.GaussLegendre };
        Assert.Throws<ArgumentOutOfRangeException>(() => options with { Steps = int.MaxValue });
    }

    [Fact]
    public void MaxDegreeOfParallelism_outside_its_range_is_refused_stating_the_range()
    {
        Assert.Equal(256, new AttributionOptions { MaxDegreeOfParallelism = 256 }.MaxDegreeOfParallelism);
        foreach (int threads in new[] { 257, int.MaxValue, -2, int.MinValue })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AttributionOptions { MaxDegreeOfParallelism = threads });
            Assert.Equal("MaxDegreeOfParallelism", e.ParamName);
            Assert.StartsWith($"AttributionOptions.MaxDegreeOfParallelism = {threads} is outside [-1, 256]: -1 uses every core, 0 or 1 the calling thread only.", e.Message);
        }

        var network = TinyNet.CreateRandom(seed: 1);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => network.Forward(new float[4], new float[2], int.MaxValue));
        Assert.Equal("maxDegreeOfParallelism", e2.ParamName);
        Assert.StartsWith("maxDegreeOfParallelism = 2147483647 is outside [-1, 256]: -1 uses every core, 0 or 1 the calling thread only.", e2.Message);
    }

    [Fact]
    public void ChunkSize_takes_any_non_negative_value_and_clamps_it_to_the_points()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AttributionOptions { ChunkSize = -1 });
        Assert.Equal("ChunkSize", e.ParamName);
        Assert.StartsWith("AttributionOptions.ChunkSize = -1 is negative: it takes 0 (automatic) or a number of points from 1 to 2147483647 (clamped to the call's points).", e.Message);

        var network = TinyNet.CreateRandom(seed: 2);
        float[] input = [1, -2, 0.5f, 3], baseline = new float[4];
        var clamped = new float[TinyNet.Description.ImportanceLength];
        var exact = new float[clamped.Length];
        float clampedDelta = network.NeuronIntegratedGradients(input, baseline, 1, clamped, new AttributionOptions { Steps = 40, ChunkSize = int.MaxValue });
        float exactDelta = network.NeuronIntegratedGradients(input, baseline, 1, exact, new AttributionOptions { Steps = 40, ChunkSize = 41 });
        Assert.Equal(exact, clamped);
        Assert.Equal(exactDelta, clampedDelta);
    }

    // Float32 is why MaxSteps is 2^24: the trapezoid's 2^24 + 1 points k/2^24 are each exactly a float32, all distinct;
    // beyond, the step 1/n is below float32's spacing 2^-24 in [0.5, 1) and neighbours there start to round to the
    // same value (about one pair for every two steps more).
    [Fact]
    public void At_MaxSteps_every_trapezoid_point_is_an_exact_distinct_float32_and_beyond_neighbours_collide()
    {
        var (collisions, inexact) = Float32Rounding(AttributionOptions.MaxSteps + 1);
        Assert.Equal(0, collisions);
        Assert.Equal(0, inexact);
        Assert.InRange(Float32Rounding(AttributionOptions.MaxSteps + 1_001).Collisions, 400, 600);
    }

    private static (int Collisions, int Inexact) Float32Rounding(int points)
    {
        int collisions = 0, inexact = 0;
        float previous = -1;
        for (int i = 0; i < points; i++)
        {
            double alpha = Quadrature.LinspacePoint(IntegrationRule.RiemannTrapezoid, points, i);
            float rounded = (float)alpha;
            collisions += rounded == previous ? 1 : 0;
            inexact += rounded == alpha ? 0 : 1;
            previous = rounded;
        }

        return (collisions, inexact);
    }

    // The process's managed memory after a full collection, around 1,000 calls that each use a Steps value no other
    // call uses: every rule, Neuron Integrated Gradients and integrated gradients, tabulated and asymptotic
    // Gauss-Legendre, Riemann rules of thousands of points. Tables kept per distinct value (as before) would hold
    // tens of MiB here.
    [Fact]
    public void A_thousand_distinct_step_counts_leave_the_managed_memory_flat()
    {
        var network = TinyNet.CreateRandom(seed: 3);
        float[] input = [0.3f, -1.2f, 2, 0.7f], baseline = new float[4];
        var importance = new float[TinyNet.Description.ImportanceLength];
        var attribution = new float[4];
        var rules = Enum.GetValues<IntegrationRule>();

        void Call(int i)
        {
            var rule = rules[i % rules.Length];
            // Gauss-Legendre from 1 to 1,000 steps (tables up to 512 points, then the expansions); Riemann rules 4,000 to 11,000.
            int steps = rule == IntegrationRule.GaussLegendre ? 1 + i / rules.Length * 5 : 4_000 + 7 * i;
            var options = new AttributionOptions { Steps = Math.Max(steps, 2), Rule = rule, ChunkSize = 64 };
            if (i % 2 == 0)
            {
                network.NeuronIntegratedGradients(input, baseline, 1, importance, options);
            }
            else
            {
                network.IntegratedGradients(input, baseline, 1, attribution, options);
            }
        }

        // The thread's workspace and the code paths first, at step counts the measured calls do not use.
        for (int i = 0; i < 10; i++)
        {
            Call(1_000 + i);
        }

        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 1_000; i++)
        {
            Call(i);
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"managed memory {before / 1024} KiB before, {after / 1024} KiB after 1,000 distinct step counts");
        Assert.True(after - before < 2 << 20, $"managed memory grew by {(after - before) / 1024} KiB over 1,000 distinct step counts");
    }
}
