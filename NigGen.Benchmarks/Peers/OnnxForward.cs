using System;
using Microsoft.ML.OnnxRuntime;

namespace NigGen.Benchmarks.Peers;

/// <summary>
/// An ONNX Runtime session for a fixed batch size with its input and output bound once (OrtIoBinding over pinned
/// managed arrays), so that <see cref="Run"/> measures the runtime's inference and not marshalling.
/// </summary>
public sealed class OnnxForward : IDisposable
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _inputValue;
    private readonly OrtValue _outputValue;
    private readonly OrtIoBinding _binding;

    public OnnxForward(byte[] model, int intraOpThreads, int batch, long[] sampleShape, int outputLength)
    {
        Threads = intraOpThreads;
        _options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(model, _options);

        long[] inputShape = new long[sampleShape.Length + 1];
        inputShape[0] = batch;
        sampleShape.CopyTo(inputShape, 1);
        long sample = 1;
        foreach (long d in sampleShape)
        {
            sample *= d;
        }

        Input = new float[batch * sample];
        Output = new float[batch * outputLength];
        _inputValue = OrtValue.CreateTensorValueFromMemory(Input, inputShape);
        _outputValue = OrtValue.CreateTensorValueFromMemory(Output, [batch, outputLength]);
        _binding = _session.CreateIoBinding();
        _binding.BindInput(OnnxModels.InputName, _inputValue);
        _binding.BindOutput(OnnxModels.OutputName, _outputValue);
    }

    /// <summary>ONNX Runtime's intra-op threads.</summary>
    public int Threads { get; }

    /// <summary>Pinned input buffer: write samples here before <see cref="Run"/>.</summary>
    public float[] Input { get; }

    /// <summary>Pinned output buffer, filled by <see cref="Run"/>.</summary>
    public float[] Output { get; }

    public static string Version => OrtEnv.Instance().GetVersionString();

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    public void Dispose()
    {
        _binding.Dispose();
        _inputValue.Dispose();
        _outputValue.Dispose();
        _session.Dispose();
        _options.Dispose();
        _runOptions.Dispose();
    }
}
