using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace NigGen.Weights;

/// <summary>
/// Builds a safetensors file that Python's <c>safetensors</c> package (and <see cref="SafetensorsFile"/>) can load:
/// the header is compact JSON with each tensor's dtype, shape and data_offsets, padded with spaces to a multiple of 8
/// bytes as the reference writer does, and the tensors follow in the order they were added.
/// </summary>
/// <remarks>
/// The reference writer orders tensors by dtype and then by name; adding tensors of one dtype in name order gives a
/// byte-identical file. No <c>__metadata__</c> entry is written.
/// </remarks>
public sealed class SafetensorsWriter
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly List<Tensor> _tensors = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Adds a tensor stored as F32 (exactly).</summary>
    /// <param name="name">The tensor's name, for example <c>fc1.weight</c>; unique within the file.</param>
    /// <param name="shape">The tensor's shape, row-major; an empty shape is a scalar.</param>
    /// <param name="data">The elements; their number must be the product of <paramref name="shape"/>.</param>
    /// <exception cref="ArgumentException">
    /// The name is already used, is <c>__metadata__</c> or is not valid UTF-16; a dimension is negative; or the number of
    /// elements does not match the shape.
    /// </exception>
    public void Add(string name, ReadOnlySpan<int> shape, ReadOnlySpan<float> data) =>
        Add(name, shape, data, SafetensorsDType.F32);

    /// <summary>Adds a tensor stored as <paramref name="dtype"/>, rounding each element to nearest even.</summary>
    /// <param name="name">The tensor's name, for example <c>fc1.weight</c>; unique within the file.</param>
    /// <param name="shape">The tensor's shape, row-major; an empty shape is a scalar.</param>
    /// <param name="data">The elements; their number must be the product of <paramref name="shape"/>.</param>
    /// <param name="dtype">How the elements are stored.</param>
    /// <exception cref="ArgumentException">
    /// The name is already used, is <c>__metadata__</c> or is not valid UTF-16; a dimension is negative; or the number of
    /// elements does not match the shape.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a defined value.</exception>
    public void Add(string name, ReadOnlySpan<int> shape, ReadOnlySpan<float> data, SafetensorsDType dtype)
    {
        CheckNew(name, shape, data.Length);
        byte[] bytes = dtype switch
        {
            SafetensorsDType.F32 => EncodeF32(data),
            SafetensorsDType.F16 => EncodeF16(data),
            SafetensorsDType.BF16 => EncodeBF16(data),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
        };

        _names.Add(name);
        _tensors.Add(new Tensor(name, shape.ToArray(), DTypeName(dtype), bytes));
    }

    /// <summary>Adds a tensor of 64-bit integers (safetensors dtype <c>I64</c>), such as BatchNorm's <c>num_batches_tracked</c>.</summary>
    /// <param name="name">The tensor's name; unique within the file.</param>
    /// <param name="shape">The tensor's shape, row-major; an empty shape is a scalar.</param>
    /// <param name="data">The elements; their number must be the product of <paramref name="shape"/>.</param>
    /// <exception cref="ArgumentException">As for <see cref="Add(string, ReadOnlySpan{int}, ReadOnlySpan{float})"/>.</exception>
    public void AddInt64(string name, ReadOnlySpan<int> shape, ReadOnlySpan<long> data)
    {
        CheckNew(name, shape, data.Length);
        var bytes = new byte[8 * data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 * i), data[i]);
        }

        _names.Add(name);
        _tensors.Add(new Tensor(name, shape.ToArray(), "I64", bytes));
    }

    private void CheckNew(string name, ReadOnlySpan<int> shape, int elements)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "__metadata__")
        {
            throw new ArgumentException("\"__metadata__\" is reserved by the safetensors format and cannot name a tensor.", nameof(name));
        }

        try
        {
            StrictUtf8.GetByteCount(name);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"Tensor name '{name}' is not valid UTF-16 (it has an unpaired surrogate).", nameof(name), e);
        }

        if (_names.Contains(name))
        {
            throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        }

        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException(
                    $"Tensor '{name}' has a negative dimension in shape {FormatShape(shape)}.", nameof(shape));
            }
        }

        long count = shape.Contains(0) ? 0 : 1;
        foreach (int dim in shape)
        {
            // Clamping just above int.MaxValue keeps the product from overflowing; a clamped count never equals data.Length.
            count = Math.Min(count * dim, (long)int.MaxValue + 1);
        }

        if (count != elements)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Tensor '{name}' has shape {FormatShape(shape)} but {elements} elements were given."), "data");
        }
    }

    /// <summary>Writes the file to <paramref name="stream"/> (header, then the tensors in the order added). The stream is not closed.</summary>
    /// <param name="stream">A writable stream.</param>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = BuildHeader();
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (Tensor tensor in _tensors)
        {
            stream.Write(tensor.Bytes);
        }
    }

    /// <summary>Writes the file to <paramref name="path"/>, replacing any file there.</summary>
    /// <param name="path">The file's path.</param>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        WriteTo(stream);
    }

    private byte[] BuildHeader()
    {
        // Same text as serde_json's compact output, the reference writer's.
        var json = new StringBuilder("{");
        long offset = 0;
        for (int t = 0; t < _tensors.Count; t++)
        {
            Tensor tensor = _tensors[t];
            if (t > 0)
            {
                json.Append(',');
            }

            AppendString(json, tensor.Name);
            json.Append(":{\"dtype\":\"").Append(tensor.DType).Append("\",\"shape\":[");
            for (int i = 0; i < tensor.Shape.Length; i++)
            {
                json.Append(i == 0 ? "" : ",").Append(tensor.Shape[i].ToString(CultureInfo.InvariantCulture));
            }

            long end = offset + tensor.Bytes.Length;
            json.Append(CultureInfo.InvariantCulture, $"],\"data_offsets\":[{offset},{end}]}}");
            offset = end;
        }

        json.Append('}');
        int length = StrictUtf8.GetByteCount(json.ToString());
        // Padding keeps the data buffer 8-byte aligned in the file, as the reference writer does.
        json.Append(' ', (8 - length % 8) % 8);
        return StrictUtf8.GetBytes(json.ToString());
    }

    private static void AppendString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        json.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        json.Append(c);
                    }

                    break;
            }
        }

        json.Append('"');
    }

    private static byte[] EncodeF32(ReadOnlySpan<float> data)
    {
        var bytes = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), data[i]);
        }

        return bytes;
    }

    private static byte[] EncodeF16(ReadOnlySpan<float> data)
    {
        var bytes = new byte[data.Length * 2];
        for (int i = 0; i < data.Length; i++)
        {
            // .NET's float-to-Half conversion rounds to nearest even and overflows to infinity.
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)data[i]));
        }

        return bytes;
    }

    private static byte[] EncodeBF16(ReadOnlySpan<float> data)
    {
        var bytes = new byte[data.Length * 2];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), ToBFloat16Bits(data[i]));
        }

        return bytes;
    }

    /// <summary>Rounds a float32 to bfloat16 bits, nearest even, as PyTorch's <c>round_to_nearest_even</c> does.</summary>
    internal static ushort ToBFloat16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Keep sign and a quiet NaN; truncation alone could turn a NaN with low payload bits into infinity.
            return (ushort)((bits >> 16) | 0x0040);
        }

        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    private static string DTypeName(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F16 => "F16",
        SafetensorsDType.BF16 => "BF16",
        _ => "F32",
    };

    private static string FormatShape(ReadOnlySpan<int> shape)
    {
        var wide = new long[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            wide[i] = shape[i];
        }

        return SafetensorsFile.FormatShape(wide);
    }

    private sealed record Tensor(string Name, int[] Shape, string DType, byte[] Bytes);
}
