using System;
using System.Globalization;
using System.IO;
using System.Linq;
using NigGen.Attribution;
using NigGen.Tests.Networks;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Attribution;

/// <summary>
/// <c>Description</c> lists every layer, and <c>Description.ToString()</c> prints the model summary. The format is
/// pinned on a network with strides, padding, both poolings and two scored layers; the weights it lists are checked
/// against what <c>Save</c> writes.
/// </summary>
public sealed class ModelSummaryTests
{
    [Fact]
    public void TheSummaryListsEveryLayerTheTotalAndTheScoredLayers()
    {
        // conv1: (9 + 2·1 − 3)/2 + 1 = 5 by (8 + 2 − 3)/2 + 1 = 4; 3·2·3·3 + 3 = 57 parameters. pool1 (window 2, stride 1):
        // (3, 4, 3). conv2: (4, 3, 2), 4·3·2·2 + 4 = 52. pool2: (4, 1, 1). fc1: 6·4 + 6 = 30. fc2: 3·6 + 3 = 21.
        const string expected = """
            Conv2dNet: input (2, 9, 8) → output (3)

            layer  kind                                                             input  output     parameters  scored  weights
            -----  ---------------------------------------------------------------  -----  ---------  ----------  ------  -----------------------------------------
            conv1  Conv(3, Kernel = 3, Stride = 2, Padding = 1, Activation = Tanh)  input  (3, 5, 4)          57          conv1.weight (3, 2, 3, 3), conv1.bias (3)
            pool1  MaxPool(2, Stride = 1)                                           conv1  (3, 4, 3)           0
            conv2  Conv(4, Kernel = 2, Activation = Relu)                           pool1  (4, 3, 2)          52  output  conv2.weight (4, 3, 2, 2), conv2.bias (4)
            pool2  AvgPool(2)                                                       conv2  (4, 1, 1)           0
            flat   Flatten                                                          pool2  (4)                 0
            fc1    Dense(6, Activation = Softplus)                                  flat   (6)                30  output  fc1.weight (6, 4), fc1.bias (6)
            fc2    Dense(3)                                                         fc1    (3)                21          fc2.weight (3, 6), fc2.bias (3)

            Total parameters: 160
            Scored ([AttributeLayer]): conv2 output (24 neurons, importance[0] to importance[23]), fc1 output (6 neurons, importance[24] to importance[29])
            """;

        Assert.Equal(expected.ReplaceLineEndings("\n"), Conv2dNet.Description.ToString());
    }

