using NigGen;

// The benchmark-sized networks of issue 13's performance targets, declared exactly as the PyTorch models that
// scripts/reference/captum_timing.py times with Captum (scripts/reference/models.py, BENCHMARK_MODELS), with the same
// state_dict names, so that NigGen and the Captum peer can run the same weights. check_declarations.py evaluates these
// declarations on the PyTorch state_dicts and proves they compute the same outputs and attribute-layer values.
namespace NigGen.Benchmarks.Graph;

/// <summary>Basset (Kelley et al. 2016; Kipoi's names): (4, 600) one-hot DNA, conv 300×19, 200×11, 200×7, each with
/// BatchNorm, ReLU and max pooling 3, 4, 4, then dense 1000, 1000 (BatchNorm, ReLU, Dropout 0.3) and 164 logits.
/// Two attribute layers, after their ReLUs: the first conv block (the motif detectors, what Basset's users interpret)
/// and the first dense block.</summary>
[Network]
[Input(4, 600)]
public sealed partial class BassetBenchmarkNet
{
    [Conv(300, Kernel = 19)] Layer conv1;
    [BatchNorm(Activation = Activation.Relu), AttributeLayer] Layer bn1;
    [MaxPool(3)] Layer maxpool1;
    [Conv(200, Kernel = 11)] Layer conv2;
    [BatchNorm(Activation = Activation.Relu)] Layer bn2;
    [MaxPool(4)] Layer maxpool2;
    [Conv(200, Kernel = 7)] Layer conv3;
    [BatchNorm(Activation = Activation.Relu)] Layer bn3;
    [MaxPool(4)] Layer maxpool3;
    [Flatten] Layer flatten;
    [Dense(1000)] Layer fc1;
    [BatchNorm(Activation = Activation.Relu), AttributeLayer] Layer bn4;
    [Dropout(0.3f)] Layer dropout4;
    [Dense(1000)] Layer fc2;
    [BatchNorm(Activation = Activation.Relu)] Layer bn5;
    [Dropout(0.3f)] Layer dropout5;
    [Dense(164)] Layer fc3;
}

/// <summary>A CIFAR-style ResNet with torchvision's names: (3, 32, 32), conv1 16×3×3 without max pooling, three
/// BasicBlocks of 16, 32 (stride 2, 1×1 downsample) and 64 channels (stride 2, downsample), global average pooling,
/// fc 10. Two attribute layers: the outputs of layer1.0 and layer3.0.</summary>
[Network]
[Input(3, 32, 32)]
public sealed partial class CifarResNetBenchmarkNet
{
    [Conv(16, Kernel = 3, Padding = 1, Bias = false)] Layer conv1;
    [BatchNorm(Activation = Activation.Relu)] Layer bn1;
    [Conv(16, Kernel = 3, Padding = 1, Bias = false, Weights = "layer1.0.conv1")] Layer layer1_0_conv1;
    [BatchNorm(Activation = Activation.Relu, Weights = "layer1.0.bn1")] Layer layer1_0_bn1;
    [Conv(16, Kernel = 3, Padding = 1, Bias = false, Weights = "layer1.0.conv2")] Layer layer1_0_conv2;
    [BatchNorm(Weights = "layer1.0.bn2")] Layer layer1_0_bn2;
    [Add(nameof(layer1_0_bn2), nameof(bn1), Activation = Activation.Relu), AttributeLayer] Layer layer1_0;
    [Conv(32, Kernel = 3, Stride = 2, Padding = 1, Bias = false, Weights = "layer2.0.conv1")] Layer layer2_0_conv1;
    [BatchNorm(Activation = Activation.Relu, Weights = "layer2.0.bn1")] Layer layer2_0_bn1;
    [Conv(32, Kernel = 3, Padding = 1, Bias = false, Weights = "layer2.0.conv2")] Layer layer2_0_conv2;
    [BatchNorm(Weights = "layer2.0.bn2")] Layer layer2_0_bn2;
    [Conv(32, Kernel = 1, Stride = 2, Bias = false, From = nameof(layer1_0), Weights = "layer2.0.downsample.0")] Layer layer2_0_downsample_0;
    [BatchNorm(Weights = "layer2.0.downsample.1")] Layer layer2_0_downsample_1;
    [Add(nameof(layer2_0_bn2), nameof(layer2_0_downsample_1), Activation = Activation.Relu)] Layer layer2_0;
    [Conv(64, Kernel = 3, Stride = 2, Padding = 1, Bias = false, Weights = "layer3.0.conv1")] Layer layer3_0_conv1;
    [BatchNorm(Activation = Activation.Relu, Weights = "layer3.0.bn1")] Layer layer3_0_bn1;
    [Conv(64, Kernel = 3, Padding = 1, Bias = false, Weights = "layer3.0.conv2")] Layer layer3_0_conv2;
    [BatchNorm(Weights = "layer3.0.bn2")] Layer layer3_0_bn2;
    [Conv(64, Kernel = 1, Stride = 2, Bias = false, From = nameof(layer2_0), Weights = "layer3.0.downsample.0")] Layer layer3_0_downsample_0;
    [BatchNorm(Weights = "layer3.0.downsample.1")] Layer layer3_0_downsample_1;
    [Add(nameof(layer3_0_bn2), nameof(layer3_0_downsample_1), Activation = Activation.Relu), AttributeLayer] Layer layer3_0;
    [GlobalAvgPool] Layer avgpool;
    [Dense(10)] Layer fc;
}

/// <summary>A BPNet-style net (bpnet-lite's names): (4, 500) one-hot DNA, iconv 32×21 + ReLU, four dilated residual
/// layers X + relu(rconvs.i(X)) (kernel 3, dilation 2, 4, 8, 16), global average pooling, one counts output. Two
/// attribute layers: iconv (after its ReLU) and the last residual sum.</summary>
[Network]
[Input(4, 500)]
public sealed partial class BpNetBenchmarkNet
{
    [Conv(32, Kernel = 21, Padding = 10, Activation = Activation.Relu), AttributeLayer] Layer iconv;
    [Conv(32, Kernel = 3, Padding = 2, Dilation = 2, Activation = Activation.Relu, Weights = "rconvs.0")] Layer rconv0;
    [Add(nameof(iconv), nameof(rconv0))] Layer radd0;
    [Conv(32, Kernel = 3, Padding = 4, Dilation = 4, Activation = Activation.Relu, Weights = "rconvs.1")] Layer rconv1;
    [Add(nameof(radd0), nameof(rconv1))] Layer radd1;
    [Conv(32, Kernel = 3, Padding = 8, Dilation = 8, Activation = Activation.Relu, Weights = "rconvs.2")] Layer rconv2;
    [Add(nameof(radd1), nameof(rconv2))] Layer radd2;
    [Conv(32, Kernel = 3, Padding = 16, Dilation = 16, Activation = Activation.Relu, Weights = "rconvs.3")] Layer rconv3;
    [Add(nameof(radd2), nameof(rconv3)), AttributeLayer] Layer radd3;
    [GlobalAvgPool] Layer pool;
    [Dense(1)] Layer linear;
}
