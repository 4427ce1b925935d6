using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace NigGen.Weights;

/// <summary>
/// A weights file in the safetensors format (the format of Hugging Face's <c>safetensors</c> package): an 8-byte
/// little-endian header length N, N bytes of UTF-8 JSON describing every tensor (dtype, shape, data offsets) and an
/// optional <c>__metadata__</c> map, then the tensors' bytes. The whole file is read into memory and checked when it is
/// read; tensors stored as F32, F16, BF16 or F64 are returned as float32.
/// </summary>
/// <remarks>
/// A tensor of another dtype (for example a batch-norm layer's I64 <c>num_batches_tracked</c>) does not make the
/// file unreadable; only asking for it does. NaN and infinite values are returned as they are.
/// </remarks>
public sealed class SafetensorsFile : IWeightSource
{
    /// <summary>Largest header the reference implementation accepts (its <c>MAX_HEADER_SIZE</c>).</summary>
    internal const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";
    private const string SupportedDTypes = "F32, F16, BF16 and F64";
    private const int NamesListed = 10;

    private readonly Dictionary<string, Entry> _entries;
    private readonly ReadOnlyCollection<string> _names;
    private readonly ArraySegment<byte> _data;

    private SafetensorsFile(
        string sourceName,
        Dictionary<string, Entry> entries,
        List<string> names,
        Dictionary<string, string> metadata,
        ArraySegment<byte> data)
    {
        SourceName = sourceName;
        _entries = entries;
        _names = names.AsReadOnly();
        Metadata = new ReadOnlyDictionary<string, string>(metadata);
        _data = data;
    }

    /// <summary>The name used for this file in error messages: its path, or the name given to <see cref="Read(Stream, string)"/>.</summary>
    public string SourceName { get; }

    /// <summary>The names of the tensors in the file, in the order the header lists them.</summary>
    public IReadOnlyCollection<string> TensorNames => _names;

