using System;
using System.Collections.Generic;

namespace NigGen.Sample.Genomics;

/// <summary>
/// A transcription-factor motif as a position weight matrix: for each position, the probability of A, C, G and T.
/// Planted instances are sampled column by column from it, so that, as in real binding sites, they vary around the
/// consensus.
/// </summary>
public sealed class Motif
{
    private readonly float[] _probabilities; // [position, base], rows sum to 1

    private Motif(string name, string description, float[,] probabilities)
    {
        Name = name;
        Description = description;
        Length = probabilities.GetLength(0);
        _probabilities = new float[Length * Dna.Channels];
        for (int p = 0; p < Length; p++)
        {
            double sum = 0;
            for (int c = 0; c < Dna.Channels; c++)
            {
                _probabilities[p * Dna.Channels + c] = probabilities[p, c];
                sum += probabilities[p, c];
            }

            if (Math.Abs(sum - 1) > 1e-5)
            {
                throw new ArgumentException($"Motif {name}: position {p} sums to {sum}, not 1.", nameof(probabilities));
            }
        }
    }

    /// <summary>
    /// GATA-like: consensus CAGATAAGGC, the GATA family's WGATAR core (here AGATAA) with informative flanks. Ten
    /// positions, 13.7 bits of information: strong enough to stand out of 200 bases of an AT-rich background, where the
    /// core GATAA alone occurs by chance about once per sequence.
    /// </summary>
    public static Motif Gata { get; } = new("GATA", "GATA-like, consensus CAGATAAGGC (the GATA family's WGATAR core)", new float[,]
    {
        //  A       C       G       T
        { 0.0667f, 0.8000f, 0.0667f, 0.0666f }, // C
        { 0.9000f, 0.0333f, 0.0334f, 0.0333f }, // A
        { 0.0100f, 0.0100f, 0.9700f, 0.0100f }, // G
        { 0.9700f, 0.0100f, 0.0100f, 0.0100f }, // A
        { 0.0100f, 0.0100f, 0.0100f, 0.9700f }, // T
        { 0.9700f, 0.0100f, 0.0100f, 0.0100f }, // A
        { 0.9000f, 0.0100f, 0.0800f, 0.0100f }, // A (R)
        { 0.0333f, 0.0333f, 0.9000f, 0.0334f }, // G
        { 0.0500f, 0.1500f, 0.7500f, 0.0500f }, // G/C
        { 0.1000f, 0.7000f, 0.1000f, 0.1000f }, // C
    });

    /// <summary>
    /// TAL1-like: consensus ACCAGCTGGT, the E-box CAGCTG that TAL1 (SCL) binds as a bHLH dimer, with flanks. Ten
    /// positions, 12.2 bits of information. The E-box is its own reverse complement; the flanks are not.
    /// </summary>
    public static Motif Tal1 { get; } = new("TAL1", "TAL1-like, consensus ACCAGCTGGT (the E-box CAGCTG bound by TAL1)", new float[,]
    {
        //  A       C       G       T
        { 0.6000f, 0.1333f, 0.1333f, 0.1334f }, // A
        { 0.0500f, 0.7000f, 0.2000f, 0.0500f }, // C/G
        { 0.0100f, 0.9700f, 0.0100f, 0.0100f }, // C
        { 0.9700f, 0.0100f, 0.0100f, 0.0100f }, // A
        { 0.0100f, 0.0800f, 0.9000f, 0.0100f }, // G (sometimes C)
        { 0.0100f, 0.9000f, 0.0800f, 0.0100f }, // C (sometimes G)
        { 0.0100f, 0.0100f, 0.0100f, 0.9700f }, // T
        { 0.0100f, 0.0100f, 0.9700f, 0.0100f }, // G
        { 0.0500f, 0.0500f, 0.7000f, 0.2000f }, // G/T
        { 0.1333f, 0.1333f, 0.1334f, 0.6000f }, // T
    });

    /// <summary>The planted motifs, in the order of the single-motif tasks.</summary>
    public static IReadOnlyList<Motif> All { get; } = [Gata, Tal1];

    /// <summary>Short name (GATA, TAL1).</summary>
    public string Name { get; }

    /// <summary>One line on what the motif stands for.</summary>
    public string Description { get; }

    /// <summary>Number of positions.</summary>
    public int Length { get; }

    /// <summary>The probability of base <paramref name="channel"/> (A, C, G, T) at <paramref name="position"/>.</summary>
    public float Probability(int position, int channel) => _probabilities[position * Dna.Channels + channel];

    /// <summary>The most likely base at every position.</summary>
    public string Consensus
    {
        get
        {
            var bases = new char[Length];
            for (int p = 0; p < Length; p++)
            {
                var row = _probabilities.AsSpan(p * Dna.Channels, Dna.Channels);
                bases[p] = Dna.Bases[row.IndexOf(MaxOf(row))];
            }

            return new string(bases);
        }
    }

    /// <summary>The matrix as [position, base] rows (a copy), optionally reverse-complemented.</summary>
    public float[] ProbabilityMatrix(bool reverseComplement = false)
    {
        var matrix = new float[Length * Dna.Channels];
        for (int p = 0; p < Length; p++)
        {
            for (int c = 0; c < Dna.Channels; c++)
            {
                int source = reverseComplement ? (Length - 1 - p) * Dna.Channels + Dna.Complement(c) : p * Dna.Channels + c;
                matrix[p * Dna.Channels + c] = _probabilities[source];
            }
        }

        return matrix;
    }

    /// <summary>One instance sampled from the matrix, on the forward strand or as its reverse complement.</summary>
    public string Sample(ref SplitMix random, bool reverseStrand)
    {
        var bases = new char[Length];
        for (int p = 0; p < Length; p++)
        {
            bases[p] = Dna.Bases[random.Choose(_probabilities.AsSpan(p * Dna.Channels, Dna.Channels))];
        }

        var instance = new string(bases);
        return reverseStrand ? Dna.ReverseComplement(instance) : instance;
    }

    private static float MaxOf(ReadOnlySpan<float> values)
    {
        float max = values[0];
        foreach (float v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }
}
