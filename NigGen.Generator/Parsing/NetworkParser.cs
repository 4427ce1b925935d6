using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NigGen.Generator.Diagnostics;
using NigGen.Generator.Layers;
using NigGen.Generator.Model;

namespace NigGen.Generator.Parsing;

/// <summary>Reads a [Network] class's symbols and attributes into a <see cref="NetworkSpec"/>: the only stage that sees symbols.</summary>
internal static class NetworkParser
{
    public const string NetworkAttributeName = "NigGen.NetworkAttribute";
    private const string InputAttributeName = "NigGen.InputAttribute";
    private const string LayerAttributeBaseName = "NigGen.LayerAttribute";
    private const string AttributeLayerAttributeName = "NigGen.AttributeLayerAttribute";
    public const string LayerTypeName = "NigGen.Layer";

    // Members the generated partial class declares; a layer field may not take these names.
    private static readonly HashSet<string> ReservedNames = new(StringComparer.Ordinal)
    {
        "Forward", "InputGradient", "IntegratedGradients", "NeuronIntegratedGradients", "NeuronConductance", "Load", "Save",
        "CreateRandom", "Description", "InputLength", "OutputLength", "ImportanceLength", "LayerLength", "Position",
        "Geometry", "Workspace", "RentWorkspace", "ForwardLayers", "BackwardLayers", "FloatsPerSample", "ScratchLength",
        "t_workspace", "DeepLift", "DeepLiftInputs", "DeepLiftLayers", "GradientTimesActivation", "Ablate", "AblatedForwardLayers", "InferenceLayers",
        "CreateTrainer", "TrainingBackwardLayers", "TrainingState", "ToGpu", "GpuLayers", "DescribeLayers",
    };

    public static ParsedNetwork Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (TypeDeclarationSyntax)context.TargetNode;
        var classLocation = LocationInfo.From(syntax.Identifier.GetLocation());
        var diagnostics = new List<DiagnosticInfo>();
        // [Network] on two parts of a partial class is the compiler's error CS0579; each part would otherwise emit the
        // same file, which makes the generator throw.
        if (syntax.Identifier.IsMissing || type.GetAttributes().Count(a => a.AttributeClass?.ToDisplayString() == NetworkAttributeName) > 1)
        {
            // The compiler already reports the missing name or the duplicate; emitting would only add follow-on errors.
            return new ParsedNetwork(null, classLocation, null, EquatableArray<LocationInfo>.Empty, EquatableArray<DiagnosticInfo>.Empty);
        }

