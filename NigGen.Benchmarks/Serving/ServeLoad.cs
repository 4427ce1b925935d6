using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;

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
/// Load generator for NigGen.Serving: the server in a process of its own on a loopback port, and 1, 8 and 64 concurrent
/// clients in this one, each sending one sequence at a time (binary tensor data) and asking for its importance (binary)
/// and delta, for a bounded time and number of requests; every answer is checked bit for bit against the library's.
/// Dynamic batching on (64 samples, no queue delay: the default), on with a 2 ms queue delay, and off (batches of 1).
/// Next to it, the library's own batched Neuron Integrated Gradients (64 samples a call) and its single call, on the
/// same cores, and each side's core time per request.
///   dotnet run -c Release --project NigGen.Benchmarks -- serve-load [--seconds 4] [--max-requests 20000] [--clients 1,8,64] [--client lean|httpclient] [--write]
/// --write replaces the serving results in docs/BENCHMARKS.md.
/// </summary>
public static class ServeLoad
{
    /// <summary>The served model's name.</summary>
    public const string ModelName = "RegulatoryNet";

    /// <summary>Integration steps of every request (the server's default, and the library's measurement).</summary>
    public const int Steps = 50;

    private const string Start = "<!-- Serving results: written by `serve-load --write`; everything up to the end marker is replaced. -->";
    private const string End = "<!-- End of serving results. -->";
    private static readonly int[] DefaultClientCounts = [1, 8, 64];

    // Dynamic batching as served by default (64 samples, no queue delay), with a 2 ms queue delay, and off.
    private static readonly (string Mode, int MaxBatchSize, double DelayMs)[] Modes = [("on (default)", 64, 0), ("on, 2 ms delay", 64, 2), ("off", 1, 0)];

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(0.5);

