using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using BenchmarkDotNet.Reports;
using NigGen.Attribution;
using NigGen.Kernels;
using NigGen.Benchmarks.Peers;
using NigGen.Benchmarks.Suites;

namespace NigGen.Benchmarks;

/// <summary>BenchmarkDotNet's results by suite, method and parameters: median time and bytes allocated per call.</summary>
public sealed class Results
{
    private readonly Dictionary<string, (double? Nanoseconds, long? Bytes)> _results = new();
    private readonly Dictionary<string, double> _best = new();

    public Results(IEnumerable<Summary> summaries)
    {
        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            var c = report.BenchmarkCase;
            string key = Key(c.Descriptor.Type.Name, c.Descriptor.WorkloadMethod.Name, c.Parameters.Items.Select(p => p.Value).ToArray());
            var statistics = report.Success ? report.ResultStatistics : null;
            if (statistics is null)
            {
                Failures.Add($"{c.Descriptor.Type.Name}.{c.Descriptor.WorkloadMethod.Name} ({c.Parameters.DisplayInfo})");
            }

            _results[key] = (statistics?.Median, report.GcStats.GetBytesAllocatedPerOperation(c));
            if (statistics is not null)
            {
                _best[key] = statistics.Min;
            }
        }
    }

    /// <summary>Benchmarks that ran but produced no result (an exception, a failed check).</summary>
    public List<string> Failures { get; } = [];

    public bool Has(string suite, string method, params object[] parameters) =>
        _results.TryGetValue(Key(suite, method, parameters), out var r) && r.Nanoseconds is not null;

    public (double? Nanoseconds, long? Bytes) Get(string suite, string method, params object[] parameters) =>
        _results.TryGetValue(Key(suite, method, parameters), out var r) ? r : (null, null);

    /// <summary>The fastest iteration's time per call, for peaks.</summary>
    public double? Best(string suite, string method, params object[] parameters) =>
        _best.TryGetValue(Key(suite, method, parameters), out var best) ? best : null;

    private static string Key(string suite, string method, object[] parameters) =>
        $"{suite}.{method}|{string.Join(",", parameters.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture)))}";
}

/// <summary>The summary: one table of every measured row with its ratio to NigGen, derived tables, and the machine.</summary>
public sealed class Report
{
    // docs/BENCHMARKS.md keeps one results section per machine kind (InstructionSet.MachineKind); a run replaces its own.
    public static string ResultsStart(string kind) => $"<!-- Results ({kind}): written by NigGen.Benchmarks (full run on a machine of this kind); everything up to the end marker is replaced. -->";

    public static string ResultsEnd(string kind) => $"<!-- End of results ({kind}). -->";

    // MemoryDiagnoser's whole-process bytes per call below which an all-cores call allocates nothing itself.
    private const int BackgroundBytesPerCall = 64;

    private readonly Results _results;
    private readonly List<MemoryRow> _memory;
    private readonly List<AllocationRow> _allocations;
    private readonly IReadOnlyList<string> _checks;
    private readonly string _command;
    private readonly TimeSpan _elapsed;
    private readonly bool _quick;
    private readonly bool _inProcess;
    private readonly DateTime _date = DateTime.UtcNow;

    public Report(Results results, List<MemoryRow> memory, List<AllocationRow> allocations, IReadOnlyList<string> checks, string command, TimeSpan elapsed, bool quick, bool inProcess)
    {
        _results = results;
        _memory = memory;
        _allocations = allocations;
        _checks = checks;
        _command = command;
        _elapsed = elapsed;
        _quick = quick;
        _inProcess = inProcess;
    }

    private sealed record Row(string Benchmark, string Case, string Contender, double? Nanoseconds, long? Bytes, double? Ratio, string Notes);

