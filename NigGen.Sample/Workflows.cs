using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using NigGen.Sample.Analysis;
using NigGen.Sample.Genomics;
using NigGen.Sample.Report;
using NigGen.Sample.Scoring;
using NigGen.Sample.Training;

namespace NigGen.Sample;

/// <summary>The simulated data: seed and split sizes.</summary>
public sealed record DataSettings
{
    /// <summary>Seed of the simulation (and, by default, of the training).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Training sequences.</summary>
    public int TrainSize { get; init; } = 20000;

    /// <summary>Validation sequences (evaluated after every epoch).</summary>
    public int ValidationSize { get; init; } = 1000;

    /// <summary>Test sequences (evaluation, scoring, report).</summary>
    public int TestSize { get; init; } = 1000;
}

/// <summary>The sample's operations, one per subcommand, plus the whole run; the command line only parses and calls these.</summary>
public static class Workflows
{
    /// <summary>Files the whole run writes into its output folder.</summary>
    public const string WeightsFile = "regulatory.safetensors", ReportFile = "report.html", ScoresFile = "test-scores.jsonl", TestFastaFile = "test.fa";

    /// <summary>Simulates the training and validation sets and trains a fresh network on them.</summary>
    public static RegulatoryNet Train(DataSettings data, TrainingSettings training, TextWriter log, ITrainingProgress? progress)
    {
        var stopwatch = Stopwatch.StartNew();
        var train = SimulatedGenomics.Generate(data.Seed, Split.Train, data.TrainSize);
        var validation = SimulatedGenomics.Generate(data.Seed, Split.Validation, data.ValidationSize);
        log.WriteLine($"Data: {data.TrainSize} training and {data.ValidationSize} validation sequences of {Dna.SequenceLength} bases, seed {data.Seed} ({Format.Fixed(stopwatch.Elapsed.TotalSeconds, 2)} s)");
        var network = RegulatoryNet.CreateRandom(training.Seed);
        log.WriteLine($"Training {Describe()}: {training.Epochs} epochs, batch {training.BatchSize}, Adam at {Format.Fixed(training.LearningRate, 4)}, per-task sigmoid cross-entropy");
        log.Flush();
        stopwatch.Restart();
        ModelTraining.Train(network, SimulatedGenomics.OneHotBatch(train), SimulatedGenomics.LabelBatch(train),
            SimulatedGenomics.OneHotBatch(validation), SimulatedGenomics.LabelBatch(validation), training, progress);
        log.WriteLine($"Trained in {Format.Fixed(stopwatch.Elapsed.TotalSeconds, 1)} s");
        return network;
    }

    /// <summary>Held-out metrics of <paramref name="network"/> on <paramref name="sequences"/>.</summary>
    public static TaskMetrics Evaluate(RegulatoryNet network, IReadOnlyList<SimulatedSequence> sequences)
    {
        var logits = new float[sequences.Count * Tasks.Count];
        network.Forward(SimulatedGenomics.OneHotBatch(sequences), logits, -1);
        return TaskMetrics.Compute(logits, SimulatedGenomics.LabelBatch(sequences), Tasks.Count);
    }

    /// <summary>Writes <paramref name="sequences"/> as FASTA, each header carrying its labels and planted motifs.</summary>
    public static void WriteFasta(IEnumerable<SimulatedSequence> sequences, TextWriter output)
    {
        foreach (var sequence in sequences)
        {
            Fasta.Write(output, sequence.Id, SimulatedGenomics.Annotation(sequence), sequence.Bases);
        }

        output.Flush();
    }

