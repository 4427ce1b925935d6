using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// Convolution forward by Winograd's minimal filtering, for 3×3 (F(4×4, 3×3) on 6×6 tiles) and 5×5 (F(4×4, 5×5) on
/// 8×8 tiles) kernels at stride 1: each input tile is transformed (V = Bᵀ d B), multiplied cell by cell with the weight
/// transformed once at load (U = G g Gᵀ, <see cref="WinogradTransform.TransformWeight"/>), summed over input channels,
/// and transformed back (Y = Aᵀ M A) into 4×4 outputs. A 3×3 layer does 36 multiplications per 16 outputs instead of
/// 144, a 5×5 layer 64 instead of 400. The sum over input channels — the bulk of the work — is one small GEMM per cell
/// (tiles × input channels times input channels × output channels) on <see cref="Gemm"/>'s micro-kernel; the transforms
/// run on vectors of channels, so each sample is first copied channels-last.
/// </summary>
/// <remarks>
/// The results differ from the direct sum in the last bits: the transforms reassociate it, with small-integer and
/// power-of-two coefficients that are exact in float (measured: mean error about 1e-6, worst under 1e-5 of the outputs'
/// scale; WinogradConvTests bounds it per element). Each tile is computed the same way whatever the batch, so a
/// sample's output never depends on the batch it is in.
/// </remarks>
internal static unsafe class WinogradConv
{
    // Input channels are padded to whole 512-bit vectors in the channels-last copy, output channels to whole two-vector
    // GEMM panels; the padding lanes hold zeros.
    private const int InAlign = 16;
    private const int OutAlign = 32;

    // Tiles transformed and multiplied together: their V and M blocks (up to 64 cells each) stay in L2.
    private const int MaxTileBlock = 32;

    // V and M hold each tile's cells together, so that a tile's transforms run through one stretch of memory; the
    // per-cell GEMMs read and write their rows a tile apart. Floats between one tile's cells and the next's beyond the
    // cells themselves: one cache line, so that those rows fall in different L1 sets (64 cells of 16 or 32 channels are
    // a multiple of 4 KiB, which put every row of a cell's product in one set: 2 % slower on the CNN's Neuron
    // Integrated Gradients). Cell-major blocks, read by the transforms 36 or 64 cells apart, were about 1 % slower.
    private const int TileSkew = 16;

    // Outputs per tile side, for both kernels.
    private const int TileOutputs = 4;

    // Below these the per-cell GEMMs are too thin to pay for the transforms (the first layer of an image network,
    // one or three input channels, stays on the direct kernels).
    private const int MinInChannels = 8;
    private const int MinOutChannels = 16;

    /// <summary>Whether a weight [outChannels, inChannels, kernelHeight, kernelWidth] suits the Winograd kernel.</summary>
    internal static bool AppliesToWeight(int outChannels, int inChannels, int kernelHeight, int kernelWidth) =>
        kernelHeight == kernelWidth && WinogradTransform.ForKernel(kernelHeight) is not null
        && inChannels >= MinInChannels && outChannels >= MinOutChannels;

    /// <summary>Whether the geometry suits the Winograd kernel, whatever the machine (the scratch size depends on this only).</summary>
    /// <remarks>Padding wider than the kernel less one would give windows of padding alone, exactly the bias in the direct sum.</remarks>
    internal static bool Applies(in ConvGeometry g) =>
        !g.IsDilatedOrGrouped && AppliesToWeight(g.OutChannels, g.InChannels, g.KernelHeight, g.KernelWidth)
        && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.PaddingHeight < g.KernelHeight && g.PaddingWidth < g.KernelWidth
        && g.OutHeight >= WinogradTransform.ForKernel(g.KernelHeight)!.Outputs
        && g.OutWidth >= WinogradTransform.ForKernel(g.KernelHeight)!.Outputs;

