using System;

namespace NigGen.Tests.Training;

/// <summary>
/// A deterministic synthetic regulatory-genomics task for <see cref="Networks.MotifNet"/>: one-hot DNA (A, C, G, T
/// rows × 24 positions) on a uniform random background, with a GATA-like motif (GATAAG), an E-box-like motif (CAGCTG),
/// both or neither planted at random positions.
/// </summary>
internal sealed class MotifData
{
    private const int Length = 24;
    private static readonly string[] Motifs = ["GATAAG", "CAGCTG"];

    public MotifData(int samples, int seed)
    {
        var random = new Random(seed);
        Inputs = new float[samples * 4 * Length];
        HasMotif = new bool[samples, 2];
        for (int s = 0; s < samples; s++)
        {
            var bases = new char[Length];
            for (int i = 0; i < Length; i++)
            {
                bases[i] = "ACGT"[random.Next(4)];
            }

            // Kinds 0–3: neither, the first, the second, both (in separate halves so that they never overlap).
            int kind = random.Next(4);
            for (int m = 0; m < 2; m++)
            {
                if ((kind & (m + 1)) != 0)
                {
                    int start = kind == 3 ? m * Length / 2 + random.Next(Length / 2 - 5) : random.Next(Length - 5);
                    Motifs[m].CopyTo(0, bases, start, 6);
                }
            }

            for (int i = 0; i < Length; i++)
            {
                Inputs[s * 4 * Length + "ACGT".IndexOf(bases[i]) * Length + i] = 1f;
            }

            // A background that happens to contain a motif counts: the labels say what the sequence holds.
            string sequence = new(bases);
            HasMotif[s, 0] = sequence.Contains(Motifs[0], StringComparison.Ordinal);
            HasMotif[s, 1] = sequence.Contains(Motifs[1], StringComparison.Ordinal);
        }
    }

    public float[] Inputs { get; }

    public bool[,] HasMotif { get; }

    public int Samples => HasMotif.GetLength(0);

    /// <summary>Three classes (neither motif, the first, the second) over the samples that hold at most one motif, one-hot.</summary>
    public int ClassOf(int sample) => HasMotif[sample, 0] ? (HasMotif[sample, 1] ? -1 : 1) : HasMotif[sample, 1] ? 2 : 0;

    /// <summary>Three tasks for the sigmoid loss: holds the first motif, holds the second, holds both.</summary>
    public float[] TaskTargets()
    {
        var targets = new float[Samples * 3];
        for (int s = 0; s < Samples; s++)
        {
            targets[s * 3] = HasMotif[s, 0] ? 1 : 0;
            targets[s * 3 + 1] = HasMotif[s, 1] ? 1 : 0;
            targets[s * 3 + 2] = HasMotif[s, 0] && HasMotif[s, 1] ? 1 : 0;
        }

        return targets;
    }
}
