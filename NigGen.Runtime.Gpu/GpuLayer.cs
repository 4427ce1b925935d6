using System;
using NigGen.Kernels;

namespace NigGen.Gpu;

/// <summary>The kinds of layer the GPU runtime plans, one per layer attribute.</summary>
public enum GpuLayerKind
{
    /// <summary>A fully connected layer.</summary>
    Dense,
    /// <summary>A 1-D or 2-D convolution (1-D with height 1).</summary>
    Conv,
    /// <summary>Max pooling.</summary>
    MaxPool,
    /// <summary>Average pooling.</summary>
    AvgPool,
    /// <summary>Flattening: the same memory, no work.</summary>
    Flatten,
}

/// <summary>
/// One layer of a generated network as the GPU runtime sees it: kind, geometry, activation and the <see cref="Layer"/>
/// holding its weights. The generator writes the list of these for a network (its <c>ToGpu</c> method); a
/// <see cref="GpuNetwork"/> plans its device passes from it.
/// </summary>
public sealed class GpuLayer
{
    private GpuLayer(GpuLayerKind kind, Layer layer, int inputLength, int outputLength, Activation activation, ConvGeometry conv, PoolGeometry pool)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (!Enum.IsDefined(activation))
        {
            throw new ArgumentOutOfRangeException(nameof(activation), activation, $"Layer '{layer.Name}': {activation} is not a defined Activation.");
        }

        if (activation is Activation.Gelu or Activation.Silu)
        {
            // The device's ActivationMath has no erf or double-precision path for these; refuse rather than compute wrong numbers.
            throw new NotSupportedException($"Layer '{layer.Name}': the GPU backend does not support Activation.{activation}; run this network on the CPU.");
        }

        Kind = kind;
        Layer = layer;
        InputLength = inputLength;
        OutputLength = outputLength;
        Activation = activation;
        ConvGeometry = conv;
        PoolGeometry = pool;
    }

    /// <summary>The layer's kind.</summary>
    public GpuLayerKind Kind { get; }

    /// <summary>The layer's parameters (none for pooling and flatten); its name names the layer in errors.</summary>
    public Layer Layer { get; }

    /// <summary>The layer's name.</summary>
    public string Name => Layer.Name;

    /// <summary>Floats per sample read by the layer.</summary>
    public int InputLength { get; }

    /// <summary>Floats per sample written by the layer.</summary>
    public int OutputLength { get; }

    /// <summary>The activation after a Dense or Conv layer (None for the others).</summary>
    public Activation Activation { get; }

    /// <summary>The convolution's geometry (Conv only).</summary>
    public ConvGeometry ConvGeometry { get; }

    /// <summary>The pooling's geometry (MaxPool and AvgPool only).</summary>
    public PoolGeometry PoolGeometry { get; }

    /// <summary>Whether the layer keeps a pre-activation distinct from its output.</summary>
    public bool HasActivation => Activation != Activation.None;

    /// <summary>A Dense layer: weight [outFeatures, inFeatures] (PyTorch layout), optional bias.</summary>
    public static GpuLayer Dense(Layer layer, int inFeatures, int outFeatures, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(layer);
        RequireWeight(layer, outFeatures * inFeatures, outFeatures, $"[{outFeatures}, {inFeatures}]");
        return new GpuLayer(GpuLayerKind.Dense, layer, inFeatures, outFeatures, activation, default, default);
    }

    /// <summary>A convolution: weight [OutChannels, InChannels, KernelHeight, KernelWidth] (PyTorch layout), optional bias.</summary>
    public static GpuLayer Conv(Layer layer, in ConvGeometry geometry, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(layer);
        geometry.Validate(layer.Name);
        if (geometry.IsDilatedOrGrouped)
        {
            // The device's implicit GEMM assumes adjacent taps and every input channel.
            throw new NotSupportedException($"Layer '{layer.Name}': the GPU backend does not support dilated or grouped convolutions ({geometry}); run this network on the CPU.");
        }

        RequireWeight(layer, geometry.OutChannels * geometry.PatchLength, geometry.OutChannels, $"[{geometry.OutChannels}, {geometry.InChannels}, {geometry.KernelHeight}, {geometry.KernelWidth}]");
        return new GpuLayer(GpuLayerKind.Conv, layer, geometry.InputLength, geometry.OutputLength, activation, geometry, default);
    }

    /// <summary>Max pooling (PyTorch's first-maximum rule).</summary>
    public static GpuLayer MaxPool(Layer layer, in PoolGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(layer);
        geometry.Validate(layer.Name);
        RequireUnpadded(layer, geometry);
        return new GpuLayer(GpuLayerKind.MaxPool, layer, geometry.InputLength, geometry.OutputLength, Activation.None, default, geometry);
    }

    /// <summary>Average pooling.</summary>
    public static GpuLayer AvgPool(Layer layer, in PoolGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(layer);
        geometry.Validate(layer.Name);
        RequireUnpadded(layer, geometry);
        return new GpuLayer(GpuLayerKind.AvgPool, layer, geometry.InputLength, geometry.OutputLength, Activation.None, default, geometry);
    }

    /// <summary>Flatten of <paramref name="length"/> floats per sample.</summary>
    public static GpuLayer Flatten(Layer layer, int length)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        return new GpuLayer(GpuLayerKind.Flatten, layer, length, length, Activation.None, default, default);
    }

    // The device's pooling kernels assume windows inside the input.
    private static void RequireUnpadded(Layer layer, in PoolGeometry geometry)
    {
        if (geometry.IsPadded)
        {
            throw new NotSupportedException($"Layer '{layer.Name}': the GPU backend does not support padded pooling ({geometry}); run this network on the CPU.");
        }
    }

    private static void RequireWeight(Layer layer, long weightLength, int outputs, string shape)
    {
        if (layer.Weight.Length != weightLength)
        {
            throw new ArgumentException($"Layer '{layer.Name}' has a weight of {layer.Weight.Length} floats, but its GPU description needs {shape} = {weightLength}.", nameof(layer));
        }

        if (layer.Bias.Length != 0 && layer.Bias.Length != outputs)
        {
            throw new ArgumentException($"Layer '{layer.Name}' has a bias of {layer.Bias.Length} floats, but its GPU description needs {outputs}.", nameof(layer));
        }
    }
}
