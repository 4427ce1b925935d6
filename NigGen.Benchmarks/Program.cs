using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using NigGen.Benchmarks;
using NigGen.Benchmarks.Peers;
using NigGen.Benchmarks.Suites;
using Perfolizer.Horology;

// NigGen.Benchmarks: NigGen against ONNX Runtime and against the per-neuron route, on the issue's reference networks.
//   dotnet run -c Release --project NigGen.Benchmarks              everything (about 7 minutes); updates docs/BENCHMARKS.md
//   dotnet run -c Release --project NigGen.Benchmarks -- --quick   a smoke subset with a short job; writes nothing
//   add --only forward,attribution,width,gemm,memory,training,quadrature to run some suites (writes nothing), --no-write to leave the docs alone,
//   --in-process to skip BenchmarkDotNet's per-benchmark processes (faster; allocation figures then include other threads')
//   dotnet run -c Release --project NigGen.Benchmarks -- compare   the neuron-ranking comparison; updates docs/COMPARISON.md
//   dotnet run -c Release --project NigGen.Benchmarks -- graph     layer graphs (Basset, ResNet, BPNet) against Captum; updates docs/BENCHMARKS.md
//   dotnet run -c Release --project NigGen.Benchmarks -- serve-load   the HTTP server under 1, 8 and 64 clients, every answer checked (about 90 s; --client httpclient, --clients 64)
if (args.Length > 0 && args[0] == "compare")
{
    return NigGen.Benchmarks.Comparison.CompareCommand.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "graph")
{
    return NigGen.Benchmarks.Graph.GraphCommand.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "serve-load")
{
    return NigGen.Benchmarks.Serving.ServeLoad.Run(args[1..]);
}

string[] suites = ["forward", "attribution", "width", "gemm", "memory", "training", "quadrature"];
bool quick = false;
bool write = true;
bool inProcess = false;
var only = new HashSet<string>(suites);
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--quick":
            quick = true;
            break;
        case "--no-write":
            write = false;
            break;
        case "--in-process":
            inProcess = true;
            break;
        case "--only" when i + 1 < args.Length:
            only = new HashSet<string>(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
            var unknown = only.Except(suites, StringComparer.OrdinalIgnoreCase).ToList();
            if (unknown.Count > 0)
            {
                Console.Error.WriteLine($"Unknown suite(s) {string.Join(", ", unknown)}; the suites are {string.Join(", ", suites)}.");
                return 2;
            }

            write = false; // a partial run must not replace the published results
            break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Use --quick (smoke subset), --only SUITES ({string.Join(",", suites)}), --no-write (leave docs/BENCHMARKS.md alone) and --in-process.");
            return 2;
    }
}

string command = "dotnet run -c Release --project NigGen.Benchmarks" + (args.Length > 0 ? " -- " + string.Join(' ', args) : "");
var clock = Stopwatch.StartNew();

// A Debug build compiles (the solution's `dotnet test` builds it) but measures nothing useful.
if (typeof(Program).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is [DebuggableAttribute { IsJITOptimizerDisabled: true }])
{
    Console.Error.WriteLine("Build with -c Release: a Debug build measures nothing useful.");
    return 2;
}

List<string> checks;
List<MemoryRow> memory;
List<AllocationRow> allocations;
try
{
    // Wrong results make timings meaningless: check every contender before timing anything, and stop loudly.
    checks = Preflight(quick);
    foreach (var line in checks)
    {
        Console.WriteLine($"check: {line}");
    }

    memory = !only.Contains("memory") ? []
        : MemoryCheck.Run(quick ? [NetworkKind.Mlp] : [NetworkKind.Mlp, NetworkKind.Cnn]);
    allocations = !only.Contains("memory") ? [] : AllocationCheck.Run([NetworkKind.Mlp, NetworkKind.Cnn]);
}
catch (ResultMismatchException e)
{
    Console.Error.WriteLine($"FAILED: {e.Message}");
    return 1;
}

