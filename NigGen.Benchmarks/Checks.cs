using System;
using System.Runtime.InteropServices;
using NigGen.Benchmarks.Peers;

namespace NigGen.Benchmarks;

/// <summary>Thrown when contenders disagree: a benchmark of a wrong result would be meaningless.</summary>
public sealed class ResultMismatchException(string message) : Exception(message);

/// <summary>Agreement checks run before anything is timed.</summary>
public static class Checks
{
    /// <summary>Tolerance of ONNX Runtime against NigGen's forward pass, relative to the largest output magnitude.</summary>
    public const double ForwardTolerance = 1e-4;

    /// <summary>Tolerance of the unoptimised path against the optimised one (same integral, other rounding).</summary>
    public const double UnoptimisedTolerance = 1e-3;

    /// <summary>Fills the session's input with <paramref name="inputs"/>, runs both and fails unless the outputs agree.</summary>
    public static void ForwardAgrees(ReferenceNetwork network, OnnxForward onnx, float[] inputs)
    {
        inputs.CopyTo(onnx.Input, 0);
        onnx.Run();
        var expected = new float[onnx.Output.Length];
        network.Network.Forward(inputs, expected);
        int batch = expected.Length / network.OutputLength;
        RequireClose($"ONNX Runtime ({onnx.Threads} thread(s)) forward of {network.Label}, batch {batch}", onnx.Output, expected, ForwardTolerance);
    }

    /// <summary>
    /// Fails unless NigGen's parallel Forward agrees with its single-threaded one; returns whether they are bitwise
    /// identical (NigGen promises it).
    /// </summary>
    public static bool ParallelForwardAgrees(ReferenceNetwork network, float[] inputs)
    {
        int batch = inputs.Length / network.InputLength;
        var single = new float[batch * network.OutputLength];
        var parallel = new float[single.Length];
        network.Network.Forward(inputs, single);
        network.Network.Forward(inputs, parallel, -1);
        RequireClose($"NigGen's all-cores Forward of {network.Label}, batch {batch}", parallel, single, ForwardTolerance);
        return BitwiseEqual(parallel, single);
    }

    public static bool BitwiseEqual(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));

    /// <summary>Fails unless max |actual − expected| ≤ tolerance · max |expected|.</summary>
    public static void RequireClose(string what, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tolerance)
    {
        var (worst, index, scale) = Compare(actual, expected);
        if (!(worst <= tolerance * scale))
        {
            throw new ResultMismatchException(
                $"{what}: results disagree. Element {index}: {actual[index]:R} vs NigGen {expected[index]:R}; " +
                $"|difference| = {worst:G3}, allowed {tolerance:G2} × max |NigGen| ({scale:G4}) = {tolerance * scale:G3}.");
        }
    }

    /// <summary>The largest |actual − expected|, where it is, and max |expected|.</summary>
    public static (double Worst, int Index, double Scale) Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            throw new ResultMismatchException($"lengths differ: {actual.Length} vs {expected.Length}");
        }

        double worst = 0;
        double scale = 0;
        int index = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double difference = Math.Abs((double)actual[i] - expected[i]);
            if (!(difference <= worst))
            {
                worst = difference;
                index = i;
            }

            scale = Math.Max(scale, Math.Abs(expected[i]));
        }

        return (worst, index, scale);
    }
}
