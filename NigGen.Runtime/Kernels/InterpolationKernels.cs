using System;
using System.Runtime.CompilerServices;
using System.ComponentModel;
using System.Numerics.Tensors;

namespace NigGen.Kernels;

/// <summary>Points along the straight path x' + α (x − x'), in float32 as PyTorch computes Captum's scaled inputs.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class InterpolationKernels
{
    /// <summary>Row p of <paramref name="destination"/> = <paramref name="start"/> + (float)α_p · <paramref name="difference"/>, for every α.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InterpolateRows(ReadOnlySpan<float> difference, ReadOnlySpan<float> start, ReadOnlySpan<double> alphas, Span<float> destination)
    {
        int length = start.Length;
        if (difference.Length != length || destination.Length < alphas.Length * length)
        {
            throw new ArgumentException($"InterpolateRows needs difference of {length} floats and destination of at least {alphas.Length} × {length}; got {difference.Length} and {destination.Length}.");
        }

        for (int p = 0; p < alphas.Length; p++)
        {
            TensorPrimitives.MultiplyAdd(difference, (float)alphas[p], start, destination.Slice(p * length, length));
        }
    }

    /// <summary>
    /// From two rows of <paramref name="values"/> (row 0 at the input, row 1 at the baseline), the path's start
    /// (the baseline row) and its difference (input row − baseline row).
    /// </summary>
    public static void CaptureEndpoints(ReadOnlySpan<float> values, Span<float> start, Span<float> difference)
    {
        int length = start.Length;
        if (difference.Length != length || values.Length < 2 * length)
        {
            throw new ArgumentException($"CaptureEndpoints needs two rows of {length} floats; got {values.Length} values and a difference of {difference.Length}.");
        }

        values.Slice(length, length).CopyTo(start);
        TensorPrimitives.Subtract(values.Slice(0, length), values.Slice(length, length), difference);
    }
}