    public string ToMarkdown()
    {
        var rows = new List<Row>();
        AddForward(rows);
        AddAttribution(rows);
        var peak = AddGemm(rows);
        AddTraining(rows);
        AddQuadrature(rows);

        var text = new StringBuilder();
        text.AppendLine("### Machine and command").AppendLine();
        foreach (var line in MachineLines())
        {
            text.AppendLine($"- {line}");
        }

        text.AppendLine().AppendLine("### All rows").AppendLine();
        text.AppendLine("Time is BenchmarkDotNet's median per call; Allocated is managed bytes per call as MemoryDiagnoser counts them, over the ");
        text.AppendLine("whole process: an average of a few bytes on a long call is the runtime's own background work (the exact per-call ");
        text.AppendLine("figure on the calling thread is in the allocation table below). ");
        text.AppendLine("NigGen ÷ peer is NigGen's time divided by the row's time: below 1, NigGen is faster.").AppendLine();
        text.AppendLine("| Benchmark | Case | Contender | Time | Allocated | NigGen ÷ peer | Notes |");
        text.AppendLine("|---|---|---|---:|---:|---:|---|");
        foreach (var row in rows)
        {
            text.AppendLine($"| {row.Benchmark} | {row.Case} | {row.Contender} | {Time(row.Nanoseconds)} | {Bytes(row.Bytes)} | {Ratio(row.Ratio)} | {row.Notes} |");
        }

        AppendWidth(text);
        if (!_quick)
        {
            AppendTargets(text, rows, peak);
        }

        AppendMemory(text);
        AppendAllocations(text);

        if (_checks.Count > 0)
        {
            text.AppendLine().AppendLine("### Checks before timing").AppendLine();
            foreach (var check in _checks)
            {
                text.AppendLine($"- {check}");
            }
        }

        if (_results.Failures.Count > 0)
        {
            text.AppendLine().AppendLine("### FAILED").AppendLine();
            foreach (var failure in _results.Failures)
            {
                text.AppendLine($"- {failure}: no result (see BenchmarkDotNet's log above)");
            }
        }

        return text.ToString();
    }

    // What Forward(…, −1) does with a batch too small to share out by samples: its Dense layers (in, out features, as
    // declared in Networks.cs) whose columns DenseKernels shares among the threads.
    private static string SharedLayersNote(NetworkKind kind, int batch)
    {
        (string Name, int In, int Out)[] dense = kind == NetworkKind.Cnn
            ? [("fc1", 512, 128), ("fc2", 128, 10)]
            : [("fc1", 784, 256), ("fc2", 256, 256), ("fc3", 256, 10)];
        var shared = dense.Where(d => DenseKernels.ColumnParts(batch, d.In, d.Out, -1) > 1).Select(d => d.Name).ToList();
        return shared.Count == 0
            ? $"a batch of {batch} runs on one thread (no layer large enough to share)"
            : $"a batch of {batch}: {string.Join(" and ", shared)} {(shared.Count == 1 ? "shares its" : "share their")} columns among {Environment.ProcessorCount} threads";
    }

    /// <summary>
    /// Replaces this machine kind's results section of docs/BENCHMARKS.md (between its markers) with this report; a
    /// kind with no section yet gets one at the end. The other kinds' sections are left as they are.
    /// </summary>
    public static void WriteInto(string path, string markdown, string kind)
    {
        string existing = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\n";
        string startMarker = ResultsStart(kind), endMarker = ResultsEnd(kind);
        int start = existing.IndexOf(startMarker, StringComparison.Ordinal);
        int end = existing.IndexOf(endMarker, StringComparison.Ordinal);
        string before = start >= 0 && end > start ? existing[..start] : existing.TrimEnd() + $"\n\n## Latest results: {kind} machines\n\n";
        string after = start >= 0 && end > start ? existing[(end + endMarker.Length)..] : "\n";
        File.WriteAllText(path, before + startMarker + "\n\n" + markdown.TrimEnd() + "\n\n" + endMarker + after);
    }

