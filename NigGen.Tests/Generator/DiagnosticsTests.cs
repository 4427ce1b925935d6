using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using NigGen.Generator;
using NigGen.Generator.Model;
using Xunit;

namespace NigGen.Tests.Generator;

/// <summary>
/// Every invalid declaration gets its own diagnostic, at the attribute (or class or field) that is wrong, with a
/// message naming the layer and shapes; a declaration with an error generates nothing, and malformed code never
/// makes the generator throw.
/// </summary>
public sealed class DiagnosticsTests
{
    private const string Valid = "[Dense(2), AttributeLayer] Layer fc;";

    [Fact]
    public void NonPartialClass()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", Valid, declaration: "public class Net"));
        AssertOnly(run, "NIG0001", DiagnosticSeverity.Error, at: "Net", "'Net'", "partial");
    }

    [Fact]
    public void MissingInput()
    {
        var run = GeneratorHarness.Run(Network("", Valid));
        AssertOnly(run, "NIG0002", DiagnosticSeverity.Error, at: "Net", "'Net'", "[Input(...)]");
    }

    [Theory]
    [InlineData("[Input]", "Input", "declares ()")]
    [InlineData("[Input(1, 2, 3, 4)]", "Input(1, 2, 3, 4)", "declares (1, 2, 3, 4)")]
    [InlineData("[Input(0)]", "Input(0)", "declares (0)")]
    [InlineData("[Input(3, -1)]", "Input(3, -1)", "declares (3, -1)")]
    [InlineData("[Input(1, 28, 0)]", "Input(1, 28, 0)", "declares (1, 28, 0)")]
    public void InvalidInput(string input, string at, string declared)
    {
        var run = GeneratorHarness.Run(Network(input, Valid));
        AssertOnly(run, "NIG0003", DiagnosticSeverity.Error, at, "'Net'", declared);
    }

    [Theory]
    [InlineData("")]
    [InlineData("int count;")]
    public void NoLayers(string fields)
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", fields));
        AssertOnly(run, "NIG0004", DiagnosticSeverity.Error, at: "Net", "'Net'");
    }

    [Fact]
    public void LayerFieldWithoutLayerAttribute()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", Valid + " Layer bare;"));
        AssertOnly(run, "NIG0005", DiagnosticSeverity.Error, at: "bare", "'bare'", "'Net'");
    }

    [Theory]
    [InlineData("[Dense(3), Flatten] Layer both;", "Flatten", "[Dense] and [Flatten]")]
    [InlineData("[Dense(3)][MaxPool(2)] Layer both;", "MaxPool(2)", "[Dense] and [MaxPool]")]
    public void TwoLayerAttributesOnOneField(string field, string at, string named)
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", Valid + " " + field));

        // Reported at the second attribute: the first one is the layer, the second the mistake.
        AssertOnly(run, "NIG0006", DiagnosticSeverity.Error, at, "'both'", named);
    }

    [Theory]
    [InlineData("[AttributeLayer] Layer marked;")]
    [InlineData("[AttributeLayer] int marked;")]
    public void AttributeLayerWithoutLayerAttribute(string field)
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", Valid + " " + field));
        var diagnostic = AssertOnly(run, "NIG0007", DiagnosticSeverity.Error, at: "AttributeLayer", "'marked'");
        Assert.Contains("marked", LineOf(run, diagnostic));
    }

    [Fact]
    public void NoAttributeLayerWarnsAndStillGenerates()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", "[Dense(3, Activation = Activation.Relu)] Layer hidden; [Dense(2)] Layer fc;"));
        AssertOnly(run, "NIG0008", DiagnosticSeverity.Warning, at: "Net", "'Net'", "NeuronIntegratedGradients");
        Assert.Single(run.Sources);
        GeneratorHarness.AssertNoCompilationErrors(run);
    }

    [Theory]
    [InlineData("[Input(4)]", "[Dense(0), AttributeLayer] Layer fc;", "Dense(0)", "Layer 'fc': units is 0, but it must be at least 1")]
    [InlineData("[Input(1, 8, 8)]", "[Conv(-1, Kernel = 3), AttributeLayer] Layer conv;", "Conv(-1, Kernel = 3)", "Layer 'conv': output channels is -1")]
    [InlineData("[Input(1, 8, 8)]", "[Conv(4, Kernel = -2), AttributeLayer] Layer conv;", "Conv(4, Kernel = -2)", "Layer 'conv': Kernel is -2")]
    [InlineData("[Input(1, 8, 8)]", "[Conv(4, Kernel = 3, Stride = 0), AttributeLayer] Layer conv;", "Conv(4, Kernel = 3, Stride = 0)", "Layer 'conv': Stride is 0")]
    [InlineData("[Input(1, 8, 8)]", "[Conv(4, Kernel = 3, Padding = -1), AttributeLayer] Layer conv;", "Conv(4, Kernel = 3, Padding = -1)", "Layer 'conv': Padding is -1, but it must be 0 or more")]
    [InlineData("[Input(1, 8, 8)]", "[MaxPool(0), AttributeLayer] Layer pool;", "MaxPool(0)", "Layer 'pool': window size is 0")]
    [InlineData("[Input(1, 8)]", "[AvgPool(2, Stride = -1), AttributeLayer] Layer pool;", "AvgPool(2, Stride = -1)", "Layer 'pool': Stride is -1")]
    [InlineData("[Input(4)]", "[Dense(2, Activation = (Activation)42), AttributeLayer] Layer fc;", "Dense(2, Activation = (Activation)42)", "Layer 'fc': Activation is 42")]
    public void NonPositiveSize(string input, string fields, string at, string message)
    {
        var run = GeneratorHarness.Run(Network(input, fields));
        AssertOnly(run, "NIG0009", DiagnosticSeverity.Error, at, message);
    }

    [Fact]
    public void EveryBadArgumentOfOneConvIsReported()
    {
        var run = GeneratorHarness.Run(Network("[Input(1, 8, 8)]", "[Conv(-1, Kernel = -2, Stride = 0, Padding = -1), AttributeLayer] Layer conv;"));
        Assert.Equal(4, run.GeneratorDiagnostics.Count(d => d.Id == "NIG0009"));
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal("Conv(-1, Kernel = -2, Stride = 0, Padding = -1)", SourceAt(run, d)));
        Assert.Empty(run.Sources);
    }

    [Theory]
    [InlineData("[Input(1, 4, 4)]", "[Conv(4, Kernel = 5), AttributeLayer] Layer conv;", "Conv(4, Kernel = 5)", "Layer 'conv': the kernel window 5×5 does not fit its input (1, 4, 4)")]
    [InlineData("[Input(1, 8, 3)]", "[Conv(4, Kernel = 5), AttributeLayer] Layer conv;", "Conv(4, Kernel = 5)", "the kernel window 5×5 does not fit its input (1, 8, 3)")]
    [InlineData("[Input(1, 4, 4)]", "[Conv(4, Kernel = 7, Padding = 1), AttributeLayer] Layer conv;", "Conv(4, Kernel = 7, Padding = 1)", "(1, 4, 4) (padded by 1 to 6 along that axis)")]
    [InlineData("[Input(2, 2)]", "[MaxPool(3), AttributeLayer] Layer pool;", "MaxPool(3)", "Layer 'pool': the pooling window 3 does not fit its input (2, 2)")]
    public void WindowLargerThanInput(string input, string fields, string at, string message)
    {
        var run = GeneratorHarness.Run(Network(input, fields));
        AssertOnly(run, "NIG0010", DiagnosticSeverity.Error, at, message);
    }

    [Fact]
    public void PaddingThatMakesTheKernelFitIsValid()
    {
        var run = GeneratorHarness.Run(Network("[Input(1, 4, 4)]", "[Conv(4, Kernel = 5, Padding = 1), AttributeLayer] Layer conv;"));
        Assert.Empty(run.GeneratorDiagnostics);
        GeneratorHarness.AssertNoCompilationErrors(run);

        // (4 + 2·1 − 5) / 1 + 1 = 2 along each axis, as PyTorch computes it.
        Assert.Equal(new[] { 4, 2, 2 }, ModelOf(run).Layers.Single().OutputShape);
    }

    [Theory]
    [InlineData("[Conv(2, Kernel = 3), AttributeLayer] Layer conv; [Dense(10)] Layer fc;", "Dense layer 'fc' receives a (2, 6, 6) tensor")]
    [InlineData("[Dense(10), AttributeLayer] Layer fc;", "Dense layer 'fc' receives a (1, 8, 8) tensor")]
    public void DenseAfterMultiDimensionalOutput(string fields, string message)
    {
        var run = GeneratorHarness.Run(Network("[Input(1, 8, 8)]", fields));
        AssertOnly(run, "NIG0011", DiagnosticSeverity.Error, at: "Dense(10)", message, "[Flatten]");
    }

    [Theory]
    [InlineData("[Input(1, 8, 8)]", "[Flatten, AttributeLayer] Layer flat; [Conv(2, Kernel = 3)] Layer conv;", "Conv(2, Kernel = 3)", "Conv layer 'conv' receives a (64) tensor")]
    [InlineData("[Input(16)]", "[Conv(2, Kernel = 3), AttributeLayer] Layer conv;", "Conv(2, Kernel = 3)", "Conv layer 'conv' receives a (16) tensor")]
    [InlineData("[Input(16)]", "[MaxPool(2), AttributeLayer] Layer pool;", "MaxPool(2)", "MaxPool layer 'pool' receives a (16) tensor")]
    [InlineData("[Input(16)]", "[Dense(8), AttributeLayer] Layer fc; [AvgPool(2)] Layer pool;", "AvgPool(2)", "AvgPool layer 'pool' receives a (8) tensor")]
    public void SpatialLayerOnFlatInput(string input, string fields, string at, string message)
    {
        var run = GeneratorHarness.Run(Network(input, fields));
        AssertOnly(run, "NIG0012", DiagnosticSeverity.Error, at, message);
    }

    [Theory]
    [InlineData("[Dense(3)] int count;", "count", "is of type int")]
    [InlineData("[Dense(3)] object count;", "count", "is of type object")]
    [InlineData("[Dense(3)] static Layer count = null!;", "count", "is static")]
    public void LayerAttributeOnFieldThatIsNotAnInstanceLayer(string field, string at, string what)
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", Valid + " " + field));

        // At the field's name: the field, not the attribute, is what needs changing.
        AssertOnly(run, "NIG0013", DiagnosticSeverity.Error, at, "'count'", what);
    }

    [Fact]
    public void PreActivationOnPoolingWarnsAndScoresTheOutput()
    {
        var run = GeneratorHarness.Run(Network("[Input(1, 4, 4)]", "[MaxPool(2), AttributeLayer(PreActivation = true)] Layer pool; [Flatten] Layer flat; [Dense(2)] Layer fc;"));
        AssertOnly(run, "NIG0014", DiagnosticSeverity.Warning, at: "MaxPool(2)", "'pool'", "MaxPool");

        Assert.Single(run.Sources);
        GeneratorHarness.AssertNoCompilationErrors(run);
        Assert.Equal(AttributionPoint.Output, ModelOf(run).Layers[0].Spec.Attribution);
    }

    [Theory]
    [InlineData("using NigGen; namespace Tests; public partial class Outer { [Network, Input(4)] public partial class Net { [Dense(2), AttributeLayer] Layer fc; } }", "nested in another type")]
    [InlineData("using NigGen; namespace Tests; [Network, Input(4)] public partial class Net<T> { [Dense(2), AttributeLayer] Layer fc; }", "generic")]
    public void UnsupportedClassShape(string source, string why)
    {
        var run = GeneratorHarness.Run(source);
        AssertOnly(run, "NIG0015", DiagnosticSeverity.Error, at: "Net", "'Net'", why);
    }

    [Fact]
    public void TensorTooLarge()
    {
        var run = GeneratorHarness.Run(Network("[Input(1, 32, 32)]", "[Conv(100000, Kernel = 1), AttributeLayer] Layer conv;"));
        AssertOnly(run, "NIG0016", DiagnosticSeverity.Error, at: "Conv(100000, Kernel = 1)", "'conv'", "(100000, 32, 32)", "102400000");
    }

    [Theory]
    [InlineData("[Input(3, 100000, 100000)]", "[Flatten] Layer f; [Dense(2), AttributeLayer] Layer fc;", "Input(3, 100000, 100000)", "(3, 100000, 100000) input")]
    [InlineData("[Input(4)]", "[Dense(1000000000), AttributeLayer] Layer fc;", "Dense(1000000000)", "weight [1000000000, 4]")]
    public void InputsAndWeightsTooLargeForIntIndexing(string input, string fields, string at, string message)
    {
        var run = GeneratorHarness.Run(Network(input, fields));
        AssertOnly(run, "NIG0016", DiagnosticSeverity.Error, at, message);
    }

    [Fact]
    public void PreActivationOnDenseWithoutActivationWarns()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", "[Dense(3), AttributeLayer(PreActivation = true)] Layer fc;"));
        AssertOnly(run, "NIG0014", DiagnosticSeverity.Warning, at: "Dense(3)", "'fc'", "without Activation");
    }

    [Fact]
    public void RecordNetworkIsReported()
    {
        var run = GeneratorHarness.Run("using NigGen; namespace Tests; [Network, Input(4)] public partial record Net { [Dense(2), AttributeLayer] Layer fc; }");
        AssertOnly(run, "NIG0015", DiagnosticSeverity.Error, at: "Net", "'Net'", "a record");
    }

    [Theory]
    [InlineData("[Dense(2), AttributeLayer] Layer Forward;", "Forward", "generated code declares")]
    [InlineData("[Dense(2), AttributeLayer] Layer CreateTrainer;", "CreateTrainer", "generated code declares")]
    [InlineData("[Dense(2), AttributeLayer] Layer ToGpu;", "ToGpu", "generated code declares")] // the GPU entry points are reserved even without the GPU reference,
    [InlineData("[Dense(2), AttributeLayer] Layer GpuLayers;", "GpuLayers", "generated code declares")] // so adding it later cannot break a build
    [InlineData("[Dense(2), AttributeLayer] Layer DescribeLayers;", "DescribeLayers", "generated code declares")]
    [InlineData("[Dense(2), AttributeLayer] Layer fc; [Dense(2)] Layer Fc;", "Fc", "only in the case of its first letter")]
    public void LayerNamesThatClashWithGeneratedCode(string fields, string at, string message)
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", fields));
        AssertOnly(run, "NIG0018", DiagnosticSeverity.Error, at, message);
    }

    /// <summary>Names of the generated methods' parameters and locals, and keywords, are fine as layer names.</summary>
    [Fact]
    public void LayerNamesLikeGeneratedParametersOrKeywordsCompile()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]",
            "[Dense(3)] Layer input; [Dense(3)] Layer batch; [Dense(3)] Layer weights; [Dense(3)] Layer stream; [Dense(3), AttributeLayer] Layer @class; " +
            "[Dense(3)] Layer state; [Dense(3)] Layer network; [Dense(3)] Layer options; [Dense(3)] Layer scratch; [Dense(2)] Layer ws;"));
        Assert.Empty(run.GeneratorDiagnostics);
        GeneratorHarness.AssertNoCompilationErrors(run);
    }

    [Fact]
    public void UserConstructorIsReported()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", Valid + " public Net() { }"));
        AssertOnly(run, "NIG0019", DiagnosticSeverity.Error, at: "Net", "'Net'", "Net.Load");
    }

    [Fact]
    public void ConvWithoutKernel()
    {
        var run = GeneratorHarness.Run(Network("[Input(1, 8, 8)]", "[Conv(8), AttributeLayer] Layer conv;"));
        AssertOnly(run, "NIG0017", DiagnosticSeverity.Error, at: "Conv(8)", "Conv layer 'conv' must set Kernel", "[Conv(8, Kernel = 3)]");
    }

    [Theory]
    [InlineData(NetworkSources.DigitNet)]
    [InlineData(NetworkSources.Mlp)]
    [InlineData(NetworkSources.Conv1dNet)]
    [InlineData(NetworkSources.ActivationsNet)]
    [InlineData(NetworkSources.GlobalNamespaceNet)]
    public void ValidDeclarationsReportNothing(string source)
    {
        var run = GeneratorHarness.Run(source);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
    }

    [Fact]
    public void IndependentErrorsInOneClassAreAllReported()
    {
        var run = GeneratorHarness.Run(Network(
            "[Input(1, 8, 8)]",
            """
            Layer bare;
            [Dense(3), Flatten] Layer both;
            [AttributeLayer] int marked;
            [Dense(3)] static Layer shared = null!;
            [Conv(4), AttributeLayer] Layer conv;
            """,
            declaration: "public class Net"));

        Assert.Equal(
            new[] { "NIG0001", "NIG0005", "NIG0006", "NIG0007", "NIG0013", "NIG0017" },
            run.GeneratorDiagnostics.Select(d => d.Id).Order());
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void BrokenNetworkDoesNotStopAnotherFromGenerating()
    {
        var run = GeneratorHarness.Run(NetworkSources.Mlp, Network("[Input(4)]", "[Dense(0), AttributeLayer] Layer fc;"));

        Assert.Equal("NIG0009", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Equal("Samples.Dense.Mlp.g.cs", Assert.Single(run.Sources).HintName);
    }

    /// <summary>Code the compiler rejects still reaches the generator while the user types; it must not throw (the harness asserts that).</summary>
    [Theory]
    [InlineData("[Input(4)]", "[Dense(\"ten\")] Layer a; " + Valid)]
    [InlineData("[Input(\"a\")]", Valid)]
    [InlineData("[Input(4, null)]", Valid)]
    [InlineData("[Input(4L)]", Valid)]
    [InlineData("[Input(1, 8, 8)]", "[Conv(4, Kernel = \"3\"), AttributeLayer] Layer conv;")]
    [InlineData("[Input(4)]", "[Dense] Layer a; " + Valid)]
    [InlineData("[Input(4)]", "[Dense(1, 2)] Layer a; " + Valid)]
    [InlineData("[Input(4)]", "[Dense(2, Activation = 7)] Layer a; " + Valid)]
    [InlineData("[Input(4)]", "[Dense(2)] Missing a; " + Valid)]
    [InlineData("[Input(4)]", "[Dense(2)] Layer; " + Valid)]
    [InlineData("[Input(4)]", "[Dense(")]
    public void MalformedDeclarationsDoNotThrow(string input, string fields)
    {
        var run = GeneratorHarness.Run(Network(input, fields));
        Assert.Contains(run.OutputDiagnostics, d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("NIG", System.StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("using NigGen; namespace Tests; [Network, Input(4)] partial class { [Dense(2), AttributeLayer] Layer fc; }")]
    [InlineData("using NigGen; namespace Tests; [Network, Input(4)] partial record Net { [Dense(2), AttributeLayer] Layer fc; }")]
    [InlineData("using NigGen; namespace Tests; [Network, Input(4)] partial struct Net { [Dense(2), AttributeLayer] Layer fc; }")]
    [InlineData("using NigGen; namespace Tests; [Network, Input(4)] partial interface INet { }")]
    [InlineData("using NigGen; [Network, Input(4)] partial class Net { [Dense(2), AttributeLayer] Layer fc; ")]
    [InlineData("[NigGen.Network] partial class Net { [NigGen.Dense(2)] NigGen.Layer fc; void M() { int x = ; } }")]
    public void MalformedClassesDoNotThrow(string source) => GeneratorHarness.Run(source);

    private static string Network(string input, string fields, string declaration = "public partial class Net") =>
        "using NigGen;\n\nnamespace Tests;\n\n[Network]\n" + input + "\n" + declaration + "\n{\n" + fields + "\n}\n";

    /// <summary>Asserts that <paramref name="id"/> is the one diagnostic, where and how it is expected, and that nothing was generated for an error.</summary>
    private static Diagnostic AssertOnly(GeneratorRun run, string id, DiagnosticSeverity severity, string at, params string[] messageParts)
    {
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(at, SourceAt(run, diagnostic));

        string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        Assert.All(messageParts, part => Assert.Contains(part, message));

        if (severity == DiagnosticSeverity.Error)
        {
            Assert.Empty(run.Sources);
        }

        return diagnostic;
    }

    /// <summary>
    /// The source text a diagnostic points at. Its location carries a path and spans (it went through the cache as a
    /// LocationInfo), so the text is read from the tree with that path, and the two spans must agree.
    /// </summary>
    private static string SourceAt(GeneratorRun run, Diagnostic diagnostic)
    {
        var lineSpan = diagnostic.Location.GetLineSpan();
        var tree = Assert.Single(run.Output.SyntaxTrees, t => t.FilePath == lineSpan.Path);
        Assert.Equal(tree.GetLineSpan(diagnostic.Location.SourceSpan).Span, lineSpan.Span);
        return tree.GetText().ToString(diagnostic.Location.SourceSpan);
    }

    private static string LineOf(GeneratorRun run, Diagnostic diagnostic)
    {
        var lineSpan = diagnostic.Location.GetLineSpan();
        var tree = Assert.Single(run.Output.SyntaxTrees, t => t.FilePath == lineSpan.Path);
        return tree.GetText().Lines[lineSpan.StartLinePosition.Line].ToString();
    }

    private static NetworkModel ModelOf(GeneratorRun run)
    {
        var value = Assert.Single(Assert.Single(run.Result.TrackedSteps[NetworkGenerator.Steps.Model]).Outputs).Value;
        return Assert.IsType<NetworkModel>(value);
    }
}
