using ILGPU;

namespace NigGen.Gpu.Device;

/// <summary>
/// One GEMM launch: C[m, n] = Σ_k A(m, k)·B(k, n) over an M × N × K problem, tiled in shared memory. A group of
/// ThreadsM × ThreadsN threads computes a (8·ThreadsM) × (4·ThreadsN) tile of C, each thread an 8 × 4 block held in
/// registers (rows tm + i·ThreadsM, columns tn + j·ThreadsN, so that neighbouring threads write neighbouring rows).
/// The tile sizes are launch parameters, so the CPU accelerator's small groups run the same kernel as a GPU's.
/// ThreadsN is a power of two in [8, 64]: then every thread loads A for one fixed row of the tile (see GemmKernel).
/// </summary>
internal struct GemmShape
{
    /// <summary>Depth of the slices of A and B staged in shared memory.</summary>
    public const int TileK = 16;

    public int M;
    public int N;
    public int K;
    public int ThreadsM;
    public int ThreadsN;

    public readonly int TileM => 8 * ThreadsM;

    public readonly int TileN => 4 * ThreadsN;

    // The B tile's rows are padded by one float, so that threads storing consecutive k hit different banks.
    public readonly int StrideB => TileN + 1;

    public readonly int SharedFloats => TileK * TileM + TileK * StrideB;
}

/// <summary>What an A row needs, computed once per thread for its row of the tile (the im2col views' divisions happen here).</summary>
internal struct RowOfA
{
    public int Base;
    public int Y;
    public int X;
}

/// <summary>What an A column needs, computed once per column of each slice and shared by the group.</summary>
internal struct ColumnOfA
{
    public int Offset;
    public int Y;
    public int X;
}

/// <summary>The left operand: a plain matrix or an implicit im2col view of a tensor, read as row state × column state.</summary>
internal interface IOperandA
{
    RowOfA Row(int m);

    ColumnOfA Column(int k);

    /// <summary>A(m, k) from the row's and the column's state, for m &lt; M and k &lt; K.</summary>
    float Load(in RowOfA row, in ColumnOfA column);
}

/// <summary>A(m, k) = Data[m·Stride + k]: a row-major matrix (a weight, or its transpose).</summary>
internal struct MatrixA : IOperandA
{
    public ArrayView<float> Data;
    public int Stride;

    public readonly RowOfA Row(int m) => new() { Base = m * Stride };

    public readonly ColumnOfA Column(int k) => new() { Offset = k };

    public readonly float Load(in RowOfA row, in ColumnOfA column) => Data[row.Base + column.Offset];
}

/// <summary>
/// The implicit im2col matrix of a convolution's input: m runs over (row, output y, output x), k over (input channel,
/// kernel y, kernel x); zero padding reads as 0. C = A·Wᵀ is the convolution, written channel-major.
/// </summary>
internal struct ConvPatchesA : IOperandA
{
    public ArrayView<float> Input;
    public ConvShape Shape;

    // The window's top-left corner (in padded coordinates) and where it would start in memory.
    public readonly RowOfA Row(int m)
    {
        ConvShape g = Shape;
        int row = m / g.OutPlane;
        int position = m - row * g.OutPlane;
        int oy = position / g.OutWidth;
        int ox = position - oy * g.OutWidth;
        int y = oy * g.StrideHeight - g.PaddingHeight;
        int x = ox * g.StrideWidth - g.PaddingWidth;
        return new RowOfA { Base = row * g.InLength + y * g.InWidth + x, Y = y, X = x };
    }

    // The kernel tap's channel and offset within the window.
    public readonly ColumnOfA Column(int k)
    {
        ConvShape g = Shape;
        int channel = k / g.KernelArea;
        int offset = k - channel * g.KernelArea;
        int ky = offset / g.KernelWidth;
        int kx = offset - ky * g.KernelWidth;
        return new ColumnOfA { Offset = channel * g.InPlane + ky * g.InWidth + kx, Y = ky, X = kx };
    }

