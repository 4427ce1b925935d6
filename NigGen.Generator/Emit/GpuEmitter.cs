using System.Linq;
using Microsoft.CodeAnalysis;
using NigGen.Generator.Layers;
using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>
/// Writes the GPU entry point of a network, only when the compilation references NigGen.Runtime.Gpu: <c>ToGpu</c> and
/// a compact, constant description of the layer graph (kinds, geometries, activations and the layers holding the
/// weights) from which the GPU runtime plans its device passes. The attribute layers and their positions come from
/// <c>Description</c>, which the CPU path already emits.
/// </summary>
internal static class GpuEmitter
{
    /// <summary>The assembly whose reference turns the GPU path on.</summary>
    public const string RuntimeAssemblyName = "NigGen.Runtime.Gpu";

    /// <summary>Whether <paramref name="compilation"/> references the GPU runtime: a bool, so the pipeline caches on it.</summary>
    public static bool IsReferenced(Compilation compilation) =>
        compilation.ReferencedAssemblyNames.Any(static a => a.Name == RuntimeAssemblyName);

    /// <summary>
    /// The first layer the GPU backend cannot run, and why: it plans plain stacks of Dense, Conv (no dilation or groups),
    /// unpadded MaxPool and AvgPool, and Flatten layers with the activations it has kernels for. Null when it runs them all.
    /// A network with such a layer gets no ToGpu (and warning NIG0030 where the GPU runtime is referenced), never a
    /// device path that computes something else.
    /// </summary>
    public static UnsupportedGpuLayer? UnsupportedLayer(NetworkModel model)
    {
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var m = model.Layers[i];
            var rules = LayerRegistry.For(m.Kind);
            string? reason =
                m.Inputs.Count != 1 || m.Inputs[0] != i - 1 ? (rules.NamesItsInputs ? $"{m.Kind}" : "it reads a layer other than the one declared before it") + ": the GPU backend runs plain stacks of layers"
                : rules.GpuUnsupportedReason(m) is { } kindReason ? kindReason
                : m.Activation is ActivationKind.Gelu or ActivationKind.Silu ? $"activation {m.Activation}"
                : null;
            if (reason is not null)
            {
                return new UnsupportedGpuLayer(i, m, reason);
            }
        }

        return null;
    }

    public static void Emit(SourceWriter w, EmitPlan plan)
    {
        w.Line("/// <summary>");
        w.Line("/// Uploads the weights to <paramref name=\"accelerator\"/> once and returns the network on that device: Forward,");
        w.Line("/// NeuronIntegratedGradients and IntegratedGradients with this class's signatures, checks and conventions, run on the");
        w.Line("/// device (see docs/GPU.md). Dispose the result to free its device memory.");
        w.Line("/// </summary>");
        w.Line("[System.Diagnostics.CodeAnalysis.RequiresDynamicCode(global::NigGen.Gpu.GpuNetwork.RequiresDynamicCodeMessage)]");
        w.Line("[System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(global::NigGen.Gpu.GpuNetwork.RequiresDynamicCodeMessage)]");
        w.Line("public global::NigGen.Gpu.GpuNetwork ToGpu(global::ILGPU.Runtime.Accelerator accelerator, global::NigGen.Gpu.GpuOptions? options = null) =>");
        w.Line("    global::NigGen.Gpu.GpuNetwork.Create(accelerator, Description, GpuLayers(), options);");
        w.Line();
        w.Line("// The layer graph as NigGen.Runtime.Gpu plans it: one entry per layer, in order, with the layer holding its weights.");
        w.Line("private global::NigGen.Gpu.GpuLayer[] GpuLayers() =>");
        w.Line("[");
        foreach (var layer in plan.Layers)
        {
            w.Line("    " + Describe(layer) + ",");
        }

        w.Line("];");
        w.Line();
    }

    // UnsupportedLayer returned null: every layer is of a kind the GPU backend runs.
    private static string Describe(LayerPlan layer) => layer.Rules.GpuLayer(layer);
}

/// <summary>A layer the GPU backend cannot run: its index, its model and why.</summary>
internal sealed record UnsupportedGpuLayer(int Index, LayerModel Layer, string Reason);