var types = new List<Type>();
if (only.Contains("forward"))
{
    types.Add(typeof(ForwardBenchmarks));
}

if (only.Contains("attribution"))
{
    types.Add(typeof(AttributionBenchmarks));
}

if (only.Contains("width"))
{
    types.Add(typeof(WidthBenchmarks));
}

if (only.Contains("gemm"))
{
    // The peak is measured in the same run as the kernel it is compared with.
    types.Add(typeof(GemmBenchmarks));
    types.Add(typeof(ConvBenchmarks));
    types.Add(typeof(FmaPeakBenchmarks));
}

if (only.Contains("training"))
{
    types.Add(typeof(TrainingBenchmarks));
}

if (only.Contains("quadrature"))
{
    types.Add(typeof(QuadratureBenchmarks));
}

// The smoke run stays in process: no build of a benchmark project, seconds instead of minutes.
inProcess |= quick;
var summaries = types.Count == 0 ? [] : BenchmarkRunner.Run(types.ToArray(), Config(quick, inProcess));

var results = new Results(summaries);
var report = new Report(results, memory, allocations, checks, command, clock.Elapsed, quick, inProcess);
string markdown = report.ToMarkdown();
Console.WriteLine();
Console.WriteLine("# NigGen benchmark summary");
Console.WriteLine();
Console.WriteLine(markdown);

if (!quick && write)
{
    string? root = RepositoryRoot();
    if (root is null)
    {
        Console.Error.WriteLine("Not run from the NigGen repository: docs/BENCHMARKS.md not updated.");
    }
    else
    {
        string path = Path.Combine(root, "docs", "BENCHMARKS.md");
        Report.WriteInto(path, markdown, InstructionSet.MachineKind);
        Console.WriteLine($"Results written to {path} ({InstructionSet.MachineKind} section)");
    }
}

if (results.Failures.Count > 0)
{
    Console.Error.WriteLine($"FAILED: {results.Failures.Count} benchmark(s) produced no result: {string.Join("; ", results.Failures)}");
    return 1;
}

return 0;

static IConfig Config(bool quick, bool inProcess)
{
    // Warm-up well above 1 s so that tiered compilation has promoted the hot code before anything is measured.
    var job = quick
        ? Job.Default.WithWarmupCount(1).WithIterationCount(3).WithIterationTime(TimeInterval.FromMilliseconds(20))
        : Job.Default.WithWarmupCount(8).WithIterationCount(20).WithIterationTime(TimeInterval.FromMilliseconds(250));
    job = job.WithLaunchCount(1).WithId(quick ? "Quick" : "Full");

    // Out of process (BenchmarkDotNet's default) each benchmark has a process to itself, so MemoryDiagnoser's
    // process-wide byte count is the benchmark's alone; in process saves the build and the process starts.
    if (inProcess)
    {
        job = job.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(10), logOutput: true));
    }

    var config = ManualConfig.Create(DefaultConfig.Instance)
        .AddJob(job)
        .AddDiagnoser(MemoryDiagnoser.Default)
        .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));
    if (quick)
    {
        config = config.AddFilter(new SimpleFilter(QuickSubset));
    }

    // Without 512-bit vectors in use, the Vector512 loop would time .NET's software fallback, not the core.
    config = config.AddFilter(new SimpleFilter(c => c.Descriptor.WorkloadMethod.Name != nameof(FmaPeakBenchmarks.Vector512Fma) || InstructionSet.VectorBits == 512));

    return config;
}

