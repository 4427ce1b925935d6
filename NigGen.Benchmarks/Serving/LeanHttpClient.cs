using System;
using System.Globalization;
using System.IO;
using System.Text;

namespace NigGen.Benchmarks.Serving;

/// <summary>
/// A lean HTTP/1.1 keep-alive client for the load generator, in the spirit of wrk and Triton's perf_analyzer: one
/// connection, the request's bytes built once and sent as they are, the answer read into one reused buffer (status line,
/// headers, a Content-Length body). It spends a few microseconds of core time per request where HttpClient spends tens,
/// so that a load test on the server's own cores measures the server, not the client.
/// <para>
/// It reads only what the server under test sends: a Content-Length body (never chunked), no 1xx responses. Anything
/// else fails loudly with an <see cref="InvalidDataException"/> naming what was wrong, so a load run never counts an
/// answer it did not read.
/// </para>
/// </summary>
/// <remarks>Also compiled into NigGen.Serving.Tests (linked), which tests it against canned bytes and a real server.</remarks>
internal sealed class LeanHttpClient(Stream connection) : IDisposable
{
    /// <summary>Longest status line and headers together that the client reads.</summary>
    public const int MaxHeaderBytes = 16 * 1024;

    /// <summary>Largest response body the client reads (64 MiB): a larger Content-Length fails the run.</summary>
    public const int MaxBodyBytes = 64 * 1024 * 1024;

    private byte[] _buffer = new byte[64 * 1024];
    private int _filled;     // bytes in _buffer
    private int _consumed;   // bytes of _buffer that belong to earlier responses

    /// <summary>The whole request (request line, headers, body) as bytes, built once and sent unchanged every time.</summary>
    public static byte[] BuildRequest(string method, string host, string path, ReadOnlySpan<byte> body, params (string Name, string Value)[] headers)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        if (body.Length > 0 || method == "POST")
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        }

        head.Append("\r\n");
        byte[] headBytes = Encoding.ASCII.GetBytes(head.ToString());
        var request = new byte[headBytes.Length + body.Length];
        headBytes.CopyTo(request, 0);
        body.CopyTo(request.AsSpan(headBytes.Length));
        return request;
    }

    /// <summary>Sends <paramref name="request"/> (from <see cref="BuildRequest"/>) and reads the answer.</summary>
    /// <returns>The status, the body (valid until the next call) and the Inference-Header-Content-Length header (−1 without one).</returns>
    public (int Status, ReadOnlyMemory<byte> Body, int JsonLength) Send(byte[] request)
    {
        connection.Write(request);
        return ReadResponse();
    }

    /// <summary>Reads one response from the connection.</summary>
    public (int Status, ReadOnlyMemory<byte> Body, int JsonLength) ReadResponse()
    {
        // What is left of an earlier read belongs to this response: move it to the front.
        if (_consumed > 0)
        {
            _buffer.AsSpan(_consumed, _filled - _consumed).CopyTo(_buffer);
            _filled -= _consumed;
            _consumed = 0;
        }

        int headerEnd;
        while ((headerEnd = _buffer.AsSpan(0, _filled).IndexOf("\r\n\r\n"u8)) < 0 && _filled < MaxHeaderBytes)
        {
            Fill(_buffer.Length, "the status line and headers"); // as much as arrives: usually the whole answer in one read
        }

        if (headerEnd < 0 || headerEnd > MaxHeaderBytes)
        {
            throw new InvalidDataException($"the response's status line and headers are longer than {MaxHeaderBytes} bytes.");
        }

        var (status, contentLength, jsonLength) = ParseHead(_buffer.AsSpan(0, headerEnd));
        int bodyStart = headerEnd + 4;
        int bodyEnd = bodyStart + contentLength;
        if (_buffer.Length < bodyEnd)
        {
            Array.Resize(ref _buffer, bodyEnd);
        }

        while (_filled < bodyEnd)
        {
            Fill(bodyEnd, $"the body ({contentLength} bytes by Content-Length)");
        }

        _consumed = bodyEnd;
        return (status, _buffer.AsMemory(bodyStart, contentLength), jsonLength);
    }

    // Reads more bytes into the buffer, up to limit; a closed connection is an error, as the answer is not complete.
    private void Fill(int limit, string reading)
    {
        int read = connection.Read(_buffer, _filled, limit - _filled);
        if (read == 0)
        {
            throw new InvalidDataException($"the server closed the connection after {_filled - _consumed} bytes, while the client was reading {reading}.");
        }

        _filled += read;
    }

    /// <summary>The status and the headers the client needs from a response's head (status line and headers, without the blank line).</summary>
    internal static (int Status, int ContentLength, int JsonLength) ParseHead(ReadOnlySpan<byte> head)
    {
        int lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = lineEnd < 0 ? head : head[..lineEnd];

        // "HTTP/1.1 200 OK": the version, a space, three digits, then a space and a reason (which may be empty) or nothing.
        if (!statusLine.StartsWith("HTTP/1.1 "u8) || statusLine.Length < 12 || (statusLine.Length > 12 && statusLine[12] != (byte)' ')
            || !int.TryParse(statusLine.Slice(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int status))
        {
            throw new InvalidDataException($"the status line '{Printable(statusLine)}' is not 'HTTP/1.1 <three-digit status> <reason>'.");
        }

        if (status < 200)
        {
            throw new InvalidDataException($"the server answered {status}; this client reads final responses only.");
        }

        int contentLength = -1, jsonLength = -1;
        var rest = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        while (rest.Length > 0)
        {
            int end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new InvalidDataException($"the header line '{Printable(line)}' has no name and colon.");
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                contentLength = ParseLength(value, "Content-Length", MaxBodyBytes);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Inference-Header-Content-Length"u8))
            {
                jsonLength = ParseLength(value, "Inference-Header-Content-Length", MaxBodyBytes);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                throw new InvalidDataException($"the response has Transfer-Encoding: {Printable(value)}; this client reads Content-Length bodies only.");
            }
        }

        if (contentLength < 0)
        {
            throw new InvalidDataException($"the {status} response has no Content-Length header.");
        }

        if (jsonLength > contentLength)
        {
            throw new InvalidDataException($"Inference-Header-Content-Length is {jsonLength}, more than the body's {contentLength} bytes.");
        }

        return (status, contentLength, jsonLength);
    }

    private static int ParseLength(ReadOnlySpan<byte> value, string header, int max)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int length) || length > max)
        {
            throw new InvalidDataException($"{header} is '{Printable(value)}'; this client reads a whole number of bytes up to {max}.");
        }

        return length;
    }

    // Response bytes in an error message: ASCII as it is, anything else as '?', cut at 80 characters.
    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (byte b in bytes[..Math.Min(bytes.Length, 80)])
        {
            text.Append(b is >= 0x20 and < 0x7f ? (char)b : '?');
        }

        return bytes.Length > 80 ? text.Append("...").ToString() : text.ToString();
    }

    public void Dispose() => connection.Dispose();
}
