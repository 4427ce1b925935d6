using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NigGen.Kernels;

/// <summary>Out-of-place matrix transposition, for the layouts the GEMM kernel reads (row-major A and B only).</summary>
internal static class Transposition
{
    // Square tiles keep both the rows read and the rows written within a few cache lines.
    private const int Tile = 16;

    /// <summary>destination[c, r] = source[r, c] for a row-major <paramref name="rows"/> × <paramref name="columns"/> source.</summary>
    public static unsafe void Transpose(float* source, float* destination, int rows, int columns)
    {
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < columns; c0 += Tile)
            {
                int c1 = Math.Min(columns, c0 + Tile);
                for (int r = r0; r < r1; r++)
                {
                    float* row = source + (nint)r * columns;
                    for (int c = c0; c < c1; c++)
                    {
                        destination[(nint)c * rows + r] = row[c];
                    }
                }
            }
        }
    }

    /// <summary>The checked form of <see cref="Transpose(float*, float*, int, int)"/>.</summary>
    public static unsafe void Transpose(ReadOnlySpan<float> source, Span<float> destination, int rows, int columns)
    {
        KernelArguments.AtLeast(source.Length, KernelArguments.Product(rows, columns), nameof(source), "rows·columns");
        KernelArguments.AtLeast(destination.Length, KernelArguments.Product(rows, columns), nameof(destination), "rows·columns");
        fixed (float* ps = source, pd = destination)
        {
            Transpose(ps, pd, rows, columns);
        }
    }

    /// <summary>
    /// destination[c·destinationStride + r] = source[r·sourceStride + c] for r &lt; rows, c &lt; columns: a strided
    /// transposition in 8×8 blocks of AVX registers where both sides are at least 8 long (the last block of each side
    /// overlaps the one before and rewrites the same values), element by element otherwise. With
    /// <paramref name="add"/>, destination[c·destinationStride + r] += source[r·sourceStride + c] instead: whole blocks,
    /// then the rows and columns they leave element by element (an overlapping block would add twice).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void TransposeStrided(float* source, nint sourceStride, float* destination, nint destinationStride, int rows, int columns, bool add = false)
    {
        if (!Avx.IsSupported || rows < 8 || columns < 8)
        {
            TransposeElements(source, sourceStride, destination, destinationStride, 0, rows, 0, columns, add);
            return;
        }

        if (add)
        {
            int wholeRows = rows / 8 * 8, wholeColumns = columns / 8 * 8;
            for (int r0 = 0; r0 < wholeRows; r0 += 8)
            {
                for (int c0 = 0; c0 < wholeColumns; c0 += 8)
                {
                    Block8x8(source + r0 * sourceStride + c0, sourceStride, destination + c0 * destinationStride + r0, destinationStride, add: true);
                }
            }

            TransposeElements(source, sourceStride, destination, destinationStride, 0, wholeRows, wholeColumns, columns, add: true);
            TransposeElements(source, sourceStride, destination, destinationStride, wholeRows, rows, 0, columns, add: true);
            return;
        }

        for (int r0 = 0; r0 < rows; r0 += 8)
        {
            r0 = Math.Min(r0, rows - 8);
            for (int c0 = 0; c0 < columns; c0 += 8)
            {
                c0 = Math.Min(c0, columns - 8);
                Block8x8(source + r0 * sourceStride + c0, sourceStride, destination + c0 * destinationStride + r0, destinationStride, add: false);
            }
        }
    }

    // Rows [r0, r1) and columns [c0, c1), element by element.
    private static unsafe void TransposeElements(float* source, nint sourceStride, float* destination, nint destinationStride, int r0, int r1, int c0, int c1, bool add)
    {
        for (int r = r0; r < r1; r++)
        {
            for (int c = c0; c < c1; c++)
            {
                float value = source[r * sourceStride + c];
                destination[c * destinationStride + r] = add ? destination[c * destinationStride + r] + value : value;
            }
        }
    }

    // The classic AVX 8×8 transpose: interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8x8(float* source, nint sourceStride, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2,
        out Vector256<float> c3, out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        Vector256<float> r0 = Avx.LoadVector256(source), r1 = Avx.LoadVector256(source + sourceStride);
        Vector256<float> r2 = Avx.LoadVector256(source + 2 * sourceStride), r3 = Avx.LoadVector256(source + 3 * sourceStride);
        Vector256<float> r4 = Avx.LoadVector256(source + 4 * sourceStride), r5 = Avx.LoadVector256(source + 5 * sourceStride);
        Vector256<float> r6 = Avx.LoadVector256(source + 6 * sourceStride), r7 = Avx.LoadVector256(source + 7 * sourceStride);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        c0 = Avx.Permute2x128(u0, u4, 0x20);
        c1 = Avx.Permute2x128(u1, u5, 0x20);
        c2 = Avx.Permute2x128(u2, u6, 0x20);
        c3 = Avx.Permute2x128(u3, u7, 0x20);
        c4 = Avx.Permute2x128(u0, u4, 0x31);
        c5 = Avx.Permute2x128(u1, u5, 0x31);
        c6 = Avx.Permute2x128(u2, u6, 0x31);
        c7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Block8x8(float* source, nint sourceStride, float* destination, nint destinationStride, bool add)
    {
        Transpose8x8(source, sourceStride, out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
        Store(destination, c0, add);
        Store(destination + destinationStride, c1, add);
        Store(destination + 2 * destinationStride, c2, add);
        Store(destination + 3 * destinationStride, c3, add);
        Store(destination + 4 * destinationStride, c4, add);
        Store(destination + 5 * destinationStride, c5, add);
        Store(destination + 6 * destinationStride, c6, add);
        Store(destination + 7 * destinationStride, c7, add);
    }

    /// <summary>
    /// <see cref="Block8x8"/> for a source of <paramref name="lanes"/> rows (1 to 8; all 8 are read): writes, or adds
    /// to, exactly the first <paramref name="lanes"/> elements of each destination row, in 4-, 2- and 1-float pieces.
    /// Exactly: a wider store that rewrote the elements after them unchanged would make the next block's load of those
    /// elements wait for it (a partially overlapping store is not forwarded), which cost a tenth of BPNet's time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Block8x8Lanes(float* source, nint sourceStride, float* destination, nint destinationStride, int lanes, bool add)
    {
        if (lanes == 8)
        {
            Block8x8(source, sourceStride, destination, destinationStride, add);
            return;
        }

        Transpose8x8(source, sourceStride, out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
        StoreLanes(destination, c0, lanes, add);
        StoreLanes(destination + destinationStride, c1, lanes, add);
        StoreLanes(destination + 2 * destinationStride, c2, lanes, add);
        StoreLanes(destination + 3 * destinationStride, c3, lanes, add);
        StoreLanes(destination + 4 * destinationStride, c4, lanes, add);
        StoreLanes(destination + 5 * destinationStride, c5, lanes, add);
        StoreLanes(destination + 6 * destinationStride, c6, lanes, add);
        StoreLanes(destination + 7 * destinationStride, c7, lanes, add);
    }

    // The first `lanes` (below 8) elements of `value`: four, then two, then one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreLanes(float* destination, Vector256<float> value, int lanes, bool add)
    {
        Vector128<float> part = value.GetLower();
        if (lanes >= 4)
        {
            Sse.Store(destination, add ? Sse.Add(Sse.LoadVector128(destination), part) : part);
            destination += 4;
            lanes -= 4;
            part = value.GetUpper();
        }

        if (lanes >= 2)
        {
            Vector128<float> pair = add ? Sse.Add(Sse.LoadLow(Vector128<float>.Zero, destination), part) : part;
            Sse.StoreLow(destination, pair);
            destination += 2;
            lanes -= 2;
            part = Sse.MoveHighToLow(part, part);
        }

        if (lanes == 1)
        {
            Sse.StoreScalar(destination, add ? Sse.AddScalar(Sse.LoadScalarVector128(destination), part) : part);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(float* destination, Vector256<float> value, bool add) =>
        Avx.Store(destination, add ? Avx.Add(Avx.LoadVector256(destination), value) : value);
}