    /// <summary>
    /// Scores every record of <paramref name="input"/> (FASTA), writing one JSON line per record to
    /// <paramref name="output"/> as records arrive, in batches of 256. Returns the number of records scored.
    /// </summary>
    public static int ScoreFasta(RegulatoryNet network, TextReader input, TextWriter output, TaskSelection selection, int top, LengthMode lengthMode, AttributionOptions options, TextWriter log)
    {
        const int chunk = 256;
        var scorer = new SequenceScorer(network, options);
        var ids = new List<string>(chunk);
        var inputs = new float[chunk * RegulatoryNet.InputLength];
        var line = new ArrayBufferWriter<byte>();
        using var json = new Utf8JsonWriter(line);
        int scored = 0, explanations = 0;
        var stopwatch = Stopwatch.StartNew();

        void Flush()
        {
            if (ids.Count == 0)
            {
                return;
            }

            var batch = scorer.Score(inputs.AsSpan(0, ids.Count * RegulatoryNet.InputLength), selection);
            for (int i = 0; i < ids.Count; i++)
            {
                line.ResetWrittenCount();
                json.Reset(line);
                ScoreJson.Write(json, ids[i], batch, i, top);
                json.Flush();
                output.Write(Encoding.UTF8.GetString(line.WrittenSpan));
                output.Write('\n');
            }

            output.Flush();
            scored += ids.Count;
            explanations += batch.ExplanationCount;
            ids.Clear();
        }

        try
        {
            foreach (var record in Fasta.Read(input))
            {
                string bases = Fasta.Fit(record, Dna.SequenceLength, lengthMode);
                Dna.OneHot(bases, inputs.AsSpan(ids.Count * RegulatoryNet.InputLength, RegulatoryNet.InputLength));
                ids.Add(record.Id);
                if (ids.Count == chunk)
                {
                    Flush();
                }
            }
        }
        catch (FastaFormatException)
        {
            // Every record before the bad one is valid: score and write them before reporting the error.
            Flush();
            throw;
        }

        Flush();
        double seconds = stopwatch.Elapsed.TotalSeconds;
        log.WriteLine($"Scored {scored} sequences ({explanations} explanations, Neuron Integrated Gradients with {options.Steps} steps) in {Format.Fixed(seconds, 2)} s: " +
                      $"{Format.Count(scored / Math.Max(seconds, 1e-9))} sequences/s");
        return scored;
    }

    /// <summary>
    /// Evaluates, scores and analyses the simulated test set: prints the sanity check to <paramref name="log"/> and
    /// writes the report to <paramref name="reportPath"/> (and the JSON lines to <paramref name="scoresPath"/> unless null).
    /// </summary>
    public static SanityCheck Report(RegulatoryNet network, DataSettings data, string reportPath, string? scoresPath, IReadOnlyList<KeyValuePair<string, string>> extraSummary, TextWriter log)
    {
        var test = SimulatedGenomics.Generate(data.Seed, Split.Test, data.TestSize);
        var inputs = SimulatedGenomics.OneHotBatch(test);
        var metrics = Evaluate(network, test);
        log.WriteLine($"Test accuracy: {Format.Percent(metrics.MeanAccuracy)} mean over tasks; {metrics.Summary()}");

        // Throughput: every task of every test sequence, on every core.
        var options = SequenceScorer.DefaultOptions;
        var scorer = new SequenceScorer(network, options);
        scorer.Score(inputs.AsSpan(0, Math.Min(16, test.Length) * RegulatoryNet.InputLength), TaskSelection.All); // warm-up: JIT and workspaces
        var stopwatch = Stopwatch.StartNew();
        var scored = scorer.Score(inputs, TaskSelection.All);
        double seconds = stopwatch.Elapsed.TotalSeconds;
        double explanationsPerSecond = scored.ExplanationCount / Math.Max(seconds, 1e-9);
        string throughput = $"{Format.Count(test.Length / Math.Max(seconds, 1e-9))} sequences/s ({Format.Count(explanationsPerSecond)} explanations/s: " +
                            $"{scored.ExplanationCount} = {test.Length} sequences × {Tasks.Count} tasks in {Format.Fixed(seconds, 2)} s, {Environment.ProcessorCount} cores)";
        log.WriteLine($"Neuron Integrated Gradients ({options.Steps} steps, conv1 and fc1, every task): {throughput}");
        string completeness = Completeness(network, scored, options.Steps);
        log.WriteLine($"Completeness: {completeness}");

        if (scoresPath is not null)
        {
            using var file = File.Create(scoresPath);
            using var json = new Utf8JsonWriter(file);
            for (int i = 0; i < test.Length; i++)
            {
                ScoreJson.Write(json, test[i].Id, scored, i, top: 5);
                json.Flush();
                file.WriteByte((byte)'\n');
                json.Reset();
            }
        }

        var summary = new List<KeyValuePair<string, string>>
        {
            new("Model", Describe()),
            new("Test set", $"{test.Length} simulated sequences, seed {data.Seed}"),
            new("Held-out accuracy", $"{Format.Percent(metrics.MeanAccuracy)} mean over tasks; {metrics.Summary()}"),
            new("Neuron Integrated Gradients", throughput),
            new("Completeness", completeness),
        };
        summary.AddRange(extraSummary);
        var (report, sanity) = ModelAnalysis.TestSet(network, test, inputs, scored, summary);
        foreach (string text in sanity.Lines())
        {
            log.WriteLine(text);
        }

        File.WriteAllText(reportPath, HtmlReport.Render(report));
        log.WriteLine($"Report: {reportPath}");
        return sanity;
    }

