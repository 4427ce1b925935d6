using System;
using Microsoft.Extensions.Logging;

namespace NigGen.Serving;

/// <summary>The server's structured log messages (source-generated: no boxing, no parsing of templates at run time).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "InferenceRequest",
        Message = "{Model} {Method} {Status} in {DurationMs:F2} ms: {Samples} samples, queued {QueueMs:F2} ms, batch of {BatchSamples} samples from {BatchRequests} requests, id {RequestId}")]
    public static partial void InferenceRequest(ILogger logger, LogLevel level, string model, string method, int status, double durationMs, int samples, double queueMs, int batchSamples, int batchRequests, string? requestId);

    [LoggerMessage(EventId = 2, EventName = "InferenceRejected", Message = "{Model} {Status}: {Error}")]
    public static partial void InferenceRejected(ILogger logger, LogLevel level, string model, int status, string error);

    [LoggerMessage(EventId = 3, EventName = "BatchFailed", Level = LogLevel.Error, Message = "A batch of {Samples} samples for {Model} ({Method}) failed")]
    public static partial void BatchFailed(ILogger logger, Exception exception, string model, string method, int samples);

    [LoggerMessage(EventId = 4, EventName = "UnexpectedError", Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    public static partial void UnexpectedError(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(EventId = 5, EventName = "Serving", Level = LogLevel.Information,
        Message = "Serving {Models} on the Open Inference Protocol: max batch {MaxBatchSize} samples, max queue delay {MaxQueueDelayMs} ms, queue {MaxQueuedRequests} requests, API key {ApiKey}")]
    public static partial void Serving(ILogger logger, string models, int maxBatchSize, double maxQueueDelayMs, int maxQueuedRequests, string apiKey);

    [LoggerMessage(EventId = 6, EventName = "Draining", Level = LogLevel.Information, Message = "Stopping: no new connections; finishing the requests in flight")]
    public static partial void Draining(ILogger logger);
}
