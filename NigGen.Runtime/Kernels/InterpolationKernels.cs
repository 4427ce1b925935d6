using System;
using System.ComponentModel;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// Points along the straight path x' + α (x − x'), in float32 as PyTorch computes Captum's scaled inputs; and the
/// fused kernels that take an affine layer's interpolated pre-activation through its activation and the pooling above
/// without writing the layers in between (for path methods whose backward pass stops above them).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class InterpolationKernels
{
    /// <summary>Row p of <paramref name="destination"/> = <paramref name="start"/> + (float)α_p · <paramref name="difference"/>, for every α.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InterpolateRows(ReadOnlySpan<float> difference, ReadOnlySpan<float> start, ReadOnlySpan<double> alphas, Span<float> destination)
    {
        int length = start.Length;
        if (difference.Length != length || destination.Length < alphas.Length * length)
        {
            throw new ArgumentException($"InterpolateRows needs difference of {length} floats and destination of at least {alphas.Length} × {length}; got {difference.Length} and {destination.Length}.");
        }

        for (int p = 0; p < alphas.Length; p++)
        {
            TensorPrimitives.MultiplyAdd(difference, (float)alphas[p], start, destination.Slice(p * length, length));
        }
    }

    /// <summary>
    /// Row p of <paramref name="destination"/> = activation(start + (float)α_p · difference): an affine layer's output
    /// along the path without its pre-activation. Bitwise <see cref="InterpolateRows"/> then the activation's kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InterpolateActivated(Activation activation, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, ReadOnlySpan<double> alphas, Span<float> destination)
    {
        int length = start.Length;
        SameLength(difference, length, "start.Length");
        KernelArguments.AtLeast(destination.Length, KernelArguments.Product(alphas.Length, length), nameof(destination), "alphas·start.Length");
        for (int p = 0; p < alphas.Length; p++)
        {
            var row = destination.Slice(p * length, length);
            if (activation == Activation.Relu)
            {
                InterpolateRelu(difference, start, (float)alphas[p], row);
            }
            else
            {
                TensorPrimitives.MultiplyAdd(difference, (float)alphas[p], start, row);
                ActivationKernels.Forward(activation, row, row);
            }
        }
    }

    /// <summary>
    /// Row p of <paramref name="output"/> = max pooling of activation(start + (float)α_p · difference): the pooling's output
    /// along the path, without the layer's pre-activation, activations or the pooling's argmax. Bitwise
    /// <see cref="InterpolateRows"/>, the activation's kernel and <see cref="PoolKernels.MaxForward"/>. No activation or
    /// ReLU is applied after the maximum, to a quarter of the elements or fewer: ReLU is non-decreasing, maps every x ≤ 0
    /// to +0 and keeps a NaN, so under the first-maximum, last-NaN rule it yields the same bits either way. Other
    /// activations are applied to every element first (LeakyReLU's 0.01·x, say, can round a tiny negative x to −0, which
    /// the rule would keep before a later +0). A 2×2, stride-2 window with no activation or ReLU runs in registers;
    /// other cases go one sample at a time through <paramref name="sampleScratch"/> (a sample of the pooling's input) and
    /// <paramref name="argmaxScratch"/> (a sample of its output), which stay in cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void InterpolateMaxPooled(in PoolGeometry geometry, Activation activation, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, ReadOnlySpan<double> alphas, Span<float> output, Span<float> sampleScratch, Span<int> argmaxScratch)
    {
        PoolGeometry g = geometry;
        CheckPooled(g, difference, start, alphas, output, sampleScratch);
        KernelArguments.AtLeast(argmaxScratch.Length, g.OutputLength, nameof(argmaxScratch), "geometry.OutputLength");
        int outLength = g.OutputLength;
        bool afterMaximum = activation is Activation.None or Activation.Relu;
        bool inRegisters = afterMaximum && PoolKernels.InRegisters2x2(g);
        for (int p = 0; p < alphas.Length; p++)
        {
            var row = output.Slice(p * outLength, outLength);
            if (inRegisters)
            {
                fixed (float* pd = difference, ps = start, po = row)
                {
                    PoolKernels.Pooled2x2<PoolKernels.MaxWindow, PathValues>(g, new PathValues(pd, ps, (float)alphas[p]), activation == Activation.Relu, po);
                }

                continue;
            }

            var sample = sampleScratch.Slice(0, g.InputLength);
            TensorPrimitives.MultiplyAdd(difference, (float)alphas[p], start, sample);
            if (!afterMaximum)
            {
                ActivationKernels.Forward(activation, sample, sample);
            }

            PoolKernels.MaxForward(g, sample, row, argmaxScratch, 1);
            if (activation == Activation.Relu)
            {
                ActivationKernels.Relu(row, row);
            }
        }
    }

    /// <summary>
    /// Row p of <paramref name="output"/> = average pooling of activation(start + (float)α_p · difference), without the
    /// layer's pre-activation and activations. Bitwise <see cref="InterpolateRows"/>, the activation's kernel and
    /// <see cref="PoolKernels.AvgForward"/>. A 2×2, stride-2 window with no activation or ReLU runs in registers; other
    /// cases go one sample at a time through <paramref name="sampleScratch"/> (a sample of the pooling's input).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void InterpolateAvgPooled(in PoolGeometry geometry, Activation activation, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, ReadOnlySpan<double> alphas, Span<float> output, Span<float> sampleScratch)
    {
        PoolGeometry g = geometry;
        CheckPooled(g, difference, start, alphas, output, sampleScratch);
        int outLength = g.OutputLength;
        bool inRegisters = activation is Activation.None or Activation.Relu && PoolKernels.InRegisters2x2(g);
        for (int p = 0; p < alphas.Length; p++)
        {
            var row = output.Slice(p * outLength, outLength);
            if (inRegisters)
            {
                fixed (float* pd = difference, ps = start, po = row)
                {
                    PoolKernels.Pooled2x2<PoolKernels.AverageWindow, PathValues>(g, new PathValues(pd, ps, (float)alphas[p]), activation == Activation.Relu, po);
                }
            }
            else
            {
                var sample = sampleScratch.Slice(0, g.InputLength);
                TensorPrimitives.MultiplyAdd(difference, (float)alphas[p], start, sample);
                if (activation != Activation.None)
                {
                    ActivationKernels.Forward(activation, sample, sample);
                }

                PoolKernels.AvgForward(g, sample, row, 1);
            }
        }
    }

    private static void CheckPooled(in PoolGeometry g, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, ReadOnlySpan<double> alphas, Span<float> output, Span<float> sampleScratch)
    {
        g.Validate("geometry");
        if (start.Length != g.InputLength)
        {
            throw new ArgumentException($"start must hold exactly {g.InputLength} elements (geometry.InputLength) but has {start.Length}.", nameof(start));
        }

        SameLength(difference, g.InputLength, "geometry.InputLength");
        KernelArguments.AtLeast(output.Length, KernelArguments.Product(alphas.Length, g.OutputLength), nameof(output), "alphas·geometry.OutputLength");
        KernelArguments.AtLeast(sampleScratch.Length, g.InputLength, nameof(sampleScratch), "geometry.InputLength");
    }

    private static void SameLength(ReadOnlySpan<float> difference, int length, string formula)
    {
        if (difference.Length != length)
        {
            throw new ArgumentException($"difference must hold exactly {length} elements ({formula}) but has {difference.Length}.", nameof(difference));
        }
    }

    // y = relu(d·α + s) element-wise: the product and the sum rounded separately, as TensorPrimitives.MultiplyAdd
    // computes them (no fused multiply-add), and ReLU as ActivationKernels.Relu (x ≤ 0 to +0, NaN kept).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InterpolateRelu(ReadOnlySpan<float> difference, ReadOnlySpan<float> start, float alpha, Span<float> destination)
    {
        ref float d = ref MemoryMarshal.GetReference(difference);
        ref float s = ref MemoryMarshal.GetReference(start);
        ref float y = ref MemoryMarshal.GetReference(destination);
        nuint n = (nuint)destination.Length;
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a = Vector512.Create(alpha);
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref d, i) * a + Vector512.LoadUnsafe(ref s, i);
                Vector512.AndNot(v, Vector512.LessThanOrEqual(v, Vector512<float>.Zero)).StoreUnsafe(ref y, i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a = Vector256.Create(alpha);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref d, i) * a + Vector256.LoadUnsafe(ref s, i);
                Vector256.AndNot(v, Vector256.LessThanOrEqual(v, Vector256<float>.Zero)).StoreUnsafe(ref y, i);
            }
        }

        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref d, i) * alpha + Unsafe.Add(ref s, i);
            Unsafe.Add(ref y, i) = v > 0f || float.IsNaN(v) ? v : 0f;
        }
    }

    // The path values d·α + s (product and sum rounded separately) as PoolKernels' 2×2 traversal reads them.
    private readonly unsafe struct PathValues(float* difference, float* start, float alpha) : PoolKernels.IPairSource
    {
        // Eight consecutive values from each of first and second, split into even and odd elements.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector256<float> Even, Vector256<float> Odd) Pairs(int first, int second)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> values = PoolKernels.Concatenate(Vector256.Load(difference + first), Vector256.Load(difference + second)) * Vector512.Create(alpha)
                    + PoolKernels.Concatenate(Vector256.Load(start + first), Vector256.Load(start + second));
                return PoolKernels.SplitPairs(values);
            }

            Vector256<float> a = Vector256.Create(alpha);
            return PoolKernels.SplitPairs(Vector256.Load(difference + first) * a + Vector256.Load(start + first), Vector256.Load(difference + second) * a + Vector256.Load(start + second));
        }

        // Eight consecutive values, split into even and odd elements.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector128<float> Even, Vector128<float> Odd) Pairs(int at) =>
            PoolKernels.SplitPairs(Vector256.Load(difference + at) * Vector256.Create(alpha) + Vector256.Load(start + at));
    }

    /// <summary>
    /// From two rows of <paramref name="values"/> (row 0 at the input, row 1 at the baseline), the path's start
    /// (the baseline row) and its difference (input row − baseline row).
    /// </summary>
    public static void CaptureEndpoints(ReadOnlySpan<float> values, Span<float> start, Span<float> difference)
    {
        int length = start.Length;
        if (difference.Length != length || values.Length < 2 * length)
        {
            throw new ArgumentException($"CaptureEndpoints needs two rows of {length} floats; got {values.Length} values and a difference of {difference.Length}.");
        }

        values.Slice(length, length).CopyTo(start);
        TensorPrimitives.Subtract(values.Slice(0, length), values.Slice(length, length), difference);
    }
}