    /// <summary>Explains one record: prints its probabilities and top filters, writes its report to <paramref name="reportPath"/>.</summary>
    public static void Explain(RegulatoryNet network, FastaRecord record, LengthMode lengthMode, int referenceSeed, string reportPath, TextWriter log)
    {
        string bases = Fasta.Fit(record, Dna.SequenceLength, lengthMode);
        var input = new float[RegulatoryNet.InputLength];
        Dna.OneHot(bases, input);
        var scored = new SequenceScorer(network, SequenceScorer.DefaultOptions).Score(input, TaskSelection.All);

        // The filters' learned motifs come from a reference set: the simulated test set of the seed.
        var reference = SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(referenceSeed, Split.Test, 1000));
        var motifs = FilterMotifs.Learn(network, reference);

        var summary = new List<KeyValuePair<string, string>> { new("Sequence", $"{record.Id} {record.Description}".Trim()), new("Model", Describe()) };
        log.WriteLine($"{record.Id}:");
        for (int k = 0; k < scored.ExplanationCount; k++)
        {
            int t = scored.TaskOf(k);
            var perFilter = scored.FilterImportance(k);
            var top = Enumerable.Range(0, perFilter.Length).OrderByDescending(f => perFilter[f]).Take(3)
                .Select(f => $"{SanityCheck.Describe(motifs[f])} {Format.Fixed(perFilter[f], 3)}");
            string line = $"task {Tasks.Names[t]}: p = {Format.Fixed(scored.Probability(0, t), 3)}, delta {Format.Scientific(scored.Delta(k))}; top filters {string.Join(", ", top)}";
            log.WriteLine("  " + line);
            summary.Add(new($"Task {Tasks.Names[t]}", line[(line.IndexOf(':') + 2)..]));
        }

