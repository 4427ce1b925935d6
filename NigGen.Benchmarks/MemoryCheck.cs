using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace NigGen.Benchmarks;

/// <summary>One row of the memory check: what a Neuron Integrated Gradients call allocates as Steps grows.</summary>
public sealed record MemoryRow(string Network, int Steps, int ChunkSize, long SharedTableBytes, long WorkspaceBytes, long SteadyStateBytes, long? PeakWorkingSetBytes);

/// <summary>
/// Memory as Steps grows at a fixed ChunkSize: a plain measured loop, not BenchmarkDotNet. A thread's first call
/// creates that thread's workspace, so the bytes allocated by the first call on a fresh thread are the workspace; a
/// second call must allocate nothing. The quadrature table (shared by all threads, 16 B per point) is created by the
/// first call for a given Steps in the process and is reported apart.
/// </summary>
public static class MemoryCheck
{
    public const int ChunkSize = 16;

    public static readonly int[] StepCounts = [50, 100, 200, 500, 1000];

    public static List<MemoryRow> Run(IEnumerable<NetworkKind> kinds)
    {
        var rows = new List<MemoryRow>();
        foreach (var kind in kinds)
        {
            var network = ReferenceNetwork.Create(kind);
            var input = network.Inputs(1, seed: 5);
            var baseline = new float[network.InputLength];
            int target = network.Predict(input);
            foreach (int steps in StepCounts)
            {
                var options = new AttributionOptions { Steps = steps, ChunkSize = ChunkSize };
                long FirstCall(out long second) => OnFreshThread(() =>
                {
                    var importance = new float[network.ImportanceLength];
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    network.Network.NeuronIntegratedGradients(input, baseline, target, importance, options);
                    long first = GC.GetAllocatedBytesForCurrentThread() - before;
                    before = GC.GetAllocatedBytesForCurrentThread();
                    network.Network.NeuronIntegratedGradients(input, baseline, target, importance, options);
                    return (first, GC.GetAllocatedBytesForCurrentThread() - before);
                }, out second);

                long withTable = FirstCall(out _);
                long workspace = FirstCall(out long steady);
                rows.Add(new MemoryRow(network.Label, steps, ChunkSize, withTable - workspace, workspace, steady, PeakWorkingSet()));
            }
        }

        return rows;
    }

    private static long OnFreshThread(Func<(long First, long Second)> work, out long second)
    {
        (long First, long Second) result = default;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            throw new InvalidOperationException("Memory check failed on its worker thread.", error);
        }

        second = result.Second;
        return result.First;
    }

    /// <summary>The process's peak resident set (VmHWM), where Linux reports it.</summary>
    public static long? PeakWorkingSet()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path))
        {
            return null;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1]) * 1024;
            }
        }

        return null;
    }
}
