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

/// <summary>Base of the attributes that declare a layer; a field carries exactly one.</summary>
public abstract class LayerAttribute : Attribute
{
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

    /// <summary>Activation applied to the convolution's output.</summary>
    public Activation Activation { get; set; }

    /// <summary>Whether the layer has a bias (on by default, as in PyTorch).</summary>
    public bool Bias { get; set; } = true;
}

/// <summary>Max pooling over a (C, L) or (C, H, W) input (PyTorch <c>MaxPool1d</c>/<c>MaxPool2d</c>, no padding, floor mode).</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class MaxPoolAttribute : LayerAttribute
{
    /// <summary>Declares max pooling with a window of <paramref name="size"/> along every spatial dimension.</summary>
    public MaxPoolAttribute(int size) => Size = size;

    /// <summary>Window size.</summary>
    public int Size { get; }

    /// <summary>Stride; 0 (the default) means equal to <see cref="Size"/>, as in PyTorch.</summary>
    public int Stride { get; set; }
}

/// <summary>Average pooling over a (C, L) or (C, H, W) input (PyTorch <c>AvgPool1d</c>/<c>AvgPool2d</c>, no padding, floor mode).</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class AvgPoolAttribute : LayerAttribute
{
    /// <summary>Declares average pooling with a window of <paramref name="size"/> along every spatial dimension.</summary>
    public AvgPoolAttribute(int size) => Size = size;

    /// <summary>Window size.</summary>
    public int Size { get; }

    /// <summary>Stride; 0 (the default) means equal to <see cref="Size"/>, as in PyTorch.</summary>
    public int Stride { get; set; }
}

/// <summary>Flattens a (C, L) or (C, H, W) tensor to features in C-major order, as <c>torch.flatten(x, 1)</c>.</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public sealed class FlattenAttribute : LayerAttribute
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
