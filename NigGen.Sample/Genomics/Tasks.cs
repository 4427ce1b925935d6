using System;
using System.Collections.Generic;

namespace NigGen.Sample.Genomics;

/// <summary>
/// The three tasks of the DeepLIFT paper's simulated-genomics experiment (Shrikumar et al. 2017, section 4.2), one
/// sigmoid output each: task 0 is positive when both motifs are present, task 1 when a GATA-like motif is, task 2 when
/// a TAL1-like motif is.
/// </summary>
public static class Tasks
{
    /// <summary>Number of tasks (the model's outputs).</summary>
    public const int Count = 3;

    /// <summary>Task 0: both motifs present.</summary>
    public const int Both = 0;

    /// <summary>Task 1: a GATA-like motif present.</summary>
    public const int Gata = 1;

    /// <summary>Task 2: a TAL1-like motif present.</summary>
    public const int Tal1 = 2;

    /// <summary>The tasks' names, as used on the command line and in the JSON output.</summary>
    public static IReadOnlyList<string> Names { get; } = ["both", "gata", "tal1"];

    /// <summary>The labels of a sequence with the given motifs present.</summary>
    public static bool[] Labels(bool hasGata, bool hasTal1) => [hasGata && hasTal1, hasGata, hasTal1];

    /// <summary>The task a name or index (0, 1, 2) stands for, or −1.</summary>
    public static int Parse(string text)
    {
        for (int t = 0; t < Count; t++)
        {
            if (string.Equals(text, Names[t], StringComparison.OrdinalIgnoreCase) || text == t.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                return t;
            }
        }

        return -1;
    }

    /// <summary>The motifs whose positions carry the evidence for <paramref name="task"/>.</summary>
    public static IReadOnlyList<Motif> Evidence(int task) => task switch
    {
        Both => [Motif.Gata, Motif.Tal1],
        Gata => [Motif.Gata],
        Tal1 => [Motif.Tal1],
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, $"tasks are 0…{Count - 1}."),
    };
}
