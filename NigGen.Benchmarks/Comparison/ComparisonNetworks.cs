using NigGen;

namespace NigGen.Benchmarks.Comparison;

/// <summary>
/// DigitNet (the LeNet-style network of the README) with two layers scored: conv2's output, which has max pooling, a ReLU layer and a linear layer
/// above it (where the attribution methods can disagree), and fc1's output, which has only a linear layer above it.
/// </summary>
[Network]
[Input(1, 28, 28)]
public sealed partial class ComparisonCnn
{
    [Conv(16, Kernel = 5, Activation = Activation.Relu)]                    Layer conv1;
    [MaxPool(2)]                                                             Layer pool1;
    [Conv(32, Kernel = 5, Activation = Activation.Relu), AttributeLayer]    Layer conv2;
    [MaxPool(2)]                                                             Layer pool2;
    [Flatten]                                                                Layer flat;
    [Dense(128, Activation = Activation.Relu), AttributeLayer]              Layer fc1;
    [Dense(10)]                                                              Layer fc2;
}

/// <summary>ComparisonCnn with average instead of max pooling: the same question without DeepLIFT's max-pool rule.</summary>
[Network]
[Input(1, 28, 28)]
public sealed partial class ComparisonCnnAvg
{
    [Conv(16, Kernel = 5, Activation = Activation.Relu)]                    Layer conv1;
    [AvgPool(2)]                                                             Layer pool1;
    [Conv(32, Kernel = 5, Activation = Activation.Relu), AttributeLayer]    Layer conv2;
    [AvgPool(2)]                                                             Layer pool2;
    [Flatten]                                                                Layer flat;
    [Dense(128, Activation = Activation.Relu), AttributeLayer]              Layer fc1;
    [Dense(10)]                                                              Layer fc2;
}

/// <summary>
/// MLP 784-256-128-10 with its first hidden layer scored: two Dense layers above it, the first with a ReLU, so DeepLIFT's
/// rules meet ReLUs but no max pooling.
/// </summary>
[Network]
[Input(784)]
public sealed partial class ComparisonMlp
{
    [Dense(256, Activation = Activation.Relu), AttributeLayer] Layer fc1;
    [Dense(128, Activation = Activation.Relu)]                 Layer fc2;
    [Dense(10)]                                                Layer fc3;
}

#pragma warning disable NIG0008 // nothing to score: these only compute the features a head is trained on

/// <summary>ComparisonCnn's frozen convolutional part: its output is what fc1 reads.</summary>
[Network]
[Input(1, 28, 28)]
public sealed partial class ComparisonCnnFeatures
{
    [Conv(16, Kernel = 5, Activation = Activation.Relu)] Layer conv1;
    [MaxPool(2)]                                          Layer pool1;
    [Conv(32, Kernel = 5, Activation = Activation.Relu)] Layer conv2;
    [MaxPool(2)]                                          Layer pool2;
    [Flatten]                                             Layer flat;
}

/// <summary>ComparisonCnnAvg's frozen convolutional part.</summary>
[Network]
[Input(1, 28, 28)]
public sealed partial class ComparisonCnnAvgFeatures
{
    [Conv(16, Kernel = 5, Activation = Activation.Relu)] Layer conv1;
    [AvgPool(2)]                                          Layer pool1;
    [Conv(32, Kernel = 5, Activation = Activation.Relu)] Layer conv2;
    [AvgPool(2)]                                          Layer pool2;
    [Flatten]                                             Layer flat;
}

/// <summary>ComparisonMlp's frozen first layer: its output is what fc2 reads.</summary>
[Network]
[Input(784)]
public sealed partial class ComparisonMlpFeatures
{
    [Dense(256, Activation = Activation.Relu)] Layer fc1;
}

#pragma warning restore NIG0008
