using System;
using System.Numerics.Tensors;

namespace NigGen.Kernels;

/// <summary>
/// The kernels of a layer graph's joins: element-wise sums (residual connections) and concatenation along channels,
/// forward and backward. A layer read by several others receives the sum of their gradients, so every backward kernel
/// here can add into its destination instead of overwriting it.
/// </summary>
public static class GraphKernels
{
    /// <summary>output = a + b element-wise (output may be a or b); an Add of more inputs adds them one at a time, in order, as PyTorch's a + b + c.</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output)
    {
        KernelArguments.SameOrLonger(a.Length, b.Length, nameof(b), nameof(a));
        KernelArguments.SameOrLonger(a.Length, output.Length, nameof(output), nameof(a));
        TensorPrimitives.Add(a, b.Slice(0, a.Length), output.Slice(0, a.Length));
    }

    /// <summary>
    /// The gradient of an Add with respect to one of its inputs, which is the output's gradient: copied into
    /// <paramref name="inputGradient"/>, or added to it when <paramref name="accumulate"/>.
    /// </summary>
    public static void AddBackward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, bool accumulate = false)
    {
        KernelArguments.SameOrLonger(outputGradient.Length, inputGradient.Length, nameof(inputGradient), nameof(outputGradient));
        var destination = inputGradient.Slice(0, outputGradient.Length);
        if (accumulate)
        {
            TensorPrimitives.Add(destination, outputGradient, destination);
        }
        else
        {
            outputGradient.CopyTo(destination);
        }
    }

    /// <summary>
    /// Copies each of <paramref name="batch"/> samples of one input (<paramref name="partLength"/> floats: its channels
    /// times the spatial size) into the concatenation's samples (<paramref name="outputLength"/> floats) at
    /// <paramref name="offset"/>: channels-first, so concatenating along channels places whole blocks.
    /// </summary>
    public static void ConcatForward(ReadOnlySpan<float> part, Span<float> output, int batch, int partLength, int outputLength, int offset)
    {
        CheckConcat(part.Length, output.Length, batch, partLength, outputLength, offset, nameof(part), nameof(output));
        for (int n = 0; n < batch; n++)
        {
            part.Slice(n * partLength, partLength).CopyTo(output.Slice(n * outputLength + offset, partLength));
        }
    }

    /// <summary>
    /// The gradient of a concatenation with respect to one input: its block of every sample's output gradient, copied
    /// into <paramref name="partGradient"/> or added to it when <paramref name="accumulate"/>.
    /// </summary>
    public static void ConcatBackward(ReadOnlySpan<float> outputGradient, Span<float> partGradient, int batch, int partLength, int outputLength, int offset, bool accumulate = false)
    {
        CheckConcat(partGradient.Length, outputGradient.Length, batch, partLength, outputLength, offset, nameof(partGradient), nameof(outputGradient));
        for (int n = 0; n < batch; n++)
        {
            var source = outputGradient.Slice(n * outputLength + offset, partLength);
            var destination = partGradient.Slice(n * partLength, partLength);
            if (accumulate)
            {
                TensorPrimitives.Add(destination, source, destination);
            }
            else
            {
                source.CopyTo(destination);
            }
        }
    }

    private static void CheckConcat(int partActual, int outputActual, int batch, int partLength, int outputLength, int offset, string partName, string outputName)
    {
        KernelArguments.NotNegative(batch, nameof(batch));
        KernelArguments.NotNegative(partLength, nameof(partLength));
        KernelArguments.NotNegative(offset, nameof(offset));
        if ((long)offset + partLength > outputLength)
        {
            throw new ArgumentException($"A part of {partLength} floats at offset {offset} does not fit a concatenation of {outputLength} floats per sample.", nameof(offset));
        }

        KernelArguments.AtLeast(partActual, KernelArguments.Product(batch, partLength), partName, "batch × partLength");
        KernelArguments.AtLeast(outputActual, KernelArguments.Product(batch, outputLength), outputName, "batch × outputLength");
    }
}