    public readonly float Load(in RowOfA row, in ColumnOfA column)
    {
        int y = row.Y + column.Y;
        int x = row.X + column.X;
        return y >= 0 && y < Shape.InHeight && x >= 0 && x < Shape.InWidth ? Input[row.Base + column.Offset] : 0f;
    }
}

/// <summary>
/// The convolution's input gradient as a GEMM: m runs over (row, input y, input x), k over (output channel, kernel y,
/// kernel x), and A(m, k) is the output gradient at the output position that reads input (y, x) through kernel
/// offset (ky, kx), or 0 where none does (padding, or a stride that skips it). B is the weight regrouped by input
/// channel, so C = A·B is the input gradient, written channel-major.
/// </summary>
internal struct ConvGradientPatchesA : IOperandA
{
    public ArrayView<float> OutputGradient;
    public ConvShape Shape;

    public readonly RowOfA Row(int m)
    {
        ConvShape g = Shape;
        int row = m / g.InPlane;
        int position = m - row * g.InPlane;
        int y = position / g.InWidth;
        return new RowOfA { Base = row * g.OutLength, Y = y + g.PaddingHeight, X = position - y * g.InWidth + g.PaddingWidth };
    }

    public readonly ColumnOfA Column(int k)
    {
        ConvShape g = Shape;
        int channel = k / g.KernelArea;
        int offset = k - channel * g.KernelArea;
        int ky = offset / g.KernelWidth;
        return new ColumnOfA { Offset = channel * g.OutPlane, Y = ky, X = offset - ky * g.KernelWidth };
    }

    public readonly float Load(in RowOfA row, in ColumnOfA column)
    {
        ConvShape g = Shape;
        int sy = row.Y - column.Y;
        int sx = row.X - column.X;
        if (sy < 0 || sx < 0)
        {
            return 0f;
        }

        int oy = sy, ox = sx;
        if (g.StrideHeight != 1 || g.StrideWidth != 1)
        {
            oy = sy / g.StrideHeight;
            ox = sx / g.StrideWidth;
            if (oy * g.StrideHeight != sy || ox * g.StrideWidth != sx)
            {
                return 0f;
            }
        }

        return oy < g.OutHeight && ox < g.OutWidth ? OutputGradient[row.Base + column.Offset + oy * g.OutWidth + ox] : 0f;
    }
}

/// <summary>B(k, n) = Data[n·Stride + k]: every right operand is k-contiguous (activations by row, weights by output).</summary>
internal struct MatrixB
{
    public ArrayView<float> Data;
    public int Stride;
}

/// <summary>
/// Where C goes, with the bias and activation fused: C(m, n) lands at (m / Positions)·RowLength + m % Positions +
/// n·ColumnStride, which covers a row-major [rows, features] result (Positions = M, RowLength 0) and a channel-major
/// [rows, channels, positions] one. Pre receives the pre-activation (when KeepPre), Post the activation.
/// </summary>
internal struct GemmOutput
{
    public ArrayView<float> Pre;
    public ArrayView<float> Post;
    public ArrayView<float> Bias;
    public int HasBias;
    public int BiasOnM;
    public int Activation;
    public int KeepPre;
    public int Positions;
    public int RowLength;
    public int ColumnStride;

    public readonly void Store(int m, int n, float value)
    {
        if (HasBias != 0)
        {
            value += Bias[BiasOnM != 0 ? m : n];
        }

        int row = m / Positions;
        int index = row * RowLength + (m - row * Positions) + n * ColumnStride;
        if (Activation == ActivationMath.None)
        {
            Post[index] = value;
            return;
        }

        if (KeepPre != 0)
        {
            Pre[index] = value;
        }

        Post[index] = ActivationMath.Forward(Activation, value);
    }
}

