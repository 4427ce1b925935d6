using NigGen;

// Two small networks that cover the kernels the performance issue's reference networks (Mlp and Cnn, compiled in from
// NigGen.Benchmarks/Networks.cs so that both programs run the same declarations and weights) do not reach.
namespace NigGen.GpuCheck;

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
