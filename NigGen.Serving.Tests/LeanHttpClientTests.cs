using System;
using System.IO;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using NigGen.Benchmarks.Serving;
using Xunit;

namespace NigGen.Serving.Tests;

/// <summary>The load generator's lean HTTP/1.1 client: canned responses, byte by byte and back to back, its errors, and a real server.</summary>
public sealed class LeanHttpClientTests
{
    /// <summary>A stream that hands out at most <paramref name="chunk"/> bytes per read, as a socket may.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);
    }

    private static LeanHttpClient Canned(string text, int chunk = int.MaxValue) => new(new TrickleStream(Encoding.ASCII.GetBytes(text), chunk));

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(7)]
    public void ReadsTheStatusTheBodyAndTheJsonLengthHoweverTheBytesArrive(int chunk)
    {
        using var client = Canned("HTTP/1.1 200 OK\r\ncontent-length: 12\r\nInference-Header-Content-Length: 4\r\nContent-Type: application/octet-stream\r\n\r\n{\"a\"}BINARY!", chunk);
        var (status, body, jsonLength) = client.ReadResponse();
        Assert.Equal(200, status);
        Assert.Equal("{\"a\"}BINARY!", Encoding.ASCII.GetString(body.Span));
        Assert.Equal(4, jsonLength);
    }

    [Fact]
    public void ReadsResponsesBackToBackOnOneConnection()
    {
        using var client = Canned("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\nHTTP/1.1 503 \r\nContent-Length: 2\r\n\r\nzz");
        var first = client.ReadResponse();
        Assert.Equal((200, "abc", -1), (first.Status, Encoding.ASCII.GetString(first.Body.Span), first.JsonLength));
        var second = client.ReadResponse();
        Assert.Equal((400, 0), (second.Status, second.Body.Length));
        var third = client.ReadResponse();
        Assert.Equal((503, "zz"), (third.Status, Encoding.ASCII.GetString(third.Body.Span)));
    }

    [Fact]
    public void ABodyLargerThanTheBufferIsReadWhole()
    {
        string body = new('x', 200_000);
        using var client = Canned($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}", chunk: 65_000);
        var (status, read, _) = client.ReadResponse();
        Assert.Equal(200, status);
        Assert.Equal(body, Encoding.ASCII.GetString(read.Span));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "the response has Transfer-Encoding: chunked; this client reads Content-Length bodies only.")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", "the 200 response has no Content-Length header.")]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", "the status line 'HTTP/1.0 200 OK' is not 'HTTP/1.1 <three-digit status> <reason>'.")]
    [InlineData("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", "the status line 'HTTP/1.1 2000 OK' is not 'HTTP/1.1 <three-digit status> <reason>'.")]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n", "the server answered 100; this client reads final responses only.")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "Content-Length is '-5'; this client reads a whole number of bytes up to 67108864.")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "Content-Length is '99999999999'; this client reads a whole number of bytes up to 67108864.")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nInference-Header-Content-Length: 3\r\n\r\nab", "Inference-Header-Content-Length is 3, more than the body's 2 bytes.")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "the header line 'no colon here' has no name and colon.")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "the server closed the connection after 42 bytes, while the client was reading the body (10 bytes by Content-Length).")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Len", "the server closed the connection after 28 bytes, while the client was reading the status line and headers.")]
    public void AnythingElseFailsWithAMessageNamingIt(string response, string message)
    {
        using var client = Canned(response);
        var error = Assert.Throws<InvalidDataException>(() => client.ReadResponse());
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void HeadersLongerThanTheLimitFail()
    {
        using var client = Canned("HTTP/1.1 200 OK\r\nX-Long: " + new string('a', LeanHttpClient.MaxHeaderBytes) + "\r\n\r\n");
        var error = Assert.Throws<InvalidDataException>(() => client.ReadResponse());
        Assert.Equal($"the response's status line and headers are longer than {LeanHttpClient.MaxHeaderBytes} bytes.", error.Message);
    }

    [Fact]
    public void BuildsTheRequestBytesOnce()
    {
        byte[] request = LeanHttpClient.BuildRequest("POST", "127.0.0.1:80", "/v2/models/M/infer", "{}"u8, ("Inference-Header-Content-Length", "2"));
        Assert.Equal("POST /v2/models/M/infer HTTP/1.1\r\nHost: 127.0.0.1:80\r\nInference-Header-Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", Encoding.ASCII.GetString(request));
    }

    [Fact]
    public async Task GetsTheSameAnswersFromARealServerAsHttpClientOverOneKeptAliveConnection()
    {
        await using var server = await TestServer.StartAsync();
        string json = Requests.Json(Requests.Samples(2, 9), ["importance", "delta"]);
        var (expectedStatus, expected) = await server.PostAsync(Requests.TinyInfer, json);
        Assert.Equal(200, expectedStatus);

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Address.Host, server.Address.Port);
        using var client = new LeanHttpClient(new NetworkStream(socket, ownsSocket: true));
        byte[] request = LeanHttpClient.BuildRequest("POST", server.Address.Authority, Requests.TinyInfer, Encoding.UTF8.GetBytes(json), ("Content-Type", "application/json"));
        for (int i = 0; i < 3; i++)
        {
            var (status, body, jsonLength) = client.Send(request);
            Assert.Equal((200, -1), (status, jsonLength));
            Assert.Equal(expected!.ToJsonString(), JsonNode.Parse(body.Span)!.ToJsonString());
        }

        // An error answer on the same connection is read as such.
        var (errorStatus, errorBody, _) = client.Send(LeanHttpClient.BuildRequest("POST", server.Address.Authority, "/v2/models/NoSuchNet/infer", "{}"u8));
        Assert.Equal(404, errorStatus);
        Assert.Contains("unknown model 'NoSuchNet'", Encoding.UTF8.GetString(errorBody.Span));
    }
}
