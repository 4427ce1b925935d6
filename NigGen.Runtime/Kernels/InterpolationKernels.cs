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
                Pooled2x2<MaxWindow>(g, difference, start, (float)alphas[p], activation == Activation.Relu, row);
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
                Pooled2x2<AverageWindow>(g, difference, start, (float)alphas[p], activation == Activation.Relu, row);
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

    // One path point of a 2×2, stride-2 pooling (at least four outputs a row), interpolated in registers: TWindow combines
    // each lane's four window elements (in row-major order) into its output. Rows a multiple of four outputs wide go in
    // memory order, eight outputs from two runs of four (as PoolKernels' max pooling); other rows one at a time, a last
    // block that does not fit overlapping the previous one and recomputing its outputs identically.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Pooled2x2<TWindow>(in PoolGeometry g, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, float alpha, bool relu, Span<float> output)
        where TWindow : struct, IWindow2x2
    {
        int inW = g.InWidth, outW = g.OutWidth, outH = g.OutHeight, plane = g.InHeight * inW;
        fixed (float* pd = difference, ps = start, po = output)
        {
            float* o = po;
            if (outW % 4 == 0)
            {
                var runs = new PoolKernels.RunsOfFour(g);
                int count = g.Channels * outH * (outW / 4);
                int r = 0;
                for (; r + 2 <= count; r += 2, o += 8)
                {
                    int first = runs.Next(), second = runs.Next();
                    (Vector256<float> e0, Vector256<float> e1) = Pairs(pd, ps, first, second, alpha);
                    (Vector256<float> e2, Vector256<float> e3) = Pairs(pd, ps, first + inW, second + inW, alpha);
                    TWindow.Combine(e0, e1, e2, e3, relu).Store(o);
                }

                if (r < count)
                {
                    int first = runs.Next();
                    (Vector128<float> e0, Vector128<float> e1) = Pairs(pd + first, ps + first, alpha);
                    (Vector128<float> e2, Vector128<float> e3) = Pairs(pd + first + inW, ps + first + inW, alpha);
                    TWindow.Combine(e0, e1, e2, e3, relu).Store(o);
                }

                return;
            }

            for (int c = 0; c < g.Channels; c++)
            {
                for (int y = 0; y < outH; y++, o += outW)
                {
                    int top = c * plane + 2 * y * inW;
                    if (outW >= 8)
                    {
                        for (int x = 0; x < outW; x += 8)
                        {
                            x = Math.Min(x, outW - 8);
                            int at = top + 2 * x;
                            (Vector256<float> e0, Vector256<float> e1) = Pairs(pd, ps, at, at + 8, alpha);
                            (Vector256<float> e2, Vector256<float> e3) = Pairs(pd, ps, at + inW, at + inW + 8, alpha);
                            TWindow.Combine(e0, e1, e2, e3, relu).Store(o + x);
                        }

                        continue;
                    }

                    for (int x = 0; x < outW; x += 4)
                    {
                        x = Math.Min(x, outW - 4);
                        int at = top + 2 * x;
                        (Vector128<float> e0, Vector128<float> e1) = Pairs(pd + at, ps + at, alpha);
                        (Vector128<float> e2, Vector128<float> e3) = Pairs(pd + at + inW, ps + at + inW, alpha);
                        TWindow.Combine(e0, e1, e2, e3, relu).Store(o + x);
                    }
                }
            }
        }
    }

    /// <summary>What a 2×2 window's four elements (row-major, one window per lane) become, ReLU included if asked.</summary>
    private interface IWindow2x2
    {
        static abstract Vector256<float> Combine(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3, bool relu);

        static abstract Vector128<float> Combine(Vector128<float> e0, Vector128<float> e1, Vector128<float> e2, Vector128<float> e3, bool relu);
    }

    // PoolKernels' max rule (greater, or NaN), then ReLU: the same bits as ReLU before the maximum (InterpolateMaxPooled).
    private readonly struct MaxWindow : IWindow2x2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Combine(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3, bool relu)
        {
            Vector256<float> max = PoolKernels.TakeValue(e3, PoolKernels.TakeValue(e2, PoolKernels.TakeValue(e1, e0)));
            return relu ? Relu(max) : max;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Combine(Vector128<float> e0, Vector128<float> e1, Vector128<float> e2, Vector128<float> e3, bool relu)
        {
            Vector128<float> max = PoolKernels.TakeValue(e3, PoolKernels.TakeValue(e2, PoolKernels.TakeValue(e1, e0)));
            return relu ? Vector128.AndNot(max, Vector128.LessThanOrEqual(max, Vector128<float>.Zero)) : max;
        }
    }

    // ReLU on each element, then PoolKernels' average: the sum from 0 in row-major order, divided by 4.
    private readonly struct AverageWindow : IWindow2x2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Combine(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3, bool relu)
        {
            if (relu)
            {
                (e0, e1, e2, e3) = (Relu(e0), Relu(e1), Relu(e2), Relu(e3));
            }

            return (((Vector256<float>.Zero + e0) + e1) + e2 + e3) / Vector256.Create(4f);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Combine(Vector128<float> e0, Vector128<float> e1, Vector128<float> e2, Vector128<float> e3, bool relu)
        {
            if (relu)
            {
                e0 = Vector128.AndNot(e0, Vector128.LessThanOrEqual(e0, Vector128<float>.Zero));
                e1 = Vector128.AndNot(e1, Vector128.LessThanOrEqual(e1, Vector128<float>.Zero));
                e2 = Vector128.AndNot(e2, Vector128.LessThanOrEqual(e2, Vector128<float>.Zero));
                e3 = Vector128.AndNot(e3, Vector128.LessThanOrEqual(e3, Vector128<float>.Zero));
            }

            return (((Vector128<float>.Zero + e0) + e1) + e2 + e3) / Vector128.Create(4f);
        }
    }

    // ActivationKernels.Relu's rule: x ≤ 0 to +0, NaN kept.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Relu(Vector256<float> x) => Vector256.AndNot(x, Vector256.LessThanOrEqual(x, Vector256<float>.Zero));

    // The path values d·α + s (product and sum rounded separately) at eight consecutive elements from each of first and
    // second, split into even and odd elements.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<float> Even, Vector256<float> Odd) Pairs(float* d, float* s, int first, int second, float alpha)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> values = PoolKernels.Concatenate(Vector256.Load(d + first), Vector256.Load(d + second)) * Vector512.Create(alpha)
                + PoolKernels.Concatenate(Vector256.Load(s + first), Vector256.Load(s + second));
            return PoolKernels.SplitPairs(values);
        }

        Vector256<float> a = Vector256.Create(alpha);
        return PoolKernels.SplitPairs(Vector256.Load(d + first) * a + Vector256.Load(s + first), Vector256.Load(d + second) * a + Vector256.Load(s + second));
    }

    // Eight consecutive path values, split into even and odd elements.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector128<float> Even, Vector128<float> Odd) Pairs(float* d, float* s, float alpha) =>
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
