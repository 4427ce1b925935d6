using System;

namespace NigGen.Sample.Genomics;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014): a small generator whose output is fixed by its definition, so that a seed
/// gives the same data on every .NET version and machine (System.Random's seeded sequence is not guaranteed to).
/// </summary>
public struct SplitMix
{
    private ulong _state;

    /// <summary>A generator for one stream: <paramref name="seed"/> and <paramref name="stream"/> (e.g. a split and a sequence index) are mixed so that nearby values give unrelated streams.</summary>
    public SplitMix(ulong seed, ulong stream = 0)
    {
        _state = Mix(seed + 0x9E3779B97F4A7C15UL * (stream + 1));
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="count"/>).</summary>
    public int Next(int count)
    {
        if (count <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must be positive.");
        }

        // Lemire's multiply-shift: unbiased enough for counts far below 2^32 (the bias is below 2^-32).
        return (int)(((NextUInt64() >> 32) * (ulong)count) >> 32);
    }

    /// <summary>An index drawn from <paramref name="probabilities"/> (which sum to 1).</summary>
    public int Choose(ReadOnlySpan<float> probabilities)
    {
        double u = NextDouble();
        double cumulative = 0;
        for (int i = 0; i < probabilities.Length - 1; i++)
        {
            cumulative += probabilities[i];
            if (u < cumulative)
            {
                return i;
            }
        }

        return probabilities.Length - 1;
    }

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher–Yates).</summary>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