    private IEnumerable<string> MachineLines()
    {
        yield return $"Date: {_date.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; whole run {_elapsed.TotalMinutes:F1} min";
        yield return $"Command: `{_command}`{Revision()}";
        yield return $"CPU: {InstructionSet.Describe()}; {Environment.ProcessorCount} logical cores";
        yield return $"Runtime: {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture}) on {RuntimeInformation.OSDescription}";
        yield return $"Peer: ONNX Runtime {OnnxForward.Version} (Microsoft.ML.OnnxRuntime, CPU execution provider, all graph optimisations)";
        string job = _quick ? "quick job (1 warm-up, 3 iterations of 20 ms: rough figures)" : "8 warm-up and 20 measured iterations of 250 ms";
        string toolchain = _inProcess ? "in process (allocations include other threads')" : "one process per benchmark";
        yield return $"BenchmarkDotNet 0.15.8, {job}, {toolchain}; ratios come from one run, absolute times drift with the shared machine's load";
    }

    private void AddForward(List<Row> rows)
    {
        const string suite = nameof(ForwardBenchmarks);
        foreach (var kind in new[] { NetworkKind.Mlp, NetworkKind.Cnn })
        {
            foreach (int batch in new[] { 1, 64 })
            {
                if (!_results.Has(suite, nameof(ForwardBenchmarks.NigGenForward), kind, batch))
                {
                    continue;
                }

                string caseName = $"{ReferenceNetwork.Describe(kind)}, batch {batch}";
                var nigGen = _results.Get(suite, nameof(ForwardBenchmarks.NigGenForward), kind, batch);
                var nigGenAll = _results.Get(suite, nameof(ForwardBenchmarks.NigGenForwardAllCores), kind, batch);
                rows.Add(new Row("Forward", caseName, "NigGen, 1 thread", nigGen.Nanoseconds, nigGen.Bytes, null, ""));
                AddPeer(rows, "Forward", caseName, "ONNX Runtime, 1 intra-op thread", nigGen.Nanoseconds, _results.Get(suite, nameof(ForwardBenchmarks.OnnxRuntimeSingleThread), kind, batch), "");
                if (nigGenAll.Nanoseconds is not null)
                {
                    var (block, threads) = PathAttribution.ForwardSplit(kind == NetworkKind.Cnn ? Cnn.Description : Mlp.Description, batch, -1);
                    string note = threads > 1 ? $"blocks of {block} samples on {threads} threads" : SharedLayersNote(kind, batch);
                    rows.Add(new Row("Forward", caseName, "NigGen, all cores", nigGenAll.Nanoseconds, nigGenAll.Bytes, null, note));
                }

                // All cores against all cores; NigGen's single-threaded time when its parallel row did not run.
                var (reference, against) = nigGenAll.Nanoseconds is not null ? (nigGenAll.Nanoseconds, "") : (nigGen.Nanoseconds, "compared with NigGen's 1-thread time");
                AddPeer(rows, "Forward", caseName, $"ONNX Runtime, {Environment.ProcessorCount} intra-op threads", reference, _results.Get(suite, nameof(ForwardBenchmarks.OnnxRuntimeAllCores), kind, batch), against);
            }
        }
    }

    private void AddTraining(List<Row> rows)
    {
        const string suite = nameof(TrainingBenchmarks);
        foreach (var kind in new[] { NetworkKind.Mlp, NetworkKind.Cnn })
        {
            const int batch = 64;
            if (!_results.Has(suite, nameof(TrainingBenchmarks.Step), kind, batch))
            {
                continue;
            }

            string caseName = $"{ReferenceNetwork.Describe(kind)}, batch {batch}";
            var step = _results.Get(suite, nameof(TrainingBenchmarks.Step), kind, batch);
            var forward = _results.Get(suite, nameof(TrainingBenchmarks.Forward), kind, batch);
            string note = forward.Nanoseconds is { } f && step.Nanoseconds is { } t ? $"{t / f:F1}× Forward on the same batch ({Time(f)})" : "";
            rows.Add(new Row("Training step (Adam)", caseName, "NigGen Trainer.Step, 1 thread", step.Nanoseconds, step.Bytes, null, note));
        }
    }

