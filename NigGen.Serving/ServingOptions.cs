using System;
using Microsoft.Extensions.Logging;

namespace NigGen.Serving;

/// <summary>Limits and behaviour of the inference server. Every value is checked by <see cref="Validate"/>.</summary>
public sealed record ServingOptions
{
    /// <summary>The environment variable that holds the API key (<c>NIGGEN_API_KEY</c>).</summary>
    public const string ApiKeyEnvironmentVariable = "NIGGEN_API_KEY";

    /// <summary>Most samples in one batched call (the dynamic batcher never gathers more; a request larger than this runs alone). 1 turns dynamic batching off.</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>
    /// Longest a request waits for others to join its batch once the batcher is free (never longer; a request also waits
    /// for the batch before it to finish). Zero, the default (as Triton's): a batch starts as soon as the batcher is free,
    /// with what is queued; batches still form from the requests that arrive while a batch runs.
    /// </summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.Zero;

    /// <summary>Most requests waiting in the queue; one more is answered 503 with Retry-After.</summary>
    public int MaxQueuedRequests { get; init; } = 1024;

    /// <summary>Most samples in one request (the first dimension of <c>input</c>).</summary>
    public int MaxSamplesPerRequest { get; init; } = 256;

    /// <summary>Most integration steps a request may ask for (time per sample grows with the steps).</summary>
    public int MaxSteps { get; init; } = 1000;

    /// <summary>Largest request body in bytes; a larger one is answered 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Request-body bytes all connections together may hold while they are read (default 256 MiB): memory grows with the
    /// bytes that actually arrive, never with what a Content-Length claims, and many slow uploads at once are answered
    /// 503 (with Retry-After) once they reach this, instead of exhausting memory. At least MaxRequestBodyBytes.
    /// </summary>
    public long MaxBufferedRequestBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Seconds a 503 for a full queue tells the client to wait (the Retry-After header).</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>The API key every endpoint but the health endpoints requires (Authorization: Bearer or X-API-Key); null or empty: none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Level of the one log line written per inference request.</summary>
    public LogLevel RequestLogLevel { get; init; } = LogLevel.Information;

    /// <summary>How long a graceful shutdown waits for requests in flight.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchSize, 1, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueueDelay, TimeSpan.Zero, nameof(MaxQueueDelay));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxQueueDelay, TimeSpan.FromSeconds(60), nameof(MaxQueueDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedRequests, 1, nameof(MaxQueuedRequests));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSamplesPerRequest, 1, nameof(MaxSamplesPerRequest));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSteps, 1, nameof(MaxSteps));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRequestBodyBytes, 1024, nameof(MaxRequestBodyBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxRequestBodyBytes, (long)Array.MaxLength, nameof(MaxRequestBodyBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedRequestBytes, MaxRequestBodyBytes, nameof(MaxBufferedRequestBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryAfterSeconds, 1, nameof(RetryAfterSeconds));
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownTimeout, TimeSpan.Zero, nameof(ShutdownTimeout));
    }
}
