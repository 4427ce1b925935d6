using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Sample.Genomics;
using Xunit;

namespace NigGen.Sample.Tests;

public sealed class SimulatedGenomicsTests
{
    [Fact]
    public void SameSeedGivesTheSameSequencesAndGroundTruth()
    {
        var first = SimulatedGenomics.Generate(7, Split.Train, 50);
        var second = SimulatedGenomics.Generate(7, Split.Train, 50);
        Assert.Equal(first.Select(s => s.Bases), second.Select(s => s.Bases));
        Assert.Equal(first.Select(s => string.Join(',', s.Instances)), second.Select(s => string.Join(',', s.Instances)));
    }

    [Fact]
    public void SeedsAndSplitsGiveDifferentSequences()
    {
        var reference = SimulatedGenomics.Generate(7, Split.Train, 20).Select(s => s.Bases).ToHashSet();
        Assert.DoesNotContain(SimulatedGenomics.Generate(8, Split.Train, 20), s => reference.Contains(s.Bases));
        Assert.DoesNotContain(SimulatedGenomics.Generate(7, Split.Test, 20), s => reference.Contains(s.Bases));
        Assert.DoesNotContain(SimulatedGenomics.Generate(7, Split.Validation, 20), s => reference.Contains(s.Bases));
    }

    [Fact]
    public void TheFirstSequencesDoNotDependOnHowManyAreGenerated()
    {
        var few = SimulatedGenomics.Generate(3, Split.Test, 5);
        var many = SimulatedGenomics.Generate(3, Split.Test, 40);
        Assert.Equal(few.Select(s => s.Bases), many.Take(5).Select(s => s.Bases));
        Assert.Equal("test-4", many[4].Id);
        Assert.Equal(many[17].Bases, SimulatedGenomics.GenerateOne(3, Split.Test, 17).Bases);
    }

    [Fact]
    public void LabelsFollowThePlantedMotifsAndInstancesAreValid()
    {
        foreach (var sequence in SimulatedGenomics.Generate(11, Split.Train, 500))
        {
            Assert.Equal(Dna.SequenceLength, sequence.Bases.Length);
            Assert.All(sequence.Bases, b => Assert.Contains(b, Dna.Bases));
            int gata = sequence.Instances.Count(m => m.Motif == Motif.Gata);
            int tal1 = sequence.Instances.Count(m => m.Motif == Motif.Tal1);
            Assert.InRange(gata, 0, 2);
            Assert.InRange(tal1, 0, 2);
            Assert.Equal(new[] { gata > 0 && tal1 > 0, gata > 0, tal1 > 0 }, sequence.Labels);
            for (int i = 0; i < sequence.Instances.Count; i++)
            {
                var instance = sequence.Instances[i];
                Assert.InRange(instance.Start, 0, Dna.SequenceLength - instance.Motif.Length);
                if (i > 0)
                {
                    Assert.True(sequence.Instances[i - 1].End <= instance.Start, $"{sequence.Id}: {sequence.Instances[i - 1]} overlaps {instance}");
                }
            }
        }
    }

    [Fact]
    public void TheFourCasesStrandsAndBackgroundHaveTheDocumentedFrequencies()
    {
        var sequences = SimulatedGenomics.Generate(5, Split.Train, 4000);
        var cases = sequences.GroupBy(s => (s.Labels[Tasks.Gata], s.Labels[Tasks.Tal1])).ToDictionary(g => g.Key, g => g.Count() / 4000.0);
        Assert.Equal(4, cases.Count);
        Assert.All(cases.Values, fraction => Assert.InRange(fraction, 0.22, 0.28));

        var instances = sequences.SelectMany(s => s.Instances).ToList();
        Assert.InRange(instances.Count(m => m.ReverseStrand) / (double)instances.Count, 0.47, 0.53);

        // Outside the motifs the background is 40% GC.
        long gc = 0, total = 0;
        foreach (var s in sequences)
        {
            for (int p = 0; p < s.Bases.Length; p++)
            {
                if (!s.IsInMotif(p, Motif.All))
                {
                    total++;
                    gc += s.Bases[p] is 'G' or 'C' ? 1 : 0;
                }
            }
        }

        Assert.InRange(gc / (double)total, 0.39, 0.41);
    }

