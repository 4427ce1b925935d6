using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using NigGen.Generator;
using NigGen.Tests.Generator;
using Xunit;

namespace NigGen.Gpu.Tests.Generator;

/// <summary>
/// The generator emits the GPU entry point exactly when the compilation references NigGen.Runtime.Gpu, and the
/// reference check does not defeat caching.
/// </summary>
public sealed class GpuGeneratorTests
{
    private static readonly MetadataReference[] GpuReferences =
    [
        MetadataReference.CreateFromFile(typeof(GpuNetwork).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(ILGPU.Context).Assembly.Location),
    ];

    [Fact]
    public void SnapshotWithTheGpuReference()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.CreateDriver(), GeneratorHarness.CreateCompilation(GpuReferences, NetworkSources.Conv1dNet));
        Assert.Empty(run.GeneratorDiagnostics);
        GeneratorHarness.AssertNoCompilationErrors(run);
        var warnings = run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
        Assert.Empty(warnings);

        string actual = run.SingleSource.Replace("\r\n", "\n");
        string path = Path.Combine(SnapshotFolder(), "Samples.Signals.Conv1dNet.Gpu.g.cs");
        if (Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"No snapshot {path}; run the tests with UPDATE_SNAPSHOTS=1 to create it.");
        string expected = File.ReadAllText(path).Replace("\r\n", "\n");
        Assert.True(expected == actual, $"The generated file differs from {path}:\n{FirstDifference(expected, actual)}\nIf intended, run with UPDATE_SNAPSHOTS=1 and review the diff.");
    }

    [Theory]
    [InlineData(NetworkSources.DigitNet)]
    [InlineData(NetworkSources.Conv1dNet)]
    [InlineData(NetworkSources.ActivationsNet)]
    public void WithoutTheReferenceNothingGpuIsEmittedAndWithItOnlyTheGpuBlockIsAdded(string source)
    {
        string without = GeneratorHarness.Run(source).SingleSource;
        string with = GeneratorHarness.Run(GeneratorHarness.CreateDriver(), GeneratorHarness.CreateCompilation(GpuReferences, source)).SingleSource;

        Assert.DoesNotContain("Gpu", without, StringComparison.Ordinal);
        Assert.DoesNotContain("ILGPU", without, StringComparison.Ordinal);

        // The GPU file is the CPU file with one block inserted: the same lines before and after it.
        string[] a = without.Split('\n'), b = with.Split('\n');
        int prefix = 0;
        while (prefix < a.Length && a[prefix] == b[prefix])
        {
            prefix++;
        }

        int suffix = 0;
        while (suffix < a.Length - prefix && a[^(suffix + 1)] == b[^(suffix + 1)])
        {
            suffix++;
        }

        Assert.Equal(a.Length, prefix + suffix);
        string inserted = string.Join("\n", b.Skip(prefix).Take(b.Length - prefix - suffix));
        Assert.Contains("public global::NigGen.Gpu.GpuNetwork ToGpu(global::ILGPU.Runtime.Accelerator accelerator", inserted, StringComparison.Ordinal);
        Assert.Contains("RequiresDynamicCode", inserted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Conv(4, Kernel = 3, Padding = 1)] Layer conv; [BatchNorm(Activation = Activation.Relu), AttributeLayer] Layer bn; [Flatten] Layer flat; [Dense(2)] Layer fc;", "bn", "BatchNorm")]
    [InlineData("[Dense(4, Activation = Activation.Relu), AttributeLayer] Layer a; [Dense(4)] Layer b; [Add(nameof(a), nameof(b))] Layer sum; [Dense(2)] Layer fc;", "sum", "Add: the GPU backend runs plain stacks")]
    [InlineData("[Conv(4, Kernel = 3, Dilation = 2), AttributeLayer] Layer conv; [Flatten] Layer flat; [Dense(2)] Layer fc;", "conv", "a dilated or grouped Conv")]
    [InlineData("[Dense(4, Activation = Activation.Gelu), AttributeLayer] Layer a; [Dense(2)] Layer fc;", "a", "activation Gelu")]
    public void A_layer_the_GPU_backend_lacks_means_no_ToGpu_and_a_warning_naming_it(string fields, string layer, string reason)
    {
        string input = fields.Contains("Conv", StringComparison.Ordinal) ? "[Input(2, 8, 8)]" : "[Input(4)]";
        string source = $"using NigGen;\n\nnamespace Samples;\n\n[Network]\n{input}\npublic sealed partial class Net\n{{\n{fields}\n}}\n";
        var without = GeneratorHarness.Run(source);
        Assert.Empty(without.GeneratorDiagnostics);

        var with = GeneratorHarness.Run(GeneratorHarness.CreateDriver(), GeneratorHarness.CreateCompilation(GpuReferences, source));
        var warning = Assert.Single(with.GeneratorDiagnostics);
        Assert.Equal("NIG0030", warning.Id);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        string message = warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"layer '{layer}' ({reason}", message, StringComparison.Ordinal);
        Assert.DoesNotContain("ToGpu", with.SingleSource, StringComparison.Ordinal);
        GeneratorHarness.AssertNoCompilationErrors(with);
    }

    [Fact]
    public void UnrelatedEditsLeaveModelAndSourceCachedWithTheGpuReference()
    {
        var compilation = GeneratorHarness.CreateCompilation(GpuReferences, NetworkSources.DigitNet);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(), compilation);
        var edited = compilation.AddSyntaxTrees(GeneratorHarness.ParseTree("namespace Other; public static class Unrelated { public static int Answer => 42; }", "Unrelated.cs"));
        var second = GeneratorHarness.Run(first.Driver, edited);

        // The reference check runs again on the new compilation, to the same bool; everything downstream is reused.
        Assert.All(Outputs(second, NetworkGenerator.Steps.GpuReference), o => Assert.True(o.Reason is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, $"GpuReference was {o.Reason}."));
        Assert.All(Outputs(second, NetworkGenerator.Steps.Model), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.All(Outputs(second, NetworkGenerator.Steps.Source), o => Assert.True(o.Reason is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, $"Source was {o.Reason}."));
        var emitted = second.Result.TrackedOutputSteps.Values.SelectMany(s => s).Where(s => s.Inputs.Any(i => i.Source.Name == NetworkGenerator.Steps.Source)).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(emitted);
        Assert.All(emitted, o => Assert.True(o.Reason is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, $"Source output was {o.Reason}."));
        Assert.Contains("ToGpu(", second.SingleSource, StringComparison.Ordinal);
    }

    [Fact]
    public void AddingTheReferenceRegeneratesTheSourceWithTheGpuPath()
    {
        var compilation = GeneratorHarness.CreateCompilation(NetworkSources.Mlp);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(), compilation);
        var second = GeneratorHarness.Run(first.Driver, compilation.AddReferences(GpuReferences));

        Assert.All(Outputs(second, NetworkGenerator.Steps.GpuReference), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.All(Outputs(second, NetworkGenerator.Steps.Model), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.DoesNotContain("ToGpu(", first.SingleSource, StringComparison.Ordinal);
        Assert.Contains("ToGpu(", second.SingleSource, StringComparison.Ordinal);
    }

    private static System.Collections.Generic.IEnumerable<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorRun run, string step)
    {
        Assert.True(run.Result.TrackedSteps.TryGetValue(step, out var steps), $"Step '{step}' is not tracked.");
        return steps.SelectMany(s => s.Outputs);
    }

    private static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        int line = 0;
        while (line < e.Length && line < a.Length && e[line] == a[line])
        {
            line++;
        }

        return $"- {line + 1}: {(line < e.Length ? e[line] : "<end>")}\n+ {line + 1}: {(line < a.Length ? a[line] : "<end>")}";
    }

    private static string SnapshotFolder([CallerFilePath] string thisFile = "")
    {
        string folder = Path.Combine(Path.GetDirectoryName(thisFile)!, "Snapshots");
        if (Directory.Exists(folder))
        {
            return folder;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "NigGen.Gpu.Tests", "Generator", "Snapshots");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return folder;
    }
}
