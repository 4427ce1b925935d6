using System;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Xunit;

namespace NigGen.Serving.Tests;

/// <summary>API key, graceful shutdown, metrics and request logs.</summary>
public sealed class OperationsTests
{
    private const string KeyError = """{"error":"missing or wrong API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."}""";

    [Fact]
    public async Task TheApiKeyGuardsEverythingButHealth()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { ApiKey = "s3cret-key" });
        foreach (string path in new[] { "/v2", "/v2/models/TinyNet", "/v2/models/TinyNet/ready", "/metrics", "/v2/unknown" })
        {
            using var response = await server.Client.GetAsync(path);
            Assert.Equal(401, (int)response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal(KeyError, await response.Content.ReadAsStringAsync());
        }

        string json = Requests.Json(Requests.Samples(1, 1));
        foreach (var (header, value) in new[] { ("Authorization", "Bearer wrong"), ("X-API-Key", "s3cret-ke"), ("X-API-Key", "s3cret-key2"), ("Authorization", "s3cret-key") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Requests.TinyInfer) { Content = new StringContent(json) };
            request.Headers.TryAddWithoutValidation(header, value);
            using var response = await server.Client.SendAsync(request);
            Assert.Equal(401, (int)response.StatusCode);
            Assert.Equal(KeyError, await response.Content.ReadAsStringAsync());
        }

        foreach (var (header, value) in new[] { ("Authorization", "Bearer s3cret-key"), ("X-API-Key", "s3cret-key") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Requests.TinyInfer) { Content = new StringContent(json) };
            request.Headers.TryAddWithoutValidation(header, value);
            using var response = await server.Client.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
        }

        Assert.Equal(200, (await server.GetAsync("/v2/health/live")).Status);
        Assert.Equal(200, (await server.GetAsync("/v2/health/ready")).Status);
    }

    [Fact]
    public async Task ShutdownStopsAcceptingAndFinishesWhatIsInFlight()
    {
        var server = await TestServer.StartAsync();
        var release = new ManualResetEventSlim(false);
        var started = new SemaphoreSlim(0);
        server.Batcher.BatchStarting = (_, _) =>
        {
            started.Release();
            release.Wait(TimeSpan.FromSeconds(30));
        };

        var inputs = Requests.Samples(2, 4);
        var inFlight = server.PostAsync(Requests.TinyInfer, Requests.Json(inputs, ["importance"]));
        Assert.True(await started.WaitAsync(TimeSpan.FromSeconds(30)));

        // What SIGTERM does: the host stops; Kestrel refuses new connections and waits for the request in flight.
        var stopping = server.App.StopAsync();
        await BatchingTests.WaitFor(() => !server.Repository.Ready);
        using (var fresh = new HttpClient { BaseAddress = server.Address })
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => fresh.GetAsync("/v2/health/live"));
        }

        Assert.False(stopping.IsCompleted);
        release.Set();
        var (status, body) = await inFlight;
        Assert.Equal(200, status);
        Requests.AssertBitwise(InferenceTests.Library(inputs, Enumerable.Repeat(0.25f, TinyNet.InputLength).ToArray(), null, new AttributionOptions { Steps = 16 }).Importance,
            Requests.Output(body!, "importance"), "importance finished during shutdown");
        await stopping;
        Assert.Contains(server.Logs.Entries, e => e.EventId == 6 && e.Message == "Stopping: no new connections; finishing the requests in flight");
        await server.App.DisposeAsync();
    }

    [Fact]
    public async Task EachRequestIsOneStructuredLogLineAtTheConfiguredLevel()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { RequestLogLevel = LogLevel.Warning });
        Assert.Equal(200, (await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(2, 1), ["delta"], id: "log-1"))).Status);
        Assert.Equal(400, (await server.PostAsync(Requests.TinyInfer, "{}")).Status);
        var lines = server.Logs.Entries.Where(e => e.Category == "NigGen.Serving.Hosting.OpenInferenceEndpoints" && e.EventId is 1 or 2).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.Equal(LogLevel.Warning, l.Level));
        Assert.Matches(@"^TinyNet neuron_integrated_gradients 200 in \d+\.\d\d ms: 2 samples, queued \d+\.\d\d ms, batch of 2 samples from 1 requests, id log-1$", lines[0].Message);
        Assert.Equal("TinyNet 400: inputs is missing or empty: the request must send the tensor 'input'.", lines[1].Message);

        // Below the minimum level (the test servers log from Information up), request lines are not written.
        await using var quiet = await TestServer.StartAsync(new ServingOptions { RequestLogLevel = LogLevel.Debug });
        Assert.Equal(200, (await quiet.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)))).Status);
        Assert.DoesNotContain(quiet.Logs.Entries, e => e.EventId is 1 or 2);
    }

    [Fact]
    public void OptionsOutOfRangeAreRejectedByName()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => InferenceServer.Create([TestServer.TinyModel()], new ServingOptions { MaxBatchSize = 0 }));
        Assert.Equal("MaxBatchSize", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => InferenceServer.Create([TestServer.TinyModel()], new ServingOptions { MaxQueueDelay = TimeSpan.FromMilliseconds(-1) }));
        Assert.Equal("MaxQueueDelay", e.ParamName);
        var duplicate = Assert.Throws<ArgumentException>(() => InferenceServer.Create([TestServer.TinyModel(), TestServer.TinyModel()], new ServingOptions()));
        Assert.StartsWith("two models are named 'TinyNet'", duplicate.Message);
        var baseline = Assert.Throws<ArgumentException>(() => new ServedModel(TestServer.Tiny, new float[3]));
        Assert.StartsWith("the baseline has 3 values but TinyNet takes 32 per sample.", baseline.Message);
    }
}

