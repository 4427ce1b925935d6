using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using System.Threading;

namespace NigGen.Attribution;

/// <summary>One layer whose neurons are scored, and where its neurons sit in the importance vector.</summary>
public sealed class AttributeLayerInfo
{
    /// <summary>Describes an attribute layer (called by generated code).</summary>
    public AttributeLayerInfo(string name, int offset, int[] shape, bool preActivation, int gradientPosition)
    {
        Name = name;
        Offset = offset;
        Shape = shape;
        Length = shape.Aggregate(1, (a, b) => a * b);
        PreActivation = preActivation;
        GradientPosition = gradientPosition;
    }

    /// <summary>The layer's field name.</summary>
    public string Name { get; }

    /// <summary>Index of the layer's first neuron in the importance vector.</summary>
    public int Offset { get; }

    /// <summary>Number of neurons (the product of <see cref="Shape"/>).</summary>
    public int Length { get; }

    /// <summary>Shape of the scored tensor per sample, channels first; neurons are in this shape's row-major order.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Whether the value before the layer's activation is scored rather than its output.</summary>
    public bool PreActivation { get; }

    /// <summary>The generated backward pass's position of the scored value.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int GradientPosition { get; }
}

/// <summary>
/// What every generated network knows about itself at run time: name, shapes and attribute layers. It also checks the
/// arguments of the public API so that every network reports bad input with the same precise messages.
/// </summary>
public sealed class NetworkDescription
{
    private readonly AttributeLayerInfo[] _attributeLayers;

    // Workspaces that helper threads of multi-threaded calls borrow and hand back (see WorkspaceJob): a thread the pool
    // has just created takes one instead of allocating its own. More concurrent helpers than slots allocate and drop.
    private readonly NetworkWorkspace?[] _spareWorkspaces = new NetworkWorkspace?[Math.Max(4, 2 * Environment.ProcessorCount)];

    private readonly LayerDescription[] _layers;

