using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using NigGen.Tests.Weights;

namespace NigGen.Tests.Reliability;

/// <summary>One tensor of a hand-built safetensors file: its header fields and its raw bytes.</summary>
internal sealed record TensorBytes(string Name, string DType, long[] Shape, byte[] Bytes);

/// <summary>
/// Safetensors files of <see cref="Networks.SmallMlp"/> built field by field, so that a test can break exactly one
/// rule: the header is written here, not by SafetensorsWriter.
/// </summary>
internal static class WeightsFiles
{
    /// <summary>SmallMlp's tensors and their shapes in PyTorch layout.</summary>
    public static readonly (string Name, int[] Shape)[] SmallMlpTensors =
    [
        ("fc1.weight", [16, 20]), ("fc1.bias", [16]),
        ("fc2.weight", [12, 16]), ("fc2.bias", [12]),
        ("fc3.weight", [4, 12]), ("fc3.bias", [4]),
    ];

    public static List<TensorBytes> ValidTensors(int seed)
    {
        var random = new Random(seed);
        return SmallMlpTensors
            .Select(t => F32(t.Name, t.Shape, Enumerable.Range(0, t.Shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()))
            .ToList();
    }

    public static TensorBytes F32(string name, int[] shape, float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return new TensorBytes(name, "F32", shape.Select(d => (long)d).ToArray(), bytes);
    }

    /// <summary>The header fields of <paramref name="tensors"/> laid out one after another, and the data buffer.</summary>
    public static (string Header, byte[] Data) Layout(IEnumerable<TensorBytes> tensors, string? metadata = null)
    {
        var header = new StringBuilder("{");
        if (metadata is not null)
        {
            header.Append("\"__metadata__\":").Append(metadata).Append(',');
        }

        var data = new MemoryStream();
        foreach (var t in tensors)
        {
            long begin = data.Length;
            data.Write(t.Bytes);
            header.Append(CultureInfo.InvariantCulture,
                $"\"{t.Name}\":{{\"dtype\":\"{t.DType}\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{begin},{data.Length}]}},");
        }

        if (header[^1] == ',')
        {
            header.Length--;
        }

        return (header.Append('}').ToString(), data.ToArray());
    }

    public static byte[] Build(IEnumerable<TensorBytes> tensors, string? metadata = null)
    {
        var (header, data) = Layout(tensors, metadata);
        return SafetensorsTestFiles.Build(header, data);
    }

    /// <summary>
    /// Every tensor of a file as the format defines it, decoded by this test code alone (System.Text.Json's DOM and
    /// BinaryPrimitives), for the dtypes NigGen converts to float; null where the header cannot be read this way.
    /// </summary>
    public static Dictionary<string, (long[] Shape, float[] Values)>? DecodeIndependently(byte[] file)
    {
        try
        {
            long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
            var root = System.Text.Json.Nodes.JsonNode.Parse(Encoding.UTF8.GetString(file, 8, (int)headerLength))!.AsObject();
            int dataStart = 8 + (int)headerLength;
            var result = new Dictionary<string, (long[], float[])>();
            foreach (var (name, node) in root)
            {
                if (name == "__metadata__")
                {
                    continue;
                }

                string dtype = node!["dtype"]!.GetValue<string>();
                long[] shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                long begin = node["data_offsets"]![0]!.GetValue<long>();
                int size = dtype switch { "F32" => 4, "F16" or "BF16" => 2, "F64" => 8, _ => 0 };
                if (size == 0)
                {
                    continue;
                }

                long count = shape.Aggregate(1L, (a, b) => a * b);
                var values = new float[count];
                for (long i = 0; i < count; i++)
                {
                    var at = file.AsSpan(checked((int)(dataStart + begin + i * size)));
                    values[i] = dtype switch
                    {
                        "F32" => BinaryPrimitives.ReadSingleLittleEndian(at),
                        "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(at),
                        "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(at) << 16),
                        _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(at),
                    };
                }

                result[name] = (shape, values);
            }

            return result;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }
}
