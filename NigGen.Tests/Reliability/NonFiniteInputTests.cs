using System;
using System.Threading;
using NigGen.Tests.Networks;
using Xunit;

namespace NigGen.Tests.Reliability;

/// <summary>
/// A NaN or an infinity in an input or a baseline is an <see cref="ArgumentException"/> naming the argument and the
/// index, raised before any work: no public method returns numbers computed from it.
/// </summary>
public sealed class NonFiniteInputTests
{
    private const float Untouched = 12345f;
    private static readonly Conv2dNet Network = Conv2dNet.CreateRandom(seed: 3);

    public static TheoryData<float, int> BadValues() => new()
    {
        { float.NaN, 0 },
        { float.PositiveInfinity, 17 },
        { float.NegativeInfinity, Conv2dNet.InputLength - 1 },
    };

    private static float[] Sample(float value = 0.25f, int at = -1)
    {
        var sample = new float[Conv2dNet.InputLength];
        Array.Fill(sample, 0.25f);
        if (at >= 0)
        {
            sample[at] = value;
        }

        return sample;
    }

    private static float[] Filled(int length)
    {
        var buffer = new float[length];
        Array.Fill(buffer, Untouched);
        return buffer;
    }

    private static void AssertUntouched(float[] buffer) => Assert.All(buffer, v => Assert.Equal(Untouched, v));

    private static void AssertRejected(Action call, string argument, string at, float value)
    {
        var error = Assert.Throws<ArgumentException>(call);
        Assert.Equal(argument, error.ParamName);
        string described = float.IsNaN(value) ? "NaN" : value > 0 ? "+∞" : "−∞";
        Assert.StartsWith($"{at} is {described}: Conv2dNet takes finite inputs and baselines only", error.Message);
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Every_single_sample_method_rejects_a_non_finite_input_or_baseline(float value, int index)
    {
        var bad = Sample(value, index);
        var good = Sample();
        var importance = Filled(Conv2dNet.ImportanceLength);
        var attribution = Filled(Conv2dNet.InputLength);
        var output = Filled(Conv2dNet.OutputLength);
        string at = $"[{index}]";

        AssertRejected(() => Network.Forward(bad, output), "input", "input" + at, value);
        AssertRejected(() => Network.Forward(bad, output, maxDegreeOfParallelism: 2), "input", "input" + at, value);
        AssertRejected(() => Network.InputGradient(bad, 0, attribution), "input", "input" + at, value);
        AssertRejected(() => Network.NeuronIntegratedGradients(bad, good, 0, importance), "input", "input" + at, value);
        AssertRejected(() => Network.NeuronIntegratedGradients(good, bad, 0, importance), "baseline", "baseline" + at, value);
        AssertRejected(() => Network.IntegratedGradients(bad, good, 0, attribution), "input", "input" + at, value);
        AssertRejected(() => Network.IntegratedGradients(good, bad, 0, attribution), "baseline", "baseline" + at, value);
        AssertRejected(() => Network.NeuronConductance(bad, good, 0, 1, attribution), "input", "input" + at, value);
        AssertRejected(() => Network.NeuronConductance(good, bad, 0, 1, attribution), "baseline", "baseline" + at, value);
        AssertRejected(() => ((INetwork)Network).IntegratedGradients(good, bad, 0, attribution), "baseline", "baseline" + at, value);
        AssertRejected(() => Network.DeepLift(bad, good, 0, importance), "input", "input" + at, value);
        AssertRejected(() => Network.DeepLift(good, bad, 0, importance, DeepLiftRule.RevealCancel), "baseline", "baseline" + at, value);
        AssertRejected(() => Network.DeepLiftInputs(good, bad, 0, attribution), "baseline", "baseline" + at, value);
        AssertRejected(() => Network.GradientTimesActivation(bad, 0, importance), "input", "input" + at, value);
        AssertRejected(() => Network.Ablate(good, bad, [0], output), "baseline", "baseline" + at, value);

        AssertUntouched(importance);
        AssertUntouched(attribution);
        AssertUntouched(output);
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Batched_calls_name_the_sample_and_the_feature(float value, int index)
    {
        const int Samples = 3;
        var inputs = new float[Samples * Conv2dNet.InputLength];
        Array.Fill(inputs, 0.5f);
        int flat = 2 * Conv2dNet.InputLength + index;
        string at = $"[{flat}] (sample 2, feature {index})";
        var importances = Filled(Samples * Conv2dNet.ImportanceLength);
        var deltas = Filled(Samples);
        var outputs = Filled(Samples * Conv2dNet.OutputLength);
        int[] targets = [0, 1, 2];

        var badInputs = (float[])inputs.Clone();
        badInputs[flat] = value;
        AssertRejected(() => Network.Forward(badInputs, outputs), "input", "input" + at, value);
        AssertRejected(() => Network.NeuronIntegratedGradients(badInputs, Sample(), targets, importances, deltas), "inputs", "inputs" + at, value);
        AssertRejected(() => Network.NeuronIntegratedGradients(badInputs, Sample(), targets, importances, deltas, default, CancellationToken.None), "inputs", "inputs" + at, value);

        // One baseline for every sample, or one each.
        AssertRejected(() => Network.NeuronIntegratedGradients(inputs, Sample(value, index), targets, importances, deltas), "baselines", $"baselines[{index}]", value);
        AssertRejected(() => Network.NeuronIntegratedGradients(inputs, badInputs, targets, importances, deltas, new AttributionOptions { MaxDegreeOfParallelism = 2 }), "baselines", "baselines" + at, value);
        AssertRejected(() => Network.DeepLift(badInputs, Sample(), targets, importances, deltas), "inputs", "inputs" + at, value);

        AssertUntouched(importances);
        AssertUntouched(deltas);
        AssertUntouched(outputs);
    }

    [Fact]
    public void Extreme_finite_values_are_accepted()
    {
        var input = Sample(float.MaxValue, 3);
        input[4] = -float.Epsilon;
        var output = new float[Conv2dNet.OutputLength];
        Network.Forward(input, output);
        Network.Forward(Array.Empty<float>(), Array.Empty<float>());
    }
}
