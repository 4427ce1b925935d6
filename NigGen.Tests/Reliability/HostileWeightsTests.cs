using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using NigGen.Tests.Networks;
using NigGen.Tests.Weights;
using NigGen.Weights;
using Xunit;
using static NigGen.Tests.Reliability.WeightsFiles;

namespace NigGen.Tests.Reliability;

/// <summary>
/// A corpus of crafted weights files, each at the boundary of one rule of the format or of Load: the file just inside
/// the rule loads, the file just outside it is a <see cref="WeightsFormatException"/> naming the file and the tensor.
/// </summary>
public sealed class HostileWeightsTests
{
    private static SmallMlp Load(byte[] file, WeightsLoadOptions? options = null) =>
        options is null ? SmallMlp.Load(new MemoryStream(file)) : SmallMlp.Load(new MemoryStream(file), options);

    private static WeightsFormatException Fails(byte[] file, WeightsLoadOptions? options = null) =>
        Assert.Throws<WeightsFormatException>(() => Load(file, options));

    private static byte[] WithHeader(string header, byte[] data) => SafetensorsTestFiles.Build(header, data);

    private static float[] Outputs(SmallMlp network)
    {
        var input = Enumerable.Range(0, SmallMlp.InputLength).Select(i => MathF.Sin(i)).ToArray();
        var output = new float[SmallMlp.OutputLength];
        network.Forward(input, output);
        return output;
    }

    [Fact]
    public void A_file_with_exactly_the_networks_tensors_loads_with_their_values()
    {
        var tensors = ValidTensors(seed: 1);
        var network = Load(Build(tensors));

        var saved = new MemoryStream();
        network.Save(saved);
        var decoded = DecodeIndependently(saved.ToArray())!;
        foreach (var t in tensors)
        {
            Assert.Equal(DecodeIndependently(Build([t]))![t.Name].Values, decoded[t.Name].Values);
        }
    }

    [Fact]
    public void Header_length_at_its_bounds()
    {
        byte[] file = Build(ValidTensors(1));
        long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);

