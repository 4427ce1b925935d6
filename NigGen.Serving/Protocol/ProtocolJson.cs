using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NigGen.Serving.Protocol;

// The Open Inference Protocol's JSON objects (kserve docs/predict-api/v2, required_api.md and rest_predict_v2.yaml),
// with System.Text.Json source generation so that Native AOT needs no reflection. Property names are the protocol's.

/// <summary>$inference_request.</summary>
internal sealed class InferenceRequestDto
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("parameters")] public Dictionary<string, JsonElement>? Parameters { get; set; }
    [JsonPropertyName("inputs")] public List<RequestInputDto?>? Inputs { get; set; }
    [JsonPropertyName("outputs")] public List<RequestOutputDto?>? Outputs { get; set; }
}

/// <summary>$request_input: data is any nesting of arrays of numbers (the natural shape or flattened).</summary>
internal sealed class RequestInputDto
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("shape")] public long[]? Shape { get; set; }
    [JsonPropertyName("datatype")] public string? Datatype { get; set; }
    [JsonPropertyName("parameters")] public Dictionary<string, JsonElement>? Parameters { get; set; }
    [JsonPropertyName("data")] public JsonElement? Data { get; set; }
}

/// <summary>$request_output.</summary>
internal sealed class RequestOutputDto
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("parameters")] public Dictionary<string, JsonElement>? Parameters { get; set; }
}

/// <summary>$metadata_server_response.</summary>
internal sealed record ServerMetadataDto(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("extensions")] string[] Extensions);

/// <summary>$metadata_tensor, with the server-specific parameters the importance output carries.</summary>
internal sealed record MetadataTensorDto(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] long[] Shape,
    [property: JsonPropertyName("parameters"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Dictionary<string, JsonElement>? Parameters = null);

/// <summary>$metadata_model_response.</summary>
internal sealed record ModelMetadataDto(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("versions")] string[] Versions,
    [property: JsonPropertyName("platform")] string Platform,
    [property: JsonPropertyName("inputs")] MetadataTensorDto[] Inputs,
    [property: JsonPropertyName("outputs")] MetadataTensorDto[] Outputs,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement> Parameters);

/// <summary>Every error object: {"error": "..."}.</summary>
internal sealed record ErrorDto([property: JsonPropertyName("error")] string Error);

/// <summary>Server live / ready bodies (the open-inference-protocol repository's $live_server_response, $ready_server_response).</summary>
internal sealed record LiveDto([property: JsonPropertyName("live")] bool Live);

/// <inheritdoc cref="LiveDto"/>
internal sealed record ReadyDto([property: JsonPropertyName("ready")] bool Ready);

/// <summary>$ready_model_response.</summary>
internal sealed record ModelReadyDto(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("ready")] bool Ready);

[JsonSourceGenerationOptions(AllowDuplicateProperties = false, ReadCommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false, MaxDepth = 64)]
[JsonSerializable(typeof(InferenceRequestDto))]
[JsonSerializable(typeof(ServerMetadataDto))]
[JsonSerializable(typeof(ModelMetadataDto))]
[JsonSerializable(typeof(ErrorDto))]
[JsonSerializable(typeof(LiveDto))]
[JsonSerializable(typeof(ReadyDto))]
[JsonSerializable(typeof(ModelReadyDto))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext
{
    /// <summary>
    /// For responses: the same contracts, with quotes and non-ASCII letters in messages written as they are rather than
    /// as \u escapes (the bodies are application/json, never embedded in HTML).
    /// </summary>
    public static ProtocolJsonContext Writing { get; } = new(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
