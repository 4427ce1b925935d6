using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// Single-precision matrix multiply for row-major, contiguous matrices. Every element of C is reduced over k in
/// ascending order with fused multiply-adds, whatever kernel, vector width or tile computes it, so a row's result
/// does not depend on how many rows are multiplied together.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Gemm
{
    // A tile walks at most this many rows of B before storing C, so a 256×32-float panel of B stays in L1/L2.
    // Storing and reloading C between blocks is exact, so blocking does not change results.
    private const int KBlock = 256;

    // Floats in the widest vector (Vector512<float>), the size of the tail packing buffers.
    private const int MaxLanes = 16;

    /// <summary>C[m,n] = A[m,k]·B[k,n], or C += A·B when <paramref name="accumulate"/> is set.</summary>
    /// <param name="a">A, row-major [m, k].</param>
    /// <param name="b">B, row-major [k, n].</param>
    /// <param name="c">C, row-major [m, n]; overwritten, or added to when <paramref name="accumulate"/> is set.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="accumulate">Add the product to C instead of overwriting it.</param>
    public static unsafe void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        KernelArguments.NotNegative(m, nameof(m));
        KernelArguments.NotNegative(k, nameof(k));
        KernelArguments.NotNegative(n, nameof(n));
        KernelArguments.AtLeast(a.Length, KernelArguments.Product(m, k), nameof(a), "m·k");
        KernelArguments.AtLeast(b.Length, KernelArguments.Product(k, n), nameof(b), "k·n");
        KernelArguments.AtLeast(c.Length, KernelArguments.Product(m, n), nameof(c), "m·n");

        fixed (float* pa = a, pb = b, pc = c)
        {
            MultiplyCore(pa, pb, pc, m, k, n, accumulate);
        }
    }

    /// <summary>The unchecked core; lengths have been validated by the caller.</summary>
    [SkipLocalsInit]
    internal static unsafe void MultiplyCore(float* a, float* b, float* c, int m, int k, int n, bool accumulate)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            if (!accumulate)
            {
                new Span<float>(c, m * n).Clear();
            }

            return;
        }

        // Narrow column tails (fewer than one vector) are packed here, padded with zeros, so they run at full width too.
        float* packed = stackalloc float[KBlock * MaxLanes];
        float* tile = stackalloc float[4 * MaxLanes];
        new Span<float>(tile, 4 * MaxLanes).Clear(); // padding lanes stay finite
        for (int k0 = 0; k0 < k; k0 += KBlock)
        {
            int kc = Math.Min(KBlock, k - k0);
            bool load = accumulate || k0 > 0;
            float* ak = a + k0;
            float* bk = b + (nint)k0 * n;

            // One width per machine; lanes compute the same FMA chains at any width, so the choice never changes results.
            if (Vector512.IsHardwareAccelerated)
            {
                Block<Ops512, Vector512<float>>(ak, k, bk, c, n, m, kc, load, packed, tile);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Block<Ops256, Vector256<float>>(ak, k, bk, c, n, m, kc, load, packed, tile);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Block<Ops128, Vector128<float>>(ak, k, bk, c, n, m, kc, load, packed, tile);
            }
            else
            {
                ScalarColumns(ak, k, bk, c, n, m, kc, load);
            }
        }
    }

    private static unsafe void ScalarColumns(float* a, int lda, float* b, float* c, int n, int m, int kc, bool load)
    {
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                float* ai = a + (nint)i * lda;
                float* bj = b + j;
                float* cij = c + (nint)i * n + j;
                float sum = load ? *cij : 0f;
                for (int p = 0; p < kc; p++)
                {
                    sum = MathF.FusedMultiplyAdd(ai[p], bj[(nint)p * n], sum);
                }

                *cij = sum;
            }
        }
    }

    private static unsafe void Block<TOps, TVec>(float* a, int lda, float* b, float* c, int n, int m, int kc, bool load, float* packed, float* tile)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int j = Panels<TOps, TVec>(a, lda, b, c, n, m, kc, 0, load);
        if (j < n)
        {
            Tail<TOps, TVec>(a, lda, b, c, n, m, kc, j, load, packed, tile);
        }
    }

    /// <summary>The last n − j (&lt; one vector) columns: B's columns packed zero-padded to a vector, C through a tile.</summary>
    private static unsafe void Tail<TOps, TVec>(float* a, int lda, float* b, float* c, int n, int m, int kc, int j, bool load, float* packed, float* tile)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        int cols = n - j;
        for (int p = 0; p < kc; p++)
        {
            float* src = b + (nint)p * n + j;
            float* dst = packed + (nint)p * w;
            int q = 0;
            for (; q < cols; q++)
            {
                dst[q] = src[q];
            }

            for (; q < w; q++)
            {
                dst[q] = 0f;
            }
        }

        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            float* ci = c + (nint)i * n + j;
            if (load)
            {
                for (int r = 0; r < 4; r++)
                {
                    new ReadOnlySpan<float>(ci + (nint)r * n, cols).CopyTo(new Span<float>(tile + r * w, cols));
                }
            }

            Kernel4x1<TOps, TVec>(a + (nint)i * lda, lda, packed, w, tile, w, kc, load);
            for (int r = 0; r < 4; r++)
            {
                new ReadOnlySpan<float>(tile + r * w, cols).CopyTo(new Span<float>(ci + (nint)r * n, cols));
            }
        }

        for (; i < m; i++)
        {
            float* ci = c + (nint)i * n + j;
            if (load)
            {
                new ReadOnlySpan<float>(ci, cols).CopyTo(new Span<float>(tile, cols));
            }

            Kernel1x1<TOps, TVec>(a + (nint)i * lda, packed, w, tile, kc, load);
            new ReadOnlySpan<float>(tile, cols).CopyTo(new Span<float>(ci, cols));
        }
    }

    /// <summary>Computes the column panels starting at <paramref name="j"/> that fit whole vectors; returns the first column left.</summary>
    private static unsafe int Panels<TOps, TVec>(float* a, int lda, float* b, float* c, int n, int m, int kc, int j, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;

        // Few rows (batch 1 matrix-vector): four independent accumulator chains per row hide the FMA latency.
        if (m < 4)
        {
            for (; j + 4 * w <= n; j += 4 * w)
            {
                for (int i = 0; i < m; i++)
                {
                    Kernel1x4<TOps, TVec>(a + (nint)i * lda, b + j, n, c + (nint)i * n + j, kc, load);
                }
            }
        }

        for (; j + 2 * w <= n; j += 2 * w)
        {
            int i = 0;

            // With 32 vector registers (AVX-512) eight rows fit: 16 accumulators, half the B loads per FMA.
            if (TOps.Count == 16)
            {
                for (; i + 8 <= m; i += 8)
                {
                    Kernel8x2<TOps, TVec>(a + (nint)i * lda, lda, b + j, n, c + (nint)i * n + j, n, kc, load);
                }
            }

            for (; i + 4 <= m; i += 4)
            {
                Kernel4x2<TOps, TVec>(a + (nint)i * lda, lda, b + j, n, c + (nint)i * n + j, n, kc, load);
            }

            for (; i < m; i++)
            {
                Kernel1x2<TOps, TVec>(a + (nint)i * lda, b + j, n, c + (nint)i * n + j, kc, load);
            }
        }

        for (; j + w <= n; j += w)
        {
            int i = 0;
            for (; i + 4 <= m; i += 4)
            {
                Kernel4x1<TOps, TVec>(a + (nint)i * lda, lda, b + j, n, c + (nint)i * n + j, n, kc, load);
            }

            for (; i < m; i++)
            {
                Kernel1x1<TOps, TVec>(a + (nint)i * lda, b + j, n, c + (nint)i * n + j, kc, load);
            }
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe TVec Start<TOps, TVec>(float* c, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        => load ? TOps.Load(c) : TOps.Zero;

    private static unsafe void Kernel8x2<TOps, TVec>(float* a, int lda, float* b, int ldb, float* c, int ldc, int kc, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        float* a0 = a;
        float* a1 = a0 + lda;
        float* a2 = a1 + lda;
        float* a3 = a2 + lda;
        float* a4 = a3 + lda;
        float* a5 = a4 + lda;
        float* a6 = a5 + lda;
        float* a7 = a6 + lda;
        float* c0 = c;
        float* c1 = c0 + ldc;
        float* c2 = c1 + ldc;
        float* c3 = c2 + ldc;
        float* c4 = c3 + ldc;
        float* c5 = c4 + ldc;
        float* c6 = c5 + ldc;
        float* c7 = c6 + ldc;
        TVec s00 = Start<TOps, TVec>(c0, load), s01 = Start<TOps, TVec>(c0 + w, load);
        TVec s10 = Start<TOps, TVec>(c1, load), s11 = Start<TOps, TVec>(c1 + w, load);
        TVec s20 = Start<TOps, TVec>(c2, load), s21 = Start<TOps, TVec>(c2 + w, load);
        TVec s30 = Start<TOps, TVec>(c3, load), s31 = Start<TOps, TVec>(c3 + w, load);
        TVec s40 = Start<TOps, TVec>(c4, load), s41 = Start<TOps, TVec>(c4 + w, load);
        TVec s50 = Start<TOps, TVec>(c5, load), s51 = Start<TOps, TVec>(c5 + w, load);
        TVec s60 = Start<TOps, TVec>(c6, load), s61 = Start<TOps, TVec>(c6 + w, load);
        TVec s70 = Start<TOps, TVec>(c7, load), s71 = Start<TOps, TVec>(c7 + w, load);
        for (int p = 0; p < kc; p++)
        {
            TVec b0 = TOps.Load(b);
            TVec b1 = TOps.Load(b + w);
            b += ldb;
            TVec x = TOps.Broadcast(a0[p]);
            s00 = TOps.MultiplyAdd(x, b0, s00);
            s01 = TOps.MultiplyAdd(x, b1, s01);
            x = TOps.Broadcast(a1[p]);
            s10 = TOps.MultiplyAdd(x, b0, s10);
            s11 = TOps.MultiplyAdd(x, b1, s11);
            x = TOps.Broadcast(a2[p]);
            s20 = TOps.MultiplyAdd(x, b0, s20);
            s21 = TOps.MultiplyAdd(x, b1, s21);
            x = TOps.Broadcast(a3[p]);
            s30 = TOps.MultiplyAdd(x, b0, s30);
            s31 = TOps.MultiplyAdd(x, b1, s31);
            x = TOps.Broadcast(a4[p]);
            s40 = TOps.MultiplyAdd(x, b0, s40);
            s41 = TOps.MultiplyAdd(x, b1, s41);
            x = TOps.Broadcast(a5[p]);
            s50 = TOps.MultiplyAdd(x, b0, s50);
            s51 = TOps.MultiplyAdd(x, b1, s51);
            x = TOps.Broadcast(a6[p]);
            s60 = TOps.MultiplyAdd(x, b0, s60);
            s61 = TOps.MultiplyAdd(x, b1, s61);
            x = TOps.Broadcast(a7[p]);
            s70 = TOps.MultiplyAdd(x, b0, s70);
            s71 = TOps.MultiplyAdd(x, b1, s71);
        }

        TOps.Store(c0, s00);
        TOps.Store(c0 + w, s01);
        TOps.Store(c1, s10);
        TOps.Store(c1 + w, s11);
        TOps.Store(c2, s20);
        TOps.Store(c2 + w, s21);
        TOps.Store(c3, s30);
        TOps.Store(c3 + w, s31);
        TOps.Store(c4, s40);
        TOps.Store(c4 + w, s41);
        TOps.Store(c5, s50);
        TOps.Store(c5 + w, s51);
        TOps.Store(c6, s60);
        TOps.Store(c6 + w, s61);
        TOps.Store(c7, s70);
        TOps.Store(c7 + w, s71);
    }

    private static unsafe void Kernel4x2<TOps, TVec>(float* a, int lda, float* b, int ldb, float* c, int ldc, int kc, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        float* a0 = a;
        float* a1 = a + lda;
        float* a2 = a1 + lda;
        float* a3 = a2 + lda;
        float* c0 = c;
        float* c1 = c0 + ldc;
        float* c2 = c1 + ldc;
        float* c3 = c2 + ldc;
        TVec s00 = Start<TOps, TVec>(c0, load), s01 = Start<TOps, TVec>(c0 + w, load);
        TVec s10 = Start<TOps, TVec>(c1, load), s11 = Start<TOps, TVec>(c1 + w, load);
        TVec s20 = Start<TOps, TVec>(c2, load), s21 = Start<TOps, TVec>(c2 + w, load);
        TVec s30 = Start<TOps, TVec>(c3, load), s31 = Start<TOps, TVec>(c3 + w, load);
        for (int p = 0; p < kc; p++)
        {
            TVec b0 = TOps.Load(b);
            TVec b1 = TOps.Load(b + w);
            b += ldb;
            TVec x = TOps.Broadcast(a0[p]);
            s00 = TOps.MultiplyAdd(x, b0, s00);
            s01 = TOps.MultiplyAdd(x, b1, s01);
            x = TOps.Broadcast(a1[p]);
            s10 = TOps.MultiplyAdd(x, b0, s10);
            s11 = TOps.MultiplyAdd(x, b1, s11);
            x = TOps.Broadcast(a2[p]);
            s20 = TOps.MultiplyAdd(x, b0, s20);
            s21 = TOps.MultiplyAdd(x, b1, s21);
            x = TOps.Broadcast(a3[p]);
            s30 = TOps.MultiplyAdd(x, b0, s30);
            s31 = TOps.MultiplyAdd(x, b1, s31);
        }

        TOps.Store(c0, s00);
        TOps.Store(c0 + w, s01);
        TOps.Store(c1, s10);
        TOps.Store(c1 + w, s11);
        TOps.Store(c2, s20);
        TOps.Store(c2 + w, s21);
        TOps.Store(c3, s30);
        TOps.Store(c3 + w, s31);
    }

    private static unsafe void Kernel4x1<TOps, TVec>(float* a, int lda, float* b, int ldb, float* c, int ldc, int kc, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        float* a0 = a;
        float* a1 = a + lda;
        float* a2 = a1 + lda;
        float* a3 = a2 + lda;
        float* c0 = c;
        float* c1 = c0 + ldc;
        float* c2 = c1 + ldc;
        float* c3 = c2 + ldc;
        TVec s0 = Start<TOps, TVec>(c0, load);
        TVec s1 = Start<TOps, TVec>(c1, load);
        TVec s2 = Start<TOps, TVec>(c2, load);
        TVec s3 = Start<TOps, TVec>(c3, load);
        for (int p = 0; p < kc; p++)
        {
            TVec b0 = TOps.Load(b);
            b += ldb;
            s0 = TOps.MultiplyAdd(TOps.Broadcast(a0[p]), b0, s0);
            s1 = TOps.MultiplyAdd(TOps.Broadcast(a1[p]), b0, s1);
            s2 = TOps.MultiplyAdd(TOps.Broadcast(a2[p]), b0, s2);
            s3 = TOps.MultiplyAdd(TOps.Broadcast(a3[p]), b0, s3);
        }

        TOps.Store(c0, s0);
        TOps.Store(c1, s1);
        TOps.Store(c2, s2);
        TOps.Store(c3, s3);
    }

    private static unsafe void Kernel1x4<TOps, TVec>(float* a, float* b, int ldb, float* c, int kc, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        TVec s0 = Start<TOps, TVec>(c, load);
        TVec s1 = Start<TOps, TVec>(c + w, load);
        TVec s2 = Start<TOps, TVec>(c + 2 * w, load);
        TVec s3 = Start<TOps, TVec>(c + 3 * w, load);
        for (int p = 0; p < kc; p++)
        {
            TVec x = TOps.Broadcast(a[p]);
            s0 = TOps.MultiplyAdd(x, TOps.Load(b), s0);
            s1 = TOps.MultiplyAdd(x, TOps.Load(b + w), s1);
            s2 = TOps.MultiplyAdd(x, TOps.Load(b + 2 * w), s2);
            s3 = TOps.MultiplyAdd(x, TOps.Load(b + 3 * w), s3);
            b += ldb;
        }

        TOps.Store(c, s0);
        TOps.Store(c + w, s1);
        TOps.Store(c + 2 * w, s2);
        TOps.Store(c + 3 * w, s3);
    }

    private static unsafe void Kernel1x2<TOps, TVec>(float* a, float* b, int ldb, float* c, int kc, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        TVec s0 = Start<TOps, TVec>(c, load);
        TVec s1 = Start<TOps, TVec>(c + w, load);
        for (int p = 0; p < kc; p++)
        {
            TVec x = TOps.Broadcast(a[p]);
            s0 = TOps.MultiplyAdd(x, TOps.Load(b), s0);
            s1 = TOps.MultiplyAdd(x, TOps.Load(b + w), s1);
            b += ldb;
        }

        TOps.Store(c, s0);
        TOps.Store(c + w, s1);
    }

    private static unsafe void Kernel1x1<TOps, TVec>(float* a, float* b, int ldb, float* c, int kc, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec s0 = Start<TOps, TVec>(c, load);
        for (int p = 0; p < kc; p++)
        {
            s0 = TOps.MultiplyAdd(TOps.Broadcast(a[p]), TOps.Load(b), s0);
            b += ldb;
        }

        TOps.Store(c, s0);
    }
}
