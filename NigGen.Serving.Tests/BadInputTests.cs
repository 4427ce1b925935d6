using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace NigGen.Serving.Tests;

/// <summary>Every kind of bad request gets the protocol's error object, the right status and a message naming the field.</summary>
public sealed class BadInputTests
{
    private static readonly string One = string.Join(",", Enumerable.Repeat("0.5", 32));

    public static TheoryData<string, string> BadRequests => new()
    {
        { "{\"inputs\":[", "malformed JSON: Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed. Path: $.inputs[0] | LineNumber: 0 | BytePositionInLine: 11." },
        { "", "malformed JSON: The input does not contain any JSON tokens. Expected the input to start with a valid JSON token, when isFinalBlock is true. Path: $ | LineNumber: 0 | BytePositionInLine: 0." },
        { "null", "the request body must be a JSON object (the protocol's $inference_request), not null." },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":\"x\"}]}", "malformed JSON: The JSON value could not be converted to System.Int64[]. Path: $.inputs[0].shape | LineNumber: 0 | BytePositionInLine: 38." },
        { "{\"inputs\":[],\"inputs\":[]}", "malformed JSON: Duplicate property 'inputs' encountered during deserialization of type 'NigGen.Serving.Protocol.InferenceRequestDto'." },
        { "{}", "inputs is missing or empty: the request must send the tensor 'input'." },
        { $"{{\"inputs\":[{{\"name\":\"x\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "inputs[0] is named 'x'; TinyNet takes 'input', and optionally 'baseline' and 'target'." },
        { $"{{\"inputs\":[{{\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "inputs[0] has no name; TinyNet takes 'input', and optionally 'baseline' and 'target'." },
        { $"{{\"inputs\":[{{\"name\":\"target\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[0]}}]}}", "inputs has no tensor named 'input'." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}},{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "inputs[1]: the tensor 'input' is sent twice." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP64\",\"data\":[{One}]}}]}}", "input: datatype is 'FP64'; it must be FP32." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"data\":[{One}]}}]}}", "input: datatype is missing; it must be FP32." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,16,2],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "input: shape [1, 16, 2] does not match [n, 2, 16] (TinyNet's input is [2, 16] per sample)." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[32],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "input: shape [32] does not match [n, 2, 16] (TinyNet's input is [2, 16] per sample)." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "input: shape is missing; it must be [n, 2, 16]." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[0,2,16],\"datatype\":\"FP32\",\"data\":[]}}]}}", "input: shape [0, 2, 16] has 0 samples; a request holds 1 to 256." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[2,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "input: data holds 32 values but shape [2, 2, 16] needs 64." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One},1]}}]}}", "input: data holds more than the 32 values its shape needs." },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\"}]}", "input: data is missing (send it as a JSON array, or as binary data with parameters.binary_data_size)." },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[0.5,\"NaN\"]}]}", "input.data[1] is \"NaN\": NaN and infinite values are not accepted; every value must be finite." },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[0.5,0.5,-Infinity]}]}", "malformed JSON: 'I' is invalid within a number, immediately after a sign character ('+' or '-'). Expected a digit ('0'-'9'). Path: $.inputs[0].data | LineNumber: 0 | BytePositionInLine: 79." },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[1e39]}]}", "input.data[0] is 1e39: outside FP32's range: it would be infinite, and every value must be finite." },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[true]}]}", "input.data[0] is true: not an FP32 number." },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[\"abc\"]}]}", "input.data[0] is \"abc\": a string, not an FP32 number." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}},{{\"name\":\"target\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[3]}}],\"outputs\":[{{\"name\":\"importance\"}}]}}", "target[0] = 3 is out of range: the model has 3 outputs, so a target is 0 to 2." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}},{{\"name\":\"target\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[-1]}}]}}", "target[0] = -1 is out of range: the model has 3 outputs, so a target is 0 to 2." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}},{{\"name\":\"target\",\"shape\":[1],\"datatype\":\"INT64\",\"data\":[1]}}]}}", "target: datatype is 'INT64'; it must be INT32." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}},{{\"name\":\"target\",\"shape\":[2],\"datatype\":\"INT32\",\"data\":[1,1]}}]}}", "target: shape [2] must be [1], one target per input sample." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}},{{\"name\":\"target\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1.5]}}]}}", "target.data[0] is 1.5: not an INT32 (a whole number from -2147483648 to 2147483647)." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[2,2,16],\"datatype\":\"FP32\",\"data\":[{One},{One}]}},{{\"name\":\"baseline\",\"shape\":[3,2,16],\"datatype\":\"FP32\",\"data\":[{One},{One},{One}]}}]}}", "baseline: shape [3, 2, 16] must have 1 or 2 samples (the input's), as [1, 2, 16] or [2, 2, 16]." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}],\"outputs\":[{{\"name\":\"logits\"}}]}}", "outputs[0] is named 'logits'; TinyNet gives 'output', 'importance' and 'delta'." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}],\"outputs\":[{{\"name\":\"delta\"}},{{\"name\":\"delta\"}}]}}", "outputs[1]: 'delta' is requested twice." },
        { $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}],\"outputs\":[]}}", "outputs is empty; name at least one of 'output', 'importance' and 'delta', or leave outputs out to get 'output'." },
        { $"{{\"parameters\":{{\"step\":5}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters has an unknown parameter 'step'; this server reads method, steps, rule, deeplift_rule, binary_data_output." },
        { $"{{\"parameters\":{{\"steps\":0}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters.steps is 0; it must be an integer from 1 to 1000." },
        { $"{{\"parameters\":{{\"steps\":\"50\"}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters.steps is \"50\"; it must be an integer from 1 to 1000." },
        { $"{{\"parameters\":{{\"steps\":1001}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters.steps is 1001; it must be an integer from 1 to 1000." },
        { $"{{\"parameters\":{{\"method\":\"saliency\"}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters.method is 'saliency'; it must be 'neuron_integrated_gradients' (the default) or 'deeplift'." },
        { $"{{\"parameters\":{{\"rule\":\"simpson\"}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters.rule is 'simpson'; it must be one of riemann_trapezoid, riemann_left, riemann_right, riemann_middle, gauss_legendre." },
        { $"{{\"parameters\":{{\"method\":\"deeplift\",\"steps\":20}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters.steps applies to method 'neuron_integrated_gradients', not 'deeplift'." },
        { $"{{\"parameters\":{{\"deeplift_rule\":\"rescale\"}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters.deeplift_rule applies to method 'deeplift'; set parameters.method to 'deeplift' to use it." },
        { $"{{\"parameters\":{{\"method\":\"deeplift\",\"deeplift_rule\":\"shapley\"}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters.deeplift_rule is 'shapley'; it must be one of rescale, reveal_cancel, genomics_default." },
        { $"{{\"parameters\":{{\"binary_data_output\":1}},\"inputs\":[{{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"data\":[{One}]}}]}}", "parameters.binary_data_output is 1; it must be true or false." },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":128}}]}", "input: parameters.binary_data_size is 128 bytes but only 0 bytes of binary data are left after byte 0 of it." },
        { "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2,16],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":12}}]}", "input: parameters.binary_data_size is 12 bytes but its shape needs 128." },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadRequestIs400WithAMessageNamingTheField(string json, string error)
    {
        await using var server = await TestServer.StartAsync();
        var (status, body) = await server.PostAsync(Requests.TinyInfer, json);
        Assert.Equal(error, (string?)body?["error"]);
        Assert.Equal(400, status);
        Assert.Single(body!.AsObject());

        // The server keeps serving.
        (status, _) = await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task ImportanceFromAModelWithoutAttributeLayersIs400()
    {
        await using var server = await TestServer.StartAsync();
        string json = """{"inputs":[{"name":"input","shape":[1,5],"datatype":"FP32","data":[1,2,3,4,5]}],"outputs":[{"name":"output"},{"name":"importance"}]}""";
        var (status, body) = await server.PostAsync("/v2/models/PlainNet/infer", json);
        Assert.Equal(400, status);
        Assert.Equal("outputs[1]: PlainNet has no [AttributeLayer], so it gives only 'output', not 'importance'.", (string)body!["error"]!);
        (status, body) = await server.PostAsync("/v2/models/PlainNet/infer", json.Replace(",{\"name\":\"importance\"}", ""));
        Assert.Equal(200, status);
        var expected = new float[2];
        TestServer.Plain.Forward([1, 2, 3, 4, 5], expected);
        Requests.AssertBitwise(expected, Requests.Output(body!, "output"), "PlainNet output");
    }

    [Fact]
    public async Task LeftoverBinaryDataAndABadHeaderAre400()
    {
        await using var server = await TestServer.StartAsync();
        string json = Requests.Json(Requests.Samples(1, 2));
        var bytes = Encoding.UTF8.GetBytes(json + "abcd");
        var content = new ByteArrayContent(bytes);
        content.Headers.Add("Inference-Header-Content-Length", Encoding.UTF8.GetByteCount(json).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await server.Client.PostAsync(Requests.TinyInfer, content);
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("""{"error":"the body has 4 bytes of binary data that no input's parameters.binary_data_size accounts for."}""", await response.Content.ReadAsStringAsync());

        var badHeader = new ByteArrayContent(bytes);
        badHeader.Headers.Add("Inference-Header-Content-Length", "99999");
        using var second = await server.Client.PostAsync(Requests.TinyInfer, badHeader);
        Assert.Equal(400, (int)second.StatusCode);
        Assert.Equal($$"""{"error":"the Inference-Header-Content-Length header is '99999'; it must be the JSON's length in bytes, at most the body's {{bytes.Length}}."}""", await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OverLargeBodiesAre413WithOrWithoutContentLength()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxRequestBodyBytes = 4096 });
        string json = Requests.Json(Requests.Samples(40, 3));
        var (status, body) = await server.PostAsync(Requests.TinyInfer, json);
        Assert.Equal(413, status);
        Assert.Equal($"the request body is {Encoding.UTF8.GetByteCount(json)} bytes; the server's limit is 4096 bytes.", (string)body!["error"]!);

        // Chunked: no Content-Length, so the limit is met while reading.
        var chunked = new StreamContent(new System.IO.MemoryStream(Encoding.UTF8.GetBytes(json)));
        using var request = new HttpRequestMessage(HttpMethod.Post, Requests.TinyInfer) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(413, (int)response.StatusCode);
        Assert.Equal("""{"error":"the request body is larger than the server's limit of 4096 bytes."}""", await response.Content.ReadAsStringAsync());

        (status, _) = await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task ANaNInBinaryDataIs400()
    {
        await using var server = await TestServer.StartAsync();
        string json = """{"inputs":[{"name":"input","shape":[1,2,16],"datatype":"FP32","parameters":{"binary_data_size":128}}]}""";
        var values = Requests.Samples(1, 4);
        values[9] = float.NaN;
        var bytes = Encoding.UTF8.GetBytes(json).Concat(values.SelectMany(System.BitConverter.GetBytes)).ToArray();
        var content = new ByteArrayContent(bytes);
        content.Headers.Add("Inference-Header-Content-Length", Encoding.UTF8.GetByteCount(json).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await server.Client.PostAsync(Requests.TinyInfer, content);
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("""{"error":"input.data[9] is NaN; every value must be finite."}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AFailingBatchIs500ForItsRequestsAndTheServerKeepsServing()
    {
        await using var server = await TestServer.StartAsync();
        int batches = 0;
        server.Batcher.BatchStarting = (_, _) =>
        {
            if (System.Threading.Interlocked.Increment(ref batches) == 1)
            {
                throw new System.InvalidOperationException("simulated kernel failure");
            }
        };

        var (status, body) = await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.Equal(500, status);
        Assert.Equal("the model failed on this batch: simulated kernel failure", (string)body!["error"]!);
        Assert.Contains(server.Logs.Entries, e => e.EventId == 3 && e.Level == Microsoft.Extensions.Logging.LogLevel.Error);
        (status, _) = await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task TooManySamplesInOneRequestIs400()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxSamplesPerRequest = 2 });
        var (status, body) = await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(3, 1)));
        Assert.Equal(400, status);
        Assert.Equal("input: shape [3, 2, 16] has 3 samples; a request holds 1 to 2.", (string)body!["error"]!);
    }
}
