using System;
using System.Collections.Generic;
using NigGen.Sample.Genomics;

namespace NigGen.Sample.Analysis;

/// <summary>How well a filter's learned motif matches a planted one: the best alignment over offsets and both strands.</summary>
public sealed record MotifMatch(Motif Motif, bool ReverseStrand, int Offset, double Similarity)
{
    /// <summary>Similarity at or above which a filter is said to have learned the motif.</summary>
    public const double Threshold = 0.5;

    /// <summary>Whether the similarity reaches <see cref="Threshold"/>.</summary>
    public bool IsMatch => Similarity >= Threshold;
}

/// <summary>One conv1 filter's learned motif: a position frequency matrix from the subsequences that activate it most.</summary>
public sealed class FilterMotif
{
    internal FilterMotif(int filter, float[] frequencies, int sites, IReadOnlyList<MotifMatch> matches)
    {
        Filter = filter;
        Frequencies = frequencies;
        Sites = sites;
        Matches = matches;
    }

    /// <summary>The filter's index in conv1.</summary>
    public int Filter { get; }

    /// <summary>Base frequencies [offset, base] over the filter's width (the background where the filter never fired).</summary>
    public IReadOnlyList<float> Frequencies { get; }

    /// <summary>Number of subsequences that activated the filter above half its maximum.</summary>
    public int Sites { get; }

    /// <summary>The best alignment with each planted motif, in <see cref="Motif.All"/>'s order.</summary>
    public IReadOnlyList<MotifMatch> Matches { get; }

    /// <summary>The planted motif this filter matches best.</summary>
    public MotifMatch BestMatch => Matches[0].Similarity >= Matches[1].Similarity ? Matches[0] : Matches[1];
}

/// <summary>
/// What each convolution filter learned. A filter's motif is the position frequency matrix of the subsequences where it
/// activates above half its maximum over a set of sequences (the convention of Kelley et al. 2016, Basset), aligned
/// to the filter's window. Its similarity to a planted motif, at the best offset (at least 5 columns overlapping) and
/// strand, is the column-wise Pearson correlation of the two matrices (as Tomtom compares motifs) averaged with weights:
/// each motif column counts by its information content, capped by that of the filter's column. So 1 means every motif
/// column is present, as informative and with the same preference; a weak, nearly-background filter column counts
/// little however its few bits correlate, and columns outside the filter count as 0.
/// </summary>
public static class FilterMotifs
{
    private const int MinimumOverlap = 5;

    /// <summary>conv1's activations (after ReLU) for one one-hot sequence, [filter, position], computed from its weights.</summary>
    public static void Activations(RegulatoryNet network, ReadOnlySpan<float> input, Span<float> activations)
    {
        int length = Dna.SequenceLength;
        int width = RegulatoryNet.FilterWidth;
        var weights = network.FilterWeights;
        var biases = network.FilterBiases;
        for (int f = 0; f < RegulatoryNet.FilterCount; f++)
        {
            for (int p = 0; p < length; p++)
            {
                float sum = biases[f];
                for (int k = 0; k < width; k++)
                {
                    int position = p + k - RegulatoryNet.FilterPadding;
                    if ((uint)position >= (uint)length)
                    {
                        continue; // zero padding
                    }

                    for (int c = 0; c < Dna.Channels; c++)
                    {
                        sum += weights[(f * Dna.Channels + c) * width + k] * input[c * length + position];
                    }
                }

                activations[f * length + p] = Math.Max(sum, 0f);
            }
        }
    }

