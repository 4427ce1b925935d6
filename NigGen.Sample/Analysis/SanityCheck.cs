using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using NigGen.Sample.Genomics;

namespace NigGen.Sample.Analysis;

/// <summary>For one task: how much input attribution falls on the motifs that decide it, against how much of the sequence they cover.</summary>
public sealed record AttributionMass(int Task, int Sequences, double MassOnMotifs, double PositionsCovered)
{
    /// <summary>How many times more attribution the motif positions carry than their share of the sequence.</summary>
    public double Enrichment => PositionsCovered == 0 ? double.NaN : MassOnMotifs / PositionsCovered;
}

/// <summary>
/// For one task: conv1's filters ranked by Neuron Integrated Gradients (summed over positions, mean over the task's
/// positive sequences), and where the first filter that learned each deciding motif ranks.
/// </summary>
public sealed record FilterRankCheck(int Task, IReadOnlyList<int> Ranking, IReadOnlyList<double> Importance, IReadOnlyList<(Motif Motif, int Rank)> FirstMatch)
{
    /// <summary>
    /// A single-motif task passes when its top-ranked filter learned that motif; the task that needs both motifs when a
    /// filter that learned each of them is among its top three.
    /// </summary>
    public bool Passed => FirstMatch.All(m => m.Rank >= 1 && m.Rank <= (FirstMatch.Count == 1 ? 1 : 3));
}

/// <summary>The scientific sanity check: does the trained model look where the motifs were planted, with filters that learned them?</summary>
public sealed class SanityCheck
{
    internal SanityCheck(IReadOnlyList<AttributionMass> mass, IReadOnlyList<FilterRankCheck> filters, IReadOnlyList<FilterMotif> motifs)
    {
        Mass = mass;
        Filters = filters;
        Motifs = motifs;
    }

    /// <summary>Input-attribution mass on the planted motifs, per task.</summary>
    public IReadOnlyList<AttributionMass> Mass { get; }

    /// <summary>Filter rankings against the filters' learned motifs, per task.</summary>
    public IReadOnlyList<FilterRankCheck> Filters { get; }

    /// <summary>Every filter's learned motif and its matches.</summary>
    public IReadOnlyList<FilterMotif> Motifs { get; }

    /// <summary>Whether every task's filter ranking passes and every task's motifs hold more attribution than their share of positions.</summary>
    public bool Passed => Filters.All(f => f.Passed) && Mass.All(m => m.Enrichment > 1);

    /// <summary>The check as console lines.</summary>
    public IEnumerable<string> Lines()
    {
        yield return $"Input attribution (DeepLIFT, {InputAttribution.Rule}) on the planted motifs, per task, over its positive test sequences:";
        foreach (var m in Mass)
        {
            string motifs = string.Join(" and ", Tasks.Evidence(m.Task).Select(x => x.Name));
            yield return $"  {Tasks.Names[m.Task],-5} {Format.Percent(m.MassOnMotifs),6} of |attribution| on {motifs} instances, which cover {Format.Percent(m.PositionsCovered)} of positions ({Format.Fixed(m.Enrichment, 1)}×; {m.Sequences} sequences)";
        }

        yield return "conv1 filters ranked by Neuron Integrated Gradients (summed over positions, mean over positives), with the planted motif each learned:";
        foreach (var f in Filters)
        {
            var top = f.Ranking.Take(3).Select((filter, i) => $"#{i + 1} {Describe(Motifs[filter])}");
            var verdict = f.FirstMatch.Select(m => m.Rank > 0 ? $"{m.Motif.Name} learned by the #{m.Rank} filter" : $"no filter learned {m.Motif.Name}");
            yield return $"  {Tasks.Names[f.Task],-5} {string.Join(", ", top)}: {string.Join("; ", verdict)} {(f.Passed ? "(pass)" : "(FAIL)")}";
        }

        yield return Passed ? "Sanity check passed." : "Sanity check FAILED: the model does not rely on the planted motifs as expected.";
    }

    /// <summary>"filter 7 (GATA+ 0.84)": a filter and the motif it matches best; "filter 29 (inactive: never activated)" for a filter that never fires.</summary>
    public static string Describe(FilterMotif motif)
    {
        if (motif.Sites == 0)
        {
            return $"filter {motif.Filter} (inactive: never activated)";
        }

        var best = motif.BestMatch;
        string learned = best.IsMatch ? Invariant($"{best.Motif.Name}{(best.ReverseStrand ? '−' : '+')} {best.Similarity:F2}") : Invariant($"no motif, best {best.Motif.Name} {best.Similarity:F2}");
        return $"filter {motif.Filter} ({learned})";
    }

    /// <summary>Builds the check from per-task filter importances and input-attribution masses.</summary>
    public static SanityCheck Build(IReadOnlyList<FilterMotif> motifs, IReadOnlyList<double[]> filterImportance, IReadOnlyList<AttributionMass> mass)
    {
        var checks = new List<FilterRankCheck>();
        for (int t = 0; t < Tasks.Count; t++)
        {
            var importance = filterImportance[t];
            var ranking = Enumerable.Range(0, importance.Length).OrderByDescending(f => importance[f]).ThenBy(f => f).ToArray();
            var firstMatch = Tasks.Evidence(t).Select(m => (m, Rank: RankOfFirstMatch(ranking, motifs, m))).ToList();
            checks.Add(new FilterRankCheck(t, ranking, importance, firstMatch));
        }

        return new SanityCheck(mass, checks, motifs);
    }

    private static int RankOfFirstMatch(int[] ranking, IReadOnlyList<FilterMotif> motifs, Motif motif)
    {
        for (int r = 0; r < ranking.Length; r++)
        {
            var best = motifs[ranking[r]].BestMatch;
            if (best.IsMatch && best.Motif == motif)
            {
                return r + 1;
            }
        }

        return 0;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
