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
        if (inRegisters)
        {
            PooledAlongPath<PoolKernels.MaxWindow>(g, difference, start, alphas, output, activation == Activation.Relu);
            return;
        }

        for (int p = 0; p < alphas.Length; p++)
        {
            var row = output.Slice(p * outLength, outLength);
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
        if (inRegisters)
        {
            PooledAlongPath<PoolKernels.AverageWindow>(g, difference, start, alphas, output, activation == Activation.Relu);
            return;
        }

        for (int p = 0; p < alphas.Length; p++)
        {
            var sample = sampleScratch.Slice(0, g.InputLength);
            TensorPrimitives.MultiplyAdd(difference, (float)alphas[p], start, sample);
            if (activation != Activation.None)
            {
                ActivationKernels.Forward(activation, sample, sample);
            }

            PoolKernels.AvgForward(g, sample, output.Slice(p * outLength, outLength), 1);
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

    // Outputs per tile of PooledAlongPath: the tile's eight planes (8 KiB) stay in L1 across every point of the path.
    private const int PathTile = 256;

    /// <summary>
    /// A 2×2, stride-2 pooling (at least four outputs a row, no padding) of the path values d·α + s, product and sum
    /// rounded separately as <see cref="InterpolateRows"/> rounds them, for every α. The endpoints do not depend on α,
    /// so each tile of outputs first gathers its windows' four elements of d and of s into planes in output order (the
    /// even/odd split done once, not once a point); every point then reads whole vectors of each plane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static unsafe void PooledAlongPath<TWindow>(in PoolGeometry g, ReadOnlySpan<float> difference, ReadOnlySpan<float> start, ReadOnlySpan<double> alphas, Span<float> output, bool relu)
        where TWindow : struct, PoolKernels.IWindow2x2
    {
        int outLength = g.OutputLength;
        bool runsOfFour = g.OutWidth % 4 == 0;
        var runs = new PoolKernels.RunsOfFour(g);
        float* planes = stackalloc float[8 * PathTile]; // d at the window's top-left, top-right, bottom-left, bottom-right; then s
        fixed (float* pd = difference, ps = start, po = output)
        {
            for (int t0 = 0; t0 < outLength; t0 += PathTile)
            {
                int n = Math.Min(PathTile, outLength - t0);
                if (runsOfFour)
                {
                    GatherRunsOfFour(ref runs, g.InWidth, pd, ps, n, planes); // outLength, PathTile: multiples of 4
                }
                else
                {
                    if (n < 4)
                    {
                        (t0, n) = (outLength - 4, 4); // recompute the last four outputs identically: a vector's worth
                    }

                    GatherWindows(g, pd, ps, t0, n, planes);
                }

                // Two points a pass: the planes' eight loads serve both.
                int p = 0;
                for (; p + 1 < alphas.Length && n >= 8; p += 2)
                {
                    CombinePlanesTwice<TWindow>(planes, (float)alphas[p], (float)alphas[p + 1], n, relu, po + (nint)p * outLength + t0, outLength);
                }

                for (; p < alphas.Length; p++)
                {
                    CombinePlanes<TWindow>(planes, (float)alphas[p], n, relu, po + (nint)p * outLength + t0);
                }
            }
        }
    }

    // The next n / 4 runs of four outputs (rows a multiple of four wide), split into even and odd elements by vectors.
    private static unsafe void GatherRunsOfFour(ref PoolKernels.RunsOfFour runs, int inW, float* difference, float* start, int n, float* planes)
    {
        for (int j = 0; j < n; j += 4)
        {
            int first = runs.Next();
            SplitWindows(difference + first, inW, planes + j);
            SplitWindows(start + first, inW, planes + 4 * PathTile + j);
        }
    }

    // Four windows from their top-left element: each of their four elements into its plane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void SplitWindows(float* topLeft, int inW, float* planes)
    {
        (Vector128<float> e0, Vector128<float> e1) = PoolKernels.SplitPairs(Vector256.Load(topLeft));
        (Vector128<float> e2, Vector128<float> e3) = PoolKernels.SplitPairs(Vector256.Load(topLeft + inW));
        e0.Store(planes);
        e1.Store(planes + PathTile);
        e2.Store(planes + 2 * PathTile);
        e3.Store(planes + 3 * PathTile);
    }

    // Outputs t0 … t0 + n − 1 of any 2×2, stride-2 pooling, one window at a time.
    private static unsafe void GatherWindows(in PoolGeometry g, float* difference, float* start, int t0, int n, float* planes)
    {
        int outW = g.OutWidth, outPlane = g.OutHeight * outW, inW = g.InWidth, inPlane = g.InHeight * inW;
        for (int j = 0; j < n; j++)
        {
            int o = t0 + j, c = o / outPlane, y = o % outPlane / outW, x = o % outW;
            int at = c * inPlane + 2 * y * inW + 2 * x;
            for (int e = 0; e < 4; e++)
            {
                int element = at + (e >> 1) * inW + (e & 1);
                planes[e * PathTile + j] = difference[element];
                planes[(4 + e) * PathTile + j] = start[element];
            }
        }
    }

    // n ≥ 4 outputs of one point from the gathered planes, in the widest vectors that fit (a last vector that does not
    // fit overlaps the one before and recomputes its outputs identically).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void CombinePlanes<TWindow>(float* planes, float alpha, int n, bool relu, float* output)
        where TWindow : struct, PoolKernels.IWindow2x2
    {
        float* d = planes, s = planes + 4 * PathTile;
        const int t = PathTile;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var a = Vector512.Create(alpha);
            for (int i = 0; ; i += 16)
            {
                i = Math.Min(i, n - 16);
                TWindow.Combine(
                    Vector512.Load(d + i) * a + Vector512.Load(s + i),
                    Vector512.Load(d + t + i) * a + Vector512.Load(s + t + i),
                    Vector512.Load(d + 2 * t + i) * a + Vector512.Load(s + 2 * t + i),
                    Vector512.Load(d + 3 * t + i) * a + Vector512.Load(s + 3 * t + i), relu).Store(output + i);
                if (i + 16 == n)
                {
                    return;
                }
            }
        }

        if (n >= 8)
        {
            var a = Vector256.Create(alpha);
            for (int i = 0; ; i += 8)
            {
                i = Math.Min(i, n - 8);
                TWindow.Combine(
                    Vector256.Load(d + i) * a + Vector256.Load(s + i),
                    Vector256.Load(d + t + i) * a + Vector256.Load(s + t + i),
                    Vector256.Load(d + 2 * t + i) * a + Vector256.Load(s + 2 * t + i),
                    Vector256.Load(d + 3 * t + i) * a + Vector256.Load(s + 3 * t + i), relu).Store(output + i);
                if (i + 8 == n)
                {
                    return;
                }
            }
        }

        var a4 = Vector128.Create(alpha);
        for (int i = 0; ; i += 4)
        {
            i = Math.Min(i, n - 4);
            TWindow.Combine(
                Vector128.Load(d + i) * a4 + Vector128.Load(s + i),
                Vector128.Load(d + t + i) * a4 + Vector128.Load(s + t + i),
                Vector128.Load(d + 2 * t + i) * a4 + Vector128.Load(s + 2 * t + i),
                Vector128.Load(d + 3 * t + i) * a4 + Vector128.Load(s + 3 * t + i), relu).Store(output + i);
            if (i + 4 == n)
            {
                return;
            }
        }
    }

    // CombinePlanes for two points at once (n ≥ 8), the second's outputs rowStride floats after the first's: each vector
    // of the planes is loaded once for both, and each point's values are computed exactly as CombinePlanes computes them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void CombinePlanesTwice<TWindow>(float* planes, float alpha, float beta, int n, bool relu, float* output, int rowStride)
        where TWindow : struct, PoolKernels.IWindow2x2
    {
        float* d = planes, s = planes + 4 * PathTile;
        const int t = PathTile;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> a = Vector512.Create(alpha), b = Vector512.Create(beta);
            for (int i = 0; ; i += 16)
            {
                i = Math.Min(i, n - 16);
                Vector512<float> d0 = Vector512.Load(d + i), d1 = Vector512.Load(d + t + i);
                Vector512<float> d2 = Vector512.Load(d + 2 * t + i), d3 = Vector512.Load(d + 3 * t + i);
                Vector512<float> s0 = Vector512.Load(s + i), s1 = Vector512.Load(s + t + i);
                Vector512<float> s2 = Vector512.Load(s + 2 * t + i), s3 = Vector512.Load(s + 3 * t + i);
                TWindow.Combine(d0 * a + s0, d1 * a + s1, d2 * a + s2, d3 * a + s3, relu).Store(output + i);
                TWindow.Combine(d0 * b + s0, d1 * b + s1, d2 * b + s2, d3 * b + s3, relu).Store(output + rowStride + i);
                if (i + 16 == n)
                {
                    return;
                }
            }
        }

        // Here n ≥ 8 (the caller's condition): 8-float vectors, the last overlapping the one before where n is not a multiple.
        {
            Vector256<float> a = Vector256.Create(alpha), b = Vector256.Create(beta);
            for (int i = 0; ; i += 8)
            {
                i = Math.Min(i, n - 8);
                Vector256<float> d0 = Vector256.Load(d + i), d1 = Vector256.Load(d + t + i);
                Vector256<float> d2 = Vector256.Load(d + 2 * t + i), d3 = Vector256.Load(d + 3 * t + i);
                Vector256<float> s0 = Vector256.Load(s + i), s1 = Vector256.Load(s + t + i);
                Vector256<float> s2 = Vector256.Load(s + 2 * t + i), s3 = Vector256.Load(s + 3 * t + i);
                TWindow.Combine(d0 * a + s0, d1 * a + s1, d2 * a + s2, d3 * a + s3, relu).Store(output + i);
                TWindow.Combine(d0 * b + s0, d1 * b + s1, d2 * b + s2, d3 * b + s3, relu).Store(output + rowStride + i);
                if (i + 8 == n)
                {
                    return;
                }
            }
        }
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
