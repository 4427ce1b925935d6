using NigGen;

// Small networks declared as users declare them; the generator compiles each into the test assembly.
namespace NigGen.Tests.Networks;

/// <summary>Captum's "MultiLayer" test model with the linear0, linear1 (pre-ReLU) and linear2 outputs scored.</summary>
[Network]
[Input(3)]
public sealed partial class CaptumMultiLayer
{
    [Dense(3), AttributeLayer] Layer linear0;
    [Dense(4, Activation = Activation.Relu), AttributeLayer(PreActivation = true)] Layer linear1;
    [Dense(2), AttributeLayer] Layer linear2;
}

/// <summary>The same model with the ReLU's output scored.</summary>
[Network]
[Input(3)]
public sealed partial class CaptumMultiLayerRelu
{
    [Dense(3)] Layer linear0;
    [Dense(4, Activation = Activation.Relu), AttributeLayer] Layer linear1;
    [Dense(2)] Layer linear2;
}

/// <summary>Captum's integrated-gradients model ReLU(ReLU(x1) − 1 − ReLU(x2)).</summary>
[Network]
[Input(2)]
public sealed partial class CaptumReluModel
{
    [Dense(2, Activation = Activation.Relu), AttributeLayer] Layer relus;
    [Dense(1, Activation = Activation.Relu)] Layer output;
}

/// <summary>Every activation, a layer without bias, two attribute layers (one pre-activation).</summary>
[Network]
[Input(5)]
public sealed partial class DenseActivationsNet
{
    [Dense(6, Activation = Activation.Sigmoid)] Layer sigmoid;
    [Dense(7, Activation = Activation.Tanh), AttributeLayer] Layer tanh;
    [Dense(6, Activation = Activation.Softplus, Bias = false)] Layer softplus;
    [Dense(5, Activation = Activation.Elu), AttributeLayer(PreActivation = true)] Layer elu;
    [Dense(5, Activation = Activation.LeakyRelu)] Layer leaky;
    [Dense(4, Activation = Activation.Relu)] Layer relu;
    [Dense(3)] Layer output;
}

/// <summary>2-D convolutions with stride and padding, overlapping max pooling, average pooling.</summary>
[Network]
[Input(2, 9, 8)]
public sealed partial class Conv2dNet
{
    [Conv(3, Kernel = 3, Stride = 2, Padding = 1, Activation = Activation.Tanh)] Layer conv1;
    [MaxPool(2, Stride = 1)] Layer pool1;
    [Conv(4, Kernel = 2, Activation = Activation.Relu), AttributeLayer] Layer conv2;
    [AvgPool(2)] Layer pool2;
    [Flatten] Layer flat;
    [Dense(6, Activation = Activation.Softplus), AttributeLayer] Layer fc1;
    [Dense(3)] Layer fc2;
}

/// <summary>
/// Convolutions on Winograd's kernels: a 5×5 (F(4×4, 5×5)) and a scored 3×3 (F(4×4, 3×3)) layer, both padded, whose
/// 5×5 outputs end in partial tiles, behind a first layer too thin for them (2 input channels, direct kernel). Average
/// pooling above the scored layer keeps the reference's finite differences away from max pooling's ties.
/// </summary>
[Network]
[Input(2, 5, 5)]
public sealed partial class WinogradNet
{
    [Conv(8, Kernel = 3, Padding = 1, Activation = Activation.Tanh)] Layer conv1;
    [Conv(16, Kernel = 5, Padding = 2, Activation = Activation.Relu)] Layer conv2;
    [Conv(17, Kernel = 3, Padding = 1, Activation = Activation.Softplus), AttributeLayer] Layer conv3;
    [AvgPool(2)] Layer pool;
    [Flatten] Layer flat;
    [Dense(3)] Layer fc;
}

/// <summary>1-D convolutions, 1-D pooling, a pre-activation conv attribute layer, a sigmoid output.</summary>
[Network]
[Input(3, 17)]
public sealed partial class Conv1dNet
{
    [Conv(4, Kernel = 3, Padding = 2, Activation = Activation.Elu)] Layer conv1;
    [AvgPool(3, Stride = 2)] Layer pool1;
    [Conv(5, Kernel = 2, Stride = 2, Activation = Activation.Softplus, Bias = false), AttributeLayer(PreActivation = true)] Layer conv2;
    [MaxPool(2)] Layer pool2;
    [Flatten] Layer flat;
    [Dense(2, Activation = Activation.Sigmoid)] Layer fc;
}

/// <summary>
/// A scored layer below the first Dense layer (found by review: the path shortcut, which interpolates the first affine
/// layer's pre-activation instead of running the layers below it, left this layer's values stale along the path).
/// </summary>
[Network]
[Input(2, 4, 4)]
public sealed partial class ScoredBelowDenseNet
{
    [AvgPool(2), AttributeLayer] Layer pool;
    [Flatten] Layer flat;
    [Dense(5, Activation = Activation.Tanh), AttributeLayer] Layer fc1;
    [Dense(3)] Layer fc2;
}

/// <summary>
/// Dense layers wide enough that a multi-threaded Forward of too few samples to share out shares their columns among
/// threads (fc1: 160K multiply-adds a sample, up to five 64-column ranges; fc2 at batch 5: four ranges, the last 8 wide).
/// </summary>
[Network]
[Input(500)]
public sealed partial class WideMlp
{
    [Dense(320, Activation = Activation.Relu)] Layer fc1;
    [Dense(200, Activation = Activation.Tanh), AttributeLayer] Layer fc2;
    [Dense(10)] Layer fc3;
}

/// <summary>A network no other test uses, so that its spare helper workspaces can be counted.</summary>
[Network]
[Input(64)]
public sealed partial class HelperWorkspaceNet
{
    [Dense(256, Activation = Activation.Relu)] Layer fc1;
    [Dense(128, Activation = Activation.Tanh), AttributeLayer] Layer fc2;
    [Dense(2)] Layer fc3;
}

/// <summary>The MLP of the paper's comparison and of the benchmarks, scaled down.</summary>
[Network]
[Input(20)]
public sealed partial class SmallMlp
{
    [Dense(16, Activation = Activation.Relu)] Layer fc1;
    [Dense(12, Activation = Activation.Relu), AttributeLayer] Layer fc2;
    [Dense(4)] Layer fc3;
}

/// <summary>A tiny network (4 → Dense 8 tanh → Dense 2): a call costs microseconds, so a test can make thousands.</summary>
[Network]
[Input(4)]
public sealed partial class TinyNet
{
    [Dense(8, Activation = Activation.Tanh), AttributeLayer] Layer hidden;
    [Dense(2)] Layer output;
}

// A network that only predicts: no [AttributeLayer], so the generator warns (NIG0008). The pragma must silence it
// (the test project treats warnings as errors, so this file compiling is the test).
#pragma warning disable NIG0008
[Network]
[Input(4)]
public sealed partial class ForwardOnlyNet
{
    [Dense(3, Activation = Activation.Tanh)] Layer hidden;
    [Dense(2)] Layer output;
}
#pragma warning restore NIG0008
