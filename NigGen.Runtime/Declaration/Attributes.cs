using System;

namespace NigGen;

/// <summary>Activation applied after a <see cref="DenseAttribute"/> or <see cref="ConvAttribute"/> layer.</summary>
public enum Activation
{
    /// <summary>Identity.</summary>
    None,
    /// <summary>max(0, x); the derivative at exactly 0 is 0, as in PyTorch.</summary>
    Relu,
    /// <summary>x for x &gt; 0, else 0.01·x (PyTorch's default negative slope).</summary>
    LeakyRelu,
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>Hyperbolic tangent.</summary>
    Tanh,
    /// <summary>log(1 + e^x), linear above 20 (PyTorch's beta = 1, threshold = 20).</summary>
    Softplus,
    /// <summary>x for x &gt; 0, else e^x − 1 (alpha = 1).</summary>
    Elu,
    /// <summary>
    /// x·Φ(x) = 0.5·x·(1 + erf(x/√2)), PyTorch's default (exact, erf) GELU; derivative Φ(x) + x·φ(x). Not monotone
    /// (minimum −0.17 near x = −0.75), so max pooling applies it before the maximum.
    /// </summary>
    Gelu,
    /// <summary>x·σ(x) = x / (1 + e^−x) (SiLU, also called swish); derivative σ(x)·(1 + x·(1 − σ(x))). Not monotone.</summary>
    Silu,
}

/// <summary>
/// Marks a <c>partial</c> class as a network: its <see cref="Layer"/> fields, in declaration order, are the layers,
/// and NigGen.Generator emits forward, backward and attribution code specialised for it.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class NetworkAttribute : Attribute
{
}

/// <summary>The shape of one input sample, channels-first: (features), (channels, length) or (channels, height, width).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class InputAttribute : Attribute
{
    /// <summary>Declares the input shape.</summary>
    public InputAttribute(params int[] shape) => Shape = shape;

    /// <summary>The input shape, channels first.</summary>
    public int[] Shape { get; }
}

/// <summary>
/// Base of the attributes that declare a layer; a field carries exactly one. A layer reads the output of the field
/// declared before it (the first layer reads the network's input) unless <see cref="From"/> names another.
/// </summary>
public abstract class LayerAttribute : Attribute
{
    /// <summary>
    /// The layer this one reads instead of the previous field: <c>nameof(other)</c> for a layer declared earlier, or
    /// <see cref="Layer.Input"/> for the network's input. Null (the default) reads the previous field.
    /// </summary>
    public string? From { get; set; }
}

/// <summary>A fully connected layer (PyTorch <c>nn.Linear</c>: weight [out, in], bias [out]).</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class DenseAttribute : LayerAttribute
{
    /// <summary>Declares a dense layer with <paramref name="units"/> outputs.</summary>
    public DenseAttribute(int units) => Units = units;

    /// <summary>Number of output neurons.</summary>
    public int Units { get; }

    /// <summary>Activation applied to the affine output.</summary>
    public Activation Activation { get; set; }

    /// <summary>Whether the layer has a bias (on by default, as in PyTorch).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>The prefix of the layer's tensors in the weights file when it is not the field's name, e.g. <c>"classifier.0"</c>.</summary>
    public string? Weights { get; set; }
}

/// <summary>
/// A convolution (PyTorch <c>nn.Conv1d</c> on a (C, L) input, <c>nn.Conv2d</c> on a (C, H, W) input;
/// weight [out, in, k] or [out, in, k, k], bias [out]).
/// </summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class ConvAttribute : LayerAttribute
{
    /// <summary>Declares a convolution with <paramref name="outChannels"/> output channels.</summary>
    public ConvAttribute(int outChannels) => OutChannels = outChannels;

    /// <summary>Number of output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel size along every spatial dimension (PyTorch's <c>kernel_size</c>); required.</summary>
    public int Kernel { get; set; }

    /// <summary>Stride along every spatial dimension.</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Zero padding added on both sides of every spatial dimension, as PyTorch's integer padding.</summary>
    public int Padding { get; set; }

    /// <summary>Spacing between kernel taps along every spatial dimension (PyTorch's <c>dilation</c>); 1 is a plain convolution.</summary>
    public int Dilation { get; set; } = 1;

    /// <summary>
    /// Blocked connections from input to output channels (PyTorch's <c>groups</c>): both channel counts must be
    /// multiples of it; the weight is [out, in / Groups, k…]. Groups equal to the input channels is a depthwise convolution.
    /// </summary>
    public int Groups { get; set; } = 1;

    /// <summary>Activation applied to the convolution's output.</summary>
    public Activation Activation { get; set; }

    /// <summary>Whether the layer has a bias (on by default, as in PyTorch).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>The prefix of the layer's tensors in the weights file when it is not the field's name, e.g. <c>"layer1.0.conv1"</c>.</summary>
    public string? Weights { get; set; }
}

/// <summary>Max pooling over a (C, L) or (C, H, W) input (PyTorch <c>MaxPool1d</c>/<c>MaxPool2d</c>, floor mode; padding counts as −∞).</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class MaxPoolAttribute : LayerAttribute
{
    /// <summary>Declares max pooling with a window of <paramref name="size"/> along every spatial dimension.</summary>
    public MaxPoolAttribute(int size) => Size = size;

    /// <summary>Window size.</summary>
    public int Size { get; }

    /// <summary>Stride; 0 (the default) means equal to <see cref="Size"/>, as in PyTorch.</summary>
    public int Stride { get; set; }

    /// <summary>Implicit padding on both sides of every spatial dimension, at most half the window (PyTorch's rule).</summary>
    public int Padding { get; set; }
}

