using System;
using System.Numerics;

namespace NigGen.Weights;

/// <summary>
/// Random parameters with the distribution of PyTorch's default initialisation of <c>nn.Linear</c> and
/// <c>nn.Conv*d</c>: every weight and bias element is uniform in [−1/√fanIn, 1/√fanIn) (the weight's
/// <c>kaiming_uniform_(a=√5)</c> and the bias rule give the same bound).
/// </summary>
/// <remarks>
/// The numbers come from NigGen's own generator (xoshiro256** seeded through splitmix64 from the seed and the tensor's
/// name), not from PyTorch's RNG stream, so they match PyTorch's distribution but not its values. They are the same on
/// every run and platform for a given seed, and a tensor's values depend only on the seed and its name (not on the
/// order in which tensors are requested).
/// </remarks>
public sealed class RandomWeightSource : IWeightSource
{
    /// <summary>Creates a source whose values are determined by <paramref name="seed"/>.</summary>
    /// <param name="seed">Any integer; different seeds give different parameters.</param>
    public RandomWeightSource(int seed)
    {
        Seed = seed;
    }

    /// <summary>The seed given to the constructor.</summary>
    public int Seed { get; }

    /// <summary>A tensor filled with <paramref name="initialValue"/>, as PyTorch initialises BatchNorm's parameters and statistics.</summary>
    public float[] GetTensor(string name, int[] shape, float initialValue)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        var values = new float[ElementCount(name, shape)];
        Array.Fill(values, initialValue);
        return values;
    }

    /// <summary>0: a new network has tracked no batch.</summary>
    public long GetInt64Scalar(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return 0;
    }

    /// <summary>Returns the tensor's values, uniform in [−1/√<paramref name="fanIn"/>, 1/√<paramref name="fanIn"/>).</summary>
    /// <param name="name">The tensor's name, for example <c>fc1.weight</c>; it selects the random stream.</param>
    /// <param name="shape">The tensor's shape, row-major.</param>
    /// <param name="fanIn">Inputs of one output neuron of the layer (in features, or in channels × kernel size).</param>
    /// <returns>A new array of the product of <paramref name="shape"/> elements.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fanIn"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">A dimension is negative or the tensor has more elements than an array can hold.</exception>
    public float[] GetTensor(string name, int[] shape, int fanIn)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfLessThan(fanIn, 1);
        int count = ElementCount(name, shape);

        // Computed in float so that bound · t stays below bound for every t < 1 (the interval stays half-open).
        float bound = (float)(1.0 / Math.Sqrt(fanIn));
        var generator = new Xoshiro256StarStar(StreamSeed(Seed, name));
        var result = new float[count];
        for (int i = 0; i < result.Length; i++)
        {
            // 24 random bits give t = 2u − 1 in [−1, 1 − 2⁻²³], exactly representable.
            float t = (uint)(generator.Next() >> 40) * (1f / (1 << 23)) - 1f;
            result[i] = bound * t;
        }

        return result;
    }

    // The product of the shape's dimensions, checked: none negative, and no more than an array holds.
    private static int ElementCount(string name, int[] shape)
    {
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Tensor '{name}' has a negative dimension.", nameof(shape));
            }

            count = Math.Min(count * dim, (long)Array.MaxLength + 1);
        }

        if (count > Array.MaxLength)
        {
            throw new ArgumentException($"Tensor '{name}' has more elements than an array can hold.", nameof(shape));
        }

        return (int)count;
    }

    private static ulong StreamSeed(int seed, string name)
    {
        // FNV-1a over the UTF-16 code units: stable across runtimes, unlike string.GetHashCode.
        ulong hash = 14695981039346656037UL;
        foreach (char c in name)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }

        ulong mixed = (ulong)(long)seed;
        return SplitMix64(ref mixed) ^ hash;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>xoshiro256** (Blackman and Vigna), state filled by splitmix64 as its authors recommend.</summary>
    private struct Xoshiro256StarStar
    {
        private ulong _s0;
        private ulong _s1;
        private ulong _s2;
        private ulong _s3;

        public Xoshiro256StarStar(ulong seed)
        {
            _s0 = SplitMix64(ref seed);
            _s1 = SplitMix64(ref seed);
            _s2 = SplitMix64(ref seed);
            _s3 = SplitMix64(ref seed);
        }

        public ulong Next()
        {
            ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
            ulong t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = BitOperations.RotateLeft(_s3, 45);
            return result;
        }
    }
}
