using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using NigGen;
using NigGen.Attribution;
using NigGen.Benchmarks;
using NigGen.Gpu;
using NigGen.GpuCheck;

// The GPU backend's device check (docs/GPU.md): correctness against the CPU path on the reference networks, then
// throughput, on the first CUDA device. `--cpu-accelerator` runs the same program, scaled down, on ILGPU's CPU
// simulator, to prove the published binary works before a GPU machine is spent on it. Exit code 0: every check
// agreed; 1: a check failed; 2: no device.
bool cpu = args.Contains("--cpu-accelerator");
if (args.Any(a => a is "-h" or "--help") || args.Any(a => a != "--cpu-accelerator"))
{
    Console.WriteLine("usage: NigGen.GpuCheck [--cpu-accelerator]");
    return args.Any(a => a is "-h" or "--help") ? 0 : 2;
}

var scale = cpu ? Scale.Tiny : Scale.Full;
GpuDevice device;
try
{
    device = cpu ? GpuDevice.CreateCpuSimulator(maxGroupSize: 64) : GpuDevice.CreateCuda();
}
catch (GpuNotAvailableException e)
{
    Console.Error.WriteLine("gpu-check: " + e.Message);
    return 2;
}

using (device)
{
    var accelerator = device.Accelerator;
    Console.WriteLine($"# NigGen GPU check ({(cpu ? "CPU accelerator, tiny sizes: a smoke test, not a measurement" : "CUDA")})");
    Console.WriteLine();
    Console.WriteLine($"Device: {device.Name} ({accelerator.AcceleratorType}, {accelerator.MemorySize / (1 << 20):N0} MiB, {accelerator.NumMultiprocessors} multiprocessors, groups of up to {accelerator.MaxNumThreadsPerGroup})");
    Console.WriteLine($"Host: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
    Console.WriteLine($"Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    Console.WriteLine();

    var mlp = Mlp.CreateRandom(Seed);
    var cnn = Cnn.CreateRandom(Seed);
    using var mlpGpu = mlp.ToGpu(accelerator);
    using var cnnGpu = cnn.ToGpu(accelerator);

    Console.WriteLine("## Correctness against the CPU path (max |GPU − CPU| / max |CPU| per result; pass ≤ 1e-4)");
    Console.WriteLine();
    Console.WriteLine("| network | check | worst relative error | |");
    Console.WriteLine("|---|---|---|---|");
    bool ok = true;
    ok &= Correctness("MLP 784-256-256-10", mlp, mlpGpu, scale);
    ok &= Correctness("CNN (DigitNet)", cnn, cnnGpu, scale);

    // Two small networks that cover what the reference networks do not: every activation, strided 1-D convolution
    // gradients and average pooling.
    var activations = ActivationsNet.CreateRandom(Seed);
    using (var activationsGpu = activations.ToGpu(accelerator))
    {
        ok &= Correctness("Dense, every activation", activations, activationsGpu, scale);
    }

    var signal = SignalNet.CreateRandom(Seed);
    using (var signalGpu = signal.ToGpu(accelerator))
    {
        ok &= Correctness("Conv1d, stride 2, avg pool", signal, signalGpu, scale);
    }
    Console.WriteLine();

    Console.WriteLine($"## Throughput (CNN, Neuron Integrated Gradients at fc1 (128 neurons), {scale.Steps + 1} points, trapezoid)");
    Console.WriteLine();
    Console.WriteLine($"Rows per pass: {cnnGpu.RowsPerPass:N0}");
    Console.WriteLine();
    Console.WriteLine("| measurement | result |");
    Console.WriteLine("|---|---|");
    Throughput(cnn, cnnGpu, scale);
    Console.WriteLine();
    Breakdown(cnn, cnnGpu, scale);
    Console.WriteLine();
    Console.WriteLine(ok ? "gpu-check: every correctness check passed" : "gpu-check: a correctness check FAILED");
    return ok ? 0 : 1;
}

static bool Correctness(string name, IAttributedNetwork cpu, GpuNetwork gpu, Scale scale)
{
    var d = cpu.Description;
    var options = new AttributionOptions { Steps = scale.Steps };
    bool ok = true;

    var inputs = Pixels(scale.CheckBatch * d.InputLength, seed: 1);
    var expected = new float[scale.CheckBatch * d.OutputLength];
    var actual = new float[expected.Length];
    cpu.Forward(inputs, expected);
    gpu.Forward(inputs, actual);
    ok &= Report(name, $"Forward, batch {scale.CheckBatch}", RelativeError(expected, actual));

    var input = Pixels(d.InputLength, seed: 2);
    var baseline = new float[d.InputLength];
    int target = Predict(cpu, input);
    var importance = new float[d.ImportanceLength];
    var gpuImportance = new float[d.ImportanceLength];
    float delta = cpu.NeuronIntegratedGradients(input, baseline, target, importance, options);
    float gpuDelta = gpu.NeuronIntegratedGradients(input, baseline, target, gpuImportance, options);
    ok &= Report(name, $"NeuronIntegratedGradients, {scale.Steps} steps (delta CPU {delta:E2}, GPU {gpuDelta:E2})", RelativeError(importance, gpuImportance));

    var targets = new int[scale.CheckBatch];
    for (int s = 0; s < targets.Length; s++)
    {
        targets[s] = Predict(cpu, inputs.AsSpan(s * d.InputLength, d.InputLength));
    }

    var importances = new float[scale.CheckBatch * d.ImportanceLength];
    var gpuImportances = new float[importances.Length];
    var deltas = new float[scale.CheckBatch];
    var gpuDeltas = new float[scale.CheckBatch];
    cpu.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, options with { MaxDegreeOfParallelism = -1 });
    gpu.NeuronIntegratedGradients(inputs, baseline, targets, gpuImportances, gpuDeltas, options);
    double worst = 0;
    for (int s = 0; s < scale.CheckBatch; s++)
    {
        worst = Math.Max(worst, RelativeError(importances.AsSpan(s * d.ImportanceLength, d.ImportanceLength), gpuImportances.AsSpan(s * d.ImportanceLength, d.ImportanceLength)));
    }

    ok &= Report(name, $"NeuronIntegratedGradients, batch {scale.CheckBatch}", worst);

    var attribution = new float[d.InputLength];
    var gpuAttribution = new float[d.InputLength];
    cpu.IntegratedGradients(input, baseline, target, attribution, options);
    gpu.IntegratedGradients(input, baseline, target, gpuAttribution, options);
    ok &= Report(name, $"IntegratedGradients, {scale.Steps} steps", RelativeError(attribution, gpuAttribution));
    return ok;
}

static void Throughput(IAttributedNetwork cpu, GpuNetwork gpu, Scale scale)
{
    var d = cpu.Description;
    var options = new AttributionOptions { Steps = scale.Steps };
    var baseline = new float[d.InputLength];

    var input = Pixels(d.InputLength, seed: 3);
    int target = Predict(cpu, input);
    var importance = new float[d.ImportanceLength];
    double latency = Median(scale.LatencyRuns, () => gpu.NeuronIntegratedGradients(input, baseline, target, importance, options));
    Console.WriteLine($"| NIG batch 1: latency per call (median of {scale.LatencyRuns}) | {latency * 1e3:F3} ms (target < 0.5 ms) |");

    foreach (int batch in scale.Batches)
    {
        var inputs = Pixels(batch * d.InputLength, seed: batch);
        var targets = Enumerable.Range(0, batch).Select(s => s % d.OutputLength).ToArray();
        var importances = new float[batch * d.ImportanceLength];
        var deltas = new float[batch];
        double seconds = Median(scale.BatchRuns, () => gpu.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, options));
        Console.WriteLine($"| NIG batch {batch}: samples/s (median of {scale.BatchRuns}) | {batch / seconds:N0}{(batch == 512 ? " (target ≥ 150,000)" : string.Empty)} |");
    }

    {
        int batch = scale.ForwardBatch;
        var inputs = Pixels(batch * d.InputLength, seed: 7);
        var outputs = new float[batch * d.OutputLength];
        double seconds = Median(scale.BatchRuns, () => gpu.Forward(inputs, outputs));
        Console.WriteLine($"| Forward batch {batch}: samples/s (median of {scale.BatchRuns}) | {batch / seconds:N0} |");
    }

    {
        // The CPU path on this machine's cores, for scale: the same batch-64 call.
        int batch = scale.Batches[0];
        var inputs = Pixels(batch * d.InputLength, seed: batch);
        var targets = Enumerable.Range(0, batch).Select(s => s % d.OutputLength).ToArray();
        var importances = new float[batch * d.ImportanceLength];
        var deltas = new float[batch];
        var parallel = options with { MaxDegreeOfParallelism = -1 };
        double seconds = Median(scale.CpuRuns, () => cpu.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, parallel));
        Console.WriteLine($"| CPU path, NIG batch {batch} on {Environment.ProcessorCount} cores: samples/s (median of {scale.CpuRuns}) | {batch / seconds:N0} |");
    }
}

