using System;
using System.Collections.Generic;
using System.Text.Json;
using NigGen.Attribution;
using NigGen.Sample.Genomics;

namespace NigGen.Sample.Scoring;

/// <summary>
/// One JSON object per scored sequence, written with <see cref="Utf8JsonWriter"/> (no reflection, so Native AOT needs
/// nothing generated):
/// <code>
/// {"id":"test-0","probabilities":{"both":0.01,"gata":0.98,"tal1":0.02},
///  "explanations":[{"task":"gata","probability":0.98,"delta":-2.1E-05,
///    "layers":[{"layer":"conv1","top":[{"neuron":"conv1[7, 34]","coordinates":[7,34],"importance":0.52},…]},
///              {"layer":"fc1","top":[…]}]}]}
/// </code>
/// "top" lists the layer's k neurons of largest |importance| (signed values: negative ones argue against the task);
/// "delta" is the completeness delta Σ importance − (F(x) − F(x')) of the layer where it is largest.
/// </summary>
public static class ScoreJson
{
    /// <summary>Writes sequence <paramref name="sample"/> of <paramref name="batch"/> as one object (no newline).</summary>
    public static void Write(Utf8JsonWriter writer, string id, ScoredBatch batch, int sample, int top)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteStartObject("probabilities");
        for (int t = 0; t < Tasks.Count; t++)
        {
            writer.WriteNumber(Tasks.Names[t], batch.Probability(sample, t));
        }

        writer.WriteEndObject();
        writer.WriteStartArray("explanations");
        for (int k = 0; k < batch.ExplanationCount; k++)
        {
            if (batch.SampleOf(k) == sample)
            {
                WriteExplanation(writer, batch, k, top);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteExplanation(Utf8JsonWriter writer, ScoredBatch batch, int k, int top)
    {
        int task = batch.TaskOf(k);
        writer.WriteStartObject();
        writer.WriteString("task", Tasks.Names[task]);
        writer.WriteNumber("probability", batch.Probability(batch.SampleOf(k), task));
        writer.WriteNumber("delta", batch.Delta(k));
        writer.WriteStartArray("layers");
        var importance = batch.Importance(k);
        foreach (var layer in RegulatoryNet.Description.AttributeLayers)
        {
            writer.WriteStartObject();
            writer.WriteString("layer", layer.Name);
            writer.WriteStartArray("top");
            var values = importance.Slice(layer.Offset, layer.Length);
            foreach (int index in TopByMagnitude(values, top))
            {
                writer.WriteStartObject();
                writer.WriteString("neuron", RegulatoryNet.Description.DescribeNeuron(layer.Offset + index));
                writer.WriteStartArray("coordinates");
                foreach (int coordinate in Coordinates(layer, index))
                {
                    writer.WriteNumberValue(coordinate);
                }

                writer.WriteEndArray();
                writer.WriteNumber("importance", values[index]);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The indices of the <paramref name="count"/> values of largest magnitude, largest first (lower index first on ties).</summary>
    public static int[] TopByMagnitude(ReadOnlySpan<float> values, int count)
    {
        count = Math.Min(count, values.Length);
        var best = new List<int>(count + 1);
        for (int i = 0; i < values.Length; i++)
        {
            float magnitude = Math.Abs(values[i]);
            int at = best.Count;
            while (at > 0 && Math.Abs(values[best[at - 1]]) < magnitude)
            {
                at--;
            }

            if (at < count)
            {
                best.Insert(at, i);
                if (best.Count > count)
                {
                    best.RemoveAt(count);
                }
            }
        }

        return best.ToArray();
    }

    /// <summary>A neuron's index within its layer as coordinates in the layer's shape (channel first).</summary>
    public static int[] Coordinates(AttributeLayerInfo layer, int index)
    {
        var coordinates = new int[layer.Shape.Count];
        for (int d = coordinates.Length - 1; d >= 0; d--)
        {
            coordinates[d] = index % layer.Shape[d];
            index /= layer.Shape[d];
        }

        return coordinates;
    }
}
