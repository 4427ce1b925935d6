using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Text;

namespace NigGen.Weights;

/// <summary>
/// The generated <c>Load</c> methods: reads a safetensors file, creates the network from it, and applies
/// <see cref="WeightsLoadOptions"/> (every tensor finite, none the network does not read).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WeightsLoader
{
    private const int NamesListed = 10;

    /// <summary>Loads a network from the safetensors file at <paramref name="path"/>.</summary>
    /// <exception cref="WeightsFormatException">The file is malformed or does not hold the network's parameters as <paramref name="options"/> require.</exception>
    public static TNetwork Load<TNetwork>(string path, WeightsLoadOptions options, string networkName, Func<IWeightSource, TNetwork> create)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        return Load(SafetensorsFile.Read(path), options, networkName, create);
    }

    /// <summary>Loads a network from a stream holding a safetensors file; error messages call it <c>stream</c>.</summary>
    /// <exception cref="WeightsFormatException">The stream is malformed or does not hold the network's parameters as <paramref name="options"/> require.</exception>
    public static TNetwork Load<TNetwork>(Stream stream, WeightsLoadOptions options, string networkName, Func<IWeightSource, TNetwork> create)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        return Load(SafetensorsFile.Read(stream, "stream"), options, networkName, create);
    }

    /// <summary>Creates a network from an already read file.</summary>
    /// <exception cref="WeightsFormatException">The file does not hold the network's parameters as <paramref name="options"/> require.</exception>
    public static TNetwork Load<TNetwork>(SafetensorsFile file, WeightsLoadOptions options, string networkName, Func<IWeightSource, TNetwork> create)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(networkName);
        ArgumentNullException.ThrowIfNull(create);

        var source = new CheckedSource(file, options.AllowNonFiniteWeights);
        TNetwork network = create(source);
        if (!options.AllowUnexpectedTensors)
        {
            // After construction, so that a missing or misshapen tensor (the likelier mistake) is reported first.
            RequireNoneUnread(file, source.Read, networkName);
        }

        return network;
    }

    private static void RequireNoneUnread(SafetensorsFile file, HashSet<string> read, string networkName)
    {
        List<string>? unread = null;
        foreach (string name in file.TensorNames)
        {
            if (!read.Contains(name))
            {
                (unread ??= []).Add(name);
            }
        }

        if (unread is null)
        {
            return;
        }

        var message = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{file.SourceName}: tensor '{Shorten(unread[0])}' is not a parameter of {networkName}");
        if (unread.Count > 1)
        {
            message.Append(" (nor are ");
            for (int i = 1; i < Math.Min(unread.Count, NamesListed); i++)
            {
                message.Append(i == 1 ? "" : ", ").Append('\'').Append(Shorten(unread[i])).Append('\'');
            }

            if (unread.Count > NamesListed)
            {
                message.Append(CultureInfo.InvariantCulture, $", … ({unread.Count - NamesListed} more)");
            }

            message.Append(')');
        }

        message.Append("; the file may belong to another network or a layer may have been renamed. Load with WeightsLoadOptions { AllowUnexpectedTensors = true } to ignore tensors the network does not read.");
        throw new WeightsFormatException(message.ToString(), file.SourceName, unread[0]);
    }

    private static string Shorten(string name) => name.Length <= 200 ? name : string.Concat(name.AsSpan(0, 200), "…");

    // Records the tensors the network asks for, and checks each one's values unless non-finite weights are allowed.
    private sealed class CheckedSource(SafetensorsFile file, bool allowNonFinite) : IWeightSource
    {
        public HashSet<string> Read { get; } = new(StringComparer.Ordinal);

        public float[] GetTensor(string name, int[] shape, int fanIn)
        {
            float[] values = file.GetTensor(name, shape, fanIn);
            Read.Add(name);
            if (!allowNonFinite)
            {
                int bad = FiniteValues.IndexOfNonFinite(values);
                if (bad >= 0)
                {
                    throw new WeightsFormatException(
                        $"{file.SourceName}: tensor '{name}' holds {FiniteValues.Describe(values[bad])} at element {bad} {Coordinates(bad, shape)}"
                        + " (an F64 value beyond float32's range also becomes infinite). Load with WeightsLoadOptions { AllowNonFiniteWeights = true } to accept it.",
                        file.SourceName,
                        name);
                }
            }

            return values;
        }

        public float[] GetTensor(string name, int[] shape, float initialValue) => GetTensor(name, shape, fanIn: 1);

        public long GetInt64Scalar(string name)
        {
            long value = file.GetInt64Scalar(name);
            Read.Add(name);
            return value;
        }

        private static string Coordinates(int index, int[] shape)
        {
            var coordinates = new int[shape.Length];
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                coordinates[d] = index % shape[d];
                index /= shape[d];
            }

            return "[" + string.Join(", ", coordinates) + "]";
        }
    }
}
