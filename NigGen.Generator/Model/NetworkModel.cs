namespace NigGen.Generator.Model;

/// <summary>
/// A validated layer with the shapes shape inference gave it (per sample, channels first) and the layers it reads
/// (<see cref="Inputs"/>: indices of earlier layers, −1 for the network's input; <see cref="InputShape"/> is the first
/// one's shape).
/// </summary>
internal sealed record LayerModel(LayerSpec Spec, EquatableArray<int> InputShape, EquatableArray<int> OutputShape, EquatableArray<int> Inputs)
{
    public string Name => Spec.Name;

    public LayerKind Kind => Spec.Kind;

    public ActivationKind Activation => Spec.Activation;

    public bool HasActivation => Spec.Activation != ActivationKind.None;

    public int InputLength => Shapes.Length(InputShape);

    /// <summary>
    /// The weight's shape in PyTorch's layout: Linear [out, in], Conv [out, in / Groups, k(, k)]; empty for other kinds.
    /// The construction reads it and the model summary lists it.
    /// </summary>
    public int[] WeightShape => Layers.LayerRegistry.For(Kind).WeightShape(this);

    /// <summary>The prefix of the layer's tensors in the weights file: the field's name unless Weights says otherwise.</summary>
    public string WeightsPrefix => Spec.WeightsPrefix ?? Spec.Name;

    public int OutputLength => Shapes.Length(OutputShape);

    /// <summary>Spatial rank of a conv or pool: 1 on (C, L) inputs, 2 on (C, H, W).</summary>
    public int SpatialRank => InputShape.Count - 1;

    /// <summary>Effective pool stride (PyTorch: defaults to the window).</summary>
    public int PoolStride => Spec.Stride == 0 ? Spec.Size : Spec.Stride;
}

/// <summary>A network that passed validation: what the emitter needs and nothing else.</summary>
internal sealed record NetworkModel(
    string? Namespace,
    string ClassName,
    EquatableArray<int> InputShape,
    EquatableArray<LayerModel> Layers);

internal static class Shapes
{
    public static int Length(EquatableArray<int> shape)
    {
        int length = 1;
        foreach (int dimension in shape)
        {
            length *= dimension;
        }

        return length;
    }

    /// <summary>Formats a shape as PyTorch prints sizes per sample: (16, 24, 24).</summary>
    public static string Format(EquatableArray<int> shape) => "(" + string.Join(", ", shape) + ")";

    /// <inheritdoc cref="Format(EquatableArray{int})"/>
    public static string Format(int[] shape) => "(" + string.Join(", ", shape) + ")";
}
