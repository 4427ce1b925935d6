using System.Collections.Generic;
using System.Linq;
using NigGen.Generator.Model;

namespace NigGen.Generator.Emit;

/// <summary>
/// Names every constant and buffer the emitters write, in one place, so forward, backward and the workspace agree.
/// Layers without an activation use one buffer for their pre-activation and output; a Flatten layer owns no buffer
/// at all and reads and writes the buffers of the layer below it (C-major flattening is a no-op on contiguous memory).
/// </summary>
internal sealed class EmitPlan
{
    public EmitPlan(NetworkModel model)
    {
        Model = model;
        Layers = model.Layers.Select((layer, index) => new LayerPlan(layer, index, Pascal(layer.Name))).ToList();
    }

    public NetworkModel Model { get; }

    public IReadOnlyList<LayerPlan> Layers { get; }

    public LayerPlan Last => Layers[Layers.Count - 1];

    public IEnumerable<LayerPlan> AttributeLayers => Layers.Where(l => l.Model.Spec.Attribution != AttributionPoint.NotScored);

    public bool HasAttributeLayers => AttributeLayers.Any();

    public int InputLength => Shapes.Length(Model.InputShape);

    /// <summary>The input rows of a pass in the workspace, where the backward passes read the network's input.</summary>
    public const string WorkspaceInputs = "ws.Inputs.AsSpan(0, batch * InputLength)";

    /// <summary>The Dense and Conv layers: those with parameters to train.</summary>
    public IEnumerable<LayerPlan> ParameterLayers => Layers.Where(l => l.HasParameters);

    /// <summary>
    /// Floats of weight-gradient scratch per sample of a training block: the block's transposed output gradient of the
    /// widest Dense layer.
    /// </summary>
    public int DenseGradientScratchPerSample => Layers.Where(l => l.Model.Kind == LayerKind.Dense).Select(l => l.Model.OutputLength).DefaultIfEmpty(0).Max();

    /// <summary>Floats of weight-gradient scratch of the largest convolution: one sample's im2col columns and transposed output gradient.</summary>
    public int ConvGradientScratch => Layers.Where(l => l.Model.Kind == LayerKind.Conv).Select(l => ConvScratch(l.Model) + l.Model.OutputLength).DefaultIfEmpty(0).Max();