        if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkNotPartial, classLocation, type.Name));
        }

        string? unsupported = syntax is RecordDeclarationSyntax ? "a record"
            : type.ContainingType is not null ? "nested in another type"
            : type.IsGenericType ? "generic"
            : type.IsStatic ? "static"
            : null;
        if (unsupported is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedClassShape, classLocation, type.Name, unsupported));
        }

        foreach (var constructor in type.InstanceConstructors)
        {
            if (!constructor.IsImplicitlyDeclared)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UserConstructor, LocationInfo.From(constructor.Locations.FirstOrDefault()) ?? classLocation, type.Name));
            }
        }

        var inputAttribute = type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == InputAttributeName);
        var inputLocation = LocationInfo.From(inputAttribute?.ApplicationSyntaxReference) ?? classLocation;
        var inputShape = inputAttribute is null ? null : ReadInputShape(inputAttribute);
        if (inputAttribute is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingInput, classLocation, type.Name));
        }
        else if (inputShape is null || inputShape.Length is < 1 or > 3 || inputShape.Any(d => d <= 0))
        {
            string declared = inputShape is null ? "no dimensions" : "(" + string.Join(", ", inputShape) + ")";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidInput, inputLocation, type.Name, declared));
        }

        var layers = new List<LayerSpec>();
        bool anyLayerAttribute = false;
        var layerLocations = new List<LocationInfo>();
        foreach (var field in type.GetMembers().OfType<IFieldSymbol>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A field whose name is missing ("Layer ;") is the compiler's error, and has no name to derive from.
            if (field.IsImplicitlyDeclared || field.Name.Length == 0)
            {
                continue;
            }

            var layerAttributes = field.GetAttributes().Where(IsLayerAttribute).ToList();
            var attributeLayer = field.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == AttributeLayerAttributeName);
            var fieldLocation = LocationInfo.From(field.Locations.FirstOrDefault()) ?? classLocation!;
            bool isLayerType = field.Type.ToDisplayString() == LayerTypeName;

            if (layerAttributes.Count == 0)
            {
                if (attributeLayer is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.AttributeLayerOnNonLayer, LocationInfo.From(attributeLayer.ApplicationSyntaxReference) ?? fieldLocation, field.Name));
                }
                else if (isLayerType && !field.IsStatic)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FieldWithoutLayerAttribute, fieldLocation, field.Name, type.Name));
                }

                continue;
            }

            anyLayerAttribute = true;
            var layerAttribute = layerAttributes[0];
            var attributeLocation = LocationInfo.From(layerAttribute.ApplicationSyntaxReference) ?? fieldLocation!;
            if (layerAttributes.Count > 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.SeveralLayerAttributes,
                    LocationInfo.From(layerAttributes[1].ApplicationSyntaxReference) ?? fieldLocation,
                    field.Name, ShortName(layerAttribute), ShortName(layerAttributes[1])));
                continue;
            }

            if (!isLayerType || field.IsStatic || field.IsConst)
            {
                string actual = field.IsStatic || field.IsConst ? "static" : "of type " + field.Type.ToDisplayString();
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerFieldType, fieldLocation, field.Name, actual));
                continue;
            }

            // Generated names derive from the field name with its first letter capitalised.
            string pascal = char.ToUpperInvariant(field.Name[0]) + field.Name.Substring(1);
            // LayerLength.X and Geometry.X are members of generated classes of those names: X may not be the class's own.
            string? clash = ReservedNames.Contains(field.Name) || pascal is "LayerLength" or "Geometry" ? "uses a name the generated code declares"
                : layers.FirstOrDefault(l => char.ToUpperInvariant(l.Name[0]) + l.Name.Substring(1) == pascal) is { } other ? $"differs from layer '{other.Name}' only in the case of its first letter"
                : null;
            if (clash is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReservedLayerName, fieldLocation, field.Name, clash));
                continue;
            }

            // A layer attribute (a LayerAttribute) of a kind without rules must never be dropped from the network silently.
            if (!LayerRegistry.TryGetByAttribute(layerAttribute.AttributeClass?.Name ?? string.Empty, out var rules))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerKindWithoutRules, attributeLocation, field.Name, $"[{ShortName(layerAttribute)}]", LayerRegistry.KnownAttributes));
                continue;
            }

            var layer = ReadLayer(field.Name, rules, layerAttribute, attributeLayer);
            if (layer is not null)
            {
                layers.Add(layer);
                layerLocations.Add(attributeLocation);
            }
        }

        // "No layers" would only repeat the errors already reported for the fields that tried to declare one.
        var spec = inputShape is null || (layers.Count == 0 && anyLayerAttribute)
            ? null
            : new NetworkSpec(
                type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
                type.Name,
                inputShape.ToEquatableArray(),
                layers.ToEquatableArray());

        // A declaration with parse errors is still analysed (more errors surface at once) but never emitted.
        return new ParsedNetwork(spec, classLocation, inputLocation, layerLocations.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    private static int[]? ReadInputShape(AttributeData attribute)
    {
        if (attribute.ConstructorArguments.Length != 1)
        {
            return null;
        }

        var argument = attribute.ConstructorArguments[0];
        if (argument.Kind != TypedConstantKind.Array || argument.IsNull)
        {
            return null;
        }

        return argument.Values.Select(v => v.Value is int dimension ? dimension : 0).ToArray();
    }

    private static bool IsLayerAttribute(AttributeData attribute)
    {
        for (var type = attribute.AttributeClass?.BaseType; type is not null; type = type.BaseType)
        {
            if (type.ToDisplayString() == LayerAttributeBaseName)
            {
                return true;
            }
        }

        return false;
    }

    private static string ShortName(AttributeData attribute)
    {
        string name = attribute.AttributeClass?.Name ?? "?";
        return name.EndsWith("Attribute") ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }

    private static LayerSpec? ReadLayer(string name, LayerRules rules, AttributeData attribute, AttributeData? attributeLayer)
    {
        var attribution = AttributionPoint.NotScored;
        if (attributeLayer is not null)
        {
            attribution = Named(attributeLayer, "PreActivation", false) ? AttributionPoint.PreActivation : AttributionPoint.Output;
        }

        var spec = new LayerSpec(
            name,
            rules.Kind,
            Size: 0,
            Kernel: Named(attribute, "Kernel", 0),
            Stride: Named(attribute, "Stride", rules.DefaultStride),
            Padding: Named(attribute, "Padding", 0),
            HasBias: rules.HasBiasArgument && Named(attribute, "Bias", true),
            Activation: (ActivationKind)Named(attribute, "Activation", 0),
            Attribution: attribution)
        {
            From = Named<string?>(attribute, "From", null),
            Dilation = Named(attribute, "Dilation", 1),
            Groups = Named(attribute, "Groups", 1),
            Epsilon = Named(attribute, "Epsilon", 1e-5),
            Momentum = Named(attribute, "Momentum", 0.1),
            Affine = Named(attribute, "Affine", true),
            WeightsPrefix = Named<string?>(attribute, "Weights", null),
        };

        // An attribute whose arguments do not compile has no constructor arguments; the compiler reports that one.
        return rules.ReadConstructorArguments(attribute, spec);
    }

    private static T Named<T>(AttributeData attribute, string name, T defaultValue)
    {
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == name && argument.Value.Value is T value)
            {
                return value;
            }
        }

        return defaultValue;
    }
}
