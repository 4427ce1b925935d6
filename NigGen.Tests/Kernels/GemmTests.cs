using System;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

public class GemmTests
{
    // Shapes reach every path: row blocks of 1–8 rows (m split evenly), 1×8 and 1×4 panels for one row, 3- and
    // 4-vector panels for two or three rows, full and partial 1- and 2-vector panels (read in place, their last rows finished element by element, over one or many
    // rows when n is narrower than a vector), 256/128-bit and scalar column tails, k beyond one block (1024), and
    // packed panels (rows a multiple of 512 floats apart, at least 13 rows: k blocks of 256, groups of 256 columns),
    // and narrow products (at most 12 columns, rows across the lanes: groups of two vectors' rows, one vector's, the
    // rows left to the tiles, one or two passes of 1–6 columns, over one k block or several; k blocks too short for
    // their column count keep the tiles).
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 },
        { 1, 7, 3 },
        { 1, 300, 67 },
        { 2, 33, 127 },
        { 3, 5, 33 },
        { 4, 16, 32 },
        { 5, 17, 63 },
        { 7, 257, 19 },
        { 9, 513, 100 },
        { 13, 31, 4 },
        { 6, 2, 200 },
        { 12, 20, 70 },
        { 17, 300, 48 },
        { 18, 40, 50 },
        { 11, 9, 24 },
        { 22, 600, 81 },
        { 5, 1100, 21 },
        { 2, 1500, 3 },
        { 9, 2100, 1 },
        { 1, 40, 1 },
        { 20, 9, 2 },
        { 64, 256, 10 },
        { 2, 784, 256 },
        { 3, 256, 10 },
        { 1, 50, 300 },
        { 2, 300, 200 },
        { 3, 100, 90 },
        { 3, 50, 57 },
        { 2, 20, 47 },
        { 13, 300, 512 },
        { 20, 600, 1024 },
        { 64, 40, 512 },
        { 100, 37, 7 },
        { 40, 1500, 12 },
        { 33, 300, 11 },
        { 48, 64, 1 },
        { 49, 129, 8 },
        { 40, 70, 5 },
        { 64, 9, 10 },
        { 64, 20, 3 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesDoubleReference(int m, int k, int n)
    {
        var random = new Random(m * 1000 + k * 10 + n);
        float[] a = RandomArray(random, m * k);
        float[] b = RandomArray(random, k * n);
        float[] c = RandomArray(random, m * n);
        float[] initial = (float[])c.Clone();
        Gemm.Multiply(a, b, c, m, k, n);
        float[] accumulated = (float[])initial.Clone();
        Gemm.Multiply(a, b, accumulated, m, k, n, accumulate: true);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double term = (double)a[i * k + p] * b[p * n + j];
                    sum += term;
                    magnitude += Math.Abs(term);
                }

                double tolerance = (k + 2) * FloatEpsilon * (magnitude + Math.Abs(initial[i * n + j])) + 1e-30;
                Close(sum, c[i * n + j], tolerance, $"C[{i},{j}]");
                Close(sum + initial[i * n + j], accumulated[i * n + j], tolerance, $"C+[{i},{j}]");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EqualsOrderedFusedChainBitwise(int m, int k, int n)
    {
        var random = new Random(n * 7919 + k);
        float[] a = RandomArray(random, m * k);
        float[] b = RandomArray(random, k * n);
        float[] c = RandomArray(random, m * n);
        float[] expected = new float[m * n];
        float[] expectedAccumulated = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0f, t = c[i * n + j];
                for (int p = 0; p < k; p++)
                {
                    s = MathF.FusedMultiplyAdd(a[i * k + p], b[p * n + j], s);
                    t = MathF.FusedMultiplyAdd(a[i * k + p], b[p * n + j], t);
                }

                expected[i * n + j] = s;
                expectedAccumulated[i * n + j] = t;
            }
        }

        float[] actual = new float[m * n];
        Gemm.Multiply(a, b, actual, m, k, n);
        BitwiseEqual(expected, actual, "C");
        Gemm.Multiply(a, b, c, m, k, n, accumulate: true);
        BitwiseEqual(expectedAccumulated, c, "C+");
    }

    [Theory]
    [InlineData(37, 10)]
    [InlineData(300, 129)]
    [InlineData(64, 31)]
    [InlineData(300, 512)]
    public void RowResultDoesNotDependOnBatch(int k, int n)
    {
        var random = new Random(k + n);
        const int rows = 64;
        float[] a = RandomArray(random, rows * k);
        float[] b = RandomArray(random, k * n);
        float[] all = new float[rows * n];
        Gemm.Multiply(a, b, all, rows, k, n);

        float[] seven = new float[7 * n];
        float[] one = new float[n];
        for (int start = 0; start + 7 <= rows; start += 7)
        {
            Gemm.Multiply(a.AsSpan(start * k, 7 * k), b, seven, 7, k, n);
            BitwiseEqual(all.AsSpan(start * n, 7 * n), seven, $"rows {start}..{start + 6}");
        }

        for (int row = 0; row < rows; row++)
        {
            Gemm.Multiply(a.AsSpan(row * k, k), b, one, 1, k, n);
            BitwiseEqual(all.AsSpan(row * n, n), one, $"row {row}");
        }
    }

    [Theory]
    [InlineData(1, 300, 129)]
    [InlineData(3, 64, 70)]
    [InlineData(5, 1100, 100)]
    [InlineData(13, 37, 47)]
    [InlineData(64, 0, 33)]
    [InlineData(14, 300, 512)]
    [InlineData(1, 90, 512)]
    [InlineData(2, 70, 200)]
    [InlineData(3, 70, 100)]
    [InlineData(64, 256, 10)]
    [InlineData(41, 1100, 12)]
    public unsafe void ColumnRangesComputeTheirColumnsAndNothingElse(int m, int k, int n)
    {
        // Any range, aligned or not, with and without the bias and ReLU: its columns bitwise those of the whole product,
        // every other column untouched.
        var random = new Random(m * 7 + k + n);
        float[] a = RandomArray(random, m * k);
        float[] b = RandomArray(random, k * n);
        float[] bias = RandomArray(random, n);
        foreach (bool epilogue in new[] { false, true })
        {
            float[] whole = new float[m * n];
            fixed (float* pa = a, pb = b, pc = whole, pbias = bias)
            {
                Gemm.MultiplyCore(pa, pb, pc, m, k, n, accumulate: false, epilogue ? pbias : null, relu: epilogue);
            }

            foreach (var (from, to) in new[] { (0, n), (0, 1), (n - 1, n), (1, n - 2), (17, 33), (n / 2, n), (5, 300) })
            {
                if (from < 0 || to > n || from >= to)
                {
                    continue;
                }

                float[] c = new float[m * n];
                Array.Fill(c, -7f);
                fixed (float* pa = a, pb = b, pc = c, pbias = bias)
                {
                    Gemm.MultiplyColumns(pa, pb, pc, m, k, n, from, to, accumulate: false, epilogue ? pbias : null, relu: epilogue);
                }

                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        float expected = j >= from && j < to ? whole[i * n + j] : -7f;
                        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(c[i * n + j]), $"columns {from}..{to}, C[{i},{j}] = {c[i * n + j]}, expected {expected}");
                    }
                }
            }
        }
    }

    [Fact]
    public void EmptyInnerDimensionClearsOrKeeps()
    {
        float[] c = { 1, 2, 3, 4, 5, 6 };
        Gemm.Multiply(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, c, 2, 0, 3, accumulate: true);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, c);
        Gemm.Multiply(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, c, 2, 0, 3);
        Assert.Equal(new float[6], c);
        Gemm.Multiply(ReadOnlySpan<float>.Empty, new float[4], Span<float>.Empty, 0, 2, 2);
    }

    [Fact]
    public void RejectsShortSpansAndNegativeSizes()
    {
        float[] a = new float[6], b = new float[12], c = new float[8];
        ThrowsLength(() => Gemm.Multiply(a.AsSpan(0, 5), b, c, 2, 3, 4), "a", 6, 5);
        ThrowsLength(() => Gemm.Multiply(a, b.AsSpan(0, 11), c, 2, 3, 4), "b", 12, 11);
        ThrowsLength(() => Gemm.Multiply(a, b, c.AsSpan(0, 7), 2, 3, 4), "c", 8, 7);
        Assert.Throws<ArgumentOutOfRangeException>("m", () => Gemm.Multiply(a, b, c, -1, 3, 4));
        Assert.Throws<ArgumentOutOfRangeException>("k", () => Gemm.Multiply(a, b, c, 2, -3, 4));
        Assert.Throws<ArgumentOutOfRangeException>("n", () => Gemm.Multiply(a, b, c, 2, 3, -4));
    }
}
