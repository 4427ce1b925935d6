using System;
using System.Linq;
using NigGen.Tests.Networks;
using NigGen.Training;
using Xunit;

namespace NigGen.Tests.Training;

/// <summary>A small convolutional network learns a planted-motif task in process, and its trained weights survive a round trip.</summary>
public sealed class LearningTests
{
    // Each step takes a fresh batch: 300 × 32 sequences, one pass, so the held-out accuracy measures learning, not memory.
    private const int Steps = 300;
    private const int BatchSize = 32;

    [Fact]
    public void A_motif_classifier_learns_with_softmax_cross_entropy()
    {
        var (train, trainTargets) = ThreeClasses(new MotifData(Steps * BatchSize * 4 / 3, seed: 1));
        var (test, testTargets) = ThreeClasses(new MotifData(300, seed: 2));
        var network = MotifNet.CreateRandom(seed: 1);
        var trainer = network.CreateTrainer(new TrainingOptions { Loss = TrainingLoss.SoftmaxCrossEntropy, LearningRate = 0.02f });
        float initial = trainer.Loss(test, testTargets);

        Train(trainer, train, trainTargets, outputs: 3);

        float final = trainer.Loss(test, testTargets);
        double accuracy = Accuracy(network, test, testTargets, (logits, target) => ArgMax(logits) == ArgMax(target));
        Assert.True(accuracy >= 0.97, $"held-out accuracy {accuracy:P1} (loss {initial:F3} → {final:F3})");
        Assert.True(final < initial / 5, $"held-out loss {initial:F3} → {final:F3}");
    }

    [Fact]
    public void A_motif_detector_learns_three_tasks_with_sigmoid_cross_entropy()
    {
        var trainData = new MotifData(Steps * BatchSize, seed: 3);
        var testData = new MotifData(300, seed: 4);
        var network = MotifNet.CreateRandom(seed: 2);
        var trainer = network.CreateTrainer(new TrainingOptions { Loss = TrainingLoss.SigmoidCrossEntropy, LearningRate = 0.02f });
        var testTargets = testData.TaskTargets();
        float initial = trainer.Loss(testData.Inputs, testTargets);

        Train(trainer, trainData.Inputs, trainData.TaskTargets(), outputs: 3);

        float final = trainer.Loss(testData.Inputs, testTargets);
        for (int task = 0; task < 3; task++)
        {
            double accuracy = Accuracy(network, testData.Inputs, testTargets, (logits, target) => logits[task] > 0 == target[task] > 0.5f);
            Assert.True(accuracy >= 0.95, $"task {task}: held-out accuracy {accuracy:P1} (loss {initial:F3} → {final:F3})");
        }

        Assert.True(final < initial / 5, $"held-out loss {initial:F3} → {final:F3}");
    }

    [Fact]
    public void The_same_seed_and_data_give_bitwise_the_same_weights()
    {
        var data = new MotifData(200, seed: 5);
        var targets = data.TaskTargets();
        var first = MotifNet.CreateRandom(seed: 9);
        var second = MotifNet.CreateRandom(seed: 9);
        var options = new TrainingOptions { Loss = TrainingLoss.SigmoidCrossEntropy, LearningRate = 0.01f, WeightDecay = 0.01f };
        var a = first.CreateTrainer(options);
        var b = second.CreateTrainer(options);
        var initial = Parameters(a);
        for (int step = 0; step < 20; step++)
        {
            // One whole-data batch (several workspace blocks) and one small one per step.
            Assert.Equal(a.Step(data.Inputs, targets), b.Step(data.Inputs, targets));
            int start = step % 10 * 4;
            Assert.Equal(
                a.Step(data.Inputs.AsSpan(start * MotifNet.InputLength, 4 * MotifNet.InputLength), targets.AsSpan(start * 3, 12)),
                b.Step(data.Inputs.AsSpan(start * MotifNet.InputLength, 4 * MotifNet.InputLength), targets.AsSpan(start * 3, 12)));
        }

        Assert.Equal(Parameters(a), Parameters(b));
        Assert.NotEqual(initial, Parameters(a));
    }

    [Fact]
    public void Trained_weights_saved_and_loaded_give_identical_predictions_and_attributions()
    {
        var (inputs, targets) = ThreeClasses(new MotifData(200, seed: 6));
        var network = MotifNet.CreateRandom(seed: 3);
        var trainer = network.CreateTrainer(new TrainingOptions { LearningRate = 0.02f });
        for (int step = 0; step < 30; step++)
        {
            trainer.Step(inputs, targets);
        }

        var stream = new System.IO.MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        var loaded = MotifNet.Load(stream);

        int batch = inputs.Length / MotifNet.InputLength;
        var expected = new float[batch * MotifNet.OutputLength];
        var actual = new float[expected.Length];
        network.Forward(inputs, expected);
        loaded.Forward(inputs, actual);
        Assert.Equal(expected, actual);

        // The backward kernels read the other weight layout: it must match the saved weights too.
        var sample = inputs.AsSpan(0, MotifNet.InputLength).ToArray();
        var expectedGradient = new float[MotifNet.InputLength];
        var actualGradient = new float[MotifNet.InputLength];
        network.InputGradient(sample, 1, expectedGradient);
        loaded.InputGradient(sample, 1, actualGradient);
        Assert.Equal(expectedGradient, actualGradient);
        var expectedImportance = new float[MotifNet.ImportanceLength];
        var actualImportance = new float[MotifNet.ImportanceLength];
        Assert.Equal(
            network.NeuronIntegratedGradients(sample, new float[MotifNet.InputLength], 1, expectedImportance),
            loaded.NeuronIntegratedGradients(sample, new float[MotifNet.InputLength], 1, actualImportance));
        Assert.Equal(expectedImportance, actualImportance);
    }

    private static void Train(Trainer trainer, float[] inputs, float[] targets, int outputs)
    {
        int samples = inputs.Length / MotifNet.InputLength;
        for (int step = 0; step < Steps; step++)
        {
            int start = step * BatchSize % (samples - BatchSize + 1);
            trainer.Step(inputs.AsSpan(start * MotifNet.InputLength, BatchSize * MotifNet.InputLength), targets.AsSpan(start * outputs, BatchSize * outputs));
        }
    }

    /// <summary>The samples holding at most one motif, with one-hot targets of their class.</summary>
    private static (float[] Inputs, float[] Targets) ThreeClasses(MotifData data)
    {
        var samples = Enumerable.Range(0, data.Samples).Where(s => data.ClassOf(s) >= 0).ToArray();
        var inputs = samples.SelectMany(s => data.Inputs.AsSpan(s * MotifNet.InputLength, MotifNet.InputLength).ToArray()).ToArray();
        var targets = new float[samples.Length * 3];
        for (int i = 0; i < samples.Length; i++)
        {
            targets[i * 3 + data.ClassOf(samples[i])] = 1f;
        }

        return (inputs, targets);
    }

    private static double Accuracy(MotifNet network, float[] inputs, float[] targets, Func<float[], float[], bool> correct)
    {
        int samples = inputs.Length / MotifNet.InputLength;
        var logits = new float[samples * 3];
        network.Forward(inputs, logits);
        int right = Enumerable.Range(0, samples).Count(s => correct(logits.AsSpan(s * 3, 3).ToArray(), targets.AsSpan(s * 3, 3).ToArray()));
        return right / (double)samples;
    }

    private static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

    private static float[] Parameters(Trainer trainer) =>
        trainer.Gradients.SelectMany(g => g.Layer.Weight.ToArray().Concat(g.Layer.Bias.ToArray())).ToArray();
}
