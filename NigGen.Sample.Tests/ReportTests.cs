using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using NigGen.Sample.Analysis;
using NigGen.Sample.Genomics;
using NigGen.Sample.Report;
using NigGen.Sample.Scoring;
using Xunit;

namespace NigGen.Sample.Tests;

public sealed class ReportTests
{
    private static readonly AttributionOptions Options = new() { Steps = 20, MaxDegreeOfParallelism = 2 };

    [Fact]
    public void TestSetReportHasEverySectionTracksLogosAndBars()
    {
        var network = TestNetworks.GataDetector(threshold: 4);
        var test = SimulatedGenomics.Generate(1, Split.Test, 60);
        var inputs = SimulatedGenomics.OneHotBatch(test);
        var scored = new SequenceScorer(network, Options).Score(inputs, TaskSelection.All);
        var (model, sanity) = ModelAnalysis.TestSet(network, test, inputs, scored, [new("Test set", "60 sequences")]);
        string html = HtmlReport.Render(model);

        foreach (string id in HtmlReport.SectionIds.Append("sanity-check"))
        {
            Assert.Contains($"<section id=\"{id}\">", html);
        }

        Assert.Equal(4, Count(html, "<svg class=\"track\""));                           // one sequence of each kind
        Assert.Equal(RegulatoryNet.FilterCount + Motif.All.Count, Count(html, "<svg class=\"logo\"")); // filters and planted motifs
        Assert.Equal(Tasks.Count, Count(html, "<svg class=\"bars\""));                  // fc1, one chart per task
        Assert.Equal(RegulatoryNet.FilterCount * Tasks.Count, Count(html, "<svg class=\"bar\""));
        Assert.Contains("<rect class=\"motif\"", html);                                  // planted motifs shaded
        Assert.Contains("60 sequences", html);
        Assert.Equal(sanity.Passed, html.Contains("Sanity check: <span class=\"pass\">passed</span>"));

        // Self-contained: no script, no external resource.
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotMatch(new Regex("(src|href)=\"(?!#)"), html);
        Assert.DoesNotContain("http", html);
    }

    [Fact]
    public void SequenceReportHasATrackPerTaskAndNoSanityCheck()
    {
        var network = RegulatoryNet.CreateRandom(2);
        var sequence = SimulatedGenomics.Generate(3, Split.Test, 5).First(s => s.Instances.Count > 0);
        var input = new float[RegulatoryNet.InputLength];
        Dna.OneHot(sequence.Bases, input);
        var scored = new SequenceScorer(network, Options).Score(input, TaskSelection.All);
        var motifs = FilterMotifs.Learn(network, SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(1, Split.Test, 50)));
        string html = HtmlReport.Render(ModelAnalysis.Sequence(network, "seq<1>", sequence.Bases, sequence.Instances, scored, motifs, [new("Sequence", "seq<1>")]));

        foreach (string id in HtmlReport.SectionIds)
        {
            Assert.Contains($"<section id=\"{id}\">", html);
        }

        Assert.DoesNotContain("id=\"sanity-check\"", html);
        Assert.Equal(Tasks.Count, Count(html, "<svg class=\"track\""));
        Assert.Equal(Tasks.Count * sequence.Instances.Count, Count(html, "<rect class=\"motif\""));
        Assert.Contains("seq&lt;1&gt;", html); // text is escaped
        Assert.DoesNotContain("seq<1>", html);
    }

    [Fact]
    public void TrackDrawsOneLetterPerScoredPositionAboveOrBelowTheLine()
    {
        var scores = new float[20];
        scores[3] = 1;
        scores[4] = -0.5f;
        string svg = Svg.Track("ACGTACGTACGTACGTACGT", scores, [new MotifInstance(Motif.Gata, 2, true)]);
        Assert.Equal(2, Count(svg, "<use href=\"#glyph-"));
        Assert.Contains("#glyph-T", svg);   // position 3 is T
        Assert.Contains("#glyph-A", svg);   // position 4 is A
        Assert.Contains("GATA−", svg);
    }

    private static int Count(string text, string pattern) => Regex.Matches(text, Regex.Escape(pattern)).Count;
}
