using System;

namespace NigGen.Benchmarks.Comparison;

/// <summary>
/// A synthetic ten-class task on 1×28×28 (no dataset can be downloaded here): seven-segment digits, shifted by up to
/// ±3 pixels, with uneven stroke intensity, a stray segment of clutter in half the images and Gaussian pixel noise.
/// Digits that differ by one segment (8/0/6/9, 1/7, 3/9…) keep it from being trivial.
/// </summary>
public static class SyntheticDigits
{
    public const int Classes = 10;
    public const int Side = 28;
    public const int Length = Side * Side;

    // Segments a–g as (top row, left column, rows, columns) in a 12×20 box at (4, 8), strokes 3 pixels thick.
    private static readonly (int Top, int Left, int Rows, int Columns)[] Segments =
    [
        (4, 8, 3, 12),   // a: top
        (4, 17, 10, 3),  // b: upper right
        (14, 17, 10, 3), // c: lower right
        (21, 8, 3, 12),  // d: bottom
        (14, 8, 10, 3),  // e: lower left
        (4, 8, 10, 3),   // f: upper left
        (13, 8, 3, 12),  // g: middle
    ];

    // The segments of each digit, as a, b, c, d, e, f, g bits.
    private static readonly string[] Digits = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgecd", "abc", "abcdefg", "abcdfg"];

    /// <summary>Draws <paramref name="count"/> samples into <paramref name="images"/> (count × 784) and their classes into <paramref name="labels"/>.</summary>
    public static void Generate(int seed, int count, float[] images, int[] labels)
    {
        var random = new Random(seed);
        for (int s = 0; s < count; s++)
        {
            int label = random.Next(Classes);
            labels[s] = label;
            var image = images.AsSpan(s * Length, Length);
            image.Clear();
            int dy = random.Next(-3, 4), dx = random.Next(-3, 4);
            float stroke = 0.5f + 0.5f * (float)random.NextDouble();
            foreach (char segment in Digits[label])
            {
                Draw(image, Segments[segment - 'a'], dy, dx, stroke * (0.7f + 0.3f * (float)random.NextDouble()));
            }

            if (random.NextDouble() < 0.5)
            {
                // Clutter: a faint segment somewhere else.
                Draw(image, Segments[random.Next(Segments.Length)], random.Next(-6, 7), random.Next(-6, 7), 0.3f + 0.3f * (float)random.NextDouble());
            }

            for (int i = 0; i < Length; i++)
            {
                image[i] = Math.Clamp(image[i] + 0.25f * Gaussian(random), 0f, 1f);
            }
        }
    }

    private static void Draw(Span<float> image, (int Top, int Left, int Rows, int Columns) segment, int dy, int dx, float intensity)
    {
        for (int r = 0; r < segment.Rows; r++)
        {
            for (int c = 0; c < segment.Columns; c++)
            {
                int y = segment.Top + r + dy, x = segment.Left + c + dx;
                if ((uint)y < Side && (uint)x < Side)
                {
                    image[y * Side + x] = Math.Max(image[y * Side + x], intensity);
                }
            }
        }
    }

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
