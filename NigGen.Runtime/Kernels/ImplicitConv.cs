using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NigGen.Kernels;

/// <summary>
/// Convolution forward as an implicit GEMM: output channels across the vector lanes (the transposed weight [taps,
/// OutChannels] is the packed B panel), up to 8 output pixels as the rows, and each row's A element read straight from
/// the input through a table of tap offsets, so no im2col matrix is written or read. Every output is the same
/// ascending-tap FMA chain from the bias as in the im2col path, so both paths give bitwise the same numbers.
/// </summary>
internal static unsafe class ImplicitConv
{
    // Taps are indexed through a stack table; larger patches use the im2col path.
    private const int MaxTaps = 4096;

    // Below this many taps the transposed store of each tile costs more than im2col saves (measured on the small CNN's
    // first layer, 25 taps: im2col twice as fast; its second, 400 taps: implicit a few percent faster).
    private const int MinTaps = 64;

    // Output pixels per tile (rows of the micro-kernel): 8 rows × 2 vectors fill AVX-512's accumulators; Vector256
    // tiles take 6, whose 12 accumulators, B's two vectors and A's broadcast fit AVX2's 16 registers.
    private const int TileRows = 8;
    private const int TileRows256 = 6;

    // Floats in the widest vector.
    private const int MaxLanes = 16;

    /// <summary>Whether this machine and geometry take the implicit path (its scratch is part of <see cref="ConvGeometry.ScratchLength"/>).</summary>
    internal static bool Supports(in ConvGeometry g) => Vector256.IsHardwareAccelerated && Applies(g);

    /// <summary>Whether the geometry suits the implicit path, whatever the machine (the scratch size depends on this only).</summary>
    internal static bool Applies(in ConvGeometry g) => g.Groups == 1 && !g.IsPointwise && g.PatchLength >= MinTaps && g.PatchLength <= MaxTaps;