    /// <summary>The header's <c>__metadata__</c> map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Whether the file holds a tensor named <paramref name="name"/> (names are case-sensitive).</summary>
    /// <param name="name">The tensor's name, for example <c>fc1.weight</c>.</param>
    /// <returns><see langword="true"/> when the header lists the tensor.</returns>
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _entries.ContainsKey(name);
    }

    /// <summary>
    /// Reads a safetensors file from <paramref name="path"/> into memory and checks its header.
    /// </summary>
    /// <param name="path">The file's path; error messages name it.</param>
    /// <returns>The file's tensors.</returns>
    /// <exception cref="WeightsFormatException">The file is not a well-formed safetensors file.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static SafetensorsFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(
            path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        return Read(stream, path);
    }

    /// <summary>
    /// Reads a safetensors file from the current position of <paramref name="stream"/> to its end into memory and
    /// checks its header. The stream is not closed.
    /// </summary>
    /// <param name="stream">The stream, seekable or not.</param>
    /// <param name="sourceName">What error messages call the data, for example a path or <c>"stream"</c>.</param>
    /// <returns>The file's tensors.</returns>
    /// <exception cref="WeightsFormatException">The data is not a well-formed safetensors file.</exception>
    public static SafetensorsFile Read(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);

        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (got < prefix.Length)
        {
            throw Fail(sourceName, Invariant(
                $"not a safetensors file: it is {got} bytes long, shorter than the 8-byte header length that starts one"));
        }

        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (declared > MaxHeaderBytes)
        {
            throw Fail(sourceName, Invariant(
                $"header length {declared} bytes is absurd (safetensors allows at most {MaxHeaderBytes}); this is not a safetensors file or it is corrupt"));
        }

        int headerLength = (int)declared;
        // Check a seekable stream's length first so that a bogus length does not allocate up to 100 MB.
        if (stream.CanSeek && stream.Length - stream.Position < headerLength)
        {
            throw Truncated(sourceName, headerLength, Math.Max(0, stream.Length - stream.Position));
        }

        var header = new byte[headerLength];
        got = stream.ReadAtLeast(header, headerLength, throwOnEndOfStream: false);
        if (got < headerLength)
        {
            throw Truncated(sourceName, headerLength, got);
        }

        ArraySegment<byte> data = ReadRest(stream, sourceName);
        return Parse(sourceName, header, data);
    }

    /// <summary>
    /// Returns the tensor <paramref name="name"/> converted to float32, after checking that its shape is
    /// <paramref name="shape"/>. Each call returns a new array.
    /// </summary>
    /// <param name="name">The tensor's name, for example <c>fc1.weight</c>.</param>
    /// <param name="shape">The shape the network expects, row-major.</param>
    /// <param name="fanIn">Not used (weights come from the file).</param>
    /// <returns>The tensor's elements in row-major order.</returns>
    /// <exception cref="WeightsFormatException">
    /// The tensor is missing, has another shape, or has a dtype other than F32, F16, BF16 or F64.
    /// </exception>
    public float[] GetTensor(string name, int[] shape, int fanIn)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);

        if (!_entries.TryGetValue(name, out Entry? entry))
        {
            throw new WeightsFormatException(
                $"tensor '{name}' not found in {SourceName}; {DescribeNames()}");
        }

        if (!SameShape(entry.Shape, shape))
        {
            throw Fail(SourceName,
                $"tensor '{name}' has shape {FormatShape(entry.Shape)} but the network expects {FormatShape(shape)}");
        }

        if (entry.DType is not ("F32" or "F16" or "BF16" or "F64"))
        {
            throw Fail(SourceName, $"tensor '{name}' has dtype {entry.DType}; NigGen reads {SupportedDTypes}");
        }

        ReadOnlySpan<byte> bytes = _data.AsSpan((int)entry.Begin, (int)(entry.End - entry.Begin));
        var result = new float[entry.Count];
        switch (entry.DType)
        {
            case "F32":
                if (BitConverter.IsLittleEndian)
                {
                    // Copying bytes into the float array's storage is alignment-safe.
                    bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
                }
                else
                {
                    for (int i = 0; i < result.Length; i++)
                    {
                        result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i));
                    }
                }

                break;
            case "F16":
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i)));
                }

                break;
            case "BF16":
                for (int i = 0; i < result.Length; i++)
                {
                    // BF16 is the upper half of a float32, so widening is exact.
                    result[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i)) << 16);
                }

                break;
            default: // F64, the only dtype left
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(8 * i));
                }

                break;
        }

        return result;
    }

    private static ArraySegment<byte> ReadRest(Stream stream, string sourceName)
    {
        if (stream.CanSeek)
        {
            long rest = Math.Max(0, stream.Length - stream.Position);
            if (rest > Array.MaxLength)
            {
                throw Fail(sourceName, Invariant(
                    $"the data buffer is {rest} bytes; NigGen reads files of up to {Array.MaxLength} bytes of tensor data"));
            }

            var buffer = new byte[rest];
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return new ArraySegment<byte>(buffer, 0, read);
        }

        var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.TryGetBuffer(out ArraySegment<byte> segment) ? segment : new ArraySegment<byte>(copy.ToArray());
    }

    private static SafetensorsFile Parse(string source, byte[] header, ArraySegment<byte> data)
    {
        if (!Utf8.IsValid(header))
        {
            throw Fail(source, "the header is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new WeightsFormatException($"{source}: the header is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Fail(source, $"the header is a JSON {Kind(root)}, not an object mapping tensor names to their dtype, shape and data_offsets");
            }

            var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            var names = new List<string>();
            Dictionary<string, string>? metadata = null;
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (metadata is not null)
                    {
                        throw Fail(source, "the header has two \"__metadata__\" entries");
                    }

                    metadata = ParseMetadata(source, property.Value);
                    continue;
                }

                if (entries.ContainsKey(property.Name))
                {
                    throw Fail(source, $"tensor '{property.Name}' appears twice in the header");
                }

                entries.Add(property.Name, ParseEntry(source, property.Name, property.Value, data.Count));
                names.Add(property.Name);
            }

            CheckLayout(source, entries, names, data.Count);
            return new SafetensorsFile(source, entries, names, metadata ?? new Dictionary<string, string>(), data);
        }
    }

    private static Dictionary<string, string> ParseMetadata(string source, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Fail(source, $"\"__metadata__\" is a JSON {Kind(value)}; it must be an object of strings");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Fail(source, $"\"__metadata__\" key '{item.Name}' is a JSON {Kind(item.Value)}; metadata values must be strings");
            }

            metadata[item.Name] = item.Value.GetString()!;
        }

        return metadata;
    }

    private static Entry ParseEntry(string source, string name, JsonElement value, int dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Fail(source, $"tensor '{name}': the header entry is a JSON {Kind(value)}, expected an object with dtype, shape and data_offsets");
        }

        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement))
        {
            throw Fail(source, $"tensor '{name}': the header entry has no \"dtype\"");
        }

        if (dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Fail(source, $"tensor '{name}': \"dtype\" is a JSON {Kind(dtypeElement)}, expected a string such as \"F32\"");
        }

        string dtype = dtypeElement.GetString()!;

        if (!value.TryGetProperty("shape", out JsonElement shapeElement))
        {
            throw Fail(source, $"tensor '{name}': the header entry has no \"shape\"");
        }

        if (shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw Fail(source, $"tensor '{name}': \"shape\" is a JSON {Kind(shapeElement)}, expected an array of integers");
        }

        var shape = new long[shapeElement.GetArrayLength()];
        int d = 0;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out shape[d]))
            {
                throw Fail(source, $"tensor '{name}': \"shape\" element {d} is {dim.GetRawText()}, expected a non-negative integer");
            }

            d++;
        }

        foreach (long dim in shape)
        {
            if (dim < 0)
            {
                throw Fail(source, $"tensor '{name}' has a negative dimension in shape {FormatShape(shape)}");
            }
        }

        if (!value.TryGetProperty("data_offsets", out JsonElement offsetsElement))
        {
            throw Fail(source, $"tensor '{name}': the header entry has no \"data_offsets\"");
        }

        if (offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw Fail(source, $"tensor '{name}': \"data_offsets\" is {offsetsElement.GetRawText()}, expected an array [begin, end] of two integers");
        }

        long begin = Offset(source, name, offsetsElement[0], offsetsElement);
        long end = Offset(source, name, offsetsElement[1], offsetsElement);
        if (end < begin)
        {
            throw Fail(source, Invariant($"tensor '{name}' has data_offsets [{begin}, {end}]: end is before begin"));
        }

        if (end > dataLength)
        {
            throw Fail(source, Invariant(
                $"tensor '{name}' has data_offsets [{begin}, {end}] but the data buffer has only {dataLength} bytes (is the file truncated?)"));
        }

        long count = 1;
        try
        {
            foreach (long dim in shape)
            {
                count = checked(count * dim);
            }
        }
        catch (OverflowException)
        {
            throw Fail(source, $"tensor '{name}' has shape {FormatShape(shape)}, whose element count overflows");
        }

        int elementSize = ElementSize(dtype);
        // An unknown dtype is only an error when the tensor is asked for; its offsets are still checked below.
        if (elementSize > 0 && (count > long.MaxValue / elementSize || end - begin != count * elementSize))
        {
            string needed = count > long.MaxValue / elementSize
                ? "more bytes than a file can hold"
                : Invariant($"{count * elementSize} bytes");
            throw Fail(source, Invariant(
                $"tensor '{name}' ({dtype}, shape {FormatShape(shape)}) needs {needed} but data_offsets [{begin}, {end}] hold {end - begin}"));
        }

        return new Entry(dtype, shape, count, begin, end);
    }

    private static long Offset(string source, string name, JsonElement element, JsonElement offsets)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long offset) || offset < 0)
        {
            throw Fail(source, $"tensor '{name}': \"data_offsets\" is {offsets.GetRawText()}, expected two non-negative integers");
        }

        return offset;
    }

    // The reference implementation requires the tensors to tile the data buffer exactly: no gaps, no overlaps,
    // nothing after the last tensor. A violation means a corrupt or hand-edited file.
    private static void CheckLayout(string source, Dictionary<string, Entry> entries, List<string> names, int dataLength)
    {
        var order = new List<string>(names);
        order.Sort((a, b) =>
        {
            int c = entries[a].Begin.CompareTo(entries[b].Begin);
            return c != 0 ? c : entries[a].End.CompareTo(entries[b].End);
        });

        long covered = 0;
        string? previous = null;
        foreach (string name in order)
        {
            Entry entry = entries[name];
            if (entry.Begin > covered)
            {
                throw Fail(source, Invariant(
                    $"bytes [{covered}, {entry.Begin}) of the data buffer belong to no tensor (a gap before tensor '{name}')"));
            }

            if (entry.Begin < covered)
            {
                throw Fail(source, Invariant(
                    $"tensor '{name}' has data_offsets [{entry.Begin}, {entry.End}], which overlap tensor '{previous}' ending at {covered}"));
            }

            covered = entry.End;
            previous = name;
        }

        if (covered != dataLength)
        {
            throw Fail(source, Invariant(
                $"the data buffer has {dataLength} bytes but the tensors cover only the first {covered}; the file has trailing bytes or a missing header entry"));
        }
    }

    // Sizes of the safetensors dtypes with whole-byte elements; 0 for names NigGen does not know.
    private static int ElementSize(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "I64" or "U64" or "F64" or "C64" => 8,
        _ => 0,
    };

    private string DescribeNames()
    {
        if (_names.Count == 0)
        {
            return "it has no tensors";
        }

        var text = new StringBuilder("it has: ");
        for (int i = 0; i < Math.Min(_names.Count, NamesListed); i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(_names[i]);
        }

        if (_names.Count > NamesListed)
        {
            text.Append(CultureInfo.InvariantCulture, $", … ({_names.Count - NamesListed} more)");
        }

        return text.ToString();
    }

    private static bool SameShape(long[] actual, int[] expected)
    {
        if (actual.Length != expected.Length)
        {
            return false;
        }

        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] != expected[i])
            {
                return false;
            }
        }

        return true;
    }

    internal static string FormatShape(ReadOnlySpan<long> shape)
    {
        var text = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        return text.Append(']').ToString();
    }

    private static string FormatShape(int[] shape)
    {
        var wide = new long[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            wide[i] = shape[i];
        }

        return FormatShape(wide);
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static WeightsFormatException Truncated(string source, long declared, long available) =>
        Fail(source, Invariant($"truncated header: declares {declared} bytes but only {available} follow"));

    private static WeightsFormatException Fail(string source, string problem) => new($"{source}: {problem}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Entry(string DType, long[] Shape, long Count, long Begin, long End);
}