        var instances = SimulatedGenomics.ParseInstances(record.Description, record.Bases.Length);
        File.WriteAllText(reportPath, HtmlReport.Render(ModelAnalysis.Sequence(network, record.Id, bases, instances, scored, motifs, summary)));
        log.WriteLine($"Report: {reportPath}");
    }

    /// <summary>
    /// The whole job on defaults: simulate, train, evaluate, save (and check the saved weights reload to identical
    /// predictions), score the test set, run the sanity check and write the report. Returns false when the sanity check fails.
    /// </summary>
    public static bool RunAll(DataSettings data, TrainingSettings training, string outputFolder, TextWriter log, ITrainingProgress? progress)
    {
        var total = Stopwatch.StartNew();
        Directory.CreateDirectory(outputFolder);
        log.WriteLine("NigGen sample: which learned features drive a regulatory-genomics model (simulated data in the style of the DeepLIFT paper)");
        var network = Train(data, training, log, progress);

        string weightsPath = Path.Combine(outputFolder, WeightsFile);
        network.Save(weightsPath);
        var reloaded = RegulatoryNet.Load(weightsPath);
        var check = SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(data.Seed, Split.Test, Math.Min(256, data.TestSize)));
        var before = new float[check.Length / RegulatoryNet.InputLength * Tasks.Count];
        var after = new float[before.Length];
        network.Forward(check, before);
        reloaded.Forward(check, after);
        if (!before.AsSpan().SequenceEqual(after))
        {
            throw new InvalidOperationException($"the weights reloaded from {weightsPath} give different predictions from the trained network.");
        }

        log.WriteLine($"Weights: {weightsPath} (reloaded: identical predictions on {before.Length / Tasks.Count} test sequences)");

        string fastaPath = Path.Combine(outputFolder, TestFastaFile);
        using (var fasta = new StreamWriter(fastaPath))
        {
            WriteFasta(SimulatedGenomics.Generate(data.Seed, Split.Test, data.TestSize), fasta);
        }

        var sanity = Report(reloaded, data, Path.Combine(outputFolder, ReportFile), Path.Combine(outputFolder, ScoresFile),
            [new("Training", $"{data.TrainSize} sequences, {training.Epochs} epochs, batch {training.BatchSize}, Adam {Format.Fixed(training.LearningRate, 4)}")], log);
        log.WriteLine($"Scores: {Path.Combine(outputFolder, ScoresFile)}; test set as FASTA: {fastaPath}");
        log.WriteLine($"Done in {Format.Fixed(total.Elapsed.TotalSeconds, 1)} s. Try: dotnet run --project NigGen.Sample -c Release -- score {fastaPath} --weights {weightsPath}");
        return sanity.Passed;
    }

    /// <summary>
    /// How far Σ importance is from F(x) − F(baseline) (the completeness delta): its median over the explanations, in
    /// absolute terms and as a share of |F(x) − F(baseline)|, and its largest value. It comes from the trapezoid rule
    /// crossing ReLU and max-pooling kinks, and shrinks about as 1/steps.
    /// </summary>
    private static string Completeness(RegulatoryNet network, ScoredBatch scored, int steps)
    {
        var baseline = new float[Tasks.Count];
        network.Forward(Dna.BackgroundBaseline(), baseline);
        var absolute = new double[scored.ExplanationCount];
        var relative = new double[scored.ExplanationCount];
        for (int k = 0; k < absolute.Length; k++)
        {
            int task = scored.TaskOf(k);
            double difference = scored.Logits[scored.SampleOf(k) * Tasks.Count + task] - baseline[task];
            absolute[k] = Math.Abs(scored.Delta(k));
            relative[k] = absolute[k] / Math.Max(Math.Abs(difference), 1e-6);
        }

        Array.Sort(absolute);
        Array.Sort(relative);
        return $"median |delta| {Format.Fixed(absolute[absolute.Length / 2], 3)} ({Format.Percent(relative[relative.Length / 2])} of |F(x) − F(baseline)|), " +
               $"largest {Format.Fixed(absolute[^1], 3)}, with {steps} trapezoid steps (delta = Σ importance − (F(x) − F(baseline)); it shrinks as 1/steps)";
    }

    /// <summary>"RegulatoryNet (one-hot 4 × 200 → conv1 32 filters × 15 → max pool 20 → fc1 32 → 3 task logits)".</summary>
    public static string Describe() =>
        $"RegulatoryNet (one-hot 4 × {Dna.SequenceLength} → conv1 {RegulatoryNet.FilterCount} filters × {RegulatoryNet.FilterWidth} → max pool 20 → fc1 {RegulatoryNet.Fc1ImportanceLength} → {Tasks.Count} task logits)";
}
