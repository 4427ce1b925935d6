using System.Collections.Generic;
using System.Linq;
using NigGen.Generator.Model;

namespace NigGen.Generator.Layers;

/// <summary>
/// The rules of every layer kind, looked up once by kind (or by the attribute that declares it). A kind without rules
/// is a diagnostic (NIG0031) where the parser or shape inference meets it, never a network emitted without the layer;
/// the emitters see only models that passed both, so their lookups always succeed.
/// </summary>
internal static class LayerRegistry
{
    /// <summary>Every kind's rules, in <see cref="LayerKind"/> order.</summary>
    public static IReadOnlyList<LayerRules> All { get; } =
    [
        new DenseLayer(),
        new ConvLayer(),
        new PoolLayer(LayerKind.MaxPool),
        new PoolLayer(LayerKind.AvgPool),
        new FlattenLayer(),
        new AddLayer(),
        new ConcatLayer(),
        new BatchNormLayer(),
        new DropoutLayer(),
        new GlobalPoolLayer(LayerKind.GlobalAvgPool),
        new GlobalPoolLayer(LayerKind.GlobalMaxPool),
    ];

    private static readonly Dictionary<LayerKind, LayerRules> ByKind = All.ToDictionary(r => r.Kind);

    private static readonly Dictionary<string, LayerRules> ByAttribute = All.ToDictionary(r => r.AttributeName);

    /// <summary>The rules of <paramref name="kind"/>, or false for a kind that has none.</summary>
    public static bool TryGet(LayerKind kind, out LayerRules rules) => ByKind.TryGetValue(kind, out rules!);

    /// <summary>The rules of the kind declared by the attribute class <paramref name="attributeName"/>, or false.</summary>
    public static bool TryGetByAttribute(string attributeName, out LayerRules rules) => ByAttribute.TryGetValue(attributeName, out rules!);

    /// <summary>The rules of a kind of a validated model (analysis reported any kind without rules, and no model was made).</summary>
    public static LayerRules For(LayerKind kind) => ByKind[kind];

    /// <summary>The attributes that declare a layer, for messages: [Dense], [Conv], …</summary>
    public static string KnownAttributes => string.Join(", ", All.Select(r => "[" + r.Kind + "]"));
}

/// <summary>What a kind's shape rule reads (the layer, the shapes and names of what it reads) and where it reports.</summary>
internal sealed class ShapeContext(LayerSpec layer, int[][] inputs, string[] inputNames, LocationInfo location, List<DiagnosticInfo> diagnostics)
{
    public LayerSpec Layer { get; } = layer;

    /// <summary>The shapes of the layers it reads, in order.</summary>
    public int[][] Inputs { get; } = inputs;

    /// <summary>How messages name each input: 'conv1', or "the input".</summary>
    public string[] InputNames { get; } = inputNames;

    /// <summary>The first input's shape.</summary>
    public int[] Input => Inputs[0];

    /// <summary>How many diagnostics have been reported so far (to tell whether a rule added any).</summary>
    public int DiagnosticCount => diagnostics.Count;

    public void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, params object[] arguments) =>
        diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));
}
