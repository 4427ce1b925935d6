using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NigGen.Attribution;
using NigGen.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace NigGen.Tests.Reliability;

/// <summary>
/// One network instance scored from 16 threads at once: every result equals the sequential one bit for bit, nothing
/// throws, and memory is flat. The normal run makes 40 rounds of calls per thread; NIGGEN_LONG_TESTS=1 makes 2,000
/// (thousands of calls per thread).
/// </summary>
[Collection(MemoryMeasurements.Name)]
public sealed class ConcurrencyTests(ITestOutputHelper output)
{
    private const int Threads = 16;

    // A call and the buffer it fills; each returns its results as one array so that they compare bitwise.
    private sealed record Call(string Name, Func<float[]> Run);

    [Fact]
    public void Sixteen_threads_on_one_network_get_the_sequential_results_bit_for_bit_with_flat_memory()
    {
        var network = Conv2dNet.CreateRandom(seed: 41);
        var calls = Calls(network);
        var expected = calls.Select(c => c.Run()).ToArray();
        int rounds = LongTests.Choose(40, 2_000);

        // A first pass creates each thread's workspace and the quadrature tables; memory is measured around the second.
        RunOnThreads(calls, expected, rounds: 2);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        RunOnThreads(calls, expected, rounds);
        long after = GC.GetTotalMemory(forceFullCollection: true);

        output.WriteLine($"{Threads} threads × {rounds} rounds × {calls.Count} calls; managed memory {before / 1024} KiB before, {after / 1024} KiB after");
        Assert.True(after - before < 4 << 20, $"managed memory grew by {(after - before) / 1024} KiB over {Threads * rounds * calls.Count} calls");
    }