/// <summary>Geometry of a convolution with the derived sizes the kernels index by.</summary>
internal struct ConvShape
{
    public int InChannels;
    public int InHeight;
    public int InWidth;
    public int OutChannels;
    public int OutHeight;
    public int OutWidth;
    public int KernelHeight;
    public int KernelWidth;
    public int StrideHeight;
    public int StrideWidth;
    public int PaddingHeight;
    public int PaddingWidth;
    public int InPlane;
    public int OutPlane;
    public int InLength;
    public int OutLength;
    public int KernelArea;

    public static ConvShape From(in NigGen.Kernels.ConvGeometry g) => new()
    {
        InChannels = g.InChannels,
        InHeight = g.InHeight,
        InWidth = g.InWidth,
        OutChannels = g.OutChannels,
        OutHeight = g.OutHeight,
        OutWidth = g.OutWidth,
        KernelHeight = g.KernelHeight,
        KernelWidth = g.KernelWidth,
        StrideHeight = g.StrideHeight,
        StrideWidth = g.StrideWidth,
        PaddingHeight = g.PaddingHeight,
        PaddingWidth = g.PaddingWidth,
        InPlane = g.InHeight * g.InWidth,
        OutPlane = g.OutHeight * g.OutWidth,
        InLength = g.InputLength,
        OutLength = g.OutputLength,
        KernelArea = g.KernelHeight * g.KernelWidth,
    };
}

/// <summary>
/// The 8 × 4 block of C one thread accumulates (rows tm + i·ThreadsM, columns tn + j·ThreadsN), in registers: 32
/// scalar fields, not an array, so that it never spills to local memory. Twelve shared-memory loads feed 32 FMAs.
/// </summary>
internal struct Block8x4
{
    public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33, C40, C41, C42, C43, C50, C51, C52, C53, C60, C61, C62, C63, C70, C71, C72, C73;

    public void Add(float a0, float a1, float a2, float a3, float a4, float a5, float a6, float a7, float b0, float b1, float b2, float b3)
    {
        C00 += a0 * b0; C01 += a0 * b1; C02 += a0 * b2; C03 += a0 * b3;
        C10 += a1 * b0; C11 += a1 * b1; C12 += a1 * b2; C13 += a1 * b3;
        C20 += a2 * b0; C21 += a2 * b1; C22 += a2 * b2; C23 += a2 * b3;
        C30 += a3 * b0; C31 += a3 * b1; C32 += a3 * b2; C33 += a3 * b3;
        C40 += a4 * b0; C41 += a4 * b1; C42 += a4 * b2; C43 += a4 * b3;
        C50 += a5 * b0; C51 += a5 * b1; C52 += a5 * b2; C53 += a5 * b3;
        C60 += a6 * b0; C61 += a6 * b1; C62 += a6 * b2; C63 += a6 * b3;
        C70 += a7 * b0; C71 += a7 * b1; C72 += a7 * b2; C73 += a7 * b3;
    }

    public readonly void Store(in GemmOutput output, in GemmShape s, int m, int n)
    {
        StoreRow(output, s, m, n, C00, C01, C02, C03);
        StoreRow(output, s, m + s.ThreadsM, n, C10, C11, C12, C13);
        StoreRow(output, s, m + 2 * s.ThreadsM, n, C20, C21, C22, C23);
        StoreRow(output, s, m + 3 * s.ThreadsM, n, C30, C31, C32, C33);
        StoreRow(output, s, m + 4 * s.ThreadsM, n, C40, C41, C42, C43);
        StoreRow(output, s, m + 5 * s.ThreadsM, n, C50, C51, C52, C53);
        StoreRow(output, s, m + 6 * s.ThreadsM, n, C60, C61, C62, C63);
        StoreRow(output, s, m + 7 * s.ThreadsM, n, C70, C71, C72, C73);
    }