// The smoke subset: every contender once, on small cases.
static bool QuickSubset(BenchmarkDotNet.Running.BenchmarkCase c)
{
    string suite = c.Descriptor.Type.Name;
    string method = c.Descriptor.WorkloadMethod.Name;
    object? Parameter(string name) => c.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value;
    return suite switch
    {
        nameof(ForwardBenchmarks) => (int)Parameter(nameof(ForwardBenchmarks.Batch))! == 64,
        nameof(AttributionBenchmarks) => method is nameof(AttributionBenchmarks.NigGen) or nameof(AttributionBenchmarks.NigGenUnoptimised)
            || ((NetworkKind)Parameter(nameof(AttributionBenchmarks.Network))! == NetworkKind.Mlp
                && method is nameof(AttributionBenchmarks.PerNeuronConductance) or nameof(AttributionBenchmarks.NigGenAllCores)),
        nameof(GemmBenchmarks) => (string)Parameter(nameof(GemmBenchmarks.Shape))! == "256x256x256",
        nameof(ConvBenchmarks) => false,
        nameof(FmaPeakBenchmarks) => true,
        nameof(TrainingBenchmarks) => (NetworkKind)Parameter(nameof(TrainingBenchmarks.Network))! == NetworkKind.Mlp,
        nameof(QuadratureBenchmarks) => (int)Parameter(nameof(QuadratureBenchmarks.Points))! == 100_000, // about 10 ms a call
        _ => false,
    };
}

static List<string> Preflight(bool quick)
{
    var lines = new List<string>();
    foreach (var kind in new[] { NetworkKind.Mlp, NetworkKind.Cnn })
    {
        var network = ReferenceNetwork.Create(kind);
        var model = network.BuildOnnxModel();
        bool identical = true;
        foreach (int batch in new[] { 1, 64, 200 })
        {
            var inputs = network.Inputs(batch, seed: 6);
            identical &= Checks.ParallelForwardAgrees(network, inputs);
            if (batch == 200)
            {
                continue; // only NigGen's parallel split is checked on a batch of several blocks
            }

            foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
            {
                using var onnx = new OnnxForward(model, threads, batch, network.SampleShape, network.OutputLength);
                Checks.ForwardAgrees(network, onnx, inputs);
            }
        }

        lines.Add($"{network.Label}: ONNX Runtime's outputs equal NigGen's Forward within {Checks.ForwardTolerance:G1} of the largest output (batch 1 and 64, 1 and {Environment.ProcessorCount} threads); " +
                  $"NigGen's all-cores Forward (batch 1, 64, 200) is {(identical ? "bitwise identical to" : "close to, but NOT bitwise identical to,")} its single-threaded one");
    }

    var attributed = quick ? new[] { NetworkKind.Mlp, NetworkKind.Cnn } : new[] { NetworkKind.Mlp, NetworkKind.Cnn, NetworkKind.Mlp64, NetworkKind.Mlp1024 };
    foreach (var kind in attributed)
    {
        var attribution = new AttributionCase(kind);
        var (identical, deviation) = attribution.Check();
        lines.Add($"{attribution.Network.Label}: the unoptimised and all-cores paths equal Neuron Integrated Gradients within {Checks.UnoptimisedTolerance:G1} (1 sample and batch 64), " +
                  $"all cores {(identical ? "bitwise identical" : "NOT bitwise identical")} to one thread; " +
                  $"per-neuron conductance totals ({attribution.NeuronsRun} neurons, 50-point trapezoid) differ from it by at most {deviation:P2} of the largest importance (another discretisation of the same integral)");
    }

    foreach (int points in new[] { 100_000, 1_000_000 })
    {
        // What the quadrature benchmarks compute: Σ αᵢ wᵢ, the rule's value of ∫₀¹ α dα = ½.
        double gaussLegendre = new QuadratureBenchmarks { Points = points }.GaussLegendre();
        if (Math.Abs(gaussLegendre - 0.5) > 1e-13)
        {
            throw new ResultMismatchException($"the {points}-point Gauss-Legendre rule integrates α to {gaussLegendre:R}, not 0.5");
        }

        lines.Add($"Gauss-Legendre, {points:N0} points: Σ αᵢ wᵢ = ½ within {Math.Abs(gaussLegendre - 0.5):E1}");
    }

    return lines;
}

static string? RepositoryRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NigGen.sln")))
            {
                return dir.FullName;
            }
        }
    }

    return null;
}

