using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using NigGen.Serving.Batching;
using Xunit;

namespace NigGen.Serving.Tests;

/// <summary>The dynamic batcher: many clients at once get the library's numbers; batches form as configured; clients that leave cancel their share.</summary>
public sealed class BatchingTests
{
    private static readonly float[] TinyBaseline = Enumerable.Repeat(0.25f, TinyNet.InputLength).ToArray();

    /// <summary>Holds every batch until released, and records each batch's samples and requests.</summary>
    private sealed class BatchGate
    {
        private readonly ManualResetEventSlim _open = new(false);

        public ConcurrentQueue<(int Samples, int Requests)> Batches { get; } = new();

        public SemaphoreSlim Started { get; } = new(0);

        public void Attach(TestServer server) => server.Batcher.BatchStarting = (samples, requests) =>
        {
            Batches.Enqueue((samples, requests));
            Started.Release();
            _open.Wait(TimeSpan.FromSeconds(30));
        };

        public void Open() => _open.Set();
    }

    [Fact]
    public async Task SixtyFourConcurrentClientsGetTheLibrarysNumbersBitForBit()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxBatchSize = 16 });
        const int clients = 64;
        var tasks = Enumerable.Range(0, clients).Select(async c =>
        {
            var inputs = Requests.Samples(1 + c % 3, seed: 100 + c);
            // Two kinds of request: they are batched apart (different options) and must not mix.
            string parameters = c % 2 == 0 ? """{"steps":16}""" : """{"steps":7,"rule":"riemann_middle"}""";
            var (status, body) = await server.PostAsync(Requests.TinyInfer, Requests.Json(inputs, ["importance", "delta", "output"], parameters, id: $"c{c}"));
            return (c, inputs, status, body);
        }).ToArray();

        foreach (var (c, inputs, status, body) in await Task.WhenAll(tasks))
        {
            Assert.Equal(200, status);
            Assert.Equal($"c{c}", (string)body!["id"]!);
            var options = c % 2 == 0 ? new AttributionOptions { Steps = 16 } : new AttributionOptions { Steps = 7, Rule = IntegrationRule.RiemannMiddle };
            var (importance, deltas) = InferenceTests.Library(inputs, TinyBaseline, null, options);
            Requests.AssertBitwise(importance, Requests.Output(body, "importance"), $"client {c} importance");
            Requests.AssertBitwise(deltas, Requests.Output(body, "delta"), $"client {c} delta");
            var logits = new float[inputs.Length / TinyNet.InputLength * TinyNet.OutputLength];
            TestServer.Tiny.Forward(inputs, logits);
            Requests.AssertBitwise(logits, Requests.Output(body, "output"), $"client {c} output");
        }
    }

    [Fact]
    public async Task BatchesOnReusedPooledArraysGiveTheLibrarysNumbers()
    {
        // Each batch's arrays come from a pool and are longer than the batch; a later, smaller batch gets arrays that
        // still hold an earlier batch's numbers. Every answer must still be exactly the library's.
        await using var server = await TestServer.StartAsync();
        foreach (var (samples, seed) in new[] { (8, 1), (1, 2), (5, 3), (2, 4), (8, 5), (1, 6) })
        {
            var inputs = Requests.Samples(samples, seed);
            var (status, body) = await server.PostAsync(Requests.TinyInfer, Requests.Json(inputs, ["importance", "delta", "output"]));
            Assert.Equal(200, status);
            var (importance, deltas) = InferenceTests.Library(inputs, TinyBaseline, null, new AttributionOptions { Steps = 16 });
            Requests.AssertBitwise(importance, Requests.Output(body!, "importance"), $"{samples} samples (seed {seed}) importance");
            Requests.AssertBitwise(deltas, Requests.Output(body!, "delta"), $"{samples} samples (seed {seed}) delta");
            var logits = new float[samples * TinyNet.OutputLength];
            TestServer.Tiny.Forward(inputs, logits);
            Requests.AssertBitwise(logits, Requests.Output(body!, "output"), $"{samples} samples (seed {seed}) output");
        }
    }

    [Fact]
    public void ABatchsArraysGoBackToThePoolOnlyAfterItsLastRequestReleasesThem()
    {
        var buffers = new BatchBuffers(holders: 2);
        var array = buffers.Rent(100_000);
        Assert.True(array.Length >= 100_000);
        buffers.Release();
        // Still held by the second request: the pool must not hand it out (on this thread it would hand back the last array returned).
        var other = System.Buffers.ArrayPool<float>.Shared.Rent(100_000);
        Assert.NotSame(array, other);
        System.Buffers.ArrayPool<float>.Shared.Return(other);
        buffers.Release();
        var error = Assert.Throws<InvalidOperationException>(buffers.Release);
        Assert.Equal("a batch's arrays were released more times than it has requests.", error.Message);
    }

    [Fact]
    public async Task QueuedRequestsOfOneKindRunAsOneBatchUpToTheMaximum()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxBatchSize = 8, MaxQueueDelay = TimeSpan.Zero });
        var gate = new BatchGate();
        gate.Attach(server);

        // The first request occupies the batcher; 20 one-sample requests queue behind it.
        var first = server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1), ["importance"]));
        Assert.True(await gate.Started.WaitAsync(TimeSpan.FromSeconds(30)));
        var rest = Enumerable.Range(0, 20).Select(i => server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 10 + i), ["importance"]))).ToArray();
        await WaitFor(() => server.Batcher.QueuedRequests == 20);
        gate.Open();
        Assert.Equal(200, (await first).Status);
        Assert.All(await Task.WhenAll(rest), r => Assert.Equal(200, r.Status));
        Assert.Equal([(1, 1), (8, 8), (8, 8), (4, 4)], gate.Batches.ToArray());
    }

    [Fact]
    public async Task BatchSizeOneTurnsBatchingOff()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxBatchSize = 1 });
        var gate = new BatchGate();
        gate.Attach(server);
        var first = server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.True(await gate.Started.WaitAsync(TimeSpan.FromSeconds(30)));
        var rest = Enumerable.Range(0, 5).Select(i => server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, i)))).ToArray();
        await WaitFor(() => server.Batcher.QueuedRequests == 5);
        gate.Open();
        await first;
        await Task.WhenAll(rest);
        Assert.All(gate.Batches, b => Assert.Equal((1, 1), b));
        Assert.Equal(6, gate.Batches.Count);
    }

    [Fact]
    public async Task ARequestLargerThanTheMaximumRunsAlone()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxBatchSize = 4 });
        var inputs = Requests.Samples(6, 3);
        var (status, body) = await server.PostAsync(Requests.TinyInfer, Requests.Json(inputs, ["importance"]));
        Assert.Equal(200, status);
        Requests.AssertBitwise(InferenceTests.Library(inputs, TinyBaseline, null, new AttributionOptions { Steps = 16 }).Importance, Requests.Output(body!, "importance"), "importance");
    }

    [Fact]
    public async Task ALoneRequestWaitsForOthersNoLongerThanTheDelay()
    {
        // After a batch of 4, the batcher expects 4 again; a lone request waits for the delay, then runs alone.
        var delay = TimeSpan.FromMilliseconds(300);
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxQueueDelay = delay });
        var gate = new BatchGate();
        gate.Attach(server);
        var first = server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.True(await gate.Started.WaitAsync(TimeSpan.FromSeconds(30)));
        var four = Enumerable.Range(0, 4).Select(i => server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, i)))).ToArray();
        await WaitFor(() => server.Batcher.QueuedRequests == 4);
        gate.Open();
        await first;
        await Task.WhenAll(four);

        var (status, _) = await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 9)));
        Assert.Equal(200, status);
        Assert.Equal([(1, 1), (4, 4), (1, 1)], gate.Batches.ToArray());
        var queued = server.Logs.Entries.Where(e => e.EventId == 1).Select(e => e.Message).Last();
        double queuedMs = double.Parse(queued.Split("queued ")[1].Split(" ms")[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(queuedMs >= delay.TotalMilliseconds - 1, $"the lone request waited {queuedMs} ms for others; the delay is {delay.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task AFullQueueIs503WithRetryAfter()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxQueuedRequests = 2, RetryAfterSeconds = 3 });
        var gate = new BatchGate();
        gate.Attach(server);
        var first = server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.True(await gate.Started.WaitAsync(TimeSpan.FromSeconds(30)));
        var queued = Enumerable.Range(0, 2).Select(i => server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, i)))).ToArray();
        await WaitFor(() => server.Batcher.QueuedRequests == 2);

        using var rejected = await server.PostJsonAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 5)));
        Assert.Equal(503, (int)rejected.StatusCode);
        Assert.Equal("3", rejected.Headers.RetryAfter!.ToString());
        Assert.Equal("""{"error":"the queue is full (2 requests wait); retry after 3 s."}""", await rejected.Content.ReadAsStringAsync());

        gate.Open();
        Assert.Equal(200, (await first).Status);
        Assert.All(await Task.WhenAll(queued), r => Assert.Equal(200, r.Status));
        Assert.Equal(200, (await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 5)))).Status);
    }

    [Fact]
    public async Task AClientThatLeavesTheQueueIsNotComputed()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxQueueDelay = TimeSpan.Zero });
        var gate = new BatchGate();
        gate.Attach(server);
        var first = server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 1)));
        Assert.True(await gate.Started.WaitAsync(TimeSpan.FromSeconds(30)));

        using var leaving = new CancellationTokenSource();
        var gone = server.Client.PostAsync(Requests.TinyInfer, new StringContent(Requests.Json(Requests.Samples(2, 2))), leaving.Token);
        var staying = server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 3)));
        await WaitFor(() => server.Batcher.QueuedRequests == 2);
        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone);
        await WaitFor(() => server.Batcher.QueuedRequests == 1);

        gate.Open();
        await first;
        Assert.Equal(200, (await staying).Status);
        Assert.Equal([(1, 1), (1, 1)], gate.Batches.ToArray());
    }

    [Fact]
    public async Task ABatchWhoseClientsAllLeaveIsCancelled()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxSteps = 1_000_000 });
        var started = new SemaphoreSlim(0);
        server.Batcher.BatchStarting = (_, _) => started.Release();
        using var leaving = new CancellationTokenSource();
        // A million steps take minutes; the batch must stop soon after its only client leaves.
        var gone = server.Client.PostAsync(Requests.TinyInfer, new StringContent(Requests.Json(Requests.Samples(1, 2), ["importance"], """{"steps":1000000}""")), leaving.Token);
        Assert.True(await started.WaitAsync(TimeSpan.FromSeconds(30)));
        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone);
        await WaitFor(() => server.Batcher.CancelledBatches == 1);
        Assert.Equal(200, (await server.PostAsync(Requests.TinyInfer, Requests.Json(Requests.Samples(1, 3)))).Status);
    }

    internal static async Task WaitFor(Func<bool> condition)
    {
        for (int i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "the condition did not hold within 30 s");
    }
}
