using System;
using System.Linq;
using NigGen.Tests.Networks;
using NigGen.Training;
using Xunit;

namespace NigGen.Tests.Training;

/// <summary>Every bad argument is an exception naming it, raised before any work: the network is left as it was.</summary>
public sealed class TrainingBadInputTests
{
    private static (SmallMlp Network, Trainer Trainer, float[] Inputs, float[] Targets) Setup(TrainingLoss loss = TrainingLoss.SoftmaxCrossEntropy)
    {
        var subject = TrainingSubjects.SmallMlp();
        var network = (SmallMlp)subject.Network;
        var trainer = network.CreateTrainer(new TrainingOptions { Loss = loss });
        return (network, trainer, subject.RandomInputs(seed: 71, samples: 3), subject.RandomTargets(seed: 72, samples: 3, loss));
    }

    [Fact]
    public void Lengths_that_do_not_match_name_the_tensor()
    {
        var (_, trainer, inputs, targets) = Setup();
        AssertRejected(() => trainer.Step(inputs.AsSpan(1), targets), "inputs", "not a whole number");
        AssertRejected(() => trainer.Step(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty), "inputs", "no samples");
        AssertRejected(() => trainer.Step(inputs, targets.AsSpan(4)), "targets", "3 × 4");
        AssertRejected(() => trainer.Loss(inputs, targets.AsSpan(0, 4)), "targets", "3 × 4");
        AssertRejected(() => trainer.ComputeGradients(inputs.AsSpan(0, SmallMlp.InputLength), targets), "targets", "1 × 4");
    }

    [Fact]
    public void Non_finite_inputs_and_targets_name_the_tensor_and_the_sample()
    {
        var (network, trainer, inputs, targets) = Setup();
        var before = Parameters(trainer);
        inputs[SmallMlp.InputLength + 2] = float.NaN;
        AssertRejected(() => trainer.Step(inputs, targets), "inputs", "sample 1, feature 2");

        (_, trainer, inputs, targets) = Setup();
        targets[9] = float.NaN;
        AssertRejected(() => trainer.Step(inputs, targets), "targets", "targets[9] (sample 2, output 1) is NaN");
        targets[9] = float.PositiveInfinity;
        AssertRejected(() => trainer.Loss(inputs, targets), "targets", "+∞");
        Assert.Equal(before, Parameters(trainer));
        Assert.Equal(0, trainer.StepCount);
        GC.KeepAlive(network);
    }

    [Fact]
    public void Targets_outside_what_the_loss_accepts_are_rejected()
    {
        var (_, sigmoid, inputs, labels) = Setup(TrainingLoss.SigmoidCrossEntropy);
        labels[5] = 1.5f;
        AssertRejected(() => sigmoid.Step(inputs, labels), "targets", "targets[5] (sample 1, output 1) is 1.5: TrainingLoss.SigmoidCrossEntropy takes a label in [0, 1]");
        labels[5] = -0.25f;
        AssertRejected(() => sigmoid.Step(inputs, labels), "targets", "-0.25");

        var (_, softmax, _, probabilities) = Setup();
        probabilities[0] = -0.1f;
        AssertRejected(() => softmax.Step(inputs, probabilities), "targets", "class probabilities in [0, 1]");

        // A multi-hot row is not a distribution; class indices are not probabilities.
        var multiHot = new float[12];
        multiHot[0] = multiHot[1] = 1f;
        multiHot[6] = multiHot[9] = 1f;
        AssertRejected(() => softmax.Step(inputs, multiHot), "targets", "row 0 sums to 2");
        AssertRejected(() => softmax.Step(inputs, [0.5f, 0.2f, 0.2f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f]), "targets", "row 0 sums to 0.9");
        AssertRejected(() => softmax.Step(inputs, [2f, 0f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f]), "targets", "is 2");

        // Probabilities within float rounding of 1 are fine.
        softmax.Step(inputs, [0.1f, 0.2f, 0.3f, 0.4f, 0.25f, 0.25f, 0.25f, 0.25f, 1f / 3, 1f / 3, 1f / 3, 0f]);
    }

