namespace NigGen.Generator.Model;

/// <summary>The kinds of layer a network can declare, one per layer attribute.</summary>
internal enum LayerKind
{
    Dense,
    Conv,
    MaxPool,
    AvgPool,
    Flatten,
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
    AttributionPoint Attribution);

/// <summary>
/// A network declaration as parsed from the class and its attributes: names, numbers and enums only (no symbols,
/// syntax or locations), so that the pipeline caches it by value.
/// </summary>
internal sealed record NetworkSpec(
    string? Namespace,
    string ClassName,
    EquatableArray<int> InputShape,
    EquatableArray<LayerSpec> Layers);