    /// <summary>
    /// output = weight ⋆ input + bias, or with <paramref name="accumulate"/> output += weight ⋆ input + bias (each sum
    /// formed first, then added); arguments validated by the caller, <see cref="Supports"/> true.
    /// </summary>
    internal static void Forward(in ConvGeometry g, float* input, float* weightTransposed, float* bias, float* output, int batch, float* scratch, bool accumulate = false)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Forward<Ops512, Vector512<float>>(g, input, weightTransposed, bias, output, batch, scratch, accumulate);
        }
        else
        {
            Forward<Ops256, Vector256<float>>(g, input, weightTransposed, bias, output, batch, scratch, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private static void Forward<TOps, TVec>(in ConvGeometry g, float* input, float* weightTransposed, float* bias, float* output, int batch, float* scratch, bool accumulate)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        int taps = g.PatchLength;
        int channels = g.OutChannels;
        int outW = g.OutWidth;
        int pixels = g.OutHeight * outW;
        int inLength = g.InputLength;
        int outLength = g.OutputLength;
        bool pads = g.PaddingHeight != 0 || g.PaddingWidth != 0;
        int paddedH = g.InHeight + 2 * g.PaddingHeight;
        int paddedW = g.InWidth + 2 * g.PaddingWidth;
        int paddedLength = pads ? g.InChannels * paddedH * paddedW : 0;
        nint rowStep = (nint)g.StrideHeight * paddedW;
        int sw = g.StrideWidth;

        int* offsets = stackalloc int[taps];
        TapOffsets(g, paddedH, paddedW, offsets);

        // A 1-D layer reads its interior pixels [first, end) straight from the input, and copies zero-padded only the
        // columns that the windows of the pixels on either side read: a whole padded copy of each sample (64 KiB per
        // BPNet layer and path point) took a tenth of that network's time. Same taps, same values, same sums.
        int first = 0, end = 0;
        if (pads && g.InHeight == 1 && g.KernelHeight == 1 && g.PaddingHeight == 0)
        {
            int p = g.PaddingWidth, span = g.DilationWidth * (g.KernelWidth - 1);
            first = Math.Min(outW, (p + sw - 1) / sw);
            int lastStart = g.InWidth - 1 + p - span; // pixel x's window ends inside the input when x·stride ≤ lastStart
            end = lastStart < 0 ? 0 : Math.Min(outW, lastStart / sw + 1);
        }

        bool interior = first < end;
        int* direct = stackalloc int[interior ? taps : 1];
        if (interior)
        {
            TapOffsets(g, 1, g.InWidth, direct);
        }

        int leftColumns = first == 0 ? 0 : (first - 1) * sw + g.DilationWidth * (g.KernelWidth - 1) + 1;
        int rightStart = end == outW ? paddedW : end * sw;

        // The last channel panel, when it does not fill whole vectors, is copied zero-padded (weights and bias) once per call.
        int fullChannels = channels - channels % (2 * w);
        int lastCols = channels - fullChannels;
        int lastWidth = lastCols == 0 ? 0 : (lastCols > w ? 2 * w : w);
        float* lastPanel = weightTransposed + fullChannels;
        int lastLd = channels;
        float* lastBias = stackalloc float[2 * MaxLanes];
        new Span<float>(lastBias, 2 * MaxLanes).Clear();
        if (bias != null && lastCols > 0)
        {
            new ReadOnlySpan<float>(bias + fullChannels, lastCols).CopyTo(new Span<float>(lastBias, lastCols));
        }

        if (lastCols != 0 && lastCols != lastWidth)
        {
            lastPanel = scratch + paddedLength;
            lastLd = lastWidth;
            for (int t = 0; t < taps; t++)
            {
                float* dst = lastPanel + (nint)t * lastWidth;
                new ReadOnlySpan<float>(weightTransposed + (nint)t * channels + fullChannels, lastCols).CopyTo(new Span<float>(dst, lastCols));
                new Span<float>(dst + lastCols, lastWidth - lastCols).Clear();
            }
        }

        float** bases = stackalloc float*[TileRows];
        float* tile = stackalloc float[TileRows * 2 * MaxLanes];
        int tileRows = w == 16 ? TileRows : TileRows256;
        for (int s = 0; s < batch; s++)
        {
            float* sample = input + (nint)s * inLength;
            float* result = output + (nint)s * outLength;
            if (interior)
            {
                CopyPaddedColumns(g, sample, scratch, paddedW, 0, leftColumns);
                CopyPaddedColumns(g, sample, scratch, paddedW, rightStart, paddedW);
            }
            else if (pads)
            {
                CopyPadded(g, sample, scratch, paddedH, paddedW);
                sample = scratch;
            }

            for (int c0 = 0; c0 < channels; c0 += 2 * w)
            {
                bool last = c0 == fullChannels;
                int cols = last ? lastCols : 2 * w;
                int width = last ? lastWidth : 2 * w;
                float* panel = last ? lastPanel : weightTransposed + c0;
                int ld = last ? lastLd : channels;
                float* panelBias = bias == null ? null : last ? lastBias : bias + c0;

                float* destination = result + (nint)c0 * pixels;
                if (interior)
                {
                    // The padded copy's columns start at the padding; the input's at column 0, p columns later.
                    Pixels<TOps, TVec>(0, first, scratch, offsets, outW, rowStep, sw, tileRows, bases, taps, panel, ld, width / w, panelBias, tile, cols, destination, pixels, accumulate);
                    Pixels<TOps, TVec>(first, end, sample - g.PaddingWidth, direct, outW, rowStep, sw, tileRows, bases, taps, panel, ld, width / w, panelBias, tile, cols, destination, pixels, accumulate);
                    Pixels<TOps, TVec>(end, outW, scratch, offsets, outW, rowStep, sw, tileRows, bases, taps, panel, ld, width / w, panelBias, tile, cols, destination, pixels, accumulate);
                }
                else
                {
                    Pixels<TOps, TVec>(0, pixels, sample, offsets, outW, rowStep, sw, tileRows, bases, taps, panel, ld, width / w, panelBias, tile, cols, destination, pixels, accumulate);
                }
            }
        }
    }

    /// <summary>
    /// Output pixels [<paramref name="from"/>, <paramref name="to"/>) of one channel panel: pixel (oh, ow) reads its
    /// window at <paramref name="origin"/> + oh·rowStep + ow·stride through <paramref name="offsets"/>.
    /// </summary>
    private static void Pixels<TOps, TVec>(int from, int to, float* origin, int* offsets, int outW, nint rowStep, int stride, int tileRows, float** bases, int taps, float* panel, int ld, int vectors, float* bias, float* tile, int cols, float* destination, int pixels, bool accumulate)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        // Pixels split evenly into tiles, so a remainder never runs with too few accumulators to hide FMA latency.
        // The pixel's row and column advance with it: two integer divisions per pixel cost a sixth of a tile.
        int blocks = (to - from + tileRows - 1) / tileRows;
        int oh = from / outW, ow = from - oh * outW;
        for (int p0 = from, block = 0; p0 < to; block++)
        {
            int rows = (to - p0 + blocks - block - 1) / (blocks - block);
            for (int r = 0; r < rows; r++)
            {
                bases[r] = origin + oh * rowStep + (nint)ow * stride;
                if (++ow == outW)
                {
                    ow = 0;
                    oh++;
                }
            }

            Tile<TOps, TVec>(rows, vectors, bases, offsets, taps, panel, ld, bias, tile);
            StoreTile(tile, rows, cols, destination + p0, pixels, accumulate);
            p0 += rows;
        }
    }

    /// <summary>
    /// The tile's [pixel][channel] rows into the channel-major output (a channel's pixels <paramref name="pixels"/>
    /// apart), written or, with <paramref name="add"/>, added: 8×8 blocks transposed in AVX registers, each written as
    /// the tile's pixels of 8 channels, where the element-by-element copy took a third of the time of BPNet's 96-tap
    /// tiles. Channels past the last whole block go element by element.
    /// </summary>
    private static void StoreTile(float* tile, int rows, int cols, float* destination, int pixels, bool add)
    {
        const int ldt = 2 * MaxLanes;
        int ch = 0;
        if (Avx.IsSupported)
        {
            for (; ch + 8 <= cols; ch += 8)
            {
                Transposition.Block8x8Lanes(tile + ch, ldt, destination + (nint)ch * pixels, pixels, rows, add);
            }
        }

        for (; ch < cols; ch++)
        {
            float* dst = destination + (nint)ch * pixels;
            float* src = tile + ch;
            for (int r = 0; r < rows; r++)
            {
                dst[r] = add ? dst[r] + src[r * ldt] : src[r * ldt];
            }
        }
    }

    /// <summary>Where each tap (c, kh, kw), in the weight's order, sits relative to a pixel's top-left element of the (padded) input.</summary>
    internal static void TapOffsets(in ConvGeometry g, int paddedH, int paddedW, int* offsets)
    {
        for (int c = 0, t = 0; c < g.InChannels; c++)
        {
            for (int kh = 0; kh < g.KernelHeight; kh++)
            {
                for (int kw = 0; kw < g.KernelWidth; kw++)
                {
                    offsets[t++] = (c * paddedH + kh * g.DilationHeight) * paddedW + kw * g.DilationWidth;
                }
            }
        }
    }

    internal static void CopyPadded(in ConvGeometry g, float* sample, float* padded, int paddedH, int paddedW)
    {
        new Span<float>(padded, g.InChannels * paddedH * paddedW).Clear();
        for (int c = 0; c < g.InChannels; c++)
        {
            for (int y = 0; y < g.InHeight; y++)
            {
                float* src = sample + ((nint)c * g.InHeight + y) * g.InWidth;
                float* dst = padded + ((nint)c * paddedH + y + g.PaddingHeight) * paddedW + g.PaddingWidth;
                new ReadOnlySpan<float>(src, g.InWidth).CopyTo(new Span<float>(dst, g.InWidth));
            }
        }
    }

    /// <summary>Columns [<paramref name="from"/>, <paramref name="to"/>) of each channel's zero-padded row (1-D layers).</summary>
    internal static void CopyPaddedColumns(in ConvGeometry g, float* sample, float* padded, int paddedW, int from, int to)
    {
        int p = g.PaddingWidth, inW = g.InWidth;
        int copyFrom = Math.Clamp(from, p, p + inW), copyTo = Math.Clamp(to, p, p + inW);
        for (int c = 0; c < g.InChannels; c++)
        {
            float* row = padded + (nint)c * paddedW;
            if (copyFrom < copyTo)
            {
                new ReadOnlySpan<float>(sample + (nint)c * inW + copyFrom - p, copyTo - copyFrom).CopyTo(new Span<float>(row + copyFrom, copyTo - copyFrom));
            }

            new Span<float>(row + from, Math.Max(0, Math.Min(to, p) - from)).Clear();
            int rightZeros = Math.Max(from, p + inW);
            new Span<float>(row + rightZeros, Math.Max(0, to - rightZeros)).Clear();
        }
    }

    private static void Tile<TOps, TVec>(int rows, int vectors, float** bases, int* offsets, int taps, float* panel, int ld, float* bias, float* tile)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        if (vectors == 2)
        {
            switch (rows)
            {
                case 8: Kernel<TOps, TVec, R8, V2>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 7: Kernel<TOps, TVec, R7, V2>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 6: Kernel<TOps, TVec, R6, V2>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 5: Kernel<TOps, TVec, R5, V2>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 4: Kernel<TOps, TVec, R4, V2>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 3: Kernel<TOps, TVec, R3, V2>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 2: Kernel<TOps, TVec, R2, V2>(bases, offsets, taps, panel, ld, bias, tile); break;
                default: Kernel<TOps, TVec, R1, V2>(bases, offsets, taps, panel, ld, bias, tile); break;
            }
        }
        else
        {
            switch (rows)
            {
                case 8: Kernel<TOps, TVec, R8, V1>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 7: Kernel<TOps, TVec, R7, V1>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 6: Kernel<TOps, TVec, R6, V1>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 5: Kernel<TOps, TVec, R5, V1>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 4: Kernel<TOps, TVec, R4, V1>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 3: Kernel<TOps, TVec, R3, V1>(bases, offsets, taps, panel, ld, bias, tile); break;
                case 2: Kernel<TOps, TVec, R2, V1>(bases, offsets, taps, panel, ld, bias, tile); break;
                default: Kernel<TOps, TVec, R1, V1>(bases, offsets, taps, panel, ld, bias, tile); break;
            }
        }
    }

    /// <summary>
    /// TRows pixels × TVectors vectors of channels, accumulators in registers over every tap: per tap one offset, one
    /// broadcast per pixel from the input and one or two weight vectors. Writes [pixel][channel] rows of 2·MaxLanes floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TOps, TVec, TRows, TVectors>(float** bases, int* offsets, int taps, float* b, int ld, float* bias, float* tile)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TRows : struct, IConstant
        where TVectors : struct, IConstant
    {
        int w = TOps.Count;
        int r = TRows.Value;
        bool two = TVectors.Value == 2;
        float* a0 = bases[0];
        float* a1 = r > 1 ? bases[1] : a0;
        float* a2 = r > 2 ? bases[2] : a0;
        float* a3 = r > 3 ? bases[3] : a0;
        float* a4 = r > 4 ? bases[4] : a0;
        float* a5 = r > 5 ? bases[5] : a0;
        float* a6 = r > 6 ? bases[6] : a0;
        float* a7 = r > 7 ? bases[7] : a0;
        TVec z = TOps.Zero;
        TVec bias0 = bias == null ? z : TOps.Load(bias);
        TVec bias1 = bias == null || !two ? z : TOps.Load(bias + w);
        TVec s00 = bias0, s01 = bias1;
        TVec s10 = bias0, s11 = bias1;
        TVec s20 = bias0, s21 = bias1;
        TVec s30 = bias0, s31 = bias1;
        TVec s40 = bias0, s41 = bias1;
        TVec s50 = bias0, s51 = bias1;
        TVec s60 = bias0, s61 = bias1;
        TVec s70 = bias0, s71 = bias1;
        for (int p = 0; p < taps; p++)
        {
            nint o = offsets[p];
            TVec b0 = TOps.Load(b);
            TVec b1 = two ? TOps.Load(b + w) : z;
            b += ld;
            TVec x = TOps.Broadcast(a0[o]);
            s00 = TOps.MultiplyAdd(x, b0, s00);
            if (two) s01 = TOps.MultiplyAdd(x, b1, s01);
            if (r > 1)
            {
                x = TOps.Broadcast(a1[o]);
                s10 = TOps.MultiplyAdd(x, b0, s10);
                if (two) s11 = TOps.MultiplyAdd(x, b1, s11);
            }

            if (r > 2)
            {
                x = TOps.Broadcast(a2[o]);
                s20 = TOps.MultiplyAdd(x, b0, s20);
                if (two) s21 = TOps.MultiplyAdd(x, b1, s21);
            }

            if (r > 3)
            {
                x = TOps.Broadcast(a3[o]);
                s30 = TOps.MultiplyAdd(x, b0, s30);
                if (two) s31 = TOps.MultiplyAdd(x, b1, s31);
            }

            if (r > 4)
            {
                x = TOps.Broadcast(a4[o]);
                s40 = TOps.MultiplyAdd(x, b0, s40);
                if (two) s41 = TOps.MultiplyAdd(x, b1, s41);
            }

            if (r > 5)
            {
                x = TOps.Broadcast(a5[o]);
                s50 = TOps.MultiplyAdd(x, b0, s50);
                if (two) s51 = TOps.MultiplyAdd(x, b1, s51);
            }

            if (r > 6)
            {
                x = TOps.Broadcast(a6[o]);
                s60 = TOps.MultiplyAdd(x, b0, s60);
                if (two) s61 = TOps.MultiplyAdd(x, b1, s61);
            }

            if (r > 7)
            {
                x = TOps.Broadcast(a7[o]);
                s70 = TOps.MultiplyAdd(x, b0, s70);
                if (two) s71 = TOps.MultiplyAdd(x, b1, s71);
            }
        }

        const int ldt = 2 * MaxLanes;
        Store<TOps, TVec>(tile, s00, s01, two);
        if (r > 1) Store<TOps, TVec>(tile + ldt, s10, s11, two);
        if (r > 2) Store<TOps, TVec>(tile + 2 * ldt, s20, s21, two);
        if (r > 3) Store<TOps, TVec>(tile + 3 * ldt, s30, s31, two);
        if (r > 4) Store<TOps, TVec>(tile + 4 * ldt, s40, s41, two);
        if (r > 5) Store<TOps, TVec>(tile + 5 * ldt, s50, s51, two);
        if (r > 6) Store<TOps, TVec>(tile + 6 * ldt, s60, s61, two);
        if (r > 7) Store<TOps, TVec>(tile + 7 * ldt, s70, s71, two);
    }

    private static void Store<TOps, TVec>(float* row, TVec first, TVec second, bool two)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TOps.Store(row, first);
        if (two)
        {
            TOps.Store(row + TOps.Count, second);
        }
    }
}
