using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace NigGen.Sample.Genomics;

/// <summary>Where one motif instance was planted: 0-based start, and whether the reverse complement was written.</summary>
public sealed record MotifInstance(Motif Motif, int Start, bool ReverseStrand)
{
    /// <summary>One past the last position covered.</summary>
    public int End => Start + Motif.Length;

    /// <summary>"GATA:+:34" (motif, strand, 0-based start): the form used in FASTA headers and reports.</summary>
    public override string ToString() => $"{Motif.Name}:{(ReverseStrand ? '-' : '+')}:{Start.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>One simulated sequence, its labels and its ground truth.</summary>
public sealed class SimulatedSequence
{
    internal SimulatedSequence(string id, string bases, IReadOnlyList<MotifInstance> instances)
    {
        Id = id;
        Bases = bases;
        Instances = instances;
        Labels = Tasks.Labels(instances.Any(m => m.Motif == Motif.Gata), instances.Any(m => m.Motif == Motif.Tal1));
    }

    /// <summary>"train-12", "validation-3", "test-40".</summary>
    public string Id { get; }

    /// <summary>The 200 bases (A, C, G, T).</summary>
    public string Bases { get; }

    /// <summary>Every planted instance, by start position.</summary>
    public IReadOnlyList<MotifInstance> Instances { get; }

    /// <summary>One label per task (<see cref="Tasks"/>).</summary>
    public IReadOnlyList<bool> Labels { get; }

    /// <summary>Whether <paramref name="position"/> lies in a planted instance of one of <paramref name="motifs"/>.</summary>
    public bool IsInMotif(int position, IReadOnlyList<Motif> motifs) =>
        Instances.Any(m => position >= m.Start && position < m.End && motifs.Contains(m.Motif));
}

/// <summary>Which part of the simulated data: each is its own family of random streams, so the splits never share a sequence's stream.</summary>
public enum Split
{
    /// <summary>Training data.</summary>
    Train,

    /// <summary>Held out during training, for early feedback (the progress line's accuracy).</summary>
    Validation,

    /// <summary>Held out until evaluation, scoring and the report.</summary>
    Test,
}

/// <summary>
/// The simulated regulatory-genomics data, in the style of the DeepLIFT paper's experiment: random background DNA with
/// 40% GC, into which 1 or 2 instances of a GATA-like and/or a TAL1-like motif are planted at random non-overlapping
/// positions, each on a random strand. Each sequence draws one of four cases with equal probability (neither motif,
/// GATA only, TAL1 only, both), so every task has positives and negatives and task 0 is positive a quarter of the time.
/// </summary>
/// <remarks>
/// Sequence <c>i</c> of a split comes from its own random stream, seeded by (seed, split, i): a seed fixes the data
/// bit for bit, and the first n sequences of a split do not depend on how many are generated.
/// </remarks>
public static class SimulatedGenomics
{
    /// <summary>Generates <paramref name="count"/> sequences of <paramref name="split"/> for <paramref name="seed"/>.</summary>
    public static SimulatedSequence[] Generate(int seed, Split split, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var sequences = new SimulatedSequence[count];
        for (int i = 0; i < count; i++)
        {
            sequences[i] = GenerateOne(seed, split, i);
        }

        return sequences;
    }

    /// <summary>Sequence <paramref name="index"/> of <paramref name="split"/> for <paramref name="seed"/>.</summary>
    public static SimulatedSequence GenerateOne(int seed, Split split, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var random = new SplitMix((ulong)(uint)seed, ((ulong)split << 40) | (uint)index);
        var bases = new char[Dna.SequenceLength];
        for (int p = 0; p < bases.Length; p++)
        {
            bases[p] = Dna.Bases[random.Choose(Dna.Background)];
        }

        // One of four cases with equal probability; each motif present gets one or two instances.
        int presence = random.Next(4);
        var planted = new List<Motif>();
        foreach (var (motif, bit) in new[] { (Motif.Gata, 1), (Motif.Tal1, 2) })
        {
            if ((presence & bit) != 0)
            {
                int copies = 1 + random.Next(2);
                for (int k = 0; k < copies; k++)
                {
                    planted.Add(motif);
                }
            }
        }

        var instances = new List<MotifInstance>();
        foreach (var motif in planted)
        {
            int start = FreeStart(ref random, motif.Length, instances);
            bool reverse = random.Next(2) == 1;
            motif.Sample(ref random, reverse).CopyTo(0, bases, start, motif.Length);
            instances.Add(new MotifInstance(motif, start, reverse));
        }

        instances.Sort((a, b) => a.Start.CompareTo(b.Start));
        string id = $"{split.ToString().ToLowerInvariant()}-{index.ToString(CultureInfo.InvariantCulture)}";
        return new SimulatedSequence(id, new string(bases), instances);
    }