    private void AddQuadrature(List<Row> rows)
    {
        const string suite = nameof(QuadratureBenchmarks);
        foreach (int points in new[] { 100_000, 1_000_000 })
        {
            foreach (var (method, rule) in new[] { (nameof(QuadratureBenchmarks.GaussLegendre), "Gauss-Legendre (Bogaert's expansions)"), (nameof(QuadratureBenchmarks.Trapezoid), "trapezoid") })
            {
                if (!_results.Has(suite, method, points))
                {
                    continue;
                }

                var result = _results.Get(suite, method, points);
                rows.Add(new Row("Quadrature, every point and step size", $"{rule}, {points:N0} points", "NigGen QuadratureRule, chunks of 4,096",
                    result.Nanoseconds, result.Bytes, null, $"{result.Nanoseconds / points:F1} ns a point"));
            }
        }
    }

    private void AddAttribution(List<Row> rows)
    {
        foreach (var kind in new[] { NetworkKind.Mlp, NetworkKind.Cnn, NetworkKind.Mlp64, NetworkKind.Mlp1024 })
        {
            string suite = Suite(kind);
            if (!_results.Has(suite, nameof(AttributionBenchmarks.NigGen), kind))
            {
                continue;
            }

            string caseName = $"{ReferenceNetwork.Describe(kind)}, 1 sample";
            var nigGen = _results.Get(suite, nameof(AttributionBenchmarks.NigGen), kind);
            rows.Add(new Row("Neuron IG, 50 steps", caseName, "NigGen, 1 thread", nigGen.Nanoseconds, nigGen.Bytes, null, ""));
            AddPeer(rows, "Neuron IG, 50 steps", caseName, "NigGen, unoptimised path", nigGen.Nanoseconds, _results.Get(suite, nameof(AttributionBenchmarks.NigGenUnoptimised), kind), "");
            var (width, run, scale) = PerNeuron(kind);
            var perNeuron = Scale(_results.Get(suite, nameof(AttributionBenchmarks.PerNeuronConductance), kind), scale);
            string note = run == width
                ? $"all {width} neurons run"
                : $"{run} of {width} neurons run, time and allocations scaled ×{scale:0.##}";
            AddPeer(rows, "Neuron IG, 50 steps", caseName, "Per-neuron conductance (1 backward pass per neuron)", nigGen.Nanoseconds, perNeuron, note);
            AddAllCores(rows, caseName, nigGen.Nanoseconds, _results.Get(suite, nameof(AttributionBenchmarks.NigGenAllCores), kind), "MaxDegreeOfParallelism = −1");
        }

        const string batchSuite = nameof(AttributionBenchmarks);
        foreach (var kind in new[] { NetworkKind.Mlp, NetworkKind.Cnn })
        {
            if (!_results.Has(batchSuite, nameof(AttributionBenchmarks.NigGenBatch64), kind))
            {
                continue;
            }

            string caseName = $"{ReferenceNetwork.Describe(kind)}, batch 64";
            var nigGen = _results.Get(batchSuite, nameof(AttributionBenchmarks.NigGenBatch64), kind);
            rows.Add(new Row("Neuron IG, 50 steps", caseName, "NigGen, 1 thread (batched overload)", nigGen.Nanoseconds, nigGen.Bytes, null, $"{PerSample(nigGen.Nanoseconds)} per sample"));
            AddPeer(rows, "Neuron IG, 50 steps", caseName, "NigGen, unoptimised path (batched overload)", nigGen.Nanoseconds, _results.Get(batchSuite, nameof(AttributionBenchmarks.NigGenUnoptimisedBatch64), kind), "");
            var allCores = _results.Get(batchSuite, nameof(AttributionBenchmarks.NigGenBatch64AllCores), kind);
            AddAllCores(rows, caseName, nigGen.Nanoseconds, allCores, $"{PerSample(allCores.Nanoseconds)} per sample");
        }
    }

