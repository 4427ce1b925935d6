using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using NigGen.Sample.Analysis;
using NigGen.Sample.Genomics;

namespace NigGen.Sample.Report;

/// <summary>
/// Writes a <see cref="ReportModel"/> as one static HTML page with inline SVG and CSS: no script, no external URL, so
/// it opens anywhere, offline. Sections (by id): summary, sanity-check (when there is ground truth), input-attributions,
/// filters, dense-layer.
/// </summary>
public static class HtmlReport
{
    /// <summary>The ids of the sections every report has, in order.</summary>
    public static IReadOnlyList<string> SectionIds { get; } = ["summary", "input-attributions", "filters", "dense-layer"];

    /// <summary>The page for <paramref name="model"/>.</summary>
    public static string Render(ReportModel model)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<title>").Append(Encode(model.Title)).Append("</title>\n");
        html.Append("<style>").Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append(Svg.GlyphDefinitions()).Append('\n');
        html.Append("<h1>").Append(Encode(model.Title)).Append("</h1>\n");
        html.Append("<p class=\"intro\">").Append(Encode(model.Introduction)).Append("</p>\n");

        html.Append("<section id=\"summary\">\n<h2>Summary</h2>\n<table class=\"summary\">\n");
        foreach (var (key, value) in model.Summary)
        {
            html.Append("<tr><th>").Append(Encode(key)).Append("</th><td>").Append(Encode(value)).Append("</td></tr>\n");
        }

        html.Append("</table>\n</section>\n");
        if (model.Sanity is not null)
        {
            AppendSanity(html, model.Sanity);
        }

        html.Append("<section id=\"input-attributions\">\n<h2>Input attributions</h2>\n<p class=\"caption\">").Append(Encode(model.TracksCaption)).Append("</p>\n");
        foreach (var track in model.Tracks)
        {
            html.Append("<figure class=\"track\">\n<figcaption>").Append(Encode(track.Title)).Append("</figcaption>\n");
            html.Append(Svg.Track(track.Bases, track.Scores, track.Instances)).Append("\n</figure>\n");
        }

        html.Append("</section>\n");
        AppendFilters(html, model);
        html.Append("<section id=\"dense-layer\">\n<h2>Dense layer (fc1) importance</h2>\n<p class=\"caption\">").Append(Encode(model.DenseCaption)).Append("</p>\n");
        for (int t = 0; t < model.DenseImportance.Count; t++)
        {
            if (model.DenseImportance[t] is null)
            {
                continue;
            }

            html.Append("<figure class=\"dense\">\n<figcaption>task ").Append(Encode(Tasks.Names[t])).Append("</figcaption>\n");
            html.Append(Svg.BarChart(model.DenseImportance[t], "task " + Tasks.Names[t], xTitle: "fc1 neuron", yTitle: "importance")).Append("\n</figure>\n");
        }

        html.Append("</section>\n");
        html.Append("<footer>Written by NigGen.Sample. Planted motifs: ");
        html.Append(Encode(string.Join("; ", Motif.All.Select(m => m.Description)))).Append(".</footer>\n");
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendSanity(StringBuilder html, SanityCheck sanity)
    {
        html.Append("<section id=\"sanity-check\">\n<h2>Sanity check: ");
        html.Append(sanity.Passed ? "<span class=\"pass\">passed</span>" : "<span class=\"fail\">failed</span>").Append("</h2>\n");
        html.Append("<p class=\"caption\">Does the trained model look where the motifs were planted, with filters that learned them? ");
        html.Append("Input attribution: DeepLIFT (").Append(Encode(InputAttribution.Rule.ToString())).Append(") of each task on its positive test sequences.</p>\n");
        html.Append("<table class=\"mass\">\n<tr><th>task</th><th>deciding motifs</th><th>|attribution| on them</th><th>positions they cover</th><th>enrichment</th><th>sequences</th></tr>\n");
        foreach (var m in sanity.Mass)
        {
            html.Append("<tr><td>").Append(Encode(Tasks.Names[m.Task])).Append("</td><td>").Append(Encode(string.Join(", ", Tasks.Evidence(m.Task).Select(x => x.Name))));
            html.Append("</td><td>").Append(Format.Percent(m.MassOnMotifs)).Append("</td><td>").Append(Format.Percent(m.PositionsCovered));
            html.Append("</td><td>").Append(Format.Fixed(m.Enrichment, 1)).Append("×</td><td>").Append(m.Sequences).Append("</td></tr>\n");
        }

        html.Append("</table>\n<table class=\"ranking\">\n<tr><th>task</th><th>top filters by Neuron Integrated Gradients (learned motif, similarity)</th><th>verdict</th></tr>\n");
        foreach (var f in sanity.Filters)
        {
            html.Append("<tr><td>").Append(Encode(Tasks.Names[f.Task])).Append("</td><td>");
            html.Append(Encode(string.Join(", ", f.Ranking.Take(3).Select((filter, i) => $"#{i + 1} {SanityCheck.Describe(sanity.Motifs[filter])}"))));
            html.Append("</td><td>").Append(Encode(string.Join("; ", f.FirstMatch.Select(m => m.Rank > 0 ? $"{m.Motif.Name} learned by the #{m.Rank} filter" : $"no filter learned {m.Motif.Name}"))));
            html.Append(f.Passed ? " <span class=\"pass\">pass</span>" : " <span class=\"fail\">fail</span>").Append("</td></tr>\n");
        }

        html.Append("</table>\n</section>\n");
    }