    private static void StoreRow(in GemmOutput output, in GemmShape s, int m, int n, float c0, float c1, float c2, float c3)
    {
        if (m >= s.M)
        {
            return;
        }

        if (n < s.N)
        {
            output.Store(m, n, c0);
        }

        if (n + s.ThreadsN < s.N)
        {
            output.Store(m, n + s.ThreadsN, c1);
        }

        if (n + 2 * s.ThreadsN < s.N)
        {
            output.Store(m, n + 2 * s.ThreadsN, c2);
        }

        if (n + 3 * s.ThreadsN < s.N)
        {
            output.Store(m, n + 3 * s.ThreadsN, c3);
        }
    }
}

internal static class GemmKernel
{
    /// <summary>
    /// The kernel: a 2-D grid of (M / TileM) × (N / TileN) groups; each stages TileK-deep slices of A and B in shared
    /// memory (dynamic, SharedFloats floats), then every thread updates its 8 × 4 block from them.
    /// </summary>
    public static void Run<TA>(TA a, MatrixB b, GemmOutput output, GemmShape s)
        where TA : struct, IOperandA
    {
        const int tileK = GemmShape.TileK;
        ArrayView<float> shared = SharedMemory.GetDynamic<float>();
        ArrayView<int> columns = SharedMemory.Allocate<int>(3 * tileK);
        int tileM = s.TileM, tileN = s.TileN, strideB = s.StrideB;
        int bStart = tileK * tileM;
        int threads = s.ThreadsM * s.ThreadsN;
        int t = Group.IdxX;
        int tm = t % s.ThreadsM;
        int tn = t / s.ThreadsM;
        int m0 = Grid.IdxX * tileM;
        int n0 = Grid.IdxY * tileN;

        // Each thread loads A for one row of the tile (threads is a multiple of TileM, as ThreadsN ≥ 8), every
        // (threads / TileM)-th column: the row's state, with the im2col views' divisions, is computed once.
        int aRow = t % tileM;
        int aFirstColumn = t / tileM;
        int aColumnStep = threads / tileM;
        bool aRowInside = m0 + aRow < s.M;
        RowOfA row = a.Row(aRowInside ? m0 + aRow : 0);

        Block8x4 block = default;
        for (int k0 = 0; k0 < s.K; k0 += tileK)
        {
            // The slice's column states, once for the group.
            if (t < tileK)
            {
                var column = a.Column(k0 + t < s.K ? k0 + t : 0);
                columns[3 * t] = column.Offset;
                columns[3 * t + 1] = column.Y;
                columns[3 * t + 2] = column.X;
            }

            Group.Barrier();
            for (int k = aFirstColumn; k < tileK; k += aColumnStep)
            {
                var column = new ColumnOfA { Offset = columns[3 * k], Y = columns[3 * k + 1], X = columns[3 * k + 2] };
                shared[k * tileM + aRow] = aRowInside && k0 + k < s.K ? a.Load(row, column) : 0f;
            }

            // B's slice with k fastest: B is k-contiguous, so neighbouring threads read neighbouring floats.
            for (int e = t; e < tileN * tileK; e += threads)
            {
                int n = e / tileK;
                int k = e - n * tileK;
                int gn = n0 + n, gk = k0 + k;
                shared[bStart + k * strideB + n] = gn < s.N && gk < s.K ? b.Data[gn * b.Stride + gk] : 0f;
            }

            Group.Barrier();
            for (int k = 0; k < tileK; k++)
            {
                int ai = k * tileM + tm, sm = s.ThreadsM;
                int bi = bStart + k * strideB + tn, sn = s.ThreadsN;
                block.Add(
                    shared[ai], shared[ai + sm], shared[ai + 2 * sm], shared[ai + 3 * sm], shared[ai + 4 * sm], shared[ai + 5 * sm], shared[ai + 6 * sm], shared[ai + 7 * sm],
                    shared[bi], shared[bi + sn], shared[bi + 2 * sn], shared[bi + 3 * sn]);
            }

            Group.Barrier();
        }

        block.Store(output, s, m0 + tm, n0 + tn);
    }
}
