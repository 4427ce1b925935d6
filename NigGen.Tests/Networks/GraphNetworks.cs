using NigGen;

// Layer graphs declared as users declare them: residual additions, concatenation, BatchNorm (folded and not), dilated,
// grouped and depthwise convolutions, padded and global pooling, dropout, GELU and SiLU.
namespace NigGen.Tests.Networks;

/// <summary>A residual MLP whose attribute layer is the join itself (a cut of the graph).</summary>
[Network]
[Input(6)]
public sealed partial class ResidualMlp
{
    [Dense(8, Activation = Activation.Tanh)] Layer fc1;
    [Dense(8, Activation = Activation.Gelu)] Layer fc2;
    [Dense(8)] Layer fc3;
    [Add(nameof(fc3), nameof(fc1), Activation = Activation.Silu), AttributeLayer] Layer block;
    [Dense(3)] Layer head;
}

/// <summary>A skip connection from the input around the attribute layer, which is therefore not a cut.</summary>
[Network]
[Input(6)]
public sealed partial class InputSkipMlp
{
    [Dense(6, Activation = Activation.Tanh), AttributeLayer] Layer fc1;
    [Add(nameof(fc1), Layer.Input)] Layer skip;
    [Dense(2, Activation = Activation.Softplus)] Layer fc2;
    [Dense(2)] Layer head;
}

/// <summary>
/// A ResNet/Inception-style CNN: a stem with BatchNorm folded into its conv, padded max pooling, a residual block
/// (dilated conv, depthwise conv, both followed by folded BatchNorms), a 1×1 side branch, a concatenation, an unfolded
/// BatchNorm, padded average pooling, global average pooling, dropout and a dense head.
/// </summary>
[Network]
[Input(3, 10, 10)]
public sealed partial class ResidualCnn
{
    [Conv(8, Kernel = 3, Padding = 1, Bias = false, Weights = "stem.0")] Layer stem;
    [BatchNorm(Activation = Activation.Relu, Weights = "stem.1")] Layer stemBn;
    [MaxPool(3, Stride = 2, Padding = 1)] Layer pool;
    [Conv(8, Kernel = 3, Padding = 2, Dilation = 2, Bias = false, Weights = "layer1.0.conv1")] Layer conv1;
    [BatchNorm(Activation = Activation.Relu, Weights = "layer1.0.bn1")] Layer bn1;
    [Conv(8, Kernel = 3, Padding = 1, Groups = 8, Weights = "layer1.0.conv2")] Layer depthwise;
    [BatchNorm(Weights = "layer1.0.bn2")] Layer bn2;
    [Add(nameof(bn2), nameof(pool), Activation = Activation.Relu), AttributeLayer] Layer block;
    [Conv(4, Kernel = 1, Groups = 2, From = nameof(pool))] Layer side;
    [BatchNorm(Activation = Activation.Silu, Epsilon = 1e-3, Momentum = 0.2), AttributeLayer] Layer sideBn;
    [Concat(nameof(block), nameof(sideBn))] Layer cat;
    [BatchNorm(Activation = Activation.Gelu), AttributeLayer] Layer catBn;
    [AvgPool(3, Stride = 1, Padding = 1)] Layer avg;
    [GlobalAvgPool] Layer gap;
    [Dropout(0.25)] Layer drop;
    [Dense(3)] Layer head;
}

/// <summary>The same network with its stem scored, which keeps stemBn from folding into it: the unfolded BatchNorm path.</summary>
[Network]
[Input(3, 10, 10)]
public sealed partial class ResidualCnnUnfolded
{
    [Conv(8, Kernel = 3, Padding = 1, Bias = false, Weights = "stem.0"), AttributeLayer] Layer stem;
    [BatchNorm(Activation = Activation.Relu, Weights = "stem.1")] Layer stemBn;
    [MaxPool(3, Stride = 2, Padding = 1)] Layer pool;
    [Conv(8, Kernel = 3, Padding = 2, Dilation = 2, Bias = false, Weights = "layer1.0.conv1")] Layer conv1;
    [BatchNorm(Activation = Activation.Relu, Weights = "layer1.0.bn1")] Layer bn1;
    [Conv(8, Kernel = 3, Padding = 1, Groups = 8, Weights = "layer1.0.conv2")] Layer depthwise;
    [BatchNorm(Weights = "layer1.0.bn2")] Layer bn2;
    [Add(nameof(bn2), nameof(pool), Activation = Activation.Relu), AttributeLayer] Layer block;
    [Conv(4, Kernel = 1, Groups = 2, From = nameof(pool))] Layer side;
    [BatchNorm(Activation = Activation.Silu, Epsilon = 1e-3, Momentum = 0.2), AttributeLayer] Layer sideBn;
    [Concat(nameof(block), nameof(sideBn))] Layer cat;
    [BatchNorm(Activation = Activation.Gelu), AttributeLayer] Layer catBn;
    [AvgPool(3, Stride = 1, Padding = 1)] Layer avg;
    [GlobalAvgPool] Layer gap;
    [Dropout(0.25)] Layer drop;
    [Dense(3)] Layer head;
}

