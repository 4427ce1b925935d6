using System;
using System.ComponentModel;
using System.Numerics.Tensors;

namespace NigGen.Attribution;

/// <summary>Gradient × activation of the attribute layers: the cheapest neuron ranking, one forward and one split backward pass.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GradientAttribution
{
    /// <summary>importance = ∂F/∂h · h for every attribute-layer neuron h of one sample.</summary>
    public static void GradientTimesActivation(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, int target, Span<float> importance)
    {
        network.RequireSample(input.Length, nameof(input));
        network.RequireTarget(target);
        network.RequireLength(importance.Length, network.ImportanceLength, nameof(importance), "ImportanceLength");
        network.RequireFinite(input, nameof(input));

        input.CopyTo(ws.Inputs);
        ws.Forward(1);
        var seed = ws.OutputGradients(1);
        seed.Clear();
        seed[target] = 1f;

        // Down to the earliest attribute layer only, as Neuron Integrated Gradients: the layers below are never visited.
        ws.Backward(1, network.OutputPosition, network.EarliestAttributePosition);
        foreach (var layer in network.AttributeLayerSpan)
        {
            TensorPrimitives.Multiply(ws.Gradients(layer.GradientPosition, 1), ws.Values(layer.GradientPosition, 1), importance.Slice(layer.Offset, layer.Length));
        }
    }
}
