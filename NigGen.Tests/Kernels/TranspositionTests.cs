using System;
using NigGen.Kernels;
using Xunit;

namespace NigGen.Tests.Kernels;

public class TranspositionTests
{
    [Theory]
    [InlineData(8, 8)]    // one AVX block
    [InlineData(16, 12)]  // the small CNN's input rows: a whole block and an overlapping one along the columns
    [InlineData(13, 21)]  // overlapping blocks on both sides
    [InlineData(7, 30)]   // fewer than 8 rows: element by element
    [InlineData(30, 3)]   // fewer than 8 columns
    [InlineData(1, 1)]
    public unsafe void Strided_transposition_moves_every_element_and_nothing_else(int rows, int columns)
    {
        const int sourceStride = 37, destinationStride = 41; // wider than the matrices: the gaps must stay untouched
        float[] source = new float[rows * sourceStride];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i;
        }

        float[] destination = new float[columns * destinationStride];
        Array.Fill(destination, -1f);
        fixed (float* ps = source, pd = destination)
        {
            Transposition.TransposeStrided(ps, sourceStride, pd, destinationStride, rows, columns);
        }

        for (int c = 0; c < columns; c++)
        {
            for (int i = 0; i < destinationStride; i++)
            {
                float expected = i < rows ? source[i * sourceStride + c] : -1f;
                Assert.True(expected == destination[c * destinationStride + i], $"{rows}×{columns}: destination[{c}, {i}] = {destination[c * destinationStride + i]}, expected {expected}");
            }
        }
    }
}
