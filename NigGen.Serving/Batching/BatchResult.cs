using System;

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

    public ReadOnlySpan<float> Slice(float[] batch, int perSample) => batch.AsSpan(Offset * perSample, Samples * perSample);
}
