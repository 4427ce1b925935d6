using System;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using NigGen.Generator.Analysis;
using NigGen.Generator.Layers;
using NigGen.Generator.Model;
using NigGen.Generator.Parsing;
using Xunit;

namespace NigGen.Tests.Generator;

/// <summary>
/// The registry of layer kinds (NigGen.Generator/Layers): every kind and every layer attribute the runtime declares has
/// its rules, and a kind without rules is error NIG0031, never a network generated without that layer.
/// </summary>
public sealed class LayerRegistryTests
{
    private const string Known = "[Dense], [Conv], [MaxPool], [AvgPool], [Flatten], [Add], [Concat], [BatchNorm], [Dropout], [GlobalAvgPool], [GlobalMaxPool]";

    [Fact]
    public void Every_kind_has_its_own_rules()
    {
        foreach (var kind in Enum.GetValues<LayerKind>())
        {
            Assert.True(LayerRegistry.TryGet(kind, out var rules), $"no rules for {kind}");
            Assert.Equal(kind, rules.Kind);
            Assert.True(LayerRegistry.TryGetByAttribute(kind + "Attribute", out var byAttribute));
            Assert.Same(rules, byAttribute);
        }

        Assert.Equal(Enum.GetValues<LayerKind>().Length, LayerRegistry.All.Count);
    }

    [Fact]
    public void Every_weighted_sum_says_how_RevealCancel_splits_it()
    {
        // The DeepLIFT emitter splits every weighted sum under an activation; a weighted sum without a flag could not be split.
        var weightedSums = LayerRegistry.All.Where(r => r.IsWeightedSum).ToList();
        Assert.Equal([LayerKind.Dense, LayerKind.Conv], weightedSums.Select(r => r.Kind));
        Assert.All(weightedSums, r => Assert.NotNull(r.RevealCancelFlag));
        Assert.All(LayerRegistry.All.Where(r => !r.IsWeightedSum), r => Assert.Null(r.RevealCancelFlag));
    }

    [Fact]
    public void Every_layer_attribute_of_the_runtime_has_rules_and_no_rules_lack_one()
    {
        var attributes = typeof(LayerAttribute).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(LayerAttribute)) && !t.IsAbstract)
            .Select(t => t.Name).Order().ToList();
        Assert.Equal(attributes, LayerRegistry.All.Select(r => r.AttributeName).Order());
    }

    [Fact]
    public void A_layer_attribute_without_rules_is_an_error_at_that_attribute()
    {
        // A LayerAttribute the generator has no rules for (here a user's own) was once dropped silently from the network.
        const string source = "using NigGen;\n\nnamespace Tests;\n\n[System.AttributeUsage(System.AttributeTargets.Field)]\npublic sealed class SwishAttribute : LayerAttribute { }\n\n" +
                              "[Network]\n[Input(4)]\npublic partial class Net\n{\n    [Dense(4), AttributeLayer] Layer fc;\n    [Swish] Layer swish;\n    [Dense(2)] Layer head;\n}\n";
        var run = GeneratorHarness.Run(source);

        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("NIG0031", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        var span = diagnostic.Location.SourceSpan;
        Assert.Equal("Swish", diagnostic.Location.SourceTree!.ToString().Substring(span.Start, span.Length));
        Assert.Equal($"Layer 'swish' is declared with [Swish], a layer kind NigGen has no rules for; the layer attributes are {Known}", diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void A_kind_without_rules_in_a_declaration_is_an_error_and_no_model()
    {
        var location = new LocationInfo("Net.cs", new TextSpan(10, 5), new LinePositionSpan(new LinePosition(3, 4), new LinePosition(3, 9)));
        var unknown = (LayerKind)99;
        var layers = new[]
        {
            new LayerSpec("fc", LayerKind.Dense, 4, 0, 0, 0, true, ActivationKind.None, AttributionPoint.Output),
            new LayerSpec("odd", unknown, 4, 0, 0, 0, false, ActivationKind.None, AttributionPoint.NotScored),
        };
        var parsed = new ParsedNetwork(
            new NetworkSpec("Tests", "Net", new[] { 4 }.ToEquatableArray(), layers.ToEquatableArray()),
            location, location, new[] { location, location }.ToEquatableArray(), EquatableArray<DiagnosticInfo>.Empty);

        var analysed = ShapeInference.Analyse(parsed);

        Assert.Null(analysed.Model);
        var diagnostic = Assert.Single(analysed.Diagnostics);
        Assert.Equal("NIG0031", diagnostic.Descriptor.Id);
        Assert.Equal(["odd", "[99]", Known], diagnostic.Arguments);
        Assert.Same(location, diagnostic.Location);
    }
}
