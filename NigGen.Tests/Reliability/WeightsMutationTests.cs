using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using NigGen.Tests.Networks;
using NigGen.Tests.Weights;
using NigGen.Weights;
using Xunit;
using Xunit.Abstractions;
using static NigGen.Tests.Reliability.WeightsFiles;

namespace NigGen.Tests.Reliability;

/// <summary>
/// Thousands of mutated valid weights files (byte flips, truncations, length and header edits, injected NaNs): every
/// load either succeeds with the values the file's bytes define (decoded independently here) or throws
/// <see cref="WeightsFormatException"/>; never another exception, a hang, or memory beyond a bound of the file's size.
/// NIGGEN_LONG_TESTS=1 runs 200,000 mutations instead of 3,000.
/// </summary>
public sealed class WeightsMutationTests(ITestOutputHelper output)
{
    private const int Seed = 20_240_607;

    private static readonly string[] DTypes = ["F32", "F16", "BF16", "F64", "I64", "U8", "F4", "F6_E3M2", "XX", ""];
    private static readonly string[] Numbers = ["-1", "0", "1", "4294967296", "18446744073709551616", "1e3", "1.5", "99999999999", "null", "\"4\"", "[]"];
    private static readonly byte[] Interesting = "{}[]\",:- 0123456789ae\\"u8.ToArray().Concat(new byte[] { 0, 0x7F, 0x80, 0xC0, 0xFF }).ToArray();

