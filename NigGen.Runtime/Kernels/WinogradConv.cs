using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// Convolution forward by Winograd's minimal filtering, for 3×3 (F(4×4, 3×3)) and 5×5 (F(2×2, 5×5)) kernels at stride
/// 1: each 6×6 input tile is transformed (V = Bᵀ d B), multiplied cell by cell with the weight transformed once at load
/// (U = G g Gᵀ, <see cref="WinogradTransform.TransformWeight"/>), summed over input channels, and transformed back
/// (Y = Aᵀ M A). A 5×5 layer does 36 multiplications per 2×2 outputs instead of 100, a 3×3 layer 36 per 4×4 instead of
/// 144. The sum over input channels — the bulk of the work — is one small GEMM per cell (tiles × input channels times
/// input channels × output channels) on <see cref="Gemm"/>'s micro-kernel; the transforms run on vectors of channels,
/// so the sample is first copied channels-last.
/// </summary>
/// <remarks>
/// The results differ from the direct sum in the last bits (the transforms reassociate it; measured relative error
/// below 1e-6 of the output's scale for both kernels, see ConvKernelsTests), and each tile is computed the same way
/// whatever the batch, so a sample's output never depends on the batch it is in.
/// </remarks>
internal static unsafe class WinogradConv
{
    // Input channels are padded to whole 512-bit vectors in the channels-last copy, output channels to whole two-vector
    // GEMM panels; the padding lanes hold zeros.
    private const int InAlign = 16;
    private const int OutAlign = 32;

    // Tiles transformed and multiplied together: their V and M blocks (36 cells each) stay in L2.
    private const int MaxTileBlock = 32;

    // Below these the per-cell GEMMs are too thin to pay for the transforms (the first layer of an image network,
    // one or three input channels, stays on the direct kernels).
    private const int MinInChannels = 8;
    private const int MinOutChannels = 16;

    /// <summary>Whether a weight [outChannels, inChannels, kernelHeight, kernelWidth] suits the Winograd kernel.</summary>
    internal static bool AppliesToWeight(int outChannels, int inChannels, int kernelHeight, int kernelWidth) =>
        kernelHeight == kernelWidth && WinogradTransform.ForKernel(kernelHeight) is not null
        && inChannels >= MinInChannels && outChannels >= MinOutChannels;

    /// <summary>Whether the geometry suits the Winograd kernel, whatever the machine (the scratch size depends on this only).</summary>
    internal static bool Applies(in ConvGeometry g) =>
        AppliesToWeight(g.OutChannels, g.InChannels, g.KernelHeight, g.KernelWidth)
        && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.OutHeight >= WinogradTransform.ForKernel(g.KernelHeight)!.Outputs
        && g.OutWidth >= WinogradTransform.ForKernel(g.KernelHeight)!.Outputs;

    /// <summary>Whether this machine and geometry take the Winograd path.</summary>
    internal static bool Supports(in ConvGeometry g) => Vector256.IsHardwareAccelerated && Applies(g);

    /// <summary>Output channels as padded in the transformed weight.</summary>
    internal static int PaddedOutChannels(int outChannels) => (outChannels + OutAlign - 1) / OutAlign * OutAlign;

    /// <summary>Floats of the transformed weight of an r×r layer: 36 cells × InChannels × padded OutChannels.</summary>
    internal static long WeightLength(int outChannels, int inChannels, int taps) =>
        WinogradTransform.ForKernel(taps) is { } t ? (long)t.Size * t.Size * inChannels * PaddedOutChannels(outChannels) : 0;

    /// <summary>Floats of scratch the kernel needs; 0 where it does not apply. NigGen.Generator mirrors this formula.</summary>
    internal static long ScratchLength(in ConvGeometry g)
    {
        if (!Applies(g))
        {
            return 0;
        }

        var t = WinogradTransform.ForKernel(g.KernelHeight)!;
        int m = t.Outputs, cells = t.Size * t.Size;
        long tilesY = (g.OutHeight + m - 1) / m, tilesX = (g.OutWidth + m - 1) / m;
        long block = Math.Min(tilesY * tilesX, MaxTileBlock);
        long inPad = (g.InChannels + InAlign - 1) / InAlign * InAlign;
        long outPad = PaddedOutChannels(g.OutChannels);
        long copy = (tilesY * m + t.Taps - 1) * (tilesX * m + t.Taps - 1) * inPad;
        return copy + cells * block * (inPad + outPad) + (long)m * m * outPad + outPad;
    }

