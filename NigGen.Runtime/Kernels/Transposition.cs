using System;

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
}
