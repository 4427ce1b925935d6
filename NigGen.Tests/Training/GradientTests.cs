using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Tests.Numerics;
using NigGen.Training;
using Xunit;

namespace NigGen.Tests.Training;

/// <summary>
/// The weight and bias gradients of every layer kind and activation, for both losses, against central finite
/// differences of the double-precision reference (an independent implementation of the network and of the losses).
/// </summary>
public sealed class GradientTests
{
    public static TheoryData<string, TrainingLoss> Cases()
    {
        var cases = new TheoryData<string, TrainingLoss>();
        foreach (string name in TrainingSubjects.Names)
        {
            cases.Add(name, TrainingLoss.SoftmaxCrossEntropy);
            cases.Add(name, TrainingLoss.SigmoidCrossEntropy);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_parameter_gradient_matches_finite_differences_of_the_reference(string name, TrainingLoss loss)
    {
        var subject = TrainingSubjects.ByName(name);
        const int batch = 4;
        var inputs = subject.RandomInputs(seed: 31, batch);
        var targets = subject.RandomTargets(seed: 32, batch, loss);
        var trainer = subject.CreateTrainer(new TrainingOptions { Loss = loss });

        float computed = trainer.ComputeGradients(inputs, targets);

        var parameters = subject.Reference.ParametersInDouble();
        double expectedLoss = ReferenceLoss(subject.Reference, parameters, inputs, targets, loss);
        Assert.True(Math.Abs(expectedLoss - computed) <= 1e-5 * Math.Max(1, Math.Abs(expectedLoss)), $"{name} {loss}: loss {computed}, reference {expectedLoss}");

        var checkedTensors = new List<string>();
        foreach (var layer in trainer.Gradients)
        {
            var weight = new float[layer.Layer.Weight.Length];
            layer.CopyWeightGradientTo(weight);
            AssertMatches(subject, parameters, inputs, targets, loss, layer.Name + ".weight", weight);
            checkedTensors.Add(layer.Name + ".weight");
            if (!layer.BiasGradient.IsEmpty)
            {
                AssertMatches(subject, parameters, inputs, targets, loss, layer.Name + ".bias", layer.BiasGradient);
                checkedTensors.Add(layer.Name + ".bias");
            }
        }

        // Every tensor of the network has a gradient, and nothing else does.
        Assert.Equal(parameters.Keys.Order(), checkedTensors.Order());
    }

    [Fact]
    public void Logistic_regression_has_the_hand_derived_gradients()
    {
        // z = W x + b; softmax cross-entropy: ∂L/∂z = softmax(z) − t, ∂L/∂W = (softmax(z) − t) xᵀ, ∂L/∂b = softmax(z) − t.
        float[] w = [1f, -2f, 0.5f, 0f, 1f, 1f];
        float[] b = [0.1f, -0.3f];
        var network = LogisticNetWith(w, b);
        var trainer = network.CreateTrainer(new TrainingOptions { Loss = TrainingLoss.SoftmaxCrossEntropy });
        double[] x = [0.5, 1, -1];
        double[] t = [0.25, 0.75];
        float loss = trainer.ComputeGradients([0.5f, 1f, -1f], [0.25f, 0.75f]);

        double z0 = 1 * 0.5 - 2 * 1 - 0.5 + 0.1, z1 = 0 + 1 - 1 - 0.3; // −1.9, −0.3
        double p0 = 1 / (1 + Math.Exp(z1 - z0)), p1 = 1 - p0;
        Assert.Equal(-(t[0] * Math.Log(p0) + t[1] * Math.Log(p1)), loss, 6);
        double[] dz = [p0 - t[0], p1 - t[1]];
        AssertGradients(trainer, [dz[0] * x[0], dz[0] * x[1], dz[0] * x[2], dz[1] * x[0], dz[1] * x[1], dz[1] * x[2]], dz);

        // Sigmoid cross-entropy over two samples: ∂L/∂z_so = (σ(z_so) − t_so) / (samples × outputs).
        var sigmoid = network.CreateTrainer(new TrainingOptions { Loss = TrainingLoss.SigmoidCrossEntropy });
        double[][] xs = [[0.5, 1, -1], [2, 0, 1]];
        double[][] ts = [[1, 0], [0, 1]];
        float bce = sigmoid.ComputeGradients([0.5f, 1f, -1f, 2f, 0f, 1f], [1f, 0f, 0f, 1f]);
        var weightGradient = new double[6];
        var biasGradient = new double[2];
        double expectedLoss = 0;
        for (int s = 0; s < 2; s++)
        {
            for (int o = 0; o < 2; o++)
            {
                double z = b[o] + w[o * 3] * xs[s][0] + w[o * 3 + 1] * xs[s][1] + w[o * 3 + 2] * xs[s][2];
                double p = 1 / (1 + Math.Exp(-z));
                expectedLoss -= (ts[s][o] * Math.Log(p) + (1 - ts[s][o]) * Math.Log(1 - p)) / 4;
                biasGradient[o] += (p - ts[s][o]) / 4;
                for (int i = 0; i < 3; i++)
                {
                    weightGradient[o * 3 + i] += (p - ts[s][o]) * xs[s][i] / 4;
                }
            }
        }

        Assert.Equal(expectedLoss, bce, 6);
        AssertGradients(sigmoid, weightGradient, biasGradient);
    }

    private static Networks.LogisticNet LogisticNetWith(float[] weight, float[] bias)
    {
        var weights = new NigGen.Weights.SafetensorsWriter();
        weights.Add("linear.weight", [2, 3], weight);
        weights.Add("linear.bias", [2], bias);
        var stream = new System.IO.MemoryStream();
        weights.WriteTo(stream);
        stream.Position = 0;
        return Networks.LogisticNet.Load(stream);
    }

    private static void AssertGradients(Trainer trainer, double[] weight, double[] bias)
    {
        var actual = new float[weight.Length];
        trainer.Gradients[0].CopyWeightGradientTo(actual);
        for (int i = 0; i < weight.Length; i++)
        {
            Assert.True(Math.Abs(weight[i] - actual[i]) < 1e-6, $"∂L/∂W[{i}]: expected {weight[i]:G7}, got {actual[i]:G7}");
        }

        for (int o = 0; o < bias.Length; o++)
        {
            Assert.True(Math.Abs(bias[o] - trainer.Gradients[0].BiasGradient[o]) < 1e-6, $"∂L/∂b[{o}]: expected {bias[o]:G7}, got {trainer.Gradients[0].BiasGradient[o]:G7}");
        }
    }

    [Fact]
    public void A_batch_over_several_blocks_gives_the_mean_of_its_samples_gradients()
    {
        var subject = TrainingSubjects.Conv2d();
        int batch = subject.Network.Description.ForwardBlock * 2 + 3;
        var inputs = subject.RandomInputs(seed: 41, batch);
        var targets = subject.RandomTargets(seed: 42, batch, TrainingLoss.SoftmaxCrossEntropy);
        var trainer = subject.CreateTrainer(new TrainingOptions());
        float loss = trainer.ComputeGradients(inputs, targets);
        var whole = Flatten(trainer);

        var mean = new double[whole.Length];
        double meanLoss = 0;
        int inputLength = subject.Reference.InputLength, outputLength = subject.Reference.OutputLength;
        for (int s = 0; s < batch; s++)
        {
            meanLoss += trainer.ComputeGradients(inputs.AsSpan(s * inputLength, inputLength), targets.AsSpan(s * outputLength, outputLength)) / (double)batch;
            var single = Flatten(trainer);
            for (int i = 0; i < mean.Length; i++)
            {
                mean[i] += single[i] / (double)batch;
            }
        }

        Assert.Equal(meanLoss, loss, 5);
        ForwardAndGradientTests.AssertClose(mean, whole, "gradient of a batch of several blocks", relative: 1e-5);
    }

    private static float[] Flatten(Trainer trainer)
    {
        var values = new List<float>();
        foreach (var layer in trainer.Gradients)
        {
            var weight = new float[layer.Layer.Weight.Length];
            layer.CopyWeightGradientTo(weight);
            values.AddRange(weight);
            values.AddRange(layer.BiasGradient.ToArray());
        }

        return [.. values];
    }

    private static void AssertMatches(TrainingSubject subject, Dictionary<string, double[]> parameters, float[] inputs, float[] targets, TrainingLoss loss, string tensor, ReadOnlySpan<float> gradient)
    {
        var values = parameters[tensor];
        var expected = FiniteDifferences.Gradient(
            x =>
            {
                parameters[tensor] = x;
                return ReferenceLoss(subject.Reference, parameters, inputs, targets, loss);
            },
            (double[])values.Clone());
        parameters[tensor] = values;
        ForwardAndGradientTests.AssertClose(expected, gradient, $"{subject.Name} {loss} ∂L/∂{tensor}", relative: 1e-4);
    }

    /// <summary>The mean loss in double precision, written from the definitions (log of the softmax, log of the sigmoid).</summary>
    internal static double ReferenceLoss(ReferenceNetwork reference, IReadOnlyDictionary<string, double[]> parameters, float[] inputs, float[] targets, TrainingLoss loss)
    {
        int inputLength = reference.InputLength, outputs = reference.OutputLength;
        int batch = inputs.Length / inputLength;
        double total = 0;
        for (int s = 0; s < batch; s++)
        {
            var z = reference.Forward(inputs.AsSpan(s * inputLength, inputLength).ToArray().Select(v => (double)v).ToArray(), parameters);
            var t = targets.AsSpan(s * outputs, outputs).ToArray();
            if (loss == TrainingLoss.SoftmaxCrossEntropy)
            {
                double normaliser = z.Sum(Math.Exp);
                for (int c = 0; c < outputs; c++)
                {
                    total -= t[c] * Math.Log(Math.Exp(z[c]) / normaliser);
                }
            }
            else
            {
                for (int o = 0; o < outputs; o++)
                {
                    double p = 1 / (1 + Math.Exp(-z[o]));
                    total -= t[o] * Math.Log(p) + (1 - t[o]) * Math.Log(1 - p);
                }
            }
        }

        return total / (loss == TrainingLoss.SoftmaxCrossEntropy ? batch : batch * outputs);
    }
}
