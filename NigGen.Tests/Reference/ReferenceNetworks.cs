using NigGen;

// The networks of the PyTorch/Captum reference data (scripts/reference/README.md). Each class declares exactly the
// PyTorch model of the same name in scripts/reference/models.py: its <name>.weights.safetensors is that model's complete
// state_dict (num_batches_tracked included), loaded unchanged; check_declarations.py evaluates these declarations on
// the state_dicts and proves they compute PyTorch's outputs and attribute-layer values.
namespace NigGen.Tests.Reference;

/// <summary>Basset in miniature (Kipoi's module names): three conv + BatchNorm + ReLU + max-pool blocks, two dense +
/// BatchNorm1d + ReLU + Dropout blocks, a logits head. Scored: bn2 after its ReLU, bn4 before its ReLU.</summary>
[Network]
[Input(4, 48)]
public sealed partial class SmallBasset
{
    [Conv(6, Kernel = 5)] Layer conv1;
    [BatchNorm(Activation = Activation.Relu)] Layer bn1;
    [MaxPool(2)] Layer maxpool1;
    [Conv(5, Kernel = 3)] Layer conv2;
    [BatchNorm(Activation = Activation.Relu), AttributeLayer] Layer bn2;
    [MaxPool(2)] Layer maxpool2;
    [Conv(4, Kernel = 3)] Layer conv3;
    [BatchNorm(Activation = Activation.Relu)] Layer bn3;
    [MaxPool(2)] Layer maxpool3;
    [Flatten] Layer flatten;
    [Dense(12)] Layer fc1;
    [BatchNorm(Activation = Activation.Relu), AttributeLayer(PreActivation = true)] Layer bn4;
    [Dropout(0.3f)] Layer dropout4;
    [Dense(10)] Layer fc2;
    [BatchNorm(Activation = Activation.Relu)] Layer bn5;
    [Dropout(0.3f)] Layer dropout5;
    [Dense(5)] Layer fc3;
}

/// <summary>A ResNet with torchvision's module names: conv1/bn1, a padded 3×3 max pool, two BasicBlocks in layer1 and
/// a strided one with a 1×1 downsample in layer2, global average pooling, fc. Scored: layer1.0's output (a cut of the
/// graph), layer2.0's bn1 after its ReLU (not a cut: the downsample path bypasses it) and avgpool.</summary>
[Network]
[Input(3, 16, 16)]
public sealed partial class SmallResNet
{
    [Conv(8, Kernel = 5, Stride = 2, Padding = 2, Bias = false)] Layer conv1;
    [BatchNorm(Activation = Activation.Relu)] Layer bn1;
    [MaxPool(3, Stride = 2, Padding = 1)] Layer maxpool;
    [Conv(8, Kernel = 3, Padding = 1, Bias = false, Weights = "layer1.0.conv1")] Layer layer1_0_conv1;
    [BatchNorm(Activation = Activation.Relu, Weights = "layer1.0.bn1")] Layer layer1_0_bn1;
    [Conv(8, Kernel = 3, Padding = 1, Bias = false, Weights = "layer1.0.conv2")] Layer layer1_0_conv2;
    [BatchNorm(Weights = "layer1.0.bn2")] Layer layer1_0_bn2;
    [Add(nameof(layer1_0_bn2), nameof(maxpool), Activation = Activation.Relu), AttributeLayer] Layer layer1_0;
    [Conv(8, Kernel = 3, Padding = 1, Bias = false, Weights = "layer1.1.conv1")] Layer layer1_1_conv1;
    [BatchNorm(Activation = Activation.Relu, Weights = "layer1.1.bn1")] Layer layer1_1_bn1;
    [Conv(8, Kernel = 3, Padding = 1, Bias = false, Weights = "layer1.1.conv2")] Layer layer1_1_conv2;
    [BatchNorm(Weights = "layer1.1.bn2")] Layer layer1_1_bn2;
    [Add(nameof(layer1_1_bn2), nameof(layer1_0), Activation = Activation.Relu)] Layer layer1_1;
    [Conv(16, Kernel = 3, Stride = 2, Padding = 1, Bias = false, Weights = "layer2.0.conv1")] Layer layer2_0_conv1;
    [BatchNorm(Activation = Activation.Relu, Weights = "layer2.0.bn1"), AttributeLayer] Layer layer2_0_bn1;
    [Conv(16, Kernel = 3, Padding = 1, Bias = false, Weights = "layer2.0.conv2")] Layer layer2_0_conv2;
    [BatchNorm(Weights = "layer2.0.bn2")] Layer layer2_0_bn2;
    [Conv(16, Kernel = 1, Stride = 2, Bias = false, From = nameof(layer1_1), Weights = "layer2.0.downsample.0")] Layer layer2_0_downsample_0;
    [BatchNorm(Weights = "layer2.0.downsample.1")] Layer layer2_0_downsample_1;
    [Add(nameof(layer2_0_bn2), nameof(layer2_0_downsample_1), Activation = Activation.Relu)] Layer layer2_0;
    [GlobalAvgPool, AttributeLayer] Layer avgpool;
    [Dense(4)] Layer fc;
}

