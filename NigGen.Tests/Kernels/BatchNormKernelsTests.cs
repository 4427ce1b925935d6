using System;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

/// <summary>BatchNorm's evaluation map, training statistics, running update, training backward and folding, against double references.</summary>
public sealed class BatchNormKernelsTests
{
    private const float Epsilon = 1e-5f;

    // (batch, channels, spatial): BatchNorm1d on (N, C), on (N, C, L), BatchNorm2d on (N, C, H·W).
    public static TheoryData<int, int, int> Layouts => new() { { 5, 3, 1 }, { 3, 4, 7 }, { 2, 3, 20 } };

    private static (float[] Weight, float[] Bias, float[] Mean, float[] Variance) Parameters(Random random, int channels)
    {
        var variance = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            variance[c] = 0.2f + (float)random.NextDouble() * 3;
        }

        return (RandomArray(random, channels, 2f), RandomArray(random, channels), RandomArray(random, channels), variance);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Evaluation_is_the_normalisation_by_the_running_statistics(int batch, int channels, int spatial)
    {
        var random = new Random(batch * 100 + spatial);
        var (weight, bias, mean, variance) = Parameters(random, channels);
        float[] input = RandomArray(random, batch * channels * spatial, 4f);
        float[] scale = new float[channels], shift = new float[channels], output = new float[input.Length];
        BatchNormKernels.ScaleShift(weight, bias, mean, variance, Epsilon, scale, shift);
        BatchNormKernels.Forward(input, scale, shift, output, batch, channels, spatial);
        for (int i = 0; i < input.Length; i++)
        {
            int c = i / spatial % channels;
            double expected = (input[i] - (double)mean[c]) / Math.Sqrt(variance[c] + (double)Epsilon) * weight[c] + bias[c];
            Close(expected, output[i], 8 * FloatEpsilon * (Math.Abs(input[i] * scale[c]) + Math.Abs(shift[c]) + Math.Abs(bias[c])), $"y[{i}]");
        }

        // In place, and the gradient is the scale.
        float[] inPlace = (float[])input.Clone();
        BatchNormKernels.Forward(inPlace, scale, shift, inPlace, batch, channels, spatial);
        BitwiseEqual(output, inPlace, "in place");
        float[] gradient = RandomArray(random, input.Length), inputGradient = RandomArray(random, input.Length);
        BatchNormKernels.BackwardInput(gradient, scale, inputGradient, batch, channels, spatial);
        for (int i = 0; i < input.Length; i++)
        {
            Assert.Equal(gradient[i] * scale[i / spatial % channels], inputGradient[i]);
        }

        float[] before = RandomArray(random, input.Length), accumulated = (float[])before.Clone();
        BatchNormKernels.BackwardInput(gradient, scale, accumulated, batch, channels, spatial, accumulate: true);
        for (int i = 0; i < input.Length; i++)
        {
            Assert.Equal(before[i] + inputGradient[i], accumulated[i]);
        }
    }

    [Fact]
    public void Scale_and_shift_follow_PyTorchs_inference_and_Affine_false()
    {
        // weight 2, bias 1, running mean 3, running var 4 − ε: scale = 2/√4 = 1, shift = 1 − 3 = −2.
        float[] scale = new float[2], shift = new float[2];
        BatchNormKernels.ScaleShift([2f, -0.5f], [1f, 0f], [3f, 1f], [4f - Epsilon, 0.25f - Epsilon], Epsilon, scale, shift);
        Assert.Equal(1f, scale[0], 6);
        Assert.Equal(-2f, shift[0], 5);
        Assert.Equal(-1f, scale[1], 5);
        Assert.Equal(1f, shift[1], 5);

        // Not affine: weight 1 and bias 0.
        BatchNormKernels.ScaleShift([], [], [3f, 1f], [4f - Epsilon, 0.25f - Epsilon], Epsilon, scale, shift);
        Assert.Equal(0.5f, scale[0], 6);
        Assert.Equal(-1.5f, shift[0], 5);
        Assert.Equal(2f, scale[1], 5);
        Assert.Equal(-2f, shift[1], 5);
    }

