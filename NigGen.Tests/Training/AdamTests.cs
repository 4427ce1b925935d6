using System;
using System.Linq;
using NigGen.Training;
using Xunit;

namespace NigGen.Tests.Training;

/// <summary>Adam and AdamW against PyTorch's documented update, by hand and in double precision, alone and inside a trainer.</summary>
public sealed class AdamTests
{
    [Theory]
    [InlineData(0f, new[] { 0.900000002, 0.9366103542405654, 0.9502794203389762 })]
    [InlineData(0.1f, new[] { 0.890000002, 0.9177103542205653, 0.9222023167767704 })]
    public void Three_steps_on_known_gradients_give_the_hand_computed_parameters(float weightDecay, double[] expected)
    {
        // θ = 1, lr = 0.1, gradients 0.5, −1, 0.25; PyTorch's defaults otherwise. Values from torch.optim.Adam's (and
        // AdamW's) documented algorithm, evaluated in double: the first step moves θ by lr·sign(g) (m̂ = g, v̂ = g²).
        var options = new TrainingOptions { LearningRate = 0.1f, WeightDecay = weightDecay };
        float[] parameter = [1f], first = [0f], second = [0f];
        float[] gradients = [0.5f, -1f, 0.25f];
        for (int t = 1; t <= 3; t++)
        {
            Adam.Update(parameter, [gradients[t - 1]], first, second, new AdamStep(options.LearningRate, options, t));
            Assert.True(Math.Abs(parameter[0] - expected[t - 1]) < 2e-7, $"step {t}: expected {expected[t - 1]:R}, got {parameter[0]:R}");
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.01f)]
    public void Many_steps_on_many_parameters_follow_the_double_precision_algorithm(float weightDecay)
    {
        // 37 parameters: vector lanes and the scalar tail; gradients of every sign and scale, some zero.
        var options = new TrainingOptions { LearningRate = 3e-3f, Beta1 = 0.8f, Beta2 = 0.99f, Epsilon = 1e-6f, WeightDecay = weightDecay };
        var random = new Random(3);
        const int count = 37;
        var parameters = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var first = new float[count];
        var second = new float[count];
        var expected = parameters.Select(p => (double)p).ToArray();
        var m = new double[count];
        var v = new double[count];
        for (int t = 1; t <= 20; t++)
        {
            var gradients = Enumerable.Range(0, count).Select(i => i % 9 == 0 ? 0f : (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, i % 5 - 3))).ToArray();
            Adam.Update(parameters, gradients, first, second, new AdamStep(options.LearningRate, options, t));
            ReferenceStep(expected, gradients, m, v, options, t);
            for (int i = 0; i < count; i++)
            {
                Assert.True(Math.Abs(parameters[i] - expected[i]) < 1e-6 * Math.Max(1, Math.Abs(expected[i])), $"step {t}, parameter {i}: expected {expected[i]:R}, got {parameters[i]:R}");
            }
        }
    }

    [Fact]
    public void A_trainer_step_is_the_gradient_followed_by_adam_on_every_parameter_in_both_layouts()
    {
        // Convolutions update their transposed weight and rewrite Weight from it; Dense layers the other way round.
        var subject = TrainingSubjects.Conv1d();
        var options = new TrainingOptions { Loss = TrainingLoss.SigmoidCrossEntropy, LearningRate = 0.01f, WeightDecay = 0.05f };
        var trainer = subject.CreateTrainer(options);
        var inputs = subject.RandomInputs(seed: 51, samples: 6);
        var targets = subject.RandomTargets(seed: 52, samples: 6, TrainingLoss.SigmoidCrossEntropy);
        int layers = trainer.Gradients.Count;
        var expected = trainer.Gradients.Select(g => g.Layer.Weight.ToArray().Concat(g.Layer.Bias.ToArray()).Select(x => (double)x).ToArray()).ToArray();
        var m = expected.Select(e => new double[e.Length]).ToArray();
        var v = expected.Select(e => new double[e.Length]).ToArray();
        for (int t = 1; t <= 3; t++)
        {
            float before = trainer.ComputeGradients(inputs, targets);
            var gradients = trainer.Gradients.Select(Gradient).ToArray();
            float loss = trainer.Step(inputs, targets);
            Assert.Equal(before, loss);
            Assert.Equal(t, trainer.StepCount);
            for (int l = 0; l < layers; l++)
            {
                ReferenceStep(expected[l], gradients[l], m[l], v[l], options, t);
                var layer = trainer.Gradients[l].Layer;
                var actual = layer.Weight.ToArray().Concat(layer.Bias.ToArray()).ToArray();
                for (int i = 0; i < actual.Length; i++)
                {
                    Assert.True(Math.Abs(actual[i] - expected[l][i]) < 1e-6, $"step {t}, {layer.Name} parameter {i}: expected {expected[l][i]:R}, got {actual[i]:R}");
                }

                int outputs = layer.WeightShape[0], fanIn = layer.Weight.Length / outputs;
                Assert.Equal(NigGen.Tests.Kernels.KernelTestSupport.Transpose(layer.Weight.ToArray(), outputs, fanIn), layer.WeightTransposed.ToArray());
            }
        }
    }

    [Fact]
    public void The_learning_rate_can_change_between_steps()
    {
        var subject = TrainingSubjects.SmallMlp();
        var trainer = subject.CreateTrainer(new TrainingOptions());
        var inputs = subject.RandomInputs(seed: 61, samples: 2);
        var targets = subject.RandomTargets(seed: 62, samples: 2, TrainingLoss.SoftmaxCrossEntropy);
        trainer.LearningRate = 0f;
        var before = trainer.Gradients[0].Layer.Weight.ToArray();
        trainer.Step(inputs, targets);
        Assert.Equal(before, trainer.Gradients[0].Layer.Weight.ToArray());
        Assert.Equal(1, trainer.StepCount);
        trainer.LearningRate = 0.1f;
        trainer.Step(inputs, targets);
        Assert.NotEqual(before, trainer.Gradients[0].Layer.Weight.ToArray());
    }

    private static float[] Gradient(LayerGradients layer)
    {
        var weight = new float[layer.Layer.Weight.Length];
        layer.CopyWeightGradientTo(weight);
        return [.. weight, .. layer.BiasGradient];
    }

    /// <summary>torch.optim.Adam/AdamW as documented: decoupled decay, moments, bias-corrected moments, update.</summary>
    private static void ReferenceStep(double[] parameters, float[] gradients, double[] m, double[] v, TrainingOptions options, int t)
    {
        double lr = options.LearningRate, beta1 = options.Beta1, beta2 = options.Beta2;
        for (int i = 0; i < parameters.Length; i++)
        {
            double g = gradients[i];
            parameters[i] -= lr * options.WeightDecay * parameters[i];
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            double mHat = m[i] / (1 - Math.Pow(beta1, t));
            double vHat = v[i] / (1 - Math.Pow(beta2, t));
            parameters[i] -= lr * mHat / (Math.Sqrt(vHat) + options.Epsilon);
        }
    }
}
