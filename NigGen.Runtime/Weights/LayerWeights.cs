using System;
using System.ComponentModel;
using System.IO;

namespace NigGen.Weights;

/// <summary>Writes a network's layers as a safetensors file with PyTorch's names (<c>layer.weight</c>, <c>layer.bias</c>) and layouts.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class LayerWeights
{
    /// <summary>Writes the parameters of <paramref name="layers"/> to <paramref name="stream"/> (F32).</summary>
    public static void Save(Stream stream, ReadOnlySpan<Layer> layers) => Writer(layers).WriteTo(stream);

    /// <summary>Writes the parameters of <paramref name="layers"/> to the file <paramref name="path"/> (F32).</summary>
    public static void Save(string path, ReadOnlySpan<Layer> layers) => Writer(layers).Save(path);

    private static SafetensorsWriter Writer(ReadOnlySpan<Layer> layers)
    {
        var writer = new SafetensorsWriter();
        foreach (var layer in layers)
        {
            int[] shape = [.. layer.WeightShape];
            if (!layer.Weight.IsEmpty)
            {
                writer.Add(layer.Name + ".weight", shape, layer.Weight);
            }

            if (!layer.Bias.IsEmpty)
            {
                writer.Add(layer.Name + ".bias", [layer.Bias.Length], layer.Bias);
            }

            if (layer.IsBatchNorm)
            {
                writer.Add(layer.Name + ".running_mean", [layer.RunningMean.Length], layer.RunningMean);
                writer.Add(layer.Name + ".running_var", [layer.RunningVariance.Length], layer.RunningVariance);
                writer.AddInt64(layer.Name + ".num_batches_tracked", [], [layer.BatchesTracked]);
            }
        }

        return writer;
    }
}
