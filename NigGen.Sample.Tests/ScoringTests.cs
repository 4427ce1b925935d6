using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using NigGen.Sample.Genomics;
using NigGen.Sample.Scoring;
using Xunit;

namespace NigGen.Sample.Tests;

public sealed class ScoringTests
{
    private static readonly AttributionOptions Options = new() { Steps = 50, Rule = IntegrationRule.RiemannTrapezoid, MaxDegreeOfParallelism = 2 };

    [Fact]
    public void JsonLineHoldsProbabilitiesDeltasAndTheTopNeuronsOfEveryLayer()
    {
        var network = RegulatoryNet.CreateRandom(3);
        var sequences = SimulatedGenomics.Generate(1, Split.Test, 4);
        var inputs = SimulatedGenomics.OneHotBatch(sequences);
        var scored = new SequenceScorer(network, Options).Score(inputs, TaskSelection.All);
        Assert.Equal(12, scored.ExplanationCount);

        var logits = new float[4 * Tasks.Count];
        network.Forward(inputs, logits);
        var baseline = Dna.BackgroundBaseline();
        for (int sample = 0; sample < 4; sample++)
        {
            string line = WriteLine(sequences[sample].Id, scored, sample, top: 4);
            Assert.DoesNotContain('\n', line);
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            Assert.Equal(sequences[sample].Id, root.GetProperty("id").GetString());
            for (int t = 0; t < Tasks.Count; t++)
            {
                double expected = 1 / (1 + Math.Exp(-logits[sample * Tasks.Count + t]));
                Assert.Equal(expected, root.GetProperty("probabilities").GetProperty(Tasks.Names[t]).GetDouble(), 5);
            }

            var explanations = root.GetProperty("explanations").EnumerateArray().ToArray();
            Assert.Equal(Tasks.Names, explanations.Select(e => e.GetProperty("task").GetString()));
            for (int t = 0; t < Tasks.Count; t++)
            {
                // The batched scorer on two threads gives the single-sample call's numbers.
                var importance = new float[RegulatoryNet.ImportanceLength];
                float delta = network.NeuronIntegratedGradients(inputs.AsSpan(sample * RegulatoryNet.InputLength, RegulatoryNet.InputLength), baseline, t, importance, Options with { MaxDegreeOfParallelism = 1 });
                Assert.Equal(delta, explanations[t].GetProperty("delta").GetSingle());

                var layers = explanations[t].GetProperty("layers").EnumerateArray().ToArray();
                Assert.Equal(new[] { "conv1", "fc1" }, layers.Select(l => l.GetProperty("layer").GetString()));
                foreach (var (layer, info) in layers.Zip(RegulatoryNet.Description.AttributeLayers))
                {
                    var values = importance.AsSpan(info.Offset, info.Length).ToArray();
                    var top = layer.GetProperty("top").EnumerateArray().ToArray();
                    Assert.Equal(4, top.Length);
                    var expectedMagnitudes = values.Select(Math.Abs).OrderByDescending(v => v).Take(4);
                    Assert.Equal(expectedMagnitudes, top.Select(n => Math.Abs(n.GetProperty("importance").GetSingle())));
                    foreach (var neuron in top)
                    {
                        int[] coordinates = neuron.GetProperty("coordinates").EnumerateArray().Select(c => c.GetInt32()).ToArray();
                        int index = coordinates.Length == 2 ? coordinates[0] * Dna.SequenceLength + coordinates[1] : coordinates[0];
                        Assert.Equal(values[index], neuron.GetProperty("importance").GetSingle());
                        Assert.Equal(RegulatoryNet.Description.DescribeNeuron(info.Offset + index), neuron.GetProperty("neuron").GetString());
                    }
                }
            }
        }
    }

    [Fact]
    public void PredictedSelectionExplainsTheMostProbableTaskAndSingleSelectionItsTask()
    {
        var network = RegulatoryNet.CreateRandom(5);
        var inputs = SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(2, Split.Test, 6));
        var scorer = new SequenceScorer(network, Options);
        var predicted = scorer.Score(inputs, TaskSelection.Predicted);
        Assert.Equal(6, predicted.ExplanationCount);
        for (int k = 0; k < 6; k++)
        {
            Assert.Equal(k, predicted.SampleOf(k));
            Assert.Equal(SequenceScorer.ArgMax(predicted.Logits.Slice(k * Tasks.Count, Tasks.Count)), predicted.TaskOf(k));
        }

        var single = scorer.Score(inputs, TaskSelection.Single(Tasks.Tal1));
        Assert.All(Enumerable.Range(0, 6), k => Assert.Equal(Tasks.Tal1, single.TaskOf(k)));
    }

    [Fact]
    public void FilterImportanceSumsEachFiltersPositions()
    {
        var network = RegulatoryNet.CreateRandom(8);
        var scored = new SequenceScorer(network, Options).Score(SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(3, Split.Test, 1)), TaskSelection.Single(Tasks.Gata));
        var perFilter = scored.FilterImportance(0);
        var conv = scored.Importance(0).Slice(RegulatoryNet.Conv1ImportanceOffset, RegulatoryNet.Conv1ImportanceLength).ToArray();
        for (int f = 0; f < RegulatoryNet.FilterCount; f++)
        {
            Assert.Equal(conv.Skip(f * Dna.SequenceLength).Take(Dna.SequenceLength).Sum(v => (double)v), perFilter[f], 4);
        }

        // Each attribute layer is a cut of the network: its importances sum to F(x) − F(baseline) up to the delta.
        var logits = new float[Tasks.Count];
        var baselineLogits = new float[Tasks.Count];
        network.Forward(SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(3, Split.Test, 1)), logits);
        network.Forward(Dna.BackgroundBaseline(), baselineLogits);
        double difference = logits[Tasks.Gata] - baselineLogits[Tasks.Gata];
        Assert.True(Math.Abs(perFilter.Sum() - difference) <= Math.Abs(scored.Delta(0)) + 1e-4, $"Σ conv1 = {perFilter.Sum()}, F(x) − F(x') = {difference}, delta {scored.Delta(0)}");
    }

    [Theory]
    [InlineData("predicted", -1)]
    [InlineData("all", -2)]
    [InlineData("both", 0)]
    [InlineData("GATA", 1)]
    [InlineData("2", 2)]
    public void TaskSelectionParsesNamesAndIndices(string text, int task)
    {
        Assert.True(TaskSelection.TryParse(text, out var selection));
        Assert.Equal(task, selection.Task);
    }

    [Fact]
    public void TaskSelectionRejectsUnknownTasks()
    {
        Assert.False(TaskSelection.TryParse("ctcf", out _));
        Assert.False(TaskSelection.TryParse("3", out _));
    }

    [Fact]
    public void TopByMagnitudeKeepsTheLargestInOrder()
    {
        Assert.Equal(new[] { 3, 1, 4 }, ScoreJson.TopByMagnitude([0.1f, -0.5f, 0.2f, 0.9f, 0.3f], 3));
        Assert.Equal(new[] { 0, 1 }, ScoreJson.TopByMagnitude([1f, -1f], 5));
    }

    private static string WriteLine(string id, ScoredBatch batch, int sample, int top)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            ScoreJson.Write(writer, id, batch, sample, top);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