    [Theory]
    [InlineData("GATA")]
    [InlineData("TAL1")]
    public void PlantedBasesAreSampledFromTheMotifAtTheRecordedStartAndStrand(string name)
    {
        // Read every planted instance back at its recorded start, undo the recorded strand, and compare the base
        // frequencies per position with the motif's matrix: wrong starts or strands would blur them towards the background.
        var motif = Motif.All.Single(m => m.Name == name);
        var counts = new double[motif.Length, Dna.Channels];
        int instances = 0;
        foreach (var sequence in SimulatedGenomics.Generate(2, Split.Train, 3000))
        {
            foreach (var instance in sequence.Instances.Where(m => m.Motif == motif))
            {
                string bases = sequence.Bases.Substring(instance.Start, motif.Length);
                if (instance.ReverseStrand)
                {
                    bases = Dna.ReverseComplement(bases);
                }

                for (int p = 0; p < motif.Length; p++)
                {
                    counts[p, Dna.Channel(bases[p])]++;
                }

                instances++;
            }
        }

        Assert.InRange(instances, 1800, 2700); // half the sequences hold the motif, 1.5 copies on average
        for (int p = 0; p < motif.Length; p++)
        {
            for (int c = 0; c < Dna.Channels; c++)
            {
                Assert.InRange(counts[p, c] / instances, motif.Probability(p, c) - 0.035, motif.Probability(p, c) + 0.035);
            }
        }
    }

    [Fact]
    public void OneHotUsesChannelOrderACGTAndTheBackgroundForN()
    {
        var encoded = new float[4 * 5];
        Dna.OneHot("ACgtN", encoded);
        float[] expected =
        [
            1, 0, 0, 0, 0.3f, // A
            0, 1, 0, 0, 0.2f, // C
            0, 0, 1, 0, 0.2f, // G
            0, 0, 0, 1, 0.3f, // T
        ];
        Assert.Equal(expected, encoded);

        var error = Assert.Throws<ArgumentException>(() => Dna.OneHot("ACXT", new float[16]));
        Assert.Contains("'X' at position 3", error.Message);
    }

    [Fact]
    public void BatchesHoldOneHotSequencesAndZeroOneLabels()
    {
        var sequences = SimulatedGenomics.Generate(1, Split.Test, 3);
        var inputs = SimulatedGenomics.OneHotBatch(sequences);
        var labels = SimulatedGenomics.LabelBatch(sequences);
        Assert.Equal(3 * RegulatoryNet.InputLength, inputs.Length);
        for (int i = 0; i < 3; i++)
        {
            for (int p = 0; p < Dna.SequenceLength; p++)
            {
                int channel = Dna.Channel(sequences[i].Bases[p]);
                Assert.Equal(1f, inputs[i * RegulatoryNet.InputLength + channel * Dna.SequenceLength + p]);
            }

            Assert.Equal(sequences[i].Labels.Select(l => l ? 1f : 0f), labels.AsSpan(i * Tasks.Count, Tasks.Count).ToArray());
        }

        Assert.Equal(3 * Dna.SequenceLength, inputs.Sum());
    }

    [Theory]
    [InlineData("GATA", 13.7)]
    [InlineData("TAL1", 12.2)]
    public void MotifsHoldTheDocumentedInformation(string name, double bits)
    {
        var motif = Motif.All.Single(m => m.Name == name);
        var matrix = motif.ProbabilityMatrix();
        double information = Enumerable.Range(0, motif.Length).Sum(p => Analysis.FilterMotifs.Information(matrix.AsSpan(p * Dna.Channels, Dna.Channels)));
        Assert.Equal(bits, information, 1);
    }

    [Fact]
    public void ReverseComplementAndMotifMatrixAgree()
    {
        Assert.Equal("NACGGT", Dna.ReverseComplement("ACCGTN"));
        Assert.Equal("CAGATAAGGC", Motif.Gata.Consensus);
        Assert.Equal("ACCAGCTGGT", Motif.Tal1.Consensus);
        var reverse = Motif.Gata.ProbabilityMatrix(reverseComplement: true);
        for (int p = 0; p < Motif.Gata.Length; p++)
        {
            for (int c = 0; c < Dna.Channels; c++)
            {
                Assert.Equal(Motif.Gata.Probability(Motif.Gata.Length - 1 - p, 3 - c), reverse[p * Dna.Channels + c]);
            }
        }
    }

    [Fact]
    public void AnnotationRoundTripsTheGroundTruth()
    {
        foreach (var sequence in SimulatedGenomics.Generate(4, Split.Test, 40))
        {
            var parsed = SimulatedGenomics.ParseInstances(SimulatedGenomics.Annotation(sequence));
            Assert.NotNull(parsed);
            Assert.Equal(sequence.Instances, parsed);
        }

        Assert.Null(SimulatedGenomics.ParseInstances("chr1:100-300 some other header"));
        Assert.Null(SimulatedGenomics.ParseInstances("motifs=FOO:+:3"));
    }

    [Fact]
    public void SplitMixIsUniformOverItsRange()
    {
        var random = new SplitMix(42);
        var counts = new int[10];
        for (int i = 0; i < 100_000; i++)
        {
            counts[random.Next(10)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 9_600, 10_400)); // ±4σ of a binomial(100000, 0.1)
        Assert.Equal(new SplitMix(42, 3).NextUInt64(), new SplitMix(42, 3).NextUInt64());
        Assert.NotEqual(new SplitMix(42, 3).NextUInt64(), new SplitMix(42, 4).NextUInt64());
    }
}
