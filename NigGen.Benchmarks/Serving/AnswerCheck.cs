using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace NigGen.Benchmarks.Serving;

/// <summary>
/// Checks every answer of a load run against the library's own numbers: a wrong answer, or any status but 200, fails
/// the run. Each client's first answer is read in full (its JSON part and its binary importance and delta, bit for bit
/// against the library called directly); every later answer of that client must then be byte-identical to it, which
/// costs a memory comparison, not a parse.
/// </summary>
internal sealed class AnswerCheck
{
    private readonly byte[][] _expectedBinary;
    private readonly byte[]?[] _verified;

    /// <param name="importances">The library's importances for each client's sequence (clients × ImportanceLength).</param>
    /// <param name="deltas">The library's deltas, one per client.</param>
    public AnswerCheck(float[] importances, float[] deltas)
    {
        int clients = deltas.Length, length = importances.Length / clients;
        _expectedBinary = new byte[clients][];
        _verified = new byte[clients][];
        for (int c = 0; c < clients; c++)
        {
            // The server's binary section: importance then delta, little-endian FP32, in the order the request names them.
            _expectedBinary[c] = [.. MemoryMarshal.AsBytes(importances.AsSpan(c * length, length)), .. MemoryMarshal.AsBytes(deltas.AsSpan(c, 1))];
        }
    }

    public int Clients => _expectedBinary.Length;

    /// <summary>Throws an <see cref="InvalidDataException"/> naming what is wrong unless the answer is the library's. Each client calls it from one thread.</summary>
    public void Verify(int client, int status, ReadOnlySpan<byte> body, int jsonLength)
    {
        if (status != 200)
        {
            throw new InvalidDataException($"client {client}: the server answered {status}: {Encoding.UTF8.GetString(body[..Math.Min(body.Length, 500)])}");
        }

        if (_verified[client] is { } verified)
        {
            if (!body.SequenceEqual(verified))
            {
                throw new InvalidDataException($"client {client}: the answer differs from the client's first answer (and the library's) from byte {Math.Max(0, body.CommonPrefixLength(verified))} of {body.Length}.");
            }

            return;
        }

        var expected = _expectedBinary[client];
        if (jsonLength < 0 || jsonLength > body.Length)
        {
            throw new InvalidDataException($"client {client}: the answer has no usable Inference-Header-Content-Length ({jsonLength}) for its {body.Length} bytes.");
        }

        RequireHeader(client, body[..jsonLength].ToArray(), (expected.Length - sizeof(float)) / sizeof(float));
        var binary = body[jsonLength..];
        if (!binary.SequenceEqual(expected))
        {
            throw new InvalidDataException($"client {client}: the binary importance and delta ({binary.Length} bytes) differ from the library's ({expected.Length} bytes) from byte {binary.CommonPrefixLength(expected)}.");
        }

        _verified[client] = body.ToArray();
    }

    // The JSON part: the model, and importance [1, length] then delta [1], both FP32 binary data of the right size.
    private static void RequireHeader(int client, byte[] json, int importanceLength)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        string Fail(string what) => throw new InvalidDataException($"client {client}: the answer's JSON {what}: {Encoding.UTF8.GetString(json)}");
        if (!root.TryGetProperty("model_name", out var name) || name.GetString() != ServeLoad.ModelName)
        {
            Fail($"does not name the model {ServeLoad.ModelName}");
        }

        if (!root.TryGetProperty("outputs", out var outputs) || outputs.GetArrayLength() != 2)
        {
            Fail("does not hold two outputs");
        }

        var expected = new[] { ("importance", new[] { 1, importanceLength }), ("delta", new[] { 1 }) };
        for (int i = 0; i < 2; i++)
        {
            var output = outputs[i];
            var (outputName, shape) = expected[i];
            bool matches = output.GetProperty("name").GetString() == outputName
                && output.GetProperty("datatype").GetString() == "FP32"
                && output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).SequenceEqual(shape)
                && output.GetProperty("parameters").GetProperty("binary_data_size").GetInt64() == (long)shape[^1] * sizeof(float);
            if (!matches)
            {
                Fail($"output {i} is not {outputName} FP32 [{string.Join(", ", shape)}] as binary data");
            }
        }
    }
}
