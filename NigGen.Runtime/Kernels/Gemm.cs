using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// Single-precision matrix multiply for row-major, contiguous matrices. Every element of C is reduced over k in
/// ascending order with fused multiply-adds, whatever kernel, vector width or tile computes it, so a row's result
/// does not depend on how many rows are multiplied together.
/// </summary>
/// <remarks>
/// The hot loops here and in the other kernels are marked <see cref="MethodImplOptions.AggressiveOptimization"/>: the JIT
/// compiles them fully optimised on first use instead of running tier-0 and on-stack-replacement code until tiering
/// catches up, which measured seconds of 2–3× slower calls in a fresh process (a server's first requests). The kernels
/// gain nothing from dynamic PGO; Native AOT compiles them the same way.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Gemm
{
    // A tile walks at most this many rows of B before storing C: a 1024×32-float panel of B (128 KiB) stays in L2,
    // which feeds the micro-kernel's two B loads per 16 FMAs at full rate, and fewer blocks mean fewer C reloads (the
    // MLP's 64×784×256 layer in one block: 2.6 % faster than in four of 196). Storing and reloading C between blocks
    // is exact, so blocking does not change results.
    private const int KBlock = 1024;

    // Floats in the widest vector (Vector512<float>); a panel of B is two vectors wide.
    private const int MaxLanes = 16;

    // Rows in the tallest micro-kernel tile.
    private const int MaxRows = 8;

    // Packed panels: k blocks of at most this many rows (a Vector256 panel of them is 16 KiB, half of a Zen 3 L1), in
    // groups of this many columns (B's rows are read 1 KiB at a time while packing; the buffer is 256 KiB), for
    // products of at least this many rows (two Vector512 row blocks or three Vector256 ones) and columns.
    private const int PackedKBlock = 256;
    private const int PackedColumns = 256;
    private const int PackMinRows = 13;
    private const int PackMinColumns = 32;

    // Products at most this many columns wide (a classifier's head) put their rows across the lanes (Narrow), in passes
    // of at most this many columns.
    private const int NarrowMaxColumns = 12;
    private const int NarrowPassColumns = 6;
    private const int NarrowMinRows = 32;

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

    /// <summary>
    /// The unchecked core; lengths have been validated by the caller. A dense layer's epilogue rides along: with
    /// <paramref name="bias"/> (n floats, only when not accumulating) every row of C starts from the bias instead of
    /// zero, and <paramref name="relu"/> stores max(C, 0) — the bias seeds the accumulators and the ReLU is applied in
    /// registers before the store, so neither costs a pass over C, and the numbers are those of filling C with the bias,
    /// accumulating and running <see cref="ActivationKernels.Relu"/> after.
    /// </summary>
    internal static unsafe void MultiplyCore(float* a, float* b, float* c, int m, int k, int n, bool accumulate, float* bias = null, bool relu = false) =>
        MultiplyColumns(a, b, c, m, k, n, 0, n, accumulate, bias, relu);

    /// <summary>
    /// <see cref="MultiplyCore"/> for columns <paramref name="from"/> … <paramref name="to"/> − 1 of C only (B and C are
    /// <paramref name="ld"/> floats a row; <paramref name="bias"/>, when given, holds all ld columns): threads can share
    /// a product by columns, and each column is the same chain whichever range computes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    internal static unsafe void MultiplyColumns(float* a, float* b, float* c, int m, int k, int ld, int from, int to, bool accumulate, float* bias, bool relu)
    {
        int n = to - from;
        if (m == 0 || n <= 0)
        {
            return;
        }

        b += from;
        c += from;
        bias = bias == null ? null : bias + from;
        if (k == 0)
        {
            for (int i = 0; i < m; i++)
            {
                var row = new Span<float>(c + (nint)i * ld, n);
                if (bias != null)
                {
                    new ReadOnlySpan<float>(bias, n).CopyTo(row);
                }
                else if (!accumulate)
                {
                    row.Clear();
                }

                if (relu)
                {
                    Relu(c + (nint)i * ld, n);
                }
            }

            return;
        }

        // Partial tiles of C go through the tile buffer.
        float* tile = stackalloc float[MaxRows * 2 * MaxLanes];
        new Span<float>(tile, MaxRows * 2 * MaxLanes).Clear(); // padding lanes stay finite

        // Equal k blocks (400 = 200 + 200, not 256 + 144) keep every block's panel the same size; packed panels take
        // shorter blocks, so that one panel stays in L1 while the row blocks stream it.
        bool pack = PacksPanels(m, n, ld);
        int kBlock = pack ? PackedKBlock : KBlock;
        int kb = (k + kBlock - 1) / kBlock;
        int kcMax = (k + kb - 1) / kb;
        for (int k0 = 0; k0 < k; k0 += kcMax)
        {
            int kc = Math.Min(kcMax, k - k0);
            bool load = accumulate || k0 > 0;
            float* ak = a + k0;
            float* bk = b + (nint)k0 * ld;

            // The bias starts the first block's chains; the ReLU ends the last block's.
            float* blockBias = load ? null : bias;
            bool blockRelu = relu && k0 + kc == k;

            // One width per machine; lanes compute the same FMA chains at any width, so the choice never changes results.
            if (Vector512.IsHardwareAccelerated)
            {
                Block<Ops512, Vector512<float>>(ak, k, bk, c, ld, n, m, kc, load, blockBias, blockRelu, tile, pack);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Block<Ops256, Vector256<float>>(ak, k, bk, c, ld, n, m, kc, load, blockBias, blockRelu, tile, pack);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Block<Ops128, Vector128<float>>(ak, k, bk, c, ld, n, m, kc, load, blockBias, blockRelu, tile, pack);
            }
            else
            {
                ScalarColumns(ak, k, bk, c, ld, n, m, kc, load, blockBias, blockRelu);
            }
        }
    }

    private static unsafe void ScalarColumns(float* a, int lda, float* b, float* c, int ld, int n, int m, int kc, bool load, float* bias, bool relu)
    {
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                float* ai = a + (nint)i * lda;
                float* bj = b + j;
                float* cij = c + (nint)i * ld + j;
                float sum = load ? *cij : bias != null ? bias[j] : 0f;
                for (int p = 0; p < kc; p++)
                {
                    sum = MathF.FusedMultiplyAdd(ai[p], bj[(nint)p * ld], sum);
                }

                *cij = relu && sum <= 0f ? 0f : sum;
            }
        }
    }

    /// <summary>max(c, 0) in place, as <see cref="ActivationKernels.Relu"/>.</summary>
    private static unsafe void Relu(float* c, int length) =>
        ActivationKernels.ReluCore(new ReadOnlySpan<float>(c, length), new Span<float>(c, length));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Block<TOps, TVec>(float* a, int lda, float* b, float* c, int ld, int n, int m, int kc, bool load, float* bias, bool relu, float* tile, bool pack)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        if (PutsRowsAcrossLanes(m, kc, n, TOps.Count))
        {
            // The rows left over (fewer than a vector's lanes) take the tiles below.
            int done = Narrow<TOps, TVec>(a, lda, b, c, ld, n, m, kc, load, bias, relu);
            a += (nint)done * lda;
            c += (nint)done * ld;
            m -= done;
            if (m == 0)
            {
                return;
            }
        }

        // One row (matrix-vector work) takes four vectors of columns at a time, to keep four FMA chains in flight; it is
        // seeded with the bias and rectified after, outside the kernels. Two or more rows go through the tiles, so B is
        // read once for all of them (two rows: the MLP's endpoint pass in Neuron Integrated Gradients, 9 % of the call).
        if (m < 2)
        {
            if (bias != null)
            {
                for (int i = 0; i < m; i++)
                {
                    new ReadOnlySpan<float>(bias, n).CopyTo(new Span<float>(c + (nint)i * ld, n));
                }

                load = true;
            }

            int j = Panels<TOps, TVec>(a, lda, b, c, ld, n, m, kc, 0, load);
            if (j < n)
            {
                Tail<TOps, TVec>(a, lda, b, c, ld, n, m, kc, j, load, tile);
            }

            if (relu)
            {
                for (int i = 0; i < m; i++)
                {
                    Relu(c + (nint)i * ld, n);
                }
            }

            return;
        }

        int w = TOps.Count;

        // Two or three rows (the endpoint pass of Neuron Integrated Gradients) take wider panels: with two vectors they
        // run 4 or 6 FMA chains, too few to hide the FMA latency (2×784×256 took longer than 4×784×256: 9.5 µs against
        // 7.0 with Vector512, 14.3 against 13.2 with Vector256). Four vectors (8 or 12 chains: 2×784×256 in 7.6 µs
        // and 9.4), except three rows of Vector256, whose 12 accumulators and 4 loads of B would not fit AVX2's 16
        // registers: three vectors there (3×784×256: 13.3 → 11.0 µs).
        int panelVectors = pack ? 2 : m == 2 || (m == 3 && w == 16) ? 4 : m == 3 ? 3 : 2;
        int panelWidth = panelVectors * w;
        float* packed = pack ? PackBuffer() : null;
        int groupColumns = pack ? PackedColumns : n;
        for (int g = 0; g < n; g += groupColumns)
        {
            int groupCols = Math.Min(groupColumns, n - g);
            if (pack)
            {
                PackPanels<TOps, TVec>(b + g, ld, kc, groupCols, packed);
            }

            for (int j = g; j < g + groupCols; j += panelWidth)
            {
                int cols = Math.Min(panelWidth, n - j);
                float* panelBias = bias == null ? null : bias + j;
                float* panel = pack ? packed + (nint)(j - g) * kc : b + j;
                int ldb = pack ? panelWidth : ld;

                // A last panel at most one Vector512 wide (a 10-class head, the tail of an odd width) runs as two
                // Vector256 per row: the same FMA chains, but twice the FMAs per broadcast of A; one Vector512 per row
                // ran at 70 % of the FMA peak (64×256×16: 6.4 µs against 4.7).
                if (w == 16 && cols <= 16)
                {
                    Panel<Ops256, Vector256<float>>(a, lda, panel, ldb, pack, c + j, ld, cols, m, kc, load, panelBias, relu, tile, 2);
                }
                else
                {
                    Panel<TOps, TVec>(a, lda, panel, ldb, pack, c + j, ld, cols, m, kc, load, panelBias, relu, tile, panelVectors);
                }
            }
        }
    }

    /// <summary>
    /// Whether a product puts its rows across the lanes (<see cref="Narrow"/>): at most <see cref="NarrowMaxColumns"/>
    /// columns, except 8 with 8-float vectors, which fill one exactly, at least <see cref="NarrowMinRows"/> rows, and a k
    /// block long enough to repay the transpositions. Vectors of columns leave lanes idle there: a 10-class head filled 10
    /// of 16 (64×256×10 took 4.5 µs with Vector512, against 1.2 µs of FMAs at the peak; 2.5 µs this way, and 5.3 → 3.6 µs
    /// with Vector256). Fewer rows do not repay transposing A (17×512×n measured up to 25 % slower), nor do k blocks
    /// under 8 rows, whose transposition goes element by element (64×7×8 took 1.0 µs against 0.2 with Vector512), nor,
    /// below 8 columns, whose C goes element by element too, k blocks under 32 rows (256×16×3: 3.4 µs against 2.8;
    /// 256×64×3: 2.1 against 4.8).
    /// </summary>
    internal static bool PutsRowsAcrossLanes(int m, int kc, int n, int lanes) =>
        n <= NarrowMaxColumns && m >= NarrowMinRows && !(n == 8 && lanes == 8) && kc >= (n < 8 ? 32 : 8);

    /// <summary>
    /// A narrow product with rows across the lanes, for groups of two vectors' rows (one for the last whole vector):
    /// A's rows are transposed into this thread's buffer, each lane then runs its row's chain for a column, with B's
    /// element broadcast, and C's columns go back through a transposition. The chains are those of the column tiles
    /// (a·b + c is the same rounding whichever operand is broadcast), so the results are the same bits. Returns the
    /// rows done, a multiple of the lanes; the caller finishes the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static unsafe int Narrow<TOps, TVec>(float* a, int lda, float* b, float* c, int ld, int n, int m, int kc, bool load, float* bias, bool relu)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        int group = 2 * w;
        System.Diagnostics.Debug.Assert(
            n <= NarrowMaxColumns && (nint)group * kc <= PackedKBlock * PackedColumns, "a group's rows of A fit the pack buffer");
        float* rowsOfA = PackBuffer();                                         // [kc][group]: A's rows of the group, transposed
        float* columnsOfC = stackalloc float[NarrowMaxColumns * 2 * MaxLanes]; // [n][group]: C's columns of the group
        int passes = (n + NarrowPassColumns - 1) / NarrowPassColumns;
        int i = 0;
        while (m - i >= w)
        {
            int rows = m - i >= group ? group : w;
            float* ai = a + (nint)i * lda;
            float* ci = c + (nint)i * ld;
            Transposition.TransposeStrided(ai, lda, rowsOfA, group, rows, kc);
            if (load)
            {
                Transposition.TransposeStrided(ci, ld, columnsOfC, group, rows, n);
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    new Span<float>(columnsOfC + j * group, rows).Fill(bias != null ? bias[j] : 0f);
                }
            }

            // Columns split evenly into passes, so that no pass runs with too few chains to hide the FMA latency.
            for (int j = 0, pass = 0; j < n; pass++)
            {
                int cols = (n - j + passes - pass - 1) / (passes - pass);
                NarrowTile<TOps, TVec>(cols, rows / w, rowsOfA, group, b + j, ld, columnsOfC + j * group, kc, relu);
                j += cols;
            }

            Transposition.TransposeStrided(columnsOfC, group, ci, ld, n, rows);
            i += rows;
        }

        return i;
    }

    /// <summary>Runs <see cref="NarrowKernel"/> specialised for <paramref name="columns"/> (1–6) and <paramref name="vectors"/> (1–2).</summary>
    private static unsafe void NarrowTile<TOps, TVec>(int columns, int vectors, float* a, int lda, float* b, int ldb, float* c, int kc, bool relu)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        switch (columns * 2 + vectors - 1)
        {
            case 6 * 2 + 1: NarrowKernel<TOps, TVec, R6, V2>(a, lda, b, ldb, c, kc, relu); break;
            case 6 * 2: NarrowKernel<TOps, TVec, R6, V1>(a, lda, b, ldb, c, kc, relu); break;
            case 5 * 2 + 1: NarrowKernel<TOps, TVec, R5, V2>(a, lda, b, ldb, c, kc, relu); break;
            case 5 * 2: NarrowKernel<TOps, TVec, R5, V1>(a, lda, b, ldb, c, kc, relu); break;
            case 4 * 2 + 1: NarrowKernel<TOps, TVec, R4, V2>(a, lda, b, ldb, c, kc, relu); break;
            case 4 * 2: NarrowKernel<TOps, TVec, R4, V1>(a, lda, b, ldb, c, kc, relu); break;
            case 3 * 2 + 1: NarrowKernel<TOps, TVec, R3, V2>(a, lda, b, ldb, c, kc, relu); break;
            case 3 * 2: NarrowKernel<TOps, TVec, R3, V1>(a, lda, b, ldb, c, kc, relu); break;
            case 2 * 2 + 1: NarrowKernel<TOps, TVec, R2, V2>(a, lda, b, ldb, c, kc, relu); break;
            case 2 * 2: NarrowKernel<TOps, TVec, R2, V1>(a, lda, b, ldb, c, kc, relu); break;
            case 1 * 2 + 1: NarrowKernel<TOps, TVec, R1, V2>(a, lda, b, ldb, c, kc, relu); break;
            case 1 * 2: NarrowKernel<TOps, TVec, R1, V1>(a, lda, b, ldb, c, kc, relu); break;
            default: throw new ArgumentOutOfRangeException(nameof(columns), "Narrow tiles take 1–6 columns and 1–2 vectors of rows.");
        }
    }

    /// <summary>
    /// TColumns columns of C for TVectors vectors of rows, all chains in registers over the k block: per row of B one or
    /// two loads of the transposed A (<paramref name="lda"/> floats a row) and one broadcast per column. C is the
    /// transposed tile (a column's rows at <paramref name="c"/> + j·<paramref name="lda"/>), holding each chain's start;
    /// <paramref name="relu"/> rectifies the results before the store.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void NarrowKernel<TOps, TVec, TColumns, TVectors>(float* a, int lda, float* b, int ldb, float* c, int kc, bool relu)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TColumns : struct, IConstant
        where TVectors : struct, IConstant
    {
        int w = TOps.Count;
        int n = TColumns.Value;
        bool two = TVectors.Value == 2;
        TVec z = TOps.Zero;
        float* c0 = c;
        float* c1 = c0 + lda;
        float* c2 = c1 + lda;
        float* c3 = c2 + lda;
        float* c4 = c3 + lda;
        float* c5 = c4 + lda;
        TVec s0 = TOps.Load(c0), t0 = two ? TOps.Load(c0 + w) : z;
        TVec s1 = n > 1 ? TOps.Load(c1) : z, t1 = n > 1 && two ? TOps.Load(c1 + w) : z;
        TVec s2 = n > 2 ? TOps.Load(c2) : z, t2 = n > 2 && two ? TOps.Load(c2 + w) : z;
        TVec s3 = n > 3 ? TOps.Load(c3) : z, t3 = n > 3 && two ? TOps.Load(c3 + w) : z;
        TVec s4 = n > 4 ? TOps.Load(c4) : z, t4 = n > 4 && two ? TOps.Load(c4 + w) : z;
        TVec s5 = n > 5 ? TOps.Load(c5) : z, t5 = n > 5 && two ? TOps.Load(c5 + w) : z;
        for (int p = 0; p < kc; p++)
        {
            TVec x0 = TOps.Load(a);
            TVec x1 = two ? TOps.Load(a + w) : z;
            a += lda;
            TVec y = TOps.Broadcast(b[0]);
            s0 = TOps.MultiplyAdd(x0, y, s0);
            if (two) t0 = TOps.MultiplyAdd(x1, y, t0);
            if (n > 1)
            {
                y = TOps.Broadcast(b[1]);
                s1 = TOps.MultiplyAdd(x0, y, s1);
                if (two) t1 = TOps.MultiplyAdd(x1, y, t1);
            }

            if (n > 2)
            {
                y = TOps.Broadcast(b[2]);
                s2 = TOps.MultiplyAdd(x0, y, s2);
                if (two) t2 = TOps.MultiplyAdd(x1, y, t2);
            }

            if (n > 3)
            {
                y = TOps.Broadcast(b[3]);
                s3 = TOps.MultiplyAdd(x0, y, s3);
                if (two) t3 = TOps.MultiplyAdd(x1, y, t3);
            }

            if (n > 4)
            {
                y = TOps.Broadcast(b[4]);
                s4 = TOps.MultiplyAdd(x0, y, s4);
                if (two) t4 = TOps.MultiplyAdd(x1, y, t4);
            }

            if (n > 5)
            {
                y = TOps.Broadcast(b[5]);
                s5 = TOps.MultiplyAdd(x0, y, s5);
                if (two) t5 = TOps.MultiplyAdd(x1, y, t5);
            }

            b += ldb;
        }

        Finish<TOps, TVec>(c0, s0, t0, two, relu);
        if (n > 1) Finish<TOps, TVec>(c1, s1, t1, two, relu);
        if (n > 2) Finish<TOps, TVec>(c2, s2, t2, two, relu);
        if (n > 3) Finish<TOps, TVec>(c3, s3, t3, two, relu);
        if (n > 4) Finish<TOps, TVec>(c4, s4, t4, two, relu);
        if (n > 5) Finish<TOps, TVec>(c5, s5, t5, two, relu);
    }

    /// <summary>
    /// Whether B's panels are packed: when B's rows are a multiple of 2 KiB apart and enough row blocks read each panel
    /// to repay the copy. Read in place, a panel's rows then fall in one or two of L1's 64 sets, so every row block
    /// reads the panel from L2 again: on a Zen 5 core (L1 48 KiB, 12-way), with Vector256, 64×784×n ran at 88 % of
    /// the FMA peak in place and 92 % packed for n = 512, 67 % and 91 % for 1024, 81 % and 91 % for 1536, and 64×512×2048
    /// at 65 % and 84 %. Other strides spread over more sets and stay in place: there packing measured 5–15 % slower
    /// (the copy of B, about a tenth of a 64-row product's time, buys nothing when the panel already streams at the
    /// peak). Packing reads each row of B once, contiguously for a group of panels: a panel at a time, rows 4 KiB
    /// apart cost a page walk per cache line.
    /// </summary>
    internal static bool PacksPanels(int m, int n, int ld) => m >= PackMinRows && n >= PackMinColumns && ld % 512 == 0;

    /// <summary>
    /// Copies kc rows of a group of panels (<paramref name="cols"/> ≤ <see cref="PackedColumns"/> columns of B from
    /// <paramref name="b"/>, rows <paramref name="ld"/> floats apart) into <paramref name="packed"/>: panel q (columns
    /// 2w·q …) at q·kc·2w floats, its rows 2w floats apart, lanes past the group's columns zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackPanels<TOps, TVec>(float* b, int ld, int kc, int cols, float* packed)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        int panelWidth = 2 * w;
        int whole = cols / panelWidth;
        int rest = cols - whole * panelWidth;
        nint panelStride = (nint)kc * panelWidth;
        for (int p = 0; p < kc; p++)
        {
            float* row = b + (nint)p * ld;
            float* to = packed + (nint)p * panelWidth;
            for (int q = 0; q < whole; q++, row += panelWidth, to += panelStride)
            {
                TOps.Store(to, TOps.Load(row));
                TOps.Store(to + w, TOps.Load(row + w));
            }

            if (rest > 0)
            {
                new ReadOnlySpan<float>(row, rest).CopyTo(new Span<float>(to, rest));
                new Span<float>(to + rest, panelWidth - rest).Clear();
            }
        }
    }

    /// <summary>
    /// This thread's buffer for a packed group of panels (<see cref="PackedKBlock"/> rows of <see cref="PackedColumns"/>
    /// columns), 64-byte aligned (<see cref="AlignedFloats"/>) so that a packed row never straddles cache lines; pinned,
    /// so it needs no fixing, and it goes with its thread.
    /// </summary>
    private static unsafe float* PackBuffer()
    {
        if (s_packBuffer.Length == 0)
        {
            s_packBuffer = AlignedFloats.Allocate(PackedKBlock * PackedColumns);
        }

        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(s_packBuffer.Span));
    }

    [ThreadStatic]
    private static AlignedFloats s_packBuffer;

    /// <summary>
    /// C[:, 0..cols) of one panel of at most two vectors' columns over all m rows, in row blocks of at most 8 (Vector512)
    /// or 6. B and C are <paramref name="ld"/> floats a row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Panel<TOps, TVec>(float* a, int lda, float* panel, int ldb, bool packed, float* c, int ld, int cols, int m, int kc, bool load, float* bias, bool relu, float* tile, int maxVectors)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;

        // Vector512 tiles take 8 rows × 2 vectors of accumulators (AVX-512's 32 registers); narrower ones 6 × 2, which fit
        // AVX2's 16 and, for Vector256 on AVX-512, measured faster than 8 × 2 too (64×256×16: 4.7 µs against 8.0).
        int maxRows = w == 16 ? 8 : 6;
        int blocks = (m + maxRows - 1) / maxRows;
        int vectors = Math.Min(maxVectors, (cols + w - 1) / w);
        int width = vectors * w;

        // A partial panel's vectors read past its columns, lanes that are dropped: packed, into its zero padding; in
        // place, into the next row of B, except in its last rows, where that would read past B: those are finished
        // element by element.
        int inPlace = packed ? kc : InPlaceRows(kc, ldb, cols, width);

        // Rows split evenly into blocks, so a remainder never runs with too few accumulators to hide FMA latency.
        for (int i = 0, block = 0; i < m; block++)
        {
            int rows = (m - i + blocks - block - 1) / (blocks - block);
            float* ai = a + (nint)i * lda;
            float* ci = c + (nint)i * ld;
            if (cols == width)
            {
                Tile<TOps, TVec>(rows, vectors, ai, lda, panel, ldb, ci, ld, kc, load, bias, relu);
            }
            else
            {
                // A partial panel goes through a full-width tile; the lanes past its columns are dropped. Its last
                // rows are finished element by element, so the tile starts from C or the bias copied in and is
                // rectified after.
                if (load || bias != null)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        float* start = load ? ci + (nint)r * ld : bias;
                        new ReadOnlySpan<float>(start, cols).CopyTo(new Span<float>(tile + r * width, cols));
                    }
                }

                Tile<TOps, TVec>(rows, vectors, ai, lda, panel, ldb, tile, width, inPlace, load || bias != null, null, relu: false);
                for (int r = 0; r < rows; r++)
                {
                    FinishRows(ai + (nint)r * lda, panel, ldb, tile + r * width, cols, inPlace, kc);
                    if (relu)
                    {
                        Relu(tile + r * width, cols);
                    }

                    new ReadOnlySpan<float>(tile + r * width, cols).CopyTo(new Span<float>(ci + (nint)r * ld, cols));
                }
            }

            i += rows;
        }
    }

    /// <summary>
    /// Rows of a kc-row panel of <paramref name="cols"/> columns (ending at its row's end, rows <paramref name="ldb"/>
    /// apart) that a <paramref name="width"/>-float vector read can take in place: the read spills past the row's end
    /// into the next rows, so the last few rows of the block would reach past B.
    /// </summary>
    private static int InPlaceRows(int kc, int ldb, int cols, int width) =>
        cols == width ? kc : Math.Max(0, kc - (width - cols + ldb - 1) / ldb);

    /// <summary>Continues one row's chains of a partial panel over rows <paramref name="from"/> … kc − 1 of B: the same fused multiply-adds in the same order as the vector lanes.</summary>
    private static unsafe void FinishRows(float* a, float* b, int ldb, float* c, int cols, int from, int kc)
    {
        for (int p = from; p < kc; p++)
        {
            float* row = b + (nint)p * ldb;
            for (int col = 0; col < cols; col++)
            {
                c[col] = MathF.FusedMultiplyAdd(a[p], row[col], c[col]);
            }
        }
    }

    /// <summary>
    /// Runs the micro-kernel specialised for <paramref name="rows"/> (1–8) rows and <paramref name="vectors"/> (1–2; 3–4
    /// for at most 3 rows) column vectors. Chains start from C when <paramref name="load"/> is set, else from <paramref name="bias"/> (the
    /// tile's columns) or zero; <paramref name="relu"/> rectifies them before the store.
    /// </summary>
    internal static unsafe void Tile<TOps, TVec>(int rows, int vectors, float* a, int lda, float* b, int ldb, float* c, int ldc, int kc, bool load, float* bias, bool relu)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        if (vectors > 2)
        {
            switch (rows, vectors)
            {
                case (3, 4): Kernel<TOps, TVec, R3, V4>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case (2, 4): Kernel<TOps, TVec, R2, V4>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case (1, 4): Kernel<TOps, TVec, R1, V4>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case (3, 3): Kernel<TOps, TVec, R3, V3>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case (2, 3): Kernel<TOps, TVec, R2, V3>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case (1, 3): Kernel<TOps, TVec, R1, V3>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                default: throw new ArgumentOutOfRangeException(nameof(rows), "Tiles three or four vectors wide take at most 3 rows.");
            }
        }
        else if (vectors == 2)
        {
            switch (rows)
            {
                case 8: Kernel<TOps, TVec, R8, V2>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 7: Kernel<TOps, TVec, R7, V2>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 6: Kernel<TOps, TVec, R6, V2>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 5: Kernel<TOps, TVec, R5, V2>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 4: Kernel<TOps, TVec, R4, V2>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 3: Kernel<TOps, TVec, R3, V2>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 2: Kernel<TOps, TVec, R2, V2>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                default: Kernel<TOps, TVec, R1, V2>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
            }
        }
        else
        {
            switch (rows)
            {
                case 8: Kernel<TOps, TVec, R8, V1>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 7: Kernel<TOps, TVec, R7, V1>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 6: Kernel<TOps, TVec, R6, V1>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 5: Kernel<TOps, TVec, R5, V1>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 4: Kernel<TOps, TVec, R4, V1>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 3: Kernel<TOps, TVec, R3, V1>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                case 2: Kernel<TOps, TVec, R2, V1>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
                default: Kernel<TOps, TVec, R1, V1>(a, lda, b, ldb, c, ldc, kc, load, bias, relu); break;
            }
        }
    }

    /// <summary>The last n − j (&lt; one vector) columns of one row: B read in place a vector at a time, C through a tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tail<TOps, TVec>(float* a, int lda, float* b, float* c, int ld, int n, int m, int kc, int j, bool load, float* tile)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        int cols = n - j;

        // B's rows are read in place, a vector from column j, as partial panels are in Block: nothing is packed, so a
        // 10-class head costs its FMAs only.
        int inPlace = InPlaceRows(kc, ld, cols, w);
        for (int i = 0; i < m; i++)
        {
            float* ai = a + (nint)i * lda;
            float* ci = c + (nint)i * ld + j;
            if (load)
            {
                new ReadOnlySpan<float>(ci, cols).CopyTo(new Span<float>(tile, cols));
            }

            Kernel1x1<TOps, TVec>(ai, b + j, ld, tile, inPlace, load);
            FinishRows(ai, b + j, ld, tile, cols, inPlace, kc);

            new ReadOnlySpan<float>(tile, cols).CopyTo(new Span<float>(ci, cols));
        }
    }

    /// <summary>For one row: computes the column panels starting at <paramref name="j"/> that fit whole vectors; returns the first column left.</summary>
    private static unsafe int Panels<TOps, TVec>(float* a, int lda, float* b, float* c, int ld, int n, int m, int kc, int j, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;

        // Eight independent chains a row: a chain takes one FMA per row of B, so the chains in flight set how many of
        // B's cache lines are read at once, and B (read once) streams from L2 or memory (1×784×256: 9.6 → 7.6 µs with
        // Vector256, 8.2 → 7.0 µs with Vector512, against four chains). Eight still leave AVX2 registers to spare.
        for (; j + 8 * w <= n; j += 8 * w)
        {
            for (int i = 0; i < m; i++)
            {
                Kernel1x8<TOps, TVec>(a + (nint)i * lda, b + j, ld, c + (nint)i * ld + j, kc, load);
            }
        }

        // Four chains for the columns left.
        for (; j + 4 * w <= n; j += 4 * w)
        {
            for (int i = 0; i < m; i++)
            {
                Kernel1x4<TOps, TVec>(a + (nint)i * lda, b + j, ld, c + (nint)i * ld + j, kc, load);
            }
        }

        for (; j + 2 * w <= n; j += 2 * w)
        {
            for (int i = 0; i < m; i++)
            {
                Kernel1x2<TOps, TVec>(a + (nint)i * lda, b + j, ld, c + (nint)i * ld + j, kc, load);
            }
        }

        for (; j + w <= n; j += w)
        {
            for (int i = 0; i < m; i++)
            {
                Kernel1x1<TOps, TVec>(a + (nint)i * lda, b + j, ld, c + (nint)i * ld + j, kc, load);
            }
        }

        return j;
    }

    /// <summary>
    /// The register-blocked micro-kernel: TRows rows of A (up to 8) times TVectors vectors of B's columns (1 or 2),
    /// all accumulators in registers for the whole k block. The row and vector counts are type constants, so the JIT
    /// drops the unused accumulators and each instantiation is straight-line code.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel<TOps, TVec, TRows, TVectors>(float* a, int lda, float* b, int ldb, float* c, int ldc, int kc, bool load, float* bias, bool relu)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TRows : struct, IConstant
        where TVectors : struct, IConstant
    {
        int w = TOps.Count;
        int r = TRows.Value;
        bool two = TVectors.Value >= 2;
        bool three = TVectors.Value >= 3; // three- and four-vector tiles have at most 3 rows
        bool four = TVectors.Value == 4;
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
        TVec z = TOps.Zero;
        TVec s00 = Start<TOps, TVec>(c0, bias, 0, load), s01 = two ? Start<TOps, TVec>(c0, bias, w, load) : z;
        TVec s10 = r > 1 ? Start<TOps, TVec>(c1, bias, 0, load) : z, s11 = r > 1 && two ? Start<TOps, TVec>(c1, bias, w, load) : z;
        TVec s20 = r > 2 ? Start<TOps, TVec>(c2, bias, 0, load) : z, s21 = r > 2 && two ? Start<TOps, TVec>(c2, bias, w, load) : z;
        TVec s30 = r > 3 ? Start<TOps, TVec>(c3, bias, 0, load) : z, s31 = r > 3 && two ? Start<TOps, TVec>(c3, bias, w, load) : z;
        TVec s40 = r > 4 ? Start<TOps, TVec>(c4, bias, 0, load) : z, s41 = r > 4 && two ? Start<TOps, TVec>(c4, bias, w, load) : z;
        TVec s50 = r > 5 ? Start<TOps, TVec>(c5, bias, 0, load) : z, s51 = r > 5 && two ? Start<TOps, TVec>(c5, bias, w, load) : z;
        TVec s60 = r > 6 ? Start<TOps, TVec>(c6, bias, 0, load) : z, s61 = r > 6 && two ? Start<TOps, TVec>(c6, bias, w, load) : z;
        TVec s70 = r > 7 ? Start<TOps, TVec>(c7, bias, 0, load) : z, s71 = r > 7 && two ? Start<TOps, TVec>(c7, bias, w, load) : z;
        TVec s02 = three ? Start<TOps, TVec>(c0, bias, 2 * w, load) : z, s03 = four ? Start<TOps, TVec>(c0, bias, 3 * w, load) : z;
        TVec s12 = three && r > 1 ? Start<TOps, TVec>(c1, bias, 2 * w, load) : z, s13 = four && r > 1 ? Start<TOps, TVec>(c1, bias, 3 * w, load) : z;
        TVec s22 = three && r > 2 ? Start<TOps, TVec>(c2, bias, 2 * w, load) : z, s23 = four && r > 2 ? Start<TOps, TVec>(c2, bias, 3 * w, load) : z;
        for (int p = 0; p < kc; p++)
        {
            TVec b0 = TOps.Load(b);
            TVec b1 = two ? TOps.Load(b + w) : z;
            TVec b2 = three ? TOps.Load(b + 2 * w) : z;
            TVec b3 = four ? TOps.Load(b + 3 * w) : z;
            b += ldb;
            TVec x = TOps.Broadcast(a0[p]);
            s00 = TOps.MultiplyAdd(x, b0, s00);
            if (two) s01 = TOps.MultiplyAdd(x, b1, s01);
            if (three) s02 = TOps.MultiplyAdd(x, b2, s02);
            if (four) s03 = TOps.MultiplyAdd(x, b3, s03);
            if (r > 1)
            {
                x = TOps.Broadcast(a1[p]);
                s10 = TOps.MultiplyAdd(x, b0, s10);
                if (two) s11 = TOps.MultiplyAdd(x, b1, s11);
                if (three) s12 = TOps.MultiplyAdd(x, b2, s12);
                if (four) s13 = TOps.MultiplyAdd(x, b3, s13);
            }

            if (r > 2)
            {
                x = TOps.Broadcast(a2[p]);
                s20 = TOps.MultiplyAdd(x, b0, s20);
                if (two) s21 = TOps.MultiplyAdd(x, b1, s21);
                if (three) s22 = TOps.MultiplyAdd(x, b2, s22);
                if (four) s23 = TOps.MultiplyAdd(x, b3, s23);
            }

            if (r > 3)
            {
                x = TOps.Broadcast(a3[p]);
                s30 = TOps.MultiplyAdd(x, b0, s30);
                if (two) s31 = TOps.MultiplyAdd(x, b1, s31);
            }

            if (r > 4)
            {
                x = TOps.Broadcast(a4[p]);
                s40 = TOps.MultiplyAdd(x, b0, s40);
                if (two) s41 = TOps.MultiplyAdd(x, b1, s41);
            }

            if (r > 5)
            {
                x = TOps.Broadcast(a5[p]);
                s50 = TOps.MultiplyAdd(x, b0, s50);
                if (two) s51 = TOps.MultiplyAdd(x, b1, s51);
            }

            if (r > 6)
            {
                x = TOps.Broadcast(a6[p]);
                s60 = TOps.MultiplyAdd(x, b0, s60);
                if (two) s61 = TOps.MultiplyAdd(x, b1, s61);
            }

            if (r > 7)
            {
                x = TOps.Broadcast(a7[p]);
                s70 = TOps.MultiplyAdd(x, b0, s70);
                if (two) s71 = TOps.MultiplyAdd(x, b1, s71);
            }
        }

        Finish<TOps, TVec>(c0, s00, s01, two, relu);
        if (r > 1) Finish<TOps, TVec>(c1, s10, s11, two, relu);
        if (r > 2) Finish<TOps, TVec>(c2, s20, s21, two, relu);
        if (three)
        {
            Finish<TOps, TVec>(c0 + 2 * w, s02, s03, four, relu);
            if (r > 1) Finish<TOps, TVec>(c1 + 2 * w, s12, s13, four, relu);
            if (r > 2) Finish<TOps, TVec>(c2 + 2 * w, s22, s23, four, relu);
        }
        if (r > 3) Finish<TOps, TVec>(c3, s30, s31, two, relu);
        if (r > 4) Finish<TOps, TVec>(c4, s40, s41, two, relu);
        if (r > 5) Finish<TOps, TVec>(c5, s50, s51, two, relu);
        if (r > 6) Finish<TOps, TVec>(c6, s60, s61, two, relu);
        if (r > 7) Finish<TOps, TVec>(c7, s70, s71, two, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Finish<TOps, TVec>(float* c, TVec first, TVec second, bool two, bool relu)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        if (relu)
        {
            first = TOps.Relu(first);
            second = TOps.Relu(second);
        }

        TOps.Store(c, first);
        if (two)
        {
            TOps.Store(c + TOps.Count, second);
        }
    }

    /// <summary>A chain's start: C's value, the bias's or zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe TVec Start<TOps, TVec>(float* c, float* bias, int offset, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        => load ? TOps.Load(c + offset) : bias != null ? TOps.Load(bias + offset) : TOps.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe TVec Start<TOps, TVec>(float* c, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        => load ? TOps.Load(c) : TOps.Zero;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel1x8<TOps, TVec>(float* a, float* b, int ldb, float* c, int kc, bool load)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        TVec s0 = Start<TOps, TVec>(c, load);
        TVec s1 = Start<TOps, TVec>(c + w, load);
        TVec s2 = Start<TOps, TVec>(c + 2 * w, load);
        TVec s3 = Start<TOps, TVec>(c + 3 * w, load);
        TVec s4 = Start<TOps, TVec>(c + 4 * w, load);
        TVec s5 = Start<TOps, TVec>(c + 5 * w, load);
        TVec s6 = Start<TOps, TVec>(c + 6 * w, load);
        TVec s7 = Start<TOps, TVec>(c + 7 * w, load);
        for (int p = 0; p < kc; p++)
        {
            TVec x = TOps.Broadcast(a[p]);
            s0 = TOps.MultiplyAdd(x, TOps.Load(b), s0);
            s1 = TOps.MultiplyAdd(x, TOps.Load(b + w), s1);
            s2 = TOps.MultiplyAdd(x, TOps.Load(b + 2 * w), s2);
            s3 = TOps.MultiplyAdd(x, TOps.Load(b + 3 * w), s3);
            s4 = TOps.MultiplyAdd(x, TOps.Load(b + 4 * w), s4);
            s5 = TOps.MultiplyAdd(x, TOps.Load(b + 5 * w), s5);
            s6 = TOps.MultiplyAdd(x, TOps.Load(b + 6 * w), s6);
            s7 = TOps.MultiplyAdd(x, TOps.Load(b + 7 * w), s7);
            b += ldb;
        }

        TOps.Store(c, s0);
        TOps.Store(c + w, s1);
        TOps.Store(c + 2 * w, s2);
        TOps.Store(c + 3 * w, s3);
        TOps.Store(c + 4 * w, s4);
        TOps.Store(c + 5 * w, s5);
        TOps.Store(c + 6 * w, s6);
        TOps.Store(c + 7 * w, s7);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
