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
