using System;

namespace NigGen.Sample.Genomics;

/// <summary>The DNA alphabet and its one-hot encoding: four channels in the order A, C, G, T, channels first.</summary>
public static class Dna
{
    /// <summary>The bases in channel order.</summary>
    public const string Bases = "ACGT";

    /// <summary>Length of every sequence the model reads.</summary>
    public const int SequenceLength = 200;

    /// <summary>Channels of the one-hot encoding.</summary>
    public const int Channels = 4;

    /// <summary>
    /// The background base frequencies (A, C, G, T): 40% GC, as in the simulation. This is also the attribution
    /// baseline at every position (DeepLIFT's genomics reference), and what an unknown base N is encoded as, so that
    /// an N contributes nothing to any attribution.
    /// </summary>
    public static ReadOnlySpan<float> Background => [0.3f, 0.2f, 0.2f, 0.3f];

    /// <summary>The channel of a base (A, C, G, T, either case), or −1 for any other character.</summary>
    public static int Channel(char b) => b switch
    {
        'A' or 'a' => 0,
        'C' or 'c' => 1,
        'G' or 'g' => 2,
        'T' or 't' => 3,
        _ => -1,
    };

    /// <summary>The complement of a channel: A↔T, C↔G (channel 3 − c in A, C, G, T order).</summary>
    public static int Complement(int channel) => 3 - channel;

    /// <summary>The reverse complement of a sequence of A, C, G, T, N.</summary>
    public static string ReverseComplement(string sequence)
    {
        var result = new char[sequence.Length];
        for (int i = 0; i < sequence.Length; i++)
        {
            char b = sequence[sequence.Length - 1 - i];
            int c = Channel(b);
            result[i] = c < 0 ? b : Bases[Complement(c)];
        }

        return new string(result);
    }

    /// <summary>
    /// Writes the one-hot encoding of <paramref name="sequence"/> (A, C, G, T or N, either case) into
    /// <paramref name="destination"/>, channels first: destination[c · length + position]. N takes the background
    /// frequencies.
    /// </summary>
    /// <exception cref="ArgumentException">A character is not A, C, G, T or N, or the destination has the wrong length.</exception>
    public static void OneHot(ReadOnlySpan<char> sequence, Span<float> destination)
    {
        int length = sequence.Length;
        if (destination.Length != Channels * length)
        {
            throw new ArgumentException($"destination has {destination.Length} floats; a sequence of {length} bases needs {Channels} × {length} = {Channels * length}.", nameof(destination));
        }

        destination.Clear();
        var background = Background;
        for (int p = 0; p < length; p++)
        {
            int c = Channel(sequence[p]);
            if (c >= 0)
            {
                destination[c * length + p] = 1f;
            }
            else if (sequence[p] is 'N' or 'n')
            {
                for (int k = 0; k < Channels; k++)
                {
                    destination[k * length + p] = background[k];
                }
            }
            else
            {
                throw new ArgumentException($"'{sequence[p]}' at position {p + 1} is not a base (A, C, G, T or N).", nameof(sequence));
            }
        }
    }

    /// <summary>The baseline for a batch of one: the background frequencies at every position, channels first.</summary>
    public static float[] BackgroundBaseline()
    {
        var baseline = new float[Channels * SequenceLength];
        for (int c = 0; c < Channels; c++)
        {
            baseline.AsSpan(c * SequenceLength, SequenceLength).Fill(Background[c]);
        }

        return baseline;
    }
}
