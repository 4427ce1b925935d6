using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NigGen.Attribution;
using NigGen.Generator;
using NigGen.Tests.Generator;
using NigGen.Tests.Numerics;
using Xunit;
using Xunit.Abstractions;

namespace NigGen.Tests.Reliability;

/// <summary>
/// Thousands of random network declarations, valid and invalid (random layer sequences, sizes and attributes, one
/// misuse of the declaration rules, or broken C#), run through the generator. The test's own model of the rules
/// (PyTorch's shape arithmetic and the README's declaration rules, written here independently of ShapeInference)
/// says which are valid. Asserted: the generator never throws; every invalid declaration gets a NIG error (the one
/// its mistake calls for), or a compiler error when the C# itself is broken; every valid one generates code with
/// exactly the expected warnings; and a sample of valid ones compiles, runs, and matches <see cref="ReferenceNetwork"/>
/// (binding the generated code is what costs time, so the normal run compiles a few dozen).
/// NIGGEN_LONG_TESTS=1 runs 20,000 declarations and compiles 400 of them.
/// </summary>
public sealed class DeclarationFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 7_101;
    private const int DeclarationsPerCompilation = 100;

    [Fact]
    public void Random_declarations_get_a_diagnostic_or_compile_and_match_the_reference()
    {
        int count = LongTests.Choose(3_000, 20_000);
        int compiled = LongTests.Choose(40, 400);
        var random = new Random(Seed);
        var declarations = Enumerable.Range(0, count).Select(i => Declaration.Random(i, random)).ToList();

        // Compilations are independent: batches run on every core.
        System.Threading.Tasks.Parallel.ForEach(declarations.Chunk(DeclarationsPerCompilation), batch => CheckGenerator(batch));

        var sample = declarations.Where(d => d.IsValid && !d.Corrupted).Take(compiled).ToList();
        System.Threading.Tasks.Parallel.ForEach(sample.Chunk(20), batch => CompileAndCompare(batch));

        int valid = declarations.Count(d => d.IsValid && !d.Corrupted), corrupted = declarations.Count(d => d.Corrupted);
        output.WriteLine($"{count} declarations ({valid} valid, {count - valid - corrupted} invalid, {corrupted} with broken C#) through the generator; {sample.Count} compiled and run against the reference");
        output.WriteLine("expected errors: " + string.Join(", ", declarations.Where(d => d.ExpectedError is not null).GroupBy(d => d.ExpectedError).OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}")));
        Assert.True(valid > count / 5, $"only {valid} of {count} declarations are valid");
        Assert.Equal(Math.Min(compiled, valid), sample.Count);
    }

    private static void CheckGenerator(IReadOnlyList<Declaration> batch)
    {
        var compilation = GeneratorHarness.CreateCompilation(batch.Select(d => d.Source).ToArray());
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], parseOptions: GeneratorHarness.ParseOptions);
        var run = GeneratorHarness.Run(driver, compilation);
        var generated = run.Sources.ToDictionary(s => s.HintName);
        var diagnostics = run.GeneratorDiagnostics.ToLookup(d => d.Location.SourceTree?.FilePath ?? "");

        for (int i = 0; i < batch.Count; i++)
        {
            var declaration = batch[i];
            var tree = compilation.SyntaxTrees.ElementAt(i);
            var mine = diagnostics[tree.FilePath].ToList();
            var errors = mine.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).ToList();
            generated.TryGetValue(declaration.HintName, out var source);
            string context = $"declaration {declaration.Index} (seed {Seed}):\n{declaration.Source}\nNIG diagnostics: {string.Join("; ", mine)}";
            Assert.All(mine, d => Assert.StartsWith("NIG", d.Id));

            if (declaration.Corrupted)
            {
                // Broken C#: a NIG error, a compiler error in the declaration, or generated code.
                if (errors.Count > 0 || tree.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error))
                {
                    continue;
                }

                var semantic = run.Output.GetSemanticModel(run.Output.SyntaxTrees.Single(t => t.FilePath == tree.FilePath)).GetDiagnostics();
                if (semantic.Any(d => d.Severity == DiagnosticSeverity.Error))
                {
                    continue;
                }

                // The edit left a valid declaration (a digit removed from a size, say): like any valid one, it has code.
                Assert.True(source.SyntaxTree is not null, "broken C# without any error and without generated code: " + context);
                continue;
            }

            if (declaration.ExpectedError is { } expected)
            {
                Assert.True(errors.Contains(expected), $"expected {expected}: {context}");
                Assert.True(source.SyntaxTree is null, "code generated for an invalid declaration: " + context);
                continue;
            }

            Assert.True(errors.Count == 0, "errors on a valid declaration: " + context);
            Assert.True(source.SyntaxTree is not null, "no code generated for a valid declaration: " + context);
            Assert.Equal(declaration.ExpectedWarnings.Order(), mine.Select(d => d.Id).Distinct().Order());
        }
    }

    [Fact]
    public void Network_on_two_parts_of_a_partial_class_is_a_compiler_error_not_a_generator_crash()
    {
        // Found while checking the rules: each part reached the emitter, and the second file of the same name threw.
        var run = GeneratorHarness.Run(
            "using NigGen;\nnamespace Twice;\n[Network]\n[Input(3)]\npublic partial class Net { [Dense(2), AttributeLayer] Layer fc; }\n",
            "using NigGen;\nnamespace Twice;\n[Network]\npublic partial class Net { }\n");
        Assert.Empty(run.Sources);
        Assert.Contains(run.OutputDiagnostics, d => d.Id == "CS0579");
    }

    [Theory]
    [InlineData("[Dense(3)] Layer l,1;")]
    [InlineData("[Dense(3), AttributeLayer] Layer a, ;")]
    [InlineData("[Dense(3)] Layer ;")]
    public void A_layer_field_without_a_name_is_a_compiler_error_not_a_generator_crash(string field)
    {
        // Found by the long run of random declarations: "Layer l,1;" declares a second field with an empty name, whose
        // first letter the parser read.
        var run = GeneratorHarness.Run($"using NigGen;\nnamespace Nameless;\n[Network]\n[Input(3)]\npublic partial class Net\n{{\n    [Dense(2), AttributeLayer] Layer fc;\n    {field}\n}}\n");
        Assert.Contains(run.OutputDiagnostics, d => d.Severity == DiagnosticSeverity.Error && d.Id.StartsWith("CS", StringComparison.Ordinal));
    }

    [Fact]
    public void A_network_of_only_Flatten_layers_is_the_identity()
    {
        // Found by the random declarations: Forward returned zeros, as no layer copied the input to the workspace.
        const string Source = "using NigGen;\nnamespace Fuzz.Identity;\n[Network]\n[Input(2, 3, 2)]\npublic sealed partial class Net\n{\n    [Flatten, AttributeLayer] Layer flat;\n    [Flatten] Layer again;\n}\n";
        WithCompiled([Source], assembly =>
        {
            var network = (IAttributedNetwork)assembly.GetType("Fuzz.Identity.Net", throwOnError: true)!.GetMethod("CreateRandom")!.Invoke(null, [1])!;
            var input = Enumerable.Range(0, 2 * 12).Select(i => i - 3.5f).ToArray();
            var output = new float[input.Length];
            network.Forward(input, output);
            Assert.Equal(input, output);
            network.Forward(input, output = new float[input.Length], maxDegreeOfParallelism: 2);
            Assert.Equal(input, output);

            var importance = new float[12];
            float delta = network.NeuronIntegratedGradients(input.AsSpan(0, 12), new float[12], 4, importance);
            Assert.Equal(0f, delta);
            Assert.Equal(Enumerable.Range(0, 12).Select(i => i == 4 ? input[4] : 0f), importance);
        });
    }

    private static void CompileAndCompare(IReadOnlyList<Declaration> batch) =>
        WithCompiled(batch.Select(d => d.Source).ToArray(), assembly =>
        {
            foreach (var declaration in batch)
            {
                var type = assembly.GetType(declaration.TypeName, throwOnError: true)!;
                var reference = new ReferenceNetwork(declaration.InputShape, seed: declaration.Index, [.. declaration.ReferenceLayers]);
                var load = type.GetMethod("Load", [typeof(Stream)])!;
                var network = (INetwork)load.Invoke(null, [reference.ToSafetensors()])!;
                CompareForward(declaration, reference, network);
                if (network is IAttributedNetwork attributed && attributed.Description.ImportanceLength > 0)
                {
                    CompareShortcut(declaration, reference, attributed);
                }
            }
        });

    // The optimised path (first-layer interpolation shortcut, backward stopped at the earliest scored layer) against the
    // plain one: a shortcut taken where it does not hold (a scored layer below the first Dense) showed here. And the
    // fused first layers (interpolation, activation and pooling in one kernel) against the same shortcut unfused, bit for bit.
    private static void CompareShortcut(Declaration declaration, ReferenceNetwork reference, IAttributedNetwork network)
    {
        var random = new Random(declaration.Index + 1);
        var input = Enumerable.Range(0, reference.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var baseline = new float[reference.InputLength];
        var fast = new float[network.Description.ImportanceLength];
        var slow = new float[fast.Length];
        var unfused = new float[fast.Length];
        var options = new AttributionOptions { Steps = 6 };
        network.NeuronIntegratedGradients(input, baseline, 0, fast, options);
        network.NeuronIntegratedGradients(input, baseline, 0, slow, options with { Unoptimised = true });
        network.NeuronIntegratedGradients(input, baseline, 0, unfused, options with { Unfused = true });
        double scale = slow.Max(v => Math.Abs((double)v)) + 1e-6;
        for (int i = 0; i < fast.Length; i++)
        {
            Assert.True(Math.Abs(fast[i] - slow[i]) <= 1e-3 * scale,
                $"declaration {declaration.Index}, importance {i}: optimised {fast[i]} vs unoptimised {slow[i]}\n{declaration.Source}");
            Assert.True(BitConverter.SingleToInt32Bits(fast[i]) == BitConverter.SingleToInt32Bits(unfused[i]),
                $"declaration {declaration.Index}, importance {i}: fused {fast[i]:R} vs unfused {unfused[i]:R}\n{declaration.Source}");
        }
    }

    // Generates, compiles and loads the sources into a collectible context, which is unloaded afterwards.
    private static void WithCompiled(string[] sources, Action<System.Reflection.Assembly> use)
    {
        var run = GeneratorHarness.Run(sources);

        // Emit binds every method and reports every error: a separate GetDiagnostics pass would double the cost.
        var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        Assert.True(emitted.Success, "the generated code does not compile:\n" + string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));

        var context = new AssemblyLoadContext("DeclarationFuzz", isCollectible: true);
        try
        {
            image.Position = 0;
            use(context.LoadFromStream(image));
        }
        finally
        {
            context.Unload();
        }
    }

    private static void CompareForward(Declaration declaration, ReferenceNetwork reference, INetwork network)
    {
        const int Samples = 3;
        var random = new Random(declaration.Index);
        var input = Enumerable.Range(0, Samples * reference.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var actual = new float[Samples * reference.OutputLength];
        network.Forward(input, actual);
        for (int s = 0; s < Samples; s++)
        {
            var expected = reference.Forward(input.AsSpan(s * reference.InputLength, reference.InputLength).ToArray().Select(v => (double)v).ToArray());
            for (int o = 0; o < expected.Length; o++)
            {
                double got = actual[s * reference.OutputLength + o];
                Assert.True(Math.Abs(got - expected[o]) <= 1e-4 + 1e-4 * Math.Abs(expected[o]),
                    $"declaration {declaration.Index}, sample {s}, output {o}: {got} vs reference {expected[o]}\n{declaration.Source}");
            }
        }
    }

    /// <summary>One random declaration, its source, and what the rules say about it.</summary>
    private sealed class Declaration
    {
        // Members the generated class declares (README: the generated API); a layer may not take these names.
        private static readonly string[] GeneratedNames = ["Forward", "Load", "Save", "CreateRandom", "Description", "InputLength", "NeuronIntegratedGradients", "DeepLift", "Ablate"];

        private Declaration(int index) => Index = index;

        public int Index { get; }

        public string Source { get; private set; } = "";

        public bool Corrupted { get; private set; }

        /// <summary>The NIG error the declaration must get; null when it is valid.</summary>
        public string? ExpectedError { get; private set; }

        public bool IsValid => ExpectedError is null;

        public List<string> ExpectedWarnings { get; } = [];

        public int[] InputShape { get; private set; } = [];

        public List<RefLayer> ReferenceLayers { get; } = [];

        public string Namespace => $"Fuzz.N{Index}";

        public string ClassName => $"Net{Index}";

        public string TypeName => Namespace + "." + ClassName;

        public string HintName => TypeName + ".g.cs";

        public static Declaration Random(int index, Random random)
        {
            var d = new Declaration(index);
            d.Generate(random);
            return d;
        }

        private void Generate(Random random)
        {
            InputShape = random.Next(3) switch
            {
                0 => [random.Next(1, 24)],
                1 => [random.Next(1, 4), random.Next(1, 20)],
                _ => [random.Next(1, 3), random.Next(1, 10), random.Next(1, 10)],
            };

            var fields = new List<string>();
            int[]? shape = InputShape;
            bool anyScored = false;
            int layers = random.Next(1, 7);
            for (int j = 0; j < layers; j++)
            {
                var (field, scored) = RandomLayer($"l{j}", random, ref shape);
                fields.Add(field);
                anyScored |= scored;
            }

            if (ExpectedError is null && !anyScored)
            {
                ExpectedWarnings.Add("NIG0008");
            }

            string declaration = $"public sealed partial class {ClassName}";
            string input = $"[Input({string.Join(", ", InputShape)})]";
            string outer = "";
            if (random.Next(4) == 0)
            {
                string misuse = Misuse(random, fields, ref declaration, ref input, ref outer);
                ExpectedError = misuse;
                ExpectedWarnings.Clear();
            }

            string body = string.Join("\n    ", fields);
            string network = $"[Network]\n{input}\n{declaration}\n{{\n    {body}\n}}";
            if (outer.Length > 0)
            {
                network = $"public static partial class {outer}\n{{\n{network}\n}}";
            }

            Source = $"using NigGen;\n\nnamespace {Namespace};\n\n{network}\n";
            if (random.Next(20) == 0)
            {
                Corrupt(random);
            }
        }

        // A layer with random kind and arguments, mostly valid; the first error along the way is what must be reported.
        private (string Field, bool Scored) RandomLayer(string name, Random random, ref int[]? shape)
        {
            bool flat = shape is null || shape.Length == 1;
            int roll = random.Next(100);
            string kind = flat
                ? roll < 70 ? "Dense" : roll < 85 ? "Flatten" : roll < 92 ? "Conv" : roll < 96 ? "MaxPool" : "AvgPool"
                : roll < 35 ? "Conv" : roll < 55 ? "MaxPool" : roll < 70 ? "AvgPool" : roll < 92 ? "Flatten" : "Dense";
            int largest = shape is null || shape.Length == 1 ? 4 : shape.Skip(1).Max();
            int activation = random.Next(50) == 0 ? 9 : random.Next(7);
            bool? bias = random.Next(5) switch { 0 => false, 1 => true, _ => null };
            var arguments = new List<string>();
            string head;
            int size;
            int? kernel = null;
            int stride = 0, padding = 0;
            switch (kind)
            {
                case "Dense":
                    size = random.Next(40) == 0 ? -random.Next(2) : random.Next(1, 10);
                    head = $"Dense({size}";
                    break;
                case "Conv":
                    size = random.Next(40) == 0 ? -random.Next(2) : random.Next(1, 5);
                    kernel = random.Next(30) == 0 ? null : random.Next(40) == 0 ? -1 : random.Next(1, largest + 2);
                    stride = random.Next(40) == 0 ? -random.Next(2) : random.Next(1, 4);
                    padding = random.Next(40) == 0 ? -1 : random.Next(0, 3);
                    head = $"Conv({size}";
                    if (kernel is not null)
                    {
                        arguments.Add($"Kernel = {kernel}");
                    }

                    if (stride != 1 || random.Next(3) == 0)
                    {
                        arguments.Add($"Stride = {stride}");
                    }

                    if (padding != 0 || random.Next(3) == 0)
                    {
                        arguments.Add($"Padding = {padding}");
                    }

                    break;
                case "MaxPool" or "AvgPool":
                    size = random.Next(40) == 0 ? -random.Next(2) : random.Next(1, largest + 2);
                    stride = random.Next(40) == 0 ? -1 : random.Next(0, 4);
                    head = $"{kind}({size}";
                    if (stride != 0 || random.Next(3) == 0)
                    {
                        arguments.Add($"Stride = {stride}");
                    }

                    break;
                default:
                    size = 0;
                    head = "Flatten";
                    break;
            }

            bool hasActivation = kind is "Dense" or "Conv";
            if (hasActivation)
            {
                if (activation != 0 || random.Next(4) == 0)
                {
                    arguments.Add(activation == 9 ? "Activation = (Activation)9" : $"Activation = Activation.{(Activation)activation}");
                }

                if (bias is not null)
                {
                    arguments.Add($"Bias = {(bias.Value ? "true" : "false")}");
                }
            }
            else
            {
                activation = 0;
            }

            arguments = arguments.OrderBy(_ => random.Next()).ToList();
            string attribute = kind == "Flatten" ? "Flatten" : head + string.Concat(arguments.Select(a => ", " + a)) + ")";
            int scoring = random.Next(10) switch { < 6 => 0, < 9 => 1, _ => 2 };
            string scored = scoring switch { 0 => "", 1 => ", AttributeLayer", _ => ", AttributeLayer(PreActivation = true)" };
            string field = $"[{attribute}{scored}] Layer {name};";

            if (ExpectedError is null && shape is not null)
            {
                var (error, next) = Infer(kind, size, kernel, stride, padding, activation, shape);
                if (error is not null)
                {
                    ExpectedError = error;
                    shape = null;
                }
                else
                {
                    shape = next;
                    ReferenceLayers.Add(kind switch
                    {
                        "Dense" => new RefDense(name, size, (Activation)activation, bias ?? true),
                        "Conv" => new RefConv(name, size, kernel!.Value, stride, padding, (Activation)activation, bias ?? true),
                        "MaxPool" => new RefMaxPool(name, size, stride),
                        "AvgPool" => new RefAvgPool(name, size, stride),
                        _ => new RefFlatten(name),
                    });
                    if (scoring == 2 && activation == 0)
                    {
                        AddWarning("NIG0014");
                    }
                }
            }

            return (field, scoring != 0);
        }

        private void AddWarning(string id)
        {
            if (!ExpectedWarnings.Contains(id))
            {
                ExpectedWarnings.Add(id);
            }
        }

        // PyTorch's shape rules and the README's limits: (error, output shape).
        private static (string? Error, int[]? Output) Infer(string kind, int size, int? kernel, int stride, int padding, int activation, int[] shape)
        {
            if (activation is < 0 or > 6)
            {
                return ("NIG0009", null);
            }

            switch (kind)
            {
                case "Flatten":
                    return (null, [shape.Aggregate(1, (a, b) => a * b)]);
                case "Dense":
                    return size < 1 ? ("NIG0009", null) : shape.Length != 1 ? ("NIG0011", null) : (null, [size]);
            }

            if (shape.Length == 1)
            {
                return ("NIG0012", null);
            }

            bool conv = kind == "Conv";
            if (size < 1)
            {
                return ("NIG0009", null);
            }

            if (conv && kernel is null)
            {
                return ("NIG0017", null);
            }

            if (conv && (kernel < 1 || stride < 1 || padding < 0))
            {
                return ("NIG0009", null);
            }

            if (!conv && stride < 0)
            {
                return ("NIG0009", null);
            }

            int window = conv ? kernel!.Value : size;
            int step = conv ? stride : stride == 0 ? size : stride;
            var output = new int[shape.Length];
            output[0] = conv ? size : shape[0];
            for (int d = 1; d < shape.Length; d++)
            {
                if (window > shape[d] + 2 * padding)
                {
                    return ("NIG0010", null);
                }

                output[d] = (shape[d] + 2 * padding - window) / step + 1;
            }

            return (null, output);
        }

        // One misuse of the declaration rules; returns the NIG error it must get.
        private static string Misuse(Random random, List<string> fields, ref string declaration, ref string input, ref string outer)
        {
            switch (random.Next(16))
            {
                case 0:
                    declaration = declaration.Replace("partial ", "");
                    return "NIG0001";
                case 1:
                    input = "";
                    return "NIG0002";
                case 2:
                    input = random.Next(4) switch { 0 => "[Input]", 1 => "[Input(1, 2, 3, 4)]", 2 => "[Input(0)]", _ => "[Input(3, -2)]" };
                    return "NIG0003";
                case 3:
                    fields.Clear();
                    fields.Add("int count;");
                    return "NIG0004";
                case 4:
                    fields.Insert(random.Next(fields.Count + 1), "Layer bare;");
                    return "NIG0005";
                case 5:
                    fields.Insert(random.Next(fields.Count + 1), "[Dense(3)][Flatten] Layer both;");
                    return "NIG0006";
                case 6:
                    fields.Insert(random.Next(fields.Count + 1), random.Next(2) == 0 ? "[AttributeLayer] int marked;" : "[AttributeLayer] Layer marked;");
                    return "NIG0007";
                case 7:
                    fields.Insert(random.Next(fields.Count + 1), random.Next(2) == 0 ? "[Dense(3)] int wrong;" : "[Flatten] static Layer shared;");
                    return "NIG0013";
                case 8:
                    declaration = declaration.Replace("sealed partial class", "partial record");
                    return "NIG0015";
                case 9:
                    declaration += "<T>";
                    return "NIG0015";
                case 10:
                    outer = "Outer";
                    return "NIG0015";
                case 11:
                    fields.Add($"[Flatten] Layer {GeneratedNames[random.Next(GeneratedNames.Length)]};");
                    return "NIG0018";
                case 12:
                    fields.Add("[Flatten] Layer L0;");
                    return "NIG0018";
                case 13:
                    fields.Add($"public {declaration.Split(' ').Last()}() {{ }}");
                    return "NIG0019";
                case 14:
                    declaration = declaration.Replace("sealed partial class", "static partial class");
                    return "NIG0015";
                default:
                    // A weight of 10^10 floats: more than an array holds.
                    input = "[Input(100000)]";
                    fields.Clear();
                    fields.Add("[Dense(100000), AttributeLayer] Layer huge;");
                    return "NIG0016";
            }
        }

        // Deletes or inserts a few characters inside the class body: C# that may no longer parse or bind.
        private void Corrupt(Random random)
        {
            int start = Source.IndexOf("[Network]", StringComparison.Ordinal);
            int bodyStart = Source.IndexOf('{', start) + 1;
            var text = new StringBuilder(Source);
            int edits = random.Next(1, 4);
            for (int e = 0; e < edits; e++)
            {
                int at = random.Next(bodyStart, text.Length);
                if (random.Next(2) == 0)
                {
                    text.Remove(at, 1);
                }
                else
                {
                    text.Insert(at, "[](),;=\"0-"[random.Next(10)]);
                }
            }

            Source = text.ToString();
            Corrupted = true;
        }
    }
}
