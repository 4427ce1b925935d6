using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace NigGen.Benchmarks.Comparison;

/// <summary>
/// <c>dotnet run -c Release --project NigGen.Benchmarks -- compare [--samples N] [--no-write]</c>: the neuron-ranking
/// comparison of docs/COMPARISON.md. Writes its results between the markers in that file unless --no-write is given
/// or the sample count is not the published one.
/// </summary>
public static class CompareCommand
{
    public const int PublishedSamples = 300;
    private const string ResultsStart = "<!-- comparison results: written by the compare command -->";
    private const string ResultsEnd = "<!-- end of comparison results -->";

    public static int Run(string[] args)
    {
        int samples = PublishedSamples;
        bool write = true;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--samples" when i + 1 < args.Length && int.TryParse(args[i + 1], out int n) && n > 0:
                    samples = n;
                    i++;
                    break;
                case "--no-write":
                    write = false;
                    break;
                default:
                    Console.Error.WriteLine($"Unknown argument '{args[i]}'. compare takes --samples N (default {PublishedSamples}) and --no-write.");
                    return 2;
            }
        }

        // Numbers in the report read the same on every machine.
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
#if DEBUG
        Console.Error.WriteLine("Warning: a Debug build; the times are not meaningful. Use -c Release.");
#endif
        string command = "dotnet run -c Release --project NigGen.Benchmarks -- compare" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
        var result = NeuronRankingComparison.Run(samples, line => Console.WriteLine($"compare: {line}"));
        string markdown = ToMarkdown(result, command);
        Console.WriteLine();
        Console.WriteLine(markdown);

        if (write && samples == PublishedSamples)
        {
            string? root = RepositoryRoot();
            if (root is null)
            {
                Console.Error.WriteLine("Not run from the NigGen repository: docs/COMPARISON.md not updated.");
            }
            else
            {
                string path = Path.Combine(root, "docs", "COMPARISON.md");
                WriteInto(path, markdown);
                Console.WriteLine($"Results written to {path}");
            }
        }

        return 0;
    }

    public static string ToMarkdown(ComparisonResult r, string command)
    {
        var text = new StringBuilder();
        text.AppendLine($"Command: `{command}`; whole run {r.Elapsed.TotalSeconds:F0} s on {RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} logical cores{LoadAverage()}, " +
                        $"{RuntimeInformation.FrameworkDescription}; every method on one thread. Task: {NeuronRankingComparison.TrainSamples} training images, " +
                        $"{r.Samples} test images scored; target: the predicted class; baseline: the black image.");
        foreach (var model in r.Models)
        {
            text.AppendLine();
            text.AppendLine($"### {model.Model.Name}");
            text.AppendLine();
            text.AppendLine($"{model.Model.Training} ({NeuronRankingComparison.Epochs} epochs of SGD): training accuracy {model.Model.TrainAccuracy:P1}, " +
                            $"test accuracy {model.TestAccuracy:P1}; mean |F(x) − F(x')| = {model.MeanOutputDifference:F2}.");
            text.AppendLine();
            text.AppendLine("| method | time per sample | vs NIG | mean \\|summation delta\\| |");
            text.AppendLine("|---|---:|---:|---:|");
            double nig = model.Methods[0].SecondsPerSample;
            foreach (var m in model.Methods)
            {
                bool random = m.Method.Short == "x";
                string time = random ? "—" : $"{m.SecondsPerSample * 1e3:F3} ms";
                string ratio = random ? "—" : m == model.Methods[0] ? "1×" : $"{nig / m.SecondsPerSample:F0}× faster";
                string delta = m.Method.HasDelta ? m.MeanAbsoluteDelta.ToString("G2") : "—";
                text.AppendLine($"| {m.Method.Name} | {time} | {ratio} | {delta} |");
            }

            for (int l = 0; l < model.Layers.Count; l++)
            {
                var (name, length, ks) = model.Layers[l];
                text.AppendLine();
                text.AppendLine($"#### {name} ({length} neurons): mean drop of the target logit with the top k neurons ablated");
                text.AppendLine();
                text.AppendLine("| k | " + string.Join(" | ", model.Methods.Select(m => $"{m.Method.Column} ({m.Method.Short})")) + " |");
                text.AppendLine("|---:|" + string.Concat(model.Methods.Select(_ => "---:|")));
                for (int i = 0; i < ks.Length; i++)
                {
                    double best = model.Methods.Max(m => m.Layers[l].MeanDrop[i]);
                    text.AppendLine($"| {ks[i]} | " + string.Join(" | ", model.Methods.Select(m => Cell(m.Layers[l].MeanDrop[i], best))) + " |");
                }

                text.AppendLine();
                text.AppendLine($"Agreement with NIG's ranking (mean over samples), Spearman correlation / share of NIG's top {NeuronRankingComparison.TopOverlapK} in the method's top {NeuronRankingComparison.TopOverlapK}: " +
                    string.Join("; ", model.Methods.Skip(1).Select(m => $"{m.Method.Column} {m.Layers[l].SpearmanWithNig:F3} / {m.Layers[l].TopOverlapWithNig:P0}")) + ".");
                text.AppendLine();
                text.AppendLine("```");
                text.Append(Plot(model, l));
                text.AppendLine("```");
            }
        }

        return text.ToString();

        static string Cell(double value, double best) => value == best ? $"**{value:F2}**" : $"{value:F2}";
    }

    /// <summary>An ASCII bar chart of the mean drop for each k, one bar per method, scaled to the largest drop at that k.</summary>
    public static string Plot(ModelResult r, int layer)
    {
        const int width = 40;
        var ks = r.Layers[layer].Ks;
        var text = new StringBuilder();
        for (int i = 0; i < ks.Length; i++)
        {
            double max = Math.Max(1e-9, r.Methods.Max(m => m.Layers[layer].MeanDrop[i]));
            foreach (var m in r.Methods)
            {
                double drop = m.Layers[layer].MeanDrop[i];
                int eighths = (int)Math.Round(Math.Max(0, drop) / max * width * 8);
                string bar = new string('█', eighths / 8) + (eighths % 8 == 0 ? "" : "▏▎▍▌▋▊▉"[eighths % 8 - 1].ToString());
                string label = m == r.Methods[0] ? $"k = {ks[i]}".PadRight(9) : new string(' ', 9);
                text.AppendLine($"{label}{m.Method.Short} {bar.PadRight(width)} {drop,6:F2}");
            }
        }

        text.AppendLine("Bars are scaled to the largest drop at each k. " + string.Join(", ", r.Methods.Select(m => $"{m.Method.Short}: {m.Method.Column}")) + ".");
        return text.ToString();
    }

    // The machine's load when the run ended (Linux), so that a reader can judge the times.
    private static string LoadAverage()
    {
        const string path = "/proc/loadavg";
        return File.Exists(path) ? $" (load average {File.ReadAllText(path).Split(' ')[0]} at the end)" : "";
    }

    private static void WriteInto(string path, string markdown)
    {
        string existing = File.Exists(path) ? File.ReadAllText(path) : "# Neuron rankings compared\n\n";
        int start = existing.IndexOf(ResultsStart, StringComparison.Ordinal);
        int end = existing.IndexOf(ResultsEnd, StringComparison.Ordinal);
        string before = start >= 0 ? existing[..start] : existing.TrimEnd() + "\n\n";
        string after = end >= 0 ? existing[(end + ResultsEnd.Length)..] : "\n";
        File.WriteAllText(path, before + ResultsStart + "\n\n" + markdown.TrimEnd() + "\n\n" + ResultsEnd + after);
    }

    private static string? RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "NigGen.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }
}
