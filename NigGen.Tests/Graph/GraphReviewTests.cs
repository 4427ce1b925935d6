using System;
using System.IO;
using System.Linq;
using NigGen.Tests.Networks;
using NigGen.Training;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Graph;

/// <summary>Cases an independent review of the layer graphs found wrong, each against an oracle.</summary>
public sealed class GraphReviewTests
{
    [Fact]
    public void A_scored_Dropout_of_a_shared_tensor_scores_its_own_path_only()
    {
        // The twin computes the same function with f an identity Dense layer, which always had buffers of its own.
        var net = GraphWeights.Randomised(ScoredAliasNet.CreateRandom(3).Save, 3, ScoredAliasNet.Load);
        var saved = new MemoryStream();
        net.Save(saved);
        var file = SafetensorsFile.Read(new MemoryStream(saved.ToArray()), "alias");
        var writer = new SafetensorsWriter();
        foreach (string name in file.TensorNames)
        {
            writer.Add(name, file.ShapeOf(name), file.GetTensor(name, file.ShapeOf(name), 1));
        }

        writer.Add("f.weight", [4, 4], Enumerable.Range(0, 16).Select(i => i % 5 == 0 ? 1f : 0f).ToArray());
        writer.Add("f.bias", [4], new float[4]);
        var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        var twin = ScoredAliasTwin.Load(stream);

        var x = GraphNetworkTests.Random(4, seed: 30);
        var baseline = GraphNetworkTests.Random(4, seed: 31).Select(v => v * 0.2f).ToArray();
        foreach (int target in new[] { 0, 1 })
        {
            var a = new float[4];
            var b = new float[4];
            net.NeuronIntegratedGradients(x, baseline, target, a);
            twin.NeuronIntegratedGradients(x, baseline, target, b);
            AssertClose(b, a, "NIG");
            net.GradientTimesActivation(x, target, a);
            twin.GradientTimesActivation(x, target, b);
            AssertClose(b, a, "gradient × activation");
            net.DeepLift(x, baseline, target, a);
            twin.DeepLift(x, baseline, target, b);
            AssertClose(b, a, "DeepLIFT");
            net.NeuronConductance(x, baseline, target, 2, a);
            twin.NeuronConductance(x, baseline, target, 2, b);
            AssertClose(b, a, "neuron conductance");
        }

        var outputA = new float[2];
        var outputB = new float[2];
        net.Ablate(x, baseline, [0, 1], outputA);
        twin.Ablate(x, baseline, [0, 1], outputB);
        AssertClose(outputB, outputA, "ablation");
    }

    [Fact]
    public void A_BatchNorm_on_the_input_trains()
    {
        var net = GraphWeights.Randomised(BatchNormFirstNet.CreateRandom(4).Save, 4, BatchNormFirstNet.Load);
        var trainer = net.CreateTrainer(new TrainingOptions { LearningRate = 1e-2f });
        var inputs = GraphNetworkTests.Random(8 * 3, seed: 32);
        var targets = Enumerable.Range(0, 8 * 2).Select(i => i % 2 == (i / 2) % 2 ? 1f : 0f).ToArray();
        float first = trainer.Step(inputs, targets);
        float last = first;
        for (int step = 0; step < 30; step++)
        {
            last = trainer.Step(inputs, targets);
        }

        Assert.True(last < first, $"loss {first} → {last}");
    }

    [Theory]
    [InlineData(NigGen.DeepLiftRule.RevealCancel)]
    [InlineData(NigGen.DeepLiftRule.GenomicsDefault)]
    [InlineData(NigGen.DeepLiftRule.Rescale)]
    public void RevealCancel_through_an_unfolded_BatchNorm_is_the_folded_networks(NigGen.DeepLiftRule rule)
    {
        // Folding a BatchNorm into the layer before it is exact arithmetic on the same terms, so the folded network's
        // RevealCancel (a split of the folded weights' terms) is the oracle for carrying the split through the scale.
        var folded = GraphWeights.Randomised(RevealCancelBatchNormFolded.CreateRandom(6).Save, 6, RevealCancelBatchNormFolded.Load);
        var saved = new MemoryStream();
        folded.Save(saved);
        saved.Position = 0;
        var unfolded = RevealCancelBatchNormUnfolded.Load(saved);
        var x = GraphNetworkTests.Random(24, seed: 40);
        var baseline = GraphNetworkTests.Random(24, seed: 41).Select(v => v * 0.3f).ToArray();
        foreach (int target in new[] { 0, 1 })
        {
            var a = new float[24];
            var b = new float[24];
            float deltaA = folded.DeepLiftInputs(x, baseline, target, a, rule);
            float deltaB = unfolded.DeepLiftInputs(x, baseline, target, b, rule);
            AssertClose(a, b, $"{rule} input attributions");
            Assert.True(Math.Abs(deltaB) < 1e-4, $"summation delta {deltaB}");

            var importanceA = new float[RevealCancelBatchNormFolded.ImportanceLength];
            var importanceB = new float[RevealCancelBatchNormUnfolded.ImportanceLength];
            folded.DeepLift(x, baseline, target, importanceA, rule);
            unfolded.DeepLift(x, baseline, target, importanceB, rule);
            AssertClose(importanceA, importanceB.AsSpan(RevealCancelBatchNormUnfolded.Bn2ImportanceOffset, 6).ToArray(), $"{rule} bn2");

            // The scored conv and fc (each a cut here) sum to F(x) − F(x') under every rule.
            double expected = GraphNetworkTests.Output(unfolded, x)[target] - (double)GraphNetworkTests.Output(unfolded, baseline)[target];
            foreach (var layer in RevealCancelBatchNormUnfolded.Description.AttributeLayers)
            {
                double sum = importanceB.AsSpan(layer.Offset, layer.Length).ToArray().Sum(v => (double)v);
                Assert.True(Math.Abs(sum - expected) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"{rule} {layer.Name}: Σ {sum}, ΔF {expected}");
            }
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"{what}[{i}]: {actual[i]}, identity twin {expected[i]}");
        }
    }
}