    /// <summary>
    /// output = weight ⋆ input + bias; arguments validated by the caller, <see cref="Supports"/> true, the transformed
    /// weight laid out as <see cref="WinogradTransform.TransformWeight"/> writes it, scratch of <see cref="ScratchLength"/>.
    /// </summary>
    internal static void Forward(in ConvGeometry g, float* input, float* transformed, float* bias, float* output, int batch, float* scratch)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Forward<Ops512, Vector512<float>>(g, input, transformed, bias, output, batch, scratch);
        }
        else
        {
            Forward<Ops256, Vector256<float>>(g, input, transformed, bias, output, batch, scratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void Forward<TOps, TVec>(in ConvGeometry g, float* input, float* transformed, float* bias, float* output, int batch, float* scratch)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        var t = WinogradTransform.ForKernel(g.KernelHeight)!;
        int w = TOps.Count;
        int m = t.Outputs, n = t.Size, cells = n * n;
        int inChannels = g.InChannels, outChannels = g.OutChannels;
        int outH = g.OutHeight, outW = g.OutWidth, pixels = outH * outW;
        int tilesX = (outW + m - 1) / m, tiles = (outH + m - 1) / m * tilesX;
        int block = Math.Min(tiles, MaxTileBlock);
        int inPad = (inChannels + InAlign - 1) / InAlign * InAlign;
        int outPad = PaddedOutChannels(outChannels);
        int outVectors = (outChannels + 2 * w - 1) / (2 * w) * 2; // whole GEMM panels
        int copyH = (outH + m - 1) / m * m + t.Taps - 1, copyW = tilesX * m + t.Taps - 1;
        int copyLength = copyH * copyW * inPad;

        float* copy = scratch;
        float* v = copy + copyLength;                     // [cell][tile in block][inPad]
        float* products = v + (nint)cells * block * inPad; // [cell][tile in block][outPad]
        float* stage = products + (nint)cells * block * outPad; // [m·m outputs][outPad]
        float* paddedBias = stage + m * m * outPad;
        new Span<float>(paddedBias, outPad).Clear();
        if (bias != null)
        {
            new ReadOnlySpan<float>(bias, outChannels).CopyTo(new Span<float>(paddedBias, outChannels));
        }

        float* rows = stackalloc float[36 * 16]; // the transforms' intermediate: 6·6 (or 6·m) vectors

        for (int s = 0; s < batch; s++)
        {
            CopyChannelsLast(g, input + (nint)s * g.InputLength, copy, copyH, copyW, inPad);
            float* result = output + (nint)s * g.OutputLength;
            for (int t0 = 0; t0 < tiles; t0 += block)
            {
                int count = Math.Min(block, tiles - t0);
                for (int k = 0; k < count; k++)
                {
                    int tile = t0 + k, ty = tile / tilesX, tx = tile - ty * tilesX;
                    float* d = copy + ((nint)ty * m * copyW + tx * m) * inPad;
                    for (int c = 0; c < inPad; c += w)
                    {
                        TransformInput<TOps, TVec>(d + c, copyW * inPad, inPad, rows, v + (nint)k * inPad + c, (nint)block * inPad);
                    }
                }

                for (int cell = 0; cell < cells; cell++)
                {
                    MultiplyCell<TOps, TVec>(
                        v + (nint)cell * block * inPad, inPad,
                        transformed + (nint)cell * inChannels * outPad, outPad,
                        products + (nint)cell * block * outPad, count, inChannels, outVectors);
                }

                for (int k = 0; k < count; k++)
                {
                    int tile = t0 + k, ty = tile / tilesX, tx = tile - ty * tilesX;
                    for (int c = 0; c < outVectors * w; c += w)
                    {
                        TransformOutput<TOps, TVec>(products + (nint)k * outPad + c, (nint)block * outPad, m, paddedBias + c, rows, stage + c, outPad);
                    }

                    // The stage holds [output pixel][channel]; the output is channel-major.
                    int rowsLeft = Math.Min(m, outH - ty * m), colsLeft = Math.Min(m, outW - tx * m);
                    for (int p = 0; p < rowsLeft; p++)
                    {
                        for (int o = 0; o < colsLeft; o++)
                        {
                            float* src = stage + (p * m + o) * outPad;
                            float* dst = result + (ty * m + p) * outW + tx * m + o;
                            for (int c = 0; c < outChannels; c++)
                            {
                                dst[(nint)c * pixels] = src[c];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The sample [C, H, W] as [copyH, copyW, inPad] with the layer's zero padding around it and zeros beyond.</summary>
    private static void CopyChannelsLast(in ConvGeometry g, float* sample, float* copy, int copyH, int copyW, int inPad)
    {
        new Span<float>(copy, copyH * copyW * inPad).Clear();
        for (int c = 0; c < g.InChannels; c++)
        {
            for (int y = 0; y < g.InHeight; y++)
            {
                float* src = sample + ((nint)c * g.InHeight + y) * g.InWidth;
                float* dst = copy + ((nint)(y + g.PaddingHeight) * copyW + g.PaddingWidth) * inPad + c;
                for (int x = 0; x < g.InWidth; x++)
                {
                    dst[(nint)x * inPad] = src[x];
                }
            }
        }
    }

    /// <summary>
    /// V = Bᵀ d B for one vector of channels of one 6×6 tile: each input row through Bᵀ (into <paramref name="rows"/>),
    /// then each column of those. V's cells are <paramref name="cellStride"/> floats apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransformInput<TOps, TVec>(float* d, int rowStride, int columnStride, float* rows, float* v, nint cellStride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        for (int i = 0; i < 6; i++)
        {
            float* row = d + (nint)i * rowStride;
            InputPoints<TOps, TVec>(
                TOps.Load(row), TOps.Load(row + columnStride), TOps.Load(row + 2 * columnStride),
                TOps.Load(row + 3 * columnStride), TOps.Load(row + 4 * columnStride), TOps.Load(row + 5 * columnStride),
                rows + i * 6 * w, w);
        }

        for (int nu = 0; nu < 6; nu++)
        {
            float* column = rows + nu * w;
            int step = 6 * w;
            InputPoints<TOps, TVec>(
                TOps.Load(column), TOps.Load(column + step), TOps.Load(column + 2 * step),
                TOps.Load(column + 3 * step), TOps.Load(column + 4 * step), TOps.Load(column + 5 * step),
                v + nu * cellStride, 6 * cellStride);
        }
    }

    /// <summary>
    /// Bᵀ times six inputs for the points 0, 1, −1, 2, −2, ∞ (the rows of <see cref="WinogradTransform.InputTransposed"/>,
    /// which a test compares with these formulas): (4, 0, −5, 0, 1, 0), (0, −4, −4, 1, 1, 0), (0, 4, −4, −1, 1, 0),
    /// (0, −2, −1, 2, 1, 0), (0, 2, −1, −2, 1, 0), (0, 4, 0, −5, 0, 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputPoints<TOps, TVec>(TVec d0, TVec d1, TVec d2, TVec d3, TVec d4, TVec d5, float* result, nint stride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec four = TOps.Broadcast(4), minusFour = TOps.Broadcast(-4), minusFive = TOps.Broadcast(-5), two = TOps.Broadcast(2);
        TVec evenMix = TOps.Subtract(d4, d2);
        TVec oddMix = TOps.Subtract(d3, d1);
        TOps.Store(result, TOps.MultiplyAdd(four, d0, TOps.MultiplyAdd(minusFive, d2, d4)));
        TOps.Store(result + stride, TOps.MultiplyAdd(minusFour, TOps.Add(d1, d2), TOps.Add(d3, d4)));
        TOps.Store(result + 2 * stride, TOps.MultiplyAdd(four, TOps.Subtract(d1, d2), TOps.Subtract(d4, d3)));
        TOps.Store(result + 3 * stride, TOps.MultiplyAdd(two, oddMix, evenMix));
        TOps.Store(result + 4 * stride, TOps.Subtract(evenMix, TOps.Add(oddMix, oddMix)));
        TOps.Store(result + 5 * stride, TOps.MultiplyAdd(four, d1, TOps.MultiplyAdd(minusFive, d3, d5)));
    }

    /// <summary>
    /// Y = Aᵀ M A + bias for one vector of output channels of one tile (M's cells <paramref name="cellStride"/> floats
    /// apart), written as m·m vectors <paramref name="stageStride"/> floats apart: each row of M through Aᵀ (into
    /// <paramref name="rows"/>), then each column of those.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransformOutput<TOps, TVec>(float* products, nint cellStride, int m, float* bias, float* rows, float* stage, int stageStride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        TVec zero = TOps.Zero;
        for (int xi = 0; xi < 6; xi++)
        {
            float* row = products + xi * 6 * cellStride;
            OutputPoints<TOps, TVec>(
                TOps.Load(row), TOps.Load(row + cellStride), TOps.Load(row + 2 * cellStride),
                TOps.Load(row + 3 * cellStride), TOps.Load(row + 4 * cellStride), TOps.Load(row + 5 * cellStride),
                zero, m, rows + xi * m * w, w);
        }

        TVec b = TOps.Load(bias);
        for (int o = 0; o < m; o++)
        {
            float* column = rows + o * w;
            int step = m * w;
            OutputPoints<TOps, TVec>(
                TOps.Load(column), TOps.Load(column + step), TOps.Load(column + 2 * step),
                TOps.Load(column + 3 * step), TOps.Load(column + 4 * step), TOps.Load(column + 5 * step),
                b, m, stage + o * stageStride, m * stageStride);
        }
    }

    /// <summary>
    /// <paramref name="offset"/> + Aᵀ times six products for the points 0, 1, −1, 2, −2, ∞ (the rows of
    /// <see cref="WinogradTransform.OutputTransposed"/>): m = 2: (1, 1, 1, 1, 1, 0), (0, 1, −1, 2, −2, 1); m = 4: (1, 1,
    /// 1, 1, 1, 0), (0, 1, −1, 2, −2, 0), (0, 1, 1, 4, 4, 0), (0, 1, −1, 8, −8, 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputPoints<TOps, TVec>(TVec m0, TVec m1, TVec m2, TVec m3, TVec m4, TVec m5, TVec offset, int m, float* result, nint stride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec sum12 = TOps.Add(m1, m2), difference12 = TOps.Subtract(m1, m2);
        TVec sum34 = TOps.Add(m3, m4), difference34 = TOps.Subtract(m3, m4);
        TOps.Store(result, TOps.Add(offset, TOps.Add(TOps.Add(m0, sum12), sum34)));
        if (m == 2)
        {
            TOps.Store(result + stride, TOps.Add(offset, TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(2), difference34, difference12), m5)));
            return;
        }

        TOps.Store(result + stride, TOps.Add(offset, TOps.MultiplyAdd(TOps.Broadcast(2), difference34, difference12)));
        TOps.Store(result + 2 * stride, TOps.Add(offset, TOps.MultiplyAdd(TOps.Broadcast(4), sum34, sum12)));
        TOps.Store(result + 3 * stride, TOps.Add(offset, TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(8), difference34, difference12), m5)));
    }

    /// <summary>
    /// One cell's products for a block of tiles: [tiles, inChannels] × [inChannels, outVectors·w], tiles split evenly into
    /// micro-kernel rows of at most 8, so a remainder never runs with too few accumulators to hide FMA latency.
    /// </summary>
    private static void MultiplyCell<TOps, TVec>(float* a, int lda, float* b, int ldb, float* c, int tiles, int k, int outVectors)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        int blocks = (tiles + 7) / 8;
        for (int r0 = 0, blockIndex = 0; r0 < tiles; blockIndex++)
        {
            int rows = (tiles - r0 + blocks - blockIndex - 1) / (blocks - blockIndex);
            for (int v = 0; v < outVectors; v += 2)
            {
                Gemm.Tile<TOps, TVec>(rows, 2, a + (nint)r0 * lda, lda, b + v * w, ldb, c + (nint)r0 * ldb + v * w, ldb, k, load: false);
            }

            r0 += rows;
        }
    }
}