    private static void AppendFilters(StringBuilder html, ReportModel model)
    {
        html.Append("<section id=\"filters\">\n<h2>Convolution filters, ranked by their largest importance over the tasks</h2>\n<p class=\"caption\">").Append(Encode(model.FiltersCaption)).Append("</p>\n");
        html.Append("<div class=\"planted\">");
        foreach (var motif in Motif.All)
        {
            html.Append("<figure><figcaption>planted ").Append(Encode(motif.Name)).Append(" (").Append(Encode(motif.Consensus)).Append(")</figcaption>");
            html.Append(Svg.Logo(motif.ProbabilityMatrix(), motif.Length)).Append("</figure>");
        }

        html.Append("</div>\n<table class=\"filters\">\n<tr><th>rank</th><th>filter</th><th>learned motif</th><th>best match</th><th>sites</th>");
        var present = Enumerable.Range(0, Tasks.Count).Where(t => model.Filters.Count > 0 && model.Filters[0].Importance.Count > t).ToList();
        foreach (int t in present)
        {
            html.Append("<th>").Append(Encode(Tasks.Names[t])).Append("</th>");
        }

        html.Append("</tr>\n");
        double max = model.Filters.SelectMany(r => r.Importance).Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (int r = 0; r < model.Filters.Count; r++)
        {
            var row = model.Filters[r];
            var best = row.Motif.BestMatch;
            html.Append("<tr><td>").Append(r + 1).Append("</td><td>").Append(row.Motif.Filter).Append("</td>");
            if (row.Motif.Sites == 0)
            {
                // A filter that never fires has no motif to draw or match: say so rather than show a blank logo.
                html.Append("<td class=\"inactive\">inactive: never activated</td><td class=\"nomatch\">none</td>");
            }
            else
            {
                html.Append("<td>").Append(Svg.Logo(row.Motif.Frequencies, RegulatoryNet.FilterWidth)).Append("</td><td class=\"");
                html.Append(best.IsMatch ? "match\">" : "nomatch\">");
                html.Append(Encode($"{best.Motif.Name}{(best.ReverseStrand ? " (reverse)" : "")} {Format.Fixed(best.Similarity, 2)}")).Append("</td>");
            }

            html.Append("<td>").Append(row.Motif.Sites).Append("</td>");
            int rankedBy = present.OrderByDescending(t => row.Importance[t]).ThenBy(t => t).First();
            foreach (int t in present)
            {
                // The value the row is ranked by (its largest over the tasks) in bold.
                html.Append(t == rankedBy ? "<td class=\"importance key\">" : "<td class=\"importance\">");
                html.Append(Svg.InlineBar(row.Importance[t], max)).Append(' ').Append(Format.Fixed(row.Importance[t], 3)).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        html.Append("</table>\n</section>\n");
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #222; background: #fff; }
        h1 { font-size: 1.5em; margin-bottom: 0.3em; }
        h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 1.6em; }
        p.intro, p.caption { color: #444; max-width: 1000px; line-height: 1.4; }
        table { border-collapse: collapse; margin: 8px 0 16px; }
        th, td { border-bottom: 1px solid #eee; padding: 4px 10px; text-align: left; vertical-align: middle; font-size: 0.92em; }
        th { background: #f7f7f7; }
        table.summary th { width: 260px; }
        td.importance { white-space: nowrap; font-variant-numeric: tabular-nums; }
        td.match { color: #1b6e3a; font-weight: 600; }
        td.nomatch { color: #888; }
        td.key { font-weight: 700; }
        td.inactive { color: #888; font-style: italic; }
        .pass { color: #1b6e3a; } .fail { color: #b00020; }
        figure { margin: 10px 0 18px; }
        figcaption { font-size: 0.9em; color: #333; margin-bottom: 2px; }
        div.planted { display: flex; gap: 32px; }
        svg text { font-family: "DejaVu Sans", Arial, sans-serif; fill: #333; }
        footer { margin-top: 32px; color: #777; font-size: 0.85em; }
        """;
}
