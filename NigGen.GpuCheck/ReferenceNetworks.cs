using NigGen;

// The performance issue's reference networks, declared as in NigGen.Benchmarks (Networks.cs) and created from the
// same seed (ReferenceNetwork.WeightSeed), so the check runs the weights the CPU benchmarks run; and two small ones
// that cover the kernels the reference networks do not reach.
namespace NigGen.GpuCheck;

/// <summary>MLP 784-256(relu)-256(relu, attribute layer)-10.</summary>
[Network]
[Input(784)]
public sealed partial class Mlp
{
    [Dense(256, Activation = Activation.Relu)]                 Layer fc1;
    [Dense(256, Activation = Activation.Relu), AttributeLayer] Layer fc2;
    [Dense(10)]                                                Layer fc3;
}

/// <summary>The CNN (DigitNet): conv 5×5×16, pool 2, conv 5×5×32, pool 2, fc 512→128 (attribute layer), fc 128→10.</summary>
[Network]
[Input(1, 28, 28)]
public sealed partial class Cnn
{
    [Conv(16, Kernel = 5, Activation = Activation.Relu)]       Layer conv1;
    [MaxPool(2)]                                                Layer pool1;
    [Conv(32, Kernel = 5, Activation = Activation.Relu)]       Layer conv2;
    [MaxPool(2)]                                                Layer pool2;
    [Flatten]                                                   Layer flat;
    [Dense(128, Activation = Activation.Relu), AttributeLayer] Layer fc1;
    [Dense(10)]                                                 Layer fc2;
}

/// <summary>Every activation and a pre-activation attribute layer: checks the device's activation math on the card.</summary>
[Network]
[Input(32)]
public sealed partial class ActivationsNet
{
    [Dense(48, Activation = Activation.Sigmoid)] Layer sigmoid;
    [Dense(48, Activation = Activation.Tanh), AttributeLayer] Layer tanh;
    [Dense(40, Activation = Activation.Softplus, Bias = false)] Layer softplus;
    [Dense(40, Activation = Activation.Elu), AttributeLayer(PreActivation = true)] Layer elu;
    [Dense(32, Activation = Activation.LeakyRelu)] Layer leaky;
    [Dense(24, Activation = Activation.Relu)] Layer relu;
    [Dense(5)] Layer output;
}

/// <summary>
/// Conv1d with stride and padding (scored, so its interpolation is not fused with the pooling), overlapping average
/// pooling: checks the strided convolution's input gradient (integrated gradients) and average pooling on the card.
/// </summary>
[Network]
[Input(3, 64)]
public sealed partial class SignalNet
{
    [Conv(8, Kernel = 5, Stride = 2, Padding = 2, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(2)] Layer pool1;
    [Conv(8, Kernel = 3, Padding = 1, Activation = Activation.Tanh)] Layer conv2;
    [AvgPool(2, Stride = 1)] Layer pool2;
    [Flatten] Layer flat;
    [Dense(4)] Layer head;
}