/// <summary>Average pooling over a (C, L) or (C, H, W) input (PyTorch <c>AvgPool1d</c>/<c>AvgPool2d</c>, floor mode; padding counts as zeros in the average, as count_include_pad=True).</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class AvgPoolAttribute : LayerAttribute
{
    /// <summary>Declares average pooling with a window of <paramref name="size"/> along every spatial dimension.</summary>
    public AvgPoolAttribute(int size) => Size = size;

    /// <summary>Window size.</summary>
    public int Size { get; }

    /// <summary>Stride; 0 (the default) means equal to <see cref="Size"/>, as in PyTorch.</summary>
    public int Stride { get; set; }

    /// <summary>Implicit padding on both sides of every spatial dimension, at most half the window (PyTorch's rule).</summary>
    public int Padding { get; set; }
}

/// <summary>Flattens a (C, L) or (C, H, W) tensor to features in C-major order, as <c>torch.flatten(x, 1)</c>.</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class FlattenAttribute : LayerAttribute
{
}

/// <summary>
/// Element-wise sum of two or more earlier layers of equal shape (a residual connection), then an optional activation:
/// <c>[Add(nameof(conv2), nameof(input), Activation = Activation.Relu)]</c> is ResNet's <c>relu(out + identity)</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class AddAttribute : LayerAttribute
{
    /// <summary>Declares the sum of the named layers' outputs (<c>nameof(layer)</c>, or <see cref="Layer.Input"/>).</summary>
    public AddAttribute(params string[] inputs) => Inputs = inputs;

    /// <summary>The layers summed, in order.</summary>
    public string[] Inputs { get; }

    /// <summary>Activation applied to the sum.</summary>
    public Activation Activation { get; set; }
}

/// <summary>
/// Concatenation of two or more earlier layers along channels, as <c>torch.cat(..., 1)</c>: their other dimensions
/// must match. Then an optional activation.
/// </summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class ConcatAttribute : LayerAttribute
{
    /// <summary>Declares the concatenation of the named layers' outputs (<c>nameof(layer)</c>, or <see cref="Layer.Input"/>), in order.</summary>
    public ConcatAttribute(params string[] inputs) => Inputs = inputs;

    /// <summary>The layers concatenated, in order.</summary>
    public string[] Inputs { get; }

    /// <summary>Activation applied to the concatenation.</summary>
    public Activation Activation { get; set; }
}

/// <summary>
/// Batch normalisation (PyTorch <c>BatchNorm1d</c> on (C) or (C, L), <c>BatchNorm2d</c> on (C, H, W)); tensors
/// <c>weight</c> and <c>bias</c> (when <see cref="Affine"/>), <c>running_mean</c>, <c>running_var</c> and
/// <c>num_batches_tracked</c>. Forward and attribution use the running statistics, as PyTorch's eval mode does; right
/// after a Dense or Conv layer that nothing else reads and that is not scored, it is folded into that layer's weights
/// and costs nothing.
/// </summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class BatchNormAttribute : LayerAttribute
{
    /// <summary>Added to the variance before its square root (PyTorch's <c>eps</c>).</summary>
    public double Epsilon { get; set; } = 1e-5;

    /// <summary>Weight of a batch's statistics in the running ones during training (PyTorch's <c>momentum</c>).</summary>
    public double Momentum { get; set; } = 0.1;

    /// <summary>Whether the layer has a learnable scale and shift (<c>weight</c> and <c>bias</c>), as PyTorch's <c>affine</c>.</summary>
    public bool Affine { get; set; } = true;

    /// <summary>Activation applied to the normalised output.</summary>
    public Activation Activation { get; set; }

    /// <summary>The prefix of the layer's tensors in the weights file when it is not the field's name, e.g. <c>"layer1.0.bn1"</c>.</summary>
    public string? Weights { get; set; }
}

/// <summary>
/// Dropout with probability <c>p</c> (PyTorch <c>nn.Dropout</c>): the identity in Forward and in every attribution
/// method, as in eval mode; training zeroes each element with probability p and scales the rest by 1 / (1 − p).
/// </summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class DropoutAttribute : LayerAttribute
{
    /// <summary>Declares dropout with probability <paramref name="p"/>, in [0, 1).</summary>
    public DropoutAttribute(double p) => P = p;

    /// <summary>Probability of zeroing an element during training.</summary>
    public double P { get; }
}

/// <summary>Average over every spatial position: (C, L) or (C, H, W) → (C), as <c>x.mean((2, 3))</c>.</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class GlobalAvgPoolAttribute : LayerAttribute
{
}

/// <summary>Maximum over every spatial position: (C, L) or (C, H, W) → (C), as <c>x.amax((2, 3))</c>.</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class GlobalMaxPoolAttribute : LayerAttribute
{
}

/// <summary>
/// Marks a layer whose neurons are scored by <c>NeuronIntegratedGradients</c> and <c>NeuronConductance</c>.
/// By default the layer's output after its activation is scored.
/// </summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class AttributeLayerAttribute : Attribute
{
    /// <summary>Score the layer's value before its activation instead of after it.</summary>
    public bool PreActivation { get; set; }
}
