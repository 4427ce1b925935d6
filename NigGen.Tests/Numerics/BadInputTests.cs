using System;
using System.IO;
using NigGen.Tests.Networks;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Numerics;

/// <summary>Every misuse ends in an exception that says what was wrong, before any kernel runs.</summary>
public sealed class BadInputTests
{
    private readonly Conv2dNet _network = Conv2dNet.CreateRandom(seed: 7);
    private readonly float[] _input = new float[Conv2dNet.InputLength];
    private readonly float[] _baseline = new float[Conv2dNet.InputLength];
    private readonly float[] _importance = new float[Conv2dNet.ImportanceLength];

    [Fact]
    public void Forward_input_that_is_not_whole_samples()
    {
        var error = Assert.Throws<ArgumentException>(() => _network.Forward(new float[Conv2dNet.InputLength + 1], new float[Conv2dNet.OutputLength]));
        Assert.Equal("input", error.ParamName);
        Assert.Contains($"InputLength = {Conv2dNet.InputLength} (2, 9, 8)", error.Message);
    }

    [Fact]
    public void Forward_output_of_the_wrong_length()
    {
        var error = Assert.Throws<ArgumentException>(() => _network.Forward(new float[2 * Conv2dNet.InputLength], new float[Conv2dNet.OutputLength]));
        Assert.Equal("output", error.ParamName);
        Assert.Contains("2 × 3 = 6", error.Message);
    }