    /// <summary>
    /// Whether the transforms keep every intermediate finite for this input: the input transform grows a magnitude at
    /// most 15² times (the largest row sum of Bᵀ, squared), the output transform 19.25² times, and the products add up
    /// over the input channels; 1e5 covers both transforms. Inputs near float's range (or not finite) take the direct
    /// kernels, which the same values do not overflow.
    /// </summary>
    /// <remarks>
    /// Checked value by value against the largest magnitude allowed, float.MaxValue / (1e5 · InChannels · largest
    /// weight) rounded down (NaN fails every comparison): one compare a vector, where TensorPrimitives.MaxMagnitude's
    /// NaN and signed-zero bookkeeping took 11 % of the CNN's Neuron Integrated Gradients on the Vector256 path.
    /// </remarks>
    internal static bool CannotOverflow(in ConvGeometry g, ReadOnlySpan<float> input, float largestWeight)
    {
        double limit = float.MaxValue / (1e5 * g.InChannels * (double)largestWeight);
        float below = limit > float.MaxValue ? float.PositiveInfinity : (float)limit;
        if (below > limit)
        {
            below = MathF.BitDecrement(below);
        }

        fixed (float* values = input)
        {
            int i = 0;
            bool all = true;
            if (Vector512.IsHardwareAccelerated)
            {
                var bound512 = Vector512.Create(below);
                var inRange512 = Vector512<float>.AllBitsSet;
                for (; i <= input.Length - 16; i += 16)
                {
                    inRange512 &= Vector512.LessThan(Vector512.Abs(Vector512.Load(values + i)), bound512);
                }

                all = inRange512.ExtractMostSignificantBits() == 0xFFFF;
            }

            var bound = Vector256.Create(below);
            var inRange = Vector256<float>.AllBitsSet;
            for (; i <= input.Length - 8; i += 8)
            {
                inRange &= Vector256.LessThan(Vector256.Abs(Vector256.Load(values + i)), bound);
            }

            all &= inRange.ExtractMostSignificantBits() == 0xFF;
            for (; i < input.Length; i++)
            {
                all &= Math.Abs(values[i]) < below;
            }

            return all;
        }
    }

    /// <summary>Whether this machine and geometry take the Winograd path.</summary>
    internal static bool Supports(in ConvGeometry g) => Vector256.IsHardwareAccelerated && Applies(g);

    /// <summary>Output channels as padded in the transformed weight.</summary>
    internal static int PaddedOutChannels(int outChannels) => (outChannels + OutAlign - 1) / OutAlign * OutAlign;

    /// <summary>Floats of the transformed weight of an r×r layer: n·n cells (36 for 3×3, 64 for 5×5) × InChannels × padded OutChannels.</summary>
    internal static long WeightLength(int outChannels, int inChannels, int taps) =>
        WinogradTransform.ForKernel(taps) is { } t ? (long)t.Size * t.Size * inChannels * PaddedOutChannels(outChannels) : 0;

