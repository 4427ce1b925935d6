using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Xunit;

namespace NigGen.Serving.Tests;

/// <summary>
/// Ten thousand random and mutated requests against a real server: every answer is a result or the protocol's error
/// object with a 4xx status, the server never fails internally, and well-formed requests give the same bytes before
/// and after.
/// </summary>
public sealed class FuzzTests
{
    private const int Requests = 10_000;
    private const int Clients = 8;

    private static readonly string[] Paths =
    [
        "/v2/models/TinyNet/infer", "/v2/models/TinyNet/versions/1/infer", "/v2/models/PlainNet/infer", "/v2/models/tinynet/infer",
        "/v2/models/TinyNet/versions/0/infer", "/v2/models//infer", "/v2/models/TinyNet", "/v2", "/v2/health/ready", "/metrics", "/v3/x",
    ];

    private static readonly string[] Fragments =
    [
        "{", "}", "[", "]", ",", ":", "\"", "null", "true", "-", "1e39", "-0", "NaN", "\"NaN\"", "\"Infinity\"", "1.5", "-7", "2147483648",
        "\"input\"", "\"baseline\"", "\"target\"", "\"importance\"", "\"delta\"", "\"output\"", "\"FP32\"", "\"INT32\"", "\"shape\"", "\"data\"",
        "\"parameters\"", "\"steps\"", "\"method\"", "\"deeplift\"", "\"binary_data_size\"", "\"binary_data\"", "[[[[[[[[", "\\u0000", "\u00e9",
    ];

