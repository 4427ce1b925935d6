using System;
using System.Buffers;
using System.Collections.Generic;
using System.Threading;

namespace NigGen.Serving.Batching;

/// <summary>One request's share of a batch's results: samples [Offset, Offset + Samples) of the batch's arrays.</summary>
internal sealed class BatchResult
{
    public required int Offset { get; init; }

    public required int Samples { get; init; }

    /// <summary>The batch's logits (batch samples × OutputLength).</summary>
    public required float[] Logits { get; init; }

    /// <summary>The batch's importances (batch samples × ImportanceLength), or null for a forward-only batch.</summary>
    public float[]? Importances { get; init; }

    /// <summary>The batch's deltas, or null for a forward-only batch.</summary>
    public float[]? Deltas { get; init; }

    /// <summary>Samples and requests in the batch this request ran in.</summary>
    public required int BatchSamples { get; init; }

    /// <inheritdoc cref="BatchSamples"/>
    public required int BatchRequests { get; init; }

    /// <summary>How long the request waited in the queue.</summary>
    public required TimeSpan QueueTime { get; init; }

    /// <summary>The pooled arrays behind <see cref="Logits"/>, <see cref="Importances"/> and <see cref="Deltas"/>.</summary>
    public required BatchBuffers Buffers { get; init; }

    public ReadOnlySpan<float> Slice(float[] batch, int perSample) => batch.AsSpan(Offset * perSample, Samples * perSample);

    /// <summary>Called once the request's answer is written: its share of the batch's arrays is no longer read.</summary>
    public void Release() => Buffers.Release();
}

/// <summary>
/// A batch's arrays, rented from <see cref="ArrayPool{T}.Shared"/> (so longer than asked: callers slice) and returned
/// when each of the batch's requests has released its share. A share never released (a request that failed or went
/// away after its result) only means the arrays are left to the garbage collector instead of going back to the pool.
/// </summary>
internal sealed class BatchBuffers(int holders)
{
    private readonly List<float[]> _arrays = [];
    private int _holders = holders;

    public float[] Rent(int length)
    {
        var array = ArrayPool<float>.Shared.Rent(length);
        _arrays.Add(array);
        return array;
    }

    public void Release()
    {
        int left = Interlocked.Decrement(ref _holders);
        if (left == 0)
        {
            foreach (var array in _arrays)
            {
                ArrayPool<float>.Shared.Return(array);
            }
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("a batch's arrays were released more times than it has requests.");
        }
    }
}