    /// <summary>Floats of scratch the kernel needs; 0 where it does not apply (ConvGeometry.ScratchLength takes it in).</summary>
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
        long samples = SamplesPerBlock(tilesY * tilesX);
        long inPad = (g.InChannels + InAlign - 1) / InAlign * InAlign;
        long outPad = PaddedOutChannels(g.OutChannels);
        long copy = (tilesY * m + t.Taps - 1) * (tilesX * m + t.Taps - 1) * inPad;
        return samples * copy + samples * block * (cells * (inPad + outPad) + 2 * TileSkew) + samples * tilesY * m * tilesX * m * outPad + outPad;
    }

    /// <summary>
    /// Samples whose tiles share one block: as many whole samples as fit <see cref="MaxTileBlock"/> tiles. A small image
    /// (DigitNet's 8×8 outputs are 4 tiles) would otherwise give each cell's GEMM only a few rows, too few to fill the
    /// micro-kernel's accumulators; images of more tiles than a block take one sample at a time.
    /// </summary>
    private static int SamplesPerBlock(long tiles) => (int)Math.Max(1, MaxTileBlock / tiles);

    /// <summary>
    /// output = weight ⋆ input + bias, or output += weight ⋆ input + bias with <paramref name="accumulate"/>; arguments
    /// validated by the caller, <see cref="Supports"/> true, the transformed weight laid out as
    /// <see cref="WinogradTransform.TransformWeight"/> writes it, scratch of <see cref="ScratchLength"/>.
    /// </summary>
    internal static void Forward(in ConvGeometry g, float* input, float* transformed, float* bias, float* output, int batch, float* scratch, bool accumulate = false) =>
        Forward(g, input, transformed, bias, output, batch, scratch, accumulate ? Stage.Accumulate : Stage.Store);

    /// <summary>
    /// The convolution as <see cref="Forward(in ConvGeometry, float*, float*, float*, float*, int, float*, bool)"/>, then
    /// ReLU (with <paramref name="relu"/>) and a 2×2, stride-2 max pooling, taken from the tiles' outputs while they are
    /// still channels last in the scratch: only the pooled map [OutChannels, OutHeight / 2, OutWidth / 2] is written,
    /// each value the same bits as <see cref="PoolKernels.MaxForwardActivated"/> gives from the stored convolution.
    /// </summary>
    internal static void ForwardMaxPooled(in ConvGeometry g, float* input, float* transformed, float* bias, float* pooled, int batch, float* scratch, bool relu) =>
        Forward(g, input, transformed, bias, pooled, batch, scratch, relu ? Stage.MaxPoolRelu : Stage.MaxPool);

    /// <summary>What becomes of the tiles' outputs, channels last in the stage: stored (or added) channel-major, or pooled first.</summary>
    private enum Stage
    {
        Store,
        Accumulate,
        MaxPool,
        MaxPoolRelu,
    }

    private static void Forward(in ConvGeometry g, float* input, float* transformed, float* bias, float* output, int batch, float* scratch, Stage stage)
    {
        bool wide = Vector512.IsHardwareAccelerated;
        if (g.KernelHeight == 3)
        {
            if (wide) Forward<Ops512, Vector512<float>, Tiles6>(g, input, transformed, bias, output, batch, scratch, stage);
            else Forward<Ops256, Vector256<float>, Tiles6>(g, input, transformed, bias, output, batch, scratch, stage);
        }
        else
        {
            if (wide) Forward<Ops512, Vector512<float>, Tiles8>(g, input, transformed, bias, output, batch, scratch, stage);
            else Forward<Ops256, Vector256<float>, Tiles8>(g, input, transformed, bias, output, batch, scratch, stage);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void Forward<TOps, TVec, TTiles>(in ConvGeometry g, float* input, float* transformed, float* bias, float* output, int batch, float* scratch, Stage stageUse)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TTiles : struct, ITiles
    {
        const int m = TileOutputs;
        int w = TOps.Count;
        int n = TTiles.Size, cells = n * n;
        int inChannels = g.InChannels, outChannels = g.OutChannels;
        int outH = g.OutHeight, outW = g.OutWidth, pixels = outH * outW;
        int tilesX = (outW + m - 1) / m, tilesY = (outH + m - 1) / m, tiles = tilesY * tilesX;
        int samplesPerBlock = SamplesPerBlock(tiles);
        int block = Math.Min(tiles, MaxTileBlock) * samplesPerBlock;
        int inPad = (inChannels + InAlign - 1) / InAlign * InAlign;
        int outPad = PaddedOutChannels(outChannels);
        int outVectors = (outChannels + 2 * w - 1) / (2 * w) * 2; // whole GEMM panels
        int copyW = tilesX * m + n - m, copyLength = (tilesY * m + n - m) * copyW * inPad;
        int stageW = tilesX * m, stageLength = tilesY * m * stageW * outPad;

        float* copy = scratch;                                        // per sample of the block [copy rows][copyW][inPad]: channels last
        int vTile = cells * inPad + TileSkew, productsTile = cells * outPad + TileSkew;
        float* v = copy + (nint)samplesPerBlock * copyLength;         // [tile in block][cell][inPad], tiles vTile apart
        float* products = v + (nint)block * vTile;                    // [tile in block][cell][outPad], tiles productsTile apart
        float* stage = products + (nint)block * productsTile;         // per sample of the block [tilesY·m][stageW][outPad]: outputs, channels last
        float* paddedBias = stage + (nint)samplesPerBlock * stageLength;
        new Span<float>(paddedBias, outPad).Clear();
        if (bias != null)
        {
            new ReadOnlySpan<float>(bias, outChannels).CopyTo(new Span<float>(paddedBias, outChannels));
        }

        float* rows = stackalloc float[64 * 16]; // the transforms' intermediate: n·n vectors at most

        // Padding rows, columns and channels stay zero; every sample overwrites the same interior (only the copies this
        // batch uses are cleared: a batch of one clears one).
        new Span<float>(copy, Math.Min(samplesPerBlock, batch) * copyLength).Clear();
        for (int s0 = 0; s0 < batch; s0 += samplesPerBlock)
        {
            int samples = Math.Min(samplesPerBlock, batch - s0);
            for (int i = 0; i < samples; i++)
            {
                CopyChannelsLast(g, input + (nint)(s0 + i) * g.InputLength, copy + (nint)i * copyLength, copyW, inPad);
            }

            // Tile t of the samples' tiles is tile t % tiles of sample s0 + t / tiles.
            for (int t0 = 0; t0 < samples * tiles; t0 += block)
            {
                int count = Math.Min(block, samples * tiles - t0);
                for (int k = 0; k < count; k++)
                {
                    int sample = (t0 + k) / tiles, tile = (t0 + k) - sample * tiles, ty = tile / tilesX, tx = tile - ty * tilesX;
                    float* d = copy + (nint)sample * copyLength + ((nint)ty * m * copyW + tx * m) * inPad;
                    for (int c = 0; c < inPad; c += w)
                    {
                        TransformInput<TOps, TVec, TTiles>(d + c, copyW * inPad, inPad, rows, v + (nint)k * vTile + c, inPad);
                    }
                }

                for (int cell = 0; cell < cells; cell++)
                {
                    MultiplyCell<TOps, TVec>(
                        v + cell * inPad, vTile,
                        transformed + (nint)cell * inChannels * outPad, outPad,
                        products + cell * outPad, productsTile, count, inChannels, outVectors);
                }

                for (int k = 0; k < count; k++)
                {
                    int sample = (t0 + k) / tiles, tile = (t0 + k) - sample * tiles, ty = tile / tilesX, tx = tile - ty * tilesX;
                    float* outputs = stage + (nint)sample * stageLength + ((nint)ty * m * stageW + tx * m) * outPad;
                    for (int c = 0; c < outVectors * w; c += w)
                    {
                        TransformOutput<TOps, TVec, TTiles>(products + (nint)k * productsTile + c, outPad, paddedBias + c, rows, outputs + c, outPad, stageW * outPad);
                    }
                }
            }

            for (int i = 0; i < samples; i++)
            {
                float* sampleStage = stage + (nint)i * stageLength;
                if (stageUse is Stage.MaxPool or Stage.MaxPoolRelu)
                {
                    int pooledLength = outChannels * (outH / 2) * (outW / 2);
                    MaxPoolStage(sampleStage, stageW, outPad, outH, outW, outChannels, stageUse == Stage.MaxPoolRelu, output + (nint)(s0 + i) * pooledLength);
                    continue;
                }

                // Each output row, [OutW, OutChannels] with rows outPad apart, becomes [OutChannels, OutW] with rows a plane apart.
                float* result = output + (nint)(s0 + i) * g.OutputLength;
                for (int y = 0; y < outH; y++)
                {
                    Transposition.TransposeStrided(sampleStage + (nint)y * stageW * outPad, outPad, result + (nint)y * outW, pixels, outW, outChannels, stageUse == Stage.Accumulate);
                }
            }
        }
    }

    /// <summary>
    /// One sample's 2×2, stride-2 max pooling (then ReLU with <paramref name="relu"/>) of its outputs in the stage, [row][stageW][outPad]
    /// channels last, into <paramref name="pooled"/> [outChannels, outH / 2, outW / 2]: eight channels of a window at a time
    /// through <see cref="PoolKernels.MaxWindow"/>, the rule the stored map's pooling applies, with the window's elements in
    /// the same row-major order. The pooled pixels go to the front of the stage, pixel (y, x) to y · outW / 2 + x, and are
    /// then transposed channel-major in one piece; that never overwrites a pixel still to be read, whose index is at
    /// least 2y · stageW + 2x.
    /// </summary>
    private static void MaxPoolStage(float* stage, int stageW, int outPad, int outH, int outW, int outChannels, bool relu, float* pooled)
    {
        int pooledH = outH / 2, pooledW = outW / 2, pooledPixels = pooledH * pooledW;
        nint rowLength = (nint)stageW * outPad;
        float* result = stage;
        for (int y = 0; y < pooledH; y++)
        {
            float* top = stage + 2 * y * rowLength, bottom = top + rowLength;
            for (int x = 0; x < pooledW; x++, result += outPad)
            {
                float* left = top + (nint)2 * x * outPad, lowerLeft = bottom + (nint)2 * x * outPad;
                for (int c = 0; c < outChannels; c += 8)
                {
                    var window = PoolKernels.MaxWindow.Combine(
                        Vector256.Load(left + c), Vector256.Load(left + outPad + c), Vector256.Load(lowerLeft + c), Vector256.Load(lowerLeft + outPad + c), relu);
                    window.Store(result + c);
                }
            }
        }

        Transposition.TransposeStrided(stage, outPad, pooled, pooledPixels, pooledPixels, outChannels);
    }

    /// <summary>The sample [C, H, W] into the interior of the zeroed channels-last copy, past the layer's padding.</summary>
    private static void CopyChannelsLast(in ConvGeometry g, float* sample, float* copy, int copyW, int inPad)
    {
        nint plane = (nint)g.InHeight * g.InWidth;
        if (g.PaddingWidth == 0 && copyW == g.InWidth)
        {
            // The copy's rows follow one another with no padding between them: the whole sample, [C, H·W], becomes
            // [H·W, C] in one transposition, in 8×8 blocks that do not overlap at each row's end.
            Transposition.TransposeStrided(sample, plane, copy + (nint)g.PaddingHeight * copyW * inPad, inPad, g.InChannels, (int)plane);
            return;
        }

        for (int y = 0; y < g.InHeight; y++)
        {
            // Row y of every channel, [C, W] with rows a plane apart, becomes [W, C] with rows inPad apart.
            float* dst = copy + ((nint)(y + g.PaddingHeight) * copyW + g.PaddingWidth) * inPad;
            Transposition.TransposeStrided(sample + (nint)y * g.InWidth, plane, dst, inPad, g.InChannels, g.InWidth);
        }
    }

    /// <summary>
    /// V = Bᵀ d B for one vector of channels of one n×n tile: each input row through Bᵀ (into <paramref name="rows"/>),
    /// then each column of those. V's cells are <paramref name="cellStride"/> floats apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransformInput<TOps, TVec, TTiles>(float* d, int rowStride, int columnStride, float* rows, float* v, nint cellStride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TTiles : struct, ITiles
    {
        int w = TOps.Count, n = TTiles.Size;
        for (int i = 0; i < n; i++)
        {
            TTiles.Input<TOps, TVec>(d + (nint)i * rowStride, columnStride, rows + i * n * w, w);
        }

        for (int nu = 0; nu < n; nu++)
        {
            TTiles.Input<TOps, TVec>(rows + nu * w, n * w, v + nu * cellStride, n * cellStride);
        }
    }

    /// <summary>
    /// Y = Aᵀ M A + bias for one vector of output channels of one tile (M's cells <paramref name="cellStride"/> floats
    /// apart), written as 4×4 vectors, <paramref name="columnStride"/> floats apart along a row and
    /// <paramref name="rowStride"/> between rows: each row of M through Aᵀ (into <paramref name="rows"/>), then each
    /// column of those.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransformOutput<TOps, TVec, TTiles>(float* products, nint cellStride, float* bias, float* rows, float* outputs, int columnStride, int rowStride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TTiles : struct, ITiles
    {
        const int m = TileOutputs;
        int w = TOps.Count, n = TTiles.Size;
        for (int xi = 0; xi < n; xi++)
        {
            TTiles.Output<TOps, TVec>(products + xi * n * cellStride, cellStride, TOps.Zero, rows + xi * m * w, w);
        }

        TVec b = TOps.Load(bias);
        for (int o = 0; o < m; o++)
        {
            TTiles.Output<TOps, TVec>(rows + o * w, m * w, b, outputs + o * columnStride, rowStride);
        }
    }

    /// <summary>
    /// One cell's products for a block of tiles: [tiles, inChannels] × [inChannels, outVectors·w], tiles split evenly into
    /// micro-kernel rows of at most 8 (Vector512) or 6 (Vector256), so a remainder never runs with too few accumulators
    /// to hide FMA latency, and the accumulators fit the registers: 8 × 2 Vector256 accumulators, B's two vectors and
    /// A's broadcast are 19, more than AVX2's 16 registers.
    /// </summary>
    private static void MultiplyCell<TOps, TVec>(float* a, int lda, float* b, int ldb, float* c, int ldc, int tiles, int k, int outVectors)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        int maxRows = w == 16 ? 8 : 6;
        int blocks = (tiles + maxRows - 1) / maxRows;
        for (int r0 = 0, blockIndex = 0; r0 < tiles; blockIndex++)
        {
            int rows = (tiles - r0 + blocks - blockIndex - 1) / (blocks - blockIndex);
            for (int v = 0; v < outVectors; v += 2)
            {
                Gemm.Tile<TOps, TVec>(rows, 2, a + (nint)r0 * lda, lda, b + v * w, ldb, c + (nint)r0 * ldc + v * w, ldc, k, load: false, bias: null, relu: false);
            }

            r0 += rows;
        }
    }

    /// <summary>
    /// The one-dimensional transforms of one tile size, for the points 0, 1, −1, 2, −2 (, 1/2, −1/2) and ∞: Bᵀ on n
    /// inputs and Aᵀ on n products, written out with the symmetric points' shared even and odd parts. They implement
    /// the rows of <see cref="WinogradTransform.InputTransposed"/> and <see cref="WinogradTransform.OutputTransposed"/>
    /// exactly (WinogradConvTests checks the tables; the convolution tests check these).
    /// </summary>
    private interface ITiles
    {
        static abstract int Size { get; }

        /// <summary>result[i·resultStride] = Σ_j Bᵀ[i, j]·source[j·stride], for i, j &lt; n.</summary>
        static abstract void Input<TOps, TVec>(float* source, nint stride, float* result, nint resultStride)
            where TOps : struct, IVectorOps<TVec>
            where TVec : struct;

        /// <summary>result[o·resultStride] = offset + Σ_j Aᵀ[o, j]·source[j·stride], for o &lt; 4, j &lt; n.</summary>
        static abstract void Output<TOps, TVec>(float* source, nint stride, TVec offset, float* result, nint resultStride)
            where TOps : struct, IVectorOps<TVec>
            where TVec : struct;
    }

    /// <summary>F(4, 3): 6 points 0, ±1, ±2, ∞.</summary>
    private readonly struct Tiles6 : ITiles
    {
        public static int Size => 6;

        // Bᵀ rows: (4, 0, −5, 0, 1, 0), (0, −4, −4, 1, 1, 0), (0, 4, −4, −1, 1, 0), (0, −2, −1, 2, 1, 0), (0, 2, −1, −2, 1, 0), (0, 4, 0, −5, 0, 1).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input<TOps, TVec>(float* x, nint stride, float* result, nint resultStride)
            where TOps : struct, IVectorOps<TVec>
            where TVec : struct
        {
            TVec d0 = TOps.Load(x), d1 = TOps.Load(x + stride), d2 = TOps.Load(x + 2 * stride);
            TVec d3 = TOps.Load(x + 3 * stride), d4 = TOps.Load(x + 4 * stride), d5 = TOps.Load(x + 5 * stride);
            TVec four = TOps.Broadcast(4), minusFour = TOps.Broadcast(-4), minusFive = TOps.Broadcast(-5), two = TOps.Broadcast(2);
            TVec even = TOps.Subtract(d4, d2), odd = TOps.Subtract(d3, d1);
            TOps.Store(result, TOps.MultiplyAdd(four, d0, TOps.MultiplyAdd(minusFive, d2, d4)));
            TOps.Store(result + resultStride, TOps.MultiplyAdd(minusFour, TOps.Add(d1, d2), TOps.Add(d3, d4)));
            TOps.Store(result + 2 * resultStride, TOps.MultiplyAdd(four, TOps.Subtract(d1, d2), TOps.Subtract(d4, d3)));
            TOps.Store(result + 3 * resultStride, TOps.MultiplyAdd(two, odd, even));
            TOps.Store(result + 4 * resultStride, TOps.Subtract(even, TOps.Add(odd, odd)));
            TOps.Store(result + 5 * resultStride, TOps.MultiplyAdd(four, d1, TOps.MultiplyAdd(minusFive, d3, d5)));
        }

        // Aᵀ rows: (1, 1, 1, 1, 1, 0), (0, 1, −1, 2, −2, 0), (0, 1, 1, 4, 4, 0), (0, 1, −1, 8, −8, 1).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Output<TOps, TVec>(float* x, nint stride, TVec offset, float* result, nint resultStride)
            where TOps : struct, IVectorOps<TVec>
            where TVec : struct
        {
            TVec m0 = TOps.Load(x), m1 = TOps.Load(x + stride), m2 = TOps.Load(x + 2 * stride);
            TVec m3 = TOps.Load(x + 3 * stride), m4 = TOps.Load(x + 4 * stride), m5 = TOps.Load(x + 5 * stride);
            TVec sum1 = TOps.Add(m1, m2), difference1 = TOps.Subtract(m1, m2);
            TVec sum2 = TOps.Add(m3, m4), difference2 = TOps.Subtract(m3, m4);
            TOps.Store(result, TOps.Add(offset, TOps.Add(TOps.Add(m0, sum1), sum2)));
            TOps.Store(result + resultStride, TOps.Add(offset, TOps.MultiplyAdd(TOps.Broadcast(2), difference2, difference1)));
            TOps.Store(result + 2 * resultStride, TOps.Add(offset, TOps.MultiplyAdd(TOps.Broadcast(4), sum2, sum1)));
            TOps.Store(result + 3 * resultStride, TOps.Add(offset, TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(8), difference2, difference1), m5)));
        }
    }

    /// <summary>F(4, 5): 8 points 0, ±1, ±2, ±1/2, ∞.</summary>
    private readonly struct Tiles8 : ITiles
    {
        public static int Size => 8;

        // Bᵀ rows: (−1, 0, 21/4, 0, −21/4, 0, 1, 0); for ±1: (0, ±1, 1, ∓17/4, −17/4, ±1, 1, 0); for ±2: (0, ±1/2, 1/4,
        // ∓5/2, −5/4, ±2, 1, 0); for ±1/2: (0, ±2, 4, ∓5/2, −5, ±1/2, 1, 0); ∞: (0, −1, 0, 21/4, 0, −21/4, 0, 1).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input<TOps, TVec>(float* x, nint stride, float* result, nint resultStride)
            where TOps : struct, IVectorOps<TVec>
            where TVec : struct
        {
            TVec d0 = TOps.Load(x), d1 = TOps.Load(x + stride), d2 = TOps.Load(x + 2 * stride), d3 = TOps.Load(x + 3 * stride);
            TVec d4 = TOps.Load(x + 4 * stride), d5 = TOps.Load(x + 5 * stride), d6 = TOps.Load(x + 6 * stride), d7 = TOps.Load(x + 7 * stride);
            TVec c21 = TOps.Broadcast(5.25f), c17 = TOps.Broadcast(-4.25f);
            TOps.Store(result, TOps.MultiplyAdd(c21, TOps.Subtract(d2, d4), TOps.Subtract(d6, d0)));
            Pair<TOps, TVec>(TOps.MultiplyAdd(c17, d4, TOps.Add(d2, d6)), TOps.MultiplyAdd(c17, d3, TOps.Add(d1, d5)), result + resultStride, resultStride);
            TVec even2 = TOps.MultiplyAdd(TOps.Broadcast(0.25f), d2, TOps.MultiplyAdd(TOps.Broadcast(-1.25f), d4, d6));
            TVec odd2 = TOps.MultiplyAdd(TOps.Broadcast(0.5f), d1, TOps.MultiplyAdd(TOps.Broadcast(-2.5f), d3, TOps.Add(d5, d5)));
            Pair<TOps, TVec>(even2, odd2, result + 3 * resultStride, resultStride);
            TVec even3 = TOps.MultiplyAdd(TOps.Broadcast(4), d2, TOps.MultiplyAdd(TOps.Broadcast(-5), d4, d6));
            TVec odd3 = TOps.MultiplyAdd(TOps.Broadcast(0.5f), d5, TOps.MultiplyAdd(TOps.Broadcast(-2.5f), d3, TOps.Add(d1, d1)));
            Pair<TOps, TVec>(even3, odd3, result + 5 * resultStride, resultStride);
            TOps.Store(result + 7 * resultStride, TOps.MultiplyAdd(c21, TOps.Subtract(d3, d5), TOps.Subtract(d7, d1)));
        }

        // Aᵀ rows: (1, 1, 1, 1, 1, 1, 1, 0), (0, 1, −1, 2, −2, 1/2, −1/2, 0), (0, 1, 1, 4, 4, 1/4, 1/4, 0), (0, 1, −1, 8, −8, 1/8, −1/8, 1).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Output<TOps, TVec>(float* x, nint stride, TVec offset, float* result, nint resultStride)
            where TOps : struct, IVectorOps<TVec>
            where TVec : struct
        {
            TVec m0 = TOps.Load(x), m1 = TOps.Load(x + stride), m2 = TOps.Load(x + 2 * stride), m3 = TOps.Load(x + 3 * stride);
            TVec m4 = TOps.Load(x + 4 * stride), m5 = TOps.Load(x + 5 * stride), m6 = TOps.Load(x + 6 * stride), m7 = TOps.Load(x + 7 * stride);
            TVec sum1 = TOps.Add(m1, m2), difference1 = TOps.Subtract(m1, m2);
            TVec sum2 = TOps.Add(m3, m4), difference2 = TOps.Subtract(m3, m4);
            TVec sum3 = TOps.Add(m5, m6), difference3 = TOps.Subtract(m5, m6);
            TOps.Store(result, TOps.Add(offset, TOps.Add(TOps.Add(m0, sum1), TOps.Add(sum2, sum3))));
            TOps.Store(result + resultStride, TOps.Add(offset, TOps.MultiplyAdd(TOps.Broadcast(2), difference2, TOps.MultiplyAdd(TOps.Broadcast(0.5f), difference3, difference1))));
            TOps.Store(result + 2 * resultStride, TOps.Add(offset, TOps.MultiplyAdd(TOps.Broadcast(4), sum2, TOps.MultiplyAdd(TOps.Broadcast(0.25f), sum3, sum1))));
            TOps.Store(result + 3 * resultStride, TOps.Add(offset, TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(8), difference2, TOps.MultiplyAdd(TOps.Broadcast(0.125f), difference3, difference1)), m7)));
        }

        // A symmetric pair of points ±a: even + odd at a, even − odd at −a.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Pair<TOps, TVec>(TVec even, TVec odd, float* result, nint stride)
            where TOps : struct, IVectorOps<TVec>
            where TVec : struct
        {
            TOps.Store(result, TOps.Add(even, odd));
            TOps.Store(result + stride, TOps.Subtract(even, odd));
        }
    }
}