    /// <summary>Packs the sequences' one-hot encodings into one batch (n × 4 × 200, channels first per sample).</summary>
    public static float[] OneHotBatch(IReadOnlyList<SimulatedSequence> sequences)
    {
        int length = Dna.Channels * Dna.SequenceLength;
        var batch = new float[sequences.Count * length];
        for (int i = 0; i < sequences.Count; i++)
        {
            Dna.OneHot(sequences[i].Bases, batch.AsSpan(i * length, length));
        }

        return batch;
    }

    /// <summary>Packs the sequences' labels as 0/1 floats (n × tasks), the targets of the per-task sigmoid loss.</summary>
    public static float[] LabelBatch(IReadOnlyList<SimulatedSequence> sequences)
    {
        var labels = new float[sequences.Count * Tasks.Count];
        for (int i = 0; i < sequences.Count; i++)
        {
            for (int t = 0; t < Tasks.Count; t++)
            {
                labels[i * Tasks.Count + t] = sequences[i].Labels[t] ? 1f : 0f;
            }
        }

        return labels;
    }

    /// <summary>The FASTA header text after the id: labels and ground truth, e.g. "labels=gata motifs=GATA:+:34,GATA:-:120".</summary>
    public static string Annotation(SimulatedSequence sequence)
    {
        var text = new StringBuilder("labels=");
        var positive = Enumerable.Range(0, Tasks.Count).Where(t => sequence.Labels[t]).Select(t => Tasks.Names[t]).ToList();
        text.Append(positive.Count == 0 ? "none" : string.Join(',', positive));
        text.Append(" motifs=");
        text.Append(sequence.Instances.Count == 0 ? "none" : string.Join(',', sequence.Instances));
        return text.ToString();
    }

    /// <summary>
    /// The planted instances of a header (as <see cref="ParseInstances(string)"/>) moved to where they sit after
    /// <see cref="Fasta.Fit"/> centres a record of <paramref name="recordLength"/> bases in the model's
    /// <see cref="Dna.SequenceLength"/>: shifted by the padding or cropping, and dropped when cropped away.
    /// </summary>
    public static IReadOnlyList<MotifInstance>? ParseInstances(string description, int recordLength)
    {
        var instances = ParseInstances(description);
        int shift = (Dna.SequenceLength - recordLength) / 2; // as Fasta.Fit: (length − actual) / 2 either way
        if (instances is null || shift == 0)
        {
            return instances;
        }

        return instances
            .Select(i => i with { Start = i.Start + shift })
            .Where(i => i.Start >= 0 && i.Start + i.Motif.Length <= Dna.SequenceLength)
            .ToList();
    }

    /// <summary>
    /// The planted instances listed in a header written by <see cref="Annotation"/> ("motifs=GATA:+:34,..."), or null
    /// when the header has none (a sequence from elsewhere).
    /// </summary>
    public static IReadOnlyList<MotifInstance>? ParseInstances(string description)
    {
        foreach (string field in description.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!field.StartsWith("motifs=", StringComparison.Ordinal))
            {
                continue;
            }

            string value = field["motifs=".Length..];
            if (value == "none")
            {
                return [];
            }

            var instances = new List<MotifInstance>();
            foreach (string item in value.Split(','))
            {
                string[] parts = item.Split(':');
                var motif = Motif.All.FirstOrDefault(m => parts.Length == 3 && m.Name == parts[0]);
                if (motif is null || parts[1] is not ("+" or "-") || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int start))
                {
                    return null;
                }

                instances.Add(new MotifInstance(motif, start, parts[1] == "-"));
            }

            return instances;
        }

        return null;
    }

    // A start for a motif of this length that overlaps no instance already placed (rejection sampling: with at most
    // four short motifs in 200 bases it succeeds within a few draws).
    private static int FreeStart(ref SplitMix random, int length, List<MotifInstance> placed)
    {
        while (true)
        {
            int start = random.Next(Dna.SequenceLength - length + 1);
            if (placed.All(m => start + length <= m.Start || start >= m.End))
            {
                return start;
            }
        }
    }
}