/// <summary>BPNet's body (bpnet-lite's names): iconv + ReLU, three dilated residual layers X + relu(rconvs.i(X)) with
/// dilation 2, 4, 8, global average pooling and the counts head. Scored: rconv0 (not a cut: the residual bypasses it)
/// and radd1 (a cut).</summary>
[Network]
[Input(4, 64)]
public sealed partial class SmallBpNet
{
    [Conv(8, Kernel = 7, Padding = 3, Activation = Activation.Relu)] Layer iconv;
    [Conv(8, Kernel = 3, Padding = 2, Dilation = 2, Activation = Activation.Relu, Weights = "rconvs.0"), AttributeLayer] Layer rconv0;
    [Add(nameof(iconv), nameof(rconv0))] Layer radd0;
    [Conv(8, Kernel = 3, Padding = 4, Dilation = 4, Activation = Activation.Relu, Weights = "rconvs.1")] Layer rconv1;
    [Add(nameof(radd0), nameof(rconv1)), AttributeLayer] Layer radd1;
    [Conv(8, Kernel = 3, Padding = 8, Dilation = 8, Activation = Activation.Relu, Weights = "rconvs.2")] Layer rconv2;
    [Add(nameof(radd1), nameof(rconv2))] Layer radd2;
    [GlobalAvgPool] Layer pool;
    [Dense(2)] Layer linear;
}

/// <summary>A GELU stem and one Inception block: 1×1; 1×1 then 3×3; a depthwise 3×3 (Groups = channels) + BatchNorm +
/// SiLU then a pointwise conv + SiLU; a padded average pool then 1×1; concatenated, global average pooling, Dropout,
/// fc. Scored: the depthwise branch's BatchNorm after its SiLU (not a cut) and the concatenation (a cut).</summary>
[Network]
[Input(3, 12, 12)]
public sealed partial class SmallInception
{
    [Conv(8, Kernel = 3, Padding = 1, Bias = false, Weights = "stem.0")] Layer stem_0;
    [BatchNorm(Activation = Activation.Gelu, Weights = "stem.1")] Layer stem_1;
    [Conv(4, Kernel = 1, Bias = false, Weights = "branch1x1.conv")] Layer branch1x1_conv;
    [BatchNorm(Epsilon = 1e-3f, Activation = Activation.Relu, Weights = "branch1x1.bn")] Layer branch1x1_bn;
    [Conv(4, Kernel = 1, Bias = false, From = nameof(stem_1), Weights = "branch3x3_1.conv")] Layer branch3x3_1_conv;
    [BatchNorm(Epsilon = 1e-3f, Activation = Activation.Relu, Weights = "branch3x3_1.bn")] Layer branch3x3_1_bn;
    [Conv(6, Kernel = 3, Padding = 1, Bias = false, Weights = "branch3x3_2.conv")] Layer branch3x3_2_conv;
    [BatchNorm(Epsilon = 1e-3f, Activation = Activation.Relu, Weights = "branch3x3_2.bn")] Layer branch3x3_2_bn;
    [Conv(8, Kernel = 3, Padding = 1, Groups = 8, Bias = false, From = nameof(stem_1), Weights = "branch_dw.0")] Layer branch_dw_0;
    [BatchNorm(Activation = Activation.Silu, Weights = "branch_dw.1"), AttributeLayer] Layer branch_dw_1;
    [Conv(4, Kernel = 1, Activation = Activation.Silu, Weights = "branch_dw.3")] Layer branch_dw_3;
    [AvgPool(3, Stride = 1, Padding = 1, From = nameof(stem_1))] Layer branch_pool_avg;
    [Conv(3, Kernel = 1, Bias = false, Weights = "branch_pool.conv")] Layer branch_pool_conv;
    [BatchNorm(Epsilon = 1e-3f, Activation = Activation.Relu, Weights = "branch_pool.bn")] Layer branch_pool_bn;
    [Concat(nameof(branch1x1_bn), nameof(branch3x3_2_bn), nameof(branch_dw_3), nameof(branch_pool_bn)), AttributeLayer] Layer concat;
    [GlobalAvgPool] Layer avgpool;
    [Dropout(0.2f)] Layer dropout;
    [Dense(5)] Layer fc;
}

/// <summary>BatchNorm on the network input (defaults), after a Conv1d with Affine = false and non-default Epsilon and
/// Momentum, and on dense features (C) with a Tanh.</summary>
[Network]
[Input(3, 10)]
public sealed partial class BatchNormOptionsNet
{
    [BatchNorm] Layer bn0;
    [Conv(4, Kernel = 3)] Layer conv1;
    [BatchNorm(Affine = false, Epsilon = 1e-3f, Momentum = 0.3f, Activation = Activation.Relu), AttributeLayer] Layer bn1;
    [Flatten] Layer flatten;
    [Dense(6)] Layer fc1;
    [BatchNorm(Epsilon = 1e-2f, Momentum = 0.05f, Activation = Activation.Tanh), AttributeLayer] Layer bn2;
    [Dense(3)] Layer fc2;
}