    [Fact]
    public async Task Every_mutated_file_loads_with_the_right_values_or_is_a_WeightsFormatException()
    {
        int count = LongTests.Choose(3_000, 200_000);
        var run = Task.Run(() => Run(count));
        var first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(LongTests.Enabled ? 60 : 2)));
        Assert.True(first == run, "the mutation run did not finish: a load hangs");
        var (loaded, rejected) = await run;

        output.WriteLine($"{count} mutated files: {loaded} loaded, {rejected} rejected");
        Assert.Equal(count, loaded + rejected);
        Assert.True(loaded > count / 50, $"only {loaded} of {count} mutated files loaded: the mutations hardly exercise the success path");
        Assert.True(rejected > count / 2, $"only {rejected} of {count} mutated files were rejected");
    }

    private static (int Loaded, int Rejected) Run(int count)
    {
        var random = new Random(Seed);
        byte[][] bases = [Build(ValidTensors(1)), MixedDTypes(), WrittenByTheWriter()];
        int loaded = 0, rejected = 0;
        for (int i = 0; i < count; i++)
        {
            byte[] file = bases[random.Next(bases.Length)];
            var applied = new List<string>();
            int mutations = 1 + random.Next(3);
            for (int m = 0; m < mutations; m++)
            {
                file = Mutate(file, random, applied);
            }

            var options = random.Next(4) switch
            {
                0 => new WeightsLoadOptions { AllowUnexpectedTensors = true },
                1 => new WeightsLoadOptions { AllowNonFiniteWeights = true },
                _ => WeightsLoadOptions.Default,
            };
            bool forwardOnly = random.Next(8) == 0;
            try
            {
                if (LoadAndCheck(file, options, forwardOnly))
                {
                    loaded++;
                }
                else
                {
                    rejected++;
                }

                ReadAndCheck(file);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException(
                    $"mutation {i} (seed {Seed}; {string.Join("; ", applied)}; options {options}; forward-only {forwardOnly}): {e}");
            }
        }

        return (loaded, rejected);
    }

    // True when the network loaded (with every value checked), false when Load threw WeightsFormatException.
    private static bool LoadAndCheck(byte[] file, WeightsLoadOptions options, bool forwardOnly)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        SmallMlp network;
        try
        {
            network = SmallMlp.Load(forwardOnly ? new ForwardOnlyStream(file) : new MemoryStream(file), options);
        }
        catch (WeightsFormatException e)
        {
            Assert.Equal("stream", e.FileName);
            Assert.Contains("stream", e.Message);
            CheckAllocation(file, before);
            return false;
        }

        CheckAllocation(file, before);
        var decoded = DecodeIndependently(file);
        Assert.True(decoded is not null, "Load accepted a file whose header this test cannot decode");
        var saved = new MemoryStream();
        network.Save(saved);
        var values = DecodeIndependently(saved.ToArray())!;
        foreach (var (name, shape) in SmallMlpTensors)
        {
            Assert.True(decoded!.TryGetValue(name, out var expected), $"Load accepted a file without a float tensor '{name}'");
            Assert.Equal(shape.Select(d => (long)d), expected.Shape);
            AssertBitwiseEqual(expected.Values, values[name].Values, name);
            if (!options.AllowNonFiniteWeights)
            {
                Assert.True(expected.Values.All(float.IsFinite), $"Load accepted a non-finite value in '{name}'");
            }
        }

        if (!options.AllowUnexpectedTensors)
        {
            Assert.True(SafetensorsTestFiles.Read(file).TensorNames.Count == SmallMlpTensors.Length, "Load accepted an unexpected tensor");
        }

        return true;
    }

    // SafetensorsFile itself, every tensor of every dtype it converts: the right values or WeightsFormatException.
    private static void ReadAndCheck(byte[] file)
    {
        SafetensorsFile weights;
        try
        {
            weights = SafetensorsTestFiles.Read(file);
        }
        catch (WeightsFormatException)
        {
            return;
        }

        var decoded = DecodeIndependently(file);
        Assert.True(decoded is not null, "SafetensorsFile accepted a file whose header this test cannot decode");
        foreach (var (name, (shape, values)) in decoded!)
        {
            if (shape.Any(d => d > int.MaxValue))
            {
                continue;
            }

            AssertBitwiseEqual(values, weights.GetTensor(name, shape.Select(d => (int)d).ToArray(), 1), name);
        }
    }

    private static void CheckAllocation(byte[] file, long before)
    {
        // The file's bytes, its header's DOM, two copies of every parameter: a small multiple of the file's size.
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long bound = (1 << 20) + 64L * file.Length;
        Assert.True(allocated < bound, $"loading a {file.Length}-byte file allocated {allocated} bytes (bound {bound})");
    }

    private static void AssertBitwiseEqual(float[] expected, float[] actual, string name)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            // NaN payloads survive the float32 path; equal bits, or both NaN after a conversion from F16/BF16/F64.
            bool same = BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]) || (float.IsNaN(expected[i]) && float.IsNaN(actual[i]));
            Assert.True(same, $"tensor '{name}' element {i}: the file says {expected[i]}, the network holds {actual[i]}");
        }
    }

    private static byte[] Mutate(byte[] file, Random random, List<string> applied)
    {
        int headerEnd = file.Length < 8 ? file.Length
            : BinaryPrimitives.ReadUInt64LittleEndian(file) is var declared && declared <= (ulong)(file.Length - 8) ? 8 + (int)declared
            : file.Length;
        switch (random.Next(9))
        {
            case 0:
            {
                if (file.Length == 0)
                {
                    return file;
                }

                var copy = (byte[])file.Clone();
                int at = random.Next(copy.Length);
                copy[at] ^= (byte)(1 << random.Next(8));
                applied.Add($"flip a bit of byte {at}");
                return copy;
            }

            case 1:
            {
                if (headerEnd <= 8)
                {
                    return file;
                }

                var copy = (byte[])file.Clone();
                int at = 8 + random.Next(headerEnd - 8);
                copy[at] = Interesting[random.Next(Interesting.Length)];
                applied.Add($"header byte {at} = 0x{copy[at]:X2}");
                return copy;
            }

            case 2:
            {
                int length = random.Next(file.Length);
                applied.Add($"truncate to {length}");
                return file[..length];
            }

            case 3:
            {
                var tail = new byte[1 + random.Next(16)];
                random.NextBytes(tail);
                applied.Add($"append {tail.Length} bytes");
                return [.. file, .. tail];
            }

            case 4:
            {
                if (file.Length < 8)
                {
                    return file;
                }

                var copy = (byte[])file.Clone();
                ulong length = BinaryPrimitives.ReadUInt64LittleEndian(copy);
                ulong value = random.Next(5) switch
                {
                    0 => length + (ulong)random.Next(1, 5),
                    1 => length - (ulong)random.Next(1, 5),
                    2 => 0,
                    3 => (ulong)random.NextInt64(),
                    _ => 100_000_000,
                };
                BinaryPrimitives.WriteUInt64LittleEndian(copy, value);
                applied.Add($"header length {value}");
                return copy;
            }

            case 5:
            {
                if (headerEnd <= 16)
                {
                    return file;
                }

                // Inject a non-finite F32 value somewhere after the header.
                var copy = (byte[])file.Clone();
                int at = headerEnd + random.Next(Math.Max(1, (copy.Length - headerEnd) / 4)) * 4;
                if (at + 4 > copy.Length)
                {
                    return file;
                }

                float value = random.Next(3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
                BinaryPrimitives.WriteSingleLittleEndian(copy.AsSpan(at), value);
                applied.Add($"{value} at byte {at}");
                return copy;
            }

            default:
                return EditHeaderText(file, headerEnd, random, applied);
        }
    }

    // Edits the header as text, then (usually) fixes the length prefix so that the edit reaches the JSON parser.
    private static byte[] EditHeaderText(byte[] file, int headerEnd, Random random, List<string> applied)
    {
        if (headerEnd <= 8)
        {
            return file;
        }

        string header = Encoding.UTF8.GetString(file, 8, headerEnd - 8);
        if (header.Length == 0)
        {
            return file;
        }

        int at = random.Next(header.Length);
        string edited;
        switch (random.Next(7))
        {
            case 0:
                int digit = header.IndexOfAny("0123456789".ToCharArray(), at);
                edited = digit < 0 ? header : header[..digit] + (char)('0' + random.Next(10)) + header[(digit + 1)..];
                applied.Add($"digit at {digit}");
                break;
            case 1:
                edited = header.Remove(at, 1);
                applied.Add($"delete char {at}");
                break;
            case 2:
                edited = header.Insert(at, ((char)Interesting[random.Next(Interesting.Length - 5)]).ToString());
                applied.Add($"insert at {at}");
                break;
            case 3:
                int number = header.IndexOfAny("0123456789".ToCharArray(), at);
                if (number < 0)
                {
                    edited = header;
                    break;
                }

                int end = number;
                while (end < header.Length && char.IsAsciiDigit(header[end]))
                {
                    end++;
                }

                string replacement = Numbers[random.Next(Numbers.Length)];
                edited = header[..number] + replacement + header[end..];
                applied.Add($"number at {number} = {replacement}");
                break;
            case 4:
                int dtype = header.IndexOf("\"dtype\":\"", at, StringComparison.Ordinal);
                if (dtype < 0)
                {
                    edited = header;
                    break;
                }

                int valueStart = dtype + 9;
                int valueEnd = header.IndexOf('"', valueStart);
                if (valueEnd < 0)
                {
                    edited = header;
                    break;
                }

                string name = DTypes[random.Next(DTypes.Length)];
                edited = header[..valueStart] + name + header[valueEnd..];
                applied.Add($"dtype at {dtype} = {name}");
                break;
            case 5:
                // Duplicate or drop one tensor's entry.
                int entry = header.IndexOf("\":{\"dtype\"", at, StringComparison.Ordinal);
                int nameStart = entry < 0 ? -1 : header.LastIndexOf('"', entry - 1);
                int entryEnd = entry < 0 ? -1 : header.IndexOf('}', entry) + 1;
                if (nameStart < 0 || entryEnd <= 0)
                {
                    edited = header;
                    break;
                }

                string text = header[nameStart..entryEnd];
                bool drop = random.Next(2) == 0;
                edited = drop ? header.Remove(nameStart, entryEnd - nameStart) : header.Insert(entryEnd, "," + text);
                applied.Add($"{(drop ? "drop" : "duplicate")} entry at {nameStart}");
                break;
            default:
                int quote = header.IndexOf("\"fc", at, StringComparison.Ordinal);
                edited = quote < 0 ? header : header[..(quote + 1)] + "gc" + header[(quote + 3)..];
                applied.Add($"rename at {quote}");
                break;
        }

        byte[] headerBytes = Encoding.UTF8.GetBytes(edited);
        byte[] result = [.. file[..8], .. headerBytes, .. file[headerEnd..]];
        if (random.Next(10) < 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)headerBytes.Length);
        }

        return result;
    }

    // F16, BF16 and F64 tensors, metadata, and a header whose order differs from the data's order.
    private static byte[] MixedDTypes()
    {
        var tensors = ValidTensors(2);
        var mixed = new List<TensorBytes>();
        for (int t = 0; t < tensors.Count; t++)
        {
            var floats = new float[tensors[t].Bytes.Length / 4];
            for (int i = 0; i < floats.Length; i++)
            {
                floats[i] = BinaryPrimitives.ReadSingleLittleEndian(tensors[t].Bytes.AsSpan(4 * i));
            }

            mixed.Add((t % 3) switch
            {
                0 => new TensorBytes(tensors[t].Name, "F16", tensors[t].Shape, floats.SelectMany(f => BitConverter.GetBytes((Half)f)).ToArray()),
                1 => new TensorBytes(tensors[t].Name, "F64", tensors[t].Shape, floats.SelectMany(f => BitConverter.GetBytes((double)f)).ToArray()),
                _ => new TensorBytes(tensors[t].Name, "BF16", tensors[t].Shape, floats.SelectMany(f => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(f) >> 16))).ToArray()),
            });
        }

        var (header, data) = Layout(mixed, metadata: "{\"format\":\"pt\",\"note\":\"mixed\"}");
        var root = System.Text.Json.Nodes.JsonNode.Parse(header)!.AsObject();
        var reordered = new System.Text.Json.Nodes.JsonObject();
        foreach (var (name, value) in root.Reverse().ToList())
        {
            root.Remove(name);
            reordered[name] = value;
        }

        return SafetensorsTestFiles.Build(reordered.ToJsonString(), data);
    }

    private static byte[] WrittenByTheWriter()
    {
        var stream = new MemoryStream();
        SmallMlp.CreateRandom(seed: 3).Save(stream);
        return stream.ToArray();
    }
}
