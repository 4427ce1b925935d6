using System.Collections.Generic;
using NigGen.Sample.Analysis;
using NigGen.Sample.Genomics;

namespace NigGen.Sample.Report;

/// <summary>One sequence's per-position input attributions for one task, with its planted motifs when known.</summary>
public sealed record SequenceTrack(string Title, string Bases, IReadOnlyList<float> Scores, IReadOnlyList<MotifInstance>? Instances);

/// <summary>One conv1 filter in the report: its learned motif and its importance for each task.</summary>
public sealed record FilterRow(FilterMotif Motif, IReadOnlyList<double> Importance);

/// <summary>Everything a report shows; <see cref="HtmlReport"/> turns it into one self-contained HTML file.</summary>
public sealed class ReportModel
{
    /// <summary>Page title.</summary>
    public required string Title { get; init; }

    /// <summary>A paragraph on what was scored, and how.</summary>
    public required string Introduction { get; init; }

    /// <summary>Key figures: data, accuracy, throughput.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Summary { get; init; }

    /// <summary>The sanity check, for a set with ground truth; null for a single sequence.</summary>
    public SanityCheck? Sanity { get; init; }

    /// <summary>Input attribution tracks.</summary>
    public required IReadOnlyList<SequenceTrack> Tracks { get; init; }

    /// <summary>What the tracks show.</summary>
    public required string TracksCaption { get; init; }

    /// <summary>conv1's filters in ranking order.</summary>
    public required IReadOnlyList<FilterRow> Filters { get; init; }

    /// <summary>What the filter importances are.</summary>
    public required string FiltersCaption { get; init; }

    /// <summary>fc1's importance for each task ([task][neuron]).</summary>
    public required IReadOnlyList<IReadOnlyList<double>> DenseImportance { get; init; }

    /// <summary>What the dense importances are.</summary>
    public required string DenseCaption { get; init; }
}
