using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NigGen.Serving;

namespace NigGen.Benchmarks.Serving;

/// <summary>The sample's genomics model, declared again here so the load generator does not depend on the sample.</summary>
[Network]
[Input(4, 200)]
public sealed partial class LoadNet
{
    [Conv(32, Kernel = 15, Padding = 7, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(20)] Layer pool1;
    [Flatten] Layer flat;
    [Dense(32, Activation = Activation.Relu), AttributeLayer] Layer fc1;
    [Dense(3)] Layer head;
}

/// <summary>
/// Load generator for NigGen.Serving: an in-process server on a loopback port and 1, 8 and 64 concurrent clients, each
/// sending one sequence at a time (binary tensor data) and asking for its importance (binary) and delta, for a bounded time and number of
/// requests; dynamic batching on (64 samples, no queue delay: the default), on with a 2 ms queue delay, and off (batches of 1). Next to it, the library's own batched
/// Neuron Integrated Gradients (64 samples a call) and its single call, on the same cores.
///   dotnet run -c Release --project NigGen.Benchmarks -- serve-load [--seconds 4] [--max-requests 20000] [--write]
/// --write replaces the serving results in docs/BENCHMARKS.md.
/// </summary>
public static class ServeLoad
{
    private const string Start = "<!-- Serving results: written by `serve-load --write`; everything up to the end marker is replaced. -->";
    private const string End = "<!-- End of serving results. -->";
    private static readonly int[] ClientCounts = [1, 8, 64];

    // Dynamic batching as served by default (64 samples, no queue delay), with a 2 ms queue delay, and off.
    private static readonly (string Mode, int MaxBatchSize, double DelayMs)[] Modes = [("on (default)", 64, 0), ("on, 2 ms delay", 64, 2), ("off", 1, 0)];

