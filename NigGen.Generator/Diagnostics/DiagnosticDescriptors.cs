using Microsoft.CodeAnalysis;

namespace NigGen.Generator.Diagnostics;

/// <summary>Every diagnostic NigGen reports. IDs are stable: NIG0001 onwards, never reused.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "NigGen";

    public static readonly DiagnosticDescriptor NetworkNotPartial = Error(
        "NIG0001", "Network class must be partial",
        "Network class '{0}' must be declared partial so that NigGen can generate its code");

    public static readonly DiagnosticDescriptor MissingInput = Error(
        "NIG0002", "Network has no [Input]",
        "Network '{0}' needs an [Input(...)] attribute giving the shape of one sample: (features), (channels, length) or (channels, height, width)");

    public static readonly DiagnosticDescriptor InvalidInput = Error(
        "NIG0003", "Invalid [Input] shape",
        "[Input] of network '{0}' declares {1}; it must have 1 to 3 positive dimensions: (features), (channels, length) or (channels, height, width)");

    public static readonly DiagnosticDescriptor NoLayers = Error(
        "NIG0004", "Network has no layers",
        "Network '{0}' declares no layers; add Layer fields with a layer attribute such as [Dense(10)]");

    public static readonly DiagnosticDescriptor FieldWithoutLayerAttribute = Error(
        "NIG0005", "Layer field without a layer attribute",
        "Field '{0}' of network '{1}' is a Layer but has no layer attribute ([Dense], [Conv], [BatchNorm], [MaxPool], [AvgPool], [Add], [Concat]…)");

    public static readonly DiagnosticDescriptor SeveralLayerAttributes = Error(
        "NIG0006", "Several layer attributes on one field",
        "Field '{0}' has both [{1}] and [{2}]; a field declares exactly one layer");

    public static readonly DiagnosticDescriptor AttributeLayerOnNonLayer = Error(
        "NIG0007", "[AttributeLayer] on a field that is not a layer",
        "[AttributeLayer] on field '{0}' has no effect: the field has no layer attribute");

    public static readonly DiagnosticDescriptor NoAttributeLayer = Warning(
        "NIG0008", "Network has no [AttributeLayer]",
        "Network '{0}' marks no layer with [AttributeLayer]: NeuronIntegratedGradients, NeuronConductance, DeepLift, GradientTimesActivation and Ablate are not generated");

    public static readonly DiagnosticDescriptor NonPositiveSize = Error(
        "NIG0009", "Layer size must be positive",
        "Layer '{0}': {1} is {2}, but it must be {3}");

    public static readonly DiagnosticDescriptor KernelLargerThanInput = Error(
        "NIG0010", "Window larger than its input",
        "Layer '{0}': the {1} window {2} does not fit its input {3}{4}");

    public static readonly DiagnosticDescriptor DenseNeedsFlatInput = Error(
        "NIG0011", "Dense layer after a multi-dimensional output",
        "Dense layer '{0}' receives a {1} tensor; add a [Flatten] layer before it");

    public static readonly DiagnosticDescriptor SpatialLayerNeedsChannels = Error(
        "NIG0012", "Convolution or pooling needs a (C, L) or (C, H, W) input",
        "{0} layer '{1}' receives a {2} tensor, but it needs (channels, length) or (channels, height, width)");

    public static readonly DiagnosticDescriptor LayerFieldType = Error(
        "NIG0013", "Layer field must be an instance field of type NigGen.Layer",
        "Field '{0}' has a layer attribute but is {1}; declare it as an instance field of type NigGen.Layer");

    public static readonly DiagnosticDescriptor PreActivationWithoutActivation = Warning(
        "NIG0014", "PreActivation on a layer without activation",
        "[AttributeLayer(PreActivation = true)] on '{0}': {1} has no activation, so its output is scored");

    public static readonly DiagnosticDescriptor UnsupportedClassShape = Error(
        "NIG0015", "Unsupported network class",
        "Network class '{0}' is {1}; declare it as a non-generic, non-static class directly in a namespace");

    public static readonly DiagnosticDescriptor TensorTooLarge = Error(
        "NIG0016", "Tensor too large",
        "{0}: {1} holds {2} floats; NigGen supports at most {3}");

    public static readonly DiagnosticDescriptor MissingKernel = Error(
        "NIG0017", "Conv layer without a kernel size",
        "Conv layer '{0}' must set Kernel (PyTorch's kernel_size), for example [Conv({1}, Kernel = 3)]");

    public static readonly DiagnosticDescriptor ReservedLayerName = Error(
        "NIG0018", "Layer name clashes with generated code",
        "Layer '{0}' {1}; rename the field");

    public static readonly DiagnosticDescriptor UserConstructor = Error(
        "NIG0019", "Network declares a constructor",
        "Network '{0}' declares a constructor, which would leave its layers without weights; create networks with {0}.Load or {0}.CreateRandom");

    public static readonly DiagnosticDescriptor UnknownLayerReference = Error(
        "NIG0020", "Layer reads an unknown layer",
        "Layer '{0}' reads '{1}', which is not a layer of network '{2}'; name a layer declared before it with nameof(...), or Layer.Input for the network's input");

    public static readonly DiagnosticDescriptor LaterLayerReference = Error(
        "NIG0021", "Layer reads itself or a later layer",
        "Layer '{0}' reads '{1}', which is declared {2}; a layer reads only layers declared before it, so the graph has no cycles");

    public static readonly DiagnosticDescriptor AddShapeMismatch = Error(
        "NIG0022", "Add of unequal shapes",
        "Add layer '{0}': {1} is {2} but {3} is {4}; every input of an Add must have the same shape");

    public static readonly DiagnosticDescriptor ConcatShapeMismatch = Error(
        "NIG0023", "Concat of unequal sizes",
        "Concat layer '{0}': {1} is {2} but {3} is {4}; inputs are concatenated along channels, so they need the same rank and the same size along every other dimension");

    public static readonly DiagnosticDescriptor GroupsMismatch = Error(
        "NIG0024", "Groups must divide both channel counts",
        "Conv layer '{0}': Groups = {1} must divide both its {2} input channels and its {3} output channels");

    public static readonly DiagnosticDescriptor PoolPaddingTooLarge = Error(
        "NIG0025", "Pooling padding over half the window",
        "Layer '{0}': Padding = {1} is more than half its window of {2}; PyTorch requires padding ≤ window / 2, so that every window holds an input element");

    public static readonly DiagnosticDescriptor UnusedLayer = Warning(
        "NIG0026", "Layer output is never read",
        "Layer '{0}' is read by no layer and is not the network's output ('{1}', the last field): it has no effect on the output");

    public static readonly DiagnosticDescriptor TooFewInputs = Error(
        "NIG0027", "Add or Concat with fewer than two inputs",
        "{0} layer '{1}' names {2} input(s); it needs at least two: [{0}(nameof(a), nameof(b))]");

    public static readonly DiagnosticDescriptor FromOnMultiInputLayer = Error(
        "NIG0028", "From on an Add or Concat layer",
        "{0} layer '{1}' sets From; an {0} names all the layers it reads in the attribute itself");

    public static readonly DiagnosticDescriptor SharedWeightsPrefix = Error(
        "NIG0029", "Two layers read the same tensors",
        "Layers '{0}' and '{1}' both read the tensors '{2}.*'; give each its own Weights prefix");

    public static readonly DiagnosticDescriptor GpuUnsupportedLayer = Warning(
        "NIG0030", "Network has no GPU path",
        "Network '{0}' gets no ToGpu: the GPU backend does not run layer '{1}' ({2}); its CPU methods are unaffected");

    public static readonly DiagnosticDescriptor LayerKindWithoutRules = Error(
        "NIG0031", "Layer kind NigGen has no rules for",
        "Layer '{0}' is declared with {1}, a layer kind NigGen has no rules for; the layer attributes are {2}");

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);
}