/// <summary>Dropout on the input and as a scored layer; GELU and SiLU on dense layers.</summary>
[Network]
[Input(6)]
public sealed partial class DropoutGeluSiluNet
{
    [Dropout(0.5f)] Layer drop0;
    [Dense(8, Activation = Activation.Gelu)] Layer fc1;
    [Dropout(0.2f), AttributeLayer] Layer drop1;
    [Dense(7, Activation = Activation.Silu), AttributeLayer] Layer fc2;
    [Dense(3)] Layer fc3;
}

/// <summary>Padded pooling in 1-D: overlapping max pooling (3, stride 2, padding 1), average pooling that counts the
/// padding, and a max pool of 2 with padding 1.</summary>
[Network]
[Input(2, 20)]
public sealed partial class PoolPadding1dNet
{
    [Conv(4, Kernel = 3, Padding = 1, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(3, Stride = 2, Padding = 1)] Layer pool1;
    [Conv(5, Kernel = 3, Padding = 1, Activation = Activation.Relu), AttributeLayer] Layer conv2;
    [AvgPool(3, Stride = 2, Padding = 1)] Layer pool2;
    [MaxPool(2, Padding = 1)] Layer pool3;
    [Flatten] Layer flatten;
    [Dense(3)] Layer fc;
}

/// <summary>Padded pooling in 2-D: overlapping max pooling and average pooling (scored) with padding 1.</summary>
[Network]
[Input(2, 9, 9)]
public sealed partial class PoolPadding2dNet
{
    [Conv(4, Kernel = 3, Padding = 1, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(3, Stride = 2, Padding = 1)] Layer pool1;
    [Conv(4, Kernel = 3, Padding = 1, Activation = Activation.Relu)] Layer conv2;
    [AvgPool(3, Stride = 2, Padding = 1), AttributeLayer] Layer pool2;
    [Flatten] Layer flatten;
    [Dense(3)] Layer fc;
}

/// <summary>GlobalMaxPool and GlobalAvgPool of one (C, L) feature map, concatenated (a Concat of two (C) vectors).</summary>
[Network]
[Input(3, 16)]
public sealed partial class GlobalPool1dNet
{
    [Conv(6, Kernel = 5, Padding = 2, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [GlobalMaxPool] Layer gmax;
    [GlobalAvgPool(From = nameof(conv1))] Layer gavg;
    [Concat(nameof(gmax), nameof(gavg)), AttributeLayer] Layer concat;
    [Dense(4)] Layer fc;
}

/// <summary>GlobalMaxPool on (C, H, W).</summary>
[Network]
[Input(2, 6, 6)]
public sealed partial class GlobalMaxPool2dNet
{
    [Conv(5, Kernel = 3, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [GlobalMaxPool] Layer gmax;
    [Dense(3)] Layer fc;
}

/// <summary>Conv1d with dilation, with groups, and depthwise with dilation and stride (ELU).</summary>
[Network]
[Input(4, 24)]
public sealed partial class DilatedGrouped1dNet
{
    [Conv(6, Kernel = 3, Dilation = 2, Padding = 2, Activation = Activation.Relu)] Layer conv1;
    [Conv(6, Kernel = 3, Groups = 3, Padding = 1, Activation = Activation.Relu), AttributeLayer] Layer conv2;
    [Conv(6, Kernel = 5, Groups = 6, Dilation = 3, Stride = 2, Activation = Activation.Elu), AttributeLayer] Layer conv3;
    [Flatten] Layer flatten;
    [Dense(3)] Layer fc;
}

/// <summary>Conv2d with dilation, grouped with stride (SiLU), and depthwise dilated without bias (GELU).</summary>
[Network]
[Input(4, 10, 10)]
public sealed partial class DilatedGrouped2dNet
{
    [Conv(6, Kernel = 3, Dilation = 2, Padding = 1, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [Conv(9, Kernel = 3, Groups = 3, Stride = 2, Padding = 1, Activation = Activation.Silu)] Layer conv2;
    [Conv(9, Kernel = 3, Groups = 9, Dilation = 2, Padding = 2, Bias = false, Activation = Activation.Gelu), AttributeLayer] Layer conv3;
    [Flatten] Layer flatten;
    [Dense(3)] Layer fc;
}

/// <summary>The BatchNorm training-step reference (make_training_reference.py): BatchNorm2d with Momentum 0.2 after a
/// conv, BatchNorm1d with Epsilon 1e-3 after a dense layer, a logits head for softmax cross-entropy.</summary>
#pragma warning disable NIG0008 // a training reference: nothing to score
[Network]
[Input(2, 6, 6)]
public sealed partial class BatchNormTrainingNet
{
    [Conv(4, Kernel = 3, Padding = 1, Bias = false)] Layer conv1;
    [BatchNorm(Momentum = 0.2f, Activation = Activation.Relu)] Layer bn1;
    [MaxPool(2)] Layer pool1;
    [Flatten] Layer flatten;
    [Dense(6, Bias = false)] Layer fc1;
    [BatchNorm(Epsilon = 1e-3f, Activation = Activation.Relu)] Layer bn2;
    [Dense(3)] Layer fc2;
}
#pragma warning restore NIG0008
