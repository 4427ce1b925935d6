using System;
using System.IO;
using System.Linq;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using NigGen.Tests.Generator;
using Xunit;

namespace NigGen.Tests.Reliability;

/// <summary>The smallest declarations of the bugs the random graphs of <see cref="GraphFuzzTests"/> found, one test each.</summary>
public sealed class GraphFuzzFindingsTests
{
    [Theory]
    [InlineData("[Flatten(From = Layer.Input)] Layer output;")]
    [InlineData("[Dropout(0.5, From = Layer.Input)] Layer output;")]
    public void An_output_that_is_the_input_is_copied_even_beside_other_layers(string outputField)
    {
        // Found by the random graphs: Forward returned zeros when the output layer aliases the network input (Flatten or
        // Dropout of Layer.Input) while other layers own buffers; it read the workspace's input rows, which only the
        // runtime's paths fill.
        string source = $"using NigGen;\nnamespace Findings.Alias;\n[Network]\n[Input(2, 3)]\npublic sealed partial class Net\n{{\n    [Conv(2, Kernel = 1), AttributeLayer] Layer branch;\n    {outputField}\n}}\n";
        WithCompiled([source], assembly =>
        {
            var network = (INetwork)assembly.GetType("Findings.Alias.Net", throwOnError: true)!.GetMethod("CreateRandom")!.Invoke(null, [1])!;
            var input = Enumerable.Range(0, 3 * 6).Select(i => i - 7.5f).ToArray();
            var output = new float[input.Length];
            network.Forward(input, output);
            Assert.Equal(input, output);
            network.Forward(input, output = new float[input.Length], maxDegreeOfParallelism: 2);
            Assert.Equal(input, output);
        });
    }

    [Theory]
    [InlineData("1, 1, 2")]
    [InlineData("1, 2")]
    [InlineData("2, 3, 2")]
    public void A_dilated_tap_that_sees_only_padding_reads_zeros(string inputShape)
    {
        // Found by the random graphs: with Padding = 3 and Dilation = 3 the first tap of a 3-wide kernel sees only padding
        // on an input of height 1 or width 2. The im2col of dilated and grouped convolutions took the first valid output
        // row of that tap, 3, past the output's last row: rows past the buffer were cleared and a negative length threw.
        int[] shape = inputShape.Split(", ").Select(int.Parse).ToArray();
        string source = $"using NigGen;\nnamespace Findings.Dilated{shape.Length}x{shape[0]};\n[Network]\n[Input({inputShape})]\npublic sealed partial class Net\n{{\n"
            + $"    [Conv(2, Kernel = 3, Padding = 3, Dilation = 3, Groups = {shape[0]}), AttributeLayer] Layer conv;\n}}\n";
        var layer = new GraphLayer("conv", GraphKind.Conv, [-1]) { Size = 2, Kernel = 3, Padding = 3, Dilation = 3, Groups = shape[0] };
        var reference = new GraphReference(shape, [layer], seed: 5);
        WithCompiled([source], assembly =>
        {
            var load = assembly.GetType($"Findings.Dilated{shape.Length}x{shape[0]}.Net", throwOnError: true)!.GetMethod("Load", [typeof(Stream)])!;
            var network = (INetwork)load.Invoke(null, [reference.ToSafetensors()])!;
            var input = Enumerable.Range(0, reference.InputLength).Select(i => 0.5f - 0.25f * i).ToArray();
            var output = new float[reference.OutputLength];
            network.Forward(input, output);
            var expected = reference.Forward(input.Select(v => (double)v).ToArray());
            Assert.Equal(expected.Length, output.Length);
            for (int o = 0; o < output.Length; o++)
            {
                Assert.True(Math.Abs(output[o] - expected[o]) < 1e-5, $"output {o}: {output[o]}, reference {expected[o]}");
            }

            // The gradient's col2im walks the same taps; the layer is linear, so one-sided differences are exact.
            var gradient = new float[reference.InputLength];
            network.InputGradient(input, 0, gradient);
            for (int i = 0; i < input.Length; i++)
            {
                var moved = input.Select((v, j) => j == i ? v + 1.0 : v).ToArray();
                double derivative = reference.Forward(moved)[0] - expected[0];
                Assert.True(Math.Abs(gradient[i] - derivative) < 1e-5, $"gradient {i}: {gradient[i]}, reference {derivative}");
            }
        });
    }

