using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Sample.Genomics;
using NigGen.Sample.Report;
using NigGen.Sample.Scoring;

namespace NigGen.Sample.Analysis;

/// <summary>Turns scores into what the report shows and the sanity check judges.</summary>
public static class ModelAnalysis
{
    private const string FilterMotifNote =
        "Each filter's learned motif is the base frequency of the subsequences that activate it above half its maximum over the simulated test set " +
        "(letter height: frequency × information content, in bits); its match is the best mean column correlation with a planted motif over offsets and both strands " +
        "(≥ 0.5 counts as learned).";

    private const string RankingNote =
        "Rows are ranked by each filter's largest importance over the tasks (in bold): a filter that matters for one task ranks high even if it does nothing for the others.";

    /// <summary>
    /// The test-set report and sanity check. <paramref name="scored"/> holds Neuron Integrated Gradients of every task for
    /// every sequence of <paramref name="test"/> (<see cref="TaskSelection.All"/>); <paramref name="inputs"/> their one-hot encodings.
    /// </summary>
    public static (ReportModel Report, SanityCheck Sanity) TestSet(
        RegulatoryNet network, IReadOnlyList<SimulatedSequence> test, float[] inputs, ScoredBatch scored, IReadOnlyList<KeyValuePair<string, string>> summary)
    {
        var motifs = FilterMotifs.Learn(network, inputs);

        // Mean filter and fc1 importance of each task over the sequences where the task is positive.
        var filterImportance = new double[Tasks.Count][];
        var denseImportance = new double[Tasks.Count][];
        for (int t = 0; t < Tasks.Count; t++)
        {
            filterImportance[t] = new double[RegulatoryNet.FilterCount];
            denseImportance[t] = new double[RegulatoryNet.Fc1ImportanceLength];
            int count = 0;
            for (int k = 0; k < scored.ExplanationCount; k++)
            {
                if (scored.TaskOf(k) != t || !test[scored.SampleOf(k)].Labels[t])
                {
                    continue;
                }

                count++;
                var perFilter = scored.FilterImportance(k);
                for (int f = 0; f < perFilter.Length; f++)
                {
                    filterImportance[t][f] += perFilter[f];
                }

                var dense = scored.Importance(k).Slice(RegulatoryNet.Fc1ImportanceOffset, RegulatoryNet.Fc1ImportanceLength);
                for (int j = 0; j < dense.Length; j++)
                {
                    denseImportance[t][j] += dense[j];
                }
            }

            Scale(filterImportance[t], count);
            Scale(denseImportance[t], count);
        }

        // Input attributions of each task on its positives: where does the evidence sit?
        var samples = new List<int>();
        var targets = new List<int>();
        for (int t = 0; t < Tasks.Count; t++)
        {
            for (int i = 0; i < test.Count; i++)
            {
                if (test[i].Labels[t])
                {
                    samples.Add(i);
                    targets.Add(t);
                }
            }
        }

        var scores = InputAttribution.PositionScores(network, inputs, samples, targets);
        var mass = new List<AttributionMass>();
        for (int t = 0; t < Tasks.Count; t++)
        {
            double massSum = 0, coverageSum = 0;
            int count = 0;
            for (int k = 0; k < samples.Count; k++)
            {
                if (targets[k] != t)
                {
                    continue;
                }

                var sequence = test[samples[k]];
                var evidence = Tasks.Evidence(t);
                massSum += InputAttribution.MassOn(scores.AsSpan(k * Dna.SequenceLength, Dna.SequenceLength), sequence.Instances, evidence);
                coverageSum += InputAttribution.Coverage(sequence.Instances, evidence, Dna.SequenceLength).Count(c => c) / (double)Dna.SequenceLength;
                count++;
            }

            mass.Add(new AttributionMass(t, count, count == 0 ? 0 : massSum / count, count == 0 ? 0 : coverageSum / count));
        }

        var sanity = SanityCheck.Build(motifs, filterImportance, mass);
        var report = new ReportModel
        {
            Title = "NigGen: which learned features drive a genomics model",
            Introduction =
                "A convolutional network (RegulatoryNet) trained on simulated regulatory DNA in the style of the DeepLIFT paper: 200-base sequences with a 40% GC background " +
                "and planted GATA-like and TAL1-like motifs. Task 'both' is positive when both motifs are present, 'gata' and 'tal1' when that motif is. " +
                "Neuron Integrated Gradients (total conductance, 50 trapezoid steps from the background baseline) scores every conv1 and fc1 neuron for each task; " +
                "DeepLIFT attributes the output to the input positions.",
            Summary = summary,
            Sanity = sanity,
            Tracks = ExampleTracks(network, test, inputs),
            TracksCaption =
                "Per-position input attribution (DeepLIFT, deeplift's genomics rule, from the background baseline; letter height = the position's attribution, " +
                "below the line when it argues against the task) for one test sequence of each kind, explaining the task its motifs decide. Shaded: the planted motifs.",
            Filters = FilterRows(motifs, filterImportance),
            FiltersCaption =
                "conv1's filters and their Neuron Integrated Gradients for each task, summed over the filter's 200 positions and averaged over the task's positive test sequences. " +
                RankingNote + " (The sanity check ranks the filters of each task separately.) " + FilterMotifNote,
            DenseImportance = denseImportance,
            DenseCaption = "Neuron Integrated Gradients of fc1's 32 neurons, averaged over each task's positive test sequences.",
        };
        return (report, sanity);
    }

