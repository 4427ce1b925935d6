using BenchmarkDotNet.Attributes;
using NigGen.Training;

namespace NigGen.Benchmarks.Suites;

/// <summary>
/// One in-process training step (forward, softmax cross-entropy, backward with every weight gradient, Adam) beside the
/// forward pass of the same batch, on one thread. NigGen has no training peer here: the ratio to its own forward pass
/// is the figure to watch (about 3× is what a backward pass with weight gradients costs in FLOPs).
/// </summary>
public class TrainingBenchmarks
{
    private ReferenceNetwork _network = null!;
    private Trainer _trainer = null!;
    private float[] _inputs = null!;
    private float[] _targets = null!;
    private float[] _outputs = null!;

    [Params(NetworkKind.Mlp, NetworkKind.Cnn)]
    public NetworkKind Network { get; set; }

    [Params(64)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _network = ReferenceNetwork.Create(Network);
        _inputs = _network.Inputs(Batch, seed: 8);
        _outputs = new float[Batch * _network.OutputLength];
        _targets = new float[Batch * _network.OutputLength];
        for (int s = 0; s < Batch; s++)
        {
            _targets[s * _network.OutputLength + s % _network.OutputLength] = 1f;
        }

        // A small learning rate keeps the weights near where they started over the many steps measured.
        _trainer = ((ITrainableNetwork)_network.Network).CreateTrainer(new TrainingOptions { LearningRate = 1e-5f });
    }

    [Benchmark]
    public float Step() => _trainer.Step(_inputs, _targets);

    [Benchmark]
    public void Forward() => _network.Network.Forward(_inputs, _outputs);
}
