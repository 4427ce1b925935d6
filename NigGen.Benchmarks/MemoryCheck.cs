using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using NigGen.Attribution;

namespace NigGen.Benchmarks;

/// <summary>One row of the memory check: what Neuron Integrated Gradients allocates at one Steps value.</summary>
public sealed record MemoryRow(string Network, int Steps, int ChunkSize, long QuadratureTableBytes, long FirstCallBytes, long LaterCallsBytes, long? PeakWorkingSetBytes);

/// <summary>
/// Memory as Steps grows at a fixed ChunkSize: a plain measured loop, not BenchmarkDotNet. A thread's first call
/// creates that thread's workspace, so the bytes the first call on a fresh thread allocates are the workspace; the
/// calls after it must allocate nothing. The quadrature table (shared by all threads, two doubles per point) is
/// created before, on its own, and reported apart.
/// </summary>
public static class MemoryCheck
{
    public const int ChunkSize = 16;

    /// <summary>Calls measured after the first one on each fresh thread.</summary>
    public const int LaterCalls = 5;

    /// <summary>Largest spread of the first call's bytes across Steps still called flat (lazy one-off allocations).</summary>
    public const double FlatTolerance = 0.01;

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

                // Neuron Integrated Gradients evaluates the trapezoid's Steps + 1 points.
                long before = GC.GetAllocatedBytesForCurrentThread();
                Quadrature.Get(options.Rule, steps + 1);
                long table = GC.GetAllocatedBytesForCurrentThread() - before;

                // Workspaces of earlier rows' threads are garbage: collect them so the peak working set shows this row.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();

                var (first, later) = OnFreshThread(() =>
                {
                    var importance = new float[network.ImportanceLength];
                    long start = GC.GetAllocatedBytesForCurrentThread();
                    network.Network.NeuronIntegratedGradients(input, baseline, target, importance, options);
                    long firstCall = GC.GetAllocatedBytesForCurrentThread() - start;
                    start = GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < LaterCalls; i++)
                    {
                        network.Network.NeuronIntegratedGradients(input, baseline, target, importance, options);
                    }

                    return (firstCall, GC.GetAllocatedBytesForCurrentThread() - start);
                });

                rows.Add(new MemoryRow(network.Label, steps, ChunkSize, table, first, later, PeakWorkingSet()));
            }
        }

        return rows;
    }

    private static (long First, long Later) OnFreshThread(Func<(long First, long Later)> work)
    {
        (long First, long Later) result = default;
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

        return result;
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
