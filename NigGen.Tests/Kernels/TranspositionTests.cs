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
    [InlineData(16, 144)] // the small CNN's second-layer input copied channels-last in one transposition
    [InlineData(35, 19)]  // several whole blocks, then overlapping ones on both sides
    public unsafe void Strided_transposition_moves_every_element_and_nothing_else(int rows, int columns)
    {
        // Wider than the matrices: the gaps must stay untouched.
        int sourceStride = Math.Max(37, columns + 5), destinationStride = Math.Max(41, rows + 7);
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

    [Theory]
    [InlineData(8, 8)]
    [InlineData(13, 21)]  // whole 8×8 blocks, then the rows and columns they leave, element by element
    [InlineData(35, 19)]
    [InlineData(5, 30)]
    public unsafe void Strided_transposition_with_add_adds_each_element_once(int rows, int columns)
    {
        int sourceStride = Math.Max(37, columns + 5), destinationStride = Math.Max(41, rows + 7);
        float[] source = new float[rows * sourceStride];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i;
        }

        float[] destination = new float[columns * destinationStride];
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = 0.5f * i;
        }

        fixed (float* ps = source, pd = destination)
        {
            Transposition.TransposeStrided(ps, sourceStride, pd, destinationStride, rows, columns, add: true);
        }

        for (int c = 0; c < columns; c++)
        {
            for (int i = 0; i < destinationStride; i++)
            {
                int at = c * destinationStride + i;
                float expected = 0.5f * at + (i < rows ? source[i * sourceStride + c] : 0f);
                Assert.True(expected == destination[at], $"{rows}×{columns}: destination[{c}, {i}] = {destination[at]}, expected {expected}");
            }
        }
    }
}
