using NigGen;

namespace NigGen.Benchmarks;

// The two reference networks of the performance issue, plus MLP variants whose attribute layer is 64 and 1024 wide
// (the paper's speed-up over one backward pass per neuron should grow with the layer's width).

/// <summary>MLP 784-256(relu)-256(relu, attribute layer)-10.</summary>
[Network]
[Input(784)]
public sealed partial class Mlp
{
    [Dense(256, Activation = Activation.Relu)]                 Layer fc1;
    [Dense(256, Activation = Activation.Relu), AttributeLayer] Layer fc2;
    [Dense(10)]                                                Layer fc3;
}

/// <summary>MLP 784-256(relu)-64(relu, attribute layer)-10.</summary>
[Network]
[Input(784)]
public sealed partial class Mlp64
{
    [Dense(256, Activation = Activation.Relu)]                Layer fc1;
    [Dense(64, Activation = Activation.Relu), AttributeLayer] Layer fc2;
    [Dense(10)]                                               Layer fc3;
}

/// <summary>MLP 784-256(relu)-1024(relu, attribute layer)-10.</summary>
[Network]
[Input(784)]
public sealed partial class Mlp1024
{
    [Dense(256, Activation = Activation.Relu)]                  Layer fc1;
    [Dense(1024, Activation = Activation.Relu), AttributeLayer] Layer fc2;
    [Dense(10)]                                                 Layer fc3;
}

/// <summary>The CNN on 1×28×28 (LeNet-style, the layout of DigitNet in the README): conv 5×5×16, pool 2, conv 5×5×32, pool 2, dense 128 (attribute layer), dense 10.</summary>
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
