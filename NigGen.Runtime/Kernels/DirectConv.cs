using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// Convolution forward for small patches with stride 1 along the width (such as a first layer on one input channel):
/// output pixels of one row across the lanes, read straight from the input row with contiguous loads, and up to four
/// output channels per tile, their weights broadcast. No im2col matrix, no packing and no transposition: the vectors
/// are stored straight into the channel-major output. Every output is the same ascending-tap FMA chain from the bias as
/// in the im2col path, so both give bitwise the same numbers.
/// </summary>
internal static unsafe class DirectConv
{
    // Up to three vectors of pixels per tile × four channels: 12 accumulators, 3 row loads and 1 broadcast live, within
    // the 16 registers of AVX2 (and leaving room on AVX-512). Rows narrower than a 16-float vector take 8-float ones.
    private const int Lanes = 8;
    private const int MaxVectors = 3;
    private const int MaxChannels = 4;

    // Taps are indexed through a stack table; larger patches use the implicit GEMM or im2col.
    private const int MaxTaps = 4096;

    /// <summary>
    /// Whether this machine and geometry can take the direct path (its padded copy is part of <see cref="ConvGeometry.ScratchLength"/>):
    /// stride 1 along the width and one group; dilation only spaces the tap offsets.
    /// </summary>
    internal static bool Supports(in ConvGeometry g) =>
        Vector256.IsHardwareAccelerated && g.Groups == 1 && g.StrideWidth == 1 && g.OutWidth >= Lanes && !g.IsPointwise && g.PatchLength <= MaxTaps;

    /// <summary>
    /// Whether the direct kernel runs where the implicit GEMM also could: with 256-bit vectors, for one-dimensional
    /// layers. Both use 12 accumulators there and load as much per FMA, but the implicit GEMM's [pixel][channel] tiles
    /// must be transposed into the channel-major output: BPNet's Neuron Integrated Gradients (four 96-tap dilated
    /// layers) took 14.4–14.8 ms with the implicit GEMM and 13.7–14.4 direct, Basset's 267–271 and 260–264. With
    /// 512-bit vectors the implicit GEMM's eight rows of two vectors do as well as this kernel's 16-float vectors
    /// (BPNet 8.9–9.7 ms against 9.2–10.1 alternating in one run) and stay. Both compute the same FMA chains, so the
    /// choice never changes a result.
    /// </summary>
    internal static bool PreferredOverImplicit(in ConvGeometry g) =>
        !Vector512.IsHardwareAccelerated && g.InHeight == 1 && g.KernelHeight == 1 && Supports(g);

