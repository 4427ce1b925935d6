using NigGen;

namespace NigGen.Tests.Networks;

// Networks whose first layers the path methods fuse (interpolation, activation, pooling in one kernel): one per branch of
// the fused kernels. Conv2dNet (tanh, overlapping max pooling), Conv1dNet (ELU, average pooling), SmallMlp (ReLU, no
// pooling) and DenseActivationsNet (sigmoid, no pooling) cover the rest.

/// <summary>ReLU and 2×2 max pooling, 9 outputs a row (8-lane blocks), the pooling itself scored.</summary>
[Network]
[Input(2, 12, 20)]
public sealed partial class PooledReluNet
{
    [Conv(3, Kernel = 3, Activation = Activation.Relu)]        Layer conv1;
    [MaxPool(2), AttributeLayer]                                Layer pool1;
    [Conv(4, Kernel = 2, Activation = Activation.Relu), AttributeLayer] Layer conv2;
    [Flatten]                                                   Layer flat;
    [Dense(3)]                                                  Layer fc;
}

/// <summary>No activation before a 2×2 max pooling of 4 outputs a row (4-lane blocks).</summary>
[Network]
[Input(1, 10, 9)]
public sealed partial class PooledLinearNet
{
    [Conv(2, Kernel = 3, Padding = 1)]                          Layer conv1;
    [MaxPool(2)]                                                Layer pool1;
    [Flatten]                                                   Layer flat;
    [Dense(5, Activation = Activation.Tanh), AttributeLayer]   Layer fc1;
    [Dense(2)]                                                  Layer fc2;
}

/// <summary>ReLU and 2×2 average pooling, 5 outputs a row.</summary>
[Network]
[Input(2, 10, 11)]
public sealed partial class AvgPooledReluNet
{
    [Conv(3, Kernel = 2, Activation = Activation.Relu)]        Layer conv1;
    [AvgPool(2)]                                                Layer pool1;
    [Flatten]                                                   Layer flat;
    [Dense(4, Activation = Activation.Relu), AttributeLayer]   Layer fc1;
    [Dense(2)]                                                  Layer fc2;
}

/// <summary>LeakyReLU before a 2×2 max pooling: applied to every element, one sample at a time.</summary>
[Network]
[Input(1, 8, 16)]
public sealed partial class PooledLeakyNet
{
    [Conv(2, Kernel = 1, Activation = Activation.LeakyRelu)]   Layer conv1;
    [MaxPool(2)]                                                Layer pool1;
    [Flatten]                                                   Layer flat;
    [Dense(3), AttributeLayer]                                  Layer fc1;
}

/// <summary>The first layer's output scored below a max pooling: the backward pass needs them, so no fusion.</summary>
[Network]
[Input(1, 8, 10)]
public sealed partial class ScoredBelowPoolNet
{
    [Conv(2, Kernel = 3, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(2)]                                                Layer pool1;
    [Flatten]                                                   Layer flat;
    [Dense(3, Activation = Activation.Relu), AttributeLayer]   Layer fc1;
    [Dense(2)]                                                  Layer fc2;
}

/// <summary>
/// A second convolution block above the fused one: with the backward pass stopping at or above pool2 (pool2 and fc1
/// scored), conv2's tanh runs inside pool2's max pooling, and neither conv2's activations nor pool2's argmax are written.
/// </summary>
[Network]
[Input(1, 20, 20)]
public sealed partial class SecondBlockNet
{
    [Conv(3, Kernel = 3, Activation = Activation.Relu)]        Layer conv1;
    [MaxPool(2)]                                                Layer pool1;
    [Conv(4, Kernel = 2, Activation = Activation.Tanh)]        Layer conv2;
    [MaxPool(2), AttributeLayer]                                Layer pool2;
    [Flatten]                                                   Layer flat;
    [Dense(5, Activation = Activation.Relu), AttributeLayer]   Layer fc1;
    [Dense(3)]                                                  Layer fc2;
}

/// <summary>The same blocks with conv2 scored below pool2: the backward pass reads its activations and the argmax, so no fusion.</summary>
[Network]
[Input(1, 20, 20)]
public sealed partial class ScoredSecondBlockNet
{
    [Conv(3, Kernel = 3, Activation = Activation.Relu)]        Layer conv1;
    [MaxPool(2)]                                                Layer pool1;
    [Conv(4, Kernel = 2, Activation = Activation.Relu), AttributeLayer] Layer conv2;
    [MaxPool(2)]                                                Layer pool2;
    [Flatten]                                                   Layer flat;
    [Dense(5, Activation = Activation.Relu), AttributeLayer]   Layer fc1;
    [Dense(3)]                                                  Layer fc2;
}

/// <summary>
/// SecondBlockNet's shape with a conv2 Winograd's kernel takes (3×3, 8 → 16 channels, ReLU): its 2×2 pooling runs on the
/// kernel's channels-last tiles (ConvKernels.ForwardMaxPooled), in Forward and along the path.
/// </summary>
[Network]
[Input(3, 10, 10)]
public sealed partial class WinogradBlockNet
{
    [Conv(8, Kernel = 3, Padding = 1, Activation = Activation.Relu)]  Layer conv1;
    [MaxPool(2)]                                                      Layer pool1;
    [Conv(16, Kernel = 3, Padding = 1, Activation = Activation.Relu)] Layer conv2;
    [MaxPool(2), AttributeLayer]                                      Layer pool2;
    [Flatten]                                                         Layer flat;
    [Dense(5, Activation = Activation.Relu), AttributeLayer]          Layer fc1;
    [Dense(3)]                                                        Layer fc2;
}

/// <summary>The same with a 5×5 conv2 of 20 channels (Winograd's 8×8 tiles, channels not a whole vector), pool2 scored alone.</summary>
[Network]
[Input(3, 18, 18)]
public sealed partial class Winograd5x5BlockNet
{
    [Conv(9, Kernel = 3, Activation = Activation.Relu)]               Layer conv1;
    [MaxPool(2)]                                                      Layer pool1;
    [Conv(20, Kernel = 5, Padding = 2, Activation = Activation.Relu)] Layer conv2;
    [MaxPool(2), AttributeLayer]                                      Layer pool2;
    [Flatten]                                                         Layer flat;
    [Dense(3)]                                                        Layer fc2;
}

/// <summary>WinogradBlockNet with a BatchNorm (ReLU) between conv2 and pool2: folded into conv2, pooled in its kernel.</summary>
[Network]
[Input(3, 10, 10)]
public sealed partial class WinogradBatchNormBlockNet
{
    [Conv(8, Kernel = 3, Padding = 1, Activation = Activation.Relu)]  Layer conv1;
    [MaxPool(2)]                                                      Layer pool1;
    [Conv(16, Kernel = 3, Padding = 1)]                               Layer conv2;
    [BatchNorm(Activation = Activation.Relu)]                         Layer bn2;
    [MaxPool(2)]                                                      Layer pool2;
    [Flatten]                                                         Layer flat;
    [Dense(5, Activation = Activation.Relu), AttributeLayer]          Layer fc1;
    [Dense(3)]                                                        Layer fc2;
}