    [Fact]
    public void Attribution_spans_of_the_wrong_length_name_the_argument()
    {
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => _network.NeuronIntegratedGradients(new float[5], _baseline, 0, _importance)).ParamName);
        Assert.Equal("baseline", Assert.Throws<ArgumentException>(() => _network.NeuronIntegratedGradients(_input, new float[5], 0, _importance)).ParamName);
        var error = Assert.Throws<ArgumentException>(() => _network.NeuronIntegratedGradients(_input, _baseline, 0, new float[3]));
        Assert.Equal("importance", error.ParamName);
        Assert.Contains($"ImportanceLength = {Conv2dNet.ImportanceLength}", error.Message);
        Assert.Equal("attribution", Assert.Throws<ArgumentException>(() => _network.IntegratedGradients(_input, _baseline, 0, new float[1])).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => _network.NeuronIntegratedGradients(_input, _baseline, new int[2], _importance, new float[1])).ParamName);
        Assert.Equal("baselines", Assert.Throws<ArgumentException>(() => _network.NeuronIntegratedGradients(_input, new float[7], new int[1], _importance, new float[1])).ParamName);
        Assert.Equal("deltas", Assert.Throws<ArgumentException>(() => _network.NeuronIntegratedGradients(_input, _baseline, new int[1], _importance, new float[2])).ParamName);
    }

    [Fact]
    public void Target_and_neuron_out_of_range()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _network.NeuronIntegratedGradients(_input, _baseline, 3, _importance));
        Assert.Equal("target", error.ParamName);
        Assert.Contains("Conv2dNet has 3 outputs", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => _network.IntegratedGradients(_input, _baseline, -1, new float[Conv2dNet.InputLength]));
        Assert.Equal("targets[0]", Assert.Throws<ArgumentOutOfRangeException>(() => _network.NeuronIntegratedGradients(_input, _baseline, [9], _importance, new float[1])).ParamName);
        var neuron = Assert.Throws<ArgumentOutOfRangeException>(() => _network.NeuronConductance(_input, _baseline, 0, Conv2dNet.ImportanceLength, new float[Conv2dNet.InputLength]));
        Assert.Equal("neuron", neuron.ParamName);
    }

    [Fact]
    public void Steps_too_small_for_the_rule_and_invalid_options()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _network.IntegratedGradients(_input, _baseline, 0, new float[Conv2dNet.InputLength], new AttributionOptions { Steps = 1, Rule = IntegrationRule.RiemannLeft }));
        Assert.Contains("Steps = 1 is too small for RiemannLeft", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AttributionOptions { Steps = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new AttributionOptions { ChunkSize = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _network.NeuronIntegratedGradients(_input, _baseline, 0, _importance, new AttributionOptions { Rule = (IntegrationRule)42 }));

        // One step is enough for Gauss-Legendre and, as in Captum's LayerConductance (two points), for every rule of NIG.
        _network.IntegratedGradients(_input, _baseline, 0, new float[Conv2dNet.InputLength], new AttributionOptions { Steps = 1, Rule = IntegrationRule.GaussLegendre });
        _network.NeuronIntegratedGradients(_input, _baseline, 0, _importance, new AttributionOptions { Steps = 1, Rule = IntegrationRule.RiemannLeft });
    }

    [Fact]
    public void Default_options_are_the_documented_defaults()
    {
        AttributionOptions options = default;
        Assert.Equal(50, options.Steps);
        Assert.Equal(IntegrationRule.RiemannTrapezoid, options.Rule);
        Assert.Equal(0, options.ChunkSize);
        Assert.Equal(options, new AttributionOptions());
    }

    [Fact]
    public void Weights_file_with_a_missing_tensor()
    {
        var stream = SaveWithout("fc1.bias");
        var error = Assert.Throws<WeightsFormatException>(() => Conv2dNet.Load(stream));
        Assert.Contains("fc1.bias", error.Message);
    }

    [Fact]
    public void Weights_file_with_a_wrong_shape()
    {
        var writer = WriterWithAllBut("conv2.weight");
        writer.Add("conv2.weight", [4, 3, 3, 3], new float[4 * 3 * 3 * 3]);
        var error = Assert.Throws<WeightsFormatException>(() => Conv2dNet.Load(ToStream(writer)));
        Assert.Contains("conv2.weight", error.Message);
        Assert.Contains("[4, 3, 3, 3]", error.Message);
        Assert.Contains("[4, 3, 2, 2]", error.Message);
    }

    [Fact]
    public void Weights_file_with_a_wrong_dtype()
    {
        var stream = new MemoryStream();
        _network.Save(stream);
        var bytes = stream.ToArray();
        string header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes, 0));
        int at = header.IndexOf("\"fc2.bias\"", StringComparison.Ordinal);
        int dtype = header.IndexOf("F32", at, StringComparison.Ordinal);
        System.Text.Encoding.UTF8.GetBytes("I32").CopyTo(bytes, 8 + dtype);

        var error = Assert.Throws<WeightsFormatException>(() => Conv2dNet.Load(new MemoryStream(bytes)));
        Assert.Contains("fc2.bias", error.Message);
        Assert.Contains("I32", error.Message);
    }

    [Fact]
    public void Weights_file_with_a_truncated_header()
    {
        var stream = new MemoryStream();
        _network.Save(stream);
        var bytes = stream.ToArray().AsSpan(0, 40).ToArray();
        var error = Assert.Throws<WeightsFormatException>(() => Conv2dNet.Load(new MemoryStream(bytes)));
        Assert.Contains("header", error.Message);
    }

    [Fact]
    public void Save_then_load_round_trips_and_half_precision_files_load()
    {
        var stream = new MemoryStream();
        _network.Save(stream);
        stream.Position = 0;
        var loaded = Conv2dNet.Load(stream);

        var input = new float[Conv2dNet.InputLength];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = MathF.Sin(i);
        }

        var expected = new float[Conv2dNet.OutputLength];
        var actual = new float[Conv2dNet.OutputLength];
        _network.Forward(input, expected);
        loaded.Forward(input, actual);
        Assert.Equal(expected, actual);

        var reference = Subjects.Conv2d();
        var half = new SafetensorsWriter();
        foreach (string name in new[] { "conv1", "conv2", "fc1", "fc2" })
        {
            foreach (string part in new[] { ".weight", ".bias" })
            {
                var data = reference.Reference.Parameter(name + part);
                int[] shape = part == ".bias" ? [data.Length] : ShapeOf(name);
                half.Add(name + part, shape, data, SafetensorsDType.BF16);
            }
        }

        var fromHalf = Conv2dNet.Load(ToStream(half));
        fromHalf.Forward(input, actual);
        reference.Network.Forward(input, expected);
        for (int o = 0; o < expected.Length; o++)
        {
            Assert.True(Math.Abs(expected[o] - actual[o]) < 0.05, $"BF16 weights: output {o} {actual[o]} vs {expected[o]}");
        }
    }

    [Fact]
    public void Random_initialisation_is_deterministic_per_seed()
    {
        var output1 = new float[Conv2dNet.OutputLength];
        var output2 = new float[Conv2dNet.OutputLength];
        var output3 = new float[Conv2dNet.OutputLength];
        var input = new float[Conv2dNet.InputLength];
        Array.Fill(input, 0.5f);
        Conv2dNet.CreateRandom(11).Forward(input, output1);
        Conv2dNet.CreateRandom(11).Forward(input, output2);
        Conv2dNet.CreateRandom(12).Forward(input, output3);
        Assert.Equal(output1, output2);
        Assert.NotEqual(output1, output3);
    }

    private static int[] ShapeOf(string layer) => layer switch
    {
        "conv1" => [3, 2, 3, 3],
        "conv2" => [4, 3, 2, 2],
        "fc1" => [6, 4],
        _ => [3, 6],
    };

    private MemoryStream SaveWithout(string tensor) => ToStream(WriterWithAllBut(tensor));

    private SafetensorsWriter WriterWithAllBut(string tensor)
    {
        var reference = Subjects.Conv2d().Reference;
        var writer = new SafetensorsWriter();
        foreach (string name in new[] { "conv1", "conv2", "fc1", "fc2" })
        {
            foreach (string part in new[] { ".weight", ".bias" })
            {
                if (name + part == tensor)
                {
                    continue;
                }

                var data = reference.Parameter(name + part);
                writer.Add(name + part, part == ".bias" ? [data.Length] : ShapeOf(name), data);
            }
        }

        return writer;
    }

    private static MemoryStream ToStream(SafetensorsWriter writer)
    {
        var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        return stream;
    }
}
