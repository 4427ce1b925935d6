using System;
using NigGen.Attribution;

namespace NigGen.Gpu.Tests;

/// <summary>
/// The GPU path's oracle is the CPU path, itself tested against a double-precision reference, finite differences and
/// Captum's cases: every check here runs both on the same weights and inputs and compares the numbers.
/// </summary>
internal static class Agreement
{
    public static void Forward(IAttributedNetwork cpu, GpuNetwork gpu, int batch, int seed)
    {
        var d = cpu.Description;
        var input = GpuFixture.Values(batch * d.InputLength, seed);
        var expected = new float[batch * d.OutputLength];
        var actual = new float[batch * d.OutputLength];
        cpu.Forward(input, expected);
        gpu.Forward(input, actual);
        GpuFixture.AssertClose(expected, actual, $"{d.Name}.Forward");
    }

    public static void NeuronIntegratedGradients(IAttributedNetwork cpu, GpuNetwork gpu, AttributionOptions options, int seed)
    {
        var d = cpu.Description;
        var input = GpuFixture.Values(d.InputLength, seed);
        var baseline = GpuFixture.Values(d.InputLength, seed + 1);
        int target = Target(cpu, input);
        var expected = new float[d.ImportanceLength];
        var actual = new float[d.ImportanceLength];
        float expectedDelta = cpu.NeuronIntegratedGradients(input, baseline, target, expected, options);
        float actualDelta = gpu.NeuronIntegratedGradients(input, baseline, target, actual, options);
        GpuFixture.AssertClose(expected, actual, $"{d.Name} NIG ({options.Rule}, {options.Steps} steps)");
        GpuFixture.AssertDeltaClose(expectedDelta, actualDelta, expected, $"{d.Name} NIG delta");
    }

    /// <summary>A batch with per-sample or shared baselines and varied targets, against the CPU path's batched call.</summary>
    public static void NeuronIntegratedGradientsBatch(IAttributedNetwork cpu, GpuNetwork gpu, int samples, bool sharedBaseline, AttributionOptions options, int seed)
    {
        var d = cpu.Description;
        var inputs = GpuFixture.Values(samples * d.InputLength, seed);
        var baselines = GpuFixture.Values((sharedBaseline ? 1 : samples) * d.InputLength, seed + 1);
        var targets = new int[samples];
        for (int s = 0; s < samples; s++)
        {
            targets[s] = s % d.OutputLength;
        }

        var expected = new float[samples * d.ImportanceLength];
        var actual = new float[samples * d.ImportanceLength];
        var expectedDeltas = new float[samples];
        var actualDeltas = new float[samples];
        cpu.NeuronIntegratedGradients(inputs, baselines, targets, expected, expectedDeltas, options);
        gpu.NeuronIntegratedGradients(inputs, baselines, targets, actual, actualDeltas, options);
        for (int s = 0; s < samples; s++)
        {
            var e = expected.AsSpan(s * d.ImportanceLength, d.ImportanceLength);
            GpuFixture.AssertClose(e, actual.AsSpan(s * d.ImportanceLength, d.ImportanceLength), $"{d.Name} batched NIG, sample {s}");
            GpuFixture.AssertDeltaClose(expectedDeltas[s], actualDeltas[s], e, $"{d.Name} batched NIG delta, sample {s}");
        }
    }

    public static void IntegratedGradients(IAttributedNetwork cpu, GpuNetwork gpu, AttributionOptions options, int seed)
    {
        var d = cpu.Description;
        var input = GpuFixture.Values(d.InputLength, seed);
        var baseline = GpuFixture.Values(d.InputLength, seed + 1);
        int target = Target(cpu, input);
        var expected = new float[d.InputLength];
        var actual = new float[d.InputLength];
        float expectedDelta = cpu.IntegratedGradients(input, baseline, target, expected, options);
        float actualDelta = gpu.IntegratedGradients(input, baseline, target, actual, options);
        GpuFixture.AssertClose(expected, actual, $"{d.Name} integrated gradients ({options.Rule}, {options.Steps} steps)");
        GpuFixture.AssertDeltaClose(expectedDelta, actualDelta, expected, $"{d.Name} integrated gradients delta");
    }

    private static int Target(IAttributedNetwork cpu, float[] input)
    {
        var output = new float[cpu.Description.OutputLength];
        cpu.Forward(input, output);
        return GpuFixture.ArgMax(output);
    }
}
