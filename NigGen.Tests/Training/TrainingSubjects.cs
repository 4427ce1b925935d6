using System;
using System.Linq;
using NigGen.Tests.Networks;
using NigGen.Tests.Numerics;
using NigGen.Training;

namespace NigGen.Tests.Training;

/// <summary>A generated network with a logits head, its trainer's factory, and its double-precision reference with the same weights.</summary>
public sealed record TrainingSubject(string Name, ReferenceNetwork Reference, ITrainableNetwork Network)
{
    public override string ToString() => Name;

    public Trainer CreateTrainer(TrainingOptions options) => Network.CreateTrainer(options);

    public float[] RandomInputs(int seed, int samples)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, samples * Reference.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Targets the loss accepts: random class probabilities (rows summing to 1, not one-hot) or random labels in [0, 1].</summary>
    public float[] RandomTargets(int seed, int samples, TrainingLoss loss)
    {
        var random = new Random(seed);
        int outputs = Reference.OutputLength;
        var targets = new float[samples * outputs];
        for (int s = 0; s < samples; s++)
        {
            var row = targets.AsSpan(s * outputs, outputs);
            for (int o = 0; o < outputs; o++)
            {
                row[o] = (float)random.NextDouble();
            }

            if (loss == TrainingLoss.SoftmaxCrossEntropy)
            {
                float sum = 0;
                foreach (float t in row)
                {
                    sum += t;
                }

                for (int o = 0; o < outputs; o++)
                {
                    row[o] /= sum;
                }
            }
        }

        return targets;
    }
}

public static class TrainingSubjects
{
    public static TrainingSubject DenseActivations()
    {
        var subject = Subjects.DenseActivations();
        return new TrainingSubject(nameof(DenseActivationsNet), subject.Reference, (ITrainableNetwork)subject.Network);
    }

    public static TrainingSubject Conv2d()
    {
        var subject = Subjects.Conv2d();
        return new TrainingSubject(nameof(Conv2dNet), subject.Reference, (ITrainableNetwork)subject.Network);
    }

    public static TrainingSubject Conv1d(int seed = 5)
    {
        var reference = new ReferenceNetwork([3, 17], seed,
            new RefConv("conv1", 4, Kernel: 3, Padding: 2, Activation: Activation.LeakyRelu),
            new RefMaxPool("pool1", 2, Stride: 1),
            new RefConv("conv2", 5, Kernel: 2, Stride: 2, Activation: Activation.Tanh, Bias: false),
            new RefAvgPool("pool2", 2),
            new RefFlatten("flat"),
            new RefDense("fc", 3));
        return new TrainingSubject(nameof(TrainConv1dNet), reference, TrainConv1dNet.Load(reference.ToSafetensors()));
    }

    public static TrainingSubject PoolFirst(int seed = 6)
    {
        var reference = new ReferenceNetwork([2, 8, 8], seed,
            new RefAvgPool("pool0", 2),
            new RefConv("conv", 3, Kernel: 3, Padding: 1, Activation: Activation.Elu),
            new RefMaxPool("pool", 2),
            new RefFlatten("flat"),
            new RefDense("hidden", 2, Activation.Sigmoid),
            new RefDense("output", 2));
        return new TrainingSubject(nameof(PoolFirstNet), reference, PoolFirstNet.Load(reference.ToSafetensors()));
    }

    public static TrainingSubject ConvHead(int seed = 7)
    {
        var reference = new ReferenceNetwork([2, 12], seed,
            new RefConv("features", 4, Kernel: 3, Padding: 1, Activation: Activation.Softplus),
            new RefConv("head", 3, Kernel: 1),
            new RefAvgPool("average", 12));
        return new TrainingSubject(nameof(ConvHeadNet), reference, ConvHeadNet.Load(reference.ToSafetensors()));
    }

    public static TrainingSubject SmallMlp()
    {
        var subject = Subjects.SmallMlp();
        return new TrainingSubject(nameof(Networks.SmallMlp), subject.Reference, (ITrainableNetwork)subject.Network);
    }

    public static TrainingSubject ByName(string name) => name switch
    {
        nameof(DenseActivationsNet) => DenseActivations(),
        nameof(Conv2dNet) => Conv2d(),
        nameof(TrainConv1dNet) => Conv1d(),
        nameof(PoolFirstNet) => PoolFirst(),
        nameof(ConvHeadNet) => ConvHead(),
        nameof(Networks.SmallMlp) => SmallMlp(),
        _ => throw new ArgumentException(name),
    };

    public static string[] Names =>
        [nameof(DenseActivationsNet), nameof(Conv2dNet), nameof(TrainConv1dNet), nameof(PoolFirstNet), nameof(ConvHeadNet), nameof(Networks.SmallMlp)];

    public static Xunit.TheoryData<string> All => new(Names);
}
