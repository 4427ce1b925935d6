using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NigGen.Serving.Batching;
using NigGen.Serving.Protocol;

namespace NigGen.Serving.Hosting;

/// <summary>
/// The Open Inference Protocol's REST endpoints (kserve docs/predict-api/v2), written as plain request delegates: no
/// reflection-based binding, so they are trim- and Native AOT-safe.
/// </summary>
internal sealed class OpenInferenceEndpoints(ModelRepository repository, DynamicBatcher batcher, ServingMetrics metrics, ServingOptions options, ILogger<OpenInferenceEndpoints> logger)
{
    /// <summary>The binary tensor data extension's header: the length of the JSON before the binary data.</summary>
    public const string InferenceHeaderContentLength = "Inference-Header-Content-Length";

    private static readonly string ServerVersion = typeof(OpenInferenceEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    private readonly byte[]? _apiKeyHash = string.IsNullOrEmpty(options.ApiKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.ApiKey));

    public void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v2/health/live", context => WriteJson(context, 200, new LiveDto(true), ProtocolJsonContext.Writing.LiveDto));
        endpoints.MapGet("/v2/health/ready", context => WriteJson(context, repository.Ready ? 200 : 400, new ReadyDto(repository.Ready), ProtocolJsonContext.Writing.ReadyDto));
        endpoints.MapGet("/v2", ServerMetadata);   // routing matches "/v2/" too
        endpoints.MapGet("/v2/models/{model}", ModelMetadata);
        endpoints.MapGet("/v2/models/{model}/versions/{version}", ModelMetadata);
        endpoints.MapGet("/v2/models/{model}/ready", ModelReady);
        endpoints.MapGet("/v2/models/{model}/versions/{version}/ready", ModelReady);
        endpoints.MapPost("/v2/models/{model}/infer", Infer);
        endpoints.MapPost("/v2/models/{model}/versions/{version}/infer", Infer);
    }

    /// <summary>
    /// The API key guard (everything but the health endpoints) and the protocol's error object for requests that match
    /// no endpoint (404) or use the wrong method (405).
    /// </summary>
    public async Task Guard(HttpContext context, RequestDelegate next)
    {
        if (_apiKeyHash is not null && !context.Request.Path.StartsWithSegments("/v2/health") && !HasApiKey(context.Request))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await WriteError(context, 401, "missing or wrong API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.");
            if (context.Request.Path.StartsWithSegments("/v2/models", out var rest) && rest.Value?.EndsWith("/infer", StringComparison.Ordinal) == true)
            {
                metrics.Request("", "unauthorized", TimeSpan.Zero);
            }

            return;
        }

        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            Log.UnexpectedError(logger, e, context.Request.Method, context.Request.Path.Value ?? "");
            await WriteError(context, 500, $"internal error: {e.Message}");
            return;
        }

        if (!context.Response.HasStarted && context.Response.StatusCode is 404 or 405)
        {
            string what = $"{context.Request.Method} {InferenceRequestParser.Cut(context.Request.Path.Value ?? "")}";
            await WriteError(context, context.Response.StatusCode, context.Response.StatusCode == 404
                ? $"no endpoint {what}; the Open Inference Protocol's endpoints are under /v2 (health/live, health/ready, models/{{name}}, models/{{name}}/ready, models/{{name}}/infer) and metrics at /metrics."
                : $"{what} is not allowed on this endpoint.");
        }
    }

    // Both sides hashed first, so the comparison takes the same time whatever the key's length and content.
    private bool HasApiKey(HttpRequest request)
    {
        string? given = null;
        string authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            given = authorization["Bearer ".Length..].Trim();
        }
        else if (request.Headers.TryGetValue("X-API-Key", out var header))
        {
            given = header.ToString();
        }

        return given is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), _apiKeyHash);
    }

    private Task ServerMetadata(HttpContext context) =>
        WriteJson(context, 200, new ServerMetadataDto("niggen", ServerVersion, ["binary_tensor_data"]), ProtocolJsonContext.Writing.ServerMetadataDto);

    private Task ModelMetadata(HttpContext context)
    {
        if (!TryGetModel(context, out var model, out var error))
        {
            return WriteError(context, 404, error);
        }

        var description = model.Description;
        long[] Batched(params IEnumerable<int> sample) => [-1, .. sample.Select(d => (long)d)];
        var importanceParameters = new Dictionary<string, JsonElement>
        {
            ["layers"] = Element(string.Join(",", description.AttributeLayers.Select(l => l.Name))),
        };
        foreach (var layer in description.AttributeLayers)
        {
            importanceParameters[$"{layer.Name}.offset"] = Element(layer.Offset);
            importanceParameters[$"{layer.Name}.length"] = Element(layer.Length);
            importanceParameters[$"{layer.Name}.shape"] = Element(ServedModel.ShapeText(layer.Shape));
            importanceParameters[$"{layer.Name}.pre_activation"] = Element(layer.PreActivation);
        }

        var outputs = new List<MetadataTensorDto> { new(InferenceRequestParser.OutputName, "FP32", Batched(description.OutputLength)) };
        if (model.HasAttribution)
        {
            outputs.Add(new(InferenceRequestParser.ImportanceName, "FP32", Batched(description.ImportanceLength), importanceParameters));
            outputs.Add(new(InferenceRequestParser.DeltaName, "FP32", [-1]));
        }

        var parameters = new Dictionary<string, JsonElement>
        {
            ["max_batch_size"] = Element(options.MaxBatchSize),
            ["max_samples_per_request"] = Element(options.MaxSamplesPerRequest),
        };
        if (model.HasAttribution)
        {
            parameters["methods"] = Element($"{InferenceRequestParser.NeuronIntegratedGradientsMethod},{InferenceRequestParser.DeepLiftMethod}");
            parameters["default_method"] = Element(InferenceRequestParser.NeuronIntegratedGradientsMethod);
            parameters["default_steps"] = Element(model.DefaultSteps);
            parameters["max_steps"] = Element(options.MaxSteps);
            parameters["default_rule"] = Element(InferenceRequestParser.RuleName(model.DefaultRule));
            parameters["default_deeplift_rule"] = Element(InferenceRequestParser.DeepLiftRuleName(model.DefaultDeepLiftRule));
        }

        var metadata = new ModelMetadataDto(
            model.Name,
            [model.Version],
            "niggen",
            [
                new(InferenceRequestParser.InputName, "FP32", Batched(model.InputShape)),
                new(InferenceRequestParser.BaselineName, "FP32", Batched(model.InputShape)),
                new(InferenceRequestParser.TargetName, "INT32", [-1]),
            ],
            [.. outputs],
            parameters);
        return WriteJson(context, 200, metadata, ProtocolJsonContext.Writing.ModelMetadataDto);
    }

    private Task ModelReady(HttpContext context)
    {
        if (!TryGetModel(context, out var model, out var error))
        {
            return WriteError(context, 404, error);
        }

        return WriteJson(context, repository.Ready ? 200 : 400, new ModelReadyDto(model.Name, repository.Ready), ProtocolJsonContext.Writing.ModelReadyDto);
    }

    private async Task Infer(HttpContext context)
    {
        long started = Stopwatch.GetTimestamp();
        string modelName = context.Request.RouteValues["model"] as string ?? "";
        ServedModel? model = null;
        var held = new BodyReservation(_budget);
        try
        {
            if (!TryGetModel(context, out model, out var unknown))
            {
                throw new InferenceException(404, unknown);
            }

            var (json, binary) = await ReadBody(context, held);
            var request = InferenceRequestParser.Parse(json.Span, binary.Span, model, options);
            held.Release(); // parsed: the body's bytes are no longer needed (the queue's own bound covers the request)
            var result = await batcher.EnqueueAsync(request, context.RequestAborted).WaitAsync(context.RequestAborted);
            try
            {
                RequireFiniteResults(request, result);
                await WriteResponse(context, request, result);
            }
            finally
            {
                result.Release(); // the answer is in Kestrel's buffers (or failed): the batch's arrays may be reused
            }

            var duration = Stopwatch.GetElapsedTime(started);
            metrics.Request(model.Name, "ok", duration);
            Log.InferenceRequest(logger, options.RequestLogLevel, model.Name, request.Key.MethodName, 200, duration.TotalMilliseconds, request.Samples,
                result.QueueTime.TotalMilliseconds, result.BatchSamples, result.BatchRequests, request.Id is null ? null : InferenceRequestParser.Cut(request.Id));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: its share of the work is dropped, and nobody is there to answer.
            metrics.Request(model?.Name ?? "", "cancelled", Stopwatch.GetElapsedTime(started));
            Log.InferenceRejected(logger, options.RequestLogLevel, InferenceRequestParser.Cut(modelName), 499, "the client closed the connection before the response.");
        }
        catch (Exception e) when (e is InferenceException or BadHttpRequestException)
        {
            int status = e is InferenceException inference ? inference.StatusCode : ((BadHttpRequestException)e).StatusCode;
            string message = e is InferenceException ? e.Message
                : status == 413 ? $"the request body is larger than the server's limit of {options.MaxRequestBodyBytes} bytes."
                : $"the request could not be read: {e.Message}";
            if (status == 503)
            {
                context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }

            // Metrics label only served models' names, so that clients cannot create label values.
            metrics.Request(model?.Name ?? "", Outcome(status), Stopwatch.GetElapsedTime(started));
            Log.InferenceRejected(logger, status >= 500 ? LogLevel.Warning : options.RequestLogLevel, InferenceRequestParser.Cut(modelName), status, message);
            await WriteError(context, status, message);
        }
        catch (Exception e)
        {
            metrics.Request(model?.Name ?? "", "error", Stopwatch.GetElapsedTime(started));
            Log.UnexpectedError(logger, e, context.Request.Method, context.Request.Path.Value ?? "");
            await WriteError(context, 500, $"internal error: {e.Message}");
        }
        finally
        {
            held.Release();
        }
    }

    // Request-body bytes every connection holds together (see ServingOptions.MaxBufferedRequestBytes).
    private readonly BodyBudget _budget = new(options.MaxBufferedRequestBytes);

    private sealed class BodyBudget(long limit)
    {
        private long _held;

        public bool TryTake(int bytes) => System.Threading.Interlocked.Add(ref _held, bytes) <= limit;

        public void Give(long bytes) => System.Threading.Interlocked.Add(ref _held, -bytes);

        public long Limit => limit;
    }

    /// <summary>One request's share of the buffered body bytes; given back when the request is done.</summary>
    private sealed class BodyReservation(BodyBudget budget)
    {
        private long _bytes;

        public void Add(int bytes)
        {
            _bytes += bytes;
            if (!budget.TryTake(bytes))
            {
                throw new InferenceException(503, $"the server is reading more request bodies at once than its limit of {budget.Limit} bytes; retry shortly.");
            }
        }

        public void Release()
        {
            budget.Give(_bytes);
            _bytes = 0;
        }
    }

    private static string Outcome(int status) => status switch
    {
        400 => "bad_request",
        404 => "not_found",
        413 => "too_large",
        503 => "queue_full",
        _ => "error",
    };

    /// <summary>
    /// Reads the whole body, at most <see cref="ServingOptions.MaxRequestBodyBytes"/>, and splits off the binary data.
    /// Memory grows with the bytes that arrive (a Content-Length is a claim, not an allocation), and the bytes every
    /// connection holds together stay within <see cref="ServingOptions.MaxBufferedRequestBytes"/>: <paramref name="held"/>
    /// counts this request's share, which the caller gives back when the request is done.
    /// </summary>
    private async Task<(ReadOnlyMemory<byte> Json, ReadOnlyMemory<byte> Binary)> ReadBody(HttpContext context, BodyReservation held)
    {
        long limit = options.MaxRequestBodyBytes;

        // A body found too large is read on, and thrown away, up to this much: a server that stops reading and answers at
        // once closes a connection the client is still writing to, and the client then sees a reset instead of the 413
        // (clients that send Expect: 100-continue never send it). Beyond it the connection is closed anyway.
        long drainLimit = limit * 2 + 64 * 1024;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = drainLimit;
        }

        long? declared = context.Request.ContentLength;
        string tooLarge = declared > limit ? $"the request body is {declared} bytes; the server's limit is {limit} bytes."
            : $"the request body is larger than the server's limit of {limit} bytes.";
        if (declared > drainLimit)
        {
            context.Response.Headers.Connection = "close";
            throw new InferenceException(413, tooLarge);
        }

        using var buffer = new MemoryStream((int)Math.Min(declared ?? 0, 64 * 1024));
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            long total = 0;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    if (total + chunk.Length <= drainLimit)
                    {
                        continue; // thrown away (see drainLimit)
                    }

                    break;
                }

                held.Add(read);
                buffer.Write(chunk, 0, read);
            }

            if (total > limit)
            {
                context.Response.Headers.Connection = "close";
                throw new InferenceException(413, tooLarge);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        byte[] body = buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
        if (!context.Request.Headers.TryGetValue(InferenceHeaderContentLength, out var header))
        {
            return (body, ReadOnlyMemory<byte>.Empty);
        }

        if (!int.TryParse(header.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int jsonLength) || jsonLength > body.Length)
        {
            throw InferenceException.BadRequest($"the {InferenceHeaderContentLength} header is '{InferenceRequestParser.Cut(header.ToString())}'; it must be the JSON's length in bytes, at most the body's {body.Length}.");
        }

        return (body.AsMemory(0, jsonLength), body.AsMemory(jsonLength));
    }

    /// <summary>
    /// Finite inputs can still overflow float inside the network (values near ±3.4e38): such a result is the client's
    /// input's doing, so it is a 400 naming the sample, before any byte of the response is written (JSON cannot hold
    /// an infinity, and binary output would pass it on silently).
    /// </summary>
    private static void RequireFiniteResults(InferenceRequest request, BatchResult result)
    {
        var description = request.Model.Description;
        void Check(float[]? batch, int perSample, string what)
        {
            if (batch is null || perSample == 0)
            {
                return;
            }

            int bad = IndexOfNonFinite(result.Slice(batch, perSample));
            if (bad >= 0)
            {
                throw InferenceException.BadRequest($"{what} of sample {bad / perSample} is not finite: the network overflowed float on that input (its values are too large).");
            }
        }

        Check(result.Logits, description.OutputLength, "the output");
        Check(result.Importances, description.ImportanceLength, "the importance");
        Check(result.Deltas, 1, "the delta");
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        if (System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(values))
        {
            return -1; // the common case, vectorised
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

    private static async Task WriteResponse(HttpContext context, InferenceRequest request, BatchResult result)
    {
        var response = context.Response;
        response.StatusCode = 200;
        // The JSON is written first, so that every answer has a Content-Length (no chunked framing for clients to undo).
        var json = new ArrayBufferWriter<byte>(1024);
        long binaryBytes = InferenceResponseWriter.WriteJson(json, request, result);
        response.ContentLength = json.WrittenCount + binaryBytes;
        if (!request.AnyBinaryOutput)
        {
            response.ContentType = "application/json";
            response.BodyWriter.Write(json.WrittenSpan);
            await response.BodyWriter.FlushAsync(context.RequestAborted);
            return;
        }

        response.ContentType = "application/octet-stream";
        response.Headers[InferenceHeaderContentLength] = json.WrittenCount.ToString(CultureInfo.InvariantCulture);
        response.BodyWriter.Write(json.WrittenSpan);
        InferenceResponseWriter.WriteBinary(response.BodyWriter, request, result);
        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private bool TryGetModel(HttpContext context, out ServedModel model, out string error)
    {
        string name = context.Request.RouteValues["model"] as string ?? "";
        if (!repository.TryGet(name, out model))
        {
            error = $"unknown model '{InferenceRequestParser.Cut(name)}'; this server serves {repository.Names}.";
            return false;
        }

        if (context.Request.RouteValues["version"] is string version && version != model.Version)
        {
            error = $"model '{model.Name}' has no version '{InferenceRequestParser.Cut(version)}'; it serves version '{model.Version}'.";
            return false;
        }

        error = "";
        return true;
    }

    internal static Task WriteError(HttpContext context, int status, string message) =>
        WriteJson(context, status, new ErrorDto(message), ProtocolJsonContext.Writing.ErrorDto);

    // Small objects (health, metadata, errors): serialised whole, so that the response has a Content-Length.
    private static Task WriteJson<T>(HttpContext context, int status, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = json.Length;
        return context.Response.Body.WriteAsync(json, context.RequestAborted).AsTask();
    }

    private static JsonElement Element(string value) => JsonSerializer.SerializeToElement(value, ProtocolJsonContext.Writing.String);

    private static JsonElement Element(int value) => JsonSerializer.SerializeToElement(value, ProtocolJsonContext.Writing.Int32);

    private static JsonElement Element(bool value) => JsonSerializer.SerializeToElement(value, ProtocolJsonContext.Writing.Boolean);
}