    [Fact]
    public void Options_out_of_range_are_rejected_at_creation()
    {
        var network = SmallMlp.CreateRandom(seed: 1);
        Assert.Throws<ArgumentNullException>(() => network.CreateTrainer(null!));
        AssertRejected(() => network.CreateTrainer(new TrainingOptions { LearningRate = float.NaN }), "options", "options.LearningRate is NaN");
        AssertRejected(() => network.CreateTrainer(new TrainingOptions { LearningRate = -1e-3f }), "options", "LearningRate");
        AssertRejected(() => network.CreateTrainer(new TrainingOptions { Beta1 = 1f }), "options", "options.Beta1 is 1, but it must be in [0, 1)");
        AssertRejected(() => network.CreateTrainer(new TrainingOptions { Beta2 = -0.5f }), "options", "Beta2");
        AssertRejected(() => network.CreateTrainer(new TrainingOptions { Epsilon = float.PositiveInfinity }), "options", "Epsilon");
        AssertRejected(() => network.CreateTrainer(new TrainingOptions { WeightDecay = -0.01f }), "options", "WeightDecay");
        AssertRejected(() => network.CreateTrainer(new TrainingOptions { Loss = (TrainingLoss)7 }), "options", "not a TrainingLoss");
        var trainer = network.CreateTrainer(new TrainingOptions());
        AssertRejected(() => trainer.LearningRate = float.NegativeInfinity, "value", "LearningRate");
    }

    [Fact]
    public void A_head_with_an_activation_is_rejected_with_the_reason()
    {
        // Conv1dNet's head 'fc' applies a sigmoid: its output is a probability, not the logits the losses read.
        var network = Conv1dNet.CreateRandom(seed: 1);
        foreach (var loss in new[] { TrainingLoss.SoftmaxCrossEntropy, TrainingLoss.SigmoidCrossEntropy })
        {
            var error = Assert.Throws<InvalidOperationException>(() => network.CreateTrainer(new TrainingOptions { Loss = loss }));
            Assert.Contains("head layer 'fc' applies Sigmoid", error.Message);
            Assert.Contains("Declare 'fc' with Activation.None", error.Message);
        }

        // A ReLU head (CaptumReluModel's 'output') is rejected too, and a pooling layer above the head does not hide it.
        Assert.Throws<InvalidOperationException>(() => CaptumReluModel.CreateRandom(seed: 1).CreateTrainer(new TrainingOptions()));
        Assert.Contains("'conv2' applies Relu", Assert.Throws<InvalidOperationException>(() => ConvReluPoolHeadNet.CreateRandom(seed: 1).CreateTrainer(new TrainingOptions())).Message);
    }

    [Fact]
    public void A_non_finite_loss_or_gradient_leaves_the_parameters_unchanged()
    {
        var subject = TrainingSubjects.SmallMlp();
        // SmallMlp's weights with one infinite bias: the logits, hence the loss and the gradients, are not finite.
        var writer = new NigGen.Weights.SafetensorsWriter();
        foreach (var (name, shape) in new[] { ("fc1", new[] { 16, 20 }), ("fc2", [12, 16]), ("fc3", [4, 12]) })
        {
            writer.Add(name + ".weight", shape, subject.Reference.Parameter(name + ".weight"));
            var bias = (float[])subject.Reference.Parameter(name + ".bias").Clone();
            if (name == "fc2")
            {
                bias[3] = float.PositiveInfinity;
            }

            writer.Add(name + ".bias", [shape[0]], bias);
        }

        var stream = new System.IO.MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        var network = SmallMlp.Load(stream, new NigGen.Weights.WeightsLoadOptions { AllowNonFiniteWeights = true });
        var trainer = network.CreateTrainer(new TrainingOptions());
        var before = Parameters(trainer);
        var error = Assert.Throws<InvalidOperationException>(() => trainer.Step(subject.RandomInputs(seed: 1, samples: 2), subject.RandomTargets(seed: 2, samples: 2, TrainingLoss.SoftmaxCrossEntropy)));
        Assert.Contains("parameters are unchanged", error.Message);
        Assert.Equal(0, trainer.StepCount);
        Assert.True(before.AsSpan().SequenceEqual(Parameters(trainer)), "a rejected step changed the parameters");
    }

    private static float[] Parameters(Trainer trainer) =>
        trainer.Gradients.SelectMany(g => g.Layer.Weight.ToArray().Concat(g.Layer.Bias.ToArray())).ToArray();

    private static void AssertRejected(Action call, string parameter, string message)
    {
        var error = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(parameter, error.ParamName);
        Assert.Contains(message, error.Message);
    }
}