// One NIG call at the largest batch with every kernel launch synchronised and timed: where the time goes, for the
// next round of optimisation. Synchronising adds a few microseconds per launch, so the total exceeds the timed call.
static void Breakdown(IAttributedNetwork cpu, GpuNetwork gpu, Scale scale)
{
    var d = cpu.Description;
    int batch = scale.Batches[^1];
    var inputs = Pixels(batch * d.InputLength, seed: batch);
    var baseline = new float[d.InputLength];
    var targets = Enumerable.Range(0, batch).Select(s => s % d.OutputLength).ToArray();
    var importances = new float[batch * d.ImportanceLength];
    var deltas = new float[batch];
    var options = new AttributionOptions { Steps = scale.Steps };
    var profile = new System.Collections.Concurrent.ConcurrentDictionary<string, (int Calls, double Seconds)>();
    NigGen.Gpu.Device.DeviceKernels.Profile = profile;
    long start = Stopwatch.GetTimestamp();
    try
    {
        gpu.NeuronIntegratedGradients(inputs, baseline, targets, importances, deltas, options);
    }
    finally
    {
        NigGen.Gpu.Device.DeviceKernels.Profile = null;
    }

    double total = Stopwatch.GetElapsedTime(start).TotalSeconds;
    double kernels = profile.Values.Sum(v => v.Seconds);
    Console.WriteLine($"## Where the time goes (one NIG batch-{batch} call, every launch synchronised: {total * 1e3:F2} ms, {kernels * 1e3:F2} ms in kernels)");
    Console.WriteLine();
    Console.WriteLine("| kernel | launches | ms | share |");
    Console.WriteLine("|---|---|---|---|");
    foreach (var (name, (calls, seconds)) in profile.OrderByDescending(p => p.Value.Seconds))
    {
        Console.WriteLine($"| {name} | {calls} | {seconds * 1e3:F3} | {seconds / kernels:P1} |");
    }
}

