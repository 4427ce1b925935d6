using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using System.Linq;
using NigGen.Sample.Analysis;
using NigGen.Sample.Genomics;
using NigGen.Sample.Scoring;
using NigGen.Sample.Training;
using NigGen.Weights;

namespace NigGen.Sample.Cli;

/// <summary>
/// The command line (System.CommandLine 2.0: trim- and AOT-safe, with --help, suggestions and usage errors).
/// Without a subcommand the sample does the whole job; subcommands do its parts. Exit codes: 0 success, 1 a usage
/// error (printed with the command's help) or a bad input file, 3 the whole run's sanity check failed.
/// </summary>
public static class SampleCommandLine
{
    /// <summary>The output folder of the whole run, and where the other commands look for the weights by default.</summary>
    public const string DefaultOutputFolder = "sample-output";

    private static readonly string DefaultWeights = Path.Combine(DefaultOutputFolder, Workflows.WeightsFile);

    /// <summary>Runs the command line on <paramref name="args"/> with the given streams; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, TextReader input, bool interactive)
    {
        var root = Build(output, error, input, interactive);
        return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    private static RootCommand Build(TextWriter output, TextWriter error, TextReader input, bool interactive)
    {
        var data = new DataSettings();
        var training = new TrainingSettings();

        // Options shared by several commands are created per command: a System.CommandLine option has one parent.
        Option<int> Seed() => Positive(new Option<int>("--seed") { Description = "Seed of the simulated data and of the training", DefaultValueFactory = _ => data.Seed }, allowZero: true);
        Option<int> TrainSize() => Positive(new Option<int>("--train-size") { Description = "Training sequences", DefaultValueFactory = _ => data.TrainSize });
        Option<int> ValidationSize() => Positive(new Option<int>("--validation-size") { Description = "Validation sequences", DefaultValueFactory = _ => data.ValidationSize });
        Option<int> TestSize() => Positive(new Option<int>("--test-size") { Description = "Test sequences (evaluation, scoring, report)", DefaultValueFactory = _ => data.TestSize });
        Option<int> Epochs() => Positive(new Option<int>("--epochs") { Description = "Passes over the training set", DefaultValueFactory = _ => training.Epochs });
        Option<int> BatchSize() => Positive(new Option<int>("--batch-size") { Description = "Sequences per Adam step", DefaultValueFactory = _ => training.BatchSize });
        Option<float> LearningRate() => PositiveFloat(new Option<float>("--learning-rate") { Description = "Adam's step size", DefaultValueFactory = _ => training.LearningRate });
        Option<string> Weights() => new("--weights") { Description = "The trained weights (safetensors)", DefaultValueFactory = _ => DefaultWeights, HelpName = "path" };
        Option<string> LengthModeOption() => new Option<string>("--length-mode")
        {
            Description = "Records that are not 200 bases: 'strict' is an error; 'center' crops the central 200 or pads with N (the background)",
            DefaultValueFactory = _ => "strict",
        }.AcceptOnlyFromAmong("strict", "center");
        Argument<string> FastaInput() => new("fasta") { Description = "FASTA file to read, or - for standard input", DefaultValueFactory = _ => "-" };

        DataSettings ReadData(ParseResult r, Option<int> seed, Option<int>? trainSize, Option<int>? validationSize, Option<int>? testSize) => data with
        {
            Seed = r.GetValue(seed),
            TrainSize = trainSize is null ? data.TrainSize : r.GetValue(trainSize),
            ValidationSize = validationSize is null ? data.ValidationSize : r.GetValue(validationSize),
            TestSize = testSize is null ? data.TestSize : r.GetValue(testSize),
        };

        TrainingSettings ReadTraining(ParseResult r, Option<int> seed, Option<int> epochs, Option<int> batchSize, Option<float> learningRate) => training with
        {
            Seed = r.GetValue(seed),
            Epochs = r.GetValue(epochs),
            BatchSize = r.GetValue(batchSize),
            LearningRate = r.GetValue(learningRate),
        };

        // The whole run.
        var root = new RootCommand(
            "NigGen sample: simulates regulatory DNA with planted GATA-like and TAL1-like motifs, trains a convolutional network on it, " +
            "scores the test set with Neuron Integrated Gradients and writes a report. Without a command it does all of that on defaults.");
        var (rootSeed, rootTrain, rootValidation, rootTest, rootEpochs, rootBatch, rootRate) = (Seed(), TrainSize(), ValidationSize(), TestSize(), Epochs(), BatchSize(), LearningRate());
        var outputFolder = new Option<string>("--output", "-o") { Description = "Folder for the weights, scores, test FASTA and report", DefaultValueFactory = _ => DefaultOutputFolder, HelpName = "folder" };
        foreach (var option in new Option[] { rootSeed, rootTrain, rootValidation, rootTest, rootEpochs, rootBatch, rootRate, outputFolder })
        {
            root.Options.Add(option);
        }

        root.SetAction(r => Guard(error, () =>
        {
            bool passed = Workflows.RunAll(ReadData(r, rootSeed, rootTrain, rootValidation, rootTest), ReadTraining(r, rootSeed, rootEpochs, rootBatch, rootRate),
                r.GetValue(outputFolder)!, output, new ProgressBar(error, interactive));
            return passed ? 0 : 3;
        }));

        // train
        var train = new Command("train", "Simulate the training and validation sets, train the model, save its weights");
        var (trainSeed, trainTrain, trainValidation, trainEpochs, trainBatch, trainRate) = (Seed(), TrainSize(), ValidationSize(), Epochs(), BatchSize(), LearningRate());
        var trainWeights = new Option<string>("--weights") { Description = "Where to save the weights (safetensors)", DefaultValueFactory = _ => DefaultWeights, HelpName = "path" };
        foreach (var option in new Option[] { trainSeed, trainTrain, trainValidation, trainEpochs, trainBatch, trainRate, trainWeights })
        {
            train.Options.Add(option);
        }

        train.SetAction(r => Guard(error, () =>
        {
            var network = Workflows.Train(ReadData(r, trainSeed, trainTrain, trainValidation, null), ReadTraining(r, trainSeed, trainEpochs, trainBatch, trainRate), output, new ProgressBar(error, interactive));
            string path = r.GetValue(trainWeights)!;
            CreateFolderOf(path);
            network.Save(path);
            output.WriteLine($"Weights: {path}");
            return 0;
        }));
        root.Subcommands.Add(train);

        // simulate
        var simulate = new Command("simulate", "Write simulated sequences as FASTA (headers carry labels and planted motifs), e.g. to try 'score'");
        var (simulateSeed, count) = (Seed(), Positive(new Option<int>("--count") { Description = "Sequences to write", DefaultValueFactory = _ => 100 }));
        var split = new Option<string>("--split") { Description = "Which split to draw from", DefaultValueFactory = _ => "test" }.AcceptOnlyFromAmong("train", "validation", "test");
        var fastaOut = new Option<string>("--fasta") { Description = "FASTA file to write, or - for standard output", DefaultValueFactory = _ => "-", HelpName = "path" };
        foreach (var option in new Option[] { simulateSeed, split, count, fastaOut })
        {
            simulate.Options.Add(option);
        }

        simulate.SetAction(r => Guard(error, () =>
        {
            var which = r.GetValue(split) switch { "train" => Split.Train, "validation" => Split.Validation, _ => Split.Test };
            var sequences = SimulatedGenomics.Generate(r.GetValue(simulateSeed), which, r.GetValue(count));
            WithOutput(r.GetValue(fastaOut)!, output, writer => Workflows.WriteFasta(sequences, writer));
            return 0;
        }));
        root.Subcommands.Add(simulate);

        // score
        var score = new Command("score", "Score sequences: one JSON line per record with the task probabilities and the top neurons by Neuron Integrated Gradients");
        var (scoreInput, scoreWeights, scoreLength) = (FastaInput(), Weights(), LengthModeOption());
        var task = new Option<string>("--task") { Description = "Task to explain: predicted (the most probable), all, both, gata or tal1", DefaultValueFactory = _ => "predicted" };
        task.Validators.Add(result =>
        {
            if (!TaskSelection.TryParse(result.GetValueOrDefault<string>() ?? "", out _))
            {
                result.AddError($"--task must be predicted, all, {string.Join(", ", Tasks.Names)} or a task index, not '{result.GetValueOrDefault<string>()}'.");
            }
        });
        var top = Positive(new Option<int>("--top") { Description = "Neurons listed per attribute layer", DefaultValueFactory = _ => 5 });
        var steps = new Option<int>("--steps") { Description = "Integration steps of Neuron Integrated Gradients", DefaultValueFactory = _ => SequenceScorer.DefaultOptions.Steps };
        steps.Validators.Add(result =>
        {
            if (Parses(result, text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) && result.GetValueOrDefault<int>() < 2)
            {
                result.AddError("--steps must be at least 2.");
            }
        });
        var scoreOutput = new Option<string>("--output", "-o") { Description = "Where to write the JSON lines, or - for standard output", DefaultValueFactory = _ => "-", HelpName = "path" };
        score.Arguments.Add(scoreInput);
        foreach (var option in new Option[] { scoreWeights, task, top, steps, scoreLength, scoreOutput })
        {
            score.Options.Add(option);
        }

        score.SetAction(r => Guard(error, () =>
        {
            var network = RegulatoryNet.Load(r.GetValue(scoreWeights)!);
            TaskSelection.TryParse(r.GetValue(task)!, out var selection);
            var options = SequenceScorer.DefaultOptions with { Steps = r.GetValue(steps) };
            WithInput(r.GetValue(scoreInput)!, input, reader =>
                WithOutput(r.GetValue(scoreOutput)!, output, writer =>
                    Workflows.ScoreFasta(network, reader, writer, selection, r.GetValue(top), ParseLengthMode(r.GetValue(scoreLength)), options, error)));
            return 0;
        }));
        root.Subcommands.Add(score);

        // explain
        var explain = new Command("explain", "Explain one sequence: its probabilities, top filters, and an HTML report with its attribution tracks");
        var (explainInput, explainWeights, explainLength, explainSeed) = (FastaInput(), Weights(), LengthModeOption(), Seed());
        explainSeed.Description = "Seed of the simulated test set the filters' learned motifs are read from";
        var id = new Option<string>("--id") { Description = "Which record to explain (default: the first)" };
        var explainOutput = new Option<string>("--output", "-o") { Description = "Report file to write", DefaultValueFactory = _ => Path.Combine(DefaultOutputFolder, "explain.html"), HelpName = "path" };
        explain.Arguments.Add(explainInput);
        foreach (var option in new Option[] { explainWeights, id, explainLength, explainSeed, explainOutput })
        {
            explain.Options.Add(option);
        }

        explain.SetAction(r => Guard(error, () =>
        {
            var network = RegulatoryNet.Load(r.GetValue(explainWeights)!);
            string? wanted = r.GetValue(id);
            FastaRecord? record = null;
            WithInput(r.GetValue(explainInput)!, input, reader => record = Fasta.Read(reader).FirstOrDefault(x => wanted is null || x.Id == wanted));
            if (record is null)
            {
                error.WriteLine(wanted is null ? "error: the FASTA input holds no record." : $"error: no record with id '{wanted}' in the FASTA input.");
                return 1;
            }

            string path = r.GetValue(explainOutput)!;
            CreateFolderOf(path);
            Workflows.Explain(network, record, ParseLengthMode(r.GetValue(explainLength)), r.GetValue(explainSeed), path, output);
            return 0;
        }));
        root.Subcommands.Add(explain);

        // report
        var report = new Command("report", "Evaluate trained weights on the simulated test set, run the sanity check and write the HTML report");
        var (reportWeights, reportSeed, reportTest) = (Weights(), Seed(), TestSize());
        var reportOutput = new Option<string>("--output", "-o") { Description = "Report file to write", DefaultValueFactory = _ => Path.Combine(DefaultOutputFolder, Workflows.ReportFile), HelpName = "path" };
        foreach (var option in new Option[] { reportWeights, reportSeed, reportTest, reportOutput })
        {
            report.Options.Add(option);
        }

        report.SetAction(r => Guard(error, () =>
        {
            var network = RegulatoryNet.Load(r.GetValue(reportWeights)!);
            string path = r.GetValue(reportOutput)!;
            CreateFolderOf(path);
            var sanity = Workflows.Report(network, ReadData(r, reportSeed, null, null, reportTest), path, null, [new("Weights", r.GetValue(reportWeights)!)], output);
            return sanity.Passed ? 0 : 3;
        }));
        root.Subcommands.Add(report);
        root.Subcommands.Add(ServeCommand.Create(Weights(), error));
        return root;
    }

    // Errors in what the user gave (files, FASTA, weights) end the command with a message, not a stack trace.
    internal static int Guard(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is FastaFormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static LengthMode ParseLengthMode(string? text) => text == "center" ? LengthMode.Center : LengthMode.Strict;

    private static void WithInput(string path, TextReader standardInput, Action<TextReader> read)
    {
        if (path == "-")
        {
            read(standardInput);
            return;
        }

        using var reader = new StreamReader(path);
        read(reader);
    }

    private static void WithOutput(string path, TextWriter standardOutput, Action<TextWriter> write)
    {
        if (path == "-")
        {
            write(standardOutput);
            standardOutput.Flush();
            return;
        }

        CreateFolderOf(path);
        using var writer = new StreamWriter(path);
        write(writer);
    }

    private static void CreateFolderOf(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }
    }

    // A value that does not parse is reported by System.CommandLine itself; validators only see values that do.
    internal static bool Parses(OptionResult result, Func<string, bool> tryParse) => result.Tokens.Count == 0 || tryParse(result.Tokens[^1].Value);

    internal static Option<int> Positive(Option<int> option, bool allowZero = false)
    {
        option.Validators.Add(result =>
        {
            if (!Parses(result, text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
            {
                return;
            }

            int value = result.GetValueOrDefault<int>();
            if (value < (allowZero ? 0 : 1))
            {
                result.AddError($"{option.Name} must be {(allowZero ? "zero or more" : "at least 1")}, not {value}.");
            }
        });
        return option;
    }

    private static Option<float> PositiveFloat(Option<float> option)
    {
        option.Validators.Add(result =>
        {
            if (!Parses(result, text => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            {
                return;
            }

            float value = result.GetValueOrDefault<float>();
            if (!(value > 0) || !float.IsFinite(value))
            {
                result.AddError($"{option.Name} must be a positive number, not {value}.");
            }
        });
        return option;
    }
}