    private (double? Nanoseconds, string Name) AddGemm(List<Row> rows)
    {
        const string peakSuite = nameof(FmaPeakBenchmarks);
        var peak512 = _results.Get(peakSuite, nameof(FmaPeakBenchmarks.Vector512Fma));
        var peak256 = _results.Get(peakSuite, nameof(FmaPeakBenchmarks.Vector256Fma));
        double? best512 = Gflops(FmaPeakBenchmarks.Flops(16), _results.Best(peakSuite, nameof(FmaPeakBenchmarks.Vector512Fma)));
        double? best256 = Gflops(FmaPeakBenchmarks.Flops(8), _results.Best(peakSuite, nameof(FmaPeakBenchmarks.Vector256Fma)));

        // The peak of the width the kernels use (cores differ in whether 512-bit FMAs double the 256-bit rate: Zen 4
        // splits them, Zen 5 does not), as the best iteration of its loop; GEMM's median is held to it, which is
        // conservative on a noisy shared machine.
        double? peak = InstructionSet.VectorBits == 512 ? best512 : best256;
        string peakName = InstructionSet.VectorBits == 512 ? "Vector512 FMA" : "Vector256 FMA";

        foreach (string shape in GemmBenchmarks.Shapes)
        {
            var gemm = _results.Get(nameof(GemmBenchmarks), nameof(GemmBenchmarks.Multiply), shape);
            if (gemm.Nanoseconds is null)
            {
                continue;
            }

            var (m, k, n) = GemmBenchmarks.Parse(shape);
            double? gflops = Gflops(2.0 * m * k * n, gemm.Nanoseconds);
            string percent = gflops is { } g && peak is { } p ? $" = {100 * g / p:F0}% of the peak ({peakName})" : "";
            rows.Add(new Row("GEMM", $"{m}×{k}×{n} (m×k×n)", "NigGen Gemm.Multiply", gemm.Nanoseconds, gemm.Bytes, null, $"{gflops:F1} GFLOP/s{percent}"));
        }

        foreach (string conv in ConvBenchmarks.Convolutions)
        {
            var forward = _results.Get(nameof(ConvBenchmarks), nameof(ConvBenchmarks.Forward), conv);
            if (forward.Nanoseconds is not null)
            {
                double? gflops = Gflops(ConvBenchmarks.Flops(conv), forward.Nanoseconds);
                string percent = gflops is { } g && peak is { } p ? $" = {100 * g / p:F0}% of the peak ({peakName})" : "";
                rows.Add(new Row("Convolution", ConvBenchmarks.Describe(conv), "NigGen ConvKernels.Forward", forward.Nanoseconds, forward.Bytes, null, $"{gflops:F1} GFLOP/s of the direct sum{percent}"));
            }
        }

        if (peak512.Nanoseconds is not null)
        {
            rows.Add(new Row("FMA peak", "register-only, 12 chains", "Vector512 FMA loop", peak512.Nanoseconds, peak512.Bytes, null, $"{Gflops(FmaPeakBenchmarks.Flops(16), peak512.Nanoseconds):F1} GFLOP/s median, {best512:F1} best"));
        }

        if (peak256.Nanoseconds is not null)
        {
            rows.Add(new Row("FMA peak", "register-only, 12 chains", "Vector256 FMA loop", peak256.Nanoseconds, peak256.Bytes, null, $"{Gflops(FmaPeakBenchmarks.Flops(8), peak256.Nanoseconds):F1} GFLOP/s median, {best256:F1} best"));
        }

        return (peak, peakName);
    }

