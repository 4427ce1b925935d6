using System;
using Xunit;

namespace NigGen.Tests.Kernels;

/// <summary>Random data and tolerant comparisons shared by the kernel tests.</summary>
internal static class KernelTestSupport
{
    public const double FloatEpsilon = 1.0 / (1 << 23);

    public static float[] RandomArray(Random random, int length, float scale = 1f)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        }

        return values;
    }

    public static float[] Transpose(float[] matrix, int rows, int columns)
    {
        var result = new float[matrix.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[c * rows + r] = matrix[r * columns + c];
            }
        }

        return result;
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Asserts |actual − expected| ≤ tolerance, naming the place on failure.</summary>
    public static void Close(double expected, float actual, double tolerance, string where)
    {
        if (double.IsNaN(expected))
        {
            Assert.True(float.IsNaN(actual), $"{where}: expected NaN, got {actual:R}");
            return;
        }

        if (double.IsInfinity(expected) && expected == actual)
        {
            return;
        }

        double error = Math.Abs(actual - expected);
        Assert.True(error <= tolerance, $"{where}: expected {expected:R}, got {actual:R} (error {error:R} > {tolerance:R})");
    }

    /// <summary>
    /// Asserts two spans are bitwise identical (signed zeros included), except that any NaN matches any NaN. Which
    /// NaN an operation returns when both operands are NaN (its payload and sign) follows the operands' order on x86,
    /// and the JIT's optimised code may swap the operands of a float addition or multiplication: tests run on the
    /// Debug build (CI) saw one payload, the Release build another, for the same kernels. Being NaN is what a NaN says.
    /// Kernels that only select values (max pooling, ReLU) keep their NaN's bits in every build: those tests pass
    /// <paramref name="nanPayloads"/> to compare NaNs bit for bit too.
    /// </summary>
    public static void BitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, bool nanPayloads = false)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            int e = BitConverter.SingleToInt32Bits(expected[i]);
            int a = BitConverter.SingleToInt32Bits(actual[i]);
            bool bothNaN = !nanPayloads && float.IsNaN(expected[i]) && float.IsNaN(actual[i]);
            Assert.True(e == a || bothNaN, $"{what}[{i}]: {expected[i]:R} (0x{e:X8}) vs {actual[i]:R} (0x{a:X8})");
        }
    }

    /// <summary>Asserts an <see cref="ArgumentException"/> names <paramref name="parameter"/> and states both lengths.</summary>
    public static void ThrowsLength(Action action, string parameter, long expected, long actual)
    {
        var exception = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(parameter, exception.ParamName);
        Assert.Contains(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), exception.Message, StringComparison.Ordinal);
        Assert.Contains(actual.ToString(System.Globalization.CultureInfo.InvariantCulture), exception.Message, StringComparison.Ordinal);
    }
}
