using System;
using System.Collections.Generic;
using System.Linq;

namespace NigGen.Attribution;

/// <summary>One parameter tensor of a layer: its safetensors / <c>state_dict</c> name and its shape in PyTorch's layout.</summary>
public sealed class WeightDescription
{
    /// <summary>Describes a parameter tensor (called by generated code).</summary>
    public WeightDescription(string name, int[] shape, bool isParameter = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        Name = name;
        Shape = (int[])shape.Clone();
        Length = shape.Aggregate(1, (a, b) => a * b);
        IsParameter = isParameter;
    }

    /// <summary>
    /// Whether the tensor is a trained parameter (PyTorch's <c>parameters()</c>) rather than a buffer the file also
    /// holds, such as BatchNorm's running statistics and <c>num_batches_tracked</c>; only parameters are counted.
    /// </summary>
    public bool IsParameter { get; }

    /// <summary>The tensor's name, such as <c>conv1.weight</c>: the layer's name, a dot, <c>weight</c> or <c>bias</c>.</summary>
    public string Name { get; }

    /// <summary>The tensor's shape (Linear [out, in], Conv1d [out, in, k], Conv2d [out, in, kh, kw], bias [out]).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Number of values in the tensor (the product of <see cref="Shape"/>).</summary>
    public int Length { get; }

    /// <summary>The name and shape, such as <c>conv1.weight (32, 4, 15)</c>.</summary>
    public override string ToString() => $"{Name} {NetworkDescription.Format(Shape)}";
}

/// <summary>
/// One layer of a generated network, as declared: what <see cref="NetworkDescription.Layers"/> lists and the model
/// summary (<see cref="NetworkDescription.ToString"/>) prints.
/// </summary>
public sealed class LayerDescription
{
    /// <summary>The name <see cref="Inputs"/> gives the network's input.</summary>
    public const string NetworkInput = "input";

    private readonly string[] _inputs;
    private readonly int[] _outputShape;
    private readonly WeightDescription[] _weights;

    /// <summary>Describes a layer (called by generated code).</summary>
    public LayerDescription(string name, string kind, string declaration, Activation activation, string[] inputs, int[] outputShape, WeightDescription[] weights)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(declaration);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputShape);
        ArgumentNullException.ThrowIfNull(weights);
        Name = name;
        Kind = kind;
        Declaration = declaration;
        Activation = activation;
        _inputs = (string[])inputs.Clone();
        _outputShape = (int[])outputShape.Clone();
        _weights = (WeightDescription[])weights.Clone();
        OutputLength = outputShape.Aggregate(1, (a, b) => a * b);
        ParameterCount = weights.Where(w => w.IsParameter).Sum(w => w.Length);
    }

    /// <summary>The layer's field name, also the prefix of its weights' names.</summary>
    public string Name { get; }

    /// <summary>The layer's kind: the name of its attribute (<c>Dense</c>, <c>Conv</c>, <c>MaxPool</c>, <c>AvgPool</c>, <c>Flatten</c>).</summary>
    public string Kind { get; }

    /// <summary>The layer attribute as it would be written, with the arguments that differ from their defaults, such as <c>Conv(32, Kernel = 15, Activation = Relu)</c>.</summary>
    public string Declaration { get; }

    /// <summary>The activation applied to the layer's output (<see cref="Activation.None"/> for layers without one).</summary>
    public Activation Activation { get; }

    /// <summary>
    /// The names of the layers this layer reads, in order; <see cref="NetworkInput"/> (<c>input</c>) stands for the
    /// network's input. A layer of a sequential network reads one: the layer declared before it, or the input.
    /// </summary>
    public IReadOnlyList<string> Inputs => _inputs;

    /// <summary>Shape of the layer's output per sample, channels first.</summary>
    public IReadOnlyList<int> OutputShape => _outputShape;

    /// <summary>Floats in the layer's output per sample (the product of <see cref="OutputShape"/>).</summary>
    public int OutputLength { get; }

    /// <summary>The layer's parameter tensors (weight, then bias), empty for layers without parameters.</summary>
    public IReadOnlyList<WeightDescription> Weights => _weights;

    /// <summary>Number of parameters: the values of every tensor in <see cref="Weights"/>.</summary>
    public int ParameterCount { get; }

    /// <summary>How the layer is scored when it is an <c>[AttributeLayer]</c>, with its place in the importance vector; null otherwise.</summary>
    public AttributeLayerInfo? Attribution { get; internal set; }

    /// <summary>The layer's row of the model summary: name, declaration, inputs, output shape, parameters.</summary>
    public override string ToString() =>
        $"{Name}: {Declaration} on {string.Join(", ", _inputs)} → {NetworkDescription.Format(OutputShape)}, {ParameterCount} parameters";
}