    [Fact]
    public void An_attribute_layer_that_aliases_a_shared_tensor_scores_only_its_own_paths()
    {
        // Found by the random graphs. F = head · (tanh(fc · x) + drop) with drop = x: the conductance through drop alone,
        // ∂F/∂drop_i · (x_i − x'_i) = head_i · (x_i − x'_i) (as Captum's LayerConductance, which hooks the layer's own
        // output), since F is linear in drop. NigGen adds the path through fc, as drop's gradient is the input's.
        const string Source = "using NigGen;\nnamespace Findings.SharedAlias;\n[Network]\n[Input(3)]\npublic sealed partial class Net\n{\n"
            + "    [Dropout(0.5), AttributeLayer] Layer drop;\n    [Dense(3, Activation = Activation.Tanh, From = Layer.Input)] Layer fc;\n"
            + "    [Add(nameof(fc), nameof(drop))] Layer sum;\n    [Dense(1)] Layer head;\n}\n";
        var writer = new NigGen.Weights.SafetensorsWriter();
        writer.Add("fc.weight", [3, 3], [0.5f, -0.25f, 0.75f, 0.1f, 0.2f, -0.3f, -0.6f, 0.4f, 0.9f]);
        writer.Add("fc.bias", [3], [0.1f, -0.2f, 0.3f]);
        writer.Add("head.weight", [1, 3], [1f, 2f, -3f]);
        writer.Add("head.bias", [1], [0.5f]);
        var weights = new MemoryStream();
        writer.WriteTo(weights);
        weights.Position = 0;
        WithCompiled([Source], assembly =>
        {
            var load = assembly.GetType("Findings.SharedAlias.Net", throwOnError: true)!.GetMethod("Load", [typeof(Stream)])!;
            var network = (IAttributedNetwork)load.Invoke(null, [weights])!;
            float[] input = [0.8f, -0.4f, 0.6f], baseline = [0.1f, 0.2f, -0.3f];
            float[] head = [1f, 2f, -3f];
            var options = new AttributionOptions { Steps = 8 };
            var importance = new float[3];
            var unoptimised = new float[3];
            network.NeuronIntegratedGradients(input, baseline, 0, importance, options);
            network.NeuronIntegratedGradients(input, baseline, 0, unoptimised, options with { Unoptimised = true });
            for (int i = 0; i < 3; i++)
            {
                float expected = head[i] * (input[i] - baseline[i]);
                Assert.True(Math.Abs(importance[i] - expected) < 1e-5, $"neuron {i}: {importance[i]}, expected {expected}");
                Assert.True(Math.Abs(unoptimised[i] - expected) < 1e-5, $"neuron {i}, unoptimised: {unoptimised[i]}, expected {expected}");
            }

            // Ablating drop's neuron 0 fixes drop alone: fc, declared after it, still reads the input (ablation writes the
            // input's buffer, so fc read the ablated value).
            var output = new float[1];
            network.Ablate(input, baseline, [0], output);
            var full = new float[1];
            network.Forward(input, full);
            float ablated = full[0] - head[0] * (input[0] - baseline[0]);
            Assert.True(Math.Abs(output[0] - ablated) < 1e-5, $"ablated: {output[0]}, expected {ablated}");
        });
    }

    /// <summary>Generates and compiles <paramref name="sources"/>, and loads them into a collectible context, unloaded afterwards.</summary>
    internal static void WithCompiled(string[] sources, Action<System.Reflection.Assembly> use)
    {
        var run = GeneratorHarness.Run(sources);

        // Emit binds every method and reports every error: a separate GetDiagnostics pass would double the cost.
        var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        Assert.True(emitted.Success, "the generated code does not compile:\n" + string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)) + "\n" + string.Join("\n", sources));

        var context = new AssemblyLoadContext("GraphFuzz", isCollectible: true);
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
}
