using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace NigGen.Benchmarks.Graph;

/// <summary>
/// `dotnet run -c Release --project NigGen.Benchmarks -- graph [--quick]`: Neuron Integrated Gradients (50 steps, one
/// sample, one thread, every attribute layer in one call) on the layer-graph networks of issue 13 (Basset, a CIFAR-style
/// ResNet, a BPNet-style dilated residual net) and on the README's CNN (DigitNet, issue 17's CNN target), next to Captum 0.8's LayerConductance on PyTorch (one call per attribute
/// layer, one thread), timed in the same run by scripts/reference/captum_timing.py where PyTorch and Captum are
/// installed. Writes the table into docs/BENCHMARKS.md (not with --quick).
/// </summary>
public static class GraphCommand
{
    // One results block per machine kind, as the main results (InstructionSet.MachineKind): a run writes only its own.
    private static string Start => InstructionSet.VectorBits == 512 ? "<!-- graph-results:start -->" : "<!-- graph-results-avx2:start -->";
    private static string End => InstructionSet.VectorBits == 512 ? "<!-- graph-results:end -->" : "<!-- graph-results-avx2:end -->";

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        var checks = GraphCase.Names.Select(name => new GraphCase(name).Check()).ToList();
        foreach (string check in checks)
        {
            Console.WriteLine("check: " + check);
        }

        var job = (quick
                ? Job.Default.WithWarmupCount(1).WithIterationCount(3).WithIterationTime(TimeInterval.FromMilliseconds(50))
                : Job.Default.WithWarmupCount(4).WithIterationCount(12).WithIterationTime(TimeInterval.FromMilliseconds(250)))
            .WithLaunchCount(1).WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(10), logOutput: true));
        var summary = BenchmarkRunner.Run<GraphBenchmarks>(ManualConfig.Create(DefaultConfig.Instance).AddJob(job)
            .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts")));

        var captum = quick ? new Dictionary<string, CaptumTiming>() : CaptumTiming.Measure();
        string markdown = Table(summary, captum, checks, quick);
        Console.WriteLine();
        Console.WriteLine(markdown);
        if (!quick && FindRepository() is { } root)
        {
            string path = Path.Combine(root, "docs", "BENCHMARKS.md");
            File.WriteAllText(path, WithBlock(File.ReadAllText(path), markdown));
            Console.WriteLine($"Results written to {path}");
        }

        return summary.Reports.All(r => r.Success) ? 0 : 1;
    }

    // The document with this machine kind's block replaced, or added: the AVX-512 block first, then the AVX2 one
    // under its own line, both under one heading whichever kind ran first.
    private static string WithBlock(string existing, string markdown)
    {
        const string Heading = "\n\n## Layer graphs against Captum\n\n", Avx2Line = "**On the AVX2 path:**\n\n";
        string block = Start + "\n\n" + markdown.TrimEnd() + "\n\n" + End;
        int start = existing.IndexOf(Start, StringComparison.Ordinal), end = existing.IndexOf(End, StringComparison.Ordinal);
        if (start >= 0 && end > start)
        {
            return existing[..start] + block + existing[(end + End.Length)..];
        }

        bool avx2 = InstructionSet.VectorBits < 512;
        string other = avx2 ? "<!-- graph-results:end -->" : Avx2Line;
        int at = existing.IndexOf(other, StringComparison.Ordinal);
        if (at < 0)
        {
            return existing.TrimEnd() + Heading + (avx2 ? Avx2Line : "") + block + "\n";
        }

        // After the AVX-512 block, or before the AVX2 block's line.
        return avx2
            ? existing[..(at + other.Length)] + "\n\n" + Avx2Line + block + existing[(at + other.Length)..]
            : existing[..at] + block + "\n\n" + existing[at..];
    }

    private static string Table(Summary summary, Dictionary<string, CaptumTiming> captum, List<string> checks, bool quick)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; command: `dotnet run -c Release --project NigGen.Benchmarks -- graph{(quick ? " --quick" : "")}`");
        text.AppendLine(CultureInfo.InvariantCulture, $"CPU: {InstructionSet.Describe()}; {Environment.ProcessorCount} logical cores; NigGen one thread; Captum one thread (torch.set_num_threads(1)), median of 7 runs after three warm-up runs{(InstructionSet.VectorBits < 512 ? $"; Captum's kernels limited to AVX2 as well ({string.Join(" ", CaptumTiming.Avx2Limits.Select(v => v.Key + "=" + v.Value))})" : "")}").AppendLine();
        text.AppendLine("| network | attribute layers | NigGen NIG, 50 steps, 1 sample | Captum 0.8 LayerConductance (wall / CPU) | Captum ÷ NigGen (wall / CPU) | target |");
        text.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var report in summary.Reports.OrderBy(r => r.BenchmarkCase.Parameters["Network"]))
        {
            string name = (string)report.BenchmarkCase.Parameters["Network"];
            double ms = report.ResultStatistics is { } stats ? stats.Median / 1e6 : double.NaN;
            var layers = new GraphCase(name).Net.Description.AttributeLayers.Select(l => l.Name);
            string peer = quick ? "not measured (--quick)" : "not measured (PyTorch/Captum not installed)", ratio = "";
            if (captum.TryGetValue(GraphCase.CaptumName(name), out var timing))
            {
                peer = $"{timing.WallSeconds * 1e3:F1} / {timing.CpuSeconds * 1e3:F1} ms";
                ratio = $"{timing.WallSeconds * 1e3 / ms:F1}× / {timing.CpuSeconds * 1e3 / ms:F1}×";
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {string.Join(", ", layers)} | {ms:F2} ms | {peer} | {ratio} | ≥ 10× |");
        }

        text.AppendLine().AppendLine("Checks before timing:").AppendLine();
        foreach (string check in checks)
        {
            text.AppendLine("- " + check);
        }

        return text.ToString();
    }

    internal static string? FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NigGen.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}