    public static int Run(string[] args)
    {
        var network = LoadNet.CreateRandom(seed: 3);
        var baseline = new float[LoadNet.InputLength];
        Array.Fill(baseline, 0.25f);
        if (args is ["--serve", string batchText, string delayText])
        {
            return ServerProcess.ServeAsync(network, baseline, int.Parse(batchText, CultureInfo.InvariantCulture), double.Parse(delayText, CultureInfo.InvariantCulture)).GetAwaiter().GetResult();
        }

        double seconds = 4;
        int maxRequests = 20_000;
        bool write = false;
        var clientKind = ClientKind.Lean;
        int[] clientCounts = DefaultClientCounts;
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
                case "--client" when i + 1 < args.Length && args[i + 1] is "lean" or "httpclient":
                    clientKind = args[++i] == "lean" ? ClientKind.Lean : ClientKind.HttpClient;
                    break;
                case "--clients" when i + 1 < args.Length && ParseClientCounts(args[i + 1]) is { } counts:
                    clientCounts = counts;
                    i++;
                    break;
                case "--write":
                    write = true;
                    break;
                default:
                    Console.Error.WriteLine($"Unknown or invalid argument '{args[i]}'. Use --seconds S (0.1 ≤ S ≤ 60), --max-requests N, --clients 1,8,64 (each 1 to 256), --client lean|httpclient and --write.");
                    return 2;
            }
        }

        var options = new AttributionOptions { Steps = Steps, MaxDegreeOfParallelism = -1 };
        var duration = TimeSpan.FromSeconds(seconds);
        int maxClients = clientCounts.Max();
        var requests = Enumerable.Range(0, maxClients).Select(c => Request(Sequences(1, seed: 100 + c))).ToArray();
        var check = Expected(network, baseline, options, requests);
        string loadBefore = LoadAverage();

        // The machine may be shared: the library is measured right before each server run, and each run is reported as a
        // ratio to that measurement.
        var runs = new List<(string Mode, int Clients, LoadResult Result, LibraryResult Library)>();
        foreach (var (mode, batchSize, delayMs) in Modes)
        {
            using var server = ServerProcess.Start(batchSize, delayMs);
            using var metrics = new HttpClient { BaseAddress = server.Address };

            // A throwaway run first, so that no measured run pays for the server's JIT.
            LoadClients.Run(server, clientKind, requests, check, maxClients, WarmUp, TimeSpan.FromSeconds(Math.Min(2, seconds)), maxRequests, metrics);
            foreach (int clients in clientCounts)
            {
                var measured = MeasureLibrary(network, baseline, options, duration / 2);
                int gen2 = GC.CollectionCount(2);
                var result = LoadClients.Run(server, clientKind, requests, check, clients, WarmUp, duration, maxRequests, metrics);
                runs.Add((mode, clients, result, measured));
                Console.WriteLine($"{mode}, {clients} clients: {result.Rate:F0} explanations/s (library just before: {measured.Rate:F0}, {measured.CoreMicroseconds:F0} core-µs each), " +
                    $"p50 {result.P50:F2} ms, p99 {result.P99:F2} ms, mean batch {result.MeanBatch:F1}, core-µs per request: server {result.ServerCoreMicroseconds:F0}, clients {result.ClientCoreMicroseconds:F0}");
            }
        }

        // On a shared machine one library measurement can be far off; the median of all of them is the yardstick.
        double Median(Func<LibraryResult, double> value) => runs.Select(r => value(r.Library)).Order().ElementAt(runs.Count / 2);
        double library = Median(l => l.Rate), single = Median(l => l.SingleP50), libraryCore = Median(l => l.CoreMicroseconds);
        var rows = runs.Select(r =>
            $"| {r.Mode} | {r.Clients} | {r.Result.Requests:N0} | {r.Result.Rate:F0} | {r.Result.Rate / library:P0} | {r.Library.Rate:F0} | {r.Result.P50:F2} | {r.Result.P99:F2} | {r.Result.P50 - single:+0.00;-0.00} | {r.Result.MeanBatch:F1} | {r.Result.ServerCoreMicroseconds:F0} | {r.Result.ClientCoreMicroseconds:F0} |");

        string loadAfter = LoadAverage();
        string clientText = clientKind == ClientKind.Lean
            ? "the lean HTTP/1.1 client (`--client lean`, the default: a socket and a thread per client, the request's bytes built once, as wrk and perf_analyzer)"
            : "System.Net.Http.HttpClient (`--client httpclient`)";
        string markdown = string.Join("\n", new[]
        {
            $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC with `dotnet run -c Release --project NigGen.Benchmarks -- serve-load{(seconds != 4 ? $" --seconds {seconds.ToString(CultureInfo.InvariantCulture)}" : "")}{(clientKind == ClientKind.HttpClient ? " --client httpclient" : "")} --write`",
            $"on {Environment.ProcessorCount} cores ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, AVX-512 {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "yes" : "no")}), " +
            $"load average {loadBefore} before and {loadAfter} after (the machine is shared with other engineers' builds: compare ratios within one run). " +
            $"The server runs in a process of its own (with {ServerProcess.SpinLimitVariable}={Environment.GetEnvironmentVariable(ServerProcess.SpinLimitVariable) ?? "0"}, as deploy/ runs it) and the clients in the load generator's, on the same cores, over loopback; the clients use {clientText}. " +
            $"Each run is bounded to {seconds.ToString(CultureInfo.InvariantCulture)} s after {WarmUp.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s of warm-up and {maxRequests:N0} requests, and every answer is checked bit for bit against the library's. " +
            "The genomics model (4 × 200 → conv 32×15 → pool 20 → fc 32 → 3, random weights), one sequence per request, Neuron Integrated Gradients with 50 trapezoid steps, " +
            "the sequence sent and its importance (6,432 floats) and delta returned as binary tensor data (as Triton's perf_analyzer sends).",
            "",
            $"The library on the same cores, measured for {(seconds / 2).ToString(CultureInfo.InvariantCulture)} s right before each run: batched (64 sequences a call, every core) " +
            $"median **{library:F0} explanations/s** (from {runs.Min(r => r.Library.Rate):F0} to {runs.Max(r => r.Library.Rate):F0}), **{libraryCore:F0} core-µs per explanation**; " +
            $"a single call (one sequence, every core) median p50 **{single:F2} ms** (from {runs.Min(r => r.Library.SingleP50):F2} to {runs.Max(r => r.Library.SingleP50):F2}). " +
            "Ratios are to the median; the measurement just before each run is shown beside it. Mean batch: samples per batched call the server made (from its batch-size histogram). " +
            "Core-µs per request: the server process's and the clients' process's core time (user and system) during the run, divided by the answers.",
            "",
            "| batching | clients | requests | explanations/s | of the library's batched | library just before | p50 ms | p99 ms | p50 − library single call (ms) | mean batch | server core-µs/request | client core-µs/request |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
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

    /// <summary>The library's answers for each client's sequence (the model's baseline, each sample's argmax as target), as the server must give them.</summary>
    private static AnswerCheck Expected(LoadNet network, float[] baseline, AttributionOptions options, (byte[] Body, int JsonLength)[] requests)
    {
        int clients = requests.Length;
        var inputs = new float[clients * LoadNet.InputLength];
        for (int c = 0; c < clients; c++)
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(requests[c].Body.AsSpan(requests[c].JsonLength)).CopyTo(inputs.AsSpan(c * LoadNet.InputLength));
        }

        var logits = new float[clients * LoadNet.OutputLength];
        network.Forward(inputs, logits);
        var targets = new int[clients];
        for (int c = 0; c < clients; c++)
        {
            targets[c] = ArgMax(logits.AsSpan(c * LoadNet.OutputLength, LoadNet.OutputLength)); // the server's default target
        }

        var importances = new float[clients * LoadNet.ImportanceLength];
        var deltas = new float[clients];
        network.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, options);
        return new AnswerCheck(importances, deltas);
    }

    // The index of the largest value, the first on ties.
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private sealed record LibraryResult(double Rate, double SingleP50, double CoreMicroseconds);

    private static LibraryResult MeasureLibrary(LoadNet network, float[] baseline, AttributionOptions options, TimeSpan duration)
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
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            network.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, options);
            calls++;
        }

        double rate = calls * batch / clock.Elapsed.TotalSeconds;
        self.Refresh();
        double coreMicroseconds = (self.TotalProcessorTime - cpu).TotalMicroseconds / (calls * batch);
        var single = new List<double>();
        clock.Restart();
        while (clock.Elapsed < duration / 2)
        {
            long start = Stopwatch.GetTimestamp();
            network.NeuronIntegratedGradients(inputs.AsSpan(0, LoadNet.InputLength), baseline, targets.AsSpan(0, 1), importances.AsSpan(0, LoadNet.ImportanceLength), deltas.AsSpan(0, 1), options);
            single.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        single.Sort();
        return new LibraryResult(rate, single[single.Count / 2], coreMicroseconds);
    }

    // "1,8,64": client counts from 1 to 256; null if anything else.
    private static int[]? ParseClientCounts(string text)
    {
        var counts = new List<int>();
        foreach (string part in text.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count is < 1 or > 256)
            {
                return null;
            }

            counts.Add(count);
        }

        return [.. counts];
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    // Binary tensor data both ways, as Triton's perf_analyzer sends by default: the sequence's 800 floats after the JSON.
    private static (byte[] Body, int JsonLength) Request(float[] sequence)
    {
        var json = Encoding.UTF8.GetBytes("""{"parameters":{"binary_data_output":true},"inputs":[{"name":"input","shape":[1,4,200],"datatype":"FP32","parameters":{"binary_data_size":3200}}],"outputs":[{"name":"importance"},{"name":"delta"}]}""");
        var body = new byte[json.Length + sequence.Length * sizeof(float)];
        json.CopyTo(body, 0);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(sequence.AsSpan()).CopyTo(body.AsSpan(json.Length));
        return (body, json.Length);
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