// Seconds per call: one warm-up call (JIT, kernel compilation, buffer growth), then the median of `runs` timed calls.
static double Median(int runs, Action call)
{
    call();
    var times = new double[runs];
    for (int r = 0; r < runs; r++)
    {
        long start = Stopwatch.GetTimestamp();
        call();
        times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    Array.Sort(times);
    return times[runs / 2];
}

static bool Report(string network, string check, double error)
{
    bool pass = error <= 1e-4;
    Console.WriteLine($"| {network} | {check} | {error:E2} | {(pass ? "pass" : "FAIL")} |");
    return pass;
}

// max |actual − expected| / max |expected|: the error relative to the result's scale.
static double RelativeError(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
{
    double scale = 0, error = 0;
    for (int i = 0; i < expected.Length; i++)
    {
        scale = Math.Max(scale, Math.Abs(expected[i]));
        error = Math.Max(error, Math.Abs(actual[i] - expected[i]));
    }

    return scale == 0 ? (error == 0 ? 0 : double.PositiveInfinity) : error / scale;
}

// Deterministic pixels in [0, 1), like a normalised image (NigGen.Benchmarks' inputs).
static float[] Pixels(int length, int seed)
{
    var random = new Random(seed);
    var values = new float[length];
    for (int i = 0; i < values.Length; i++)
    {
        values[i] = random.NextSingle();
    }

    return values;
}

static int Predict(IAttributedNetwork network, ReadOnlySpan<float> sample)
{
    var output = new float[network.Description.OutputLength];
    network.Forward(sample, output);
    int best = 0;
    for (int i = 1; i < output.Length; i++)
    {
        if (output[i] > output[best])
        {
            best = i;
        }
    }

    return best;
}

/// <summary>Sizes of one run: the issue's on a GPU; a few points and samples on the CPU simulator.</summary>
internal sealed record Scale(int Steps, int CheckBatch, int[] Batches, int ForwardBatch, int LatencyRuns, int BatchRuns, int CpuRuns)
{
    public static readonly Scale Full = new(Steps: 50, CheckBatch: 64, Batches: [64, 512], ForwardBatch: 4096, LatencyRuns: 200, BatchRuns: 11, CpuRuns: 3);

    public static readonly Scale Tiny = new(Steps: 3, CheckBatch: 2, Batches: [2, 4], ForwardBatch: 8, LatencyRuns: 3, BatchRuns: 1, CpuRuns: 1);
}

/// <summary>The seed of NigGen.Benchmarks' ReferenceNetwork.WeightSeed.</summary>
internal static partial class Program
{
    private const int Seed = 20180511;
}
