using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NigGen.Generator;
using Xunit;

namespace NigGen.Tests.Generator;

/// <summary>
/// Runs <see cref="NetworkGenerator"/> in-process on source strings, compiled against the .NET 10 reference
/// assemblies and the real NigGen.Runtime, so that generated code is checked against the runtime it calls.
/// </summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly CSharpCompilationOptions CompilationOptions = new(
        OutputKind.DynamicallyLinkedLibrary,
        nullableContextOptions: NullableContextOptions.Enable);

    // Loaded once: reading ~200 reference assemblies is the slowest part of a run.
    private static readonly ImmutableArray<MetadataReference> References =
        Basic.Reference.Assemblies.Net100.References.All
            .Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(NigGen.Layer).Assembly.Location))
            .ToImmutableArray();

    /// <summary>A compilation of <paramref name="sources"/>, the i-th parsed from the file <c>Source{i}.cs</c>.</summary>
    public static CSharpCompilation CreateCompilation(params string[] sources) => CreateCompilation([], sources);

    /// <summary>A compilation of <paramref name="sources"/> with <paramref name="extraReferences"/> beside the usual ones (the GPU runtime, say).</summary>
    public static CSharpCompilation CreateCompilation(IEnumerable<MetadataReference> extraReferences, params string[] sources) =>
        CSharpCompilation.Create(
            "GeneratorTests",
            sources.Select((source, i) => ParseTree(source, $"Source{i}.cs")),
            References.Concat(extraReferences),
            CompilationOptions);

    public static SyntaxTree ParseTree(string source, string path) =>
        CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    /// <summary>A driver that records every step's inputs and outputs, for the caching tests.</summary>
    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            [new NetworkGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(params string[] sources) => Run(CreateDriver(), CreateCompilation(sources));

    /// <summary>Runs <paramref name="driver"/> on <paramref name="compilation"/>; fails if the generator threw.</summary>
    public static GeneratorRun Run(GeneratorDriver driver, Compilation compilation)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var driverDiagnostics);
        var result = driver.GetRunResult().Results.Single();

        // A generator that throws is reported only as warning CS8784/CS8785, which a build can easily miss.
        Assert.True(result.Exception is null, $"The generator threw: {result.Exception}");
        Assert.DoesNotContain(driverDiagnostics, d => d.Id is "CS8784" or "CS8785");

        return new GeneratorRun(driver, result, output);
    }

    /// <summary>Fails, listing them, if the compilation with the generated sources has any error.</summary>
    public static void AssertNoCompilationErrors(GeneratorRun run)
    {
        var errors = run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, "The generated code does not compile:\n" + string.Join("\n", errors));
    }
}

/// <summary>One generator run: the driver (to run again), its result and the compilation with the generated sources.</summary>
internal sealed class GeneratorRun
{
    private ImmutableArray<Diagnostic>? _outputDiagnostics;

    public GeneratorRun(GeneratorDriver driver, GeneratorRunResult result, Compilation output)
    {
        Driver = driver;
        Result = result;
        Output = output;
    }

    public GeneratorDriver Driver { get; }

    public GeneratorRunResult Result { get; }

    public Compilation Output { get; }

    public ImmutableArray<GeneratedSourceResult> Sources => Result.GeneratedSources;

    /// <summary>Diagnostics the generator reported (NIG….).</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics => Result.Diagnostics;

    /// <summary>Diagnostics of the compilation including the generated sources; computed on first use (binding is slow).</summary>
    public ImmutableArray<Diagnostic> OutputDiagnostics => _outputDiagnostics ??= Output.GetDiagnostics();

    /// <summary>The single generated file's text.</summary>
    public string SingleSource => Assert.Single(Sources).SourceText.ToString();

    public IReadOnlyList<Diagnostic> Errors(string id) => GeneratorDiagnostics.Where(d => d.Id == id).ToList();

    public override string ToString() => string.Join(Environment.NewLine, GeneratorDiagnostics);
}