    // The training forward in double: the batch statistics and the normalised, scaled output.
    private static double[] TrainingReference(double[] x, double[] weight, double[] bias, int batch, int channels, int spatial)
    {
        var y = new double[x.Length];
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0, n = batch * spatial;
            for (int b = 0; b < batch; b++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    sum += x[(b * channels + c) * spatial + s];
                }
            }

            double mean = sum / n;
            for (int b = 0; b < batch; b++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    double d = x[(b * channels + c) * spatial + s] - mean;
                    squares += d * d;
                }
            }

            double inverseStd = 1 / Math.Sqrt(squares / n + Epsilon);
            for (int b = 0; b < batch; b++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    int i = (b * channels + c) * spatial + s;
                    y[i] = (x[i] - mean) * inverseStd * weight[c] + bias[c];
                }
            }
        }

        return y;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Training_forward_normalises_with_the_batch_statistics(int batch, int channels, int spatial)
    {
        var random = new Random(7 + batch);
        var (weight, bias, _, _) = Parameters(random, channels);
        float[] input = RandomArray(random, batch * channels * spatial, 3f);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] += 5f; // an offset, so that a one-pass variance would lose digits
        }

        float[] output = new float[input.Length], mean = new float[channels], variance = new float[channels];
        BatchNormKernels.TrainingForward(input, weight, bias, Epsilon, output, mean, variance, batch, channels, spatial);
        double[] expected = TrainingReference(Array.ConvertAll(input, v => (double)v), Array.ConvertAll(weight, v => (double)v), Array.ConvertAll(bias, v => (double)v), batch, channels, spatial);
        for (int i = 0; i < input.Length; i++)
        {
            Close(expected[i], output[i], 1e-5 * (Math.Abs(expected[i]) + Math.Abs(weight[i / spatial % channels]) + 1), $"y[{i}]");
        }

        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (int b = 0; b < batch; b++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    sum += input[(b * channels + c) * spatial + s];
                }
            }

            Close(sum / (batch * spatial), mean[c], 2 * FloatEpsilon * Math.Abs(mean[c]), $"mean[{c}]");
        }

        // A normalised channel has mean 0 and (biased) variance 1 before the affine step: check it without weight and bias.
        BatchNormKernels.TrainingForward(input, [], [], Epsilon, output, mean, variance, batch, channels, spatial);
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (int b = 0; b < batch; b++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    double v = output[(b * channels + c) * spatial + s];
                    sum += v;
                    squares += v * v;
                }
            }

            int n = batch * spatial;
            Assert.True(Math.Abs(sum / n) < 1e-5, $"channel {c} mean {sum / n}");
            Close(variance[c] / (variance[c] + Epsilon), (float)(squares / n), 1e-5, $"channel {c} variance");
        }
    }

    [Fact]
    public void Running_statistics_update_as_PyTorchs_train_mode()
    {
        // One channel of values 1, 2, 3, 4 (batch 2, length 2): mean 2.5, biased variance 1.25, unbiased 5/3.
        // From running (0, 1) with momentum 0.1: mean 0.25, variance 0.9 + 0.1·5/3 = 1.0666667.
        float[] input = { 1, 2, 3, 4 }, output = new float[4], mean = new float[1], variance = new float[1];
        BatchNormKernels.TrainingForward(input, [1f], [0f], Epsilon, output, mean, variance, 2, 1, 2);
        Assert.Equal(2.5f, mean[0]);
        Assert.Equal(1.25f, variance[0]);
        float[] runningMean = { 0f }, runningVariance = { 1f };
        BatchNormKernels.UpdateRunningStatistics(mean, variance, 4, 0.1f, runningMean, runningVariance);
        Assert.Equal(0.25f, runningMean[0], 7);
        Assert.Equal((float)(0.9 + 0.1 * 5.0 / 3.0), runningVariance[0], 7);
        // (x − 2.5)/√(1.25 + ε): the normalised values.
        for (int i = 0; i < 4; i++)
        {
            Close((input[i] - 2.5) / Math.Sqrt(1.25 + Epsilon), output[i], 4 * FloatEpsilon * 2, $"y[{i}]");
        }

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormKernels.UpdateRunningStatistics(mean, variance, 1, 0.1f, runningMean, runningVariance));
        Assert.Equal("count", error.ParamName);
        Assert.StartsWith("count must be at least 2 (the unbiased variance divides by count − 1) but is 1.", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>("momentum", () => BatchNormKernels.UpdateRunningStatistics(mean, variance, 4, float.NaN, runningMean, runningVariance));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Training_backward_matches_finite_differences_of_the_reference(int batch, int channels, int spatial)
    {
        var random = new Random(31 + spatial);
        var (weight, bias, _, _) = Parameters(random, channels);
        float[] input = RandomArray(random, batch * channels * spatial, 2f);
        float[] outputGradient = RandomArray(random, input.Length);
        float[] output = new float[input.Length], mean = new float[channels], variance = new float[channels];
        BatchNormKernels.TrainingForward(input, weight, bias, Epsilon, output, mean, variance, batch, channels, spatial);
        float[] inputGradient = new float[input.Length];
        float[] weightGradient = RandomArray(random, channels), biasGradient = RandomArray(random, channels);
        float[] weightBefore = (float[])weightGradient.Clone(), biasBefore = (float[])biasGradient.Clone();
        BatchNormKernels.TrainingBackward(input, outputGradient, weight, mean, variance, Epsilon, inputGradient, weightGradient, biasGradient, batch, channels, spatial);

        // L = Σ outputGradient·y over the double reference; central differences with step h.
        double[] x = Array.ConvertAll(input, v => (double)v), w = Array.ConvertAll(weight, v => (double)v), b = Array.ConvertAll(bias, v => (double)v);
        double Loss()
        {
            double[] y = TrainingReference(x, w, b, batch, channels, spatial);
            double sum = 0;
            for (int i = 0; i < y.Length; i++)
            {
                sum += outputGradient[i] * y[i];
            }

            return sum;
        }

        double Slope(double[] values, int i)
        {
            const double h = 1e-5;
            double keep = values[i];
            values[i] = keep + h;
            double up = Loss();
            values[i] = keep - h;
            double down = Loss();
            values[i] = keep;
            return (up - down) / (2 * h);
        }

        for (int i = 0; i < input.Length; i++)
        {
            Close(Slope(x, i), inputGradient[i], 1e-4, $"dx[{i}]");
        }

        for (int c = 0; c < channels; c++)
        {
            Close(weightBefore[c] + Slope(w, c), weightGradient[c], 1e-4 * (1 + Math.Abs(weightBefore[c])), $"dweight[{c}]");
            Close(biasBefore[c] + Slope(b, c), biasGradient[c], 1e-4 * (1 + Math.Abs(biasBefore[c])), $"dbias[{c}]");
        }

        // Accumulating adds the same gradient onto what the destination holds; not affine needs no parameter gradients.
        float[] before = RandomArray(random, input.Length), accumulated = (float[])before.Clone();
        BatchNormKernels.TrainingBackward(input, outputGradient, weight, mean, variance, Epsilon, accumulated, [], [], batch, channels, spatial, accumulate: true);
        for (int i = 0; i < input.Length; i++)
        {
            Close((double)before[i] + inputGradient[i], accumulated[i], 4 * FloatEpsilon * (Math.Abs(before[i]) + Math.Abs(inputGradient[i])), $"accumulated[{i}]");
        }
    }

    [Fact]
    public void Training_backward_of_the_plain_normalisation_has_zero_sum()
    {
        // Without weight and bias, the input gradient of a channel sums to 0 and is orthogonal to the normalised values.
        var random = new Random(5);
        const int batch = 4, channels = 2, spatial = 6;
        float[] input = RandomArray(random, batch * channels * spatial, 3f), gradient = RandomArray(random, input.Length);
        float[] output = new float[input.Length], mean = new float[channels], variance = new float[channels], inputGradient = new float[input.Length];
        BatchNormKernels.TrainingForward(input, [], [], Epsilon, output, mean, variance, batch, channels, spatial);
        BatchNormKernels.TrainingBackward(input, gradient, [], mean, variance, Epsilon, inputGradient, [], [], batch, channels, spatial);
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, dot = 0;
            for (int b = 0; b < batch; b++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    int i = (b * channels + c) * spatial + s;
                    sum += inputGradient[i];
                    dot += inputGradient[i] * output[i];
                }
            }

            Assert.True(Math.Abs(sum) < 1e-5 && Math.Abs(dot) < 1e-5, $"channel {c}: Σ {sum}, Σ·y {dot}");
        }
    }

    [Fact]
    public void Folding_into_a_convolution_equals_the_convolution_then_the_BatchNorm()
    {
        var g = new ConvGeometry(3, 6, 7, 4, 3, 3, 1, 1, 1, 1);
        var random = new Random(9);
        var (gamma, beta, mean, variance) = Parameters(random, g.OutChannels);
        float[] weight = RandomArray(random, g.OutChannels * g.PatchLength), bias = RandomArray(random, g.OutChannels);
        float[] input = RandomArray(random, 2 * g.InputLength, 2f);
        float[] scale = new float[g.OutChannels], shift = new float[g.OutChannels];
        BatchNormKernels.ScaleShift(gamma, beta, mean, variance, Epsilon, scale, shift);

        float[] convolved = new float[2 * g.OutputLength], expected = new float[convolved.Length];
        ConvKernels.Forward(g, input, weight, bias, convolved, 2, new float[g.ScratchLength]);
        BatchNormKernels.Forward(convolved, scale, shift, expected, 2, g.OutChannels, g.OutHeight * g.OutWidth);

        BatchNormKernels.Fold(scale, shift, weight, bias);
        float[] folded = new float[convolved.Length];
        ConvKernels.Forward(g, input, weight, bias, folded, 2, new float[g.ScratchLength]);
        for (int i = 0; i < folded.Length; i++)
        {
            Close(expected[i], folded[i], 1e-5 * (1 + Math.Abs(expected[i])), $"y[{i}]");
        }

        var error = Assert.Throws<ArgumentException>(() => BatchNormKernels.Fold(scale, shift, new float[4 * 27 + 1], new float[4]));
        Assert.Equal("weight", error.ParamName);
        Assert.StartsWith("weight must hold a whole number of rows, one per channel (4, the length of scale), but has 109 elements.", error.Message);
        Assert.Throws<ArgumentException>("bias", () => BatchNormKernels.Fold(scale, shift, new float[4 * 27], []));
    }

    [Fact]
    public void Bad_arguments_name_what_is_wrong()
    {
        float[] four = new float[4], twelve = new float[12];
        ThrowsLength(() => BatchNormKernels.ScaleShift(four, four, four, new float[3], Epsilon, four, four), "runningVariance", 4, 3);
        ThrowsLength(() => BatchNormKernels.ScaleShift(new float[3], four, four, four, Epsilon, four, four), "weight", 4, 3);
        var mismatch = Assert.Throws<ArgumentException>(() => BatchNormKernels.ScaleShift(four, [], four, four, Epsilon, four, four));
        Assert.StartsWith("weight and bias must both be empty (not affine) or both hold 4 elements; got 4 and 0.", mismatch.Message);
        Assert.Throws<ArgumentOutOfRangeException>("epsilon", () => BatchNormKernels.ScaleShift(four, four, four, four, 0f, four, four));
        ThrowsLength(() => BatchNormKernels.Forward(new float[11], four, four, twelve, 3, 4, 1), "input", 12, 11);
        ThrowsLength(() => BatchNormKernels.Forward(twelve, new float[3], four, twelve, 3, 4, 1), "scale", 4, 3);
        ThrowsLength(() => BatchNormKernels.BackwardInput(twelve, four, new float[11], 3, 4, 1), "inputGradient", 12, 11);
        ThrowsLength(() => BatchNormKernels.TrainingForward(twelve, four, four, Epsilon, twelve, new float[3], four, 3, 4, 1), "mean", 4, 3);
        ThrowsLength(() => BatchNormKernels.TrainingBackward(twelve, twelve, four, four, four, Epsilon, twelve, new float[3], four, 3, 4, 1), "weightGradient", 4, 3);
        Assert.Throws<ArgumentOutOfRangeException>("spatial", () => BatchNormKernels.Forward(twelve, four, four, twelve, 3, 4, -1));

        // One value per channel cannot be trained on, as in PyTorch.
        var single = Assert.Throws<ArgumentException>(() => BatchNormKernels.TrainingForward(four, four, four, Epsilon, four, four, four, 1, 4, 1));
        Assert.StartsWith("Training a BatchNorm needs more than one value per channel, but batch·spatial is 1 (batch 1, spatial 1).", single.Message);
    }

    [Fact]
    public void RevealCancel_parts_and_multipliers_go_through_the_scale_with_its_sign()
    {
        // Two channels of two elements: scale 2 keeps the parts' roles, scale −3 swaps them.
        float[] scale = { 2f, -3f };
        float[] parts = { 1f, 4f, 5f, 6f, /* negative row */ -1f, -2f, -0.5f, -7f };
        BatchNormKernels.ScaleParts(scale, parts, 2, 2);
        Assert.Equal(new[] { 2f, 8f, 1.5f, 21f, -2f, -4f, -15f, -18f }, parts);

        float[] multipliers = { 0.5f, 1f, 2f, 3f, /* m⁻ */ 0.25f, 0.75f, 4f, 5f };
        BatchNormKernels.ScalePartMultipliers(scale, multipliers, 2, 2);
        Assert.Equal(new[] { 1f, 2f, -12f, -15f, 0.5f, 1.5f, -6f, -9f }, multipliers);

        // Contributions are conserved: Σ m_in⁺·Δx⁺ + m_in⁻·Δx⁻ = Σ m_out⁺·Δy⁺ + m_out⁻·Δy⁻.
        var random = new Random(6);
        float[] s2 = RandomArray(random, 3, 2f), inputParts = new float[2 * 3 * 4], outputMultipliers = RandomArray(random, 2 * 3 * 4);
        for (int i = 0; i < 12; i++)
        {
            inputParts[i] = (float)random.NextDouble();
            inputParts[12 + i] = -(float)random.NextDouble();
        }

        float[] outputParts = (float[])inputParts.Clone(), inputMultipliers = (float[])outputMultipliers.Clone();
        BatchNormKernels.ScaleParts(s2, outputParts, 3, 4);
        BatchNormKernels.ScalePartMultipliers(s2, inputMultipliers, 3, 4);
        Close(Dot(outputMultipliers, outputParts), (float)Dot(inputMultipliers, inputParts), 1e-5, "conserved");
        for (int i = 0; i < 12; i++)
        {
            Assert.True(outputParts[i] >= 0 && outputParts[12 + i] <= 0, $"signs at {i}");
        }

        ThrowsLength(() => BatchNormKernels.ScaleParts(s2, new float[23], 3, 4), "parts", 24, 23);
        ThrowsLength(() => BatchNormKernels.ScalePartMultipliers(new float[2], new float[24], 3, 4), "scale", 3, 2);
    }
}