    [Fact]
    public void PreActivationBiasFreeLayersAndThousandsAreShown()
    {
        string summary = Conv1dNet.Description.ToString();

        Assert.Contains("\nconv2  Conv(5, Kernel = 2, Stride = 2, Activation = Softplus, Bias = false)  pool1  (5, 4)", summary);
        Assert.Contains("pre-activation  conv2.weight (5, 4, 2)\n", summary);
        Assert.Contains("Scored ([AttributeLayer]): conv2 pre-activation (20 neurons, importance[0] to importance[19])", summary);
        Assert.Contains("\npool1  AvgPool(3, Stride = 2)", summary);

        // Thousands separated by a comma whatever the current culture (German writes 3.216): WinogradNet's conv2 has
        // 16·8·5·5 + 16 = 3,216 parameters.
        var culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.Contains("       3,216          conv2.weight (16, 8, 5, 5), conv2.bias (16)\n", WinogradNet.Description.ToString());
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void ANetworkWithoutScoredLayersSaysSo()
    {
        Assert.EndsWith("\nScored ([AttributeLayer]): none", ForwardOnlyNet.Description.ToString());
    }

    [Fact]
    public void LayersDescribeEveryLayerInDeclarationOrderEachReadingTheOneBefore()
    {
        var layers = Conv2dNet.Description.Layers;

        Assert.Equal(["conv1", "pool1", "conv2", "pool2", "flat", "fc1", "fc2"], layers.Select(l => l.Name));
        Assert.Equal(["Conv", "MaxPool", "Conv", "AvgPool", "Flatten", "Dense", "Dense"], layers.Select(l => l.Kind));
        Assert.Equal([LayerDescription.NetworkInput, "conv1", "pool1", "conv2", "pool2", "flat", "fc1"], layers.Select(l => Assert.Single(l.Inputs)));
        Assert.Equal([Activation.Tanh, Activation.None, Activation.Relu, Activation.None, Activation.None, Activation.Softplus, Activation.None], layers.Select(l => l.Activation));
        Assert.Equal(Conv2dNet.Description.OutputShape, layers[^1].OutputShape);
        Assert.Equal(Conv2dNet.Fc1ImportanceLength, layers[5].OutputLength);

        // Each scored layer carries its attribute layer; the others none.
        Assert.Same(Conv2dNet.Description.AttributeLayers[0], layers[2].Attribution);
        Assert.Same(Conv2dNet.Description.AttributeLayers[1], layers[5].Attribution);
        Assert.Equal(5, layers.Count(l => l.Attribution is null));
    }

    [Theory]
    [InlineData(nameof(Conv2dNet))]
    [InlineData(nameof(Conv1dNet))]
    [InlineData(nameof(WinogradNet))]
    [InlineData(nameof(DenseActivationsNet))]
    [InlineData(nameof(ResidualCnn))]
    public void TheWeightsListedAreTheTensorsSaveWrites(string name)
    {
        var (description, network) = name switch
        {
            nameof(Conv2dNet) => (Conv2dNet.Description, (Action<Stream>)Conv2dNet.CreateRandom(seed: 1).Save),
            nameof(Conv1dNet) => (Conv1dNet.Description, Conv1dNet.CreateRandom(seed: 1).Save),
            nameof(WinogradNet) => (WinogradNet.Description, WinogradNet.CreateRandom(seed: 1).Save),
            nameof(ResidualCnn) => (ResidualCnn.Description, ResidualCnn.CreateRandom(seed: 1).Save),
            _ => (DenseActivationsNet.Description, (Action<Stream>)DenseActivationsNet.CreateRandom(seed: 1).Save),
        };
        var saved = new MemoryStream();
        network(saved);
        saved.Position = 0;
        var file = SafetensorsFile.Read(saved, name);

        var weights = description.Layers.SelectMany(l => l.Weights).ToList();
        Assert.Equal(file.TensorNames.Order(), weights.Select(w => w.Name).Order());
        foreach (var weight in weights)
        {
            // GetTensor checks the shape against the file's; BatchNorm's num_batches_tracked is an integer scalar.
            Assert.Equal(weight.Length, weight.Shape.Count == 0 ? 1 : file.GetTensor(weight.Name, weight.Shape.ToArray(), fanIn: 1).Length);
        }

        Assert.Equal(weights.Where(w => w.IsParameter).Sum(w => (long)w.Length), description.ParameterCount);
        Assert.Equal(description.Layers.Sum(l => (long)l.ParameterCount), description.ParameterCount);
    }

    [Fact]
    public void AGraphsSummaryShowsWhatEachLayerReadsAndItsStateDictNames()
    {
        string summary = ResidualCnn.Description.ToString();
        var layers = ResidualCnn.Description.Layers;
        Assert.Equal(["bn2", "pool"], layers.Single(l => l.Name == "block").Inputs);
        Assert.Equal(["pool"], layers.Single(l => l.Name == "side").Inputs);
        Assert.Equal([LayerDescription.NetworkInput], layers[0].Inputs);
        Assert.Equal("Add(nameof(bn2), nameof(pool), Activation = Relu)", layers.Single(l => l.Name == "block").Declaration);
        Assert.Equal("Conv(4, Kernel = 1, Groups = 2, From = nameof(pool))", layers.Single(l => l.Name == "side").Declaration);
        Assert.Equal("Conv(8, Kernel = 3, Padding = 2, Dilation = 2, Bias = false, Weights = \"layer1.0.conv1\")", layers.Single(l => l.Name == "conv1").Declaration);
        Assert.Contains("layer1.0.bn1.running_var", summary);
        Assert.Contains("layer1.0.bn1.num_batches_tracked", summary);

        // BatchNorm's statistics are buffers, not parameters: stemBn has 16 parameters (γ, β), as PyTorch counts them.
        Assert.Equal(16, layers.Single(l => l.Name == "stemBn").ParameterCount);
    }

    [Fact]
    public void ADescriptionWhoseAttributeLayerIsNotALayerIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new NetworkDescription("Net", [4], [2], outputPosition: 1, floatsPerSample: 8,
            attributeLayers: [new AttributeLayerInfo("hidden", 0, [3], preActivation: false, gradientPosition: 1)],
            layers: [Dense("fc")]));
        Assert.Equal("attributeLayers", error.ParamName);
        Assert.StartsWith("Net's attribute layer 'hidden' is not one of its layers (fc).", error.Message);
    }

    [Fact]
    public void ADescriptionWithTwoLayersOfOneNameIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new NetworkDescription("Net", [4], [2], outputPosition: 3, floatsPerSample: 8,
            attributeLayers: [], layers: [Dense("fc"), Dense("fc")]));
        Assert.Equal("layers", error.ParamName);
        Assert.StartsWith("Net describes layer 'fc' 2 times; layer names must be unique.", error.Message);
    }

    private static LayerDescription Dense(string name) =>
        new(name, "Dense", "Dense(2)", Activation.None, [LayerDescription.NetworkInput], [2], [new WeightDescription(name + ".weight", [2, 4])]);
}
