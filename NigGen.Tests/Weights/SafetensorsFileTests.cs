using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using NigGen.Weights;
using Xunit;
using static NigGen.Tests.Weights.SafetensorsTestFiles;

namespace NigGen.Tests.Weights;

public class SafetensorsFileTests
{
    private static byte[] Bytes(params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), values[i]);
        }

        return bytes;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }

    [Fact]
    public void ReadsF32TensorsAndMetadata()
    {
        byte[] file = Build(
            "{\"__metadata__\":{\"format\":\"pt\"},\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            + "\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}   ",
            Floats(1f, -2f, 3.5f, float.NaN, float.PositiveInfinity, -0f));
        SafetensorsFile weights = Read(file);

        Assert.Equal(new[] { "fc1.weight", "fc1.bias" }, weights.TensorNames);
        Assert.True(weights.Contains("fc1.bias"));
        Assert.False(weights.Contains("fc1.Bias"));
        Assert.Equal("pt", weights.Metadata["format"]);
        Assert.Equal("stream", weights.SourceName);
        float[] w = weights.GetTensor("fc1.weight", new[] { 2, 2 }, fanIn: 2);
        Assert.Equal(new[] { 1f, -2f, 3.5f }, w[..3]);
        Assert.True(float.IsNaN(w[3])); // NaN and infinities are passed through.
        float[] b = weights.GetTensor("fc1.bias", new[] { 2 }, fanIn: 2);
        Assert.Equal(float.PositiveInfinity, b[0]);
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(b[1]));
        Assert.NotSame(w, weights.GetTensor("fc1.weight", new[] { 2, 2 }, fanIn: 2));
    }

    [Fact]
    public void ConvertsF16BitPatterns()
    {
        ushort[] bits = { 0x3C00, 0xC000, 0x0001, 0x03FF, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0x3555 };
        byte[] file = Build("{\"h\":{\"dtype\":\"F16\",\"shape\":[9],\"data_offsets\":[0,18]}}", Bytes(bits));
        float[] h = Read(file).GetTensor("h", new[] { 9 }, 1);

        Assert.Equal(1f, h[0]);
        Assert.Equal(-2f, h[1]);
        Assert.Equal(MathF.ScaleB(1f, -24), h[2]); // smallest subnormal
        Assert.Equal(1023 * MathF.ScaleB(1f, -24), h[3]); // largest subnormal
        Assert.Equal(65504f, h[4]);
        Assert.Equal(float.PositiveInfinity, h[5]);
        Assert.Equal(float.NegativeInfinity, h[6]);
        Assert.True(float.IsNegative(h[7]) && h[7] == 0f);
        Assert.Equal(0.333251953125f, h[8]);

        byte[] nan = Build("{\"h\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,2]}}", Bytes(0x7E00));
        Assert.True(float.IsNaN(Read(nan).GetTensor("h", Array.Empty<int>(), 1)[0]));
    }

    [Fact]
    public void ConvertsBF16BitPatterns()
    {
        ushort[] bits = { 0x3F80, 0xC000, 0x0001, 0x7F7F, 0x7F80, 0xFF80, 0x3EAB, 0x7FC0 };
        byte[] file = Build("{\"b\":{\"dtype\":\"BF16\",\"shape\":[2,4],\"data_offsets\":[0,16]}}", Bytes(bits));
        float[] b = Read(file).GetTensor("b", new[] { 2, 4 }, 1);

        Assert.Equal(1f, b[0]);
        Assert.Equal(-2f, b[1]);
        Assert.Equal(MathF.ScaleB(1f, -133), b[2]); // smallest BF16 subnormal
        Assert.Equal(BitConverter.UInt32BitsToSingle(0x7F7F0000), b[3]);
        Assert.Equal(float.PositiveInfinity, b[4]);
        Assert.Equal(float.NegativeInfinity, b[5]);
        Assert.Equal(0.333984375f, b[6]);
        Assert.True(float.IsNaN(b[7]));
    }

    [Fact]
    public void ConvertsF64ByRoundingToFloat()
    {
        var bytes = new byte[32];
        double[] values = { 0.1, -1e300, 1.0 + 1e-12, 1e-50 };
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * i), values[i]);
        }

        float[] d = Read(Build("{\"d\":{\"dtype\":\"F64\",\"shape\":[4],\"data_offsets\":[0,32]}}", bytes))
            .GetTensor("d", new[] { 4 }, 1);

        Assert.Equal(new[] { 0.1f, float.NegativeInfinity, 1f, 0f }, d);
    }

    [Fact]
    public void AcceptsScalarsEmptyTensorsAndHeaderOrderUnlikeOffsetOrder()
    {
        byte[] file = Build(
            "{\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]},\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"count\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}",
            Floats(5f, 7f, 0f, 0f));
        SafetensorsFile weights = Read(file);

        Assert.Equal(new[] { "b", "empty", "a", "count" }, weights.TensorNames);
        Assert.Equal(new[] { 7f }, weights.GetTensor("b", Array.Empty<int>(), 1));
        Assert.Equal(new[] { 5f }, weights.GetTensor("a", new[] { 1 }, 1));
        Assert.Empty(weights.GetTensor("empty", new[] { 0, 3 }, 1));
        Assert.Empty(weights.Metadata);
    }

    [Fact]
    public void ReadsNonSeekableStreamsAndFiles()
    {
        byte[] file = Build("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", Floats(1f, 2f, 3f));
        SafetensorsFile fromStream = SafetensorsFile.Read(new ForwardOnlyStream(file), "pipe");
        Assert.Equal(new[] { 1f, 2f, 3f }, fromStream.GetTensor("x", new[] { 3 }, 1));

        string path = Path.Combine(Path.GetTempPath(), $"niggen-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, file);
            SafetensorsFile fromFile = SafetensorsFile.Read(path);
            Assert.Equal(path, fromFile.SourceName);
            Assert.Equal(new[] { 1f, 2f, 3f }, fromFile.GetTensor("x", new[] { 3 }, 1));

            File.WriteAllBytes(path, file[..20]);
            string message = Assert.Throws<WeightsFormatException>(() => SafetensorsFile.Read(path)).Message;
            Assert.StartsWith(path + ": truncated header", message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    public void RejectsStreamsShorterThanTheLengthPrefix(int length)
    {
        string message = ReadFails(new byte[length]);
        Assert.Equal(
            $"stream: not a safetensors file: it is {length} bytes long, shorter than the 8-byte header length that starts one",
            message);
    }

    [Fact]
    public void RejectsTruncatedHeaders()
    {
        byte[] file = Build("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)[..28];
        Assert.Equal("stream: truncated header: declares 54 bytes but only 20 follow", ReadFails(file));
        string message = Assert.Throws<WeightsFormatException>(
            () => SafetensorsFile.Read(new ForwardOnlyStream(file), "pipe")).Message;
        Assert.Equal("pipe: truncated header: declares 54 bytes but only 20 follow", message);
    }

    [Fact]
    public void RejectsAbsurdHeaderLengths()
    {
        var file = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(file, 100_000_001);
        Assert.Contains("header length 100000001 bytes is absurd", ReadFails(file));
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        Assert.Contains("header length 18446744073709551615 bytes is absurd", ReadFails(file));
    }

    [Fact]
    public void RejectsHeadersThatAreNotJsonObjects()
    {
        Assert.StartsWith("stream: the header is not valid JSON", ReadFails(Build("{\"x\":", 0)));
        Assert.StartsWith("stream: the header is not valid JSON", ReadFails(Build("", 0)));
        Assert.Equal("stream: the header is not valid UTF-8", ReadFails(Build(new byte[] { 0x7B, 0xFF, 0x7D }, Array.Empty<byte>())));
        Assert.StartsWith("stream: the header is a JSON array, not an object", ReadFails(Build("[1, 2]", 0)));
    }

    [Theory]
    [InlineData("{\"w\":3}", "tensor 'w': the header entry is a JSON number, expected an object")]
    [InlineData("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'w': the header entry has no \"dtype\"")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "tensor 'w': the header entry has no \"shape\"")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", "tensor 'w': the header entry has no \"data_offsets\"")]
    [InlineData("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'w': \"dtype\" is a JSON number, expected a string")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", "tensor 'w': \"shape\" is a JSON string, expected an array of integers")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "tensor 'w': \"shape\" element 0 is 1.5, expected a non-negative integer")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,null],\"data_offsets\":[0,4]}}", "tensor 'w': \"shape\" element 1 is null")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-3],\"data_offsets\":[0,4]}}", "tensor 'w' has a negative dimension in shape [2, -3]")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "tensor 'w': \"data_offsets\" is [0], expected an array [begin, end]")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"a\":0}}}", "tensor 'w': \"data_offsets\" is {\"a\":0}, expected an array")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", "tensor 'w': \"data_offsets\" is [0,\"4\"], expected two non-negative integers")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "tensor 'w': \"data_offsets\" is [-4,0], expected two non-negative integers")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", "tensor 'w' has data_offsets [8, 4]: end is before begin")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "tensor 'w' has data_offsets [0, 16] but the data buffer has only 8 bytes")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "tensor 'w' (F32, shape [3]) needs 12 bytes but data_offsets [0, 8] hold 8")]
    [InlineData("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", "tensor 'w' (F16, shape [2, 3]) needs 12 bytes but data_offsets [0, 8] hold 8")]
    [InlineData("{\"w\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,8]}}", "tensor 'w' (I64, shape [2]) needs 16 bytes but data_offsets [0, 8] hold 8")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", "tensor 'w' has shape [4294967296, 4294967296], whose element count overflows")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "bytes [0, 4) of the data buffer belong to no tensor (a gap before tensor 'w')")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "the data buffer has 8 bytes but the tensors cover only the first 4")]
    [InlineData("{\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "tensor 'w' has data_offsets [4, 8], which overlap tensor 'v' ending at 8")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "tensor 'w' appears twice in the header")]
    [InlineData("{\"__metadata__\":[\"a\"]}", "\"__metadata__\" is a JSON array; it must be an object of strings")]
    [InlineData("{\"__metadata__\":{\"epochs\":3}}", "\"__metadata__\" key 'epochs' is a JSON number; metadata values must be strings")]
    public void RejectsMalformedEntriesNamingTheTensor(string header, string expected)
    {
        string message = ReadFails(Build(header, 8));
        Assert.StartsWith("stream: ", message);
        Assert.Contains(expected, message);
    }

    [Fact]
    public void ReportsMissingTensorsWithTheNamesThatExist()
    {
        byte[] file = Build(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
            + "\"c\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}",
            8);
        SafetensorsFile weights = Read(file);

        var e = Assert.Throws<WeightsFormatException>(() => weights.GetTensor("fc1.bias", new[] { 1 }, 1));
        Assert.Equal("tensor 'fc1.bias' not found in stream; it has: a, b, c", e.Message);
    }

    [Fact]
    public void ListsAtMostTenNamesOfAMissingTensor()
    {
        string entries = string.Join(",", Enumerable.Range(0, 12).Select(i => $"\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}"));
        SafetensorsFile weights = Read(Build("{" + entries + "}", 0));

        var e = Assert.Throws<WeightsFormatException>(() => weights.GetTensor("x", new[] { 0 }, 1));
        Assert.Equal("tensor 'x' not found in stream; it has: t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, … (2 more)", e.Message);

        var empty = Read(Build("{}", 0));
        Assert.Equal("tensor 'x' not found in stream; it has no tensors",
            Assert.Throws<WeightsFormatException>(() => empty.GetTensor("x", new[] { 0 }, 1)).Message);
    }

    [Fact]
    public void ReportsShapeMismatchesWithBothShapes()
    {
        byte[] file = Build("{\"fc1.weight\":{\"dtype\":\"F16\",\"shape\":[128,800],\"data_offsets\":[0,204800]}}", 204800);
        SafetensorsFile weights = Read(file);

        var e = Assert.Throws<WeightsFormatException>(() => weights.GetTensor("fc1.weight", new[] { 128, 512 }, 512));
        Assert.Equal("stream: tensor 'fc1.weight' has shape [128, 800] but the network expects [128, 512]", e.Message);
        e = Assert.Throws<WeightsFormatException>(() => weights.GetTensor("fc1.weight", new[] { 128, 800, 1 }, 800));
        Assert.Equal("stream: tensor 'fc1.weight' has shape [128, 800] but the network expects [128, 800, 1]", e.Message);
        Assert.Equal(128 * 800, weights.GetTensor("fc1.weight", new[] { 128, 800 }, 800).Length);
    }

    [Fact]
    public void ReportsUnsupportedDTypesOnlyWhenAskedFor()
    {
        byte[] file = Build(
            "{\"fc1.weight\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},\"odd\":{\"dtype\":\"F4\",\"shape\":[16],\"data_offsets\":[8,16]},"
            + "\"ok\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}}",
            20);
        SafetensorsFile weights = Read(file); // Other dtypes in the file are fine.

        Assert.Equal(new[] { 0f }, weights.GetTensor("ok", new[] { 1 }, 1));
        var e = Assert.Throws<WeightsFormatException>(() => weights.GetTensor("fc1.weight", new[] { 1 }, 1));
        Assert.Equal("stream: tensor 'fc1.weight' has dtype I64; NigGen reads F32, F16, BF16 and F64", e.Message);
        e = Assert.Throws<WeightsFormatException>(() => weights.GetTensor("odd", new[] { 16 }, 1));
        Assert.Equal("stream: tensor 'odd' has dtype F4; NigGen reads F32, F16, BF16 and F64", e.Message);
    }

    [Fact]
    public void RejectsNullArguments()
    {
        SafetensorsFile weights = Read(Build("{}", 0));
        Assert.Throws<ArgumentNullException>(() => weights.GetTensor(null!, new[] { 1 }, 1));
        Assert.Throws<ArgumentNullException>(() => weights.GetTensor("x", null!, 1));
        Assert.Throws<ArgumentNullException>(() => SafetensorsFile.Read(null!, "s"));
        Assert.Throws<ArgumentNullException>(() => SafetensorsFile.Read(new MemoryStream(), null!));
    }

    [Fact]
    public void IsAnIOException()
    {
        Exception e = Assert.Throws<WeightsFormatException>(() => Read(new byte[1]));
        Assert.IsAssignableFrom<IOException>(e);
    }
}
