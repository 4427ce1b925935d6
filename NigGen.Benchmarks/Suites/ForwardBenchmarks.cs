using System;
using BenchmarkDotNet.Attributes;
using NigGen.Benchmarks.Peers;

namespace NigGen.Benchmarks.Suites;

/// <summary>Forward pass: NigGen (single-threaded: it has no parallel forward) vs ONNX Runtime with 1 and all intra-op threads.</summary>
public class ForwardBenchmarks
{
    private ReferenceNetwork _network = null!;
    private float[] _inputs = null!;
    private float[] _outputs = null!;
    private OnnxForward? _onnx;

    [Params(NetworkKind.Mlp, NetworkKind.Cnn)]
    public NetworkKind Network { get; set; }

    [Params(1, 64)]
    public int Batch { get; set; }

    [GlobalSetup(Target = nameof(NigGenForward))]
    public void SetupNigGen() => Prepare();

    // One session per case, created only for the method that uses it, so that no idle ONNX Runtime thread pool
    // competes with the measured code.
    [GlobalSetup(Target = nameof(OnnxRuntimeSingleThread))]
    public void SetupSingleThread() => PrepareOnnx(1);

    [GlobalSetup(Target = nameof(OnnxRuntimeAllCores))]
    public void SetupAllCores() => PrepareOnnx(Environment.ProcessorCount);

    [GlobalCleanup]
    public void Cleanup()
    {
        _onnx?.Dispose();
        _onnx = null;
    }

    [Benchmark]
    public void NigGenForward() => _network.Network.Forward(_inputs, _outputs);

    [Benchmark]
    public void OnnxRuntimeSingleThread() => _onnx!.Run();

    [Benchmark]
    public void OnnxRuntimeAllCores() => _onnx!.Run();

    private void Prepare()
    {
        _network = ReferenceNetwork.Create(Network);
        _inputs = _network.Inputs(Batch, seed: 3);
        _outputs = new float[Batch * _network.OutputLength];
    }

    private void PrepareOnnx(int threads)
    {
        Prepare();
        _onnx = new OnnxForward(_network.BuildOnnxModel(), threads, Batch, _network.SampleShape, _network.OutputLength);
        Checks.ForwardAgrees(_network, _onnx, _inputs);
    }
}
