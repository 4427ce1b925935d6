using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NigGen.Attribution;
using NigGen.Generator;
using NigGen.Tests.Generator;
using Xunit;
using Xunit.Abstractions;

namespace NigGen.Tests.Reliability;

/// <summary>
/// Thousands of random layer-graph declarations (random DAGs in declaration order over every layer kind, From, Add,
/// Concat, BatchNorm, Dropout, global and padded pooling, dilated, grouped and depthwise convolutions, every activation,
/// attribute layers and Weights prefixes), a quarter with one mistake, run through the generator. The test's own model
/// of the rules (PyTorch's shape arithmetic and the README's graph rules, written here independently of ShapeInference)
/// says which error each mistake must get. Asserted: the generator never throws; every invalid declaration gets its
/// predicted NIG error and no code; every valid one gets code and exactly the expected warnings (NIG0026 for a layer
/// nothing reads, NIG0008 without an attribute layer, NIG0014 for PreActivation without activation). A sample of the
/// valid ones, chosen to cover every drawn feature, is compiled and loaded from a random state_dict: Forward (one thread
/// and two) against the double-precision <see cref="GraphReference"/>, the input gradient and each attribute layer's
/// Neuron Integrated Gradients against the reference's differences, Neuron Integrated Gradients optimised against
/// unoptimised and fused against unfused, and DeepLIFT Rescale's summation to delta. NIGGEN_LONG_TESTS=1 runs 20,000 declarations and compiles 600.
/// </summary>
public sealed class GraphFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 13_031;
    private const int DeclarationsPerCompilation = 100;

    // What the compiled sample checked, for the test's output (batches run in parallel).
    private int _layersCompared;

    [Fact]
    public void Random_graphs_get_their_diagnostics_or_compile_and_match_the_reference()
    {
        int count = LongTests.Choose(2_000, 20_000);
        int compiled = LongTests.Choose(30, 600);
        var random = new Random(Seed);
        var declarations = Enumerable.Range(0, count).Select(i => GraphDeclaration.Random(i, random)).ToList();

        // Compilations are independent: batches run on every core.
        System.Threading.Tasks.Parallel.ForEach(declarations.Chunk(DeclarationsPerCompilation), batch => CheckGenerator(batch));

        var sample = CoveringSample(declarations.Where(d => d.IsValid).ToList(), compiled);
        System.Threading.Tasks.Parallel.ForEach(sample.Chunk(10), batch => CompileAndCompare(batch));
        output.WriteLine($"Neuron Integrated Gradients of {_layersCompared} attribute layers compared with the reference");

        int valid = declarations.Count(d => d.IsValid);
        output.WriteLine($"{count} graph declarations ({valid} valid, {count - valid} invalid) through the generator; {sample.Count} compiled and run against the reference");
        output.WriteLine("expected errors: " + string.Join(", ", declarations.Where(d => !d.IsValid).GroupBy(d => d.ExpectedError).OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}")));
        output.WriteLine("expected warnings: " + string.Join(", ", declarations.SelectMany(d => d.ExpectedWarnings).GroupBy(w => w).OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}")));
        var kinds = declarations.Where(d => d.IsValid).SelectMany(d => d.Resolved).GroupBy(l => l.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}");
        output.WriteLine("layers of valid graphs: " + string.Join(", ", kinds));
        Assert.True(valid > count / 2, $"only {valid} of {count} declarations are valid");
        Assert.Equal(compiled, sample.Count);

        // Every kind, every activation and every mistake must have been drawn, or the fuzzer tests less than it claims.
        Assert.Equal(Enum.GetValues<GraphKind>().Length, declarations.Where(d => d.IsValid).SelectMany(d => d.Resolved).Select(l => l.Kind).Distinct().Count());
        Assert.Equal(Enum.GetValues<Activation>().Length, declarations.Where(d => d.IsValid).SelectMany(d => d.Resolved).Select(l => l.Activation).Distinct().Count());
        Assert.Equal(GraphDeclaration.Mistakes.Length, declarations.Select(d => d.ExpectedError).Where(e => e is not null).Distinct().Count());
    }

    /// <summary>
    /// <paramref name="count"/> valid declarations, chosen greedily so that the layers the output depends on cover every
    /// feature drawn (each kind with each option, rank and activation): the first declarations alone missed padded
    /// average pooling, which a reference that ignored the padding in the divisor then passed.
    /// </summary>
    private static List<GraphDeclaration> CoveringSample(List<GraphDeclaration> valid, int count)
    {
        var covered = new HashSet<string>();
        var sample = new List<GraphDeclaration>();
        var remaining = valid.ToList();
        while (sample.Count < count && remaining.Count > 0)
        {
            // Most new features first; among equals, the earliest (a stable, seed-determined choice).
            var best = remaining.OrderByDescending(d => d.Features.Count(f => !covered.Contains(f))).First();
            remaining.Remove(best);
            sample.Add(best);
            covered.UnionWith(best.Features);
        }

        return sample;
    }

    private static void CheckGenerator(IReadOnlyList<GraphDeclaration> batch)
    {
        var compilation = GeneratorHarness.CreateCompilation(batch.Select(d => d.Source).ToArray());
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], parseOptions: GeneratorHarness.ParseOptions);

        // GeneratorHarness.Run fails the test if the generator threw.
        var run = GeneratorHarness.Run(driver, compilation);
        var generated = run.Sources.ToDictionary(s => s.HintName);
        var diagnostics = run.GeneratorDiagnostics.ToLookup(d => d.Location.SourceTree?.FilePath ?? "");

        // A declaration that is not valid C# would make every check below meaningless.
        var compilerErrors = compilation.GetParseDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(compilerErrors.Count == 0, "the fuzzer wrote C# that does not parse: " + string.Join("\n", compilerErrors));

        for (int i = 0; i < batch.Count; i++)
        {
            var declaration = batch[i];
            var tree = compilation.SyntaxTrees.ElementAt(i);
            var mine = diagnostics[tree.FilePath].ToList();
            var errors = mine.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).ToList();
            generated.TryGetValue(declaration.HintName, out var source);
            string context = $"graph {declaration.Index} (seed {Seed}):\n{declaration.Source}\nNIG diagnostics: {string.Join("; ", mine)}";
            Assert.All(mine, d => Assert.StartsWith("NIG", d.Id));

            if (declaration.ExpectedError is { } expected)
            {
                Assert.True(errors.Contains(expected), $"expected {expected} ({declaration.Mistake}): {context}");
                Assert.True(source.SyntaxTree is null, "code generated for an invalid declaration: " + context);
                continue;
            }

            Assert.True(errors.Count == 0, "errors on a valid declaration: " + context);
            Assert.True(source.SyntaxTree is not null, "no code generated for a valid declaration: " + context);
            Assert.True(declaration.ExpectedWarnings.Order().SequenceEqual(mine.Select(d => d.Id).Order()),
                $"expected warnings {string.Join(", ", declaration.ExpectedWarnings.Order())}: {context}");
        }
    }

    private void CompileAndCompare(IReadOnlyList<GraphDeclaration> batch) =>
        GraphFuzzFindingsTests.WithCompiled(batch.Select(d => d.Source).ToArray(), assembly =>
        {
            foreach (var declaration in batch)
            {
                try
                {
                    CompareWithReference(declaration, assembly);
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    throw new InvalidOperationException($"graph {declaration.Index} threw:\n{declaration.Source}", e);
                }
            }
        });

    private void CompareWithReference(GraphDeclaration declaration, System.Reflection.Assembly assembly)
    {
                var type = assembly.GetType(declaration.TypeName, throwOnError: true)!;
                var reference = new GraphReference(declaration.InputShape, declaration.Resolved, seed: declaration.Index);
                var load = type.GetMethod("Load", [typeof(Stream)])!;
                var network = (INetwork)load.Invoke(null, [reference.ToSafetensors()])!;
                CompareForward(declaration, reference, network);
                CompareInputGradient(declaration, reference, network);
                CheckDeepLiftSummation(declaration, reference, network);
                if (network is IAttributedNetwork attributed && attributed.Description.ImportanceLength > 0)
                {
                    CompareShortcut(declaration, reference, attributed);
                    CompareNeuronIntegratedGradients(declaration, reference, attributed);
                    CompareAblation(declaration, reference, attributed);
                }
    }

    private static float[] RandomInput(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static double[] InDouble(ReadOnlySpan<float> values) => values.ToArray().Select(v => (double)v).ToArray();

    private static void CompareForward(GraphDeclaration declaration, GraphReference reference, INetwork network)
    {
        const int Samples = 3;
        var input = RandomInput(Samples * reference.InputLength, declaration.Index);
        var actual = new float[Samples * reference.OutputLength];
        network.Forward(input, actual);

        // The runtime's threaded path (which copies the input into the workspace) gives the same numbers.
        var threaded = new float[actual.Length];
        network.Forward(input, threaded, maxDegreeOfParallelism: 2);
        Assert.True(actual.SequenceEqual(threaded), $"graph {declaration.Index}: Forward on 2 threads differs\n{declaration.Source}");
        for (int s = 0; s < Samples; s++)
        {
            var expected = reference.Forward(InDouble(input.AsSpan(s * reference.InputLength, reference.InputLength)));
            for (int o = 0; o < expected.Length; o++)
            {
                double got = actual[s * reference.OutputLength + o];
                Assert.True(Math.Abs(got - expected[o]) <= 1e-4 + 1e-4 * Math.Abs(expected[o]),
                    $"graph {declaration.Index}, sample {s}, output {o}: {got} vs reference {expected[o]}\n{declaration.Source}");
            }
        }
    }

    // The backward pass to the input against the reference's one-sided directional derivatives along a random direction
    // (at a kink, a ReLU at 0 or tied maxima, the generated subgradient may be either side's).
    private static void CompareInputGradient(GraphDeclaration declaration, GraphReference reference, INetwork network)
    {
        const double H = 1e-6;
        var input = RandomInput(reference.InputLength, declaration.Index + 7);
        var direction = RandomInput(reference.InputLength, declaration.Index + 8);
        int target = (declaration.Index + 2) % reference.OutputLength;
        var gradient = new float[reference.InputLength];
        network.InputGradient(input, target, gradient);
        double F(double t) => reference.Forward(input.Select((x, i) => x + t * direction[i]).ToArray())[target];
        double here = F(0), right = (F(H) - here) / H, left = (here - F(-H)) / H;
        double actual = gradient.Select((g, i) => (double)g * direction[i]).Sum();
        double tolerance = 2e-4 * (gradient.Select((g, i) => Math.Abs((double)g * direction[i])).Sum() + Math.Abs(left) + Math.Abs(right)) + 1e-5;
        Assert.True(actual >= Math.Min(left, right) - tolerance && actual <= Math.Max(left, right) + tolerance,
            $"graph {declaration.Index}, target {target}: ∇F·v = {actual} but the reference's differences give {left} (left) and {right} (right)\n{declaration.Source}");
    }

    // DeepLIFT's Rescale rule makes the attributions sum to F(x) − F(x'): on a graph, the multipliers of a layer read by
    // several layers must add up, and Add, Concat, BatchNorm, pooling and every activation must pass them on exactly.
    private static void CheckDeepLiftSummation(GraphDeclaration declaration, GraphReference reference, INetwork network)
    {
        var input = RandomInput(reference.InputLength, declaration.Index + 2);
        var baseline = RandomInput(reference.InputLength, declaration.Index + 3).Select(v => 0.3f * v).ToArray();
        int target = declaration.Index % reference.OutputLength;
        var attribution = new float[reference.InputLength];
        double difference = reference.Forward(InDouble(input))[target] - reference.Forward(InDouble(baseline))[target];

        // GenomicsDefault: RevealCancel (positive and negative parts of a Dense layer's sum, each with its own multiplier)
        // after Dense layers, where it is defined, and Rescale elsewhere; its multipliers sum to Δy too.
        foreach (var rule in new[] { DeepLiftRule.Rescale, DeepLiftRule.GenomicsDefault })
        {
            float delta = network.DeepLiftInputs(input, baseline, target, attribution, rule);
            double scale = attribution.Sum(v => Math.Abs((double)v)) + Math.Abs(difference);
            double sum = attribution.Sum(v => (double)v);
            Assert.True(Math.Abs(sum - difference) <= 1e-4 * scale + 1e-5,
                $"graph {declaration.Index}, target {target}, {rule}: Σ DeepLIFT attributions {sum} but F(x) − F(x') = {difference} (scale {scale})\n{declaration.Source}");
            Assert.True(Math.Abs(delta) <= 1e-4 * scale + 1e-5,
                $"graph {declaration.Index}, target {target}, {rule}: DeepLIFT delta {delta} (scale {scale})\n{declaration.Source}");
        }
    }

    /// <summary>
    /// Neuron Integrated Gradients against the reference, one random combination of each attribute layer's neurons:
    /// Σ_i r_i·NIG_i = Σ_k Σ_i r_i·∂F/∂y_i(α_k)·(y_i(α_k+1) − y_i(α_k)) (README), where ∂F/∂y is the partial
    /// derivative with respect to layer y alone (other paths from the input held), as Captum's LayerConductance hooks
    /// the layer's output. Each step's sum is a directional derivative of F as a function of y along
    /// v = r ⊙ (y(α_k+1) − y(α_k)), taken from the reference by one-sided differences. Where the two sides differ, y sits
    /// on a kink (a ReLU at exactly 0 and max pooling between tied zeros, whose subgradient NigGen, like PyTorch, takes
    /// from one side): the generated step may be either side, so the sum must lie between the smallest and the largest.
    /// </summary>
    private void CompareNeuronIntegratedGradients(GraphDeclaration declaration, GraphReference reference, IAttributedNetwork network)
    {
        const int Steps = 8;
        const double H = 1e-6;
        var input = RandomInput(reference.InputLength, declaration.Index + 4);
        var baseline = RandomInput(reference.InputLength, declaration.Index + 5).Select(v => 0.2f * v).ToArray();
        int target = (declaration.Index + 1) % reference.OutputLength;
        var importance = new float[network.Description.ImportanceLength];
        network.NeuronIntegratedGradients(input, baseline, target, importance, new AttributionOptions { Steps = Steps });

        var rule = Quadrature.Get(IntegrationRule.RiemannTrapezoid, Steps + 1);
        var path = Enumerable.Range(0, Steps + 1).Select(k => input.Select((x, i) => baseline[i] + rule.Alpha(k) * (x - (double)baseline[i])).ToArray()).ToArray();
        var random = new Random(declaration.Index + 6);
        foreach (var layer in network.Description.AttributeLayers)
        {
            System.Threading.Interlocked.Increment(ref _layersCompared);
            int node = reference.IndexOf(layer.Name);
            var weights = Enumerable.Range(0, layer.Length).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var hidden = path.Select(x => reference.Hidden(x, node, layer.PreActivation)).ToArray();
            double low = 0, high = 0, scale = 0;
            for (int k = 0; k < Steps; k++)
            {
                var direction = hidden[k].Select((y, i) => weights[i] * (hidden[k + 1][i] - y)).ToArray();
                double F(double t) => reference.Forward(path[k], node, layer.PreActivation, hidden[k].Select((y, i) => y + t * direction[i]).ToArray())[target];
                double here = F(0), right = (F(H) - here) / H, left = (here - F(-H)) / H;
                low += Math.Min(left, right);
                high += Math.Max(left, right);
                scale += Math.Abs(left) + Math.Abs(right);
            }

            double actual = Enumerable.Range(0, layer.Length).Sum(i => weights[i] * importance[layer.Offset + i]);
            scale += Enumerable.Range(0, layer.Length).Sum(i => Math.Abs(weights[i] * importance[layer.Offset + i]));
            double tolerance = 2e-4 * scale + 1e-5;
            Assert.True(actual >= low - tolerance && actual <= high + tolerance,
                $"graph {declaration.Index}, layer {layer.Name}{(layer.PreActivation ? " (pre-activation)" : "")}, target {target}: Σ r·NIG = {actual} but the reference gives {(low == high ? low.ToString() : $"[{low}, {high}]")}\n{declaration.Source}");
        }
    }

    // Ablate against the reference with the same neurons of one attribute layer replaced by their values at the baseline
    // (the rest of the graph, other paths from the input included, computed from the input).
    private static void CompareAblation(GraphDeclaration declaration, GraphReference reference, IAttributedNetwork network)
    {
        var layers = network.Description.AttributeLayers.ToList();
        if (layers.Count == 0)
        {
            return;
        }

        var random = new Random(declaration.Index + 9);
        var layer = layers[random.Next(layers.Count)];
        var neurons = Enumerable.Range(0, layer.Length).Where(_ => random.Next(3) == 0).ToArray();
        var input = RandomInput(reference.InputLength, declaration.Index + 10);
        var baseline = RandomInput(reference.InputLength, declaration.Index + 11).Select(v => 0.5f * v).ToArray();
        var actual = new float[reference.OutputLength];
        network.Ablate(input, baseline, neurons.Select(n => layer.Offset + n).ToArray(), actual);

        int node = reference.IndexOf(layer.Name);
        var values = reference.Hidden(InDouble(input), node, layer.PreActivation);
        var atBaseline = reference.Hidden(InDouble(baseline), node, layer.PreActivation);
        foreach (int n in neurons)
        {
            values[n] = atBaseline[n];
        }

        var expected = reference.Forward(InDouble(input), node, layer.PreActivation, values);
        for (int o = 0; o < expected.Length; o++)
        {
            Assert.True(Math.Abs(actual[o] - expected[o]) <= 1e-4 + 1e-4 * Math.Abs(expected[o]),
                $"graph {declaration.Index}, {layer.Name} neurons {string.Join(",", neurons)} ablated, output {o}: {actual[o]} vs reference {expected[o]}\n{declaration.Source}");
        }
    }

    // The optimised path (first-layer interpolation shortcut, backward stopped at the earliest scored layer) against the
    // plain one, and the fused first layers against the same shortcut unfused, bit for bit (as DeclarationFuzzTests).
    private static void CompareShortcut(GraphDeclaration declaration, GraphReference reference, IAttributedNetwork network)
    {
        var input = RandomInput(reference.InputLength, declaration.Index + 1);
        var baseline = new float[reference.InputLength];
        var fast = new float[network.Description.ImportanceLength];
        var slow = new float[fast.Length];
        var unfused = new float[fast.Length];
        var options = new AttributionOptions { Steps = 6 };
        int target = declaration.Index % reference.OutputLength;
        network.NeuronIntegratedGradients(input, baseline, target, fast, options);
        network.NeuronIntegratedGradients(input, baseline, target, slow, options with { Unoptimised = true });
        network.NeuronIntegratedGradients(input, baseline, target, unfused, options with { Unfused = true });
        double scale = slow.Max(v => Math.Abs((double)v)) + 1e-6;
        for (int i = 0; i < fast.Length; i++)
        {
            Assert.True(Math.Abs(fast[i] - slow[i]) <= 1e-3 * scale,
                $"graph {declaration.Index}, importance {i}: optimised {fast[i]} vs unoptimised {slow[i]}\n{declaration.Source}");
            Assert.True(BitConverter.SingleToInt32Bits(fast[i]) == BitConverter.SingleToInt32Bits(unfused[i]),
                $"graph {declaration.Index}, importance {i}: fused {fast[i]:R} vs unfused {unfused[i]:R}\n{declaration.Source}");
        }
    }

    /// <summary>One layer field as declared: the layer, what it reads by name (null From: the previous field), whether it is scored.</summary>
    private sealed record Declared(GraphLayer Layer, string? From, string[] Names, Scoring Scoring, bool Verbose);

    private enum Scoring
    {
        None,
        Output,
        PreActivation,
    }

    /// <summary>One random graph declaration, its source, and what the rules say about it.</summary>
    private sealed class GraphDeclaration
    {
        /// <summary>Every mistake the fuzzer makes and the error it must get.</summary>
        public static readonly string[] Mistakes = ["NIG0009", "NIG0010", "NIG0011", "NIG0012", "NIG0017", "NIG0020", "NIG0021", "NIG0022", "NIG0023", "NIG0024", "NIG0025", "NIG0027", "NIG0028", "NIG0029"];

        private const string Input = Layer.Input;
        private static readonly Activation[] Activations = Enum.GetValues<Activation>();

        private readonly Random _random;
        private readonly List<Declared> _layers = [];

        private GraphDeclaration(int index, Random random)
        {
            Index = index;
            _random = random;
        }

        public int Index { get; }

        public string Source { get; private set; } = "";

        public int[] InputShape { get; private set; } = [];

        /// <summary>The mistake made (the error it calls for), null for a declaration meant to be valid.</summary>
        public string? Mistake { get; private set; }

        /// <summary>The NIG error the declaration must get; null when it is valid.</summary>
        public string? ExpectedError { get; private set; }

        public bool IsValid => ExpectedError is null;

        public List<string> ExpectedWarnings { get; } = [];

        /// <summary>The layers with what each reads resolved to indices: what the reference evaluates.</summary>
        public List<GraphLayer> Resolved { get; } = [];

        /// <summary>What the layers the output depends on exercise: kind, rank, options, activation, scoring.</summary>
        public IReadOnlyList<string> Features => _features ??= FindFeatures();

        private List<string>? _features;

        private List<string> FindFeatures()
        {
            var shapes = new List<int[]>();
            foreach (var layer in Resolved)
            {
                shapes.Add(GraphReference.OutputShape(layer, layer.Inputs.Select(n => ShapeOf(n, shapes)).ToArray()));
            }

            var live = new HashSet<int> { Resolved.Count - 1 };
            for (int i = Resolved.Count - 1; i >= 0; i--)
            {
                if (live.Contains(i))
                {
                    live.UnionWith(Resolved[i].Inputs.Where(n => n >= 0));
                }
            }

            var features = new List<string>();
            foreach (int i in live)
            {
                var layer = Resolved[i];
                var input = ShapeOf(layer.Inputs[0], shapes);
                string kind = $"{layer.Kind}/{input.Length}";
                void Tag(bool when, string feature)
                {
                    if (when)
                    {
                        features.Add(kind + "/" + feature);
                    }
                }

                features.Add(kind);
                Tag(true, layer.Activation.ToString());
                Tag(_layers[i].Scoring != Scoring.None, _layers[i].Scoring.ToString());
                Tag(layer.Weights is not null, "prefix");
                Tag(layer.Kind is GraphKind.Dense or GraphKind.Conv && !layer.Bias, "no bias");
                switch (layer.Kind)
                {
                    case GraphKind.Conv:
                        Tag(layer.Dilation > 1, "dilated");
                        Tag(layer.Groups > 1, layer.Groups == input[0] ? "depthwise" : "grouped");
                        Tag(layer.Stride > 1, "strided");
                        Tag(layer.Padding > 0, "padded");
                        Tag(input.Skip(1).Any(d => (layer.Padding + layer.Stride - 1) / layer.Stride >= (d + 2 * layer.Padding - layer.Dilation * (layer.Kernel - 1) - 1) / layer.Stride + 1), "a tap seeing only padding");
                        Tag(layer.Stride > 2, "stride 3");
                        break;
                    case GraphKind.MaxPool or GraphKind.AvgPool:
                        Tag(layer.Padding > 0, "padded");
                        Tag(layer.Stride != 0 && layer.Stride < layer.Size, "overlapping");
                        Tag(layer.Stride > layer.Size, "gaps");
                        break;
                    case GraphKind.BatchNorm:
                        Tag(!layer.Affine, "not affine");
                        Tag(layer.Inputs[0] >= 0 && Resolved[layer.Inputs[0]].Kind is GraphKind.Dense or GraphKind.Conv, "after an affine layer");
                        break;
                    case GraphKind.Add or GraphKind.Concat:
                        Tag(true, $"{layer.Inputs.Length} inputs");
                        Tag(layer.Inputs.Contains(-1), "network input");
                        Tag(layer.Inputs.Distinct().Count() < layer.Inputs.Length, "repeated");
                        break;
                }
            }

            return features;
        }

        public string Namespace => $"GraphFuzz.N{Index}";

        public string ClassName => $"Net{Index}";

        public string TypeName => Namespace + "." + ClassName;

        public string HintName => TypeName + ".g.cs";

        public static GraphDeclaration Random(int index, Random random)
        {
            var declaration = new GraphDeclaration(index, random);
            declaration.Generate();
            return declaration;
        }

        private void Generate()
        {
            InputShape = _random.Next(3) switch
            {
                0 => [_random.Next(1, 10)],
                1 => [_random.Next(1, 5), _random.Next(3, 16)],
                _ => [_random.Next(1, 4), _random.Next(3, 9), _random.Next(3, 9)],
            };

            // A valid graph first, its shapes tracked as it grows.
            var shapes = new List<int[]>();
            int count = _random.Next(2, 9);
            for (int j = 0; j < count; j++)
            {
                var layer = RandomLayer($"l{j}", shapes);
                shapes.Add(GraphReference.OutputShape(layer, layer.Inputs.Select(n => ShapeOf(n, shapes)).ToArray()));
                int previous = j - 1;
                string? from = layer.Inputs[0] != previous || _random.Next(8) == 0 ? NameOf(layer.Inputs[0]) : null;
                bool multi = layer.Kind is GraphKind.Add or GraphKind.Concat;
                var scoring = _random.Next(10) switch { < 6 => Scoring.None, < 9 => Scoring.Output, _ => Scoring.PreActivation };
                _layers.Add(new Declared(layer, multi ? null : from, multi ? layer.Inputs.Select(NameOf).ToArray() : [], scoring, _random.Next(4) == 0));
            }

            if (_random.Next(4) == 0)
            {
                // Some mistakes need a layer or shape the graph lacks: try a few.
                for (int attempt = 0; attempt < 5 && Mistake is null; attempt++)
                {
                    Mistake = MakeMistake(Mistakes[_random.Next(Mistakes.Length)], shapes);
                }
            }

            Predict();
            Assert.True(ExpectedError == Mistake, $"the fuzzer's own model predicts {ExpectedError ?? "no error"} for the mistake {Mistake ?? "(none)"}: {Render()}");
            Source = Render();
        }

        private int[] ShapeOf(int node, List<int[]> shapes) => node < 0 ? InputShape : shapes[node];

        private string NameOf(int node) => node < 0 ? Input : $"l{node}";

        private Activation RandomActivation() => _random.Next(3) == 0 ? Activation.None : Activations[_random.Next(Activations.Length)];

        private string? RandomPrefix(int j) => _random.Next(4) == 0 ? $"blocks.{j}.{"abc"[_random.Next(3)]}" : null;

        // A valid layer: its kind drawn for the shape it reads, its arguments drawn within PyTorch's rules.
        private GraphLayer RandomLayer(string name, List<int[]> shapes)
        {
            int j = shapes.Count;
            int source = _random.Next(3) == 0 ? _random.Next(-1, j) : j - 1;
            var shape = ShapeOf(source, shapes);
            int roll = _random.Next(100);
            GraphKind kind = shape.Length == 1
                ? roll switch { < 40 => GraphKind.Dense, < 52 => GraphKind.BatchNorm, < 60 => GraphKind.Dropout, < 64 => GraphKind.Flatten, < 84 => GraphKind.Add, _ => GraphKind.Concat }
                : roll switch
                {
                    < 30 => GraphKind.Conv, < 40 => GraphKind.MaxPool, < 50 => GraphKind.AvgPool, < 55 => GraphKind.GlobalAvgPool, < 60 => GraphKind.GlobalMaxPool,
                    < 65 => GraphKind.Flatten, < 76 => GraphKind.BatchNorm, < 79 => GraphKind.Dropout, < 91 => GraphKind.Add, _ => GraphKind.Concat,
                };

            if (kind is GraphKind.Add or GraphKind.Concat)
            {
                // Inputs of one shape (Add) or one shape apart from channels (Concat), preferably including the source.
                var nodes = Enumerable.Range(-1, j + 1).ToList();
                string Key(int n) => kind == GraphKind.Add ? string.Join(",", ShapeOf(n, shapes)) : ShapeOf(n, shapes).Length + ":" + string.Join(",", ShapeOf(n, shapes).Skip(1));
                var group = nodes.Where(n => Key(n) == Key(source)).ToList();
                if (group.Count >= 2 || _random.Next(20) == 0)
                {
                    // Rarely the same layer twice (x + x, torch.cat([x, x], 1)): as valid in NigGen as in PyTorch.
                    int wanted = _random.Next(2, 4);
                    var inputs = new List<int> { source };
                    var others = group.Where(n => n != source).OrderBy(_ => _random.Next()).ToList();
                    inputs.AddRange(others.Take(wanted - 1));
                    if (inputs.Count < 2)
                    {
                        inputs.Add(source);
                    }

                    return new GraphLayer(name, kind, inputs.OrderBy(_ => _random.Next()).ToArray()) { Activation = RandomActivation() };
                }

                kind = shape.Length == 1 ? GraphKind.Dense : GraphKind.Conv;
            }

            var layer = new GraphLayer(name, kind, [source]);
            int smallest = shape.Length == 1 ? 0 : shape.Skip(1).Min();
            switch (kind)
            {
                case GraphKind.Dense:
                    // Often a width some layer already has, so that later layers can add them.
                    var widths = shapes.Append(InputShape).Where(s => s.Length == 1).Select(s => s[0]).ToList();
                    int units = widths.Count > 0 && _random.Next(2) == 0 ? widths[_random.Next(widths.Count)] : _random.Next(1, 9);
                    return layer with { Size = units, Activation = RandomActivation(), Bias = _random.Next(5) != 0, Weights = RandomPrefix(j) };

                case GraphKind.Conv:
                    int inChannels = shape[0];
                    int groups = 1, outChannels;
                    int groupRoll = _random.Next(100);
                    if (groupRoll < 20)
                    {
                        groups = inChannels;
                        outChannels = inChannels * _random.Next(1, 3);
                    }
                    else if (groupRoll < 40)
                    {
                        var divisors = Enumerable.Range(1, inChannels).Where(g => inChannels % g == 0).ToList();
                        groups = divisors[_random.Next(divisors.Count)];
                        outChannels = groups * _random.Next(1, 4);
                    }
                    else
                    {
                        outChannels = _random.Next(2) == 0 ? inChannels : _random.Next(1, 7);
                    }

                    int kernel, dilation = 1, padding, stride = 1;
                    if (_random.Next(5) < 2)
                    {
                        // Shape-preserving ("same"), so that Add has partners.
                        kernel = _random.Next(2) == 0 ? 1 : 3;
                        dilation = _random.Next(3) == 0 ? _random.Next(2, 4) : 1;
                        padding = dilation * (kernel - 1) / 2;
                    }
                    else if (_random.Next(8) == 0)
                    {
                        // Wide padding and a kernel that spans nearly all of the padded input, so that along the
                        // smallest dimension the first taps see only padding (the im2col bug).
                        padding = _random.Next(3, 6);
                        stride = _random.Next(1, 4);
                        kernel = _random.Next(padding + smallest + stride - 1, smallest + 2 * padding + 1);
                    }
                    else
                    {
                        kernel = _random.Next(1, 5);
                        dilation = _random.Next(4) == 0 ? _random.Next(2, 4) : 1;
                        padding = _random.Next(3);
                        stride = _random.Next(4) == 0 ? 2 : 1;
                    }

                    if (dilation * (kernel - 1) + 1 > smallest + 2 * padding)
                    {
                        dilation = 1;
                        kernel = Math.Min(kernel, smallest + 2 * padding);
                    }

                    return layer with
                    {
                        Size = outChannels, Kernel = kernel, Stride = stride, Padding = padding, Dilation = dilation, Groups = groups,
                        Activation = RandomActivation(), Bias = _random.Next(5) != 0, Weights = RandomPrefix(j),
                    };

                case GraphKind.MaxPool or GraphKind.AvgPool:
                    int size = Math.Min(_random.Next(1, 4), smallest);
                    return layer with { Size = size, Stride = _random.Next(3), Padding = _random.Next(size / 2 + 1) };

                case GraphKind.BatchNorm:
                    return layer with
                    {
                        Epsilon = _random.Next(3) == 0 ? new[] { 1e-3, 0.1, 1e-5 }[_random.Next(3)] : 1e-5,
                        Momentum = _random.Next(4) == 0 ? Math.Round(_random.NextDouble(), 2) : 0.1,
                        Affine = _random.Next(4) != 0,
                        Activation = RandomActivation(),
                        Weights = RandomPrefix(j),
                    };

                case GraphKind.Dropout:
                    return layer with { P = new[] { 0, 0.1, 0.25, 0.5, 0.9 }[_random.Next(5)] };

                default:
                    return layer;
            }
        }

        // Turns layer j (or its references) into one mistake; returns the error it calls for, or null where the graph
        // has nothing the mistake needs.
        private string? MakeMistake(string error, List<int[]> shapes)
        {
            int j = _random.Next(_layers.Count);
            var declared = _layers[j];
            bool multi = declared.Layer.Kind is GraphKind.Add or GraphKind.Concat;
            var nodes = Enumerable.Range(-1, j + 1).ToList();
            var spatial = nodes.Where(n => ShapeOf(n, shapes).Length > 1).ToList();
            var flat = nodes.Where(n => ShapeOf(n, shapes).Length == 1).ToList();
            int Pick(List<int> list) => list[_random.Next(list.Count)];
            void Replace(GraphLayer layer, int from) => _layers[j] = new Declared(layer, NameOf(from), [], declared.Scoring, declared.Verbose);
            void ReplaceMulti(GraphKind kind, params string[] names) => _layers[j] = new Declared(new GraphLayer($"l{j}", kind, []), null, names, declared.Scoring, declared.Verbose);

            switch (error)
            {
                case "NIG0020" or "NIG0021":
                    string name = error == "NIG0020" ? "nowhere" : $"l{_random.Next(j, _layers.Count)}";
                    if (multi)
                    {
                        var names = declared.Names.ToArray();
                        names[_random.Next(names.Length)] = name;
                        _layers[j] = declared with { Names = names };
                    }
                    else
                    {
                        _layers[j] = declared with { From = name };
                    }

                    return error;

                case "NIG0022" or "NIG0023":
                    var kind = error == "NIG0022" ? GraphKind.Add : GraphKind.Concat;
                    string Key(int n) => kind == GraphKind.Add ? string.Join(",", ShapeOf(n, shapes)) : ShapeOf(n, shapes).Length + ":" + string.Join(",", ShapeOf(n, shapes).Skip(1));
                    var pairs = nodes.SelectMany(a => nodes.Where(b => Key(a) != Key(b)).Select(b => (a, b))).ToList();
                    if (pairs.Count == 0)
                    {
                        return null;
                    }

                    var (first, second) = pairs[_random.Next(pairs.Count)];
                    ReplaceMulti(kind, NameOf(first), NameOf(second));
                    return error;

                case "NIG0024":
                    if (spatial.Count == 0)
                    {
                        return null;
                    }

                    int node = Pick(spatial);
                    int inChannels = ShapeOf(node, shapes)[0];
                    int groups = _random.Next(2, 5);
                    int outChannels = inChannels % groups == 0 ? groups * _random.Next(1, 3) + 1 : groups * _random.Next(1, 3);
                    Replace(new GraphLayer($"l{j}", GraphKind.Conv, []) { Size = outChannels, Kernel = 1, Groups = groups }, node);
                    return error;

                case "NIG0025":
                    if (spatial.Count == 0)
                    {
                        return null;
                    }

                    int window = _random.Next(1, 4);
                    Replace(new GraphLayer($"l{j}", _random.Next(2) == 0 ? GraphKind.MaxPool : GraphKind.AvgPool, []) { Size = window, Padding = window / 2 + _random.Next(1, 3) }, Pick(spatial));
                    return error;

                case "NIG0027":
                    ReplaceMulti(_random.Next(2) == 0 ? GraphKind.Add : GraphKind.Concat, nodes.Take(_random.Next(2)).Select(NameOf).ToArray());
                    return error;

                case "NIG0028":
                    _layers[j] = new Declared(new GraphLayer($"l{j}", _random.Next(2) == 0 ? GraphKind.Add : GraphKind.Concat, []), NameOf(Pick(nodes)), [Input, Input], declared.Scoring, declared.Verbose);
                    return error;

                case "NIG0029":
                    // A later layer with parameters given the prefix of an earlier one (its Weights or its field name).
                    var owners = Enumerable.Range(0, _layers.Count).Where(i => _layers[i].Layer.HasParameters).ToList();
                    if (owners.Count < 2)
                    {
                        return null;
                    }

                    int earlier = owners[_random.Next(owners.Count - 1)];
                    int later = owners[_random.Next(owners.IndexOf(earlier) + 1, owners.Count)];
                    _layers[later] = _layers[later] with { Layer = _layers[later].Layer with { Weights = _layers[earlier].Layer.Prefix } };
                    return error;

                case "NIG0010":
                    if (spatial.Count == 0)
                    {
                        return null;
                    }

                    int big = Pick(spatial);
                    int largest = ShapeOf(big, shapes).Skip(1).Max();
                    var tooLarge = _random.Next(3) switch
                    {
                        0 => new GraphLayer($"l{j}", GraphKind.Conv, []) { Size = 2, Kernel = largest + 1 },
                        1 => new GraphLayer($"l{j}", GraphKind.Conv, []) { Size = 2, Kernel = 2, Dilation = largest },
                        _ => new GraphLayer($"l{j}", GraphKind.MaxPool, []) { Size = largest + 1 },
                    };
                    Replace(tooLarge, big);
                    return error;

                case "NIG0011":
                    if (spatial.Count == 0)
                    {
                        return null;
                    }

                    Replace(new GraphLayer($"l{j}", GraphKind.Dense, []) { Size = 3 }, Pick(spatial));
                    return error;

                case "NIG0012":
                    if (flat.Count == 0)
                    {
                        return null;
                    }

                    var spatialKind = new[] { GraphKind.Conv, GraphKind.MaxPool, GraphKind.AvgPool, GraphKind.GlobalAvgPool, GraphKind.GlobalMaxPool }[_random.Next(5)];
                    Replace(new GraphLayer($"l{j}", spatialKind, []) { Size = 1, Kernel = 1 }, Pick(flat));
                    return error;

                case "NIG0017":
                    if (spatial.Count == 0)
                    {
                        return null;
                    }

                    Replace(new GraphLayer($"l{j}", GraphKind.Conv, []) { Size = 2 }, Pick(spatial));
                    return error;

                default:
                    // NIG0009: a value outside its range.
                    int any = Pick(nodes);
                    var outOfRange = _random.Next(5) switch
                    {
                        0 => new GraphLayer($"l{j}", GraphKind.Dropout, []) { P = _random.Next(2) == 0 ? 1 : -0.25 },
                        1 => new GraphLayer($"l{j}", GraphKind.BatchNorm, []) { Epsilon = _random.Next(2) == 0 ? 0 : -1e-3 },
                        2 => new GraphLayer($"l{j}", GraphKind.BatchNorm, []) { Momentum = _random.Next(2) == 0 ? 1.5 : -0.1 },
                        3 => new GraphLayer($"l{j}", GraphKind.Dense, []) { Size = 0 },
                        _ => null,
                    };
                    if (outOfRange is null)
                    {
                        if (spatial.Count == 0)
                        {
                            return null;
                        }

                        any = Pick(spatial);
                        outOfRange = _random.Next(2) == 0
                            ? new GraphLayer($"l{j}", GraphKind.Conv, []) { Size = 2, Kernel = 1, Dilation = 0 }
                            : new GraphLayer($"l{j}", GraphKind.Conv, []) { Size = 2, Kernel = 1, Groups = 0 };
                    }

                    Replace(outOfRange, any);
                    return "NIG0009";
            }
        }

        // The rules, in the order the README states them, applied layer by layer: the first error is the one reported.
        private void Predict()
        {
            var shapes = new List<int[]>();
            var indices = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int j = 0; j < _layers.Count; j++)
            {
                var (layer, from, names, scoring, _) = _layers[j];
                bool multi = layer.Kind is GraphKind.Add or GraphKind.Concat;
                if (multi && from is not null)
                {
                    ExpectedError = "NIG0028";
                    return;
                }

                if (multi && names.Length < 2)
                {
                    ExpectedError = "NIG0027";
                    return;
                }

                var read = multi ? names : [from ?? (j == 0 ? Input : _layers[j - 1].Layer.Name)];
                var inputs = new int[read.Length];
                for (int k = 0; k < read.Length; k++)
                {
                    if (read[k] == Input)
                    {
                        inputs[k] = -1;
                    }
                    else if (indices.TryGetValue(read[k], out int earlier))
                    {
                        inputs[k] = earlier;
                    }
                    else
                    {
                        ExpectedError = _layers.Skip(j).Any(l => l.Layer.Name == read[k]) ? "NIG0021" : "NIG0020";
                        return;
                    }
                }

                var inputShapes = inputs.Select(n => ShapeOf(n, shapes)).ToArray();
                if (Check(layer, inputShapes) is { } error)
                {
                    ExpectedError = error;
                    return;
                }

                if (scoring == Scoring.PreActivation && layer.Activation == Activation.None)
                {
                    ExpectedWarnings.Add("NIG0014");
                }

                var resolved = layer with { Inputs = inputs };
                Resolved.Add(resolved);
                shapes.Add(GraphReference.OutputShape(resolved, inputShapes));
                indices[layer.Name] = j;
            }

            var prefixes = Resolved.Where(l => l.HasParameters).Select(l => l.Prefix).ToList();
            if (prefixes.Distinct().Count() != prefixes.Count)
            {
                ExpectedError = "NIG0029";
                return;
            }

            for (int i = 0; i < Resolved.Count - 1; i++)
            {
                if (!Resolved.Any(l => l.Inputs.Contains(i)))
                {
                    ExpectedWarnings.Add("NIG0026");
                }
            }

            if (_layers.All(l => l.Scoring == Scoring.None))
            {
                ExpectedWarnings.Add("NIG0008");
            }
        }

        // PyTorch's rules for one layer given the shapes it reads: the NIG error a violation gets, or null.
        private static string? Check(GraphLayer layer, int[][] inputs)
        {
            var input = inputs[0];
            switch (layer.Kind)
            {
                case GraphKind.Dense:
                    return layer.Size < 1 ? "NIG0009" : input.Length != 1 ? "NIG0011" : null;
                case GraphKind.Flatten:
                    return null;
                case GraphKind.GlobalAvgPool or GraphKind.GlobalMaxPool:
                    return input.Length == 1 ? "NIG0012" : null;
                case GraphKind.BatchNorm:
                    return layer.Epsilon > 0 && double.IsFinite(layer.Epsilon) && layer.Momentum is >= 0 and <= 1 ? null : "NIG0009";
                case GraphKind.Dropout:
                    return layer.P is >= 0 and < 1 ? null : "NIG0009";
                case GraphKind.Add:
                    return inputs.All(s => s.SequenceEqual(input)) ? null : "NIG0022";
                case GraphKind.Concat:
                    return inputs.All(s => s.Length == input.Length && s.Skip(1).SequenceEqual(input.Skip(1))) ? null : "NIG0023";
            }

            if (input.Length == 1)
            {
                return "NIG0012";
            }

            int window, padding = layer.Padding;
            if (layer.Kind == GraphKind.Conv)
            {
                if (layer.Size < 1 || layer.Kernel < 0 || layer.Stride < 1 || layer.Padding < 0 || layer.Dilation < 1 || layer.Groups < 1)
                {
                    return "NIG0009";
                }

                if (layer.Kernel == 0)
                {
                    return "NIG0017";
                }

                if (input[0] % layer.Groups != 0 || layer.Size % layer.Groups != 0)
                {
                    return "NIG0024";
                }

                window = layer.Dilation * (layer.Kernel - 1) + 1;
            }
            else
            {
                if (layer.Size < 1 || layer.Stride < 0 || layer.Padding < 0)
                {
                    return "NIG0009";
                }

                if (2 * layer.Padding > layer.Size)
                {
                    return "NIG0025";
                }

                window = layer.Size;
            }

            return input.Skip(1).Any(d => window > d + 2 * padding) ? "NIG0010" : null;
        }

        private string Render()
        {
            var fields = _layers.Select(Field);
            string input = $"[Input({string.Join(", ", InputShape)})]";
            return $"using NigGen;\n\nnamespace {Namespace};\n\n[Network]\n{input}\npublic sealed partial class {ClassName}\n{{\n    {string.Join("\n    ", fields)}\n}}\n";
        }

        private static string Literal(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        private static string Expression(string name) => name == Input ? "Layer.Input" : name.StartsWith('l') ? $"nameof({name})" : $"\"{name}\"";

        private string Field(Declared declared)
        {
            var (layer, from, names, scoring, verbose) = declared;
            var positional = new List<string>();
            var named = new List<string>();
            void Named(string name, string value, bool isDefault)
            {
                if (!isDefault || verbose)
                {
                    named.Add($"{name} = {value}");
                }
            }

            string attribute = layer.Kind.ToString();
            bool hasActivation = layer.Kind is GraphKind.Dense or GraphKind.Conv or GraphKind.BatchNorm or GraphKind.Add or GraphKind.Concat;
            switch (layer.Kind)
            {
                case GraphKind.Dense:
                    positional.Add(layer.Size.ToString(CultureInfo.InvariantCulture));
                    break;
                case GraphKind.Conv:
                    positional.Add(layer.Size.ToString(CultureInfo.InvariantCulture));
                    if (layer.Kernel != 0)
                    {
                        named.Add($"Kernel = {layer.Kernel}");
                    }

                    Named("Stride", layer.Stride.ToString(CultureInfo.InvariantCulture), layer.Stride == 1);
                    Named("Padding", layer.Padding.ToString(CultureInfo.InvariantCulture), layer.Padding == 0);
                    Named("Dilation", layer.Dilation.ToString(CultureInfo.InvariantCulture), layer.Dilation == 1);
                    Named("Groups", layer.Groups.ToString(CultureInfo.InvariantCulture), layer.Groups == 1);
                    break;
                case GraphKind.MaxPool or GraphKind.AvgPool:
                    positional.Add(layer.Size.ToString(CultureInfo.InvariantCulture));
                    Named("Stride", layer.Stride.ToString(CultureInfo.InvariantCulture), layer.Stride == 0);
                    Named("Padding", layer.Padding.ToString(CultureInfo.InvariantCulture), layer.Padding == 0);
                    break;
                case GraphKind.BatchNorm:
                    Named("Epsilon", Literal(layer.Epsilon), layer.Epsilon == 1e-5);
                    Named("Momentum", Literal(layer.Momentum), layer.Momentum == 0.1);
                    Named("Affine", layer.Affine ? "true" : "false", layer.Affine);
                    break;
                case GraphKind.Dropout:
                    positional.Add(Literal(layer.P));
                    break;
                case GraphKind.Add or GraphKind.Concat:
                    positional.AddRange(names.Select(Expression));
                    break;
            }

            if (hasActivation)
            {
                Named("Activation", $"Activation.{layer.Activation}", layer.Activation == Activation.None);
            }

            if (layer.Kind is GraphKind.Dense or GraphKind.Conv)
            {
                Named("Bias", layer.Bias ? "true" : "false", layer.Bias);
            }

            if (layer.Weights is not null)
            {
                named.Add($"Weights = \"{layer.Weights}\"");
            }

            if (from is not null)
            {
                named.Add($"From = {Expression(from)}");
            }

            // Named arguments in any order, as users write them.
            var arguments = positional.Concat(named.OrderBy(_ => _random.Next())).ToList();
            string text = arguments.Count == 0 ? attribute : $"{attribute}({string.Join(", ", arguments)})";
            string scored = scoring switch { Scoring.Output => ", AttributeLayer", Scoring.PreActivation => ", AttributeLayer(PreActivation = true)", _ => "" };
            return $"[{text}{scored}] Layer {layer.Name};";
        }
    }
}
