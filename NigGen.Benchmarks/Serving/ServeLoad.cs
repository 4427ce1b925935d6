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
/// sending one sequence at a time and asking for its importance (binary) and delta, for a bounded time and number of
/// requests; dynamic batching on (64 samples, 2 ms) and off (batches of 1). Next to it, the library's own batched
/// Neuron Integrated Gradients (64 samples a call) and its single call, on the same cores.
///   dotnet run -c Release --project NigGen.Benchmarks -- serve-load [--seconds 4] [--max-requests 20000] [--write]
/// --write replaces the serving results in docs/BENCHMARKS.md.
/// </summary>
public static class ServeLoad
{
    private const string Start = "<!-- Serving results: written by `serve-load --write`; everything up to the end marker is replaced. -->";
    private const string End = "<!-- End of serving results. -->";
    private static readonly int[] ClientCounts = [1, 8, 64];

    public static int Run(string[] args)
    {
        double seconds = 4;
        int maxRequests = 20_000;
        bool write = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) && seconds is > 0 and <= 60:
                    i++;
                    break;
                case "--max-requests" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out maxRequests) && maxRequests > 0:
                    i++;
                    break;
                case "--write":
                    write = true;
                    break;
                default:
                    Console.Error.WriteLine($"Unknown or invalid argument '{args[i]}'. Use --seconds S (0 < S ≤ 60), --max-requests N and --write.");
                    return 2;
            }
        }

        var network = LoadNet.CreateRandom(seed: 3);
        var baseline = new float[LoadNet.InputLength];
        Array.Fill(baseline, 0.25f);
        var options = new AttributionOptions { Steps = 50, MaxDegreeOfParallelism = -1 };
        var duration = TimeSpan.FromSeconds(seconds);

        var (libraryRate, singleP50) = MeasureLibrary(network, baseline, options, duration);
        Console.WriteLine($"library: batched {libraryRate:F0} explanations/s, single call p50 {singleP50:F2} ms");

        var rows = new List<string>();
        foreach (bool batching in new[] { true, false })
        {
            foreach (int clients in ClientCounts)
            {
                var result = MeasureServer(network, baseline, batching, clients, duration, maxRequests).GetAwaiter().GetResult();
                string row = $"| {(batching ? "on" : "off")} | {clients} | {result.Requests:N0} | {result.Rate:F0} | {result.Rate / libraryRate:P0} | {result.P50:F2} | {result.P99:F2} | {result.P50 - singleP50:+0.00;-0.00} |";
                Console.WriteLine(row);
                rows.Add(row);
            }
        }

        string markdown = string.Join("\n", new[]
        {
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} with `dotnet run -c Release --project NigGen.Benchmarks -- serve-load{(seconds != 4 ? $" --seconds {seconds.ToString(CultureInfo.InvariantCulture)}" : "")} --write`",
            $"on {Environment.ProcessorCount} cores ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, AVX-512 {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "yes" : "no")}), " +
            "server and clients in one process on loopback, each run bounded to " +
            $"{seconds.ToString(CultureInfo.InvariantCulture)} s after 0.5 s of warm-up and {maxRequests:N0} requests. The genomics model (4 × 200 → conv 32×15 → pool 20 → fc 32 → 3, random weights), " +
            "one sequence per request, Neuron Integrated Gradients with 50 trapezoid steps, importance (6,432 floats, binary) and delta returned.",
            "",
            $"Library on the same cores: batched (64 sequences a call, every core) **{libraryRate:F0} explanations/s**; a single call (one sequence, every core) p50 **{singleP50:F2} ms**.",
            "",
            "| batching | clients | requests | explanations/s | of the library's batched | p50 ms | p99 ms | p50 − library single call (ms) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
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

    private sealed record LoadResult(int Requests, double Rate, double P50, double P99);

    private static async Task<LoadResult> MeasureServer(LoadNet network, float[] baseline, bool batching, int clients, TimeSpan duration, int maxRequests)
    {
        var serving = new ServingOptions { MaxBatchSize = batching ? 64 : 1, RequestLogLevel = LogLevel.Debug };
        var model = new ServedModel(network, baseline, name: "RegulatoryNet", defaultOptions: new AttributionOptions { Steps = 50 });
        await using var app = InferenceServer.Create([model], serving, ["http://127.0.0.1:0"], LogLevel.Warning, _ => { });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = address };
        var bodies = Enumerable.Range(0, clients).Select(c => Request(Sequences(1, seed: 100 + c))).ToArray();

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
                using var content = new ByteArrayContent(bodies[c]);
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
        await app.StopAsync();

        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadResult(done, done / elapsed, all[all.Length / 2], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))]);
    }

    private static byte[] Request(float[] sequence)
    {
        var json = new StringBuilder("""{"parameters":{"binary_data_output":true},"inputs":[{"name":"input","shape":[1,4,200],"datatype":"FP32","data":[""");
        json.AppendJoin(',', sequence.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        json.Append("""]}],"outputs":[{"name":"importance"},{"name":"delta"}]}""");
        return Encoding.UTF8.GetBytes(json.ToString());
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
