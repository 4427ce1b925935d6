using System.Linq;
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
/// The file is untrusted input: every rule of the format is checked before any tensor is read (header length bounded
/// and within the file, UTF-8 JSON object, known dtypes, shape × dtype size equal to each byte range, ranges in bounds,
/// tiling the data buffer without gaps or overlaps, unique names), and every violation is a
/// <see cref="WeightsFormatException"/> naming the file and the tensor. Memory is bounded by the file's size. A tensor of
/// another known dtype (for example a batch-norm layer's I64 <c>num_batches_tracked</c>) does not make the file
/// unreadable; only asking for it does. NaN and infinite values are returned as they are: a generated network's
/// <c>Load</c> rejects them (see <see cref="WeightsLoadOptions"/>).
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

        byte[] header = ReadHeader(stream, sourceName, (int)declared);
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
                $"tensor '{Shorten(name)}' not found in {SourceName}; {DescribeNames()}", SourceName, name);
        }

        if (!SameShape(entry.Shape, shape))
        {
            throw Fail(SourceName,
                $"tensor '{Shorten(name)}' has shape {FormatShape(entry.Shape)} but the network expects {FormatShape(shape)}", name);
        }

        if (entry.DType is not ("F32" or "F16" or "BF16" or "F64"))
        {
            throw Fail(SourceName, $"tensor '{Shorten(name)}' has dtype {entry.DType}; NigGen reads {SupportedDTypes}", name);
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

    /// <summary>The shape of tensor <paramref name="name"/>, row-major.</summary>
    /// <exception cref="WeightsFormatException">The file has no such tensor, or a dimension exceeds int.</exception>
    public int[] ShapeOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_entries.TryGetValue(name, out Entry? entry))
        {
            throw new WeightsFormatException($"tensor '{Shorten(name)}' not found in {SourceName}; {DescribeNames()}", SourceName, name);
        }

        return entry.Shape.Select(d => d <= int.MaxValue ? (int)d : throw Fail(SourceName, $"tensor '{Shorten(name)}' has a dimension of {d}", name)).ToArray();
    }

    /// <summary>
    /// Reads the integer scalar <paramref name="name"/> (dtype I64 or I32, shape [] or [1]), such as BatchNorm's
    /// <c>num_batches_tracked</c>.
    /// </summary>
    /// <exception cref="WeightsFormatException">The tensor is missing, is not a scalar, or is not an integer.</exception>
    public long GetInt64Scalar(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_entries.TryGetValue(name, out Entry? entry))
        {
            throw new WeightsFormatException(
                $"tensor '{Shorten(name)}' not found in {SourceName}; {DescribeNames()}", SourceName, name);
        }

        if (entry.Count != 1 || entry.Shape.Length > 1)
        {
            throw Fail(SourceName, $"tensor '{Shorten(name)}' has shape {FormatShape(entry.Shape)} but the network expects a scalar", name);
        }

        ReadOnlySpan<byte> bytes = _data.AsSpan((int)entry.Begin, (int)(entry.End - entry.Begin));
        return entry.DType switch
        {
            "I64" => BinaryPrimitives.ReadInt64LittleEndian(bytes),
            "I32" => BinaryPrimitives.ReadInt32LittleEndian(bytes),
            _ => throw Fail(SourceName, $"tensor '{Shorten(name)}' has dtype {entry.DType}; NigGen reads it as I64 (or I32)", name),
        };
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

            var all = new byte[rest];
            int got = stream.ReadAtLeast(all, all.Length, throwOnEndOfStream: false);
            return new ArraySegment<byte>(all, 0, got);
        }

        // A stream of unknown length is copied in blocks, refusing more than an array holds (MemoryStream would throw
        // its own IOException past 2 GB).
        var buffer = new byte[1 << 16];
        int filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length == Array.MaxLength)
                {
                    throw Fail(sourceName, Invariant(
                        $"the data buffer is more than {Array.MaxLength} bytes; NigGen reads files of up to {Array.MaxLength} bytes of tensor data"));
                }

                Array.Resize(ref buffer, (int)Math.Min(Array.MaxLength, 2L * buffer.Length));
            }

            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                return new ArraySegment<byte>(buffer, 0, filled);
            }

            filled += read;
        }
    }

    private static byte[] ReadHeader(Stream stream, string sourceName, int length)
    {
        if (stream.CanSeek)
        {
            // Checked before allocating, so that a bogus length does not cost up to 100 MB.
            long available = Math.Max(0, stream.Length - stream.Position);
            if (available < length)
            {
                throw Truncated(sourceName, length, available);
            }

            var header = new byte[length];
            int got = stream.ReadAtLeast(header, length, throwOnEndOfStream: false);
            if (got < length)
            {
                throw Truncated(sourceName, length, got);
            }

            return header;
        }

        // Without a length to check against, the buffer grows with what actually arrives: a short stream that declares
        // a 100 MB header costs what the stream holds, not 100 MB.
        var buffer = new byte[Math.Min(length, 1 << 16)];
        int filled = 0;
        while (filled < length)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(length, 2L * buffer.Length));
            }

            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                throw Truncated(sourceName, length, filled);
            }

            filled += read;
        }

        return buffer;
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
            throw new WeightsFormatException($"{source}: the header is not valid JSON: {e.Message}", source, tensorName: null, e);
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
                    throw Fail(source, $"tensor '{Shorten(property.Name)}' appears twice in the header", property.Name);
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
                throw Fail(source, $"\"__metadata__\" key '{Shorten(item.Name)}' is a JSON {Kind(item.Value)}; metadata values must be strings");
            }

            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw Fail(source, $"\"__metadata__\" key '{Shorten(item.Name)}' appears twice");
            }
        }

        return metadata;
    }

    private static Entry ParseEntry(string source, string name, JsonElement value, int dataLength)
    {
        string tensor = Shorten(name);
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Fail(source, $"tensor '{tensor}': the header entry is a JSON {Kind(value)}, expected an object with dtype, shape and data_offsets", name);
        }

        // JsonElement.TryGetProperty would silently pick one of two equal keys; the file must not be ambiguous.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty field in value.EnumerateObject())
        {
            if (!seen.Add(field.Name))
            {
                throw Fail(source, $"tensor '{tensor}': the header entry has two \"{Shorten(field.Name)}\" fields", name);
            }
        }

        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement))
        {
            throw Fail(source, $"tensor '{tensor}': the header entry has no \"dtype\"", name);
        }

        if (dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Fail(source, $"tensor '{tensor}': \"dtype\" is a JSON {Kind(dtypeElement)}, expected a string such as \"F32\"", name);
        }

        string dtype = dtypeElement.GetString()!;
        int bits = BitSize(dtype);
        if (bits == 0)
        {
            throw Fail(source, $"tensor '{tensor}' has dtype \"{Shorten(dtype)}\", which is not a safetensors dtype ({KnownDTypes})", name);
        }

        if (!value.TryGetProperty("shape", out JsonElement shapeElement))
        {
            throw Fail(source, $"tensor '{tensor}': the header entry has no \"shape\"", name);
        }

        if (shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw Fail(source, $"tensor '{tensor}': \"shape\" is a JSON {Kind(shapeElement)}, expected an array of integers", name);
        }

        var shape = new long[shapeElement.GetArrayLength()];
        int d = 0;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out shape[d]))
            {
                throw Fail(source, $"tensor '{tensor}': \"shape\" element {d} is {Shorten(dim.GetRawText())}, expected a non-negative integer", name);
            }

            d++;
        }

        foreach (long dim in shape)
        {
            if (dim < 0)
            {
                throw Fail(source, $"tensor '{tensor}' has a negative dimension in shape {FormatShape(shape)}", name);
            }
        }

        if (!value.TryGetProperty("data_offsets", out JsonElement offsetsElement))
        {
            throw Fail(source, $"tensor '{tensor}': the header entry has no \"data_offsets\"", name);
        }

        if (offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw Fail(source, $"tensor '{tensor}': \"data_offsets\" is {Shorten(offsetsElement.GetRawText())}, expected an array [begin, end] of two integers", name);
        }

        long begin = Offset(source, name, offsetsElement[0], offsetsElement);
        long end = Offset(source, name, offsetsElement[1], offsetsElement);
        if (end < begin)
        {
            throw Fail(source, Invariant($"tensor '{tensor}' has data_offsets [{begin}, {end}]: end is before begin"), name);
        }

        if (end > dataLength)
        {
            throw Fail(source, Invariant(
                $"tensor '{tensor}' has data_offsets [{begin}, {end}] but the data buffer has only {dataLength} bytes (is the file truncated?)"), name);
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
            throw Fail(source, $"tensor '{tensor}' has shape {FormatShape(shape)}, whose element count overflows", name);
        }

        if (count > long.MaxValue / bits)
        {
            throw Fail(source, Invariant(
                $"tensor '{tensor}' ({dtype}, shape {FormatShape(shape)}) needs more bytes than a file can hold but data_offsets [{begin}, {end}] hold {end - begin}"), name);
        }

        // Sub-byte dtypes (F4, F6) pack elements; the format requires a whole number of bytes.
        long totalBits = count * bits;
        if (totalBits % 8 != 0)
        {
            throw Fail(source, Invariant(
                $"tensor '{tensor}' ({dtype}, shape {FormatShape(shape)}) is {totalBits} bits, not a whole number of bytes"), name);
        }

        if (end - begin != totalBits / 8)
        {
            throw Fail(source, Invariant(
                $"tensor '{tensor}' ({dtype}, shape {FormatShape(shape)}) needs {totalBits / 8} bytes but data_offsets [{begin}, {end}] hold {end - begin}"), name);
        }

        return new Entry(dtype, shape, count, begin, end);
    }

    private static long Offset(string source, string name, JsonElement element, JsonElement offsets)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long offset) || offset < 0)
        {
            throw Fail(source, $"tensor '{Shorten(name)}': \"data_offsets\" is {Shorten(offsets.GetRawText())}, expected two non-negative integers", name);
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
                    $"bytes [{covered}, {entry.Begin}) of the data buffer belong to no tensor (a gap before tensor '{Shorten(name)}')"), name);
            }

            if (entry.Begin < covered)
            {
                throw Fail(source, Invariant(
                    $"tensor '{Shorten(name)}' has data_offsets [{entry.Begin}, {entry.End}], which overlap tensor '{Shorten(previous!)}' ending at {covered}"), name);
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

    private const string KnownDTypes = "BOOL, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F4, F6_E2M3, F6_E3M2, I16, U16, F16, BF16, I32, U32, F32, C64, I64, U64, F64";

    // Bits per element of every safetensors dtype (the reference implementation's Dtype::bitsize); 0 for other names.
    private static int BitSize(string dtype) => dtype switch
    {
        "F4" => 4,
        "F6_E2M3" or "F6_E3M2" => 6,
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" => 8,
        "I16" or "U16" or "F16" or "BF16" => 16,
        "I32" or "U32" or "F32" => 32,
        "I64" or "U64" or "F64" or "C64" => 64,
        _ => 0,
    };

    // Names and JSON fragments in messages are cut short: a hostile header could otherwise make a message of megabytes.
    private const int LongestQuoted = 200;

    private static string Shorten(string text) =>
        text.Length <= LongestQuoted ? text : string.Concat(text.AsSpan(0, LongestQuoted), "…");

    private string DescribeNames()
    {
        if (_names.Count == 0)
        {
            return "it has no tensors";
        }

        var text = new StringBuilder("it has: ");
        for (int i = 0; i < Math.Min(_names.Count, NamesListed); i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(Shorten(_names[i]));
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
        const int DimensionsShown = 16;
        var text = new StringBuilder("[");
        for (int i = 0; i < Math.Min(shape.Length, DimensionsShown); i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        if (shape.Length > DimensionsShown)
        {
            text.Append(CultureInfo.InvariantCulture, $", … ({shape.Length} dimensions)");
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

    private static WeightsFormatException Fail(string source, string problem, string? tensor = null) =>
        new($"{source}: {problem}", source, tensor);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Entry(string DType, long[] Shape, long Count, long Begin, long End);
}
