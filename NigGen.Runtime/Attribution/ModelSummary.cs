using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace NigGen.Attribution;

/// <summary>
/// The model summary <see cref="NetworkDescription.ToString"/> prints, in the spirit of PyTorch's <c>print(model)</c>
/// and Keras' <c>summary()</c>: one row per layer (name, declaration, the layers it reads, output shape, parameters,
/// whether it is scored, weight names and shapes), then the total parameter count and the scored layers with their
/// ranges in the importance vector. Invariant culture throughout, so it reads the same on every machine.
/// </summary>
internal static class ModelSummary
{
    private static readonly string[] Header = ["layer", "kind", "input", "output", "parameters", "scored", "weights"];

    // Right-aligned columns: the numbers.
    private static readonly bool[] RightAligned = [false, false, false, false, true, false, false];

    public static string Format(NetworkDescription network)
    {
        var rows = new List<string[]> { Header, Array.Empty<string>() }; // the rule under the header is filled in once the widths are known
        foreach (var layer in network.Layers)
        {
            rows.Add(
            [
                layer.Name,
                layer.Declaration,
                string.Join(", ", layer.Inputs),
                NetworkDescription.Format(layer.OutputShape),
                Number(layer.ParameterCount),
                layer.Attribution is null ? string.Empty : Point(layer.Attribution),
                string.Join(", ", layer.Weights),
            ]);
        }

        var widths = Enumerable.Range(0, Header.Length).Select(c => rows.Where(r => r.Length > 0).Max(r => r[c].Length)).ToArray();
        rows[1] = widths.Select(w => new string('-', w)).ToArray();

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{network.Name}: input {NetworkDescription.Format(network.InputShape)} → output {NetworkDescription.Format(network.OutputShape)}\n\n");
        foreach (var row in rows)
        {
            var line = new StringBuilder();
            for (int c = 0; c < row.Length; c++)
            {
                if (c > 0)
                {
                    line.Append("  ");
                }

                line.Append(RightAligned[c] ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c]));
            }

            text.Append(line.ToString().TrimEnd()).Append('\n');
        }

        text.Append('\n');
        text.Append("Total parameters: ").Append(Number(network.ParameterCount)).Append('\n');
        text.Append("Scored ([AttributeLayer]): ");
        text.Append(network.AttributeLayers.Count == 0
            ? "none"
            : string.Join(", ", network.AttributeLayers.Select(a =>
                string.Create(CultureInfo.InvariantCulture, $"{a.Name} {Point(a)} ({Number(a.Length)} neuron{(a.Length == 1 ? "" : "s")}, importance[{a.Offset}] to importance[{a.Offset + a.Length - 1}])"))));
        return text.ToString();
    }

    private static string Point(AttributeLayerInfo layer) => layer.PreActivation ? "pre-activation" : "output";

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