    [Fact]
    public async Task TenThousandRandomAndMutatedRequestsLeaveWellFormedAnswersBitIdentical()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxRequestBodyBytes = 64 * 1024, MaxSteps = 64, MaxQueueDelay = TimeSpan.Zero });
        var wellFormed = WellFormed();
        var before = await Task.WhenAll(wellFormed.Select(r => Send(server, r.Path, r.Body, r.Header)));
        Assert.All(before, a => Assert.Equal(200, a.Status));

        var statuses = new int[600];
        var failures = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async client =>
        {
            var random = new Random(1000 + client);
            for (int i = client; i < Requests; i += Clients)
            {
                var (path, body, header) = Next(random, wellFormed);
                var (status, text) = await Send(server, path, body, header);
                lock (statuses)
                {
                    statuses[status]++;
                    string? problem = Check(status, text);
                    if (problem is not null && failures.Count < 5)
                    {
                        failures.Add($"{problem}: {(int)status} for {path} {Encoding.UTF8.GetString(body).Take(300).Aggregate(new StringBuilder(), (s, c) => s.Append(c))}");
                    }
                }
            }
        }));

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(Requests, statuses.Sum());
        Assert.Equal(0, statuses[500]);
        Assert.True(statuses[200] > 100 && statuses[400] > 1000, $"200: {statuses[200]}, 400: {statuses[400]}: the fuzz should reach both the model and the checks");
        Assert.DoesNotContain(server.Logs.Entries, e => e.EventId is 3 or 4);

        var after = await Task.WhenAll(wellFormed.Select(r => Send(server, r.Path, r.Body, r.Header)));
        for (int i = 0; i < wellFormed.Length; i++)
        {
            Assert.Equal(200, after[i].Status);
            Assert.True(before[i].Text == after[i].Text, $"well-formed request {i} answered differently after the fuzz");
        }
    }

    /// <summary>Null when the answer is acceptable: a result, or an error object with a 4xx status (or 503 when the queue is full).</summary>
    private static string? Check(int status, string text)
    {
        if (status is not (200 or 400 or 401 or 404 or 405 or 413 or 503))
        {
            return "unexpected status";
        }

        if (status == 200)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.String && error.GetString()!.Length > 0 && document.RootElement.EnumerateObject().Count() == 1
                ? null
                : "not an error object";
        }
        catch (JsonException)
        {
            return "error body is not JSON";
        }
    }

    private static (string Path, byte[] Body, int? Header) Next(Random random, (string Path, byte[] Body, int? Header)[] wellFormed)
    {
        var seed = wellFormed[random.Next(wellFormed.Length)];
        string path = random.Next(10) == 0 ? Paths[random.Next(Paths.Length)] : seed.Path;
        int kind = random.Next(10);
        if (kind == 0)
        {
            // Random bytes, or random protocol-looking tokens.
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            return (path, bytes, null);
        }

        if (kind == 1)
        {
            var text = new StringBuilder();
            for (int i = random.Next(1, 40); i > 0; i--)
            {
                text.Append(Fragments[random.Next(Fragments.Length)]);
            }

            return (path, Encoding.UTF8.GetBytes(text.ToString()), null);
        }

        // Mutations of a well-formed request: a few edits of its text, each a deletion, an insertion, a replacement,
        // a duplication or a truncation; sometimes a wrong binary header.
        var body = seed.Body.ToList();
        for (int edits = random.Next(1, 4); edits > 0 && body.Count > 0; edits--)
        {
            int at = random.Next(body.Count);
            switch (random.Next(6))
            {
                case 0:
                    body.RemoveRange(at, Math.Min(random.Next(1, 8), body.Count - at));
                    break;
                case 1:
                    body.InsertRange(at, Encoding.UTF8.GetBytes(Fragments[random.Next(Fragments.Length)]));
                    break;
                case 2:
                    body[at] = (byte)random.Next(32, 127);
                    break;
                case 3:
                    int length = Math.Min(random.Next(1, 64), body.Count - at);
                    body.InsertRange(at, body.GetRange(at, length));
                    break;
                case 4:
                    body.RemoveRange(at, body.Count - at);
                    break;
                default:
                    // A number replaced by another: out-of-range targets, huge shapes, non-finite or negative values.
                    string[] numbers = ["-1", "3", "0", "257", "1e39", "-1e39", "99999999999", "0.5", "64", "65"];
                    body.InsertRange(at, Encoding.UTF8.GetBytes(numbers[random.Next(numbers.Length)]));
                    break;
            }
        }

        int? header = seed.Header is int h ? (random.Next(4) == 0 ? random.Next(-5, body.Count + 5) : Math.Min(h, body.Count)) : (random.Next(30) == 0 ? random.Next(0, body.Count + 1) : null);
        return (path, body.ToArray(), header);
    }

    private static (string Path, byte[] Body, int? Header)[] WellFormed()
    {
        var requests = new List<(string, byte[], int?)>();
        var one = Tests.Requests.Samples(1, 1);
        var three = Tests.Requests.Samples(3, 2);
        requests.Add((Tests.Requests.TinyInfer, Encoding.UTF8.GetBytes(Tests.Requests.Json(one)), null));
        requests.Add((Tests.Requests.TinyInfer, Encoding.UTF8.GetBytes(Tests.Requests.Json(three, ["importance", "delta", "output"], id: "w2")), null));
        requests.Add((Tests.Requests.TinyInfer, Encoding.UTF8.GetBytes(Tests.Requests.Json(three, ["importance", "delta"], """{"method":"deeplift","deeplift_rule":"reveal_cancel"}""")), null));
        requests.Add((Tests.Requests.TinyInfer, Encoding.UTF8.GetBytes(Tests.Requests.Json(one, ["delta"], """{"steps":5,"rule":"riemann_left"}""",
            Tests.Requests.Tensor("baseline", [1, 2, 16], Tests.Requests.Samples(1, 3)) + ",{\"name\":\"target\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1]}")), null));
        requests.Add(("/v2/models/PlainNet/infer", Encoding.UTF8.GetBytes("""{"inputs":[{"name":"input","shape":[2,5],"datatype":"FP32","data":[[1,2,3,4,5],[-1,0.5,0,2,3]]}]}"""), null));

        // Binary input and output.
        string json = """{"inputs":[{"name":"input","shape":[1,2,16],"datatype":"FP32","parameters":{"binary_data_size":128}}],"outputs":[{"name":"importance","parameters":{"binary_data":true}}]}""";
        var body = Encoding.UTF8.GetBytes(json).Concat(one.SelectMany(BitConverter.GetBytes)).ToArray();
        requests.Add(("/v2/models/TinyNet/versions/1/infer", body, Encoding.UTF8.GetByteCount(json)));
        return [.. requests];
    }

    private static async Task<(int Status, string Text)> Send(TestServer server, string path, byte[] body, int? header)
    {
        using var content = new ByteArrayContent(body);
        if (header is int length)
        {
            content.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", length.ToString(CultureInfo.InvariantCulture));
        }

        using var response = await server.Client.PostAsync(path, content);
        return ((int)response.StatusCode, Convert.ToBase64String(await response.Content.ReadAsByteArrayAsync()) is var b64 && response.Content.Headers.ContentType?.MediaType == "application/octet-stream"
            ? b64
            : await response.Content.ReadAsStringAsync());
    }
}
