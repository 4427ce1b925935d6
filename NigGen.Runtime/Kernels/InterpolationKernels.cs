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
    public static void InterpolateMaxPooled(in PoolGeometry geometry, Activation activation, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, ReadOnlySpan<double> alphas, Span<float> output, Span<float> sampleScratch, Span<int> argmaxScratch)
    {
        PoolGeometry g = geometry;
        CheckPooled(g, difference, start, alphas, output, sampleScratch);
        KernelArguments.AtLeast(argmaxScratch.Length, g.OutputLength, nameof(argmaxScratch), "geometry.OutputLength");
        int outLength = g.OutputLength;
        bool afterMaximum = activation is Activation.None or Activation.Relu;
        bool inRegisters = afterMaximum && PoolKernels.Is2x2(g) && g.OutWidth >= 4;
        for (int p = 0; p < alphas.Length; p++)
        {
            var row = output.Slice(p * outLength, outLength);
            if (inRegisters)
            {
                MaxPooled2x2(g, difference, start, (float)alphas[p], activation == Activation.Relu, row);
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
    public static void InterpolateAvgPooled(in PoolGeometry geometry, Activation activation, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, ReadOnlySpan<double> alphas, Span<float> output, Span<float> sampleScratch)
    {
        PoolGeometry g = geometry;
        CheckPooled(g, difference, start, alphas, output, sampleScratch);
        int outLength = g.OutputLength;
        bool inRegisters = activation is Activation.None or Activation.Relu && PoolKernels.Is2x2(g) && g.OutWidth >= 4;
        for (int p = 0; p < alphas.Length; p++)
        {
            var row = output.Slice(p * outLength, outLength);
            if (inRegisters)
            {
                AvgPooled2x2(g, difference, start, (float)alphas[p], activation == Activation.Relu, row);
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

    // One path point of a 2×2, stride-2 max pooling (at least four outputs a row), interpolated in registers: each lane
    // takes its window's four elements in row-major order with PoolKernels' rule, then ReLU if asked. A row's last block
    // overlaps the previous one when it does not fit, recomputing its outputs identically.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxPooled2x2(in PoolGeometry g, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, float alpha, bool relu, Span<float> output)
    {
        int inW = g.InWidth, outW = g.OutWidth, outH = g.OutHeight, plane = g.InHeight * inW;
        fixed (float* pd = difference, ps = start, po = output)
        {
            float* o = po;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int y = 0; y < outH; y++, o += outW)
                {
                    nint top = (nint)c * plane + (nint)2 * y * inW;
                    if (outW >= 8)
                    {
                        for (int x = 0; x < outW; x += 8)
                        {
                            x = Math.Min(x, outW - 8);
                            nint at = top + 2 * x;
                            (Vector256<float> e0, Vector256<float> e1) = Pairs8(pd + at, ps + at, alpha);
                            (Vector256<float> e2, Vector256<float> e3) = Pairs8(pd + at + inW, ps + at + inW, alpha);
                            Vector256<float> max = PoolKernels.TakeValue(e3, PoolKernels.TakeValue(e2, PoolKernels.TakeValue(e1, e0)));
                            if (relu)
                            {
                                max = Vector256.AndNot(max, Vector256.LessThanOrEqual(max, Vector256<float>.Zero));
                            }

                            max.Store(o + x);
                        }

                        continue;
                    }

                    for (int x = 0; x < outW; x += 4)
                    {
                        x = Math.Min(x, outW - 4);
                        nint at = top + 2 * x;
                        (Vector128<float> e0, Vector128<float> e1) = Pairs4(pd + at, ps + at, alpha);
                        (Vector128<float> e2, Vector128<float> e3) = Pairs4(pd + at + inW, ps + at + inW, alpha);
                        Vector128<float> max = PoolKernels.TakeValue(e3, PoolKernels.TakeValue(e2, PoolKernels.TakeValue(e1, e0)));
                        if (relu)
                        {
                            max = Vector128.AndNot(max, Vector128.LessThanOrEqual(max, Vector128<float>.Zero));
                        }

                        max.Store(o + x);
                    }
                }
            }
        }
    }

    // One path point of a 2×2, stride-2 average pooling (at least four outputs a row), interpolated and activated in
    // registers, each window summed in the scalar loop's order.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AvgPooled2x2(in PoolGeometry g, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, float alpha, bool relu, Span<float> output)
    {
        int inW = g.InWidth, outW = g.OutWidth, outH = g.OutHeight, plane = g.InHeight * inW;
        fixed (float* pd = difference, ps = start, po = output)
        {
            float* o = po;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int y = 0; y < outH; y++, o += outW)
                {
                    nint top = (nint)c * plane + (nint)2 * y * inW;
                    if (outW >= 8)
                    {
                        for (int x = 0; x < outW; x += 8)
                        {
                            x = Math.Min(x, outW - 8);
                            nint at = top + 2 * x;
                            (Vector256<float> e0, Vector256<float> e1) = Pairs8(pd + at, ps + at, alpha);
                            (Vector256<float> e2, Vector256<float> e3) = Pairs8(pd + at + inW, ps + at + inW, alpha);
                            if (relu)
                            {
                                e0 = Vector256.AndNot(e0, Vector256.LessThanOrEqual(e0, Vector256<float>.Zero));
                                e1 = Vector256.AndNot(e1, Vector256.LessThanOrEqual(e1, Vector256<float>.Zero));
                                e2 = Vector256.AndNot(e2, Vector256.LessThanOrEqual(e2, Vector256<float>.Zero));
                                e3 = Vector256.AndNot(e3, Vector256.LessThanOrEqual(e3, Vector256<float>.Zero));
                            }

                            ((((Vector256<float>.Zero + e0) + e1) + e2 + e3) / Vector256.Create(4f)).Store(o + x);
                        }

                        continue;
                    }

                    for (int x = 0; x < outW; x += 4)
                    {
                        x = Math.Min(x, outW - 4);
                        nint at = top + 2 * x;
                        (Vector128<float> e0, Vector128<float> e1) = Pairs4(pd + at, ps + at, alpha);
                        (Vector128<float> e2, Vector128<float> e3) = Pairs4(pd + at + inW, ps + at + inW, alpha);
                        if (relu)
                        {
                            e0 = Vector128.AndNot(e0, Vector128.LessThanOrEqual(e0, Vector128<float>.Zero));
                            e1 = Vector128.AndNot(e1, Vector128.LessThanOrEqual(e1, Vector128<float>.Zero));
                            e2 = Vector128.AndNot(e2, Vector128.LessThanOrEqual(e2, Vector128<float>.Zero));
                            e3 = Vector128.AndNot(e3, Vector128.LessThanOrEqual(e3, Vector128<float>.Zero));
                        }

                        ((((Vector128<float>.Zero + e0) + e1) + e2 + e3) / Vector128.Create(4f)).Store(o + x);
                    }
                }
            }
        }
    }

    // Sixteen consecutive path values d·α + s (product and sum rounded separately), split into even and odd elements.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<float> Even, Vector256<float> Odd) Pairs8(float* d, float* s, float alpha)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return PoolKernels.SplitPairs(Vector512.Load(d) * Vector512.Create(alpha) + Vector512.Load(s));
        }

        Vector256<float> a = Vector256.Create(alpha);
        return PoolKernels.SplitPairs(Vector256.Load(d) * a + Vector256.Load(s), Vector256.Load(d + 8) * a + Vector256.Load(s + 8));
    }

    // Eight consecutive path values, split into even and odd elements.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector128<float> Even, Vector128<float> Odd) Pairs4(float* d, float* s, float alpha) =>
        PoolKernels.SplitPairs(Vector256.Load(d) * Vector256.Create(alpha) + Vector256.Load(s));

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
