using System;
using System.Collections.Generic;
using NigGen.Sample.Genomics;

namespace NigGen.Sample.Analysis;

/// <summary>Held-out accuracy and AUROC of every task, from the logits of a batch and its labels.</summary>
public sealed class TaskMetrics
{
    private TaskMetrics(double[] accuracy, double[] auroc)
    {
        Accuracy = accuracy;
        Auroc = auroc;
    }

    /// <summary>Per task: the fraction of sequences whose thresholded prediction (logit > 0, probability > 0.5) matches the label.</summary>
    public IReadOnlyList<double> Accuracy { get; }

    /// <summary>Per task: the area under the ROC curve (NaN when the set holds only one class for that task).</summary>
    public IReadOnlyList<double> Auroc { get; }

    /// <summary>Mean accuracy over the tasks.</summary>
    public double MeanAccuracy
    {
        get
        {
            double sum = 0;
            foreach (double a in Accuracy)
            {
                sum += a;
            }

            return sum / Accuracy.Count;
        }
    }

    /// <summary>Computes the metrics of <paramref name="logits"/> (n × tasks) against <paramref name="labels"/> (n × tasks, 0 or 1).</summary>
    public static TaskMetrics Compute(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, int tasks)
    {
        if (logits.Length != labels.Length || logits.Length % tasks != 0)
        {
            throw new ArgumentException($"logits ({logits.Length}) and labels ({labels.Length}) must both hold n × {tasks} values.");
        }

        int n = logits.Length / tasks;
        var accuracy = new double[tasks];
        var auroc = new double[tasks];
        var scores = new float[n];
        var positives = new bool[n];
        for (int t = 0; t < tasks; t++)
        {
            int correct = 0;
            for (int i = 0; i < n; i++)
            {
                scores[i] = logits[i * tasks + t];
                positives[i] = labels[i * tasks + t] > 0.5f;
                correct += (scores[i] > 0) == positives[i] ? 1 : 0;
            }

            accuracy[t] = n == 0 ? double.NaN : (double)correct / n;
            auroc[t] = AreaUnderRoc(scores, positives);
        }

        return new TaskMetrics(accuracy, auroc);
    }

    /// <summary>
    /// The probability that a random positive scores above a random negative (ties count half): the Mann–Whitney U
    /// statistic over positives × negatives, from one sort. NaN without both classes.
    /// </summary>
    public static double AreaUnderRoc(ReadOnlySpan<float> scores, ReadOnlySpan<bool> positive)
    {
        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var keys = scores.ToArray();
        Array.Sort(keys, order);
        double positiveRankSum = 0;
        long positives = 0;
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end < n && keys[end] == keys[start])
            {
                end++;
            }

            double averageRank = (start + end + 1) / 2.0; // 1-based ranks start+1 … end, tied values share their mean
            for (int k = start; k < end; k++)
            {
                if (positive[order[k]])
                {
                    positiveRankSum += averageRank;
                    positives++;
                }
            }

            start = end;
        }

        long negatives = n - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>"both 0.981 (AUROC 0.998), gata …": one line for the console.</summary>
    public string Summary()
    {
        var parts = new string[Accuracy.Count];
        for (int t = 0; t < parts.Length; t++)
        {
            parts[t] = $"{Tasks.Names[t]} {Format.Percent(Accuracy[t])} (AUROC {Format.Fixed(Auroc[t], 3)})";
        }

        return string.Join(", ", parts);
    }
}