/// <summary>A BPNet-style 1-D net: dilated convolutions with residual additions, global max and average pooling concatenated.</summary>
[Network]
[Input(4, 24)]
public sealed partial class DilatedResidual1d
{
    [Conv(6, Kernel = 5, Padding = 2, Activation = Activation.Relu)] Layer stem;
    [Conv(6, Kernel = 3, Padding = 2, Dilation = 2, Activation = Activation.Relu)] Layer dil1;
    [Add(nameof(dil1), nameof(stem))] Layer res1;
    [Conv(6, Kernel = 3, Padding = 4, Dilation = 4, Activation = Activation.Elu)] Layer dil2;
    [Add(nameof(dil2), nameof(res1)), AttributeLayer] Layer res2;
    [GlobalMaxPool] Layer gmp;
    [GlobalAvgPool(From = nameof(res2))] Layer gap;
    [Concat(nameof(gmp), nameof(gap)), AttributeLayer] Layer pooled;
    [Dense(2)] Layer head;
}

/// <summary>
/// A scored layer that only an Add reads: its output gradient is the Add's, which it reads in place instead of a copy,
/// and a backward pass that starts at it (NeuronConductance) seeds that buffer.
/// </summary>
[Network]
[Input(6)]
public sealed partial class ScoredBranchMlp
{
    [Dense(8, Activation = Activation.Tanh)] Layer fc1;
    [Dense(8, Activation = Activation.Relu), AttributeLayer] Layer branch;
    [Add(nameof(branch), nameof(fc1), Activation = Activation.Tanh), AttributeLayer] Layer sum;
    [Dense(3)] Layer head;
}

/// <summary>An Add that only an Add reads, both scored, each input read only by its Add: every branch reads the top Add's gradient in place.</summary>
[Network]
[Input(5)]
public sealed partial class ChainedAddMlp
{
    [Dense(6, Activation = Activation.Tanh)] Layer fc1;
    [Dense(6, Activation = Activation.Relu), AttributeLayer] Layer a;
    [Dense(6, From = nameof(fc1))] Layer b;
    [Add(nameof(a), nameof(b)), AttributeLayer] Layer inner;
    [Dense(6, Activation = Activation.Tanh, From = nameof(fc1))] Layer c;
    [Add(nameof(inner), nameof(c), Activation = Activation.Tanh), AttributeLayer] Layer outer;
    [Dense(3)] Layer head;
}

/// <summary>
/// A Dropout that only an Add reads: in training it reads the Add's gradient in place, and the trainer's workspace holds
/// no output gradient of its own for it.
/// </summary>
[Network]
[Input(5)]
public sealed partial class DropoutBranchMlp
{
    [Dense(6, Activation = Activation.Tanh)] Layer fc1;
    [Dense(6, Activation = Activation.Relu)] Layer fc2;
    [Dropout(0.5)] Layer drop;
    [Add(nameof(drop), nameof(fc1), Activation = Activation.Tanh), AttributeLayer] Layer sum;
    [Dense(3)] Layer head;
}

/// <summary>A scored Dropout of a tensor another layer also reads (found by review: it shared that tensor's buffers).</summary>
[Network]
[Input(4)]
public sealed partial class ScoredAliasNet
{
    [Dense(4, Activation = Activation.Tanh)] Layer c;
    [Dropout(0.2), AttributeLayer] Layer f;
    [Dense(4, From = nameof(f))] Layer d1;
    [Dense(4, From = nameof(c))] Layer d2;
    [Add(nameof(d1), nameof(d2))] Layer s;
    [Dense(2)] Layer head;
}

/// <summary><see cref="ScoredAliasNet"/> with f an identity Dense layer: the oracle for its numbers.</summary>
[Network]
[Input(4)]
public sealed partial class ScoredAliasTwin
{
    [Dense(4, Activation = Activation.Tanh)] Layer c;
    [Dense(4), AttributeLayer] Layer f;
    [Dense(4, From = nameof(f))] Layer d1;
    [Dense(4, From = nameof(c))] Layer d2;
    [Add(nameof(d1), nameof(d2))] Layer s;
    [Dense(2)] Layer head;
}

/// <summary>A BatchNorm on the network's input is the input-most trained layer (found by review: training threw).</summary>
[Network]
[Input(3)]
public sealed partial class BatchNormFirstNet
{
    [BatchNorm] Layer bn;
    [Dense(4, Activation = Activation.Tanh), AttributeLayer] Layer fc;
    [Dense(2)] Layer head;
}

/// <summary>Conv and Dense layers each followed by a BatchNorm with an activation: both BatchNorms fold.</summary>
[Network]
[Input(2, 12)]
public sealed partial class RevealCancelBatchNormFolded
{
    [Conv(4, Kernel = 3)] Layer conv;
    [BatchNorm(Activation = Activation.Relu)] Layer bn1;
    [Flatten] Layer flat;
    [Dense(6, Bias = false)] Layer fc;
    [BatchNorm(Activation = Activation.Tanh), AttributeLayer] Layer bn2;
    [Dense(2)] Layer head;
}

/// <summary>The same network with conv and fc scored, so neither BatchNorm folds: RevealCancel runs through them.</summary>
[Network]
[Input(2, 12)]
public sealed partial class RevealCancelBatchNormUnfolded
{
    [Conv(4, Kernel = 3), AttributeLayer] Layer conv;
    [BatchNorm(Activation = Activation.Relu)] Layer bn1;
    [Flatten] Layer flat;
    [Dense(6, Bias = false), AttributeLayer] Layer fc;
    [BatchNorm(Activation = Activation.Tanh), AttributeLayer] Layer bn2;
    [Dense(2)] Layer head;
}