    /// <summary>
    /// The report for one sequence: <paramref name="scored"/> holds its Neuron Integrated Gradients for every task (batch
    /// of one, <see cref="TaskSelection.All"/>); <paramref name="motifs"/> the filters' learned motifs from a reference set.
    /// </summary>
    public static ReportModel Sequence(
        RegulatoryNet network, string id, string bases, IReadOnlyList<MotifInstance>? instances, ScoredBatch scored, IReadOnlyList<FilterMotif> motifs, IReadOnlyList<KeyValuePair<string, string>> summary)
    {
        var input = new float[RegulatoryNet.InputLength];
        Dna.OneHot(bases, input);
        var tasks = Enumerable.Range(0, Tasks.Count).ToArray();
        var scores = InputAttribution.PositionScores(network, input, new int[Tasks.Count], tasks);
        var tracks = tasks.Select(t => new SequenceTrack(
            $"{id}: task {Tasks.Names[t]} (p = {Format.Fixed(scored.Probability(0, t), 3)})", bases, scores.AsSpan(t * Dna.SequenceLength, Dna.SequenceLength).ToArray(), instances)).ToList();

        var filterImportance = new double[Tasks.Count][];
        var denseImportance = new double[Tasks.Count][];
        for (int k = 0; k < scored.ExplanationCount; k++)
        {
            int t = scored.TaskOf(k);
            filterImportance[t] = scored.FilterImportance(k).Select(v => (double)v).ToArray();
            denseImportance[t] = scored.Importance(k).Slice(RegulatoryNet.Fc1ImportanceOffset, RegulatoryNet.Fc1ImportanceLength).ToArray().Select(v => (double)v).ToArray();
        }

        return new ReportModel
        {
            Title = $"NigGen: why RegulatoryNet scores {id} as it does",
            Introduction =
                "Neuron Integrated Gradients (total conductance, 50 trapezoid steps from the background baseline) of every conv1 and fc1 neuron for each task, " +
                "and DeepLIFT attributions of each task to the input positions." + (instances is null ? "" : " Shaded: the motifs the FASTA header says were planted."),
            Summary = summary,
            Sanity = null,
            Tracks = tracks,
            TracksCaption = "Per-position input attribution for each task (DeepLIFT, deeplift's genomics rule, from the background baseline; below the line: evidence against the task).",
            Filters = FilterRows(motifs, filterImportance),
            FiltersCaption = "conv1's filters and their Neuron Integrated Gradients for each task on this sequence, summed over the filter's 200 positions. " + RankingNote + " " + FilterMotifNote,
            DenseImportance = denseImportance,
            DenseCaption = "Neuron Integrated Gradients of fc1's 32 neurons for this sequence, per task.",
        };
    }

    /// <summary>
    /// One test sequence of each kind (neither motif, GATA only, TAL1 only, both), each explained for the task its
    /// motifs decide ('both' when both are present; for the sequence with neither, the task it scores highest).
    /// </summary>
    private static List<SequenceTrack> ExampleTracks(RegulatoryNet network, IReadOnlyList<SimulatedSequence> test, float[] inputs)
    {
        var samples = new List<int>();
        var targets = new List<int>();
        foreach (var (gata, tal1) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            int i = Enumerable.Range(0, test.Count).FirstOrDefault(i => test[i].Labels[Tasks.Gata] == gata && test[i].Labels[Tasks.Tal1] == tal1, -1);
            if (i < 0)
            {
                continue;
            }

            int target = gata && tal1 ? Tasks.Both : gata ? Tasks.Gata : tal1 ? Tasks.Tal1 : -1;
            if (target < 0)
            {
                var logits = new float[Tasks.Count];
                network.Forward(inputs.AsSpan(i * RegulatoryNet.InputLength, RegulatoryNet.InputLength), logits);
                target = SequenceScorer.ArgMax(logits);
            }

            samples.Add(i);
            targets.Add(target);
        }

        var scores = InputAttribution.PositionScores(network, inputs, samples, targets);
        return samples.Select((i, k) => new SequenceTrack(
            $"{test[i].Id} ({SimulatedGenomics.Annotation(test[i])}): task {Tasks.Names[targets[k]]}",
            test[i].Bases, scores.AsSpan(k * Dna.SequenceLength, Dna.SequenceLength).ToArray(), test[i].Instances)).ToList();
    }

    // Filters in the order of their largest importance over the tasks.
    private static List<FilterRow> FilterRows(IReadOnlyList<FilterMotif> motifs, IReadOnlyList<double[]> importance) =>
        motifs.Select(m => new FilterRow(m, importance.Select(task => task[m.Filter]).ToArray()))
            .OrderByDescending(row => row.Importance.Max())
            .ThenBy(row => row.Motif.Filter)
            .ToList();

    private static void Scale(double[] values, int count)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = count == 0 ? 0 : values[i] / count;
        }
    }
}