    private void AppendWidth(StringBuilder text)
    {
        var kinds = new[] { NetworkKind.Mlp64, NetworkKind.Mlp, NetworkKind.Mlp1024 }
            .Where(k => _results.Has(Suite(k), nameof(AttributionBenchmarks.NigGen), k))
            .ToList();
        if (kinds.Count == 0)
        {
            return;
        }

        text.AppendLine().AppendLine("### Speed-up against the attribute layer's width").AppendLine();
        text.AppendLine("MLP 784-256-W-10, Neuron Integrated Gradients of layer W, 50 steps, one sample, one thread. Speed-up = peer ÷ NigGen. ");
        text.AppendLine("The per-neuron route runs one backward pass per neuron, so its cost grows with W times the network's; this is the ");
        text.AppendLine("speed-up the paper predicts to grow with width. The unoptimised path differs from NigGen only by the first layer ");
        text.AppendLine("(recomputed at every point) and the backward pass below the attribute layer, a cost that does not grow with W, so ");
        text.AppendLine("that ratio shrinks as the attribute layer's own work grows.").AppendLine();
        text.AppendLine("| W | NigGen | Unoptimised | Speed-up | Per-neuron conductance | Speed-up |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var kind in kinds)
        {
            string suite = Suite(kind);
            var (width, _, scale) = PerNeuron(kind);
            double? nigGen = _results.Get(suite, nameof(AttributionBenchmarks.NigGen), kind).Nanoseconds;
            double? unoptimised = _results.Get(suite, nameof(AttributionBenchmarks.NigGenUnoptimised), kind).Nanoseconds;
            double? perNeuron = _results.Get(suite, nameof(AttributionBenchmarks.PerNeuronConductance), kind).Nanoseconds * scale;
            text.AppendLine($"| {width} | {Time(nigGen)} | {Time(unoptimised)} | {SpeedUp(unoptimised, nigGen)} | {Time(perNeuron)} | {SpeedUp(perNeuron, nigGen)} |");
        }
    }

    private void AppendTargets(StringBuilder text, List<Row> rows, (double? Gflops, string Name) peak)
    {
        var lines = new List<string>();
        foreach (var kind in new[] { NetworkKind.Mlp, NetworkKind.Cnn })
        {
            foreach (int batch in new[] { 64, 1 })
            {
                var nigGen = _results.Get(nameof(ForwardBenchmarks), nameof(ForwardBenchmarks.NigGenForward), kind, batch).Nanoseconds;
                var onnx = _results.Get(nameof(ForwardBenchmarks), nameof(ForwardBenchmarks.OnnxRuntimeSingleThread), kind, batch).Nanoseconds;
                if (nigGen is not null && onnx is not null)
                {
                    double ratio = nigGen.Value / onnx.Value;
                    string peer = InstructionSet.Narrowed ? "ONNX Runtime (1 thread, still on AVX-512: an upper bound for an AVX2-only machine)" : "ONNX Runtime (1 thread)";
                    lines.Add($"| Forward {ReferenceNetwork.Describe(kind)}, batch {batch}: NigGen ÷ {peer} ≤ 1 | {ratio:F2} | {Verdict(ratio <= 1)} |");
                }
            }
        }

        foreach (var (kind, limitMs) in new[] { (NetworkKind.Mlp, 0.15), (NetworkKind.Cnn, 0.8) })
        {
            var nigGen = _results.Get(Suite(kind), nameof(AttributionBenchmarks.NigGen), kind).Nanoseconds;
            if (nigGen is not null)
            {
                lines.Add($"| Neuron IG, 50 steps, 1 sample, {ReferenceNetwork.Describe(kind)} < {limitMs} ms | {Time(nigGen)} | {Verdict(nigGen.Value < limitMs * 1e6)} |");
            }
        }

        foreach (var row in rows.Where(r => r.Benchmark == "GEMM"))
        {
            var (m, k, n) = GemmBenchmarks.Parse(row.Case.Split(' ')[0].Replace('×', 'x'));
            double? gflops = Gflops(2.0 * m * k * n, row.Nanoseconds);

            // The target is on the performance issues' shapes; the matrix-vector shapes are bound by reading B, not by
            // the FMAs, and the 4 KiB-row shape shows what packing recovers (it pays for the copy).
            if (gflops is not null && peak.Gflops is not null && GemmBenchmarks.TargetShapes.Contains($"{m}x{k}x{n}"))
            {
                double percent = 100 * gflops.Value / peak.Gflops.Value;
                lines.Add($"| GEMM {row.Case.Split(' ')[0]} ≥ 90% of the measured FMA peak of the width in use ({peak.Name}, best iteration) | {percent:F0}% | {Verdict(percent >= 90)} |");
            }
        }

        // One thread from the exact per-thread check; all cores from MemoryDiagnoser (their workers are other threads).
        if (_allocations.Count > 0)
        {
            var allocating = _allocations.Where(a => a.BytesPerCall > 0).Select(a => $"{a.Call}: {Bytes(a.BytesPerCall)}").ToList();
            string measured = allocating.Count == 0 ? $"0 B in all {_allocations.Count} calls checked" : string.Join("; ", allocating);
            lines.Add($"| Zero allocations per call in steady state (calling thread, exact; single- and multi-threaded calls) | {measured} | {Verdict(allocating.Count == 0)} |");
        }

        var allCoresRows = rows.Where(r => r.Contender.StartsWith("NigGen, all cores", StringComparison.Ordinal) && r.Bytes is not null).ToList();
        if (allCoresRows.Count > 0)
        {
            // MemoryDiagnoser counts the whole process: the pool threads that do the work (which allocate nothing once their
            // workspace exists) and the runtime's own background work, a few bytes on calls of milliseconds, as the
            // single-threaded rows of the same run show. Parallel.For allocated about 1.8 KiB a call.
            var allocating = allCoresRows.Where(r => r.Bytes > 0).Select(r => $"{r.Case}: {Bytes(r.Bytes)}").ToList();
            bool withinBackground = allCoresRows.All(r => r.Bytes < BackgroundBytesPerCall);
            string measured = allocating.Count == 0 ? $"0 B in all {allCoresRows.Count} rows" : string.Join("; ", allocating);
            lines.Add($"| No allocation per call, all cores (MemoryDiagnoser, whole process: under {BackgroundBytesPerCall} B a call, the runtime's background level) | {measured} | {Verdict(withinBackground)} |");
        }

        if (lines.Count == 0)
        {
            return;
        }

        text.AppendLine().AppendLine("### Targets of the performance issue").AppendLine();
        text.AppendLine("| Target | Measured | |");
        text.AppendLine("|---|---:|---|");
        foreach (var line in lines)
        {
            text.AppendLine(line);
        }
    }

    private void AppendMemory(StringBuilder text)
    {
        if (_memory.Count == 0)
        {
            return;
        }

        text.AppendLine().AppendLine($"### Memory as Steps grows (ChunkSize = {MemoryCheck.ChunkSize})").AppendLine();
        text.AppendLine("First call: bytes allocated by the first call on a fresh thread, which creates that thread's workspace. ");
        text.AppendLine($"Next {MemoryCheck.LaterCalls} calls: bytes allocated by the calls after it on the same thread. Quadrature table: ");
        text.AppendLine("what `Quadrature.Get` allocated for the Steps value (0 B: the trapezoid computes its points chunk by chunk; only Gauss-Legendre rules of at most 512 points are tables). ");
        text.AppendLine("Peak working set: the whole process's VmHWM after the row (runtime, ONNX Runtime and all included).").AppendLine();
        text.AppendLine($"| Network | Steps | First call | Next {MemoryCheck.LaterCalls} calls | Quadrature table | Peak working set |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var row in _memory)
        {
            text.AppendLine($"| {row.Network} | {row.Steps} | {Bytes(row.FirstCallBytes)} | {Bytes(row.LaterCallsBytes)} | {Bytes(row.QuadratureTableBytes)} | {Bytes(row.PeakWorkingSetBytes)} |");
        }

        foreach (var group in _memory.GroupBy(r => r.Network))
        {
            long low = group.Min(r => r.FirstCallBytes);
            long high = group.Max(r => r.FirstCallBytes);
            bool flat = high - low <= MemoryCheck.FlatTolerance * high;
            long later = group.Max(r => r.LaterCallsBytes);
            text.AppendLine().Append($"{group.Key}: the first call's memory is {(flat ? "flat" : "**NOT flat**")} from {group.Min(r => r.Steps)} to {group.Max(r => r.Steps)} steps ");
            text.Append($"({Bytes(low)} to {Bytes(high)}; flat means within {MemoryCheck.FlatTolerance:P0}); ");
            text.AppendLine(later == 0 ? "the calls after it allocate nothing." : $"the calls after it allocate up to **{Bytes(later)}**.");
        }
    }

    private void AppendAllocations(StringBuilder text)
    {
        if (_allocations.Count == 0)
        {
            return;
        }

        text.AppendLine().AppendLine("### Steady-state allocations per call (calling thread)").AppendLine();
        text.AppendLine($"GC.GetAllocatedBytesForCurrentThread over {_allocations[0].Calls} calls after 10 warm-up calls, divided by the calls (rounded up).").AppendLine();
        text.AppendLine("| Call | Bytes per call |");
        text.AppendLine("|---|---:|");
        foreach (var row in _allocations)
        {
            text.AppendLine($"| {row.Call} | {Bytes(row.BytesPerCall)} |");
        }
    }

    // NigGen on all cores is not a peer: its row shows the speed-up over NigGen on one thread instead of a ratio.
    private static void AddAllCores(List<Row> rows, string caseName, double? oneThread, (double? Nanoseconds, long? Bytes) allCores, string note)
    {
        if (allCores.Nanoseconds is null)
        {
            return;
        }

        string speedUp = $"speed-up over 1 thread {SpeedUp(oneThread, allCores.Nanoseconds)}";
        rows.Add(new Row("Neuron IG, 50 steps", caseName, $"NigGen, all cores ({Environment.ProcessorCount})", allCores.Nanoseconds, allCores.Bytes, null, $"{speedUp}; {note}"));
    }

    private static void AddPeer(List<Row> rows, string benchmark, string caseName, string contender, double? nigGen, (double? Nanoseconds, long? Bytes) peer, string notes)
    {
        if (peer.Nanoseconds is null && peer.Bytes is null)
        {
            return;
        }

        rows.Add(new Row(benchmark, caseName, contender, peer.Nanoseconds, peer.Bytes, nigGen / peer.Nanoseconds, notes));
    }

    private static string Suite(NetworkKind kind) =>
        kind is NetworkKind.Mlp or NetworkKind.Cnn ? nameof(AttributionBenchmarks) : nameof(WidthBenchmarks);

    private static (int Width, int Run, double Scale) PerNeuron(NetworkKind kind)
    {
        int width = kind switch { NetworkKind.Cnn => 128, NetworkKind.Mlp64 => 64, NetworkKind.Mlp1024 => 1024, _ => 256 };
        int run = Math.Min(width, AttributionCase.PerNeuronSubset);
        return (width, run, (double)width / run);
    }

    private static (double? Nanoseconds, long? Bytes) Scale((double? Nanoseconds, long? Bytes) measured, double factor) =>
        (measured.Nanoseconds * factor, measured.Bytes is { } b ? (long)Math.Round(b * factor) : null);

    private static double? Max(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static double? Gflops(double flops, double? nanoseconds) => nanoseconds is { } ns && ns > 0 ? flops / ns : null;

    private static string Verdict(bool met) => met ? "met" : "**missed**";

    private static string SpeedUp(double? peer, double? nigGen) => peer is { } p && nigGen is { } n && n > 0 ? $"{p / n:F1}×" : "—";

    private static string PerSample(double? nanoseconds) => nanoseconds is { } ns ? Time(ns / AttributionCase.Batch) : "—";

    private static string Ratio(double? ratio) => ratio switch
    {
        null => "",
        < 0.1 => ratio.Value.ToString("G2", CultureInfo.InvariantCulture),
        _ => ratio.Value.ToString("F2", CultureInfo.InvariantCulture),
    };

    public static string Time(double? nanoseconds) => nanoseconds switch
    {
        null => "—",
        < 1e3 => $"{nanoseconds:F1} ns",
        < 1e6 => $"{nanoseconds / 1e3:F2} µs",
        < 1e9 => $"{nanoseconds / 1e6:F3} ms",
        _ => $"{nanoseconds / 1e9:F2} s",
    };

    public static string Bytes(long? bytes) => bytes switch
    {
        null => "—",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes / (1024.0 * 1024):F2} MiB",
    };

    // The commit measured, from the repository the program runs in; empty where git or the repository is missing.
    private static string Revision()
    {
        try
        {
            string? head = Git("rev-parse --short HEAD");
            if (string.IsNullOrEmpty(head))
            {
                return "";
            }

            string? changes = Git("status --porcelain --untracked-files=no");
            return string.IsNullOrEmpty(changes) ? $" at commit {head}" : $" at commit {head} with uncommitted changes";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }

    private static string? Git(string arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("git", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = System.Diagnostics.Process.Start(start);
        if (process is null)
        {
            return null;
        }

        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : null;
    }
}