        // One byte short: the JSON loses its closing brace. One byte long: it swallows the first data byte.
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)length - 1);
        Assert.Contains("the header is not valid JSON", Fails(file).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)length + 1);
        Assert.Contains("the header is not valid", Fails(file).Message);

        // Longer than the file: truncated, at every length up to the format's limit; beyond it: absurd.
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(file.Length - 8 + 1));
        var error = Fails(file);
        Assert.StartsWith("stream: truncated header", error.Message);
        Assert.Equal("stream", error.FileName);
        Assert.Null(error.TensorName);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 100_000_000);
        Assert.StartsWith("stream: truncated header: declares 100000000 bytes", Fails(file).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 100_000_001);
        Assert.Contains("header length 100000001 bytes is absurd", Fails(file).Message);
    }

    [Fact]
    public void A_bogus_header_length_on_a_stream_without_length_costs_what_the_stream_holds()
    {
        byte[] file = Build(ValidTensors(1));
        BinaryPrimitives.WriteUInt64LittleEndian(file, 100_000_000);
        SafetensorsFile.Read(new MemoryStream(Build(ValidTensors(1))), "warm-up");

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<WeightsFormatException>(() => SafetensorsFile.Read(new ForwardOnlyStream(file), "pipe"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.StartsWith("pipe: truncated header: declares 100000000 bytes", error.Message);
        Assert.True(allocated < 1 << 20, $"reading a {file.Length}-byte stream that declares a 100 MB header allocated {allocated} bytes");
    }

    [Theory]
    [InlineData("{\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}")] // trailing comma
    [InlineData("{/* comment */\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}")]
    [InlineData("{'fc1.bias':{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}")] // single quotes
    [InlineData("{\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} {}")] // a second value
    [InlineData("{\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,4]}}")]
    [InlineData("{\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}")] // unclosed
    public void The_header_must_be_strict_json(string header)
    {
        var error = Assert.Throws<WeightsFormatException>(() => SafetensorsTestFiles.Read(WithHeader(header, new byte[4])));
        Assert.StartsWith("stream: the header is not valid JSON", error.Message);
        Assert.Equal("stream", error.FileName);
    }

    [Fact]
    public void Json_nesting_and_padding_at_their_bounds()
    {
        // Whitespace padding after the object is allowed (writers align the data that way).
        var (header, data) = Layout(ValidTensors(1));
        Load(WithHeader(header + new string(' ', 7), data));

        // Nesting deeper than the parser's limit is malformed JSON, not a stack overflow.
        string deep = "{\"__metadata__\":{\"a\":\"b\"},\"x\":" + new string('[', 100_000) + new string(']', 100_000) + "}";
        Assert.StartsWith("stream: the header is not valid JSON", Assert.Throws<WeightsFormatException>(() => SafetensorsTestFiles.Read(WithHeader(deep, []))).Message);
    }

    [Theory]
    [InlineData("F32", 16, true)]
    [InlineData("f32", 16, false)] // dtypes are case-sensitive
    [InlineData("F33", 16, false)]
    [InlineData("", 16, false)]
    [InlineData("F4", 2, true)] // 4 elements of 4 bits
    [InlineData("F6_E2M3", 3, true)] // 4 elements of 6 bits
    [InlineData("C64", 32, true)]
    [InlineData("F8_E8M0", 4, true)]
    public void Dtypes_must_be_safetensors_dtypes(string dtype, int bytes, bool known)
    {
        byte[] file = WithHeader($"{{\"extra\":{{\"dtype\":\"{dtype}\",\"shape\":[4],\"data_offsets\":[0,{bytes}]}}}}", new byte[bytes]);
        if (known)
        {
            Assert.Contains("extra", SafetensorsTestFiles.Read(file).TensorNames);
            return;
        }

        var error = Assert.Throws<WeightsFormatException>(() => SafetensorsTestFiles.Read(file));
        Assert.Contains($"tensor 'extra' has dtype \"{dtype}\", which is not a safetensors dtype", error.Message);
        Assert.Equal("extra", error.TensorName);
    }

    [Fact]
    public void Sub_byte_dtypes_must_fill_whole_bytes()
    {
        var error = Assert.Throws<WeightsFormatException>(() => SafetensorsTestFiles.Read(
            WithHeader("{\"packed\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", new byte[2])));
        Assert.Contains("tensor 'packed' (F4, shape [3]) is 12 bits, not a whole number of bytes", error.Message);
        Assert.Equal("packed", error.TensorName);
    }

    [Fact]
    public void A_known_dtype_NigGen_does_not_convert_is_an_error_when_the_network_reads_it()
    {
        var tensors = ValidTensors(1);
        tensors[1] = tensors[1] with { DType = "I32" };
        var error = Fails(Build(tensors));
        Assert.Contains("tensor 'fc1.bias' has dtype I32; NigGen reads F32, F16, BF16 and F64", error.Message);
        Assert.Equal("fc1.bias", error.TensorName);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public void The_byte_range_must_equal_shape_times_dtype_size(int change)
    {
        var tensors = ValidTensors(1);
        tensors[3] = tensors[3] with { Bytes = new byte[tensors[3].Bytes.Length + change] };
        var error = Fails(Build(tensors));
        Assert.Contains($"tensor 'fc2.bias' (F32, shape [12]) needs 48 bytes but data_offsets [", error.Message);
        Assert.Contains($"hold {48 + change}", error.Message);
        Assert.Equal("fc2.bias", error.TensorName);
    }

    [Fact]
    public void Offsets_must_lie_within_the_data_buffer()
    {
        var (header, data) = Layout(ValidTensors(1));
        string last = $"[{data.Length - 16},{data.Length}]";
        Assert.Contains(last, header);

        var error = Fails(WithHeader(header.Replace(last, $"[{data.Length - 15},{data.Length + 1}]"), data));
        Assert.Contains($"tensor 'fc3.bias' has data_offsets [{data.Length - 15}, {data.Length + 1}] but the data buffer has only {data.Length} bytes", error.Message);
        Assert.Equal("fc3.bias", error.TensorName);

        error = Fails(WithHeader(header.Replace(last, $"[{data.Length - 16},18446744073709551616]"), data));
        Assert.Contains("tensor 'fc3.bias': \"data_offsets\" is [", error.Message);
        Assert.Contains("expected two non-negative integers", error.Message);
    }

    [Fact]
    public void Ranges_must_tile_the_buffer_without_overlap_gap_or_tail()
    {
        var bytes = new byte[8];
        const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";

        // Adjacent ranges and a zero-size tensor at the very end are fine.
        SafetensorsTestFiles.Read(WithHeader("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", bytes));

        var overlap = Assert.Throws<WeightsFormatException>(() => SafetensorsTestFiles.Read(WithHeader("{" + A + ",\"b\":{\"dtype\":\"U8\",\"shape\":[5],\"data_offsets\":[3,8]}}", bytes)));
        Assert.Contains("tensor 'b' has data_offsets [3, 8], which overlap tensor 'a' ending at 4", overlap.Message);
        Assert.Equal("b", overlap.TensorName);

        var gap = Assert.Throws<WeightsFormatException>(() => SafetensorsTestFiles.Read(WithHeader("{" + A + ",\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[5,8]}}", bytes)));
        Assert.Contains("bytes [4, 5) of the data buffer belong to no tensor (a gap before tensor 'b')", gap.Message);

        var tail = Assert.Throws<WeightsFormatException>(() => SafetensorsTestFiles.Read(WithHeader("{" + A + ",\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[4,7]}}", bytes)));
        Assert.Contains("the data buffer has 8 bytes but the tensors cover only the first 7", tail.Message);

        // A zero-size tensor inside another one's range overlaps it.
        var inside = Assert.Throws<WeightsFormatException>(() => SafetensorsTestFiles.Read(WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", bytes)));
        Assert.Contains("tensor 'e' has data_offsets [4, 4], which overlap tensor 'a'", inside.Message);
    }

    [Fact]
    public void Names_and_fields_must_be_unique_however_they_are_escaped()
    {
        var (header, data) = Layout(ValidTensors(1));
        string entry = header[header.IndexOf("\"fc3.bias\"", StringComparison.Ordinal)..^1];
        string escaped = entry.Replace("\"fc3.bias\"", "\"fc3\\u002ebias\"");
        var error = Fails(WithHeader(header[..^1] + "," + escaped + "}", data));
        Assert.Contains("tensor 'fc3.bias' appears twice in the header", error.Message);
        Assert.Equal("fc3.bias", error.TensorName);

        error = Fails(WithHeader(header.Replace("\"fc2.bias\":{\"dtype\":\"F32\",", "\"fc2.bias\":{\"dtype\":\"F16\",\"dtype\":\"F32\","), data));
        Assert.Contains("tensor 'fc2.bias': the header entry has two \"dtype\" fields", error.Message);

        error = Fails(WithHeader(header.Replace("{\"fc1.weight\"", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},\"fc1.weight\""), data));
        Assert.Contains("\"__metadata__\" key 'k' appears twice", error.Message);
        error = Fails(WithHeader(header.Replace("{\"fc1.weight\"", "{\"__metadata__\":{},\"__metadata__\":{},\"fc1.weight\""), data));
        Assert.Contains("the header has two \"__metadata__\" entries", error.Message);
    }

    [Fact]
    public void Every_expected_tensor_must_be_present()
    {
        var tensors = ValidTensors(1);
        tensors.RemoveAt(4);
        var error = Fails(Build(tensors));
        Assert.StartsWith("tensor 'fc3.weight' not found in stream; it has: fc1.weight, fc1.bias, fc2.weight, fc2.bias, fc3.bias", error.Message);
        Assert.Equal("fc3.weight", error.TensorName);
        Assert.Equal("stream", error.FileName);
    }

    [Fact]
    public void Unexpected_tensors_are_rejected_unless_the_caller_allows_them()
    {
        var tensors = ValidTensors(1);
        var expected = Outputs(Load(Build(tensors)));
        tensors.Insert(2, F32("fc1.running_mean", [16], new float[16]));
        tensors.Add(new TensorBytes("num_batches_tracked", "I64", [], new byte[8]));
        byte[] file = Build(tensors);

        var error = Fails(file);
        Assert.StartsWith("stream: tensor 'fc1.running_mean' is not a parameter of SmallMlp (nor are 'num_batches_tracked')", error.Message);
        Assert.Contains("AllowUnexpectedTensors = true", error.Message);
        Assert.Equal("fc1.running_mean", error.TensorName);
        Fails(file, WeightsLoadOptions.Default);

        var network = Load(file, new WeightsLoadOptions { AllowUnexpectedTensors = true });
        Assert.Equal(expected, Outputs(network));
    }

    [Theory]
    [InlineData("fc1.weight", 0, float.NaN, "NaN at element 0 [0, 0]")]
    [InlineData("fc1.weight", 319, float.PositiveInfinity, "+∞ at element 319 [15, 19]")]
    [InlineData("fc3.bias", 3, float.NegativeInfinity, "−∞ at element 3 [3]")]
    public void Non_finite_weights_are_rejected_naming_tensor_and_element_unless_allowed(string name, int index, float value, string expected)
    {
        var tensors = ValidTensors(1);
        int t = tensors.FindIndex(x => x.Name == name);
        BinaryPrimitives.WriteSingleLittleEndian(tensors[t].Bytes.AsSpan(4 * index), value);
        byte[] file = Build(tensors);

        var error = Fails(file);
        Assert.StartsWith($"stream: tensor '{name}' holds {expected}", error.Message);
        Assert.Contains("AllowNonFiniteWeights = true", error.Message);
        Assert.Equal(name, error.TensorName);

        var network = Load(file, new WeightsLoadOptions { AllowNonFiniteWeights = true });
        var saved = new MemoryStream();
        network.Save(saved);
        Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(DecodeIndependently(saved.ToArray())![name].Values[index]));
    }

    [Fact]
    public void Values_that_become_infinite_in_float32_are_non_finite_weights()
    {
        var tensors = ValidTensors(1);
        var wide = new byte[8 * 4];
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(wide.AsSpan(8 * i), i == 2 ? 1e300 : 0.25);
        }

        tensors[5] = new TensorBytes("fc3.bias", "F64", [4], wide);
        var error = Fails(Build(tensors));
        Assert.StartsWith("stream: tensor 'fc3.bias' holds +∞ at element 2 [2] (an F64 value beyond float32's range also becomes infinite)", error.Message);

        var half = new byte[2 * 4];
        BinaryPrimitives.WriteUInt16LittleEndian(half.AsSpan(6), 0x7C00); // F16 +∞
        tensors[5] = new TensorBytes("fc3.bias", "F16", [4], half);
        Assert.StartsWith("stream: tensor 'fc3.bias' holds +∞ at element 3 [3]", Fails(Build(tensors)).Message);
    }

    [Fact]
    public void Errors_from_a_path_name_the_path()
    {
        var tensors = ValidTensors(1);
        tensors.Add(F32("extra", [1], [0f]));
        string path = Path.Combine(Path.GetTempPath(), $"niggen-hostile-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, Build(tensors));
            var error = Assert.Throws<WeightsFormatException>(() => SmallMlp.Load(path));
            Assert.StartsWith(path + ": tensor 'extra' is not a parameter of SmallMlp", error.Message);
            Assert.Equal(path, error.FileName);
            Assert.Equal("extra", error.TensorName);
            SmallMlp.Load(path, new WeightsLoadOptions { AllowUnexpectedTensors = true });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Huge_names_and_shapes_make_short_messages()
    {
        string name = new('n', 1_000_000);
        var error = Assert.Throws<WeightsFormatException>(() => SafetensorsTestFiles.Read(
            WithHeader($"{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", Enumerable.Repeat(1, 100_000))}],\"data_offsets\":[0,8]}}}}", new byte[8])));
        Assert.True(error.Message.Length < 2000, $"message of {error.Message.Length} characters");
        Assert.Equal(name, error.TensorName);
    }

    [Fact]
    public void Null_options_are_an_argument_error()
    {
        Assert.Throws<ArgumentNullException>(() => SmallMlp.Load(new MemoryStream(Build(ValidTensors(1))), null!));
        Assert.Throws<ArgumentNullException>(() => SmallMlp.Load("unused.safetensors", null!));
    }
}
