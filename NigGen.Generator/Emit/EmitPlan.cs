using System.Collections.Generic;
using System.Linq;
using NigGen.Generator.Layers;
using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>
/// The graph as the emitters see it, and the name of every constant and buffer they write, in one place, so forward,
/// backward and the workspace agree. Layers are in declaration order, a topological order: a layer reads only earlier
/// ones (<see cref="LayerPlan.Inputs"/>), and its <see cref="LayerPlan.Consumers"/> come after it.
/// Layers without an activation use one buffer for their pre-activation and output; Flatten and Dropout (the identity
/// outside training) own no buffer at all and alias the buffers of the layer they read (C-major flattening is a no-op on
/// contiguous memory). A BatchNorm right after a Dense or Conv layer that nothing else reads and that is not scored is
/// folded into it: that layer computes nothing, and the BatchNorm runs its kernel with the folded weights.
/// </summary>
internal sealed class EmitPlan
{
    /// <param name="model">The network.</param>
    /// <param name="training">
    /// The plan of training's passes: BatchNorm normalises with batch statistics, so none is folded, and Dropout applies
    /// a mask, so it owns buffers.
    /// </param>
    public EmitPlan(NetworkModel model, bool training = false)
    {
        Model = model;
        Training = training;
        Layers = model.Layers.Select((layer, index) => new LayerPlan(layer, index, Pascal(layer.Name), training)).ToList();
        foreach (var layer in Layers)
        {
            layer.Inputs = layer.Model.Inputs.Select(i => i < 0 ? null : Layers[i]).ToList();
            foreach (var input in layer.Inputs)
            {
                input?.ConsumerList.Add(layer);
            }
        }

        foreach (var layer in Layers)
        {
            if (!training && layer.Rules.FoldsIntoWeightedSum && layer.Inputs[0] is { } affine && affine.Rules.IsWeightedSum
                && !affine.Model.HasActivation && affine.Consumers.Count == 1 && affine.Model.Spec.Attribution == AttributionPoint.NotScored)
            {
                layer.Folds = affine;
                affine.FoldedInto = layer;
            }
        }

        foreach (var layer in Layers)
        {
            // Read by one Add only, and once, the layer's output gradient is the Add's (pre-activation) gradient: it reads
            // that buffer where it is instead of a copy (BPNet's residual branches: one copy per branch and path point).
            if (layer.OwnsBuffers && layer.Consumers.Count == 1 && layer.Consumers[0] is { } add && add.Model.Kind == LayerKind.Add && add.OwnsBuffers)
            {
                layer.GradientFrom = add;
            }
        }

        for (int i = Layers.Count - 1; i >= 0; i--)
        {
            var descendants = new SortedSet<int> { i };
            foreach (var consumer in Layers[i].Consumers)
            {
                descendants.UnionWith(consumer.Descendants);
            }

            Layers[i].Descendants = descendants;
        }
    }

    public NetworkModel Model { get; }

    /// <summary>Whether this is the plan of training's passes (see the constructor).</summary>
    public bool Training { get; }

    public IReadOnlyList<LayerPlan> Layers { get; }

    public LayerPlan Last => Layers[Layers.Count - 1];

    public IEnumerable<LayerPlan> AttributeLayers => Layers.Where(l => l.Model.Spec.Attribution != AttributionPoint.NotScored);

    public bool HasAttributeLayers => AttributeLayers.Any();

    public int InputLength => Shapes.Length(Model.InputShape);

    /// <summary>The input rows of a pass in the workspace, where the backward passes read the network's input.</summary>
    public const string WorkspaceInputs = "ws.Inputs.AsSpan(0, batch * InputLength)";

    /// <summary>The weighted sums (Dense and Conv): those with parameters to train.</summary>
    public IEnumerable<LayerPlan> ParameterLayers => Layers.Where(l => l.Rules.IsWeightedSum);

    /// <summary>The layers whose tensors the weights file holds: Dense, Conv and BatchNorm.</summary>
    public IEnumerable<LayerPlan> WeightLayers => Layers.Where(l => l.HasWeights);

    /// <summary>Whether every layer reads the one declared before it (the first, the input): a plain stack.</summary>
    public bool IsSequential => Layers.All(l => l.Model.Inputs.Count == 1 && l.Model.Inputs[0] == l.Index - 1);