/// <summary>One benchmark network with random weights (BatchNorm statistics away from the identity) and one sample.</summary>
public sealed class GraphCase
{
    public static readonly string[] Names = ["Basset", "CifarResNet", "BpNet", "DigitNet"];

    public GraphCase(string name)
    {
        Net = name switch
        {
            "Basset" => BassetBenchmarkNet.CreateRandom(1),
            "CifarResNet" => CifarResNetBenchmarkNet.CreateRandom(1),
            "BpNet" => BpNetBenchmarkNet.CreateRandom(1),
            "DigitNet" => Cnn.CreateRandom(1), // the README's LeNet-style CNN, the CNN target of issue 17
            _ => throw new ArgumentException(name),
        };
        var random = new Random(3);
        Input = Enumerable.Range(0, Net.Description.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        Baseline = new float[Input.Length];
        Importance = new float[Net.Description.ImportanceLength];
    }

    public IAttributedNetwork Net { get; }

    public float[] Input { get; }

    public float[] Baseline { get; }

    public float[] Importance { get; }

    public static string CaptumName(string name) => name switch { "Basset" => "basset", "CifarResNet" => "resnet_cifar", "DigitNet" => "digitnet", _ => "bpnet" };

    public float Run() => Net.NeuronIntegratedGradients(Input, Baseline, 0, Importance, new AttributionOptions { Steps = 50 });

    /// <summary>Before timing: the result is finite and its completeness delta small on the layers every path crosses.</summary>
    public string Check()
    {
        float delta = Run();
        if (!Importance.All(float.IsFinite) || !float.IsFinite(delta))
        {
            throw new InvalidOperationException($"{Net.Description.Name}: Neuron Integrated Gradients is not finite");
        }

        return $"{Net.Description.Name}: {Net.Description.ImportanceLength:N0} neurons scored, completeness delta {delta:G3} (50-step trapezoid)";
    }
}

/// <summary>The timed benchmark: one call scores every attribute layer of one sample.</summary>
public class GraphBenchmarks
{
    private GraphCase _case = null!;

    [Params("Basset", "CifarResNet", "BpNet", "DigitNet")]
    public string Network { get; set; } = "";

    [GlobalSetup]
    public void Setup() => _case = new GraphCase(Network);

    [Benchmark]
    public float NeuronIntegratedGradients() => _case.Run();
}

/// <summary>Captum's timing of one network, from scripts/reference/captum_timing.py's JSON line.</summary>
public sealed record CaptumTiming(double WallSeconds, double CpuSeconds)
{
    /// <summary>
    /// When NigGen runs its 256-bit kernels, PyTorch's are held to AVX2 too: oneDNN's convolutions, ATen's vectorised
    /// element-wise kernels and OpenBLAS's GEMM (Debian's build picks its kernels at run time). On an AVX2-only machine
    /// these change nothing; on an AVX-512 one narrowed for the AVX2 path, both sides then run what such a machine runs.
    /// </summary>
    public static readonly KeyValuePair<string, string>[] Avx2Limits =
    [
        new("ONEDNN_MAX_CPU_ISA", "AVX2"), new("ATEN_CPU_CAPABILITY", "avx2"), new("OPENBLAS_CORETYPE", "Haswell"),
    ];

    /// <summary>Runs the Captum timing script (Debian's /usr/bin/python3 with PyTorch; Captum 0.8's source in CAPTUM_SRC, default /tmp/captum-0.8).</summary>
    public static Dictionary<string, CaptumTiming> Measure()
    {
        var result = new Dictionary<string, CaptumTiming>();
        string? root = GraphCommand.FindRepository();
        string python = Environment.GetEnvironmentVariable("PYTHON") ?? "/usr/bin/python3";
        if (root is null || !File.Exists(python))
        {
            Console.WriteLine("Captum peer: no repository or no python; not measured.");
            return result;
        }

        var start = new ProcessStartInfo(python, ["captum_timing.py"])
        {
            WorkingDirectory = Path.Combine(root, "scripts", "reference"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PYTHONPATH"] = Environment.GetEnvironmentVariable("CAPTUM_SRC") ?? "/tmp/captum-0.8";
        if (InstructionSet.VectorBits < 512)
        {
            foreach (var (name, value) in Avx2Limits)
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.WriteLine($"Captum peer not measured: {errors.Split('\n').LastOrDefault(l => l.Length > 0)}");
            return result;
        }

        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            var root2 = json.RootElement;
            result[root2.GetProperty("model").GetString()!] = new CaptumTiming(root2.GetProperty("median_s").GetDouble(), root2.GetProperty("median_cpu_s").GetDouble());
        }

        return result;
    }
}
