using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using NigGen.Generator;
using NigGen.Generator.Model;
using Xunit;

namespace NigGen.Tests.Generator;

/// <summary>
/// The pipeline must not redo work, or re-emit source, for edits that do not change a network: every keystroke in
/// the IDE runs it. Each test runs the driver once, then again on an edited compilation, and reads the run reasons.
/// </summary>
public sealed class IncrementalCachingTests
{
    private static readonly string[] OurSteps =
        [NetworkGenerator.Steps.Parse, NetworkGenerator.Steps.Analyse, NetworkGenerator.Steps.Model, NetworkGenerator.Steps.Diagnostics, NetworkGenerator.Steps.GpuReference, NetworkGenerator.Steps.Source, NetworkGenerator.Steps.GpuDiagnostics];

    [Fact]
    public void FirstRunTracksEveryStep()
    {
        var run = GeneratorHarness.Run(NetworkSources.DigitNet);
        foreach (string step in OurSteps)
        {
            Assert.True(run.Result.TrackedSteps.ContainsKey(step), $"Step '{step}' is not tracked.");
            Assert.All(run.Result.TrackedSteps[step].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));
        }
    }

    [Fact]
    public void UnrelatedFileAddedReusesEverything()
    {
        var (first, second) = RunTwice(NetworkSources.DigitNet, c => c.AddSyntaxTrees(GeneratorHarness.ParseTree(NetworkSources.Unrelated, "Unrelated.cs")));

        AssertParsedAgainToTheSameValue(second);
        AssertReasons(second, NetworkGenerator.Steps.Analyse, IncrementalStepRunReason.Cached);
        AssertReasons(second, NetworkGenerator.Steps.Model, IncrementalStepRunReason.Cached);
        AssertNoSourceRegenerated(second);
        Assert.Equal(first.SingleSource, second.SingleSource);
    }

    [Fact]
    public void ClonedCompilationReusesEverything()
    {
        var (_, second) = RunTwice(NetworkSources.DigitNet, c => c.Clone());
        AssertParsedAgainToTheSameValue(second);
        foreach (string step in new[] { NetworkGenerator.Steps.Analyse, NetworkGenerator.Steps.Model, NetworkGenerator.Steps.Diagnostics })
        {
            AssertReasons(second, step, IncrementalStepRunReason.Cached);
        }

        AssertNoSourceRegenerated(second);
    }

    [Theory]
    [InlineData("comment above the class", "[Network]", "// A comment.\n[Network]")]
    [InlineData("blank line above the class", "[Network]", "\n\n[Network]")]
    [InlineData("spaces inside an attribute", "[Dense(128, Activation", "[Dense( 128 ,  Activation")]
    [InlineData("doc comment rewritten", "LeNet-style", "LeNet-like")]
    public void EditThatKeepsTheNetworkReusesTheModel(string edit, string find, string replace)
    {
        string edited = NetworkSources.DigitNet.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(NetworkSources.DigitNet, edited);

        var (first, second) = RunTwice(NetworkSources.DigitNet, c => ReplaceSource(c, edited));

        // The parse step runs again (the tree changed, and with it the locations kept for diagnostics), but the model
        // it leads to compares equal, so nothing downstream of it runs.
        Assert.All(Outputs(second, NetworkGenerator.Steps.Model), o => Assert.True(
            o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{edit}: Model was {o.Reason}."));
        AssertNoSourceRegenerated(second);
        Assert.Equal(first.SingleSource, second.SingleSource);
    }

    [Fact]
    public void MovedWarningIsReportedAtItsNewLocationWithoutRegeneratingSource()
    {
        string edited = NetworkSources.NoAttributeLayerNet.Replace("[Network]", "\n[Network]", StringComparison.Ordinal);
        var (first, second) = RunTwice(NetworkSources.NoAttributeLayerNet, c => ReplaceSource(c, edited));

        AssertReasons(second, NetworkGenerator.Steps.Diagnostics, IncrementalStepRunReason.Modified);
        Assert.All(Outputs(second, NetworkGenerator.Steps.Model), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        AssertNoSourceRegenerated(second);

        var before = Assert.Single(first.GeneratorDiagnostics);
        var after = Assert.Single(second.GeneratorDiagnostics);
        Assert.Equal("NIG0008", after.Id);
        Assert.Equal(before.Location.GetLineSpan().StartLinePosition.Line + 1, after.Location.GetLineSpan().StartLinePosition.Line);
    }

    [Fact]
    public void LayerSizeChangeModifiesTheModelAndRegeneratesSource()
    {
        string edited = NetworkSources.DigitNet.Replace("[Dense(128,", "[Dense(64,", StringComparison.Ordinal);
        var (first, second) = RunTwice(NetworkSources.DigitNet, c => ReplaceSource(c, edited));

        AssertReasons(second, NetworkGenerator.Steps.Parse, IncrementalStepRunReason.Modified);
        AssertReasons(second, NetworkGenerator.Steps.Model, IncrementalStepRunReason.Modified);
        Assert.Contains(ModelOutputSteps(second).SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.NotEqual(first.SingleSource, second.SingleSource);
        var model = Assert.IsType<NetworkModel>(Assert.Single(Outputs(second, NetworkGenerator.Steps.Model)).Value);
        Assert.Equal(new[] { 64 }, model.Layers.Single(l => l.Name == "fc1").OutputShape);
    }

    [Theory]
    [InlineData("comment above the class", "[Network]", "// A comment.\n[Network]")]
    [InlineData("spaces inside an Add", "[Add(nameof(bn2), nameof(shortcutBn)", "[Add( nameof(bn2) ,  nameof(shortcutBn)")]
    public void GraphEditThatKeepsTheNetworkReusesTheModel(string edit, string find, string replace)
    {
        string edited = NetworkSources.ResidualNet.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(NetworkSources.ResidualNet, edited);
        var (first, second) = RunTwice(NetworkSources.ResidualNet, c => ReplaceSource(c, edited));
        Assert.All(Outputs(second, NetworkGenerator.Steps.Model), o => Assert.True(
            o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{edit}: Model was {o.Reason}."));
        AssertNoSourceRegenerated(second);
        Assert.Equal(first.SingleSource, second.SingleSource);
    }

    [Fact]
    public void RewiringAnInputModifiesTheModelAndRegeneratesSource()
    {
        // The same layers, the Add now reading bn2 twice instead of the shortcut: only the graph changed.
        string edited = NetworkSources.ResidualNet.Replace("[Add(nameof(bn2), nameof(shortcutBn)", "[Add(nameof(bn2), nameof(bn2)", StringComparison.Ordinal);
        var (first, second) = RunTwice(NetworkSources.ResidualNet, c => ReplaceSource(c, edited));
        AssertReasons(second, NetworkGenerator.Steps.Model, IncrementalStepRunReason.Modified);
        Assert.NotEqual(first.SingleSource, second.SingleSource);
        var model = Assert.IsType<NetworkModel>(Assert.Single(Outputs(second, NetworkGenerator.Steps.Model)).Value);
        Assert.Equal(new[] { 3, 3 }, model.Layers.Single(l => l.Name == "block").Inputs);
    }

    [Fact]
    public void SecondNetworkAddedLeavesTheFirstCached()
    {
        var (_, second) = RunTwice(NetworkSources.DigitNet, c => c.AddSyntaxTrees(GeneratorHarness.ParseTree(NetworkSources.Mlp, "Mlp.cs")));

        var reasons = Outputs(second, NetworkGenerator.Steps.Model).Select(o => o.Reason).OrderBy(r => r).ToList();
        Assert.Equal(new[] { IncrementalStepRunReason.New, IncrementalStepRunReason.Cached }, reasons);
        Assert.Equal(2, second.Sources.Length);
    }

    /// <summary>Anything that pins a compilation, reachable from a cached value, leaks memory and defeats caching.</summary>
    [Theory]
    [InlineData(NetworkSources.DigitNet)]
    [InlineData(NetworkSources.ActivationsNet)]
    [InlineData(NetworkSources.NoAttributeLayerNet)]
    [InlineData(NetworkSources.ResidualNet)]
    [InlineData("using NigGen; [Network, Input(1, 8, 8)] class Broken { [Dense(0)] Layer fc; [Flatten, MaxPool(2)] Layer both; Layer bare; }")]
    [InlineData("using NigGen; [Network] partial class NoInput { [Dense(2), AttributeLayer] Layer fc; }")]
    public void StepOutputsHoldOnlyValues(string source)
    {
        var run = GeneratorHarness.Run(source);
        int walked = 0;
        foreach (string step in OurSteps)
        {
            foreach (var (value, _) in Outputs(run, step))
            {
                ObjectGraph.AssertHoldsNoCompilationObjects(value, step);
                walked++;
            }
        }

        Assert.Equal(OurSteps.Length, walked);
    }

    [Fact]
    public void GraphWalkFindsCompilationObjectsHiddenInArraysAndRecords()
    {
        // Guards the walk itself: a walk that never descends would pass every model.
        var tree = GeneratorHarness.ParseTree("class C { }", "C.cs");
        var hidden = new { Items = new object[] { 1, ("x", new List<object> { tree.GetRoot().GetLocation() }) } };
        var failure = Assert.ThrowsAny<Exception>(() => ObjectGraph.AssertHoldsNoCompilationObjects(hidden, "Test"));
        Assert.Contains("Location", failure.Message);
    }

    private static (GeneratorRun First, GeneratorRun Second) RunTwice(string source, Func<Compilation, Compilation> edit)
    {
        var compilation = GeneratorHarness.CreateCompilation(source);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(), compilation);
        var second = GeneratorHarness.Run(first.Driver, edit(compilation));
        return (first, second);
    }

    private static Compilation ReplaceSource(Compilation compilation, string source)
    {
        var old = compilation.SyntaxTrees.Single();
        return compilation.ReplaceSyntaxTree(old, GeneratorHarness.ParseTree(source, old.FilePath));
    }

    private static IEnumerable<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorRun run, string step)
    {
        Assert.True(run.Result.TrackedSteps.TryGetValue(step, out var steps), $"Step '{step}' is not tracked.");
        return steps.SelectMany(s => s.Outputs);
    }

    // Roslyn runs a ForAttributeWithMetadataName transform again whenever the compilation is new (it may read
    // symbols from other files); what the pipeline needs is that it yields an equal value, so nothing below it runs.
    private static void AssertParsedAgainToTheSameValue(GeneratorRun run) =>
        Assert.All(Outputs(run, NetworkGenerator.Steps.Parse), o => Assert.True(
            o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Parse was {o.Reason}."));

    private static void AssertReasons(GeneratorRun run, string step, IncrementalStepRunReason expected)
    {
        var outputs = Outputs(run, step).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.True(o.Reason == expected, $"{step}: expected {expected}, was {o.Reason}."));
    }

    // The source output steps, fed by the Source step (the Model with the GPU flag; the other output reports diagnostics).
    internal static IEnumerable<IncrementalGeneratorRunStep> ModelOutputSteps(GeneratorRun run) =>
        run.Result.TrackedOutputSteps.Values.SelectMany(s => s)
            .Where(s => s.Inputs.Any(i => i.Source.Name == NetworkGenerator.Steps.Source));

    private static void AssertNoSourceRegenerated(GeneratorRun run)
    {
        var outputs = ModelOutputSteps(run).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.True(
            o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Source output was {o.Reason}."));
    }
}

/// <summary>Walks everything reachable from a value by reflection over its fields, as the pipeline's equality would see it.</summary>
internal static class ObjectGraph
{
    private static readonly Type[] Forbidden =
    [
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel), typeof(Location),
        typeof(SyntaxToken), typeof(SyntaxTrivia), typeof(SyntaxReference), typeof(AttributeData), typeof(TypedConstant),
    ];

    // Static, immutable and compiler-independent: allowed, and not walked (they hold localizable resources).
    private static readonly Type[] AllowedLeaves = [typeof(DiagnosticDescriptor)];

    public static void AssertHoldsNoCompilationObjects(object? root, string rootName)
    {
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Walk(root, rootName, visited);
    }

    private static void Walk(object? value, string path, HashSet<object> visited)
    {
        if (value is null)
        {
            return;
        }

        var type = value.GetType();
        var forbidden = Forbidden.FirstOrDefault(f => f.IsAssignableFrom(type));
        if (forbidden is not null)
        {
            Assert.Fail($"{path} holds a {forbidden.Name} ({type.FullName}).");
        }

        if (type.IsPrimitive || type.IsEnum || value is string or decimal || AllowedLeaves.Any(a => a.IsAssignableFrom(type)))
        {
            return;
        }

        if (!type.IsValueType && !visited.Add(value))
        {
            return;
        }

        if (value is Array array)
        {
            for (int i = 0; i < array.Length; i++)
            {
                Walk(array.GetValue(i), $"{path}[{i}]", visited);
            }

            return;
        }

        // Fields, not properties: computed properties may build new objects, fields are what is held (collections
        // such as EquatableArray, ImmutableArray and List are reached through their backing arrays).
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType.IsByRefLike)
                {
                    continue;
                }

                Walk(field.GetValue(value), $"{path}.{field.Name}", visited);
            }
        }
    }
}
