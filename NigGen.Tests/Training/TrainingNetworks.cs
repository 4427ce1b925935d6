using NigGen;

// Networks declared for the training tests, beside those of NigGen.Tests/Networks that already have a logits head
// (DenseActivationsNet, Conv2dNet, SmallMlp).
namespace NigGen.Tests.Networks;

/// <summary>1-D convolutions with padding and stride, overlapping max pooling, average pooling, a layer without bias.</summary>
[Network]
[Input(3, 17)]
public sealed partial class TrainConv1dNet
{
    [Conv(4, Kernel = 3, Padding = 2, Activation = Activation.LeakyRelu)] Layer conv1;
    [MaxPool(2, Stride = 1)] Layer pool1;
    [Conv(5, Kernel = 2, Stride = 2, Activation = Activation.Tanh, Bias = false), AttributeLayer] Layer conv2;
    [AvgPool(2)] Layer pool2;
    [Flatten] Layer flat;
    [Dense(3)] Layer fc;
}

/// <summary>A pooling layer below the first convolution (the training pass stops above it); a 2-D convolution with padding.</summary>
[Network]
[Input(2, 8, 8)]
public sealed partial class PoolFirstNet
{
    [AvgPool(2)] Layer pool0;
    [Conv(3, Kernel = 3, Padding = 1, Activation = Activation.Elu)] Layer conv;
    [MaxPool(2)] Layer pool;
    [Flatten] Layer flat;
    [Dense(2, Activation = Activation.Sigmoid), AttributeLayer] Layer hidden;
    [Dense(2)] Layer output;
}

/// <summary>A pointwise (1×1) convolution as the head, followed by a global average pool: a fully convolutional network.</summary>
[Network]
[Input(2, 12)]
public sealed partial class ConvHeadNet
{
    [Conv(4, Kernel = 3, Padding = 1, Activation = Activation.Softplus), AttributeLayer] Layer features;
    [Conv(3, Kernel = 1)] Layer head;
    [AvgPool(12)] Layer average;
}

/// <summary>The learning tests' motif detector: one-hot DNA (4 × 24), 16 filters of width 6, a global max pool, 3 outputs.</summary>
[Network]
[Input(4, 24)]
public sealed partial class MotifNet
{
    [Conv(16, Kernel = 6, Activation = Activation.Relu), AttributeLayer] Layer filters;
    [MaxPool(19)] Layer best;
    [Flatten] Layer flat;
    [Dense(3)] Layer classes;
}

// Logistic regression, for the hand-derived gradients: a single Dense layer, nothing to score (hence NIG0008's warning).
#pragma warning disable NIG0008
[Network]
[Input(3)]
public sealed partial class LogisticNet
{
    [Dense(2)] Layer linear;
}
#pragma warning restore NIG0008

/// <summary>A convolution with a ReLU as the last parameter layer, under a pooling layer: not trainable on logits.</summary>
[Network]
[Input(1, 6, 6)]
public sealed partial class ConvReluPoolHeadNet
{
    [Conv(2, Kernel = 3), AttributeLayer] Layer conv1;
    [Conv(3, Kernel = 3, Activation = Activation.Relu)] Layer conv2;
    [MaxPool(2)] Layer pool;
}
