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

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"{what}[{i}]: {actual[i]}, identity twin {expected[i]}");
        }
    }
}
