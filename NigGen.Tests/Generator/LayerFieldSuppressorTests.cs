using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using NigGen.Generator.Diagnostics;
using Xunit;

namespace NigGen.Tests.Generator;

/// <summary>
/// A declaration with one mistake gives one diagnostic: the NIG error. Without the suppressor the compiler adds CS0169
/// and CS8618 for every Layer field (nothing was generated to assign or read them); with it, exactly those warnings on
/// exactly those fields are gone, and the same warnings anywhere else stay. The suppressor runs as a build would run
/// it, through <see cref="CompilationWithAnalyzers"/> on the compilation with the generated sources.
/// </summary>
public sealed class LayerFieldSuppressorTests
{
    // Six layers, one mistake: a Dense layer right after a convolution's (8, 14) output, with no [Flatten].
    private const string OneMistake = """
        using NigGen;

        namespace Tests;

        [Network]
        [Input(4, 32)]
        public sealed partial class MotifNet
        {
            [Conv(8, Kernel = 5, Activation = Activation.Relu), AttributeLayer] Layer conv1;
            [MaxPool(2)]                                                        Layer pool1;
            [Conv(8, Kernel = 3, Activation = Activation.Relu)]                 Layer conv2;
            [MaxPool(2)]                                                        Layer pool2;
            [Dense(16, Activation = Activation.Relu), AttributeLayer]           Layer fc1;
            [Dense(2)]                                                          Layer fc2;
        }
        """;

    [Fact]
    public async Task OneMistakeGivesOneDiagnostic()
    {
        var diagnostics = await AllDiagnostics(OneMistake);

        var only = Assert.Single(diagnostics);
        Assert.Equal("NIG0011", only.Id);
        Assert.Contains("Dense layer 'fc1' receives a (8, 6) tensor", only.GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void WithoutTheSuppressorEveryLayerFieldWarnsTwice()
    {
        // What the suppressor removes: the test above fails without it.
        var run = GeneratorHarness.Run(OneMistake);
        var warnings = run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning).ToList();

        Assert.Equal(6, warnings.Count(d => d.Id == "CS0169"));
        Assert.Equal(6, warnings.Count(d => d.Id == "CS8618"));
        Assert.Equal(12, warnings.Count);
    }

    [Fact]
    public async Task ALayerFieldTheUserReadsIsNotReportedAsNeverAssigned()
    {
        // Read by the user's own code and never assigned (nothing generated): CS0649 instead of CS0169.
        string source = OneMistake.Replace("Layer fc2;", "Layer fc2;\n    public string Head => fc2.Name;");
        Assert.Contains(GeneratorHarness.Run(source).OutputDiagnostics, d => d.Id == "CS0649");

        var only = Assert.Single(await AllDiagnostics(source));
        Assert.Equal("NIG0011", only.Id);
    }

    [Fact]
    public async Task OtherFieldsOfTheNetworkKeepTheirWarnings()
    {
        string source = OneMistake.Replace("Layer fc2;", "Layer fc2;\n    private int _unused;\n    private string _name;");

        var diagnostics = await AllDiagnostics(source);

        Assert.Equal(["CS0169 _name", "CS0169 _unused", "CS8618 _name", "NIG0011 fc1"], diagnostics.Select(Named).Order());
    }

    [Fact]
    public async Task LayerFieldsOutsideANetworkKeepTheirWarnings()
    {
        const string source = """
            using NigGen;

            namespace Tests;

            public sealed class NotANetwork
            {
                Layer conv1;
            }
            """;

        var diagnostics = await AllDiagnostics(source);

        Assert.Equal(["CS0169", "CS8618"], diagnostics.Select(d => d.Id).Order());
    }

    [Fact]
    public async Task AValidNetworkHasNoDiagnostics()
    {
        string source = OneMistake.Replace("Layer pool2;", "Layer pool2;\n    [Flatten] Layer flat;");

        Assert.Empty(await AllDiagnostics(source));
    }

    [Fact]
    public void TheSuppressorSuppressesExactlyThreeWarnings()
    {
        var suppressions = new LayerFieldSuppressor().SupportedSuppressions;

        Assert.Equal(["CS0169", "CS0649", "CS8618"], suppressions.Select(s => s.SuppressedDiagnosticId).Order());
        Assert.Equal(["NIGS0169", "NIGS0649", "NIGS8618"], suppressions.Select(s => s.Id).Order());
    }

    // A diagnostic's id and the field it names.
    private static string Named(Diagnostic diagnostic)
    {
        string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        string field = new[] { "_name", "_unused", "fc1" }.Single(name => message.Contains(name + "'"));
        return diagnostic.Id + " " + field;
    }

    /// <summary>What a build reports: the generator's diagnostics and the compiler's, after the suppressor ran.</summary>
    private static async Task<ImmutableArray<Diagnostic>> AllDiagnostics(string source)
    {
        var run = GeneratorHarness.Run(source);
        var compiler = await run.Output
            .WithAnalyzers([new LayerFieldSuppressor()])
            .GetAllDiagnosticsAsync();
        return run.GeneratorDiagnostics.AddRange(compiler.Where(d => !d.IsSuppressed));
    }
}
