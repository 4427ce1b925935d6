using System;
using System.Buffers.Binary;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Xunit;

namespace NigGen.Serving.Tests;

/// <summary>Inference answers are the library's numbers, bit for bit, for every way of asking.</summary>
public sealed class InferenceTests
{
    private static readonly float[] TinyBaseline = Enumerable.Repeat(0.25f, TinyNet.InputLength).ToArray();
    private static readonly AttributionOptions TinyOptions = new() { Steps = 16 };

    [Fact]
    public async Task OutputAloneIsTheForwardPassAndEchoesTheId()
    {
        await using var server = await TestServer.StartAsync();
        var inputs = Requests.Samples(3, seed: 1);
        var (status, body) = await server.PostAsync(Requests.TinyInfer, Requests.Json(inputs, id: "req-7"));
        Assert.Equal(200, status);
        Assert.Equal("TinyNet", (string)body!["model_name"]!);
        Assert.Equal("1", (string)body["model_version"]!);
        Assert.Equal("req-7", (string)body["id"]!);
        Assert.Null(body["parameters"]);
        Assert.Equal(["output"], body["outputs"]!.AsArray().Select(o => (string)o!["name"]!).ToArray());
        Assert.Equal([3, 3], Requests.Shape(body, "output"));
        var expected = new float[3 * TinyNet.OutputLength];
        TestServer.Tiny.Forward(inputs, expected);
        Requests.AssertBitwise(expected, Requests.Output(body, "output"), "output");
    }

    [Fact]
    public async Task NeuronIntegratedGradientsWithDefaultTargetsIsTheLibrarysSingleCall()
    {
        await using var server = await TestServer.StartAsync();
        var inputs = Requests.Samples(4, seed: 2);
        var (status, body) = await server.PostAsync(Requests.TinyInfer, Requests.Json(inputs, ["delta", "importance", "output"]));
        Assert.Equal(200, status);
        Assert.Equal(["delta", "importance", "output"], body!["outputs"]!.AsArray().Select(o => (string)o!["name"]!).ToArray());
        Assert.Equal("""{"method":"neuron_integrated_gradients","steps":16,"rule":"riemann_trapezoid"}""", body["parameters"]!.ToJsonString());
        Assert.Equal([4, TinyNet.ImportanceLength], Requests.Shape(body, "importance"));
        Assert.Equal([4], Requests.Shape(body, "delta"));
        var (importance, deltas) = Library(inputs, TinyBaseline, targets: null, TinyOptions);
        Requests.AssertBitwise(importance, Requests.Output(body, "importance"), "importance");
        Requests.AssertBitwise(deltas, Requests.Output(body, "delta"), "delta");
    }

    [Fact]
    public async Task TargetsBaselinesStepsAndRuleAreHonoured()
    {
        await using var server = await TestServer.StartAsync();
        var inputs = Requests.Samples(2, seed: 3);
        var baselines = Requests.Samples(2, seed: 4);
        string extra = Requests.Tensor("baseline", [2, 2, 16], baselines) + ",{\"name\":\"target\",\"shape\":[2],\"datatype\":\"INT32\",\"data\":[2,0]}";
        var (status, body) = await server.PostAsync(Requests.TinyInfer,
            Requests.Json(inputs, ["importance", "delta"], """{"steps":9,"rule":"gauss_legendre"}""", extra));
        Assert.Equal(200, status);
        var options = new AttributionOptions { Steps = 9, Rule = IntegrationRule.GaussLegendre };
        var (importance, deltas) = Library(inputs, baselines, [2, 0], options);
        Requests.AssertBitwise(importance, Requests.Output(body!, "importance"), "importance");
        Requests.AssertBitwise(deltas, Requests.Output(body!, "delta"), "delta");

        // One baseline for every sample, given as [1, 2, 16].
        var single = Requests.Samples(1, seed: 5);
        (status, body) = await server.PostAsync(Requests.TinyInfer, Requests.Json(inputs, ["importance"], extraInputs: Requests.Tensor("baseline", [1, 2, 16], single)));
        Assert.Equal(200, status);
        Requests.AssertBitwise(Library(inputs, single, null, TinyOptions).Importance, Requests.Output(body!, "importance"), "importance (one baseline)");
    }

    [Theory]
    [InlineData("rescale", DeepLiftRule.Rescale)]
    [InlineData("reveal_cancel", DeepLiftRule.RevealCancel)]
    [InlineData("genomics_default", DeepLiftRule.GenomicsDefault)]
    public async Task DeepLiftIsTheLibrarysDeepLift(string ruleName, DeepLiftRule rule)
    {
        await using var server = await TestServer.StartAsync();
        var inputs = Requests.Samples(5, seed: 6);
        var (status, body) = await server.PostAsync(Requests.TinyInfer,
            Requests.Json(inputs, ["importance", "delta"], $$"""{"method":"deeplift","deeplift_rule":"{{ruleName}}"}"""));
        Assert.Equal(200, status);
        Assert.Equal($$"""{"method":"deeplift","deeplift_rule":"{{ruleName}}"}""", body!["parameters"]!.ToJsonString());
        var logits = new float[5 * TinyNet.OutputLength];
        TestServer.Tiny.Forward(inputs, logits);
        for (int s = 0; s < 5; s++)
        {
            var importance = new float[TinyNet.ImportanceLength];
            float delta = TestServer.Tiny.DeepLift(inputs.AsSpan(s * TinyNet.InputLength, TinyNet.InputLength), TinyBaseline, ArgMax(logits, s), importance, rule);
            Requests.AssertBitwise(importance, Requests.Output(body, "importance").AsSpan(s * TinyNet.ImportanceLength, TinyNet.ImportanceLength), $"importance of sample {s}");
            Requests.AssertBitwise([delta], Requests.Output(body, "delta").AsSpan(s, 1), $"delta of sample {s}");
        }
    }

