using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Weights;

/// <summary>Builds safetensors files byte by byte, so that tests control every field.</summary>
internal static class SafetensorsTestFiles
{
    public static byte[] Build(string header, byte[] data) => Build(Encoding.UTF8.GetBytes(header), data);

    public static byte[] Build(string header, int dataLength) => Build(header, new byte[dataLength]);

    public static byte[] Build(byte[] header, byte[] data)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    public static SafetensorsFile Read(byte[] file) => SafetensorsFile.Read(new MemoryStream(file), "stream");

    public static string ReadFails(byte[] file) =>
        Assert.Throws<WeightsFormatException>(() => Read(file)).Message;

    /// <summary>The header text and the data bytes of a file written by <see cref="SafetensorsWriter"/>.</summary>
    public static (string Header, byte[] Data) Split(byte[] file)
    {
        int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(file));
        return (Encoding.UTF8.GetString(file, 8, length), file[(8 + length)..]);
    }

    public static byte[] Write(SafetensorsWriter writer)
    {
        var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }
}

/// <summary>A read-only stream that cannot seek, like a network or pipe stream.</summary>
internal sealed class ForwardOnlyStream : Stream
{
    private readonly MemoryStream _inner;

    public ForwardOnlyStream(byte[] bytes) => _inner = new MemoryStream(bytes);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    // Returns at most 3 bytes a call, to exercise the reader's handling of short reads.
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 3));
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