    /// <summary>Describes a network (called by generated code).</summary>
    /// <exception cref="ArgumentException">An attribute layer is not one of <paramref name="layers"/>, or two layers have the same name.</exception>
    public NetworkDescription(string name, int[] inputShape, int[] outputShape, int outputPosition, int floatsPerSample, AttributeLayerInfo[] attributeLayers, LayerDescription[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = (LayerDescription[])layers.Clone();
        if (_layers.GroupBy(l => l.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new ArgumentException($"{name} describes layer '{twice.Key}' {twice.Count()} times; layer names must be unique.", nameof(layers));
        }

        foreach (var attributeLayer in attributeLayers)
        {
            var layer = _layers.FirstOrDefault(l => l.Name == attributeLayer.Name)
                ?? throw new ArgumentException($"{name}'s attribute layer '{attributeLayer.Name}' is not one of its layers ({string.Join(", ", _layers.Select(l => l.Name))}).", nameof(attributeLayers));
            layer.Attribution = attributeLayer;
        }

        ParameterCount = _layers.Sum(l => (long)l.ParameterCount);

        Name = name;
        InputShape = inputShape;
        OutputShape = outputShape;
        InputLength = inputShape.Aggregate(1, (a, b) => a * b);
        OutputLength = outputShape.Aggregate(1, (a, b) => a * b);
        OutputPosition = outputPosition;
        FloatsPerSample = floatsPerSample;
        _attributeLayers = attributeLayers;
        ImportanceLength = attributeLayers.Sum(l => l.Length);
        EarliestAttributePosition = attributeLayers.Length == 0 ? outputPosition : attributeLayers.Min(l => l.GradientPosition);
    }

    /// <summary>A workspace for a helper thread of a call made on <paramref name="caller"/>: a spare one when there is one.</summary>
    internal NetworkWorkspace LendWorkspace(NetworkWorkspace caller, int capacity)
    {
        for (int i = 0; i < _spareWorkspaces.Length; i++)
        {
            // A spare that is too small is taken too, and replaced by the larger one the helper gets.
            if (Volatile.Read(ref _spareWorkspaces[i]) is { } spare && Interlocked.CompareExchange(ref _spareWorkspaces[i], null, spare) == spare)
            {
                return caller.ForHelper(spare, capacity);
            }
        }

        return caller.ForHelper(null, capacity);
    }

    /// <summary>Hands back a workspace from <see cref="LendWorkspace"/>.</summary>
    internal void ReturnWorkspace(NetworkWorkspace workspace)
    {
        workspace.Unbind();
        for (int i = 0; i < _spareWorkspaces.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _spareWorkspaces[i], workspace, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>The network class's name.</summary>
    public string Name { get; }

    /// <summary>Shape of one input sample, channels first.</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>Shape of one output sample.</summary>
    public IReadOnlyList<int> OutputShape { get; }

    /// <summary>Floats per input sample.</summary>
    public int InputLength { get; }

    /// <summary>Floats per output sample.</summary>
    public int OutputLength { get; }

    /// <summary>Neurons over all attribute layers.</summary>
    public int ImportanceLength { get; }

    /// <summary>Every layer in declaration order, scored or not: kind, inputs, output shape, parameters.</summary>
    public IReadOnlyList<LayerDescription> Layers => _layers;

    /// <summary>Number of parameters over all layers.</summary>
    public long ParameterCount { get; }

    /// <summary>The attribute layers in declaration order.</summary>
    public IReadOnlyList<AttributeLayerInfo> AttributeLayers => _attributeLayers;

    // The hot path iterates the array itself: a foreach over the interface would allocate an enumerator per call.
    internal ReadOnlySpan<AttributeLayerInfo> AttributeLayerSpan => _attributeLayers;

    /// <summary>Workspace floats per sample in flight (sizes automatic chunks).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int FloatsPerSample { get; }

    /// <summary>
    /// Samples one Forward pass runs through the layers at once: as many as keep the workspace within about 1 MiB, so
    /// that each layer's buffers are still in the core's own cache when the next layer reads them (a shared last-level
    /// cache makes larger blocks slow on a busy host), and at most <see cref="PathAttribution.ForwardBlock"/>.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int ForwardBlock => Math.Clamp(PathAttribution.ForwardBlockFloats / Math.Max(1, FloatsPerSample), 1, PathAttribution.ForwardBlock);

    /// <summary>Backward position of the output.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int OutputPosition { get; }

    /// <summary>Lowest backward position any attribute layer needs: where Neuron Integrated Gradients stops.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int EarliestAttributePosition { get; }

    /// <summary>
    /// The model summary, as PyTorch's <c>print(model)</c> or Keras' <c>summary()</c>: a row per layer (name, kind as
    /// declared, the layers it reads, output shape, parameter count, whether it is scored, weight names and shapes), the
    /// total parameter count, and the scored layers with their ranges in the importance vector.
    /// </summary>
    public override string ToString() => ModelSummary.Format(this);

    /// <summary>The attribute layer holding <paramref name="neuron"/> (an index into the importance vector) and the neuron's index within it.</summary>
    public (AttributeLayerInfo Layer, int Index) FindNeuron(int neuron)
    {
        if ((uint)neuron >= (uint)ImportanceLength)
        {
            throw new ArgumentOutOfRangeException(nameof(neuron), neuron, $"{Name} has {ImportanceLength} neurons in its attribute layers: neuron must be in [0, {ImportanceLength}).");
        }

        foreach (var layer in _attributeLayers)
        {
            if (neuron < layer.Offset + layer.Length)
            {
                return (layer, neuron - layer.Offset);
            }
        }

        throw new InvalidOperationException("unreachable: neuron index within ImportanceLength");
    }

    /// <summary>A readable name for a neuron of the importance vector, such as <c>fc1[37]</c> or <c>conv2[3, 4, 1]</c>.</summary>
    public string DescribeNeuron(int neuron)
    {
        var (layer, index) = FindNeuron(neuron);
        var coordinates = new int[layer.Shape.Count];
        for (int d = coordinates.Length - 1; d >= 0; d--)
        {
            coordinates[d] = index % layer.Shape[d];
            index /= layer.Shape[d];
        }

        return $"{layer.Name}[{string.Join(", ", coordinates)}]";
    }

    /// <summary>The batch size of a Forward call, after checking that both spans hold whole, matching samples.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int BatchSize(int inputLength, int outputLength)
    {
        if (inputLength % InputLength != 0)
        {
            throw new ArgumentException($"input has {inputLength} floats, which is not a whole number of {Name} samples of InputLength = {InputLength} {Format(InputShape)}.", "input");
        }

        int batch = inputLength / InputLength;
        if (outputLength != batch * OutputLength)
        {
            throw new ArgumentException($"output has {outputLength} floats, but {batch} input sample(s) need batch × OutputLength = {batch} × {OutputLength} = {batch * OutputLength}.", "output");
        }

        return batch;
    }

    /// <summary>
    /// The batch size of a Forward call, after checking that both spans hold whole, matching samples and that every
    /// input is finite.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match, or an input is NaN or infinite.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int BatchSize(ReadOnlySpan<float> input, int outputLength)
    {
        int batch = BatchSize(input.Length, outputLength);
        RequireFinite(input, "input");
        return batch;
    }

    /// <summary>
    /// Rejects NaN and infinite values of an input or baseline argument with an <see cref="ArgumentException"/> naming
    /// the argument and the first bad index (and its sample, when the span holds several).
    /// </summary>
    internal void RequireFinite(ReadOnlySpan<float> values, string name)
    {
        int bad = FiniteValues.IndexOfNonFinite(values);
        if (bad >= 0)
        {
            ThrowNonFinite(values[bad], bad, values.Length, name);
        }
    }

    private void ThrowNonFinite(float value, int index, int length, string name)
    {
        string where = length > InputLength
            ? $"{name}[{index}] (sample {index / InputLength}, feature {index % InputLength})"
            : $"{name}[{index}]";
        throw new ArgumentException(
            $"{where} is {FiniteValues.Describe(value)}: {Name} takes finite inputs and baselines only, as a NaN or an infinity would make every result it reaches meaningless (see docs/RELIABILITY.md).",
            name);
    }

    internal int SampleCount(int length, string name)
    {
        if (length % InputLength != 0)
        {
            throw new ArgumentException($"{name} has {length} floats, which is not a whole number of {Name} samples of InputLength = {InputLength} {Format(InputShape)}.", name);
        }

        return length / InputLength;
    }

    internal void RequireLength(int length, int expected, string name, string meaning)
    {
        if (length != expected)
        {
            throw new ArgumentException($"{name} has {length} floats, but {Name} needs {meaning} = {expected}.", name);
        }
    }

    internal void RequireSample(int length, string name)
    {
        // The message is built only on failure: these checks run on every call of the hot path.
        if (length != InputLength)
        {
            RequireLength(length, InputLength, name, $"InputLength {Format(InputShape)}");
        }
    }

    internal void RequireTarget(int target, string name = "target")
    {
        if ((uint)target >= (uint)OutputLength)
        {
            throw new ArgumentOutOfRangeException(name, target, $"{Name} has {OutputLength} outputs: target must be in [0, {OutputLength}).");
        }
    }

    internal static string Format(IReadOnlyList<int> shape) => "(" + string.Join(", ", shape) + ")";

    // The checks every batched call shares (inputs, baselines, targets, one result row and one delta per sample, finite
    // values), with the same messages; returns the sample count.
    internal int RequireBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, int resultsLength, int resultLength, string resultsName, string resultMeaning, int deltasLength)
    {
        int samples = SampleCount(inputs.Length, nameof(inputs));
        if (baselines.Length != InputLength && baselines.Length != samples * InputLength)
        {
            RequireLength(baselines.Length, samples * InputLength, nameof(baselines), $"one baseline (InputLength = {InputLength}) or one per input sample ({samples} × InputLength)");
        }

        if (targets.Length != samples)
        {
            throw new ArgumentException($"targets has {targets.Length} entries, but inputs holds {samples} sample(s).", nameof(targets));
        }

        for (int s = 0; s < samples; s++)
        {
            // The name is formatted only on failure: this runs for every sample.
            if ((uint)targets[s] >= (uint)OutputLength)
            {
                RequireTarget(targets[s], $"targets[{s}]");
            }
        }

        if (resultsLength != samples * resultLength)
        {
            RequireLength(resultsLength, samples * resultLength, resultsName, $"{samples} × {resultMeaning}");
        }

        RequireLength(deltasLength, samples, "deltas", "one delta per sample");
        RequireFinite(inputs, nameof(inputs));
        RequireFinite(baselines, nameof(baselines));
        return samples;
    }
}
