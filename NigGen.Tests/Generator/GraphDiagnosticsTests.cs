using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace NigGen.Tests.Generator;

/// <summary>
/// The compile-time errors of layer graphs and the new layers: each reported once, at the offending attribute, naming
/// the layers and shapes involved; an error generates nothing.
/// </summary>
public sealed class GraphDiagnosticsTests
{
    [Theory]
    [InlineData("[Dense(3, From = \"nowhere\"), AttributeLayer] Layer fc;", "Dense(3, From = \"nowhere\")", "NIG0020", "'fc' reads 'nowhere'", "not a layer of network 'Net'")]
    [InlineData("[Dense(3)] Layer a; [Dense(3, From = nameof(c)), AttributeLayer] Layer b; [Dense(3)] Layer c;", "Dense(3, From = nameof(c))", "NIG0021", "'b' reads 'c'", "declared after it")]
    [InlineData("[Dense(3, From = nameof(a)), AttributeLayer] Layer a;", "Dense(3, From = nameof(a))", "NIG0021", "'a' reads 'a'", "as itself")]
    [InlineData("[Dense(3), AttributeLayer] Layer a; [Add(nameof(a), nameof(b))] Layer b;", "Add(nameof(a), nameof(b))", "NIG0021", "'b' reads 'b'", "no cycles")]
    public void GraphReferences(string fields, string at, string id, params string[] message)
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", fields));
        AssertOnly(run, id, DiagnosticSeverity.Error, at, message);
    }

    [Fact]
    public void AddOfUnequalShapes()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", "[Dense(3), AttributeLayer] Layer a; [Dense(5)] Layer b; [Add(nameof(a), nameof(b))] Layer sum;"));
        AssertOnly(run, "NIG0022", DiagnosticSeverity.Error, "Add(nameof(a), nameof(b))", "Add layer 'sum'", "'a' is (3)", "'b' is (5)");
    }

    [Fact]
    public void AddOfTheInputAndALayer()
    {
        var run = GeneratorHarness.Run(Network("[Input(2, 8)]", "[Conv(4, Kernel = 3, Padding = 1), AttributeLayer] Layer conv; [Add(nameof(conv), Layer.Input)] Layer sum;"));
        AssertOnly(run, "NIG0022", DiagnosticSeverity.Error, "Add(nameof(conv), Layer.Input)", "'conv' is (4, 8)", "the input is (2, 8)");
    }

    [Theory]
    [InlineData("[Input(2, 8, 8)]", "[Conv(4, Kernel = 3), AttributeLayer] Layer a; [Conv(4, Kernel = 1, From = Layer.Input)] Layer b; [Concat(nameof(a), nameof(b))] Layer cat;", "'a' is (4, 6, 6)", "'b' is (4, 8, 8)")]
    [InlineData("[Input(2, 8)]", "[Conv(4, Kernel = 3, Padding = 1), AttributeLayer] Layer a; [Flatten] Layer flat; [Concat(nameof(a), nameof(flat))] Layer cat;", "'a' is (4, 8)", "'flat' is (32)")]
    public void ConcatOfUnequalSizes(string input, string fields, params string[] message)
    {
        var run = GeneratorHarness.Run(Network(input, fields));
        AssertOnly(run, "NIG0023", DiagnosticSeverity.Error, "Concat(nameof(a), nameof(" + (fields.Contains("flat)") ? "flat" : "b") + "))", ["Concat layer 'cat'", .. message]);
    }

    [Theory]
    [InlineData("[Add(Layer.Input)] Layer sum;", "Add(Layer.Input)", "Add layer 'sum' names 1 input(s)")]
    [InlineData("[Concat] Layer cat;", "Concat", "Concat layer 'cat' names 0 input(s)")]
    public void TooFewInputs(string field, string at, string message)
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", "[Dense(4), AttributeLayer] Layer a; " + field));
        AssertOnly(run, "NIG0027", DiagnosticSeverity.Error, at, message);
    }

    [Fact]
    public void FromOnAdd()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", "[Dense(4), AttributeLayer] Layer a; [Add(nameof(a), Layer.Input, From = nameof(a))] Layer sum;"));
        AssertOnly(run, "NIG0028", DiagnosticSeverity.Error, "Add(nameof(a), Layer.Input, From = nameof(a))", "Add layer 'sum' sets From");
    }

    [Theory]
    [InlineData("[Input(6, 8, 8)]", "[Conv(8, Kernel = 3, Groups = 4), AttributeLayer] Layer conv;", "Conv(8, Kernel = 3, Groups = 4)", "Groups = 4", "6 input channels", "8 output channels")]
    [InlineData("[Input(8, 8, 8)]", "[Conv(6, Kernel = 3, Groups = 4), AttributeLayer] Layer conv;", "Conv(6, Kernel = 3, Groups = 4)", "Groups = 4", "8 input channels", "6 output channels")]
    public void GroupsThatDoNotDivide(string input, string fields, string at, params string[] message)
    {
        var run = GeneratorHarness.Run(Network(input, fields));
        AssertOnly(run, "NIG0024", DiagnosticSeverity.Error, at, ["'conv'", .. message]);
    }

    [Fact]
    public void DilatedKernelLargerThanItsInput()
    {
        var run = GeneratorHarness.Run(Network("[Input(2, 10)]", "[Conv(4, Kernel = 3, Dilation = 5), AttributeLayer] Layer conv;"));
        AssertOnly(run, "NIG0010", DiagnosticSeverity.Error, "Conv(4, Kernel = 3, Dilation = 5)", "'conv'", "window 11 (kernel 3 dilated by 5)", "(2, 10)");
    }

    [Theory]
    [InlineData("[MaxPool(3, Padding = 2)] Layer pool;", "MaxPool(3, Padding = 2)", "Padding = 2", "window of 3")]
    [InlineData("[AvgPool(2, Padding = 2)] Layer pool;", "AvgPool(2, Padding = 2)", "Padding = 2", "window of 2")]
    public void PoolPaddingOverHalfTheWindow(string field, string at, params string[] message)
    {
        var run = GeneratorHarness.Run(Network("[Input(2, 8, 8)]", "[Conv(4, Kernel = 1), AttributeLayer] Layer conv; " + field));
        AssertOnly(run, "NIG0025", DiagnosticSeverity.Error, at, ["'pool'", .. message]);
    }

    [Theory]
    [InlineData("[BatchNorm(Epsilon = 0)] Layer bn;", "BatchNorm(Epsilon = 0)", "Epsilon is 0", "positive")]
    [InlineData("[BatchNorm(Momentum = 1.5)] Layer bn;", "BatchNorm(Momentum = 1.5)", "Momentum is 1.5", "in [0, 1]")]
    [InlineData("[Dropout(1.0)] Layer bn;", "Dropout(1.0)", "dropout probability is 1", "in [0, 1)")]
    public void InvalidNormalisationOptions(string field, string at, params string[] message)
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", "[Dense(4), AttributeLayer] Layer fc; " + field));
        AssertOnly(run, "NIG0009", DiagnosticSeverity.Error, at, ["'bn'", .. message]);
    }

    [Fact]
    public void GlobalPoolingOfFeatures()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", "[Dense(4), AttributeLayer] Layer fc; [GlobalAvgPool] Layer gap;"));
        AssertOnly(run, "NIG0012", DiagnosticSeverity.Error, "GlobalAvgPool", "GlobalAvgPool layer 'gap'", "(4)");
    }

    [Fact]
    public void UnusedLayerIsAWarningAndTheNetworkIsGenerated()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", "[Dense(4), AttributeLayer] Layer a; [Dense(3)] Layer orphan; [Dense(2, From = nameof(a))] Layer head;"));
        AssertOnly(run, "NIG0026", DiagnosticSeverity.Warning, "Dense(3)", "'orphan' is read by no layer", "'head'");
        Assert.Single(run.Sources);
        GeneratorHarness.AssertNoCompilationErrors(run);
    }

    [Fact]
    public void TwoLayersWithTheSameWeightsPrefix()
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", "[Dense(4, Weights = \"block.fc\"), AttributeLayer] Layer a; [Dense(4, Weights = \"block.fc\")] Layer b;"));
        AssertOnly(run, "NIG0029", DiagnosticSeverity.Error, "Dense(4, Weights = \"block.fc\")", "'a' and 'b'", "'block.fc.*'");
    }

    [Fact]
    public void ResidualNetworkCompilesWithoutDiagnostics()
    {
        var run = GeneratorHarness.Run(Network("[Input(4, 8, 8)]",
            "[Conv(4, Kernel = 3, Padding = 1, Bias = false, Weights = \"layer1.0.conv1\")] Layer conv1; [BatchNorm(Activation = Activation.Relu, Weights = \"layer1.0.bn1\")] Layer bn1; " +
            "[Conv(4, Kernel = 3, Padding = 1, Dilation = 1, Groups = 4)] Layer conv2; [BatchNorm] Layer bn2; " +
            "[Add(nameof(bn2), Layer.Input, Activation = Activation.Relu), AttributeLayer] Layer block; [MaxPool(3, Stride = 2, Padding = 1)] Layer pool; " +
            "[Conv(2, Kernel = 1, From = nameof(block))] Layer side; [Concat(nameof(pool), nameof(pool))] Layer cat; [GlobalAvgPool] Layer gap; [Dropout(0.5)] Layer drop; [Dense(3, Activation = Activation.Gelu)] Layer fc; [Dense(2, Activation = Activation.Silu)] Layer head;"));
        Assert.Equal(["NIG0026"], run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Single(run.Sources);
        GeneratorHarness.AssertNoCompilationErrors(run);
    }

    [Fact]
    public void UserTypesNamedLikeNigGensDoNotCaptureTheGeneratedCode()
    {
        const string source = """
            namespace Tests
            {
                public enum Activation { Sideways }
                public sealed class Layer { }
                public sealed class Trainer { }
                public sealed class Workspace { }
                public sealed class Description { }
                public sealed class NetworkDescription { }
                public sealed class ConvGeometry { }

                [NigGen.Network]
                [NigGen.Input(2, 8, 8)]
                public sealed partial class Net
                {
                    [NigGen.Conv(4, Kernel = 3, Padding = 1, Activation = NigGen.Activation.Relu)] NigGen.Layer conv;
                    [NigGen.BatchNorm] NigGen.Layer bn;
                    [NigGen.Add(nameof(bn), nameof(conv)), NigGen.AttributeLayer] NigGen.Layer sum;
                    [NigGen.GlobalAvgPool] NigGen.Layer pool;
                    [NigGen.Dense(2)] NigGen.Layer fc;
                }
            }
            """;
        var run = GeneratorHarness.Run(source);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
        GeneratorHarness.AssertNoCompilationErrors(run);
    }

    [Theory]
    [InlineData("[Dense(4, From = Layer.Input)] Layer networkInput; [Add(nameof(networkInput), nameof(networkInput), Layer.Input), AttributeLayer] Layer s; [Dense(2)] Layer head;")]
    [InlineData("[Dense(4, From = Layer.Input)] Layer inputGradients; [Add(nameof(inputGradients), Layer.Input), AttributeLayer] Layer s; [Dense(2)] Layer head;")]
    [InlineData("[Dropout(0.5)] Layer drop; [Dense(4, From = Layer.Input), AttributeLayer] Layer fc; [Add(nameof(drop), nameof(fc))] Layer sum; [Dense(2)] Layer head;")]
    [InlineData("[MaxPool(3, Stride = 1, Padding = 1)] Layer pool; [Dense(4, From = Layer.Input), AttributeLayer] Layer fc; [Add(nameof(pool), nameof(fc))] Layer sum; [Dense(2)] Layer head;")]
    public void GraphsWhoseGeneratedCodeOnceDidNotCompileCleanly(string fields)
    {
        // Found by review: a gradient flag named like a layer's (CS0128), and flags the training pass declared but never read (CS0219).
        var run = GeneratorHarness.Run(Network(fields.Contains("MaxPool") ? "[Input(1, 4)]" : "[Input(4)]", fields.Replace("[Dense(4, From", fields.Contains("MaxPool") ? "[Conv(1, Kernel = 1, From" : "[Dense(4, From").Replace("[Dense(2)] Layer head", fields.Contains("MaxPool") ? "[Flatten] Layer flat; [Dense(2)] Layer head" : "[Dense(2)] Layer head")));
        Assert.Empty(run.GeneratorDiagnostics);
        GeneratorHarness.AssertNoCompilationErrors(run);
        var warnings = run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", System.StringComparison.Ordinal) == true);
        Assert.Empty(warnings);
    }

    [Theory]
    [InlineData("[Dense(2), AttributeLayer] Layer layerLength;", "layerLength")]
    [InlineData("[Dense(2), AttributeLayer] Layer geometry;", "geometry")]
    public void FieldsNamedLikeGeneratedClassesAreRefused(string fields, string name)
    {
        var run = GeneratorHarness.Run(Network("[Input(4)]", fields));
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("NIG0018", diagnostic.Id);
        Assert.Contains($"'{name}' uses a name the generated code declares", diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    private static string Network(string input, string fields) =>
        "using NigGen;\n\nnamespace Tests;\n\n[Network]\n" + input + "\npublic partial class Net\n{\n" + fields + "\n}\n";

    private static void AssertOnly(GeneratorRun run, string id, DiagnosticSeverity severity, string at, params string[] messageParts)
    {
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        var span = diagnostic.Location.SourceSpan;
        Assert.Equal(at, diagnostic.Location.SourceTree!.ToString().Substring(span.Start, span.Length));
        string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        Assert.All(messageParts, part => Assert.Contains(part, message));
        if (severity == DiagnosticSeverity.Error)
        {
            Assert.Empty(run.Sources);
        }
    }
}
