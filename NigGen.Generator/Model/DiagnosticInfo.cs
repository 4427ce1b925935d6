using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace NigGen.Generator.Model;

/// <summary>A location reduced to values, so diagnostics can travel through the cached pipeline.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan TextSpan, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, TextSpan, LineSpan);

    public static LocationInfo? From(Location? location) =>
        location is null || location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    public static LocationInfo? From(SyntaxReference? reference) =>
        reference is null ? null : From(reference.GetSyntax().GetLocation());
}

/// <summary>A diagnostic to report: the descriptor (a static instance, compared by reference), where, and the message arguments.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] arguments) =>
        new(descriptor, location, System.Linq.Enumerable.Select(arguments, a => a.ToString() ?? string.Empty).ToEquatableArray());

    /// <summary>
    /// The diagnostic, located in the compilation's own syntax tree when it has one with that path: a location in a
    /// tree (rather than a bare path) is what lets <c>#pragma warning disable</c> and editor squiggles find it.
    /// </summary>
    public Diagnostic ToDiagnostic(Compilation compilation)
    {
        Microsoft.CodeAnalysis.Location? location = null;
        if (Location is not null)
        {
            foreach (var tree in compilation.SyntaxTrees)
            {
                if (tree.FilePath == Location.FilePath)
                {
                    location = Microsoft.CodeAnalysis.Location.Create(tree, Location.TextSpan);
                    break;
                }
            }

            location ??= Location.ToLocation();
        }

        return Diagnostic.Create(Descriptor, location, System.Linq.Enumerable.ToArray(Arguments));
    }
}
