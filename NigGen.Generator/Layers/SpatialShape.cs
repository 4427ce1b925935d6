using System.Linq;
using NigGen.Generator.Analysis;
using NigGen.Generator.Diagnostics;

namespace NigGen.Generator.Layers;

/// <summary>The shape rule convolutions and poolings share: PyTorch's <c>(n + 2p − window)/s + 1</c> along every spatial axis.</summary>
internal static class SpatialShape
{
    /// <summary>Whether the input is (C, L) or (C, H, W); reports NIG0012 otherwise.</summary>
    public static bool HasChannels(ShapeContext context, string kindName)
    {
        if (context.Input.Length is 2 or 3)
        {
            return true;
        }

        context.Report(DiagnosticDescriptors.SpatialLayerNeedsChannels, kindName, context.Layer.Name, Model.Shapes.Format(context.Input));
        return false;
    }

    /// <summary>
    /// The output shape for a window of <paramref name="window"/> input positions, or null after reporting a window
    /// larger than the padded input (<paramref name="what"/>: "kernel" or "pooling"; <paramref name="windowNote"/>
    /// follows the window's size in that message) or an output too large.
    /// </summary>
    public static int[]? Output(ShapeContext context, int channels, int window, int stride, int padding, string what, string windowNote = "")
    {
        var input = context.Input;
        var output = new int[input.Length];
        output[0] = channels;
        for (int d = 1; d < input.Length; d++)
        {
            int padded = input[d] + 2 * padding;
            if (window > padded)
            {
                string paddingText = padding > 0 ? $" (padded by {padding} to {padded} along that axis)" : string.Empty;
                string windowText = (input.Length == 3 ? $"{window}×{window}" : window.ToString()) + windowNote;
                context.Report(DiagnosticDescriptors.KernelLargerThanInput, context.Layer.Name, what, windowText, Model.Shapes.Format(input), paddingText);
                return null;
            }

            output[d] = (padded - window) / stride + 1;
        }

        long length = output.Aggregate(1L, (a, b) => a * b);
        if (length > ShapeInference.MaxTensorLength)
        {
            context.Report(DiagnosticDescriptors.TensorTooLarge, $"Layer '{context.Layer.Name}'", $"its {Model.Shapes.Format(output)} output", length, ShapeInference.MaxTensorLength);
            return null;
        }

        return output;
    }
}
