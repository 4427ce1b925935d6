using System;
using BenchmarkDotNet.Attributes;
using NigGen.Benchmarks.Peers;

namespace NigGen.Benchmarks.Suites;

/// <summary>Forward pass: NigGen and ONNX Runtime, each on one thread and on all cores.</summary>
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

    [GlobalSetup(Targets = [nameof(NigGenForward), nameof(NigGenForwardAllCores)])]
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

    /// <summary>NigGen's parallel overload; it splits a batch in blocks of 64 samples, so batches up to 64 use one thread.</summary>
    [Benchmark]
    public void NigGenForwardAllCores() => _network.Network.Forward(_inputs, _outputs, -1);

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