    public static int Run(string[] args)
    {
        double seconds = 4;
        int maxRequests = 20_000;
        bool write = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) && seconds is >= 0.1 and <= 60:
                    i++;
                    break;
                case "--max-requests" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out maxRequests) && maxRequests > 0:
                    i++;
                    break;
                case "--write":
                    write = true;
                    break;
                default:
                    Console.Error.WriteLine($"Unknown or invalid argument '{args[i]}'. Use --seconds S (0.1 ≤ S ≤ 60), --max-requests N and --write.");
                    return 2;
            }
        }

        var network = LoadNet.CreateRandom(seed: 3);
        var baseline = new float[LoadNet.InputLength];
        Array.Fill(baseline, 0.25f);
        var options = new AttributionOptions { Steps = 50, MaxDegreeOfParallelism = -1 };
        var duration = TimeSpan.FromSeconds(seconds);
        string loadBefore = LoadAverage();

        // The machine may be shared: the library is measured right before each server run, and each run is reported as a
        // ratio to that measurement.
        // A throwaway run first, so that no measured run pays for the JIT's first tiers.
        MeasureServer(network, baseline, 64, 2, 8, TimeSpan.FromSeconds(Math.Min(2, seconds)), maxRequests).GetAwaiter().GetResult();
        var runs = new List<(string Mode, int Clients, LoadResult Result, double Library, double Single)>();
        foreach (var (mode, batchSize, delayMs) in Modes)
        {
            foreach (int clients in ClientCounts)
            {
                var (libraryRate, singleP50) = MeasureLibrary(network, baseline, options, duration / 2);
                int gen2 = GC.CollectionCount(2);
                var result = MeasureServer(network, baseline, batchSize, delayMs, clients, duration, maxRequests).GetAwaiter().GetResult();
                runs.Add((mode, clients, result, libraryRate, singleP50));
                Console.WriteLine($"{mode}, {clients} clients: {result.Rate:F0} explanations/s (library just before: {libraryRate:F0}), p50 {result.P50:F2} ms, p99 {result.P99:F2} ms, {GC.CollectionCount(2) - gen2} gen-2 collections");
            }
        }

        // On a shared machine one library measurement can be far off; the median of all of them is the yardstick.
        var libraryRates = runs.Select(r => r.Library).Order().ToArray();
        var singles = runs.Select(r => r.Single).Order().ToArray();
        double library = libraryRates[libraryRates.Length / 2], single = singles[singles.Length / 2];
        var rows = runs.Select(r =>
            $"| {r.Mode} | {r.Clients} | {r.Result.Requests:N0} | {r.Result.Rate:F0} | {r.Result.Rate / library:P0} | {r.Library:F0} | {r.Result.P50:F2} | {r.Result.P99:F2} | {r.Result.P50 - single:+0.00;-0.00} | {r.Result.MeanBatch:F1} |");

        string loadAfter = LoadAverage();
        string markdown = string.Join("\n", new[]
        {
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} with `dotnet run -c Release --project NigGen.Benchmarks -- serve-load{(seconds != 4 ? $" --seconds {seconds.ToString(CultureInfo.InvariantCulture)}" : "")} --write`",
            $"on {Environment.ProcessorCount} cores ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, AVX-512 {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "yes" : "no")}), " +
            $"load average {loadBefore} before and {loadAfter} after (the machine is shared with other engineers' builds: compare ratios within one run), " +
            "server and clients in one process on loopback, each run bounded to " +
            $"{seconds.ToString(CultureInfo.InvariantCulture)} s after 0.5 s of warm-up and {maxRequests:N0} requests. The genomics model (4 × 200 → conv 32×15 → pool 20 → fc 32 → 3, random weights), " +
            "one sequence per request, Neuron Integrated Gradients with 50 trapezoid steps, the sequence sent and its importance (6,432 floats) and delta returned as binary tensor data (as Triton's perf_analyzer sends).",
            "",
            $"The library on the same cores, measured for {(seconds / 2).ToString(CultureInfo.InvariantCulture)} s right before each run: batched (64 sequences a call, every core) " +
            $"median **{library:F0} explanations/s** (from {libraryRates[0]:F0} to {libraryRates[^1]:F0}); a single call (one sequence, every core) median p50 **{single:F2} ms** " +
            $"(from {singles[0]:F2} to {singles[^1]:F2}). Ratios are to the median; the measurement just before each run is shown beside it. " +
            "Mean batch: samples per batched call the server made (from its batch-size histogram).",
            "",
            "| batching | clients | requests | explanations/s | of the library's batched | library just before | p50 ms | p99 ms | p50 − library single call (ms) | mean batch |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        }.Concat(rows));
        Console.WriteLine();
        Console.WriteLine(markdown);
        if (write)
        {
            string path = Path.Combine(FindRoot() ?? ".", "docs", "BENCHMARKS.md");
            string existing = File.ReadAllText(path);
            int start = existing.IndexOf(Start, StringComparison.Ordinal), end = existing.IndexOf(End, StringComparison.Ordinal);
            if (start < 0 || end < start)
            {
                Console.Error.WriteLine($"{path} has no serving results markers; not written.");
                return 1;
            }

            File.WriteAllText(path, existing[..start] + Start + "\n\n" + markdown + "\n\n" + existing[end..]);
            Console.WriteLine($"Wrote {path}");
        }

        return 0;
    }

    private static (double Rate, double SingleP50) MeasureLibrary(LoadNet network, float[] baseline, AttributionOptions options, TimeSpan duration)
    {
        const int batch = 64;
        var inputs = Sequences(batch, seed: 1);
        var targets = new int[batch];
        var importances = new float[batch * LoadNet.ImportanceLength];
        var deltas = new float[batch];
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(0.5))
        {
            network.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, options);
        }

        int calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            network.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, options);
            calls++;
        }

        double rate = calls * batch / clock.Elapsed.TotalSeconds;
        var single = new List<double>();
        clock.Restart();
        while (clock.Elapsed < duration / 2)
        {
            long start = Stopwatch.GetTimestamp();
            network.NeuronIntegratedGradients(inputs.AsSpan(0, LoadNet.InputLength), baseline, targets.AsSpan(0, 1), importances.AsSpan(0, LoadNet.ImportanceLength), deltas.AsSpan(0, 1), options);
            single.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        single.Sort();
        return (rate, single[single.Count / 2]);
    }

    private sealed record LoadResult(int Requests, double Rate, double P50, double P99, double MeanBatch);

    private static async Task<LoadResult> MeasureServer(LoadNet network, float[] baseline, int maxBatchSize, double delayMs, int clients, TimeSpan duration, int maxRequests)
    {
        var serving = new ServingOptions { MaxBatchSize = maxBatchSize, MaxQueueDelay = TimeSpan.FromMilliseconds(delayMs), RequestLogLevel = LogLevel.Debug };
        var model = new ServedModel(network, baseline, name: "RegulatoryNet", defaultOptions: new AttributionOptions { Steps = 50 });
        await using var app = InferenceServer.Create([model], serving, ["http://127.0.0.1:0"], LogLevel.Warning, _ => { });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = address };
        var sequences = Enumerable.Range(0, clients).Select(c => Sequences(1, seed: 100 + c)).ToArray();

        var latencies = new List<double>[clients];
        int completed = 0;
        long measuring = 0;
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, clients).Select(async c =>
        {
            latencies[c] = [];
            while (!stop.IsCancellationRequested)
            {
                long start = Stopwatch.GetTimestamp();
                using var content = Request(sequences[c]);
                using var response = await client.PostAsync("/v2/models/RegulatoryNet/infer", content);
                var bytes = await response.Content.ReadAsByteArrayAsync();
                if ((int)response.StatusCode != 200)
                {
                    throw new InvalidOperationException($"the server answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
                }

                if (Interlocked.Read(ref measuring) == 1)
                {
                    latencies[c].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    if (Interlocked.Increment(ref completed) >= maxRequests)
                    {
                        stop.Cancel();
                    }
                }
            }
        }).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(0.5));
        Interlocked.Exchange(ref measuring, 1);
        clock.Restart();
        await Task.WhenAny(Task.Delay(duration, stop.Token).ContinueWith(_ => { }), Task.WhenAll(tasks));
        double elapsed = clock.Elapsed.TotalSeconds;
        int done = Volatile.Read(ref completed);
        stop.Cancel();
        await Task.WhenAll(tasks);
        string metrics = await client.GetStringAsync("/metrics");
        await app.StopAsync();
        double batchSum = MetricValue(metrics, "niggen_batch_samples_sum"), batchCount = MetricValue(metrics, "niggen_batch_samples_count");

        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadResult(done, done / elapsed, all[all.Length / 2], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))], batchSum / batchCount);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static double MetricValue(string exposition, string name) =>
        exposition.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal)).Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    // Binary tensor data both ways, as Triton's perf_analyzer sends by default: the sequence's 800 floats after the JSON.
    private static ByteArrayContent Request(float[] sequence)
    {
        var json = Encoding.UTF8.GetBytes("""{"parameters":{"binary_data_output":true},"inputs":[{"name":"input","shape":[1,4,200],"datatype":"FP32","parameters":{"binary_data_size":3200}}],"outputs":[{"name":"importance"},{"name":"delta"}]}""");
        var body = new byte[json.Length + sequence.Length * sizeof(float)];
        json.CopyTo(body, 0);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(sequence.AsSpan()).CopyTo(body.AsSpan(json.Length));
        var content = new ByteArrayContent(body);
        content.Headers.Add("Inference-Header-Content-Length", json.Length.ToString(CultureInfo.InvariantCulture));
        return content;
    }

    // One-hot random DNA, as the sample's sequences are.
    private static float[] Sequences(int n, int seed)
    {
        var random = new Random(seed);
        var values = new float[n * LoadNet.InputLength];
        for (int s = 0; s < n; s++)
        {
            for (int p = 0; p < 200; p++)
            {
                values[s * LoadNet.InputLength + random.Next(4) * 200 + p] = 1;
            }
        }

        return values;
    }

    private static string? FindRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NigGen.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
