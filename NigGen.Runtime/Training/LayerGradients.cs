using System;
using System.ComponentModel;

namespace NigGen.Training;

/// <summary>
/// The gradient of the loss with respect to one Dense or Conv layer's parameters, as the trainer's last
/// <see cref="Trainer.Step"/> or <see cref="Trainer.ComputeGradients"/> left it.
/// </summary>
public sealed class LayerGradients
{
    private readonly float[] _weight;
    private readonly float[] _bias;

    /// <summary>Creates zero gradients for <paramref name="layer"/> (called by generated code).</summary>
    /// <param name="layer">The layer whose parameters these gradients are for.</param>
    /// <param name="transposed">
    /// Whether the weight's gradient accumulates in the layout of <see cref="Layer.WeightTransposed"/> (convolutions,
    /// whose kernel produces it so) rather than PyTorch's (Dense layers).
    /// </param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public LayerGradients(Layer layer, bool transposed)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Layer = layer;
        IsTransposed = transposed;
        _weight = new float[layer.Weight.Length];
        _bias = new float[layer.Bias.Length];
    }

    /// <summary>The layer.</summary>
    public Layer Layer { get; }

    /// <summary>The layer's name.</summary>
    public string Name => Layer.Name;

    /// <summary>Whether <see cref="WeightAccumulator"/> is in the layout of <see cref="Layer.WeightTransposed"/> rather than of <see cref="Layer.Weight"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool IsTransposed { get; }

    /// <summary>Where the generated backward pass adds the weight's gradient, in the layout <see cref="IsTransposed"/> names.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Span<float> WeightAccumulator => _weight;

    /// <summary>Where the generated backward pass adds the bias's gradient; empty for a layer without bias.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Span<float> BiasAccumulator => _bias;

    /// <summary>The bias's gradient [out]; empty for a layer without bias.</summary>
    public ReadOnlySpan<float> BiasGradient => _bias;

    /// <summary>Copies the weight's gradient, in PyTorch's layout (that of <see cref="Layer.Weight"/>), to <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not as long as the weight.</exception>
    public void CopyWeightGradientTo(Span<float> destination)
    {
        if (destination.Length != _weight.Length)
        {
            throw new ArgumentException($"destination has {destination.Length} floats, but the weight of '{Name}' has {_weight.Length}.", nameof(destination));
        }

        if (IsTransposed)
        {
            Kernels.Transposition.Transpose(_weight, destination, Layer.FanIn, Layer.Outputs);
        }
        else
        {
            _weight.CopyTo(destination);
        }
    }

    internal void Clear()
    {
        Array.Clear(_weight);
        Array.Clear(_bias);
    }

    /// <summary>The first non-finite gradient's description, or null when every gradient is finite.</summary>
    internal string? DescribeNonFinite()
    {
        int bad = FiniteValues.IndexOfNonFinite(_weight);
        if (bad >= 0)
        {
            return $"the gradient of {Name}.weight holds {FiniteValues.Describe(_weight[bad])}";
        }

        bad = FiniteValues.IndexOfNonFinite(_bias);
        return bad >= 0 ? $"the gradient of {Name}.bias holds {FiniteValues.Describe(_bias[bad])}" : null;
    }
}
