using System;

namespace NigGen.Serving.Protocol;

/// <summary>A request the server answers with an error object and <see cref="StatusCode"/>; the message names what was wrong.</summary>
public sealed class InferenceException : Exception
{
    /// <summary>An error answered with <paramref name="statusCode"/>.</summary>
    public InferenceException(int statusCode, string message) : base(message) => StatusCode = statusCode;

    /// <summary>The HTTP status: 400 bad request, 404 unknown model, 413 body too large, 503 queue full or shutting down.</summary>
    public int StatusCode { get; }

    internal static InferenceException BadRequest(string message) => new(400, message);
}
