using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using NigGen.Weights;
using Xunit;
using static NigGen.Tests.Weights.SafetensorsTestFiles;

namespace NigGen.Tests.Weights;

public class SafetensorsWriterTests
{
    private static ushort[] Halves(byte[] data)
    {
        var result = new ushort[data.Length / 2];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(2 * i));
        }

        return result;
    }

    [Fact]
    public void WritesExactlyWhatPythonSafetensorsWrites()
    {
        // The bytes of the reference implementation's own test (safetensors/src/tensor.rs,
        // test_serialization_forced_alignement): 65 bytes of JSON padded with 7 spaces.
        byte[] expected =
        {
            72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
            121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
            91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
            115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
            32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
            160, 64,
        };
        var writer = new SafetensorsWriter();
        writer.Add("attn0", new[] { 1, 1, 2, 3 }, new[] { 0f, 1f, 2f, 3f, 4f, 5f });

        Assert.Equal(expected, Write(writer));
    }

    [Fact]
    public void WritesTheHeaderPythonWritesForSeveralTensors()
    {
        // What safetensors.numpy.save_file({"fc1.bias": ..., "fc1.weight": ...}) writes: tensors of one dtype in
        // name order, compact JSON, padded with spaces to a multiple of 8.
        var writer = new SafetensorsWriter();
        writer.Add("fc1.bias", new[] { 2 }, new[] { 0.5f, -0.5f });
        writer.Add("fc1.weight", new[] { 2, 3 }, new[] { 1f, 2f, 3f, 4f, 5f, 6f });
        (string header, byte[] data) = Split(Write(writer));

        const string Json = "{\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]}}";
        Assert.Equal(126, Json.Length);
        Assert.Equal(Json + "  ", header);
        Assert.Equal(32, data.Length);
    }

    [Fact]
    public void WritesAnEmptyFileAsThePythonPackageDoes()
    {
        byte[] file = Write(new SafetensorsWriter());
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32 }, file);
        Assert.Empty(Read(file).TensorNames);
    }

    [Fact]
    public void RoundTripsF32Exactly()
    {
        float[] values = { 1f, -0f, float.Epsilon, float.MaxValue, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7FC12345), 0.1f };
        var writer = new SafetensorsWriter();
        writer.Add("w", new[] { 7 }, values);
        writer.Add("scalar", ReadOnlySpan<int>.Empty, new[] { 3f });
        writer.Add("empty", new[] { 4, 0 }, ReadOnlySpan<float>.Empty);
        SafetensorsFile file = Read(Write(writer));

        float[] read = file.GetTensor("w", new[] { 7 }, 1);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(values[i]), BitConverter.SingleToInt32Bits(read[i]));
        }

        Assert.Equal(new[] { 3f }, file.GetTensor("scalar", Array.Empty<int>(), 1));
        Assert.Empty(file.GetTensor("empty", new[] { 4, 0 }, 1));
        Assert.Equal(new[] { "w", "scalar", "empty" }, file.TensorNames);
    }

    [Fact]
    public void RoundsToF16NearestEven()
    {
        float[] values =
        {
            1f, -2f,
            1f + MathF.ScaleB(1f, -11), // halfway between 1 and the next half: ties to even, 1
            1f + 3 * MathF.ScaleB(1f, -11), // halfway between odd 1 + 2^-10 and even 1 + 2^-9: 1 + 2^-9
            MathF.ScaleB(1f, -24), // smallest subnormal
            MathF.ScaleB(1f, -25), // half the smallest subnormal: ties to even, 0
            3 * MathF.ScaleB(1f, -25), // 1.5 subnormal units: ties to even, 2 units
            65504f, 65519f, 65520f, // the largest half; still rounds down; rounds to infinity
            float.NegativeInfinity, 1e-10f,
        };
        ushort[] expected = { 0x3C00, 0xC000, 0x3C00, 0x3C02, 0x0001, 0x0000, 0x0002, 0x7BFF, 0x7BFF, 0x7C00, 0xFC00, 0x0000 };
        var writer = new SafetensorsWriter();
        writer.Add("h", new[] { 3, 4 }, values, SafetensorsDType.F16);
        (string header, byte[] data) = Split(Write(writer));

        Assert.StartsWith("{\"h\":{\"dtype\":\"F16\",\"shape\":[3,4],\"data_offsets\":[0,24]}}", header);
        Assert.Equal(expected, Halves(data));

        float[] read = Read(Write(writer)).GetTensor("h", new[] { 3, 4 }, 1);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal((float)BitConverter.UInt16BitsToHalf(expected[i]), read[i]);
        }
    }

    [Fact]
    public void RoundsToBF16NearestEven()
    {
        float[] values =
        {
            1f, -2f,
            1f + MathF.ScaleB(1f, -8), // tie: stays 1
            1f + 3 * MathF.ScaleB(1f, -8), // tie: rounds up to the even 1 + 2^-6
            1f + MathF.ScaleB(1f, -8) + MathF.ScaleB(1f, -20), // just above the tie: rounds up
            MathF.ScaleB(1f, -133), // smallest BF16 subnormal
            float.Epsilon, // far below it: 0
            float.MaxValue, // rounds to infinity
            float.PositiveInfinity,
            -0f,
        };
        ushort[] expected = { 0x3F80, 0xC000, 0x3F80, 0x3F82, 0x3F81, 0x0001, 0x0000, 0x7F80, 0x7F80, 0x8000 };
        var writer = new SafetensorsWriter();
        writer.Add("b", new[] { 10 }, values, SafetensorsDType.BF16);
        (string header, byte[] data) = Split(Write(writer));

        Assert.StartsWith("{\"b\":{\"dtype\":\"BF16\",\"shape\":[10],\"data_offsets\":[0,20]}}", header);
        Assert.Equal(expected, Halves(data));

        float[] read = Read(Write(writer)).GetTensor("b", new[] { 10 }, 1);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(BitConverter.UInt32BitsToSingle((uint)expected[i] << 16), read[i]);
        }
    }

    [Fact]
    public void KeepsNaNsNaNInBF16()
    {
        // Truncating this NaN (payload only in the low 16 bits) would give infinity.
        float[] nans = { BitConverter.UInt32BitsToSingle(0x7F800001), BitConverter.UInt32BitsToSingle(0xFFC00000) };
        var writer = new SafetensorsWriter();
        writer.Add("n", new[] { 2 }, nans, SafetensorsDType.BF16);
        float[] read = Read(Write(writer)).GetTensor("n", new[] { 2 }, 1);

        Assert.True(float.IsNaN(read[0]) && !float.IsNegative(read[0]));
        Assert.True(float.IsNaN(read[1]) && float.IsNegative(read[1]));
    }

    [Fact]
    public void MixesDTypesInInsertionOrder()
    {
        var writer = new SafetensorsWriter();
        writer.Add("z", new[] { 1 }, new[] { 1.5f }, SafetensorsDType.F16);
        writer.Add("a", new[] { 2 }, new[] { 2.5f, -3f });
        writer.Add("m", new[] { 1 }, new[] { 0.75f }, SafetensorsDType.BF16);
        byte[] file = Write(writer);
        (string header, _) = Split(file);

        Assert.Equal(0, (file.Length - 8 - header.Length) % 2);
        Assert.Equal(0, header.Length % 8);
        Assert.StartsWith("{\"z\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[2,10]},"
            + "\"m\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[10,12]}}", header);
        SafetensorsFile read = Read(file);
        Assert.Equal(new[] { "z", "a", "m" }, read.TensorNames);
        Assert.Equal(new[] { 1.5f }, read.GetTensor("z", new[] { 1 }, 1));
        Assert.Equal(new[] { 2.5f, -3f }, read.GetTensor("a", new[] { 2 }, 1));
        Assert.Equal(new[] { 0.75f }, read.GetTensor("m", new[] { 1 }, 1));
    }

    [Fact]
    public void EscapesNamesAsJson()
    {
        const string Name = "odd \"name\" \\ with\ttab\u0001 and ü";
        var writer = new SafetensorsWriter();
        writer.Add(Name, new[] { 1 }, new[] { 4f });
        byte[] file = Write(writer);

        Assert.StartsWith("{\"odd \\\"name\\\" \\\\ with\\ttab\\u0001 and ü\":", Split(file).Header);
        Assert.Equal(new[] { 4f }, Read(file).GetTensor(Name, new[] { 1 }, 1));
    }

    [Fact]
    public void SavesToAFile()
    {
        var writer = new SafetensorsWriter();
        writer.Add("fc1.weight", new[] { 2, 2 }, new[] { 1f, 2f, 3f, 4f });
        string path = Path.Combine(Path.GetTempPath(), $"niggen-{Guid.NewGuid():N}.safetensors");
        try
        {
            writer.Save(path);
            Assert.Equal(new[] { 1f, 2f, 3f, 4f }, SafetensorsFile.Read(path).GetTensor("fc1.weight", new[] { 2, 2 }, 2));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RejectsInvalidTensors()
    {
        var writer = new SafetensorsWriter();
        writer.Add("a", new[] { 2 }, new[] { 1f, 2f });

        Assert.Contains("'a' was already added", Assert.Throws<ArgumentException>(() => writer.Add("a", new[] { 1 }, new[] { 1f })).Message);
        Assert.Contains("shape [2, 3] but 5 elements",
            Assert.Throws<ArgumentException>(() => writer.Add("b", new[] { 2, 3 }, new float[5])).Message);
        Assert.Contains("shape [65536, 65536] but 1 elements",
            Assert.Throws<ArgumentException>(() => writer.Add("b", new[] { 65536, 65536 }, new float[1])).Message);
        Assert.Contains("negative dimension in shape [2, -1]",
            Assert.Throws<ArgumentException>(() => writer.Add("b", new[] { 2, -1 }, new float[2])).Message);
        Assert.Throws<ArgumentException>(() => writer.Add("__metadata__", new[] { 1 }, new[] { 1f }));
        Assert.Throws<ArgumentException>(() => writer.Add("bad\ud800", new[] { 1 }, new[] { 1f }));
        Assert.Throws<ArgumentNullException>(() => writer.Add(null!, new[] { 1 }, new[] { 1f }));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Add("b", new[] { 1 }, new[] { 1f }, (SafetensorsDType)7));

        // Failed adds leave the writer unchanged.
        Assert.Equal(new[] { "a" }, Read(Write(writer)).TensorNames);
        Assert.Equal(Encoding.UTF8.GetBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"),
            Encoding.UTF8.GetBytes(Split(Write(writer)).Header.TrimEnd(' ')));
    }
}
