using System;
using NigGen.Tests.Networks;
using Xunit;

namespace NigGen.Tests.Numerics;

/// <summary>DeepLIFT, gradient × activation and ablation reject bad arguments with the messages of the other methods.</summary>
public sealed class DeepLiftBadInputTests
{
    private readonly Conv2dNet _network = Conv2dNet.CreateRandom(seed: 7);
    private readonly float[] _input = new float[Conv2dNet.InputLength];
    private readonly float[] _baseline = new float[Conv2dNet.InputLength];
    private readonly float[] _importance = new float[Conv2dNet.ImportanceLength];
    private readonly float[] _attribution = new float[Conv2dNet.InputLength];

    [Fact]
    public void Spans_of_the_wrong_length_name_the_argument()
    {
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => _network.DeepLift(new float[5], _baseline, 0, _importance)).ParamName);
        Assert.Equal("baseline", Assert.Throws<ArgumentException>(() => _network.DeepLift(_input, new float[5], 0, _importance)).ParamName);
        var error = Assert.Throws<ArgumentException>(() => _network.DeepLift(_input, _baseline, 0, new float[3]));
        Assert.Equal("importance", error.ParamName);
        Assert.Contains($"ImportanceLength = {Conv2dNet.ImportanceLength}", error.Message);
        Assert.Equal("attribution", Assert.Throws<ArgumentException>(() => _network.DeepLiftInputs(_input, _baseline, 0, new float[1])).ParamName);
        Assert.Equal("importance", Assert.Throws<ArgumentException>(() => _network.GradientTimesActivation(_input, 0, new float[1])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => _network.GradientTimesActivation(new float[1], 0, _importance)).ParamName);
        var output = Assert.Throws<ArgumentException>(() => _network.Ablate(_input, _baseline, [0], new float[Conv2dNet.OutputLength + 1]));
        Assert.Equal("output", output.ParamName);
        Assert.Contains($"OutputLength = {Conv2dNet.OutputLength}", output.Message);
        Assert.Equal("baseline", Assert.Throws<ArgumentException>(() => _network.Ablate(_input, new float[2], [0], new float[Conv2dNet.OutputLength])).ParamName);
    }

    [Fact]
    public void Batched_calls_check_every_span()
    {
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => _network.DeepLift(new float[Conv2dNet.InputLength + 1], _baseline, [0], _importance, new float[1])).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => _network.DeepLift(_input, _baseline, new int[2], _importance, new float[1])).ParamName);
        Assert.Equal("baselines", Assert.Throws<ArgumentException>(() => _network.DeepLift(_input, new float[7], new int[1], _importance, new float[1])).ParamName);
        Assert.Equal("importances", Assert.Throws<ArgumentException>(() => _network.DeepLift(_input, _baseline, new int[1], new float[1], new float[1])).ParamName);
        Assert.Equal("deltas", Assert.Throws<ArgumentException>(() => _network.DeepLift(_input, _baseline, new int[1], _importance, new float[2])).ParamName);
        Assert.Equal("attributions", Assert.Throws<ArgumentException>(() => _network.DeepLiftInputs(_input, _baseline, new int[1], new float[1], new float[1])).ParamName);
        Assert.Equal("targets[0]", Assert.Throws<ArgumentOutOfRangeException>(() => _network.DeepLiftInputs(_input, _baseline, [3], _attribution, new float[1])).ParamName);
    }

    [Fact]
    public void NaN_and_infinite_inputs_and_baselines_are_rejected()
    {
        var nan = new float[Conv2dNet.InputLength];
        nan[5] = float.NaN;
        Assert.Contains("input[5] is NaN", Assert.Throws<ArgumentException>(() => _network.DeepLift(nan, _baseline, 0, _importance)).Message);
        Assert.Equal("baseline", Assert.Throws<ArgumentException>(() => _network.DeepLiftInputs(_input, nan, 0, _attribution)).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => _network.DeepLift(nan, _baseline, [0], _importance, new float[1])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => _network.GradientTimesActivation(nan, 0, _importance)).ParamName);
        var infinite = new float[Conv2dNet.InputLength];
        infinite[0] = float.PositiveInfinity;
        Assert.Equal("baseline", Assert.Throws<ArgumentException>(() => _network.Ablate(_input, infinite, [0], new float[Conv2dNet.OutputLength])).ParamName);
    }

    [Fact]
    public void Target_rule_and_neurons_out_of_range()
    {
        var target = Assert.Throws<ArgumentOutOfRangeException>(() => _network.DeepLift(_input, _baseline, 3, _importance));
        Assert.Equal("target", target.ParamName);
        Assert.Contains("Conv2dNet has 3 outputs", target.Message);
        Assert.Equal("target", Assert.Throws<ArgumentOutOfRangeException>(() => _network.DeepLiftInputs(_input, _baseline, -1, _attribution)).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentOutOfRangeException>(() => _network.GradientTimesActivation(_input, 9, _importance)).ParamName);
        Assert.Equal("rule", Assert.Throws<ArgumentOutOfRangeException>(() => _network.DeepLift(_input, _baseline, 0, _importance, (DeepLiftRule)7)).ParamName);
        Assert.Equal("rule", Assert.Throws<ArgumentOutOfRangeException>(() => _network.DeepLiftInputs(_input, _baseline, 0, _attribution, (DeepLiftRule)(-1))).ParamName);

        var neuron = Assert.Throws<ArgumentOutOfRangeException>(() => _network.Ablate(_input, _baseline, [0, Conv2dNet.ImportanceLength], new float[Conv2dNet.OutputLength]));
        Assert.Equal("neurons", neuron.ParamName);
        Assert.Contains($"neurons[1] = {Conv2dNet.ImportanceLength}", neuron.Message);
        Assert.Contains($"[0, {Conv2dNet.ImportanceLength})", neuron.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => _network.Ablate(_input, _baseline, [-1], new float[Conv2dNet.OutputLength]));
    }
}
