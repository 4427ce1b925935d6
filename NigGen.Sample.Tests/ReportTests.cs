using System;
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
        // The GATA detector has one filter that fires; the 31 others never do and are said to be inactive, without a logo.
        Assert.Equal(1 + Motif.All.Count, Count(html, "<svg class=\"logo\""));        // the active filter and the planted motifs
        Assert.Equal(RegulatoryNet.FilterCount - 1, Count(html, "<td class=\"inactive\">inactive: never activated</td><td class=\"nomatch\">none</td>"));
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

    [Fact]
    public void FiltersAreSortedByTheKeyTheCaptionStatesAndThatKeyIsInBold()
    {
        var network = RegulatoryNet.CreateRandom(5);
        var test = SimulatedGenomics.Generate(2, Split.Test, 40);
        var inputs = SimulatedGenomics.OneHotBatch(test);
        var scored = new SequenceScorer(network, Options).Score(inputs, TaskSelection.All);
        var (model, _) = ModelAnalysis.TestSet(network, test, inputs, scored, [new("Test set", "40 sequences")]);
        string html = HtmlReport.Render(model);

        Assert.Contains("Rows are ranked by each filter's largest importance over the tasks (in bold)", model.FiltersCaption);
        var rows = Regex.Matches(html, "<tr><td>\\d+</td>.*?</tr>").Select(m => m.Value).ToList();
        Assert.Equal(RegulatoryNet.FilterCount, rows.Count);
        double previous = double.PositiveInfinity;
        foreach (string row in rows)
        {
            var values = Regex.Matches(row, "</svg> (-?[0-9.]+)</td>").Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            string key = Assert.Single(Regex.Matches(row, "<td class=\"importance key\">.*?</svg> (-?[0-9.]+)</td>")).Groups[1].Value;
            double keyValue = double.Parse(key, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(Tasks.Count, values.Count);
            Assert.Equal(values.Max(), keyValue);       // the bold value is the row's largest
            Assert.True(keyValue <= previous, $"rows out of order: {keyValue} after {previous}");
            previous = keyValue;
        }
    }

    [Theory]
    [InlineData(-0.3, 4.047, -1, 5, 1)]     // a shallow negative part gets one step, ticked
    [InlineData(0, 2.598, 0, 3, 1)]         // nothing negative: the axis starts at 0
    [InlineData(-0.25, 0.5, -0.4, 0.6, 0.2)]
    [InlineData(0, 12, 0, 12.5, 2.5)]
    [InlineData(-3, -1, -3, 0, 1)]          // all negative: the axis ends at 0
    [InlineData(0, 0.30000000000000004, 0, 0.3, 0.1)] // a rounding error past a step adds no interval
    [InlineData(0, 0, 0, 1, 0.25)]          // all zero
    public void AxesRunBetweenRoundNumbersThatEncloseTheValuesAndZero(double min, double max, double low, double high, double step)
    {
        var axis = Svg.RoundAxis(min, max);
        Assert.Equal(step, axis.Step, 12);
        Assert.Equal(low, axis.Low, 12);
        Assert.Equal(high, axis.High, 12);
    }

    [Theory]
    [InlineData(double.NaN, 1, "min")]
    [InlineData(0, double.PositiveInfinity, "max")]
    public void AnAxisOfNonFiniteValuesIsRefused(double min, double max, string name)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Svg.RoundAxis(min, max));
        Assert.Equal(name, error.ParamName);
        Assert.StartsWith("An axis needs finite values; the plotted values run from", error.Message);
    }

    [Fact]
    public void BarChartsHaveLabelledAxesAZeroTickAndTheirNeuronLabelsUnderThePlot()
    {
        // Mostly positive, one small negative value: the negative part is one step deep and ticked.
        double[] values = [4.0, 0.5, -0.3, 2.0, 0, 1.0, 3.0, 0.1];
        string svg = Svg.BarChart(values, "task gata", xTitle: "fc1 neuron", yTitle: "importance");

        Assert.Contains(">fc1 neuron</text>", svg);
        Assert.Contains("rotate(-90", svg);
        Assert.Contains(">importance</text>", svg);
        var ticks = YTicks(svg);
        Assert.Equal(["−1", "0", "1", "2", "3", "4"], ticks.Select(t => t.Label).Reverse());

        // Equal steps: 120 px over five units.
        double zero = ticks.Single(t => t.Label == "0").Y;
        Assert.Equal(24, zero - ticks.Single(t => t.Label == "1").Y, 6);
        Assert.Equal(24, ticks.Single(t => t.Label == "−1").Y - zero, 6);

        // The neuron numbers sit right under the plot's bottom (−1), not far below the zero line.
        double bottom = ticks.Single(t => t.Label == "−1").Y;
        var labels = Regex.Matches(svg, "<text x=\"[0-9.]+\" y=\"([0-9.]+)\" font-size=\"10\" text-anchor=\"middle\">(\\d+)</text>").ToList();
        Assert.Equal(["0", "4"], labels.Select(m => m.Groups[2].Value));
        Assert.All(labels, m => Assert.InRange(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) - bottom, 8, 16));
    }

    [Fact]
    public void BarChartsWithNothingNegativeStartAtZero()
    {
        string svg = Svg.BarChart([1.0, 2.5, 0.2], "task both", xTitle: "fc1 neuron", yTitle: "importance");
        var ticks = YTicks(svg);
        Assert.Equal("0", ticks[^1].Label);
        Assert.DoesNotContain(ticks, t => t.Label.StartsWith('−'));
    }

    [Fact]
    public void TracksHaveAxisTitlesAndTicksAtZeroAndBothEnds()
    {
        var scores = new float[40];
        scores[3] = 0.5f;
        scores[7] = -0.2f;
        string svg = Svg.Track(new string('A', 40), scores, null);

        Assert.Contains(">position (base)</text>", svg);
        Assert.Contains(">attribution</text>", svg);
        Assert.Equal(["0.5", "0", "−0.5"], YTicks(svg).Select(t => t.Label));
    }

    // The y axis's tick labels (font size 9, right-aligned), top to bottom, with their baselines.
    private static List<(string Label, double Y)> YTicks(string svg) =>
        Regex.Matches(svg, "<text x=\"[0-9.]+\" y=\"([0-9.]+)\" font-size=\"9\" text-anchor=\"end\">([^<]+)</text>")
            .Select(m => (m.Groups[2].Value, double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(t => t.Item2)
            .ToList();

    private static int Count(string text, string pattern) => Regex.Matches(text, Regex.Escape(pattern)).Count;
}
