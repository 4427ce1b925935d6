namespace NigGen.Generator.Model;

/// <summary>The kinds of layer a network can declare, one per layer attribute.</summary>
internal enum LayerKind
{
    Dense,
    Conv,
    MaxPool,
    AvgPool,
    Flatten,
    Add,
    Concat,
    BatchNorm,
    Dropout,
    GlobalAvgPool,
    GlobalMaxPool,
}

/// <summary>Mirrors NigGen.Activation (same order, so attribute values map by number).</summary>
internal enum ActivationKind
{
    None,
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
    Softplus,
    Elu,
    Gelu,
    Silu,
}

/// <summary>Which value of a layer <c>[AttributeLayer]</c> scores.</summary>
internal enum AttributionPoint
{
    NotScored,
    Output,
    PreActivation,
}

/// <summary>
/// One layer as declared: the attribute's arguments, unvalidated. <see cref="Size"/> is the units of a Dense, the
/// output channels of a Conv and the window of a pool; <see cref="Stride"/> 0 on a pool means "equal to the window".
/// <see cref="From"/> is the layer it reads when not the previous field (<see cref="InputName"/> for the network's
/// input); <see cref="Inputs"/> are the layers an Add or Concat reads.
/// </summary>
internal sealed record LayerSpec(
    string Name,
    LayerKind Kind,
    int Size,
    int Kernel,
    int Stride,
    int Padding,
    bool HasBias,
    ActivationKind Activation,
    AttributionPoint Attribution)
{
    /// <summary>NigGen.Layer.Input: the name by which a layer reads the network's input.</summary>
    public const string InputName = "<input>";

    public string? From { get; init; }

    public EquatableArray<string> Inputs { get; init; } = EquatableArray<string>.Empty;

    public int Dilation { get; init; } = 1;

    public int Groups { get; init; } = 1;

    public double Epsilon { get; init; } = 1e-5;

    public double Momentum { get; init; } = 0.1;

    public bool Affine { get; init; } = true;

    /// <summary>Dropout's probability.</summary>
    public double Probability { get; init; }

    /// <summary>The state_dict prefix of the layer's tensors when it is not the field's name.</summary>
    public string? WeightsPrefix { get; init; }
}

/// <summary>
/// A network declaration as parsed from the class and its attributes: names, numbers and enums only (no symbols,
/// syntax or locations), so that the pipeline caches it by value.
/// </summary>
internal sealed record NetworkSpec(
    string? Namespace,
    string ClassName,
    EquatableArray<int> InputShape,
    EquatableArray<LayerSpec> Layers);
