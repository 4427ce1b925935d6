using System;
using System.Linq;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

/// <summary>The RevealCancel kernels against the plain linear kernels: parts add up to the layer's Δ, equal multipliers give the gradient.</summary>
public sealed class DeepLiftKernelsTests
{
    public static TheoryData<int> Geometries => new() { 0, 1, 2, 3, 4 };

    private static ConvGeometry Geometry(int which) => which switch
    {
        0 => new ConvGeometry(InChannels: 2, InHeight: 7, InWidth: 6, OutChannels: 3, KernelHeight: 3, KernelWidth: 2, StrideHeight: 2, StrideWidth: 1, PaddingHeight: 1, PaddingWidth: 1),
        1 => new ConvGeometry(InChannels: 3, InHeight: 1, InWidth: 11, OutChannels: 4, KernelHeight: 1, KernelWidth: 3, StrideHeight: 1, StrideWidth: 2, PaddingHeight: 0, PaddingWidth: 2),
        2 => new ConvGeometry(InChannels: 4, InHeight: 5, InWidth: 5, OutChannels: 2, KernelHeight: 1, KernelWidth: 1, StrideHeight: 1, StrideWidth: 1, PaddingHeight: 0, PaddingWidth: 0),
        3 => new ConvGeometry(InChannels: 4, InHeight: 8, InWidth: 7, OutChannels: 6, KernelHeight: 3, KernelWidth: 2, StrideHeight: 1, StrideWidth: 2, PaddingHeight: 2, PaddingWidth: 1) { DilationHeight = 2, DilationWidth = 3, Groups = 2 },
        _ => new ConvGeometry(InChannels: 3, InHeight: 1, InWidth: 20, OutChannels: 3, KernelHeight: 1, KernelWidth: 3, StrideHeight: 1, StrideWidth: 1, PaddingHeight: 0, PaddingWidth: 4) { DilationWidth = 4, Groups = 3 },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv_parts_are_signed_and_sum_to_the_convolution_of_the_difference(int which)
    {
        var g = Geometry(which);
        var random = new Random(which);
        var inputs = RandomArray(random, 2 * g.InputLength);
        var weight = RandomArray(random, g.OutChannels * g.PatchLength);
        var parts = new float[2 * g.OutputLength];
        DeepLiftKernels.SplitConv(g, inputs, weight, parts);

        var difference = inputs.Take(g.InputLength).Zip(inputs.Skip(g.InputLength), (a, b) => a - b).ToArray();
        var expected = new float[g.OutputLength];
        ConvKernels.Forward(g, difference, weight, ReadOnlySpan<float>.Empty, expected, 1, new float[g.ScratchLength]);
        for (int j = 0; j < g.OutputLength; j++)
        {
            Assert.True(parts[j] >= 0 && parts[g.OutputLength + j] <= 0, $"part signs at {j}");
            Close(expected[j], parts[j] + parts[g.OutputLength + j], 1e-5, $"output {j}");
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv_backward_with_equal_multipliers_is_the_gradient(int which)
    {
        var g = Geometry(which);
        var random = new Random(10 + which);
        var inputs = RandomArray(random, 2 * g.InputLength);
        inputs[3] = inputs[g.InputLength + 3]; // a zero difference takes the mean of the two multipliers
        var weight = RandomArray(random, g.OutChannels * g.PatchLength);
        var gradient = RandomArray(random, g.OutputLength);
        var multipliers = gradient.Concat(gradient).ToArray();
        var actual = new float[2 * g.InputLength];
        DeepLiftKernels.ConvRevealCancelBackward(g, multipliers, weight, inputs, actual);

        var expected = new float[g.InputLength];
        ConvKernels.BackwardInput(g, gradient, Transpose(weight, g.OutChannels, g.PatchLength), expected, 1, new float[g.ScratchLength]);
        for (int i = 0; i < g.InputLength; i++)
        {
            Close(expected[i], actual[i], 1e-5, $"input {i}");
        }
    }

    [Fact]
    public void Dense_parts_and_backward_against_the_dense_kernels()
    {
        const int inFeatures = 19, outFeatures = 13;
        var random = new Random(3);
        var inputs = RandomArray(random, 2 * inFeatures);
        inputs[0] = inputs[inFeatures];
        var weight = RandomArray(random, outFeatures * inFeatures);
        var weightTransposed = Transpose(weight, outFeatures, inFeatures);

        var parts = new float[2 * outFeatures];
        DeepLiftKernels.SplitDense(inputs, weightTransposed, parts, inFeatures, outFeatures);
        var difference = inputs.Take(inFeatures).Zip(inputs.Skip(inFeatures), (a, b) => a - b).ToArray();
        var linear = new float[outFeatures];
        DenseKernels.Forward(difference, weightTransposed, ReadOnlySpan<float>.Empty, linear, 1, inFeatures, outFeatures);
        for (int j = 0; j < outFeatures; j++)
        {
            Assert.True(parts[j] >= 0 && parts[outFeatures + j] <= 0, $"part signs at {j}");
            Close(linear[j], parts[j] + parts[outFeatures + j], 1e-5, $"output {j}");
        }

        var gradient = RandomArray(random, outFeatures);
        var actual = new float[2 * inFeatures];
        DeepLiftKernels.DenseRevealCancelBackward(gradient.Concat(gradient).ToArray(), weight, inputs, actual, inFeatures, outFeatures);
        var expected = new float[inFeatures];
        DenseKernels.BackwardInput(gradient, weight, expected, 1, inFeatures, outFeatures);
        for (int i = 0; i < inFeatures; i++)
        {
            Close(expected[i], actual[i], 1e-5, $"input {i}");
        }
    }

    /// <summary>The multiplier of a part that is (nearly) zero is its limit: the mean of f' at the two points its formula differences.</summary>
    [Fact]
    public void RevealCancel_takes_the_limit_for_an_empty_part()
    {
        // Baseline pre-activation −1, input 2 with Δx⁺ = 3 and Δx⁻ = 0: m⁻ = ½[relu'(−1) + relu'(−1 + 3)] = ½.
        float[] pre = [2, -1], post = [2, 0], parts = [3, 0];
        DeepLiftKernels.RevealCancel(Activation.Relu, pre, post, [1], parts);
        Assert.Equal(2f / 3f, parts[0], 6);
        Assert.Equal(0.5f, parts[1]);
    }

    [Fact]
    public void Rescale_falls_back_to_the_gradient_at_the_input()
    {
        // Rows (input, baseline) = ((0.25, 1), (0.25, −1)): the first neuron has Δx = 0 and takes σ'(0.25).
        float[] pre = [0.25f, 1f, 0.25f, -1f];
        var post = new float[4];
        ActivationKernels.Sigmoid(pre, post);
        var multipliers = new float[2];
        DeepLiftKernels.Rescale(Activation.Sigmoid, pre, post, [2, 3], multipliers);

        static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
        Close(2 * Sigmoid(0.25) * (1 - Sigmoid(0.25)), multipliers[0], 1e-6, "fallback");
        Close(3 * (Sigmoid(1) - Sigmoid(-1)) / 2, multipliers[1], 1e-6, "rescale");
    }

    [Theory]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.Silu)]
    public void Rescale_and_RevealCancel_reach_Gelu_and_Silu(Activation activation)
    {
        // Rows (input, baseline) = ((0.25, 1), (0.25, −2)): the first neuron takes f'(0.25), the second Δy/Δx.
        Func<double, double> f = activation == Activation.Gelu
            ? x => x * ActivationKernelsTests.Phi(x)
            : x => x / (1 + Math.Exp(-x));
        double Slope(double x) => (f(x + 1e-6) - f(x - 1e-6)) / 2e-6;
        float[] pre = [0.25f, 1f, 0.25f, -2f];
        var post = new float[4];
        ActivationKernels.Forward(activation, pre, post);
        var multipliers = new float[2];
        DeepLiftKernels.Rescale(activation, pre, post, [2, 3], multipliers);
        Close(2 * Slope(0.25), multipliers[0], 1e-6, "fallback");
        Close(3 * (f(1) - f(-2)) / 3, multipliers[1], 1e-6, "rescale");

        // RevealCancel on one neuron: baseline −2, Δx⁺ = 4, Δx⁻ = −1, so x = 1.
        float[] x = [1f, -2f], y = new float[2], parts = [4f, -1f];
        ActivationKernels.Forward(activation, x, y);
        DeepLiftKernels.RevealCancel(activation, x, y, [1], parts);
        double positive = 0.5 * ((f(2) - f(-2)) + (f(1) - f(-3))), negative = 0.5 * ((f(-3) - f(-2)) + (f(1) - f(2)));
        Close(positive / 4, parts[0], 1e-6, "m+");
        Close(negative / -1, parts[1], 1e-6, "m-");
    }

    [Fact]
    public void MaxPool_over_a_padded_geometry_sums_to_delta()
    {
        // 3×3, stride 2, padding 1 (ResNet's stem pool): the contributions of the inputs add up to those of the outputs.
        var g = new PoolGeometry(2, 7, 9, 3, 3, 2, 2) { PaddingHeight = 1, PaddingWidth = 1 };
        var random = new Random(4);
        float[] inputs = RandomArray(random, 2 * g.InputLength, 3f);
        float[] outputs = new float[2 * g.OutputLength];
        int[] argmax = new int[2 * g.OutputLength];
        PoolKernels.MaxForward(g, inputs, outputs, argmax, 2);
        float[] outputMultipliers = RandomArray(random, g.OutputLength);
        float[] inputMultipliers = new float[2 * g.InputLength];
        DeepLiftKernels.MaxPool(g, inputs, outputs, argmax, outputMultipliers, inputMultipliers);
        double input = 0, output = 0;
        for (int i = 0; i < g.InputLength; i++)
        {
            input += (double)inputMultipliers[i] * (inputs[i] - inputs[g.InputLength + i]);
        }

        for (int j = 0; j < g.OutputLength; j++)
        {
            output += (double)outputMultipliers[j] * (outputs[j] - outputs[g.OutputLength + j]);
        }

        Assert.True(Math.Abs(input - output) < 1e-4, $"{input} vs {output}");
        Assert.NotEqual(0, output);
    }
}
