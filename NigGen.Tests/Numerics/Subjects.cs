using System;
using System.Linq;
using NigGen.Tests.Networks;

namespace NigGen.Tests.Numerics;

/// <summary>A generated network paired with its independent double-precision reference and the same weights.</summary>
public sealed record Subject(string Name, ReferenceNetwork Reference, IAttributedNetwork Network)
{
    public override string ToString() => Name;

    public float[] RandomInput(int seed, int samples = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, samples * Reference.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}

public static class Subjects
{
    public static Subject DenseActivations(int seed = 13)
    {
        var reference = new ReferenceNetwork([5], seed,
            new RefDense("sigmoid", 6, Activation.Sigmoid),
            new RefDense("tanh", 7, Activation.Tanh),
            new RefDense("softplus", 6, Activation.Softplus, Bias: false),
            new RefDense("elu", 5, Activation.Elu),
            new RefDense("leaky", 5, Activation.LeakyRelu),
            new RefDense("relu", 4, Activation.Relu),
            new RefDense("output", 3));
        return new Subject(nameof(DenseActivationsNet), reference, DenseActivationsNet.Load(reference.ToSafetensors()));
    }

    public static Subject Conv2d(int seed = 2)
    {
        var reference = new ReferenceNetwork([2, 9, 8], seed,
            new RefConv("conv1", 3, Kernel: 3, Stride: 2, Padding: 1, Activation: Activation.Tanh),
            new RefMaxPool("pool1", 2, Stride: 1),
            new RefConv("conv2", 4, Kernel: 2, Activation: Activation.Relu),
            new RefAvgPool("pool2", 2),
            new RefFlatten("flat"),
            new RefDense("fc1", 6, Activation.Softplus),
            new RefDense("fc2", 3));
        return new Subject(nameof(Conv2dNet), reference, Conv2dNet.Load(reference.ToSafetensors()));
    }

    public static Subject Conv1d(int seed = 3)
    {
        var reference = new ReferenceNetwork([3, 17], seed,
            new RefConv("conv1", 4, Kernel: 3, Padding: 2, Activation: Activation.Elu),
            new RefAvgPool("pool1", 3, Stride: 2),
            new RefConv("conv2", 5, Kernel: 2, Stride: 2, Activation: Activation.Softplus, Bias: false),
            new RefMaxPool("pool2", 2),
            new RefFlatten("flat"),
            new RefDense("fc", 2, Activation.Sigmoid));
        return new Subject(nameof(Conv1dNet), reference, Conv1dNet.Load(reference.ToSafetensors()));
    }

    public static Subject SmallMlp(int seed = 4)
    {
        var reference = new ReferenceNetwork([20], seed,
            new RefDense("fc1", 16, Activation.Relu),
            new RefDense("fc2", 12, Activation.Relu),
            new RefDense("fc3", 4));
        return new Subject(nameof(Networks.SmallMlp), reference, Networks.SmallMlp.Load(reference.ToSafetensors()));
    }

    public static Subject ScoredBelowDense(int seed = 5)
    {
        var reference = new ReferenceNetwork([2, 4, 4], seed,
            new RefAvgPool("pool", 2),
            new RefFlatten("flat"),
            new RefDense("fc1", 5, Activation.Tanh),
            new RefDense("fc2", 3));
        return new Subject(nameof(ScoredBelowDenseNet), reference, ScoredBelowDenseNet.Load(reference.ToSafetensors()));
    }

    public static Subject Winograd(int seed = 6)
    {
        var reference = new ReferenceNetwork([2, 5, 5], seed,
            new RefConv("conv1", 8, Kernel: 3, Padding: 1, Activation: Activation.Tanh),
            new RefConv("conv2", 16, Kernel: 5, Padding: 2, Activation: Activation.Relu),
            new RefConv("conv3", 17, Kernel: 3, Padding: 1, Activation: Activation.Softplus),
            new RefAvgPool("pool", 2),
            new RefFlatten("flat"),
            new RefDense("fc", 3));
        return new Subject(nameof(WinogradNet), reference, WinogradNet.Load(reference.ToSafetensors()));
    }

    public static Subject ByName(string name) => name switch
    {
        nameof(WinogradNet) => Winograd(),
        nameof(DenseActivationsNet) => DenseActivations(),
        nameof(Conv2dNet) => Conv2d(),
        nameof(Conv1dNet) => Conv1d(),
        nameof(Networks.SmallMlp) => SmallMlp(),
        nameof(ScoredBelowDenseNet) => ScoredBelowDense(),
        _ => throw new ArgumentException(name),
    };

    public static Xunit.TheoryData<string> All => new() { nameof(DenseActivationsNet), nameof(Conv2dNet), nameof(Conv1dNet), nameof(Networks.SmallMlp), nameof(ScoredBelowDenseNet), nameof(WinogradNet) };

    /// <summary>All but WinogradNet, whose wide convolutions make tests of thousands of steps take most of a minute.</summary>
    public static Xunit.TheoryData<string> Small => new() { nameof(DenseActivationsNet), nameof(Conv2dNet), nameof(Conv1dNet), nameof(Networks.SmallMlp), nameof(ScoredBelowDenseNet) };
}
