using System;
using System.IO;

namespace NigGen.Weights;

/// <summary>
/// A weights file or weight source cannot supply a network's parameters: the file is malformed or truncated, or a
/// tensor is missing, unexpected, has another shape than the network expects, is stored in a type NigGen does not
/// read, or holds a NaN or an infinity. The message names the source, the tensor and the problem; <see cref="FileName"/>
/// and <see cref="TensorName"/> hold the first two for code that reports them. See docs/RELIABILITY.md.
/// </summary>
/// <remarks>
/// Derives from <see cref="IOException"/> (<see cref="InvalidDataException"/> is sealed), so code that handles a weights
/// file that cannot be opened also handles one that cannot be read.
/// </remarks>
public sealed class WeightsFormatException : IOException
{
    /// <summary>Creates the exception with a message that describes the problem.</summary>
    /// <param name="message">What is wrong, naming the source and the tensor.</param>
    public WeightsFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What is wrong, naming the source and the tensor.</param>
    /// <param name="innerException">The underlying error, for example the JSON parser's.</param>
    public WeightsFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a message, the source it is about and the tensor it is about.</summary>
    /// <param name="message">What is wrong, naming the source and the tensor.</param>
    /// <param name="fileName">The file's path, or the name given to a stream; <see langword="null"/> when unknown.</param>
    /// <param name="tensorName">The tensor at fault; <see langword="null"/> when the problem is not one tensor's.</param>
    /// <param name="innerException">The underlying error, for example the JSON parser's; <see langword="null"/> when none.</param>
    public WeightsFormatException(string message, string? fileName, string? tensorName, Exception? innerException = null)
        : base(message, innerException)
    {
        FileName = fileName;
        TensorName = tensorName;
    }

    /// <summary>The file's path, or the name given to a stream (<c>"stream"</c> for a generated <c>Load(Stream)</c>); <see langword="null"/> when not known.</summary>
    public string? FileName { get; }

    /// <summary>The tensor at fault, such as <c>fc1.weight</c>; <see langword="null"/> when the problem concerns the whole file (its header length, its JSON, its layout).</summary>
    public string? TensorName { get; }
}
