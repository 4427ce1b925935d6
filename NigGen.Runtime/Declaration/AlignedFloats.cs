using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NigGen;

/// <summary>
/// Floats whose first element sits on a 64-byte boundary: a layer's parameters, which the kernels read as B, one vector
/// per row. Arrays of the managed heap start wherever the allocator put them, so a 32- or 64-byte vector load from them
/// straddles two cache lines half or every time: a batch of one's matrix-vector products, which read every weight once,
/// ran 15 % (Vector512) and 20 % (Vector256) slower from such arrays (1×784×256: 7.0 against 6.0 µs, and 7.9 against
/// 6.3). The array lives on the pinned object heap, so the boundary stays where it is.
/// </summary>
internal readonly struct AlignedFloats
{
    // Floats in a cache line: the most an aligned start is past the array's.
    private const int LineFloats = 16;

    private readonly float[]? _array;
    private readonly int _offset;

    private AlignedFloats(float[] array, int offset, int length)
    {
        _array = array;
        _offset = offset;
        Length = length;
    }

    /// <summary>No floats.</summary>
    public static AlignedFloats Empty => default;

    /// <summary>The number of floats.</summary>
    public int Length { get; }

    /// <summary>The floats, writable.</summary>
    public Span<float> Span => _array is null ? Span<float>.Empty : _array.AsSpan(_offset, Length);

    /// <summary><paramref name="length"/> zeros.</summary>
    public static unsafe AlignedFloats Allocate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            return Empty;
        }

        float[] array = GC.AllocateArray<float>(length + LineFloats - 1, pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        int offset = (int)((64 - start % 64) % 64) / sizeof(float);
        return new AlignedFloats(array, offset, length);
    }

    /// <summary>A copy of <paramref name="values"/>.</summary>
    public static AlignedFloats CopyOf(ReadOnlySpan<float> values)
    {
        var copy = Allocate(values.Length);
        values.CopyTo(copy.Span);
        return copy;
    }

    public static implicit operator Span<float>(AlignedFloats floats) => floats.Span;

    public static implicit operator ReadOnlySpan<float>(AlignedFloats floats) => floats.Span;
}