    /// <summary>
    /// output = weight ⋆ input + bias; arguments validated by the caller, <see cref="Supports"/> true. Rows at least 16
    /// wide take 16-float vectors where the machine has them (a 24-wide row then computes 8 of its pixels twice, still
    /// fewer FMAs than three 8-float vectors), narrower ones 8-float vectors.
    /// </summary>
    internal static void Forward(in ConvGeometry g, float* input, float* weight, float* bias, float* output, int batch, float* scratch)
    {
        if (Vector512.IsHardwareAccelerated && g.OutWidth >= Ops512.Count)
        {
            Forward<Ops512, Vector512<float>>(g, input, weight, bias, output, batch, scratch);
        }
        else
        {
            Forward<Ops256, Vector256<float>>(g, input, weight, bias, output, batch, scratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void Forward<TOps, TVec>(in ConvGeometry g, float* input, float* weight, float* bias, float* output, int batch, float* scratch)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int lanes = TOps.Count;
        int taps = g.PatchLength;
        int channels = g.OutChannels;
        int outH = g.OutHeight, outW = g.OutWidth;
        int pixels = outH * outW;
        bool pads = g.PaddingHeight != 0 || g.PaddingWidth != 0;
        int paddedH = g.InHeight + 2 * g.PaddingHeight;
        int paddedW = g.InWidth + 2 * g.PaddingWidth;
        nint rowStep = (nint)g.StrideHeight * paddedW;

        int* offsets = stackalloc int[taps];
        ImplicitConv.TapOffsets(g, paddedH, paddedW, offsets);

        // A padded 1-D layer reads its interior pixels [first, end) straight from the input (as ImplicitConv does), and a
        // zero-padded copy only of the columns that the border pixels' vectors read: those vectors may reach a vector's
        // width into the interior, so the copy covers pixels [0, max(first, lanes)) and [min(end, outW − lanes), outW). An
        // interior narrower than a vector goes through the whole padded copy.
        int first = 0, end = 0;
        if (pads && g.InHeight == 1 && g.KernelHeight == 1 && g.PaddingHeight == 0)
        {
            int lastStart = g.InWidth - 1 + g.PaddingWidth - g.DilationWidth * (g.KernelWidth - 1);
            first = Math.Min(outW, g.PaddingWidth);
            end = lastStart < 0 ? 0 : Math.Min(outW, lastStart + 1);
        }

        bool interior = end - first >= lanes;
        int* direct = stackalloc int[interior ? taps : 1];
        if (interior)
        {
            ImplicitConv.TapOffsets(g, 1, g.InWidth, direct);
        }

        int span = g.DilationWidth * (g.KernelWidth - 1);
        int leftColumns = Math.Min(paddedW, Math.Max(first, lanes) + span);
        int rightStart = Math.Min(end, outW - lanes);

        for (int s = 0; s < batch; s++)
        {
            float* sample = input + (nint)s * g.InputLength;
            float* result = output + (nint)s * g.OutputLength;
            if (interior)
            {
                ImplicitConv.CopyPaddedColumns(g, sample, scratch, paddedW, 0, leftColumns);
                ImplicitConv.CopyPaddedColumns(g, sample, scratch, paddedW, rightStart, paddedW);
            }
            else if (pads)
            {
                ImplicitConv.CopyPadded(g, sample, scratch, paddedH, paddedW);
                sample = scratch;
            }

            for (int c0 = 0; c0 < channels; c0 += MaxChannels)
            {
                int count = Math.Min(MaxChannels, channels - c0);
                float* w = weight + (nint)c0 * taps;
                float* b = bias == null ? null : bias + c0;
                for (int oh = 0; oh < outH; oh++)
                {
                    float* o = result + (nint)c0 * pixels + (nint)oh * outW;
                    if (interior)
                    {
                        // The padded copy's columns start at the padding; the input's at column 0, p columns later.
                        Chunks<TOps, TVec>(0, first, scratch, offsets, taps, w, b, o, pixels, count, outW);
                        Chunks<TOps, TVec>(first, end, sample - g.PaddingWidth, direct, taps, w, b, o, pixels, count, outW);
                        Chunks<TOps, TVec>(end, outW, scratch, offsets, taps, w, b, o, pixels, count, outW);
                    }
                    else
                    {
                        Chunks<TOps, TVec>(0, outW, sample + oh * rowStep, offsets, taps, w, b, o, pixels, count, outW);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Pixels [<paramref name="from"/>, <paramref name="to"/>) of a row, in chunks of up to three vectors; a chunk's last
    /// vector ends at the chunk's end, overlapping the one before it when the width is not a multiple of a vector, and a range
    /// narrower than a vector takes the vector that ends there (or starts the row), computing pixels outside it from the
    /// same source (overlapping pixels are recomputed identically).
    /// </summary>
    private static void Chunks<TOps, TVec>(int from, int to, float* row, int* offsets, int taps, float* weight, float* bias, float* output, int pixels, int count, int outW)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int lanes = TOps.Count;
        for (int x = from; x < to; x += MaxVectors * lanes)
        {
            int chunkEnd = Math.Min(x + MaxVectors * lanes, to);
            int start = Math.Clamp(Math.Min(x, chunkEnd - lanes), 0, outW - lanes);
            int stop = Math.Max(chunkEnd, start + lanes);
            int vectors = (stop - start + lanes - 1) / lanes;
            Tile<TOps, TVec>(count, vectors, row + start, offsets, taps, weight, bias, output + start, pixels, stop - lanes - start);
        }
    }

    private static void Tile<TOps, TVec>(int channels, int vectors, float* row, int* offsets, int taps, float* weight, float* bias, float* output, int channelStride, int lastOffset)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        switch (channels * 4 + vectors)
        {
            case 4 * 4 + 3: Kernel<TOps, TVec, R4, V3>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 4 * 4 + 2: Kernel<TOps, TVec, R4, V2>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 4 * 4 + 1: Kernel<TOps, TVec, R4, V1>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 3 * 4 + 3: Kernel<TOps, TVec, R3, V3>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 3 * 4 + 2: Kernel<TOps, TVec, R3, V2>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 3 * 4 + 1: Kernel<TOps, TVec, R3, V1>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 2 * 4 + 3: Kernel<TOps, TVec, R2, V3>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 2 * 4 + 2: Kernel<TOps, TVec, R2, V2>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 2 * 4 + 1: Kernel<TOps, TVec, R2, V1>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 1 * 4 + 3: Kernel<TOps, TVec, R1, V3>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            case 1 * 4 + 2: Kernel<TOps, TVec, R1, V2>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
            default: Kernel<TOps, TVec, R1, V1>(row, offsets, taps, weight, bias, output, channelStride, lastOffset); break;
        }
    }

    /// <summary>
    /// TChannels output channels × TVectors vectors of pixels (at 0, one vector and <paramref name="lastOffset"/>, the
    /// last one ending the chunk), accumulators in registers over every tap: per tap one offset, TVectors loads from the
    /// input row and one broadcast weight per channel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TOps, TVec, TChannels, TVectors>(float* row, int* offsets, int taps, float* weight, float* bias, float* output, int channelStride, int lastOffset)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TChannels : struct, IConstant
        where TVectors : struct, IConstant
    {
        int r = TChannels.Value;
        int v = TVectors.Value;

        // Vector j starts at pixel j·lanes, except the last, which starts at lastOffset.
        nint p1 = v == 2 ? lastOffset : TOps.Count;
        nint p2 = lastOffset;
        float* w0 = weight;
        float* w1 = w0 + taps;
        float* w2 = w1 + taps;
        float* w3 = w2 + taps;
        TVec z = TOps.Zero;
        TVec b0 = bias == null ? z : TOps.Broadcast(bias[0]);
        TVec b1 = bias == null || r < 2 ? z : TOps.Broadcast(bias[1]);
        TVec b2 = bias == null || r < 3 ? z : TOps.Broadcast(bias[2]);
        TVec b3 = bias == null || r < 4 ? z : TOps.Broadcast(bias[3]);
        TVec s00 = b0, s01 = b0, s02 = b0;
        TVec s10 = b1, s11 = b1, s12 = b1;
        TVec s20 = b2, s21 = b2, s22 = b2;
        TVec s30 = b3, s31 = b3, s32 = b3;
        for (int t = 0; t < taps; t++)
        {
            float* at = row + offsets[t];
            TVec x0 = TOps.Load(at);
            TVec x1 = v > 1 ? TOps.Load(at + p1) : z;
            TVec x2 = v > 2 ? TOps.Load(at + p2) : z;
            TVec k = TOps.Broadcast(w0[t]);
            s00 = TOps.MultiplyAdd(k, x0, s00);
            if (v > 1) s01 = TOps.MultiplyAdd(k, x1, s01);
            if (v > 2) s02 = TOps.MultiplyAdd(k, x2, s02);
            if (r > 1)
            {
                k = TOps.Broadcast(w1[t]);
                s10 = TOps.MultiplyAdd(k, x0, s10);
                if (v > 1) s11 = TOps.MultiplyAdd(k, x1, s11);
                if (v > 2) s12 = TOps.MultiplyAdd(k, x2, s12);
            }

            if (r > 2)
            {
                k = TOps.Broadcast(w2[t]);
                s20 = TOps.MultiplyAdd(k, x0, s20);
                if (v > 1) s21 = TOps.MultiplyAdd(k, x1, s21);
                if (v > 2) s22 = TOps.MultiplyAdd(k, x2, s22);
            }

            if (r > 3)
            {
                k = TOps.Broadcast(w3[t]);
                s30 = TOps.MultiplyAdd(k, x0, s30);
                if (v > 1) s31 = TOps.MultiplyAdd(k, x1, s31);
                if (v > 2) s32 = TOps.MultiplyAdd(k, x2, s32);
            }
        }

        Store<TOps, TVec>(output, s00, s01, s02, v, p1, p2);
        if (r > 1) Store<TOps, TVec>(output + channelStride, s10, s11, s12, v, p1, p2);
        if (r > 2) Store<TOps, TVec>(output + 2 * (nint)channelStride, s20, s21, s22, v, p1, p2);
        if (r > 3) Store<TOps, TVec>(output + 3 * (nint)channelStride, s30, s31, s32, v, p1, p2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TOps, TVec>(float* output, TVec first, TVec second, TVec third, int vectors, nint p1, nint p2)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TOps.Store(output, first);
        if (vectors > 1)
        {
            TOps.Store(output + p1, second);
        }

        if (vectors > 2)
        {
            TOps.Store(output + p2, third);
        }
    }
}