/// <summary>
/// Metrics, alone: OpenTelemetry's exporter listens to every meter named NigGen.Serving in the process, so the counts
/// are exact only while no other test server runs.
/// </summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsTestsCollection;

[Collection(nameof(MetricsTests))]
public sealed class MetricsTests
{
    [Fact]
    public async Task MetricsCountRequestsByOutcomeWithLatencyQueueAndBatchHistograms()
    {
        await using var server = await TestServer.StartAsync();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(2, i), ["importance"]))).Status);
        }

        Assert.Equal(400, (await server.PostAsync(Requests.TinyInfer, "{")).Status);
        Assert.Equal(404, (await server.PostAsync("/v2/models/Nope/infer", "{}")).Status);

        string text = await server.Client.GetStringAsync("/metrics");
        Assert.Contains("# TYPE niggen_inference_requests_total counter", text);
        Assert.Contains("niggen_inference_requests_total{otel_scope_name=\"NigGen.Serving\",model=\"TinyNet\",outcome=\"ok\"} 3", text);
        Assert.Contains("niggen_inference_requests_total{otel_scope_name=\"NigGen.Serving\",model=\"TinyNet\",outcome=\"bad_request\"} 1", text);
        Assert.Contains("niggen_inference_requests_total{otel_scope_name=\"NigGen.Serving\",model=\"\",outcome=\"not_found\"} 1", text);
        Assert.Contains("# TYPE niggen_inference_duration_seconds histogram", text);
        Assert.Contains("niggen_inference_duration_seconds_count{otel_scope_name=\"NigGen.Serving\",model=\"TinyNet\",outcome=\"ok\"} 3", text);
        Assert.Contains("niggen_inference_queue_duration_seconds_count{otel_scope_name=\"NigGen.Serving\",model=\"TinyNet\"} 3", text);
        Assert.Contains("niggen_batch_samples_sum{otel_scope_name=\"NigGen.Serving\",method=\"neuron_integrated_gradients\",model=\"TinyNet\"} 6", text);
        Assert.Contains("niggen_batch_samples_bucket{otel_scope_name=\"NigGen.Serving\",method=\"neuron_integrated_gradients\",model=\"TinyNet\",le=\"2\"} 3", text);
        Assert.Contains("niggen_batch_requests_count{otel_scope_name=\"NigGen.Serving\",method=\"neuron_integrated_gradients\",model=\"TinyNet\"} 3", text);
        Assert.Contains("niggen_queue_length", text);
    }
}
