using System;
using System.Collections.Generic;
using NigGen.Sample.Genomics;

namespace NigGen.Sample.Analysis;

/// <summary>
/// Per-position input attributions: DeepLIFT with deeplift's genomics rule (<see cref="DeepLiftRule.GenomicsDefault"/>:
/// RevealCancel after the dense layers, Rescale after the convolution) from the background baseline, as in the
/// DeepLIFT paper's own simulated-genomics experiment. It is exact in summation (Σ attributions = F(x) − F(x') up to
/// rounding), one forward and one backward pass per sequence, and batched. A position's score is the sum over its four
/// channels, which for a one-hot input is the observed base's contribution plus the (small) ones of the bases absent.
/// </summary>
public static class InputAttribution
{
    /// <summary>Attribution rule used for the input tracks.</summary>
    public const DeepLiftRule Rule = DeepLiftRule.GenomicsDefault;

    /// <summary>Per-position scores [request, position] of <paramref name="targets"/> for the listed samples of <paramref name="inputs"/>.</summary>
    public static float[] PositionScores(RegulatoryNet network, ReadOnlySpan<float> inputs, IReadOnlyList<int> samples, IReadOnlyList<int> targets)
    {
        int m = samples.Count;
        int inputLength = RegulatoryNet.InputLength;
        int length = Dna.SequenceLength;
        var selected = new float[m * inputLength];
        for (int k = 0; k < m; k++)
        {
            inputs.Slice(samples[k] * inputLength, inputLength).CopyTo(selected.AsSpan(k * inputLength, inputLength));
        }

        var attributions = new float[m * inputLength];
        var deltas = new float[m];
        var targetArray = new int[m];
        for (int k = 0; k < m; k++)
        {
            targetArray[k] = targets[k];
        }

        network.DeepLiftInputs(selected, Dna.BackgroundBaseline(), targetArray, attributions, deltas, Rule);
        var scores = new float[m * length];
        for (int k = 0; k < m; k++)
        {
            for (int c = 0; c < Dna.Channels; c++)
            {
                for (int p = 0; p < length; p++)
                {
                    scores[k * length + p] += attributions[k * inputLength + c * length + p];
                }
            }
        }

        return scores;
    }

    /// <summary>The fraction of Σ|score| that falls on the positions of the listed motifs' planted instances.</summary>
    public static double MassOn(ReadOnlySpan<float> scores, IReadOnlyList<MotifInstance> instances, IReadOnlyList<Motif> motifs)
    {
        var inMotif = Coverage(instances, motifs, scores.Length);
        double on = 0, total = 0;
        for (int p = 0; p < scores.Length; p++)
        {
            double magnitude = Math.Abs(scores[p]);
            total += magnitude;
            on += inMotif[p] ? magnitude : 0;
        }

        return total == 0 ? 0 : on / total;
    }

    /// <summary>Which positions the listed motifs' planted instances cover.</summary>
    public static bool[] Coverage(IReadOnlyList<MotifInstance> instances, IReadOnlyList<Motif> motifs, int length)
    {
        var covered = new bool[length];
        foreach (var instance in instances)
        {
            if (!Contains(motifs, instance.Motif))
            {
                continue;
            }

            for (int p = Math.Max(0, instance.Start); p < Math.Min(length, instance.End); p++)
            {
                covered[p] = true;
            }
        }

        return covered;
    }

    private static bool Contains(IReadOnlyList<Motif> motifs, Motif motif)
    {
        foreach (var m in motifs)
        {
            if (m == motif)
            {
                return true;
            }
        }

        return false;
    }
}
