using System;
using System.Collections.Generic;
using NigGen.Kernels;

namespace NigGen.Benchmarks;

/// <summary>Bytes one call allocates on the calling thread once warm.</summary>
public sealed record AllocationRow(string Call, long BytesPerCall, int Calls);

/// <summary>
/// Steady-state allocations of NigGen's single-threaded calls, counted exactly on the calling thread
/// (GC.GetAllocatedBytesForCurrentThread). MemoryDiagnoser counts the whole process, so it also sees the runtime's
/// own background allocations, a byte or two per call averaged over a long call; this check is the exact figure.
/// </summary>
public static class AllocationCheck
{
    private const int WarmUpCalls = 10;
    private const int MeasuredCalls = 20;

    public static List<AllocationRow> Run(IEnumerable<NetworkKind> kinds)
    {
        var rows = new List<AllocationRow>();
        foreach (var kind in kinds)
        {
            var attribution = new AttributionCase(kind);
            var network = attribution.Network;
            foreach (int batch in new[] { 1, 64 })
            {
                var inputs = network.Inputs(batch, seed: 7);
                var outputs = new float[batch * network.OutputLength];
                rows.Add(Measure($"{network.Label}: Forward, batch {batch}", () => network.Network.Forward(inputs, outputs)));
                rows.Add(Measure($"{network.Label}: Forward, batch {batch}, all cores", () => network.Network.Forward(inputs, outputs, maxDegreeOfParallelism: -1)));
            }

            rows.Add(Measure($"{network.Label}: NeuronIntegratedGradients, 1 sample", () => attribution.NeuronIntegratedGradients()));
            rows.Add(Measure($"{network.Label}: NeuronIntegratedGradients, unoptimised, 1 sample", () => attribution.UnoptimisedNeuronIntegratedGradients()));
            rows.Add(Measure($"{network.Label}: NeuronIntegratedGradients, batch {AttributionCase.Batch} (batched overload)", attribution.NeuronIntegratedGradientsBatch));
            rows.Add(Measure($"{network.Label}: NeuronIntegratedGradients, 1 sample, all cores", () => attribution.NeuronIntegratedGradientsAllCores()));
            rows.Add(Measure($"{network.Label}: NeuronIntegratedGradients, batch {AttributionCase.Batch}, all cores", attribution.NeuronIntegratedGradientsBatchAllCores));
        }

        foreach (var (m, k, n) in new[] { (256, 256, 256), (64, 784, 256), (64, 256, 256) })
        {
            var a = new float[m * k];
            var b = new float[k * n];
            var c = new float[m * n];
            rows.Add(Measure($"Gemm.Multiply {m}×{k}×{n}", () => Gemm.Multiply(a, b, c, m, k, n)));
        }

        return rows;
    }

    private static AllocationRow Measure(string call, Action action)
    {
        for (int i = 0; i < WarmUpCalls; i++)
        {
            action();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < MeasuredCalls; i++)
        {
            action();
        }

        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        return new AllocationRow(call, (bytes + MeasuredCalls - 1) / MeasuredCalls, MeasuredCalls);
    }
}