    /// <summary>The layers with parameters a trainer updates: Dense, Conv and BatchNorm with Affine.</summary>
    public IEnumerable<LayerPlan> TrainedLayers => Layers.Where(l => l.Rules.IsTrained(l.Model.Spec));

    /// <summary>A layer training cannot handle, or null: a Dropout as the output (the loss would read a random mask).</summary>
    public LayerPlan? UntrainableLayer => Last.Rules.UntrainableAsOutput is not null ? Last : null;

    /// <summary>Whether the network has a layer (BatchNorm) whose training needs the whole batch at once.</summary>
    public bool TrainsOnWholeBatch => Layers.Any(l => l.Rules.TrainsOnWholeBatch);

    /// <summary>
    /// Floats of weight-gradient scratch per sample of a training block: the block's transposed output gradient of the
    /// widest Dense layer.
    /// </summary>
    public int DenseGradientScratchPerSample => Layers.Select(l => l.Rules.WeightGradientScratchPerSample(l.Model)).DefaultIfEmpty(0).Max();

    /// <summary>
    /// The first Dense or Conv layer when only linear layers (Flatten, AvgPool) precede it: its pre-activation is an
    /// affine function of the input, hence of α along the path. Null when the network starts with a max pooling, and
    /// when a layer below it is scored: the path methods interpolate this pre-activation instead of running the layers
    /// below, so a scored layer there would never get its values along the path.
    /// </summary>
    public LayerPlan? AffinePrefixLayer
    {
        get
        {
            foreach (var layer in Layers)
            {
                // The prefix is a chain from the input: each layer reads the one before and nothing else reads it.
                bool chained = layer.Model.Inputs.Count == 1 && layer.Model.Inputs[0] == layer.Index - 1
                    && (layer.Index == 0 ? Layers.Count(l => l.Model.Inputs.Contains(-1)) == 1 : Layers[layer.Index - 1].Consumers.Count == 1);
                if (!chained)
                {
                    return null;
                }

                if (layer.Rules.IsWeightedSum)
                {
                    // Folded into the BatchNorm right above it, its BatchNorm's pre-activation is the affine one.
                    return layer.FoldedInto is null ? layer : layer.FoldedInto.Index == layer.Index + 1 ? layer.FoldedInto : null;
                }

                if (layer.Model.Spec.Attribution != AttributionPoint.NotScored || !layer.Rules.PassesAffinePrefix(layer.Model.Spec))
                {
                    return null;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// The layer whose output the path methods compute in one pass from the affine prefix's interpolated pre-activation
    /// when the backward pass stops at or above <see cref="FusedPathStop"/>: the pooling right above the affine layer
    /// (interpolation, activation and pooling fused; the GPU backend's rule), or else the affine layer itself when it
    /// has an activation. Null without an affine prefix or with nothing to fuse.
    /// </summary>
    public LayerPlan? FusedPathLayer
    {
        get
        {
            var affine = AffinePrefixLayer;
            if (affine is null)
            {
                return null;
            }

            if (affine.Index + 1 < Layers.Count && Layers[affine.Index + 1] is { } pool && pool.Rules.FusesIntoPath(pool.Model.Spec)
                && pool.Inputs[0] == affine && affine.Consumers.Count == 1)
            {
                return pool;
            }

            return affine.Model.HasActivation ? affine : null;
        }
    }

    /// <summary>
    /// The layer that Neuron Integrated Gradients updates from one path point to the next instead of recomputing
    /// (NigGen.Kernels.PathChain): the first Dense or Conv reading the fused path layer's output, directly or through
    /// Flatten, when that output is the affine layer's ReLU (or, pooled, no activation) under at most a max pooling, so
    /// that each of its inputs is zero or a line in α. For a Dense or Conv folded into the BatchNorm above it, that
    /// BatchNorm, which runs the folded kernel. Null otherwise, and without attribute layers (no Neuron Integrated
    /// Gradients to run it).
    /// </summary>
    public LayerPlan? PathChainLayer
    {
        get
        {
            var affine = AffinePrefixLayer;
            var fused = FusedPathLayer;
            if (!HasAttributeLayers || affine is null || fused is null || affine.Model.Activation is not (ActivationKind.None or ActivationKind.Relu)
                || fused != affine && fused.Model.Kind != LayerKind.MaxPool)
            {
                return null;
            }

            foreach (var layer in Layers)
            {
                if (layer.Index <= fused.Index || !layer.Rules.IsWeightedSum || layer.Inputs.Count != 1)
                {
                    continue;
                }

                var source = layer.Inputs[0];
                while (source is { Model.Kind: LayerKind.Flatten } flatten && flatten.Inputs.Count == 1)
                {
                    source = flatten.Inputs[0];
                }

                if (source == fused)
                {
                    return layer.FoldedInto ?? layer;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// The lowest backward position at which the fused path is enough: a backward pass down to it reads neither the
    /// affine layer's pre-activation and activations nor a max pooling's argmax. For a pooling its pre-activation
    /// position (its input gradient is not computed), for the affine layer its output position (nor is its activation's).
    /// </summary>
    public string FusedPathStop(LayerPlan fused) => fused == AffinePrefixLayer ? fused.OutputPositionName : fused.PreActivationPositionName;

    /// <summary>
    /// Whether <paramref name="layer"/>'s activation is fused into the max pooling right above it in
    /// <c>InferenceLayers</c>, the forward pass of callers that read only the output.
    /// </summary>
    public bool FusesActivationIntoPool(LayerPlan layer) =>
        layer.Model.HasActivation && layer.Index + 1 < Layers.Count && Layers[layer.Index + 1] is { } pool && pool.Rules.FusesActivationBelow(pool.Model.Spec)
        && pool.Inputs[0] == layer && layer.Consumers.Count == 1;

    /// <summary>
    /// Whether <paramref name="layer"/> is a Dense layer whose ReLU is applied inside its matrix multiply in
    /// <c>InferenceLayers</c> (DenseKernels.ForwardRelu), so its pre-activation is never written.
    /// </summary>
    public bool FusesReluIntoDense(LayerPlan layer) =>
        layer.ComputeRules.FusesRelu && layer.Model.Activation == ActivationKind.Relu && !FusesActivationIntoPool(layer);

    /// <summary>Whether the network has an inference pass of its own: some activation fuses into a max pooling or a Dense layer.</summary>
    public bool HasInferencePass => Layers.Any(l => FusesActivationIntoPool(l) || FusesReluIntoDense(l));

    public int OutputLength => Last.Model.OutputLength;

    public int ImportanceLength => AttributeLayers.Sum(l => l.Model.OutputLength);

    /// <summary>Floats of workspace per sample in flight: interpolated inputs, their gradients and every layer buffer.</summary>
    public int FloatsPerSample => 2 * InputLength + Layers.Sum(l => l.OwnsBuffers
        ? l.Model.OutputLength * ((l.Model.HasActivation ? 3 : 1) + (l.OwnsOutputGradient ? 1 : 0)) + (l.HasArgmax ? l.Model.OutputLength : 0) : 0);

    /// <summary>The source of layer <paramref name="index"/>'s output values; index −1 is the network input.</summary>
    public string Values(int index, string input)
    {
        if (index < 0)
        {
            return input;
        }

        var layer = Layers[index];
        return layer.OwnsBuffers ? $"ws.{layer.Pascal}Output.AsSpan(0, batch * {layer.LengthName})" : Values(layer.Model.Inputs[0], input);
    }

    /// <summary>The values layer <paramref name="layer"/> reads as its input number <paramref name="k"/> (a folded BatchNorm: its Dense or Conv layer's input).</summary>
    public string InputValues(LayerPlan layer, string input, int k = 0) => Values(layer.SourceIndex(k), input);

    /// <summary>The gradient buffer input number <paramref name="k"/> of <paramref name="layer"/> writes in the backward pass.</summary>
    public string InputGradient(LayerPlan layer, int k = 0) => OutputGradient(layer.SourceIndex(k));

    /// <summary>The layer whose gradient buffer layer <paramref name="index"/>'s output gradient is (aliases resolved); −1 the input.</summary>
    public int GradientOwner(int index) => index < 0 || Layers[index].OwnsBuffers ? index : GradientOwner(Layers[index].Model.Inputs[0]);

    /// <summary>
    /// Every write of an input gradient in a backward pass, in the order the backward pass makes them (layers from the
    /// last down, inputs in order), with the buffer it writes (by <see cref="GradientOwner"/>). A buffer written more
    /// than once adds the later writes to the earlier ones.
    /// </summary>
    public IEnumerable<(LayerPlan Layer, int Input, int Owner)> GradientWrites()
    {
        for (int i = Layers.Count - 1; i >= 0; i--)
        {
            var layer = Layers[i];
            if (!layer.HasSteps)
            {
                continue;
            }

            for (int k = 0; k < layer.SourceCount; k++)
            {
                if (!InputReadsGradientInPlace(layer, k))
                {
                    yield return (layer, k, GradientOwner(layer.SourceIndex(k)));
                }
            }
        }
    }

    /// <summary>Whether input <paramref name="k"/> of <paramref name="layer"/> reads the layer's gradient where it is (<see cref="LayerPlan.GradientFrom"/>): nothing to write.</summary>
    public bool InputReadsGradientInPlace(LayerPlan layer, int k) => layer.SourceIndex(k) is int source and >= 0 && Layers[source].GradientFrom == layer;

    /// <summary>Whether the backward pass writes some input gradient of <paramref name="layer"/> (not all of them read in place).</summary>
    public bool WritesInputGradients(LayerPlan layer) => Enumerable.Range(0, layer.SourceCount).Any(k => !InputReadsGradientInPlace(layer, k));

    /// <summary>The gradient buffers written by more than one input of the layers above them.</summary>
    public ISet<int> SharedGradients => new HashSet<int>(GradientWrites().GroupBy(w => w.Owner).Where(g => g.Count() > 1).Select(g => g.Key));

    /// <summary>
    /// The condition under which a backward pass started at position 'from' reaches <paramref name="layer"/>: 'from' lies
    /// in a layer that this one's output flows into. Null when every later layer does (the plain stack's case).
    /// </summary>
    public string? ReachCondition(LayerPlan layer)
    {
        if (layer.Descendants.Count == Layers.Count - layer.Index)
        {
            return null;
        }

        var ranges = new List<string>();
        int start = -1, previous = -2;
        foreach (int j in layer.Descendants.Concat(new[] { int.MaxValue }))
        {
            if (j != previous + 1)
            {
                if (start >= 0)
                {
                    ranges.Add($"(>= {2 * start} and <= {2 * previous + 1})");
                }

                start = j;
            }

            previous = j;
        }

        return "from is " + string.Join(" or ", ranges);
    }

    /// <summary>Whether <paramref name="layer"/>'s output flows into the network's output (not a dead branch).</summary>
    public bool ReachesOutput(LayerPlan layer) => layer.Descendants.Contains(Last.Index);

    public string PreActivationValues(int index, string input) =>
        Layers[index].Model.HasActivation ? $"ws.{Layers[index].Pascal}PreActivation.AsSpan(0, batch * {Layers[index].LengthName})" : Values(index, input);

    public string OutputGradient(int index)
    {
        if (index < 0)
        {
            return "ws.InputGradients.AsSpan(0, batch * InputLength)";
        }

        var layer = Layers[index];
        if (layer.GradientFrom is { } add)
        {
            return PreActivationGradient(add.Index);
        }

        return layer.OwnsBuffers ? $"ws.{layer.Pascal}OutputGradient.AsSpan(0, batch * {layer.LengthName})" : OutputGradient(layer.Model.Inputs[0]);
    }

    public string PreActivationGradient(int index) =>
        Layers[index].Model.HasActivation ? $"ws.{Layers[index].Pascal}PreActivationGradient.AsSpan(0, batch * {Layers[index].LengthName})" : OutputGradient(index);

    private static string Pascal(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);
}

/// <summary>Names for one layer.</summary>
internal sealed class LayerPlan
{
    public LayerPlan(LayerModel model, int index, string pascal, bool training = false)
    {
        Model = model;
        Index = index;
        Pascal = pascal;
        Training = training;
    }

    /// <summary>Whether this layer belongs to the plan of training's passes.</summary>
    public bool Training { get; }

    /// <summary>The layers this one reads, in order; null stands for the network's input.</summary>
    public IReadOnlyList<LayerPlan?> Inputs { get; set; } = new List<LayerPlan?>();

    internal List<LayerPlan> ConsumerList { get; } = new();

    /// <summary>The layers that read this one's output.</summary>
    public IReadOnlyList<LayerPlan> Consumers => ConsumerList;

    /// <summary>This layer and every layer its output flows into, by index.</summary>
    public SortedSet<int> Descendants { get; set; } = new();

    /// <summary>For a BatchNorm folded into the Dense or Conv layer it reads: that layer.</summary>
    public LayerPlan? Folds { get; set; }

    /// <summary>For a Dense or Conv layer folded into the BatchNorm that reads it: that BatchNorm.</summary>
    public LayerPlan? FoldedInto { get; set; }

    /// <summary>
    /// For a layer that only an Add reads, once: that Add. The layer's output gradient is the Add's pre-activation
    /// gradient, so the layer has no gradient buffer of its own and the Add writes nothing for it.
    /// </summary>
    public LayerPlan? GradientFrom { get; set; }

    /// <summary>Whether the layer keeps an output-gradient buffer of its own.</summary>
    public bool OwnsOutputGradient => OwnsBuffers && GradientFrom is null;

    /// <summary>The kind of kernel that computes this layer's pre-activation: a folded BatchNorm computes as its Dense or Conv layer.</summary>
    public LayerKind ComputeKind => Folds?.Model.Kind ?? Model.Kind;

    /// <summary>The rules of the layer's kind.</summary>
    public LayerRules Rules => LayerRegistry.For(Model.Kind);

    /// <summary>The rules of the kind whose kernels compute the layer (<see cref="ComputeKind"/>).</summary>
    public LayerRules ComputeRules => LayerRegistry.For(ComputeKind);

    /// <summary>The layer whose shapes and geometry that kernel uses (the folded layer for a folded BatchNorm).</summary>
    public LayerPlan ComputeLayer => Folds ?? this;

    /// <summary>The Layer object holding the kernel's weights: the field, or the folded weights of a folded BatchNorm.</summary>
    public string KernelField => Folds is null ? Field : "this." + FoldedFieldName;

    /// <summary>The generated field holding a folded BatchNorm's Dense or Conv weights.</summary>
    public string FoldedFieldName => "_folded" + Pascal;

    /// <summary>How many layers the kernel reads (a folded BatchNorm reads its Dense or Conv layer's input).</summary>
    public int SourceCount => Folds is null ? Model.Inputs.Count : 1;

    /// <summary>Index of the layer the kernel reads as input <paramref name="k"/> (−1 the network's input).</summary>
    public int SourceIndex(int k) => Folds is null ? Model.Inputs[k] : Folds.Model.Inputs[0];

    /// <summary>Whether this layer runs anything in a pass: not an alias (Flatten, Dropout) nor folded into a BatchNorm.</summary>
    public bool HasSteps => OwnsBuffers;

    /// <summary>Whether the layer keeps its max pooling's argmax for the backward pass.</summary>
    public bool HasArgmax => Rules.HasArgmax;

    /// <summary>Whether the weights file holds tensors of this layer.</summary>
    public bool HasWeights => Rules.HasWeights;

    public LayerModel Model { get; }

    public int Index { get; }

    public string Pascal { get; }

    public string Name => Model.Name;

    /// <summary>
    /// The layer's field as generated code refers to it: qualified with <c>this.</c> so that no parameter or local of the
    /// generated methods (input, batch, weights…) can hide it, and escaped with <c>@</c> when the name is a keyword.
    /// </summary>
    public string Field => "this." + (Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(Name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" : string.Empty) + Name;

    /// <summary>The same field read through another instance of the network (<paramref name="instance"/>.name).</summary>
    public string FieldOf(string instance) => instance + Field.Substring("this".Length);

    public bool OwnsBuffers => FoldedInto is null && (!IsAlias || Model.Spec.Attribution != AttributionPoint.NotScored);

    /// <summary>
    /// Whether the layer can share the buffers of the layer it reads: Flatten, and Dropout outside training. A scored one
    /// does not: another reader of the same tensor would see its ablated values, and its gradient would include theirs.
    /// </summary>
    public bool IsAlias => Rules.IsAlias(Training);

    /// <summary>Constant holding the layer's output length per sample.</summary>
    public string LengthName => "LayerLength." + Pascal;

    public string GeometryName => "Geometry." + Pascal;

    /// <summary>Backward positions: 2·index is the pre-activation, 2·index + 1 the output, −1 the network input.</summary>
    public int PreActivationPosition => 2 * Index;

    public int OutputPosition => 2 * Index + 1;

    public string PreActivationPositionName => "Position." + Pascal + "PreActivation";

    public string OutputPositionName => "Position." + Pascal + "Output";

    public bool ScoresPreActivation => Model.Spec.Attribution == AttributionPoint.PreActivation;

    public string ScoredPositionName => ScoresPreActivation ? PreActivationPositionName : OutputPositionName;
}
