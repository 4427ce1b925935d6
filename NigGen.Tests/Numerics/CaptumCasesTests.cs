using System;
using System.IO;
using NigGen.Tests.Networks;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Numerics;

/// <summary>Captum's own published unit-test cases (METHOD.md), reproduced through declared networks and weights files.</summary>
public sealed class CaptumCasesTests
{
    private static readonly AttributionOptions GaussLegendre500 = new() { Steps = 500, Rule = IntegrationRule.GaussLegendre };

    // linear0 = identity 3×3 (bias 0) → linear1 (ones(4, 3), bias [−10, 1, 1, 1]) → ReLU → linear2 (ones(2, 4), bias [−1, 1]).
    private static MemoryStream MultiLayerWeights()
    {
        var writer = new SafetensorsWriter();
        writer.Add("linear0.weight", [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        writer.Add("linear0.bias", [3], [0, 0, 0]);
        writer.Add("linear1.weight", [4, 3], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
        writer.Add("linear1.bias", [4], [-10, 1, 1, 1]);
        writer.Add("linear2.weight", [2, 4], [1, 1, 1, 1, 1, 1, 1, 1]);
        writer.Add("linear2.bias", [2], [-1, 1]);
        var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        return stream;
    }

    [Fact]
    public void Multi_layer_model_outputs_are_Captums()
    {
        var network = CaptumMultiLayer.Load(MultiLayerWeights());
        var output = new float[4];
        network.Forward([0, 100, 0, 0, 0, 0], output);
        Assert.Equal([392f, 394f, 2f, 4f], output);
    }

    [Fact]
    public void Layer_conductance_on_linear0_linear1_pre_activation_and_linear2()
    {
        var network = CaptumMultiLayer.Load(MultiLayerWeights());
        var importance = new float[CaptumMultiLayer.ImportanceLength];

        float delta = network.NeuronIntegratedGradients([0, 100, 0], [0, 0, 0], 0, importance, GaussLegendre500);

        AssertWithin(0.1, [0, 390, 0], importance.AsSpan(CaptumMultiLayer.Linear0ImportanceOffset, CaptumMultiLayer.Linear0ImportanceLength));
        AssertWithin(0.1, [90, 100, 100, 100], importance.AsSpan(CaptumMultiLayer.Linear1ImportanceOffset, CaptumMultiLayer.Linear1ImportanceLength));
        AssertWithin(0.1, [390, 0], importance.AsSpan(CaptumMultiLayer.Linear2ImportanceOffset, CaptumMultiLayer.Linear2ImportanceLength));
        Assert.True(Math.Abs(delta) < 0.01, $"delta {delta}");
    }

    [Fact]
    public void Layer_conductance_on_the_relu_output()
    {
        var network = CaptumMultiLayerRelu.Load(MultiLayerWeights());
        var importance = new float[CaptumMultiLayerRelu.ImportanceLength];

        network.NeuronIntegratedGradients([0, 100, 0], [0, 0, 0], 0, importance, GaussLegendre500);

        AssertWithin(0.1, [90, 100, 100, 100], importance);
    }

    [Fact]
    public void Neuron_conductance_of_linear1_neuron_0_and_relu_neuron_3()
    {
        var preActivation = CaptumMultiLayer.Load(MultiLayerWeights());
        var attribution = new float[3];
        preActivation.NeuronConductance([0, 100, 0], [0, 0, 0], 0, CaptumMultiLayer.Linear1ImportanceOffset + 0, attribution, GaussLegendre500);
        AssertWithin(0.1, [0, 90, 0], attribution);

        var relu = CaptumMultiLayerRelu.Load(MultiLayerWeights());
        relu.NeuronConductance([0, 70, 30], [0, 0, 0], 0, 3, attribution, GaussLegendre500);
        AssertWithin(0.1, [0, 70, 30], attribution);
    }

    [Fact]
    public void Integrated_gradients_of_relu_model()
    {
        var writer = new SafetensorsWriter();
        writer.Add("relus.weight", [2, 2], [1, 0, 0, 1]);
        writer.Add("relus.bias", [2], [0, 0]);
        writer.Add("output.weight", [1, 2], [1, -1]);
        writer.Add("output.bias", [1], [-1]);
        var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        var network = CaptumReluModel.Load(stream);
        var attribution = new float[2];

        // Captum's IntegratedGradients default: Gauss-Legendre, 50 steps.
        float delta = network.IntegratedGradients([3, 1], [0, 0], 0, attribution, new AttributionOptions { Rule = IntegrationRule.GaussLegendre });

        AssertWithin(0.05, [1.5, -0.5], attribution);
        Assert.True(Math.Abs(delta) < 0.05, $"delta {delta}");
    }

    private static void AssertWithin(double tolerance, double[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }
}
