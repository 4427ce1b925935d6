using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using NigGen.Serving.Batching;

namespace NigGen.Serving.Protocol;

/// <summary>
/// Writes the $inference_response of one request: its requested outputs in the order asked, as JSON numbers (the
/// shortest text that reads back as the same float) or, for outputs asked as binary, as little-endian FP32 bytes after
/// the JSON (the binary tensor data extension: the JSON's length goes in the Inference-Header-Content-Length header).
/// </summary>
internal static class InferenceResponseWriter
{
    /// <summary>Writes the JSON part into <paramref name="json"/>; returns the binary outputs' total size in bytes.</summary>
    public static long WriteJson(IBufferWriter<byte> json, InferenceRequest request, BatchResult result)
    {
        var model = request.Model;
        var description = model.Description;
        long binaryBytes = 0;
        using var writer = new Utf8JsonWriter(json, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("model_name"u8, model.Name);
        writer.WriteString("model_version"u8, model.Version);
        if (request.Id is not null)
        {
            writer.WriteString("id"u8, request.Id);
        }

        if (request.Key.Method != AttributionMethod.None)
        {
            writer.WriteStartObject("parameters"u8);
            writer.WriteString("method"u8, request.Key.MethodName);
            if (request.Key.Method == AttributionMethod.NeuronIntegratedGradients)
            {
                writer.WriteNumber("steps"u8, request.Key.Steps);
                writer.WriteString("rule"u8, InferenceRequestParser.RuleName(request.Key.Rule));
            }
            else
            {
                writer.WriteString("deeplift_rule"u8, InferenceRequestParser.DeepLiftRuleName(request.Key.DeepLiftRule));
            }

            writer.WriteEndObject();
        }

        writer.WriteStartArray("outputs"u8);
        foreach (var output in request.Outputs)
        {
            var data = Data(output.Kind, result, description);
            int perSample = PerSample(output.Kind, description);
            writer.WriteStartObject();
            writer.WriteString("name"u8, output.Name);
            writer.WriteString("datatype"u8, "FP32"u8);
            writer.WriteStartArray("shape"u8);
            writer.WriteNumberValue(result.Samples);
            if (output.Kind != OutputKind.Delta)
            {
                writer.WriteNumberValue(perSample);
            }

            writer.WriteEndArray();
            if (output.Binary)
            {
                long bytes = (long)data.Length * sizeof(float);
                writer.WriteStartObject("parameters"u8);
                writer.WriteNumber("binary_data_size"u8, bytes);
                writer.WriteEndObject();
                binaryBytes += bytes;
            }
            else
            {
                writer.WriteStartArray("data"u8);
                foreach (float value in data)
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        return binaryBytes;
    }

    /// <summary>Writes the binary outputs, in the order asked, after the JSON.</summary>
    public static void WriteBinary(IBufferWriter<byte> body, InferenceRequest request, BatchResult result)
    {
        foreach (var output in request.Outputs)
        {
            if (!output.Binary)
            {
                continue;
            }

            var data = Data(output.Kind, result, request.Model.Description);
            if (BitConverter.IsLittleEndian)
            {
                body.Write(MemoryMarshal.AsBytes(data));
                continue;
            }

            foreach (float value in data)
            {
                BinaryPrimitives.WriteSingleLittleEndian(body.GetSpan(sizeof(float)), value);
                body.Advance(sizeof(float));
            }
        }
    }

    private static int PerSample(OutputKind kind, Attribution.NetworkDescription description) => kind switch
    {
        OutputKind.Output => description.OutputLength,
        OutputKind.Importance => description.ImportanceLength,
        _ => 1,
    };

    private static ReadOnlySpan<float> Data(OutputKind kind, BatchResult result, Attribution.NetworkDescription description) => kind switch
    {
        OutputKind.Output => result.Slice(result.Logits, description.OutputLength),
        OutputKind.Importance => result.Slice(result.Importances!, description.ImportanceLength),
        _ => result.Slice(result.Deltas!, 1),
    };
}
