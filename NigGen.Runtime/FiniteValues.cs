using System;
using System.Numerics.Tensors;

namespace NigGen;

/// <summary>Finds NaN and infinite values: the check behind weights loading and the public API's argument checks.</summary>
internal static class FiniteValues
{
    /// <summary>The index of the first NaN or infinite value, or −1 when every value is finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        // Vectorised: this runs on every input of every call, so the common case must cost a fraction of the pass.
        if (TensorPrimitives.IsFiniteAll(values))
        {
            return -1;
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>"NaN", "+∞" or "−∞".</summary>
    public static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+∞" : "−∞";
}
