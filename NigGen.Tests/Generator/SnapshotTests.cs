using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.CodeAnalysis;
using Xunit;

namespace NigGen.Tests.Generator;

/// <summary>
/// The emitted text of a few networks against checked-in snapshots (Snapshots/&lt;hint name&gt;), each also compiled
/// against the real runtime. Run with UPDATE_SNAPSHOTS=1 to accept new output, then review the diff.
/// </summary>
public sealed class SnapshotTests
{
    [Fact]
    public void SampleRegulatoryNet() => AssertSnapshot(NetworkSources.RegulatoryNet, "NigGen.Sample.Genomics.RegulatoryNet");

    [Fact]
    public void DigitNet() => AssertSnapshot(NetworkSources.DigitNet, "Samples.Vision.DigitNet");

    [Fact]
    public void Mlp() => AssertSnapshot(NetworkSources.Mlp, "Samples.Dense.Mlp");

    [Fact]
    public void Conv1dWithPaddingAndStride() => AssertSnapshot(NetworkSources.Conv1dNet, "Samples.Signals.Conv1dNet");

    [Fact]
    public void ActivationsAvgPoolAndTwoAttributeLayers() => AssertSnapshot(NetworkSources.ActivationsNet, "Samples.Activations.ActivationsNet");

    [Fact]
    public void ResidualNetwork() => AssertSnapshot(NetworkSources.ResidualNet, "Samples.Graphs.ResidualNet");

    [Fact]
    public void GlobalNamespace()
    {
        string source = AssertSnapshot(NetworkSources.GlobalNamespaceNet, "GlobalNamespaceNet");
        Assert.DoesNotContain("namespace", source);
    }

    [Fact]
    public void NoAttributeLayer()
    {
        string source = AssertSnapshot(NetworkSources.NoAttributeLayerNet, "Samples.Plain.NoAttributeLayerNet", expectedDiagnostic: "NIG0008");
        Assert.DoesNotContain("NeuronIntegratedGradients(", source);
        Assert.DoesNotContain("NeuronConductance(", source);
    }

    /// <summary>Generates <paramref name="source"/>'s one file, proves it compiles and compares it with its snapshot.</summary>
    private static string AssertSnapshot(string source, string name, string? expectedDiagnostic = null)
    {
        var run = GeneratorHarness.Run(source);
        string[] expectedIds = expectedDiagnostic is null ? [] : [expectedDiagnostic];
        Assert.Equal(expectedIds, run.GeneratorDiagnostics.Select(d => d.Id));
        GeneratorHarness.AssertNoCompilationErrors(run);

        var generated = Assert.Single(run.Sources);
        Assert.Equal(name + ".g.cs", generated.HintName);
        string actual = Normalise(generated.SourceText.ToString());

        // Warnings in generated code break consumers that build with TreatWarningsAsErrors, as this repository does.
        var warnings = run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
        Assert.Empty(warnings);

        string snapshotPath = Path.Combine(SnapshotFolder(), name + ".g.cs");
        string receivedPath = Path.Combine(SnapshotFolder(), name + ".received.cs");
        if (Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(SnapshotFolder());
            File.WriteAllText(snapshotPath, actual);
            File.Delete(receivedPath);
            return actual;
        }

        Assert.True(File.Exists(snapshotPath), $"No snapshot {snapshotPath}; run the tests with UPDATE_SNAPSHOTS=1 to create it.");
        string expected = Normalise(File.ReadAllText(snapshotPath));
        if (expected == actual)
        {
            File.Delete(receivedPath);
            return actual;
        }

        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"{name}.g.cs differs from its snapshot; the output is in {receivedPath}.\n{FirstDifference(expected, actual)}\n" +
            "If the change is intended, run the tests with UPDATE_SNAPSHOTS=1 and review the snapshot's diff.");
        return actual;
    }

    private static string Normalise(string text) => text.Replace("\r\n", "\n");

    // The snapshots sit next to this source file, wherever the tests run from.
    private static string SnapshotFolder([CallerFilePath] string thisFile = "")
    {
        string folder = Path.Combine(Path.GetDirectoryName(thisFile)!, "Snapshots");
        if (Directory.Exists(folder))
        {
            return folder;
        }

        // A build with a path map (ContinuousIntegrationBuild) rewrites the caller's path: look up from the binaries.
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "NigGen.Tests", "Generator", "Snapshots");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return folder;
    }

    /// <summary>The first differing line, with a few lines of context before it.</summary>
    internal static string FirstDifference(string expected, string actual)
    {
        string[] expectedLines = expected.Split('\n');
        string[] actualLines = actual.Split('\n');
        int line = 0;
        while (line < expectedLines.Length && line < actualLines.Length && expectedLines[line] == actualLines[line])
        {
            line++;
        }

        var diff = new StringBuilder();
        for (int i = Math.Max(0, line - 3); i < line; i++)
        {
            diff.Append("  ").Append(i + 1).Append(": ").AppendLine(expectedLines[i]);
        }

        diff.Append("- ").Append(line + 1).Append(": ").AppendLine(line < expectedLines.Length ? expectedLines[line] : "<end of snapshot>");
        diff.Append("+ ").Append(line + 1).Append(": ").AppendLine(line < actualLines.Length ? actualLines[line] : "<end of output>");
        return diff.ToString();
    }
}
