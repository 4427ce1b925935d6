using NigGen;

// Tiny networks for ILGPU's CPU accelerator, which simulates every GPU thread: each covers kernels the others do not.
namespace NigGen.Gpu.Tests;

/// <summary>Every activation, a layer without bias, two attribute layers (one scored before its activation).</summary>
[Network]
[Input(5)]
public sealed partial class GpuDenseNet
{
    [Dense(6, Activation = Activation.Sigmoid)] Layer sigmoid;
    [Dense(7, Activation = Activation.Tanh), AttributeLayer] Layer tanh;
    [Dense(6, Activation = Activation.Softplus, Bias = false)] Layer softplus;
    [Dense(5, Activation = Activation.Elu), AttributeLayer(PreActivation = true)] Layer elu;
    [Dense(5, Activation = Activation.LeakyRelu)] Layer leaky;
    [Dense(4, Activation = Activation.Relu)] Layer relu;
    [Dense(3)] Layer output;
}

/// <summary>Conv1d with stride and padding scored, max pooling, a conv without activation, overlapping average pooling.</summary>
[Network]
[Input(2, 12)]
public sealed partial class GpuConv1dNet
{
    [Conv(4, Kernel = 3, Stride = 2, Padding = 1, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(2)] Layer pool1;
    [Conv(3, Kernel = 2, Padding = 1)] Layer conv2;
    [AvgPool(2, Stride = 1)] Layer pool2;
    [Flatten] Layer flat;
    [Dense(3)] Layer head;
}

/// <summary>2-D convolutions with stride and padding, overlapping max pooling, average pooling, two attribute layers.</summary>
[Network]
[Input(2, 9, 8)]
public sealed partial class GpuConv2dNet
{
    [Conv(3, Kernel = 3, Stride = 2, Padding = 1, Activation = Activation.Tanh)] Layer conv1;
    [MaxPool(2, Stride = 1)] Layer pool1;
    [Conv(4, Kernel = 2, Activation = Activation.Relu), AttributeLayer] Layer conv2;
    [AvgPool(2)] Layer pool2;
    [Flatten] Layer flat;
    [Dense(6, Activation = Activation.Softplus), AttributeLayer] Layer fc1;
    [Dense(3)] Layer fc2;
}

/// <summary>Max pooling first: no affine prefix, so the inputs themselves are interpolated and every layer runs.</summary>
[Network]
[Input(1, 6, 6)]
public sealed partial class GpuPoolFirstNet
{
    [MaxPool(2)] Layer pool;
    [Conv(2, Kernel = 2, Activation = Activation.Elu), AttributeLayer] Layer conv;
    [Flatten] Layer flat;
    [Dense(2)] Layer head;
}

/// <summary>A sigmoid convolution under average pooling: the path's interpolation fused with the average pooling.</summary>
[Network]
[Input(2, 10)]
public sealed partial class GpuAvgPoolNet
{
    [Conv(3, Kernel = 3, Activation = Activation.Sigmoid)] Layer conv;
    [AvgPool(2)] Layer pool;
    [Flatten] Layer flat;
    [Dense(4, Activation = Activation.Relu), AttributeLayer] Layer fc;
    [Dense(2)] Layer head;
}

/// <summary>
/// A scored average pooling below the first Dense layer: the path shortcut must not be taken, or the scored layer's
/// values along the path are never computed (found by review; the CPU path had the same defect).
/// </summary>
[Network]
[Input(2, 4, 4)]
public sealed partial class GpuScoredBelowDenseNet
{
    [AvgPool(2), AttributeLayer] Layer pool;
    [Flatten] Layer flat;
    [Dense(5, Activation = Activation.Tanh), AttributeLayer] Layer fc1;
    [Dense(3)] Layer fc2;
}
