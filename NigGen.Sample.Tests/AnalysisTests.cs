using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Sample.Analysis;
using NigGen.Sample.Genomics;
using Xunit;

namespace NigGen.Sample.Tests;

public sealed class AnalysisTests
{
    [Fact]
    public void PositionScoresSumToTheOutputDifference()
    {
        // DeepLIFT's summation property, per request: Σ over positions (and channels) = F(x) − F(baseline).
        var network = RegulatoryNet.CreateRandom(4);
        var inputs = SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(6, Split.Test, 3));
        var scores = InputAttribution.PositionScores(network, inputs, [0, 2, 2], [Tasks.Gata, Tasks.Both, Tasks.Tal1]);
        var logits = new float[3 * Tasks.Count];
        network.Forward(inputs, logits);
        var baseline = new float[Tasks.Count];
        network.Forward(Dna.BackgroundBaseline(), baseline);
        foreach (var (sample, task, k) in new[] { (0, Tasks.Gata, 0), (2, Tasks.Both, 1), (2, Tasks.Tal1, 2) })
        {
            double sum = scores.Skip(k * Dna.SequenceLength).Take(Dna.SequenceLength).Sum(v => (double)v);
            Assert.Equal(logits[sample * Tasks.Count + task] - baseline[task], sum, 4);
        }
    }

    [Fact]
    public void MassOnMotifsIsTheShareOfAbsoluteScoreTheyCover()
    {
        var scores = new float[20];
        scores[2] = 3; scores[3] = -1; scores[7] = 4; scores[12] = -2;
        var instances = new List<MotifInstance> { new(Motif.Gata, 1, false) }; // GATA covers positions 1…10
        Assert.Equal(8.0 / 10.0, InputAttribution.MassOn(scores, instances, [Motif.Gata]), 12);
        Assert.Equal(0.0, InputAttribution.MassOn(scores, instances, [Motif.Tal1]), 12);
        Assert.Equal(10, InputAttribution.Coverage(instances, [Motif.Gata], 20).Count(c => c));
    }

    [Fact]
    public void ActivationsFollowTheFilterWeightsWithSamePadding()
    {
        var network = TestNetworks.GataDetector(threshold: 2);
        var sequence = SimulatedGenomics.Generate(1, Split.Test, 50).First(s => s.Instances.Any(m => m.Motif == Motif.Gata && !m.ReverseStrand));
        var instance = sequence.Instances.First(m => m.Motif == Motif.Gata && !m.ReverseStrand);
        var input = new float[RegulatoryNet.InputLength];
        Dna.OneHot(sequence.Bases, input);
        var activations = new float[RegulatoryNet.FilterCount * Dna.SequenceLength];
        FilterMotifs.Activations(network, input, activations);

        // Output position p reads input positions p − 5 … p + 5: the motif starting at s is read whole at p = s + 5.
        double expected = -2;
        for (int k = 0; k < Motif.Gata.Length; k++)
        {
            expected += TestNetworks.LogOdds(Motif.Gata, k, Dna.Channel(sequence.Bases[instance.Start + k]));
        }

        Assert.Equal(Math.Max(0, expected), activations[instance.Start + RegulatoryNet.FilterPadding], 4);
        Assert.All(activations.Skip(Dna.SequenceLength), a => Assert.Equal(0f, a)); // filters 1…15: bias −1, no weights
    }

    [Fact]
    public void AFilterHoldingAMotifsLogOddsLearnsThatMotif()
    {
        var network = TestNetworks.GataDetector(threshold: 4);
        var motifs = FilterMotifs.Learn(network, SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(1, Split.Test, 400)));
        var gata = motifs[0].BestMatch;
        Assert.Equal(Motif.Gata, gata.Motif);
        Assert.False(gata.ReverseStrand);
        Assert.Equal(0, gata.Offset);
        Assert.True(gata.Similarity > 0.8, $"similarity {gata.Similarity}");
        Assert.True(motifs[0].Sites > 100);
        Assert.True(motifs[0].Matches[1].Similarity < MotifMatch.Threshold, $"TAL1 similarity {motifs[0].Matches[1].Similarity}");

        // A filter that never fires shows the background and matches nothing.
        Assert.Equal(0, motifs[5].Sites);
        Assert.Equal(Dna.Background[0], motifs[5].Frequencies[0], 5);
        Assert.False(motifs[5].BestMatch.IsMatch);
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 0)]
    [InlineData(false, -2)]
    public void MatchFindsAMotifEmbeddedInABackgroundMatrix(bool reverse, int offset)
    {
        const int width = RegulatoryNet.FilterWidth;
        var matrix = new float[width * Dna.Channels];
        for (int k = 0; k < width; k++)
        {
            Dna.Background.CopyTo(matrix.AsSpan(k * Dna.Channels, Dna.Channels));
        }

        var motif = Motif.Gata.ProbabilityMatrix(reverse);
        for (int j = 0; j < Motif.Gata.Length; j++)
        {
            if (offset + j is >= 0 and < width)
            {
                motif.AsSpan(j * Dna.Channels, Dna.Channels).CopyTo(matrix.AsSpan((offset + j) * Dna.Channels, Dna.Channels));
            }
        }

        var match = FilterMotifs.Match(matrix, width, Motif.Gata);
        Assert.Equal(reverse, match.ReverseStrand);
        Assert.Equal(offset, match.Offset);
        // Each aligned column correlates perfectly and is as informative as the motif's: the similarity is the share of
        // the motif's information inside the filter.
        double Information(int j) => FilterMotifs.Information(motif.AsSpan(j * Dna.Channels, Dna.Channels));
        double inside = Enumerable.Range(0, Motif.Gata.Length).Where(j => offset + j is >= 0 and < width).Sum(Information);
        Assert.Equal(inside / Enumerable.Range(0, Motif.Gata.Length).Sum(Information), match.Similarity, 5);
    }

    [Fact]
    public void InformationContentIsTwoBitsForOneBaseAndZeroForUniform()
    {
        Assert.Equal(2.0, FilterMotifs.Information([0, 0, 1, 0]), 12);
        Assert.Equal(0.0, FilterMotifs.Information([0.25f, 0.25f, 0.25f, 0.25f]), 12);
        Assert.Equal(1.0, FilterMotifs.Information([0.5f, 0, 0.5f, 0]), 12);
    }

    [Fact]
    public void AurocCountsPairsWithTiesAsHalf()
    {
        var random = new SplitMix(9);
        var scores = new float[300];
        var positive = new bool[300];
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = random.Next(20); // many ties
            positive[i] = random.NextDouble() < 0.3 + scores[i] / 40;
        }

        double pairs = 0, wins = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            for (int j = 0; j < scores.Length; j++)
            {
                if (positive[i] && !positive[j])
                {
                    pairs++;
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        }

        Assert.Equal(wins / pairs, TaskMetrics.AreaUnderRoc(scores, positive), 12);
        Assert.Equal(1.0, TaskMetrics.AreaUnderRoc([0.1f, 0.9f], [false, true]));
        Assert.Equal(0.0, TaskMetrics.AreaUnderRoc([0.1f, 0.9f], [true, false]));
        Assert.True(double.IsNaN(TaskMetrics.AreaUnderRoc([0.1f, 0.9f], [true, true])));
    }

    [Fact]
    public void AccuracyThresholdsLogitsAtZero()
    {
        float[] logits = [2, -1, 0.5f, /**/ -3, 1, -0.5f];
        float[] labels = [1, 0, 0, /**/ 0, 0, 1];
        var metrics = TaskMetrics.Compute(logits, labels, 3);
        Assert.Equal(new[] { 1.0, 0.5, 0.0 }, metrics.Accuracy);
        Assert.Equal(0.5, metrics.MeanAccuracy, 12);
    }

    [Fact]
    public void SanityCheckPassesOnlyWhenTopFiltersMatchTheTasksMotifs()
    {
        // Filter 0 learned GATA, filter 1 TAL1, the rest nothing.
        var network = TestNetworks.GataDetector(threshold: 4);
        var learned = FilterMotifs.Learn(network, SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(1, Split.Test, 300)));
        var tal1Matrix = Motif.Tal1.ProbabilityMatrix().Concat(Enumerable.Repeat(0.25f, Dna.Channels * (RegulatoryNet.FilterWidth - Motif.Tal1.Length))).ToArray();
        var tal1 = new FilterMotif(1, tal1Matrix, 50,
            [FilterMotifs.Match(tal1Matrix, RegulatoryNet.FilterWidth, Motif.Gata), FilterMotifs.Match(tal1Matrix, RegulatoryNet.FilterWidth, Motif.Tal1)]);
        var motifs = learned.Select((m, f) => f == 1 ? tal1 : m).ToArray();
        var mass = Enumerable.Range(0, 3).Select(t => new AttributionMass(t, 10, 0.5, 0.1)).ToList();

        double[] Importance(params int[] order)
        {
            var values = new double[RegulatoryNet.FilterCount];
            for (int r = 0; r < order.Length; r++)
            {
                values[order[r]] = 10 - r;
            }

            return values;
        }

        var good = SanityCheck.Build(motifs, [Importance(5, 0, 1), Importance(0), Importance(1)], mass);
        Assert.True(good.Passed, string.Join('\n', good.Lines()));
        Assert.Equal(2, good.Filters[0].FirstMatch[0].Rank);
        Assert.Equal(3, good.Filters[0].FirstMatch[1].Rank);

        var wrongTop = SanityCheck.Build(motifs, [Importance(0, 1), Importance(1, 0), Importance(1)], mass);
        Assert.False(wrongTop.Filters[Tasks.Gata].Passed);
        Assert.False(wrongTop.Passed);
        Assert.Contains(wrongTop.Lines(), l => l.Contains("FAIL", StringComparison.Ordinal));

        var noEnrichment = SanityCheck.Build(motifs, [Importance(0, 1), Importance(0), Importance(1)], [.. mass.Take(2), new AttributionMass(2, 10, 0.05, 0.1)]);
        Assert.False(noEnrichment.Passed);
    }
}
