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
        "Field '{0}' of network '{1}' is a Layer but has no layer attribute ([Dense], [Conv], [MaxPool], [AvgPool] or [Flatten])");

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

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);
}
