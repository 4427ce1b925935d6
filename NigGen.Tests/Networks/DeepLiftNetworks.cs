using NigGen;

// Small networks for DeepLIFT's rules; the tests give them hand-picked weights through safetensors files.
namespace NigGen.Tests.Networks;

/// <summary>Captum's ReLUDeepLift model: F = 2·relu(x1) + 2·relu(x2 − 1.5), with the ReLUs scored.</summary>
[Network]
[Input(2)]
public sealed partial class CaptumReluDeepLift
{
    [Dense(2, Activation = Activation.Relu), AttributeLayer] Layer relus;
    [Dense(1, Bias = false)] Layer output;
}

/// <summary>Three scored inputs h (an identity layer) feeding one ReLU: y = relu(w·h + b), where RevealCancel differs from Rescale.</summary>
[Network]
[Input(3)]
public sealed partial class RevealCancelNet
{
    [Dense(3, Bias = false), AttributeLayer] Layer h;
    [Dense(1, Activation = Activation.Relu)] Layer y;
}

/// <summary>An identity 1×1 convolution (scored), max pooling over pairs and a sum: the max-pool rule alone.</summary>
[Network]
[Input(1, 4)]
public sealed partial class MaxPoolRuleNet
{
    [Conv(1, Kernel = 1, Bias = false), AttributeLayer] Layer identity;
    [MaxPool(2)] Layer pool;
    [Flatten] Layer flat;
    [Dense(1, Bias = false)] Layer sum;
}

/// <summary>Every linear layer kind and no activation: DeepLIFT's multipliers are the gradients.</summary>
[Network]
[Input(2, 6, 5)]
public sealed partial class LinearNet
{
    [Conv(3, Kernel = 2, Padding = 1)] Layer conv;
    [AvgPool(2)] Layer pool;
    [Flatten, AttributeLayer] Layer flat;
    [Dense(5), AttributeLayer] Layer fc1;
    [Dense(2)] Layer fc2;
}

/// <summary>Activations after convolutions only, where deeplift's genomics default is Rescale everywhere.</summary>
[Network]
[Input(2, 7, 7)]
public sealed partial class ConvActivationsNet
{
    [Conv(3, Kernel = 3, Activation = Activation.Relu)] Layer conv1;
    [Conv(4, Kernel = 2, Stride = 2, Activation = Activation.Tanh), AttributeLayer] Layer conv2;
    [Flatten] Layer flat;
    [Dense(3)] Layer fc;
}

/// <summary>A network of one max pooling, scored: no kernel of the linear layers in its DeepLIFT pass.</summary>
[Network]
[Input(1, 4)]
public sealed partial class PoolOnlyNet
{
    [MaxPool(2), AttributeLayer] Layer pool;
}