    /// <summary>
    /// The first Dense or Conv layer when only linear layers (Flatten, AvgPool) precede it: its pre-activation is an
    /// affine function of the input, hence of α along the path. Null when the network starts with a max pooling, and
    /// when a layer below it is scored: the path methods interpolate this pre-activation instead of running the layers
    /// below, so a scored layer there would never get its values along the path.
    /// </summary>
    public LayerPlan? AffinePrefixLayer
    {
        get
        {
            foreach (var layer in Layers)
            {
                switch (layer.Model.Kind)
                {
                    case LayerKind.Dense or LayerKind.Conv:
                        return layer;
                    case LayerKind.Flatten or LayerKind.AvgPool when layer.Model.Spec.Attribution == AttributionPoint.NotScored:
                        continue;
                    default:
                        return null;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// The layer whose output the path methods compute in one pass from the affine prefix's interpolated pre-activation
    /// when the backward pass stops at or above <see cref="FusedPathStop"/>: the pooling right above the affine layer
    /// (interpolation, activation and pooling fused; the GPU backend's rule), or else the affine layer itself when it
    /// has an activation. Null without an affine prefix or with nothing to fuse.
    /// </summary>
    public LayerPlan? FusedPathLayer
    {
        get
        {
            var affine = AffinePrefixLayer;
            if (affine is null)
            {
                return null;
            }

            if (affine.Index + 1 < Layers.Count && Layers[affine.Index + 1].Model.Kind is LayerKind.MaxPool or LayerKind.AvgPool)
            {
                return Layers[affine.Index + 1];
            }

            return affine.Model.HasActivation ? affine : null;
        }
    }

    /// <summary>
    /// The lowest backward position at which the fused path is enough: a backward pass down to it reads neither the
    /// affine layer's pre-activation and activations nor a max pooling's argmax. For a pooling its pre-activation
    /// position (its input gradient is not computed), for the affine layer its output position (nor is its activation's).
    /// </summary>
    public string FusedPathStop(LayerPlan fused) => fused == AffinePrefixLayer ? fused.OutputPositionName : fused.PreActivationPositionName;

    /// <summary>
    /// Whether <paramref name="layer"/>'s activation is fused into the max pooling right above it in
    /// <c>InferenceLayers</c>, the forward pass of callers that read only the output.
    /// </summary>
    public bool FusesActivationIntoPool(LayerPlan layer) =>
        layer.Model.HasActivation && layer.Index + 1 < Layers.Count && Layers[layer.Index + 1].Model.Kind == LayerKind.MaxPool;

    /// <summary>
    /// Whether <paramref name="layer"/> is a Dense layer whose ReLU is applied inside its matrix multiply in
    /// <c>InferenceLayers</c> (DenseKernels.ForwardRelu), so its pre-activation is never written.
    /// </summary>
    public bool FusesReluIntoDense(LayerPlan layer) =>
        layer.Model.Kind == LayerKind.Dense && layer.Model.Activation == ActivationKind.Relu && !FusesActivationIntoPool(layer);

    /// <summary>Whether the network has an inference pass of its own: some activation fuses into a max pooling or a Dense layer.</summary>
    public bool HasInferencePass => Layers.Any(l => FusesActivationIntoPool(l) || FusesReluIntoDense(l));

    public int OutputLength => Last.Model.OutputLength;

    public int ImportanceLength => AttributeLayers.Sum(l => l.Model.OutputLength);

    /// <summary>Floats of workspace per sample in flight: interpolated inputs, their gradients and every layer buffer.</summary>
    public int FloatsPerSample => 2 * InputLength + Layers.Sum(l => l.OwnsBuffers ? l.Model.OutputLength * (l.Model.HasActivation ? 4 : 2) + (l.Model.Kind == LayerKind.MaxPool ? l.Model.OutputLength : 0) : 0);

    public int ScratchLength => Layers.Where(l => l.Model.Kind == LayerKind.Conv).Select(l => ConvScratch(l.Model)).DefaultIfEmpty(0).Max();

    /// <summary>The source of layer <paramref name="index"/>'s output values; index −1 is the network input.</summary>
    public string Values(int index, string input)
    {
        if (index < 0)
        {
            return input;
        }

        var layer = Layers[index];
        return layer.OwnsBuffers ? $"ws.{layer.Pascal}Output.AsSpan(0, batch * {layer.LengthName})" : Values(index - 1, input);
    }

    public string PreActivationValues(int index, string input) =>
        Layers[index].Model.HasActivation ? $"ws.{Layers[index].Pascal}PreActivation.AsSpan(0, batch * {Layers[index].LengthName})" : Values(index, input);

    public string OutputGradient(int index)
    {
        if (index < 0)
        {
            return "ws.InputGradients.AsSpan(0, batch * InputLength)";
        }

        var layer = Layers[index];
        return layer.OwnsBuffers ? $"ws.{layer.Pascal}OutputGradient.AsSpan(0, batch * {layer.LengthName})" : OutputGradient(index - 1);
    }

    public string PreActivationGradient(int index) =>
        Layers[index].Model.HasActivation ? $"ws.{Layers[index].Pascal}PreActivationGradient.AsSpan(0, batch * {Layers[index].LengthName})" : OutputGradient(index);

    public static int ConvScratch(LayerModel layer)
    {
        int kernelArea = layer.SpatialRank == 2 ? layer.Spec.Kernel * layer.Spec.Kernel : layer.Spec.Kernel;
        int outputArea = layer.OutputLength / layer.OutputShape[0];
        int im2col = layer.InputShape[0] * kernelArea * outputArea;

        // The implicit GEMM's scratch, as NigGen.Runtime's ConvGeometry.ImplicitScratchLength: a zero-padded copy of one
        // sample when the layer pads, and a 32-channel panel of the transposed weight when channels do not fill 16-float vectors.
        int padded = 0;
        if (layer.Spec.Padding != 0)
        {
            padded = layer.InputShape[0];
            for (int d = 1; d < layer.InputShape.Count; d++)
            {
                padded *= layer.InputShape[d] + 2 * layer.Spec.Padding;
            }
        }

        int panel = layer.OutputShape[0] % 16 == 0 ? 0 : layer.InputShape[0] * kernelArea * 32;
        return System.Math.Max(System.Math.Max(im2col, padded + panel), WinogradScratch(layer));
    }

    /// <summary>
    /// Winograd's scratch, as NigGen.Runtime's WinogradConv.ScratchLength: where it applies (2-D, 3×3 or 5×5 kernel,
    /// stride 1, padding less than the kernel, at least 8 input and 16 output channels, an output of at least one tile), a channels-last copy of one
    /// sample (input channels padded to 16) covering whole tiles of 4×4 outputs, the transformed input and products of
    /// up to 32 tiles (n·n cells each, n = 6 for 3×3 and 8 for 5×5), the sample's outputs channels-last over whole
    /// tiles, and the bias (output channels padded to 32).
    /// </summary>
    private static int WinogradScratch(LayerModel layer)
    {
        int kernel = layer.Spec.Kernel;
        int inChannels = layer.InputShape[0], outChannels = layer.OutputShape[0];
        if (layer.SpatialRank != 2 || (kernel != 3 && kernel != 5) || layer.Spec.Stride != 1 || layer.Spec.Padding >= kernel || inChannels < 8 || outChannels < 16)
        {
            return 0;
        }

        const int m = 4;
        int n = m + kernel - 1;
        int outH = layer.OutputShape[1], outW = layer.OutputShape[2];
        if (outH < m || outW < m)
        {
            return 0;
        }

        long tilesY = (outH + m - 1) / m, tilesX = (outW + m - 1) / m;
        long block = System.Math.Min(tilesY * tilesX, 32);
        long inPad = (inChannels + 15) / 16 * 16, outPad = (outChannels + 31) / 32 * 32;
        long copy = (tilesY * m + kernel - 1) * (tilesX * m + kernel - 1) * inPad;
        return (int)(copy + n * n * block * (inPad + outPad) + tilesY * m * tilesX * m * outPad + outPad);
    }

    private static string Pascal(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);
}

/// <summary>Names for one layer.</summary>
internal sealed class LayerPlan
{
    public LayerPlan(LayerModel model, int index, string pascal)
    {
        Model = model;
        Index = index;
        Pascal = pascal;
    }

    public LayerModel Model { get; }

    public int Index { get; }

    public string Pascal { get; }

    public string Name => Model.Name;

    /// <summary>
    /// The layer's field as generated code refers to it: qualified with <c>this.</c> so that no parameter or local of the
    /// generated methods (input, batch, weights…) can hide it, and escaped with <c>@</c> when the name is a keyword.
    /// </summary>
    public string Field => "this." + (Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(Name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" : string.Empty) + Name;

    /// <summary>The same field read through another instance of the network (<paramref name="instance"/>.name).</summary>
    public string FieldOf(string instance) => instance + Field.Substring("this".Length);

    public bool OwnsBuffers => Model.Kind != LayerKind.Flatten;

    public bool HasParameters => Model.Kind is LayerKind.Dense or LayerKind.Conv;

    /// <summary>Constant holding the layer's output length per sample.</summary>
    public string LengthName => "LayerLength." + Pascal;

    public string GeometryName => "Geometry." + Pascal;

    /// <summary>Backward positions: 2·index is the pre-activation, 2·index + 1 the output, −1 the network input.</summary>
    public int PreActivationPosition => 2 * Index;

    public int OutputPosition => 2 * Index + 1;

    public string PreActivationPositionName => "Position." + Pascal + "PreActivation";

    public string OutputPositionName => "Position." + Pascal + "Output";

    public bool ScoresPreActivation => Model.Spec.Attribution == AttributionPoint.PreActivation;

    public string ScoredPositionName => ScoresPreActivation ? PreActivationPositionName : OutputPositionName;
}
