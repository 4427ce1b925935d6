using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace NigGen.Serving.Tests;

/// <summary>Requests an independent review found mishandled, each answered with the protocol's error and the server still serving.</summary>
public sealed class ReviewedBadInputTests
{
    [Fact]
    public async Task Finite_inputs_that_overflow_the_network_are_a_400_naming_the_sample()
    {
        await using var server = await TestServer.StartAsync();
        const string json = """{"inputs":[{"name":"input","shape":[1,5],"datatype":"FP32","data":[-3.4e38,3.4e38,3.4e38,3.4e38,-3.4e38]}]}""";
        var (status, body) = await server.PostAsync("/v2/models/PlainNet/infer", json);
        Assert.Equal(400, status);
        Assert.StartsWith("the output of sample 0 is not finite", (string)body!["error"]!);
        (status, _) = await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Ragged_nested_data_is_a_400_even_when_its_total_matches()
    {
        await using var server = await TestServer.StartAsync();
        var values = Requests.Samples(1, 2);
        string ragged = "[[" + string.Join(",", values.Take(31).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "],[],[" +
            values[31].ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "]]";
        string json = $$"""{"inputs":[{"name":"input","shape":[1,2,16],"datatype":"FP32","data":[{{ragged}}]}]}""";
        var (status, body) = await server.PostAsync(Requests.TinyInfer, json);
        Assert.Equal(400, status);
        Assert.Equal("input.data[0][1] is an array of 0, but nested data must be rectangular: an array of 31 there, as the first element at that depth.", (string)body!["error"]!);

        // Rectangular nesting of the last dimensions only (2 arrays of 16 for shape [1, 2, 16]) is read in row-major order.
        string rows = "[" + string.Join(",", Enumerable.Range(0, 2).Select(r => "[" + string.Join(",", values.Skip(16 * r).Take(16).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]")) + "]";
        (status, body) = await server.PostAsync(Requests.TinyInfer, $$"""{"inputs":[{"name":"input","shape":[1,2,16],"datatype":"FP32","data":{{rows}}}]}""");
        Assert.Equal(200, status);
        var (flatStatus, flat) = await server.PostAsync(Requests.TinyInfer, Requests.Json(values));
        Assert.Equal(200, flatStatus);
        Assert.Equal(flat!["outputs"]!.ToJsonString(), body!["outputs"]!.ToJsonString());
    }

    [Fact]
    public async Task An_over_large_body_with_a_Content_Length_gets_its_413()
    {
        // The body is read and thrown away (up to twice the limit), so that a client that does not wait for
        // 100-continue receives the answer instead of a broken pipe.
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxRequestBodyBytes = 256 * 1024 });
        var bytes = new byte[400 * 1024];
        using var response = await server.Client.PostAsync(Requests.TinyInfer, new ByteArrayContent(bytes));
        Assert.Equal(413, (int)response.StatusCode);
        Assert.Equal("""{"error":"the request body is 409600 bytes; the server's limit is 262144 bytes."}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Bodies_held_at_once_stay_within_the_budget_and_a_claimed_length_allocates_nothing()
    {
        // One upload stalls after 3 KB of a claimed 4 KB; a second one of 3 KB would take the bodies held to 6 KB,
        // over a 5 KB budget: it is a 503 with Retry-After, and once the first upload finishes the server serves again.
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxRequestBodyBytes = 4096, MaxBufferedRequestBytes = 5 * 1024 });
        var release = new TaskCompletionSource();
        var stalled = new StalledContent(3 * 1024, 4 * 1024, release.Task);
        var first = server.Client.PostAsync(Requests.TinyInfer, stalled);
        await stalled.Sent.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(200); // the server has read what was sent

        using var second = await server.Client.PostAsync(Requests.TinyInfer, new ByteArrayContent(Encoding.UTF8.GetBytes(new string(' ', 3 * 1024))));
        Assert.Equal(503, (int)second.StatusCode);
        Assert.NotNull(second.Headers.RetryAfter);
        Assert.Contains("more request bodies at once than its limit of 5120 bytes", await second.Content.ReadAsStringAsync());

        release.SetResult();
        using var firstResponse = await first;
        Assert.Equal(400, (int)firstResponse.StatusCode); // spaces are not a request; what matters is that it was read
        var (status, _) = await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.Equal(200, status);
    }

    // Sends `first` spaces, waits for `release`, then the rest of a body of `total` bytes (with its Content-Length).
    private sealed class StalledContent(int first, int total, Task release) : HttpContent
    {
        public TaskCompletionSource Sent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(new string(' ', first)));
            await stream.FlushAsync();
            Sent.SetResult();
            await release;
            await stream.WriteAsync(Encoding.UTF8.GetBytes(new string(' ', total - first)));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = total;
            return true;
        }
    }
}
