using System;
using System.Runtime.CompilerServices;
using System.ComponentModel;
using System.Numerics.Tensors;
using System.Threading;
using NigGen.Attribution;

namespace NigGen.Kernels;

/// <summary>Fully connected (PyTorch <c>Linear</c>) layer kernels over a batch of row-major samples.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DenseKernels
{
    /// <summary>
    /// Fewest multiply-adds worth handing to another thread: a column range of a matrix-vector product smaller than this
    /// costs less than waking a thread-pool thread and joining it.
    /// </summary>
    internal const int MinWorkPerThread = 48 * 1024;

    /// <summary>output[b,o] = bias[o] + Σ_i input[b,i]·weightTransposed[i,o].</summary>
    /// <param name="input">Input [batch, inFeatures].</param>
    /// <param name="weightTransposed">PyTorch's weight [outFeatures, inFeatures] transposed: [inFeatures, outFeatures].</param>
    /// <param name="bias">Bias [outFeatures], or empty for a layer without bias.</param>
    /// <param name="output">Output [batch, outFeatures]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="inFeatures">Input features per sample.</param>
    /// <param name="outFeatures">Output features per sample.</param>
    /// <param name="maxDegreeOfParallelism">
    /// Threads that may share the output's columns (−1: every core); a layer too small to repay a thread runs on the
    /// calling one. Each column is the same chain on any thread, so the numbers never change.
    /// </param>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weightTransposed, ReadOnlySpan<float> bias, Span<float> output, int batch, int inFeatures, int outFeatures, int maxDegreeOfParallelism = 1) =>
        Forward(input, weightTransposed, bias, output, batch, inFeatures, outFeatures, relu: false, maxDegreeOfParallelism);

    /// <summary>
    /// output[b,o] = max(0, bias[o] + Σ_i input[b,i]·weightTransposed[i,o]): a Dense layer with ReLU in one pass, for
    /// inference, where the pre-activation is not kept. The same numbers as <see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, int)"/>
    /// followed by <see cref="ActivationKernels.Relu"/>; the ReLU is applied in registers before the store.
    /// </summary>
    /// <param name="input">Input [batch, inFeatures].</param>
    /// <param name="weightTransposed">PyTorch's weight [outFeatures, inFeatures] transposed: [inFeatures, outFeatures].</param>
    /// <param name="bias">Bias [outFeatures], or empty for a layer without bias.</param>
    /// <param name="output">Activations [batch, outFeatures]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="inFeatures">Input features per sample.</param>
    /// <param name="outFeatures">Output features per sample.</param>
    /// <param name="maxDegreeOfParallelism">Threads that may share the output's columns (−1: every core), as for Forward.</param>
    public static void ForwardRelu(ReadOnlySpan<float> input, ReadOnlySpan<float> weightTransposed, ReadOnlySpan<float> bias, Span<float> output, int batch, int inFeatures, int outFeatures, int maxDegreeOfParallelism = 1) =>
        Forward(input, weightTransposed, bias, output, batch, inFeatures, outFeatures, relu: true, maxDegreeOfParallelism);

    private static unsafe void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weightTransposed, ReadOnlySpan<float> bias, Span<float> output, int batch, int inFeatures, int outFeatures, bool relu, int maxDegreeOfParallelism)
    {
        KernelArguments.NotNegative(batch, nameof(batch));
        KernelArguments.NotNegative(inFeatures, nameof(inFeatures));
        KernelArguments.NotNegative(outFeatures, nameof(outFeatures));
        KernelArguments.AtLeast(input.Length, KernelArguments.Product(batch, inFeatures), nameof(input), "batch·inFeatures");
        KernelArguments.AtLeast(weightTransposed.Length, KernelArguments.Product(inFeatures, outFeatures), nameof(weightTransposed), "inFeatures·outFeatures");
        KernelArguments.EmptyOr(bias.Length, outFeatures, nameof(bias), "outFeatures");
        KernelArguments.AtLeast(output.Length, KernelArguments.Product(batch, outFeatures), nameof(output), "batch·outFeatures");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDegreeOfParallelism, -1);

        // The bias seeds the accumulators, so every output is bias + the FMA chain over i, for any batch size.
        fixed (float* pi = input, pw = weightTransposed, pb = bias, po = output)
        {
            float* seed = bias.IsEmpty ? null : pb;
            int parts = ColumnParts(batch, inFeatures, outFeatures, maxDegreeOfParallelism);
            if (parts <= 1)
            {
                Gemm.MultiplyCore(pi, pw, po, batch, inFeatures, outFeatures, accumulate: false, seed, relu);
            }
            else
            {
                ColumnsJob.Run(pi, pw, seed, po, batch, inFeatures, outFeatures, relu, parts);
            }
        }
    }

    /// <summary>Column ranges a product is shared out in: one per thread allowed, each at least <see cref="MinWorkPerThread"/> multiply-adds and 64 columns.</summary>
    internal static int ColumnParts(int batch, int inFeatures, int outFeatures, int maxDegreeOfParallelism)
    {
        int threads = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : Math.Max(1, maxDegreeOfParallelism);
        long work = (long)batch * inFeatures * outFeatures;
        return (int)Math.Max(1, Math.Min(threads, Math.Min(work / MinWorkPerThread, outFeatures / 64)));
    }

    /// <summary>The column ranges of one Dense forward across threads (a reusable <see cref="ParallelJob"/>: nothing allocated per call).</summary>
    private sealed unsafe class ColumnsJob : ParallelJob
    {
        [ThreadStatic]
        private static ColumnsJob? s_forThisThread;

        private float* _input;
        private float* _weight;
        private float* _bias;
        private float* _output;
        private int _batch;
        private int _inFeatures;
        private int _outFeatures;
        private int _columns;
        private bool _relu;

        public static void Run(float* input, float* weight, float* bias, float* output, int batch, int inFeatures, int outFeatures, bool relu, int parts)
        {
            var job = s_forThisThread ??= new ColumnsJob();
            job._input = input;
            job._weight = weight;
            job._bias = bias;
            job._output = output;
            (job._batch, job._inFeatures, job._outFeatures, job._relu) = (batch, inFeatures, outFeatures, relu);

            // Whole 64-column groups per range, so every range keeps the widest kernels.
            job._columns = (outFeatures / 64 + parts - 1) / parts * 64;
            int ranges = (outFeatures + job._columns - 1) / job._columns;
            try
            {
                job.RunAll(ranges, parts, CancellationToken.None);
            }
            finally
            {
                job._input = job._weight = job._bias = job._output = null;
            }
        }

        protected override void Run(int index)
        {
            int from = index * _columns;
            int to = Math.Min(_outFeatures, from + _columns);
            Gemm.MultiplyColumns(_input, _weight, _output, _batch, _inFeatures, _outFeatures, from, to, accumulate: false, _bias, _relu);
        }
    }

    /// <summary>
    /// inputGradient[b,i] = Σ_o outputGradient[b,o]·weight[o,i]; overwrites <paramref name="inputGradient"/>, or with
    /// <paramref name="accumulate"/> adds to it (a layer read by several consumers sums their gradients): each sum then
    /// starts from the value already there, which equals overwriting and adding up to rounding.
    /// </summary>
    /// <param name="outputGradient">Gradient with respect to the output [batch, outFeatures].</param>
    /// <param name="weight">The weight in PyTorch's layout [outFeatures, inFeatures].</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, inFeatures]; overwritten, or added to.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="inFeatures">Input features per sample.</param>
    /// <param name="outFeatures">Output features per sample.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void BackwardInput(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> weight, Span<float> inputGradient, int batch, int inFeatures, int outFeatures, bool accumulate = false)
    {
        KernelArguments.NotNegative(batch, nameof(batch));
        KernelArguments.NotNegative(inFeatures, nameof(inFeatures));
        KernelArguments.NotNegative(outFeatures, nameof(outFeatures));
        KernelArguments.AtLeast(outputGradient.Length, KernelArguments.Product(batch, outFeatures), nameof(outputGradient), "batch·outFeatures");
        KernelArguments.AtLeast(weight.Length, KernelArguments.Product(outFeatures, inFeatures), nameof(weight), "outFeatures·inFeatures");
        KernelArguments.AtLeast(inputGradient.Length, KernelArguments.Product(batch, inFeatures), nameof(inputGradient), "batch·inFeatures");

        fixed (float* pg = outputGradient, pw = weight, pi = inputGradient)
        {
            Gemm.MultiplyCore(pg, pw, pi, batch, outFeatures, inFeatures, accumulate);
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
