using System;
using System.IO;

namespace NigGen.Weights;

/// <summary>
/// A weights file or weight source cannot supply a tensor: the file is malformed or truncated, or a tensor is missing,
/// has another shape than the network expects, or is stored in a type NigGen does not read. The message names the
/// source, the tensor and the problem.
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
}
