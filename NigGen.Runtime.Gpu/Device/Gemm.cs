using ILGPU;

namespace NigGen.Gpu.Device;

/// <summary>
/// One GEMM launch: C[m, n] = Σ_k A(m, k)·B(k, n) over an M × N × K problem, tiled in shared memory. A group of
/// ThreadsM × ThreadsN threads computes a (4·ThreadsM) × (4·ThreadsN) tile of C, each thread a 4 × 4 block held in
/// registers (rows tm + i·ThreadsM, columns tn + j·ThreadsN, so that neighbouring threads write neighbouring rows).
/// The tile sizes are launch parameters, so the CPU accelerator's small groups run the same kernel as a GPU's.
/// </summary>
internal struct GemmShape
{
    public int M;
    public int N;
    public int K;
    public int TileK;
    public int ThreadsM;
    public int ThreadsN;

    public readonly int TileM => 4 * ThreadsM;

    public readonly int TileN => 4 * ThreadsN;

    // The B tile's rows are padded by one float, so that threads storing consecutive k hit different banks.
    public readonly int StrideB => TileN + 1;

    public readonly int SharedFloats => TileK * TileM + TileK * StrideB;
}

/// <summary>The left operand, read element by element: a plain matrix or an implicit im2col view of a tensor.</summary>
internal interface IOperandA
{
    /// <summary>A(m, k), for m &lt; M and k &lt; K.</summary>
    float Load(int m, int k);
}

/// <summary>A(m, k) = Data[m·Stride + k]: a row-major matrix (a weight, or its transpose).</summary>
internal struct MatrixA : IOperandA
{
    public ArrayView<float> Data;
    public int Stride;

    public readonly float Load(int m, int k) => Data[m * Stride + k];
}

/// <summary>
/// The implicit im2col matrix of a convolution's input: m runs over (row, output y, output x), k over (input channel,
/// kernel y, kernel x); zero padding reads as 0. C = A·Wᵀ is the convolution, written channel-major.
/// </summary>
internal struct ConvPatchesA : IOperandA
{
    public ArrayView<float> Input;
    public ConvShape Shape;

    public readonly float Load(int m, int k)
    {
        ConvShape g = Shape;
        int row = m / g.OutPlane;
        int position = m - row * g.OutPlane;
        int oy = position / g.OutWidth;
        int ox = position - oy * g.OutWidth;
        int channel = k / g.KernelArea;
        int offset = k - channel * g.KernelArea;
        int ky = offset / g.KernelWidth;
        int kx = offset - ky * g.KernelWidth;
        int y = oy * g.StrideHeight - g.PaddingHeight + ky;
        int x = ox * g.StrideWidth - g.PaddingWidth + kx;
        if (y < 0 || y >= g.InHeight || x < 0 || x >= g.InWidth)
        {
            return 0f;
        }

        return Input[row * g.InLength + channel * g.InPlane + y * g.InWidth + x];
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

    public readonly float Load(int m, int k)
    {
        ConvShape g = Shape;
        int row = m / g.InPlane;
        int position = m - row * g.InPlane;
        int y = position / g.InWidth;
        int x = position - y * g.InWidth;
        int channel = k / g.KernelArea;
        int offset = k - channel * g.KernelArea;
        int ky = offset / g.KernelWidth;
        int kx = offset - ky * g.KernelWidth;
        int sy = y + g.PaddingHeight - ky;
        int sx = x + g.PaddingWidth - kx;
        if (sy < 0 || sx < 0)
        {
            return 0f;
        }

        int oy = sy / g.StrideHeight;
        int ox = sx / g.StrideWidth;
        if (oy * g.StrideHeight != sy || ox * g.StrideWidth != sx || oy >= g.OutHeight || ox >= g.OutWidth)
        {
            return 0f;
        }

        return OutputGradient[row * g.OutLength + channel * g.OutPlane + oy * g.OutWidth + ox];
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

/// <summary>The 4 × 4 block of C one thread accumulates, in registers (sixteen fields, not an array, so it never spills to local memory).</summary>
internal struct Block4x4
{
    public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;

    public void Add(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
    {
        C00 += a0 * b0; C01 += a0 * b1; C02 += a0 * b2; C03 += a0 * b3;
        C10 += a1 * b0; C11 += a1 * b1; C12 += a1 * b2; C13 += a1 * b3;
        C20 += a2 * b0; C21 += a2 * b1; C22 += a2 * b2; C23 += a2 * b3;
        C30 += a3 * b0; C31 += a3 * b1; C32 += a3 * b2; C33 += a3 * b3;
    }

    public readonly void Store(in GemmOutput output, in GemmShape s, int m, int n)
    {
        StoreRow(output, s, m, n, C00, C01, C02, C03);
        StoreRow(output, s, m + s.ThreadsM, n, C10, C11, C12, C13);
        StoreRow(output, s, m + 2 * s.ThreadsM, n, C20, C21, C22, C23);
        StoreRow(output, s, m + 3 * s.ThreadsM, n, C30, C31, C32, C33);
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
    /// memory (dynamic, SharedFloats floats), then every thread updates its 4 × 4 block from them.
    /// </summary>
    public static void Run<TA>(TA a, MatrixB b, GemmOutput output, GemmShape s)
        where TA : struct, IOperandA
    {
        ArrayView<float> shared = SharedMemory.GetDynamic<float>();
        int tileM = s.TileM, tileN = s.TileN, strideB = s.StrideB;
        int bStart = s.TileK * tileM;
        int threads = s.ThreadsM * s.ThreadsN;
        int t = Group.IdxX;
        int tm = t % s.ThreadsM;
        int tn = t / s.ThreadsM;
        int m0 = Grid.IdxX * tileM;
        int n0 = Grid.IdxY * tileN;

        Block4x4 block = default;
        for (int k0 = 0; k0 < s.K; k0 += s.TileK)
        {
            // A's slice with m fastest: the im2col views read neighbouring pixels for neighbouring threads.
            for (int e = t; e < tileM * s.TileK; e += threads)
            {
                int k = e / tileM;
                int m = e - k * tileM;
                int gm = m0 + m, gk = k0 + k;
                shared[k * tileM + m] = gm < s.M && gk < s.K ? a.Load(gm, gk) : 0f;
            }

            // B's slice with k fastest: B is k-contiguous, so neighbouring threads read neighbouring floats.
            for (int e = t; e < tileN * s.TileK; e += threads)
            {
                int n = e / s.TileK;
                int k = e - n * s.TileK;
                int gn = n0 + n, gk = k0 + k;
                shared[bStart + k * strideB + n] = gn < s.N && gk < s.K ? b.Data[gn * b.Stride + gk] : 0f;
            }

            Group.Barrier();
            for (int k = 0; k < s.TileK; k++)
            {
                int ai = k * tileM + tm;
                int bi = bStart + k * strideB + tn;
                block.Add(
                    shared[ai], shared[ai + s.ThreadsM], shared[ai + 2 * s.ThreadsM], shared[ai + 3 * s.ThreadsM],
                    shared[bi], shared[bi + s.ThreadsN], shared[bi + 2 * s.ThreadsN], shared[bi + 3 * s.ThreadsN]);
            }

            Group.Barrier();
        }

        block.Store(output, s, m0 + tm, n0 + tn);
    }
}