    /// <summary>Every filter's learned motif over <paramref name="inputs"/> (n one-hot sequences).</summary>
    public static FilterMotif[] Learn(RegulatoryNet network, ReadOnlySpan<float> inputs)
    {
        int n = inputs.Length / RegulatoryNet.InputLength;
        int length = Dna.SequenceLength;
        int width = RegulatoryNet.FilterWidth;
        int filters = RegulatoryNet.FilterCount;
        var activations = new float[n * filters * length];
        for (int i = 0; i < n; i++)
        {
            Activations(network, inputs.Slice(i * RegulatoryNet.InputLength, RegulatoryNet.InputLength), activations.AsSpan(i * filters * length, filters * length));
        }

        var result = new FilterMotif[filters];
        for (int f = 0; f < filters; f++)
        {
            float max = 0;
            for (int i = 0; i < n; i++)
            {
                foreach (float a in activations.AsSpan((i * filters + f) * length, length))
                {
                    max = Math.Max(max, a);
                }
            }

            var counts = new double[width * Dna.Channels];
            int sites = 0;
            for (int i = 0; i < n && max > 0; i++)
            {
                var input = inputs.Slice(i * RegulatoryNet.InputLength, RegulatoryNet.InputLength);
                var row = activations.AsSpan((i * filters + f) * length, length);
                for (int p = 0; p < length; p++)
                {
                    if (row[p] <= 0.5f * max)
                    {
                        continue;
                    }

                    sites++;
                    for (int k = 0; k < width; k++)
                    {
                        int position = p + k - RegulatoryNet.FilterPadding;
                        if ((uint)position < (uint)length)
                        {
                            for (int c = 0; c < Dna.Channels; c++)
                            {
                                counts[k * Dna.Channels + c] += input[c * length + position];
                            }
                        }
                    }
                }
            }

            var frequencies = Normalise(counts, width);
            result[f] = new FilterMotif(f, frequencies, sites, [Match(frequencies, width, Motif.Gata), Match(frequencies, width, Motif.Tal1)]);
        }

        return result;
    }

    /// <summary>The best alignment of a [offset, base] frequency matrix of <paramref name="width"/> columns with <paramref name="motif"/>.</summary>
    public static MotifMatch Match(ReadOnlySpan<float> frequencies, int width, Motif motif)
    {
        var best = new MotifMatch(motif, false, 0, double.NegativeInfinity);
        foreach (bool reverse in new[] { false, true })
        {
            var matrix = motif.ProbabilityMatrix(reverse);
            var motifInformation = new double[motif.Length];
            double totalInformation = 0;
            for (int j = 0; j < motif.Length; j++)
            {
                motifInformation[j] = Information(matrix.AsSpan(j * Dna.Channels, Dna.Channels));
                totalInformation += motifInformation[j];
            }

            int overlapNeeded = Math.Min(MinimumOverlap, Math.Min(width, motif.Length));
            // Motif position j sits at filter column offset + j.
            for (int offset = overlapNeeded - motif.Length; offset <= width - overlapNeeded; offset++)
            {
                double sum = 0;
                for (int j = 0; j < motif.Length; j++)
                {
                    int column = offset + j;
                    if ((uint)column < (uint)width)
                    {
                        var filterColumn = frequencies.Slice(column * Dna.Channels, Dna.Channels);
                        double weight = Math.Min(motifInformation[j], Information(filterColumn));
                        sum += weight * Pearson(filterColumn, matrix.AsSpan(j * Dna.Channels, Dna.Channels));
                    }
                }

                double similarity = sum / totalInformation;
                if (similarity > best.Similarity)
                {
                    best = new MotifMatch(motif, reverse, offset, similarity);
                }
            }
        }

        return best;
    }

    /// <summary>Information content of each column in bits, relative to a uniform distribution (2 − entropy), as sequence logos draw it.</summary>
    public static double Information(ReadOnlySpan<float> column)
    {
        double entropy = 0;
        foreach (float p in column)
        {
            if (p > 0)
            {
                entropy -= p * Math.Log2(p);
            }
        }

        return 2 - entropy;
    }

    // Counts → frequencies with a pseudocount of one background-distributed site per column, so that a column no site
    // reached (or a filter that never fired) shows the background instead of dividing by zero.
    private static float[] Normalise(double[] counts, int width)
    {
        var frequencies = new float[counts.Length];
        var background = Dna.Background;
        for (int k = 0; k < width; k++)
        {
            double total = 1;
            for (int c = 0; c < Dna.Channels; c++)
            {
                total += counts[k * Dna.Channels + c];
            }

            for (int c = 0; c < Dna.Channels; c++)
            {
                frequencies[k * Dna.Channels + c] = (float)((counts[k * Dna.Channels + c] + background[c]) / total);
            }
        }

        return frequencies;
    }

    private static double Pearson(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double meanA = 0, meanB = 0;
        for (int i = 0; i < a.Length; i++)
        {
            meanA += a[i];
            meanB += b[i];
        }

        meanA /= a.Length;
        meanB /= b.Length;
        double covariance = 0, varianceA = 0, varianceB = 0;
        for (int i = 0; i < a.Length; i++)
        {
            covariance += (a[i] - meanA) * (b[i] - meanB);
            varianceA += (a[i] - meanA) * (a[i] - meanA);
            varianceB += (b[i] - meanB) * (b[i] - meanB);
        }

        return varianceA < 1e-12 || varianceB < 1e-12 ? 0 : covariance / Math.Sqrt(varianceA * varianceB);
    }
}
