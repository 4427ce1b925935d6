using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NigGen.Benchmarks.Serving;

/// <summary>Which HTTP client the load generator's clients use.</summary>
internal enum ClientKind
{
    /// <summary><see cref="LeanHttpClient"/>: one socket and one thread per client, the request's bytes built once (as wrk and perf_analyzer).</summary>
    Lean,

    /// <summary>System.Net.Http.HttpClient, one request at a time per client, as a .NET application would call the server.</summary>
    HttpClient,
}

/// <summary>One measured load run: throughput, latency, the server's batches and each side's core time per request.</summary>
internal sealed record LoadResult(int Requests, double Rate, double P50, double P99, double MeanBatch, double ServerCoreMicroseconds, double ClientCoreMicroseconds);

/// <summary>
/// Concurrent clients against a <see cref="ServerProcess"/>: each sends its own sequence, one request at a time, and
/// every answer is checked (<see cref="AnswerCheck"/>); the first wrong answer or error stops the run and fails it.
/// </summary>
internal sealed class LoadClients
{
    public const string InferPath = "/v2/models/" + ServeLoad.ModelName + "/infer";

    private readonly ServerProcess _server;
    private readonly ClientKind _kind;
    private readonly (byte[] Body, int JsonLength)[] _requests;
    private readonly AnswerCheck _check;
    private readonly List<double>[] _latencies;
    private readonly ManualResetEventSlim _finished = new();
    private readonly int _maxRequests;
    private volatile bool _stop;
    private volatile bool _measuring;
    private int _completed;
    private Exception? _failure;

    private LoadClients(ServerProcess server, ClientKind kind, (byte[] Body, int JsonLength)[] requests, AnswerCheck check, int clients, int maxRequests)
    {
        _server = server;
        _kind = kind;
        _requests = requests;
        _check = check;
        _maxRequests = maxRequests;
        _latencies = Enumerable.Range(0, clients).Select(_ => new List<double>()).ToArray();
    }

    /// <summary>
    /// Runs <paramref name="clients"/> clients (client c sends <paramref name="requests"/>[c]) for <paramref name="warmUp"/>
    /// unmeasured, then measures for <paramref name="duration"/> or <paramref name="maxRequests"/> answers, whichever comes first.
    /// </summary>
    public static LoadResult Run(ServerProcess server, ClientKind kind, (byte[] Body, int JsonLength)[] requests, AnswerCheck check, int clients,
        TimeSpan warmUp, TimeSpan duration, int maxRequests, HttpClient metrics)
    {
        var run = new LoadClients(server, kind, requests, check, clients, maxRequests);
        return run.Measure(warmUp, duration, metrics);
    }

    private LoadResult Measure(TimeSpan warmUp, TimeSpan duration, HttpClient metrics)
    {
        int clients = _latencies.Length;
        using var httpClient = _kind == ClientKind.HttpClient
            ? new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = _server.Address }
            : null;
        var threads = new List<Thread>();
        var tasks = new List<Task>();
        for (int c = 0; c < clients; c++)
        {
            int client = c;
            if (httpClient is null)
            {
                var thread = new Thread(() => Guarded(() => LeanClient(client)), maxStackSize: 256 * 1024) { IsBackground = true, Name = $"load client {client}" };
                thread.Start();
                threads.Add(thread);
            }
            else
            {
                tasks.Add(Task.Run(() => GuardedAsync(() => HttpClientClient(httpClient, client))));
            }
        }

        _finished.Wait(warmUp);
        var (batchSamples, batches) = BatchTotals(metrics);
        using var self = Process.GetCurrentProcess();
        TimeSpan serverCpu = _server.CpuTime, clientCpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        _measuring = true;
        _finished.Wait(duration);
        double elapsed = clock.Elapsed.TotalSeconds;
        int done = Volatile.Read(ref _completed);
        self.Refresh();
        serverCpu = _server.CpuTime - serverCpu;
        clientCpu = self.TotalProcessorTime - clientCpu;
        _stop = true;
        threads.ForEach(t => t.Join());
        Task.WaitAll([.. tasks]);
        if (_failure is not null)
        {
            throw new InvalidOperationException($"the load run failed: {_failure.Message}", _failure);
        }

        var (batchSamplesAfter, batchesAfter) = BatchTotals(metrics);
        var all = _latencies.SelectMany(l => l).Order().ToArray();
        if (done == 0 || all.Length == 0)
        {
            throw new InvalidOperationException($"no answer came back within {duration.TotalSeconds} s.");
        }

        return new LoadResult(done, done / elapsed, all[all.Length / 2], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))],
            (batchSamplesAfter - batchSamples) / Math.Max(1, batchesAfter - batches), serverCpu.TotalMicroseconds / done, clientCpu.TotalMicroseconds / done);
    }

    private void LeanClient(int client)
    {
        var (body, jsonLength) = _requests[client];
        var address = _server.Address;
        var request = LeanHttpClient.BuildRequest("POST", address.Authority, InferPath, body,
            ("Content-Type", "application/octet-stream"), ("Inference-Header-Content-Length", jsonLength.ToString(CultureInfo.InvariantCulture)));
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 60_000, SendTimeout = 60_000 };
        socket.Connect(address.Host, address.Port);
        using var connection = new LeanHttpClient(new NetworkStream(socket, ownsSocket: true));
        while (!_stop)
        {
            long start = Stopwatch.GetTimestamp();
            var (status, answer, answerJsonLength) = connection.Send(request);
            _check.Verify(client, status, answer.Span, answerJsonLength);
            Answered(client, start);
        }
    }

    private async Task HttpClientClient(HttpClient httpClient, int client)
    {
        var (body, jsonLength) = _requests[client];
        while (!_stop)
        {
            long start = Stopwatch.GetTimestamp();
            using var content = new ByteArrayContent(body);
            content.Headers.Add("Inference-Header-Content-Length", jsonLength.ToString(CultureInfo.InvariantCulture));
            using var response = await httpClient.PostAsync(InferPath, content);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            int answerJsonLength = response.Headers.TryGetValues("Inference-Header-Content-Length", out var values)
                && int.TryParse(values.First(), NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) ? parsed : -1;
            _check.Verify(client, (int)response.StatusCode, bytes, answerJsonLength);
            Answered(client, start);
        }
    }

    private void Answered(int client, long start)
    {
        if (_measuring)
        {
            _latencies[client].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (Interlocked.Increment(ref _completed) >= _maxRequests)
            {
                _finished.Set();
            }
        }
    }

    // The first failure (an error, a wrong answer) stops every client and fails the run.
    private void Guarded(Action client)
    {
        try
        {
            client();
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private async Task GuardedAsync(Func<Task> client)
    {
        try
        {
            await client();
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, e, null);
        _stop = true;
        _finished.Set();
    }

    // The server's batch-size histogram so far: samples in all batches, and batches.
    private static (double Samples, double Batches) BatchTotals(HttpClient metrics)
    {
        string exposition = metrics.GetStringAsync("/metrics").GetAwaiter().GetResult();
        return (MetricValue(exposition, "niggen_batch_samples_sum"), MetricValue(exposition, "niggen_batch_samples_count"));
    }

    private static double MetricValue(string exposition, string name) =>
        exposition.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal)).Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
