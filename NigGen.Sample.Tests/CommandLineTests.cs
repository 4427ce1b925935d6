using System.IO;
using System.Linq;
using System.Text.Json;
using NigGen.Sample.Cli;
using NigGen.Sample.Genomics;
using Xunit;

namespace NigGen.Sample.Tests;

public sealed class CommandLineTests
{
    private sealed record Result(int ExitCode, string Output, string Error);

    private static Result RunWithInput(string standardInput, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = SampleCommandLine.Run(args, output, error, new StringReader(standardInput), interactive: false);
        return new Result(code, output.ToString(), error.ToString());
    }

    private static Result Run(params string[] args) => RunWithInput("", args);

    [Fact]
    public void HelpListsEveryCommand()
    {
        var result = Run("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (string command in new[] { "train", "simulate", "score", "explain", "report", "serve" })
        {
            Assert.Contains($"  {command} ", result.Output);
        }
    }

    [Theory]
    [InlineData("--epochs must be at least 1, not 0.", "train", "--epochs", "0")]
    [InlineData("--learning-rate must be a positive number", "train", "--learning-rate", "-1")]
    [InlineData("Unrecognized command or argument 'frobnicate'", "frobnicate")]
    [InlineData("--task must be predicted, all, both, gata, tal1 or a task index, not 'ctcf'.", "score", "--task", "ctcf")]
    [InlineData("--steps must be at least 2.", "score", "--steps", "1")]
    [InlineData("Argument 'sideways' not recognized. Must be one of", "score", "--length-mode", "sideways")]
    [InlineData("Cannot parse argument 'many' for option '--count'", "simulate", "--count", "many")]
    [InlineData("Argument 'holdout' not recognized", "simulate", "--split", "holdout")]
    [InlineData("--max-queue-delay-ms must be from 0 to 60000, not -1.", "serve", "--max-queue-delay-ms", "-1")]
    [InlineData("--max-batch-size must be at least 1, not 0.", "serve", "--max-batch-size", "0")]
    [InlineData("--max-body-bytes must be at least 1024, not 100.", "serve", "--max-body-bytes", "100")]
    [InlineData("Argument 'loud' not recognized. Must be one of", "serve", "--log-level", "loud")]
    public void BadArgumentsAreAnErrorWithUsage(string message, params string[] args)
    {
        var result = Run(args);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Contains("Usage:", result.Output + result.Error);
    }

    [Fact]
    public void ServeWithMissingWeightsIsAnErrorNamingTheFile()
    {
        var result = Run("serve", "--weights", "no-such-weights.safetensors");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Error);
        Assert.Contains("no-such-weights.safetensors", result.Error);
    }

    [Fact]
    public void SimulateWritesTheRequestedSplitAsFasta()
    {
        var result = Run("simulate", "--count", "3", "--split", "validation", "--seed", "4");
        Assert.Equal(0, result.ExitCode);
        var records = Fasta.Read(new StringReader(result.Output)).ToArray();
        var expected = SimulatedGenomics.Generate(4, Split.Validation, 3);
        Assert.Equal(expected.Select(s => s.Id), records.Select(r => r.Id));
        Assert.Equal(expected.Select(s => s.Bases), records.Select(r => r.Bases));
    }

    [Fact]
    public void ScoreReadsFastaFromStandardInputAndWritesOneJsonLinePerRecord()
    {
        using var folder = new TestNetworks.TemporaryFolder();
        string weights = folder.File("net.safetensors");
        RegulatoryNet.CreateRandom(1).Save(weights);
        string fasta = Run("simulate", "--count", "5").Output;

        var result = RunWithInput(fasta, "score", "-", "--weights", weights, "--top", "2", "--task", "all");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Output.Split('\n', System.StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"test-{i}"), lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()));
        using var first = JsonDocument.Parse(lines[0]);
        var explanations = first.RootElement.GetProperty("explanations");
        Assert.Equal(3, explanations.GetArrayLength());
        Assert.Equal(2, explanations[0].GetProperty("layers")[0].GetProperty("top").GetArrayLength());
        Assert.Contains("Scored 5 sequences (15 explanations", result.Error);

        // The same from a file, to a file.
        File.WriteAllText(folder.File("in.fa"), fasta);
        Assert.Equal(0, Run("score", folder.File("in.fa"), "--weights", weights, "--top", "2", "--task", "all", "-o", folder.File("out.jsonl")).ExitCode);
        Assert.Equal(result.Output, File.ReadAllText(folder.File("out.jsonl")));
    }

    [Fact]
    public void ScoreReportsTheRecordAndLineOfBadInput()
    {
        using var folder = new TestNetworks.TemporaryFolder();
        string weights = folder.File("net.safetensors");
        RegulatoryNet.CreateRandom(1).Save(weights);
        string bases = new('A', 200);

        var invalid = RunWithInput($">good\n{bases}\n>broken\n{bases[..100]}\n{bases[..50]}X{bases[..49]}\n", "score", "--weights", weights);
        Assert.Equal(1, invalid.ExitCode);
        Assert.Equal("error: record 'broken', line 5, column 51: 'X' is not a base (A, C, G, T or N).", invalid.Error.Trim());
        Assert.StartsWith("{\"id\":\"good\"", Assert.Single(invalid.Output.Split('\n', System.StringSplitOptions.RemoveEmptyEntries))); // records before the bad one are scored

        var tooShort = RunWithInput($">short\n{bases[..120]}\n", "score", "--weights", weights);
        Assert.Equal(1, tooShort.ExitCode);
        Assert.Contains("record 'short' (line 1) has 120 bases; the model reads exactly 200", tooShort.Error);

        var centred = RunWithInput($">short\n{bases[..120]}\n", "score", "--weights", weights, "--length-mode", "center");
        Assert.Equal(0, centred.ExitCode);
        Assert.StartsWith("{\"id\":\"short\"", centred.Output);
    }

    [Fact]
    public void MissingOrMalformedWeightsAreAnErrorNotACrash()
    {
        using var folder = new TestNetworks.TemporaryFolder();
        var missing = RunWithInput(">a\nACGT\n", "score", "--weights", folder.File("none.safetensors"));
        Assert.True(1 == missing.ExitCode, missing.Error);
        Assert.StartsWith("error: ", missing.Error);
        Assert.Contains("none.safetensors", missing.Error);

        File.WriteAllText(folder.File("bad.safetensors"), "not a safetensors file");
        var malformed = RunWithInput(">a\nACGT\n", "score", "--weights", folder.File("bad.safetensors"));
        Assert.True(1 == malformed.ExitCode, malformed.Error);
        Assert.StartsWith("error: ", malformed.Error);
    }

    [Fact]
    public void ExplainWritesAReportForTheChosenRecord()
    {
        using var folder = new TestNetworks.TemporaryFolder();
        string weights = folder.File("net.safetensors");
        RegulatoryNet.CreateRandom(1).Save(weights);
        string fasta = Run("simulate", "--count", "4").Output;

        var result = RunWithInput(fasta, "explain", "-", "--id", "test-2", "--weights", weights, "-o", folder.File("explain.html"));
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("test-2:", result.Output);
        Assert.Equal(3, result.Output.Split('\n').Count(l => l.StartsWith("  task ", System.StringComparison.Ordinal)));
        string html = File.ReadAllText(folder.File("explain.html"));
        Assert.Contains("<section id=\"input-attributions\">", html);
        Assert.Contains("test-2", html);

        var unknown = RunWithInput(fasta, "explain", "-", "--id", "nope", "--weights", weights, "-o", folder.File("x.html"));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no record with id 'nope'", unknown.Error);
    }
}
