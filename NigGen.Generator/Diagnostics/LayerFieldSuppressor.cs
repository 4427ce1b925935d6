using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using NigGen.Generator.Parsing;

namespace NigGen.Generator.Diagnostics;

/// <summary>
/// The generator owns the <c>Layer</c> fields of a <c>[Network]</c> class: its constructor assigns them and its passes
/// read them. When a declaration has an error it generates nothing, and the compiler would add "never used" (CS0169),
/// "never assigned" (CS0649) and "non-nullable field uninitialised" (CS8618) for every layer, burying the one NIG error
/// that says what to fix. This suppresses exactly those three warnings, and only on fields of type <c>NigGen.Layer</c>
/// declared in a class marked <c>[Network]</c>; the same warnings anywhere else are left alone.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LayerFieldSuppressor : DiagnosticSuppressor
{
    private const string Justification = "NigGen's generator assigns and reads the Layer fields of a [Network] class; when the declaration has an error, the NIG diagnostic is the one to fix.";

    internal static readonly SuppressionDescriptor NeverUsed = new("NIGS0169", "CS0169", Justification);

    internal static readonly SuppressionDescriptor NeverAssigned = new("NIGS0649", "CS0649", Justification);

    internal static readonly SuppressionDescriptor NonNullableUninitialised = new("NIGS8618", "CS8618", Justification);

    /// <inheritdoc />
    public override ImmutableArray<SuppressionDescriptor> SupportedSuppressions { get; } =
        ImmutableArray.Create(NeverUsed, NeverAssigned, NonNullableUninitialised);

    /// <inheritdoc />
    public override void ReportSuppressions(SuppressionAnalysisContext context)
    {
        foreach (var diagnostic in context.ReportedDiagnostics)
        {
            var descriptor = SupportedSuppressions.FirstOrDefault(s => s.SuppressedDiagnosticId == diagnostic.Id);
            if (descriptor is not null && IsNetworkLayerField(context, diagnostic))
            {
                context.ReportSuppression(Suppression.Create(descriptor, diagnostic));
            }
        }
    }

    // The three warnings are reported at the field's name when the class has no constructor of its own (CS8618 at a
    // user-written constructor names a constructor that really leaves the field null, and stays).
    private static bool IsNetworkLayerField(SuppressionAnalysisContext context, Diagnostic diagnostic)
    {
        var tree = diagnostic.Location.SourceTree;
        if (tree is null)
        {
            return false;
        }

        var node = tree.GetRoot(context.CancellationToken).FindNode(diagnostic.Location.SourceSpan);
        if (node is not VariableDeclaratorSyntax declarator)
        {
            return false;
        }

        var model = context.GetSemanticModel(tree);
        return model.GetDeclaredSymbol(declarator, context.CancellationToken) is IFieldSymbol field
            && field.Type.ToDisplayString() == NetworkParser.LayerTypeName
            && field.ContainingType.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == NetworkParser.NetworkAttributeName);
    }
}
