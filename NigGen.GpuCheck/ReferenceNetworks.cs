using NigGen;

// The performance issue's reference networks, declared as in NigGen.Benchmarks (Networks.cs) and created from the
// same seed (ReferenceNetwork.WeightSeed), so the check runs the weights the CPU benchmarks run.
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
