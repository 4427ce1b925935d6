using BenchmarkDotNet.Attributes;

namespace NigGen.Benchmarks.Suites;

/// <summary>Neuron Integrated Gradients, 50 steps, on the two reference networks: one sample and a batch of 64, one thread and all cores.</summary>
public class AttributionBenchmarks
{
    private AttributionCase _case = null!;

    [Params(NetworkKind.Mlp, NetworkKind.Cnn)]
    public NetworkKind Network { get; set; }

    // Each benchmark process checks its own build agrees before timing (Check throws on a mismatch).
    [GlobalSetup]
    public void Setup()
    {
        _case = new AttributionCase(Network);
        _ = _case.Check();
    }

    [Benchmark]
    public float NigGen() => _case.NeuronIntegratedGradients();

    [Benchmark]
    public float NigGenUnoptimised() => _case.UnoptimisedNeuronIntegratedGradients();

    /// <summary>Runs <see cref="AttributionCase.NeuronsRun"/> neurons; the summary scales the time to the whole layer.</summary>
    [Benchmark]
    public float PerNeuronConductance() => _case.PerNeuronConductance();

    [Benchmark]
    public float NigGenAllCores() => _case.NeuronIntegratedGradientsAllCores();

    [Benchmark]
    public void NigGenBatch64() => _case.NeuronIntegratedGradientsBatch();

    [Benchmark]
    public void NigGenBatch64AllCores() => _case.NeuronIntegratedGradientsBatchAllCores();

    [Benchmark]
    public void NigGenUnoptimisedBatch64() => _case.UnoptimisedNeuronIntegratedGradientsBatch();
}

/// <summary>The speed-up as the attribute layer widens: MLP 784-256-W-10 with W = 64 and 1024 (256 is the reference MLP).</summary>
public class WidthBenchmarks
{
    private AttributionCase _case = null!;

    [Params(NetworkKind.Mlp64, NetworkKind.Mlp1024)]
    public NetworkKind Network { get; set; }

    // Each benchmark process checks its own build agrees before timing (Check throws on a mismatch).
    [GlobalSetup]
    public void Setup()
    {
        _case = new AttributionCase(Network);
        _ = _case.Check();
    }

    [Benchmark]
    public float NigGen() => _case.NeuronIntegratedGradients();

    [Benchmark]
    public float NigGenUnoptimised() => _case.UnoptimisedNeuronIntegratedGradients();

    /// <summary>Runs <see cref="AttributionCase.NeuronsRun"/> neurons; the summary scales the time to the whole layer.</summary>
    [Benchmark]
    public float PerNeuronConductance() => _case.PerNeuronConductance();
}
