using System;
using System.ComponentModel;

namespace NigGen.Attribution;

/// <summary>
/// Ablation of attribute-layer neurons: the network's output with chosen neurons fixed to their values at a baseline,
/// the test of whether a ranking finds the neurons that matter. The generated ablated forward pass
/// (<see cref="NetworkWorkspace.ForwardAblated"/>) runs the input in row 0 and the baseline in row 1 and calls
/// <see cref="FixToBaseline"/> at every attribute layer.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class NeuronAblation
{
    /// <summary>Workspace capacity ablation needs: the input and the baseline.</summary>
    public const int Capacity = 2;

    /// <summary>The output for <paramref name="input"/> with <paramref name="neurons"/> (indices into the importance vector) fixed to their values at <paramref name="baseline"/>.</summary>
    public static void Ablate(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, ReadOnlySpan<int> neurons, Span<float> output)
    {
        network.RequireSample(input.Length, nameof(input));
        network.RequireSample(baseline.Length, nameof(baseline));
        network.RequireLength(output.Length, network.OutputLength, nameof(output), "OutputLength");
        for (int i = 0; i < neurons.Length; i++)
        {
            if ((uint)neurons[i] >= (uint)network.ImportanceLength)
            {
                throw new ArgumentOutOfRangeException(nameof(neurons), neurons[i], $"neurons[{i}] = {neurons[i]}, but {network.Name} has {network.ImportanceLength} neurons in its attribute layers: every neuron must be in [0, {network.ImportanceLength}).");
            }
        }

        network.RequireFinite(input, nameof(input));
        network.RequireFinite(baseline, nameof(baseline));
        input.CopyTo(ws.Inputs);
        baseline.CopyTo(ws.Inputs.AsSpan(network.InputLength));
        ws.ForwardAblated(neurons);
        ws.Outputs(1).CopyTo(output);
    }

    /// <summary>
    /// Sets the listed neurons of the first row of <paramref name="values"/> (two rows: input, baseline) to the second
    /// row's values. Neurons outside [<paramref name="offset"/>, offset + row length) belong to other layers and are skipped.
    /// </summary>
    /// <param name="values">One attribute layer's values: two rows (input, baseline).</param>
    /// <param name="neurons">Indices into the importance vector.</param>
    /// <param name="offset">Where this layer's neurons start in the importance vector.</param>
    public static void FixToBaseline(Span<float> values, ReadOnlySpan<int> neurons, int offset)
    {
        int length = values.Length / 2;
        foreach (int neuron in neurons)
        {
            int index = neuron - offset;
            if ((uint)index < (uint)length)
            {
                values[index] = values[length + index];
            }
        }
    }
}
