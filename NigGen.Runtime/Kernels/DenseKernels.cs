using System;
using System.ComponentModel;

namespace NigGen.Kernels;

/// <summary>Fully connected (PyTorch <c>Linear</c>) layer kernels over a batch of row-major samples.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DenseKernels
{
    /// <summary>output[b,o] = bias[o] + Σ_i input[b,i]·weightTransposed[i,o].</summary>
    /// <param name="input">Input [batch, inFeatures].</param>
    /// <param name="weightTransposed">PyTorch's weight [outFeatures, inFeatures] transposed: [inFeatures, outFeatures].</param>
    /// <param name="bias">Bias [outFeatures], or empty for a layer without bias.</param>
    /// <param name="output">Output [batch, outFeatures]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="inFeatures">Input features per sample.</param>
    /// <param name="outFeatures">Output features per sample.</param>
    public static unsafe void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weightTransposed, ReadOnlySpan<float> bias, Span<float> output, int batch, int inFeatures, int outFeatures)
    {
        KernelArguments.NotNegative(batch, nameof(batch));
        KernelArguments.NotNegative(inFeatures, nameof(inFeatures));
        KernelArguments.NotNegative(outFeatures, nameof(outFeatures));
        KernelArguments.AtLeast(input.Length, KernelArguments.Product(batch, inFeatures), nameof(input), "batch·inFeatures");
        KernelArguments.AtLeast(weightTransposed.Length, KernelArguments.Product(inFeatures, outFeatures), nameof(weightTransposed), "inFeatures·outFeatures");
        KernelArguments.EmptyOr(bias.Length, outFeatures, nameof(bias), "outFeatures");
        KernelArguments.AtLeast(output.Length, KernelArguments.Product(batch, outFeatures), nameof(output), "batch·outFeatures");

        // The bias seeds the accumulators, so every output is bias + the FMA chain over i, for any batch size.
        bool hasBias = !bias.IsEmpty;
        if (hasBias)
        {
            for (int row = 0; row < batch; row++)
            {
                bias.CopyTo(output.Slice(row * outFeatures, outFeatures));
            }
        }

        fixed (float* pi = input, pw = weightTransposed, po = output)
        {
            Gemm.MultiplyCore(pi, pw, po, batch, inFeatures, outFeatures, hasBias);
        }
    }

    /// <summary>inputGradient[b,i] = Σ_o outputGradient[b,o]·weight[o,i]; overwrites <paramref name="inputGradient"/>.</summary>
    /// <param name="outputGradient">Gradient with respect to the output [batch, outFeatures].</param>
    /// <param name="weight">The weight in PyTorch's layout [outFeatures, inFeatures].</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, inFeatures]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="inFeatures">Input features per sample.</param>
    /// <param name="outFeatures">Output features per sample.</param>
    public static unsafe void BackwardInput(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> weight, Span<float> inputGradient, int batch, int inFeatures, int outFeatures)
    {
        KernelArguments.NotNegative(batch, nameof(batch));
        KernelArguments.NotNegative(inFeatures, nameof(inFeatures));
        KernelArguments.NotNegative(outFeatures, nameof(outFeatures));
        KernelArguments.AtLeast(outputGradient.Length, KernelArguments.Product(batch, outFeatures), nameof(outputGradient), "batch·outFeatures");
        KernelArguments.AtLeast(weight.Length, KernelArguments.Product(outFeatures, inFeatures), nameof(weight), "outFeatures·inFeatures");
        KernelArguments.AtLeast(inputGradient.Length, KernelArguments.Product(batch, inFeatures), nameof(inputGradient), "batch·inFeatures");

        fixed (float* pg = outputGradient, pw = weight, pi = inputGradient)
        {
            Gemm.MultiplyCore(pg, pw, pi, batch, outFeatures, inFeatures, accumulate: false);
        }
    }
}
