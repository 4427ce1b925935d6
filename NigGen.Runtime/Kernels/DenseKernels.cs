using System;
using System.Runtime.CompilerServices;
using System.ComponentModel;
using System.Numerics.Tensors;

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
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weightTransposed, ReadOnlySpan<float> bias, Span<float> output, int batch, int inFeatures, int outFeatures) =>
        Forward(input, weightTransposed, bias, output, batch, inFeatures, outFeatures, relu: false);

    /// <summary>
    /// output[b,o] = max(0, bias[o] + Σ_i input[b,i]·weightTransposed[i,o]): a Dense layer with ReLU in one pass, for
    /// inference, where the pre-activation is not kept. The same numbers as <see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int)"/>
    /// followed by <see cref="ActivationKernels.Relu"/>; the ReLU is applied in registers before the store.
    /// </summary>
    /// <param name="input">Input [batch, inFeatures].</param>
    /// <param name="weightTransposed">PyTorch's weight [outFeatures, inFeatures] transposed: [inFeatures, outFeatures].</param>
    /// <param name="bias">Bias [outFeatures], or empty for a layer without bias.</param>
    /// <param name="output">Activations [batch, outFeatures]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="inFeatures">Input features per sample.</param>
    /// <param name="outFeatures">Output features per sample.</param>
    public static void ForwardRelu(ReadOnlySpan<float> input, ReadOnlySpan<float> weightTransposed, ReadOnlySpan<float> bias, Span<float> output, int batch, int inFeatures, int outFeatures) =>
        Forward(input, weightTransposed, bias, output, batch, inFeatures, outFeatures, relu: true);

    private static unsafe void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weightTransposed, ReadOnlySpan<float> bias, Span<float> output, int batch, int inFeatures, int outFeatures, bool relu)
    {
        KernelArguments.NotNegative(batch, nameof(batch));
        KernelArguments.NotNegative(inFeatures, nameof(inFeatures));
        KernelArguments.NotNegative(outFeatures, nameof(outFeatures));
        KernelArguments.AtLeast(input.Length, KernelArguments.Product(batch, inFeatures), nameof(input), "batch·inFeatures");
        KernelArguments.AtLeast(weightTransposed.Length, KernelArguments.Product(inFeatures, outFeatures), nameof(weightTransposed), "inFeatures·outFeatures");
        KernelArguments.EmptyOr(bias.Length, outFeatures, nameof(bias), "outFeatures");
        KernelArguments.AtLeast(output.Length, KernelArguments.Product(batch, outFeatures), nameof(output), "batch·outFeatures");

        // The bias seeds the accumulators, so every output is bias + the FMA chain over i, for any batch size.
        fixed (float* pi = input, pw = weightTransposed, pb = bias, po = output)
        {
            Gemm.MultiplyCore(pi, pw, po, batch, inFeatures, outFeatures, accumulate: false, bias.IsEmpty ? null : pb, relu);
        }
    }

    /// <summary>inputGradient[b,i] = Σ_o outputGradient[b,o]·weight[o,i]; overwrites <paramref name="inputGradient"/>.</summary>
    /// <param name="outputGradient">Gradient with respect to the output [batch, outFeatures].</param>
    /// <param name="weight">The weight in PyTorch's layout [outFeatures, inFeatures].</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, inFeatures]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="inFeatures">Input features per sample.</param>
    /// <param name="outFeatures">Output features per sample.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>
    /// Adds a batch's parameter gradients: weightGradient[o,i] += Σ_b outputGradient[b,o]·input[b,i] (one GEMM of the
    /// transposed output gradient and the input) and biasGradient[o] += Σ_b outputGradient[b,o]. Every element's sum
    /// continues from the value it held, in ascending b, so gradients added over consecutive blocks of a batch equal
    /// those of the whole batch in one call, bit for bit.
    /// </summary>
    /// <param name="input">The layer's input [batch, inFeatures].</param>
    /// <param name="outputGradient">Gradient with respect to the layer's output (its pre-activation) [batch, outFeatures].</param>
    /// <param name="weightGradient">The weight's gradient in PyTorch's layout [outFeatures, inFeatures]; added to.</param>
    /// <param name="biasGradient">The bias's gradient [outFeatures], added to; empty for a layer without bias.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="inFeatures">Input features per sample.</param>
    /// <param name="outFeatures">Output features per sample.</param>
    /// <param name="scratch">At least batch·outFeatures floats for the transposed output gradient.</param>
    public static unsafe void BackwardWeight(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> weightGradient, Span<float> biasGradient, int batch, int inFeatures, int outFeatures, Span<float> scratch)
    {
        KernelArguments.NotNegative(batch, nameof(batch));
        KernelArguments.NotNegative(inFeatures, nameof(inFeatures));
        KernelArguments.NotNegative(outFeatures, nameof(outFeatures));
        KernelArguments.AtLeast(input.Length, KernelArguments.Product(batch, inFeatures), nameof(input), "batch·inFeatures");
        KernelArguments.AtLeast(outputGradient.Length, KernelArguments.Product(batch, outFeatures), nameof(outputGradient), "batch·outFeatures");
        KernelArguments.AtLeast(weightGradient.Length, KernelArguments.Product(outFeatures, inFeatures), nameof(weightGradient), "outFeatures·inFeatures");
        KernelArguments.EmptyOr(biasGradient.Length, outFeatures, nameof(biasGradient), "outFeatures");
        KernelArguments.AtLeast(scratch.Length, KernelArguments.Product(batch, outFeatures), nameof(scratch), "batch·outFeatures");

        fixed (float* pi = input, pg = outputGradient, pw = weightGradient, pt = scratch)
        {
            // The GEMM reads row-major operands only: A = outputGradientᵀ [outFeatures, batch], B = input [batch, inFeatures].
            Transposition.Transpose(pg, pt, batch, outFeatures);
            Gemm.MultiplyCore(pt, pi, pw, outFeatures, batch, inFeatures, accumulate: true);
        }

        if (!biasGradient.IsEmpty)
        {
            // Row by row, so each element adds its samples in ascending order whatever the vector width.
            for (int b = 0; b < batch; b++)
            {
                TensorPrimitives.Add(biasGradient, outputGradient.Slice(b * outFeatures, outFeatures), biasGradient);
            }
        }
    }
}
