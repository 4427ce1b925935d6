using NigGen.Generator.Model;

namespace NigGen.Generator.Parsing;

/// <summary>
/// What the parse stage produces for one [Network] class: the declaration (null when it cannot be read at all), where
/// each part of it was written (for the analysis stage's diagnostics) and the diagnostics found while parsing.
/// </summary>
internal sealed record ParsedNetwork(
    NetworkSpec? Spec,
    LocationInfo? ClassLocation,
    LocationInfo? InputLocation,
    EquatableArray<LocationInfo> LayerLocations,
    EquatableArray<DiagnosticInfo> Diagnostics);
