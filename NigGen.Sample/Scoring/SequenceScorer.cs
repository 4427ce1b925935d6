using System;
using System.Collections.Generic;
using NigGen.Sample.Genomics;

namespace NigGen.Sample.Scoring;

/// <summary>Which task's output each sequence is explained for.</summary>
public readonly record struct TaskSelection
{
    private TaskSelection(int task) => Task = task;

    /// <summary>The task with the highest predicted probability, per sequence (the default).</summary>
    public static TaskSelection Predicted { get; } = new(-1);

    /// <summary>Every task: three explanations per sequence.</summary>
    public static TaskSelection All { get; } = new(-2);

    /// <summary>The task index, or −1 (predicted) or −2 (all).</summary>
    public int Task { get; }

    /// <summary>One task for every sequence.</summary>
    public static TaskSelection Single(int task) => task is >= 0 and < Tasks.Count
        ? new(task)
        : throw new ArgumentOutOfRangeException(nameof(task), task, $"tasks are 0…{Tasks.Count - 1}.");

    /// <summary>"predicted", "all" or a task name (the command line's --task values).</summary>
    public static bool TryParse(string text, out TaskSelection selection)
    {
        switch (text.ToLowerInvariant())
        {
            case "predicted":
                selection = Predicted;
                return true;
            case "all":
                selection = All;
                return true;
        }

        int task = Tasks.Parse(text);
        selection = task >= 0 ? Single(task) : Predicted;
        return task >= 0;
    }
}

/// <summary>
/// Scores sequences with the model: the per-task probabilities, and Neuron Integrated Gradients of every conv1 and fc1
/// neuron for the selected tasks, from the background baseline (the expected base at every position). The batched
/// API runs on every core.
/// </summary>
public sealed class SequenceScorer
{
    private readonly float[] _baseline = Dna.BackgroundBaseline();

    /// <summary>A scorer for <paramref name="network"/>.</summary>
    public SequenceScorer(RegulatoryNet network, AttributionOptions options)
    {
        Network = network;
        Options = options;
    }

    /// <summary>The model.</summary>
    public RegulatoryNet Network { get; }

    /// <summary>The options of Neuron Integrated Gradients (steps, rule, threads).</summary>
    public AttributionOptions Options { get; }

    /// <summary>Default options: 50 trapezoid steps (the completeness delta is then a small fraction of F(x) − F(x')), every core.</summary>
    public static AttributionOptions DefaultOptions => new() { Steps = 50, Rule = IntegrationRule.RiemannTrapezoid, MaxDegreeOfParallelism = -1 };

    /// <summary>Scores a batch: <paramref name="inputs"/> holds n one-hot sequences (n × 4 × 200).</summary>
    public ScoredBatch Score(ReadOnlySpan<float> inputs, TaskSelection selection)
    {
        int n = inputs.Length / RegulatoryNet.InputLength;
        var logits = new float[n * RegulatoryNet.OutputLength];
        Network.Forward(inputs, logits, Options.MaxDegreeOfParallelism);

        var samples = new List<int>();
        var targets = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (selection == TaskSelection.All)
            {
                for (int t = 0; t < Tasks.Count; t++)
                {
                    samples.Add(i);
                    targets.Add(t);
                }
            }
            else
            {
                samples.Add(i);
                targets.Add(selection == TaskSelection.Predicted ? ArgMax(logits.AsSpan(i * Tasks.Count, Tasks.Count)) : selection.Task);
            }
        }

        return Explain(inputs, logits, samples.ToArray(), targets.ToArray());
    }

    /// <summary>Scores the listed (sample, target) pairs of <paramref name="inputs"/>, whose logits are already known.</summary>
    public ScoredBatch Explain(ReadOnlySpan<float> inputs, float[] logits, int[] samples, int[] targets)
    {
        int m = samples.Length;
        int inputLength = RegulatoryNet.InputLength;
        var explainedInputs = new float[m * inputLength];
        for (int k = 0; k < m; k++)
        {
            inputs.Slice(samples[k] * inputLength, inputLength).CopyTo(explainedInputs.AsSpan(k * inputLength, inputLength));
        }

        var importances = new float[m * RegulatoryNet.ImportanceLength];
        var deltas = new float[m];
        Network.NeuronIntegratedGradients(explainedInputs, _baseline, targets, importances, deltas, Options);
        return new ScoredBatch(inputs.Length / inputLength, logits, samples, targets, importances, deltas);
    }

    /// <summary>The index of the largest value (the first, on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}

/// <summary>The result of <see cref="SequenceScorer.Score"/>: logits per sequence, and one importance vector per explanation.</summary>
public sealed class ScoredBatch
{
    private readonly float[] _logits;
    private readonly int[] _samples;
    private readonly int[] _targets;
    private readonly float[] _importances;
    private readonly float[] _deltas;

    internal ScoredBatch(int count, float[] logits, int[] samples, int[] targets, float[] importances, float[] deltas)
    {
        Count = count;
        _logits = logits;
        _samples = samples;
        _targets = targets;
        _importances = importances;
        _deltas = deltas;
    }

    /// <summary>Number of sequences.</summary>
    public int Count { get; }

    /// <summary>Number of explanations (sequence, task) computed.</summary>
    public int ExplanationCount => _samples.Length;

    /// <summary>The logits of every sequence (n × tasks).</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>The probability of <paramref name="task"/> for <paramref name="sample"/>: sigmoid of its logit.</summary>
    public float Probability(int sample, int task) => 1f / (1f + MathF.Exp(-_logits[sample * Tasks.Count + task]));

    /// <summary>Which sequence explanation <paramref name="k"/> belongs to.</summary>
    public int SampleOf(int k) => _samples[k];

    /// <summary>Which task explanation <paramref name="k"/> explains.</summary>
    public int TaskOf(int k) => _targets[k];

    /// <summary>The completeness delta of explanation <paramref name="k"/>: Σ importance − (F(x) − F(x')) at the layer where it is largest.</summary>
    public float Delta(int k) => _deltas[k];

    /// <summary>The importance of every conv1 and fc1 neuron for explanation <paramref name="k"/> (RegulatoryNet's importance layout).</summary>
    public ReadOnlySpan<float> Importance(int k) => _importances.AsSpan(k * RegulatoryNet.ImportanceLength, RegulatoryNet.ImportanceLength);

    /// <summary>conv1's importance summed over positions: one value per filter.</summary>
    public float[] FilterImportance(int k)
    {
        var conv = Importance(k).Slice(RegulatoryNet.Conv1ImportanceOffset, RegulatoryNet.Conv1ImportanceLength);
        int positions = RegulatoryNet.Conv1ImportanceLength / RegulatoryNet.FilterCount;
        var perFilter = new float[RegulatoryNet.FilterCount];
        for (int f = 0; f < perFilter.Length; f++)
        {
            double sum = 0;
            foreach (float v in conv.Slice(f * positions, positions))
            {
                sum += v;
            }

            perFilter[f] = (float)sum;
        }

        return perFilter;
    }
}