    private static void RunOnThreads(IReadOnlyList<Call> calls, float[][] expected, int rounds)
    {
        var failures = new List<string>();
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (int round = 0; round < rounds; round++)
                {
                    // Every thread walks the calls from a different place, so that different methods overlap.
                    for (int k = 0; k < calls.Count; k++)
                    {
                        int c = (k + t + round) % calls.Count;
                        var actual = calls[c].Run();
                        if (!BitwiseEqual(expected[c], actual))
                        {
                            lock (failures)
                            {
                                failures.Add($"thread {t}, round {round}: {calls[c].Name} differs from the sequential result");
                            }

                            return;
                        }
                    }
                }
            }
            catch (Exception e)
            {
                lock (failures)
                {
                    failures.Add($"thread {t}: {e}");
                }
            }
        })).ToList();

        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static bool BitwiseEqual(float[] expected, float[] actual) =>
        expected.Length == actual.Length && expected.AsSpan().SequenceEqual(actual);

    private static List<Call> Calls(Conv2dNet network)
    {
        var random = new Random(43);
        float[] Sample(int samples = 1) => Enumerable.Range(0, samples * Conv2dNet.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var input = Sample();
        var baseline = Sample();
        var batch = Sample(4);
        var calls = new List<Call>
        {
            new("Forward", () =>
            {
                var output = new float[4 * Conv2dNet.OutputLength];
                network.Forward(batch, output);
                return output;
            }),
            new("Forward on 2 threads", () =>
            {
                var output = new float[4 * Conv2dNet.OutputLength];
                network.Forward(batch, output, maxDegreeOfParallelism: 2);
                return output;
            }),
            new("InputGradient", () =>
            {
                var gradient = new float[Conv2dNet.InputLength];
                network.InputGradient(input, 1, gradient);
                return gradient;
            }),
            new("IntegratedGradients", () =>
            {
                var attribution = new float[Conv2dNet.InputLength + 1];
                attribution[^1] = network.IntegratedGradients(input, baseline, 2, attribution.AsSpan(0, Conv2dNet.InputLength), new AttributionOptions { Steps = 12 });
                return attribution;
            }),
            new("NeuronConductance", () =>
            {
                var attribution = new float[Conv2dNet.InputLength];
                network.NeuronConductance(input, baseline, 0, 5, attribution, new AttributionOptions { Steps = 9, ChunkSize = 4 });
                return attribution;
            }),
            new("DeepLift", () =>
            {
                var importance = new float[Conv2dNet.ImportanceLength + 1];
                importance[^1] = network.DeepLift(input, baseline, 1, importance.AsSpan(0, Conv2dNet.ImportanceLength));
                return importance;
            }),
            new("NeuronIntegratedGradients batched", () =>
            {
                var importances = new float[4 * Conv2dNet.ImportanceLength + 4];
                network.NeuronIntegratedGradients(batch, baseline, [0, 1, 2, 0], importances.AsSpan(0, 4 * Conv2dNet.ImportanceLength), importances.AsSpan(4 * Conv2dNet.ImportanceLength), new AttributionOptions { Steps = 10 });
                return importances;
            }),
        };

        // Neuron Integrated Gradients with chunk sizes and thread counts that cut the path differently.
        foreach (var (chunk, threads) in new[] { (0, 1), (2, 1), (5, 2), (0, 3) })
        {
            var options = new AttributionOptions { Steps = 40, ChunkSize = chunk, MaxDegreeOfParallelism = threads };
            calls.Add(new($"NeuronIntegratedGradients chunk {chunk} threads {threads}", () =>
            {
                var importance = new float[Conv2dNet.ImportanceLength + 1];
                importance[^1] = network.NeuronIntegratedGradients(input, baseline, 1, importance.AsSpan(0, Conv2dNet.ImportanceLength), options);
                return importance;
            }));
        }

        return calls;
    }
    [Fact]
    public void Helper_threads_borrow_the_networks_spare_workspaces_instead_of_keeping_their_own()
    {
        // Pool threads come and go: a helper that kept a thread-static workspace made each new pool thread allocate one
        // (3.6 MiB for the benchmark CNN, about 80 B a call averaged over a benchmark run). Helpers borrow a workspace
        // bound to the caller's network and hand it back, so repeated calls reuse the same few.
        var network = HelperWorkspaceNet.CreateRandom(41);
        var input = Enumerable.Range(0, HelperWorkspaceNet.InputLength).Select(i => MathF.Sin(i)).ToArray();
        var baseline = new float[HelperWorkspaceNet.InputLength];
        var importance = new float[HelperWorkspaceNet.ImportanceLength];
        var options = new AttributionOptions { Steps = 200, MaxDegreeOfParallelism = 2 };
        var expected = new float[importance.Length];
        network.NeuronIntegratedGradients(input, baseline, 1, expected, options with { MaxDegreeOfParallelism = 1 });

        object?[] Spares() => ((Array)typeof(NetworkDescription).GetField("_spareWorkspaces", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .GetValue(HelperWorkspaceNet.Description)!).Cast<object?>().Where(w => w is not null).ToArray();

        // Seven path blocks a call, each a few microseconds: a helper joins one of the first calls on an idle machine. On a
        // busy one the pool thread may wake only after the caller has run every block itself (200 calls were seen to
        // pass without a helper), so the calls go on until one joins, up to 20,000 of them.
        for (int call = 0; call < 20_000 && Spares().Length == 0; call++)
        {
            network.NeuronIntegratedGradients(input, baseline, 1, importance, options);
        }

        var spares = Spares();
        Assert.NotEmpty(spares);
        for (int call = 0; call < 30; call++)
        {
            network.NeuronIntegratedGradients(input, baseline, 1, importance, options);
            Assert.Equal(expected, importance);
        }

        // Two threads: at most one helper at a time, so the one spare is reused rather than joined by new ones; a
        // spare keeps no network instance (nor its weights) alive.
        Assert.Equal(spares, Spares());
        Assert.Null(spares[0]!.GetType().GetField("Network")!.GetValue(spares[0]));
    }
}

/// <summary>Tests that measure the process's managed memory run alone, after the parallel ones, so that others' allocations do not count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurements
{
    public const string Name = "Memory measurements";
}
