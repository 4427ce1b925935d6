namespace NigGen.Tests.Generator;

/// <summary>Network declarations, as users write them, that the generator tests compile from source.</summary>
internal static class NetworkSources
{
    /// <summary>A copy of NigGen.Sample's RegulatoryNet, so that its snapshot pins the generator rather than the sample.</summary>
    public const string RegulatoryNet = """
        using NigGen;

        namespace NigGen.Sample.Genomics;

        [Network]
        [Input(4, 200)]
        public sealed partial class RegulatoryNet
        {
            [Conv(32, Kernel = 15, Padding = 7, Activation = Activation.Relu), AttributeLayer] Layer conv1;
            [MaxPool(20)]                                                                       Layer pool1;
            [Flatten]                                                                           Layer flat;
            [Dense(32, Activation = Activation.Relu), AttributeLayer]                          Layer fc1;
            [Dense(3)]                                                                          Layer head;
        }
        """;

    /// <summary>A LeNet-style 2-D network (the sample's former DigitNet): Conv2d, max pooling and a scored Dense layer.</summary>
    public const string DigitNet = """
        using NigGen;

        namespace Samples.Vision;

        /// <summary>A LeNet-style digit classifier on 1×28×28 images; the 128 neurons of fc1 are scored.</summary>
        [Network]
        [Input(1, 28, 28)]
        public sealed partial class DigitNet
        {
            [Conv(16, Kernel = 5, Activation = Activation.Relu)] Layer conv1;
            [MaxPool(2)]                                          Layer pool1;
            [Conv(32, Kernel = 5, Activation = Activation.Relu)] Layer conv2;
            [MaxPool(2)]                                          Layer pool2;
            [Flatten]                                             Layer flat;
            [Dense(128, Activation = Activation.Relu), AttributeLayer] Layer fc1;
            [Dense(10)]                                           Layer fc2;
        }
        """;

    public const string Mlp = """
        using NigGen;

        namespace Samples.Dense;

        [Network]
        [Input(784)]
        public partial class Mlp
        {
            [Dense(256, Activation = Activation.Relu)] Layer fc1;
            [Dense(256, Activation = Activation.Relu), AttributeLayer] Layer fc2;
            [Dense(10)] Layer fc3;
        }
        """;

    /// <summary>Conv1d with stride and padding, then max and (overlapping) average pooling on (C, L).</summary>
    public const string Conv1dNet = """
        using NigGen;

        namespace Samples.Signals;

        [Network]
        [Input(2, 32)]
        internal sealed partial class Conv1dNet
        {
            [Conv(8, Kernel = 5, Stride = 2, Padding = 2, Activation = Activation.Relu), AttributeLayer] Layer conv1;
            [MaxPool(2)] Layer pool1;
            [Conv(4, Kernel = 3, Padding = 1)] Layer conv2;
            [AvgPool(2, Stride = 1)] Layer pool2;
            [Flatten] Layer flat;
            [Dense(3)] Layer head;
        }
        """;

    /// <summary>Every activation but Relu, average pooling, a layer without bias, two attribute layers (one pre-activation).</summary>
    public const string ActivationsNet = """
        using NigGen;

        namespace Samples.Activations;

        [Network]
        [Input(3, 12, 12)]
        public partial class ActivationsNet
        {
            [Conv(6, Kernel = 3, Padding = 1, Activation = Activation.Sigmoid), AttributeLayer(PreActivation = true)] Layer conv1;
            [AvgPool(2)] Layer pool1;
            [Conv(4, Kernel = 3, Stride = 2, Activation = Activation.Tanh)] Layer conv2;
            [Flatten] Layer flat;
            [Dense(12, Activation = Activation.Softplus), AttributeLayer] Layer hidden;
            [Dense(8, Activation = Activation.Elu)] Layer elu;
            [Dense(4, Activation = Activation.LeakyRelu, Bias = false)] Layer leaky;
            [Dense(2)] Layer head;
        }
        """;

    public const string GlobalNamespaceNet = """
        using NigGen;

        [Network]
        [Input(4)]
        partial class GlobalNamespaceNet
        {
            [Dense(3, Activation = Activation.Tanh), AttributeLayer] Layer hidden;
            [Dense(2)] Layer head;
        }
        """;

    /// <summary>Valid but scores nothing: warning NIG0008, and no neuron attribution methods.</summary>
    public const string NoAttributeLayerNet = """
        using NigGen;

        namespace Samples.Plain;

        [Network]
        [Input(4)]
        public partial class NoAttributeLayerNet
        {
            [Dense(8, Activation = Activation.Relu)] Layer hidden;
            [Dense(2)] Layer head;
        }
        """;

    /// <summary>A file with no network in it, for the caching tests.</summary>
    /// <summary>A ResNet-style block: BatchNorm folded into convs, a residual Add, a 1×1 strided shortcut, global pooling.</summary>
    public const string ResidualNet = """
        using NigGen;

        namespace Samples.Graphs;

        [Network]
        [Input(4, 8, 8)]
        public sealed partial class ResidualNet
        {
            [Conv(8, Kernel = 3, Stride = 2, Padding = 1, Bias = false, Weights = "layer1.0.conv1")] Layer conv1;
            [BatchNorm(Activation = Activation.Relu, Weights = "layer1.0.bn1")] Layer bn1;
            [Conv(8, Kernel = 3, Padding = 1, Bias = false, Weights = "layer1.0.conv2")] Layer conv2;
            [BatchNorm(Weights = "layer1.0.bn2")] Layer bn2;
            [Conv(8, Kernel = 1, Stride = 2, Bias = false, From = Layer.Input, Weights = "layer1.0.downsample.0")] Layer shortcut;
            [BatchNorm(Weights = "layer1.0.downsample.1")] Layer shortcutBn;
            [Add(nameof(bn2), nameof(shortcutBn), Activation = Activation.Relu), AttributeLayer] Layer block;
            [GlobalAvgPool] Layer pool;
            [Dense(3)] Layer fc;
        }
        """;

    public const string Unrelated = """
        namespace Samples.Other;

        public static class Helpers
        {
            public static int Twice(int x) => 2 * x;
        }
        """;
}