    [Fact]
    public async Task NestedDataInTheTensorsShapeReadsAsFlatData()
    {
        await using var server = await TestServer.StartAsync();
        var inputs = Requests.Samples(2, seed: 7);
        string R(float v) => v.ToString("R", CultureInfo.InvariantCulture);
        string nested = "[" + string.Join(",", Enumerable.Range(0, 2).Select(s => "[" + string.Join(",", Enumerable.Range(0, 2).Select(c =>
            "[" + string.Join(",", Enumerable.Range(0, 16).Select(p => R(inputs[s * 32 + c * 16 + p]))) + "]")) + "]")) + "]";
        string json = $$"""{"inputs":[{"name":"input","shape":[2,2,16],"datatype":"FP32","data":{{nested}}}]}""";
        var (status, body) = await server.PostAsync(Requests.TinyInfer, json);
        Assert.Equal(200, status);
        var expected = new float[2 * TinyNet.OutputLength];
        TestServer.Tiny.Forward(inputs, expected);
        Requests.AssertBitwise(expected, Requests.Output(body!, "output"), "output");
    }

    [Fact]
    public async Task BinaryTensorDataInAndOut()
    {
        await using var server = await TestServer.StartAsync();
        var inputs = Requests.Samples(3, seed: 8);
        string json = """{"inputs":[{"name":"input","shape":[3,2,16],"datatype":"FP32","parameters":{"binary_data_size":384}}],"outputs":[{"name":"importance","parameters":{"binary_data":true}},{"name":"delta"}]}""";
        var jsonBytes = Encoding.UTF8.GetBytes(json);
        var body = new byte[jsonBytes.Length + inputs.Length * 4];
        jsonBytes.CopyTo(body, 0);
        for (int i = 0; i < inputs.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(body.AsSpan(jsonBytes.Length + i * 4), inputs[i]);
        }

        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", jsonBytes.Length.ToString(CultureInfo.InvariantCulture));
        using var response = await server.Client.PostAsync(Requests.TinyInfer, content);
        Assert.Equal(200, (int)response.StatusCode);
        int headerLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), CultureInfo.InvariantCulture);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var header = JsonNode.Parse(bytes.AsSpan(0, headerLength))!;
        var importanceOutput = header["outputs"]![0]!;
        Assert.Equal("""{"binary_data_size":864}""", importanceOutput["parameters"]!.ToJsonString());
        Assert.Null(importanceOutput["data"]);
        Assert.Equal(headerLength + 864, bytes.Length);
        var importance = new float[3 * TinyNet.ImportanceLength];
        for (int i = 0; i < importance.Length; i++)
        {
            importance[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(headerLength + i * 4));
        }

        var (expected, deltas) = Library(inputs, TinyBaseline, null, TinyOptions);
        Requests.AssertBitwise(expected, importance, "binary importance");
        Requests.AssertBitwise(deltas, Requests.Output(header, "delta"), "delta");
    }

    [Fact]
    public async Task AllOutputsAsBinaryWithTheRequestParameter()
    {
        await using var server = await TestServer.StartAsync();
        var inputs = Requests.Samples(1, seed: 9);
        using var response = await server.PostJsonAsync(Requests.TinyInfer, Requests.Json(inputs, ["output", "delta"], """{"binary_data_output":true}"""));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.MediaType);
        int headerLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), CultureInfo.InvariantCulture);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(headerLength + (3 + 1) * 4, bytes.Length);
        var logits = new float[3];
        TestServer.Tiny.Forward(inputs, logits);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(logits[i]), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(headerLength + i * 4)));
        }
    }

    internal static (float[] Importance, float[] Deltas) Library(float[] inputs, float[] baselines, int[]? targets, AttributionOptions options)
    {
        int n = inputs.Length / TinyNet.InputLength;
        var logits = new float[n * TinyNet.OutputLength];
        TestServer.Tiny.Forward(inputs, logits);
        var importance = new float[n * TinyNet.ImportanceLength];
        var deltas = new float[n];
        for (int s = 0; s < n; s++)
        {
            var baseline = baselines.Length == TinyNet.InputLength ? baselines : baselines.AsSpan(s * TinyNet.InputLength, TinyNet.InputLength).ToArray();
            deltas[s] = TestServer.Tiny.NeuronIntegratedGradients(inputs.AsSpan(s * TinyNet.InputLength, TinyNet.InputLength), baseline,
                targets?[s] ?? ArgMax(logits, s), importance.AsSpan(s * TinyNet.ImportanceLength, TinyNet.ImportanceLength), options);
        }

        return (importance, deltas);
    }

    internal static int ArgMax(float[] logits, int sample)
    {
        int best = 0;
        for (int i = 1; i < TinyNet.OutputLength; i++)
        {
            if (logits[sample * TinyNet.OutputLength + i] > logits[sample * TinyNet.OutputLength + best])
            {
                best = i;
            }
        }

        return best;
    }
}
