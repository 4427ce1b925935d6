using System;
using System.ComponentModel;
using System.Numerics;
using System.Numerics.Tensors;

namespace NigGen.Kernels;

/// <summary>
/// PyTorch's <c>BatchNorm1d</c>/<c>BatchNorm2d</c> over channels-first samples: (N, C) or (N, C, spatial…), element
/// (n, c, s) at index (n·C + c)·spatial + s, where <c>spatial</c> is 1 for (N, C), L for (N, C, L) and H·W for
/// (N, C, H, W). Parameters are per channel: <c>weight</c> and <c>bias</c> (both empty when the layer is not affine,
/// which means weight 1 and bias 0), <c>running_mean</c>, <c>running_var</c>.
/// <list type="bullet">
/// <item>Evaluation (forward and every attribution method) is the affine map PyTorch's CPU inference computes:
/// <see cref="ScaleShift"/> then <see cref="Forward"/>, y = x·scale + shift, its gradient <see cref="BackwardInput"/>.</item>
/// <item>Training normalises with the batch's statistics (<see cref="TrainingForward"/>, mean and biased variance over
/// N and spatial), updates the running statistics as PyTorch's train mode does (<see cref="UpdateRunningStatistics"/>,
/// unbiased variance) and propagates through the batch statistics (<see cref="TrainingBackward"/>).</item>
/// <item><see cref="Fold"/> folds the evaluation map into the preceding Dense or Conv layer's weight and bias.</item>
/// </list>
/// Sums over a batch run in double in a fixed order, so results do not depend on how the work is split.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class BatchNormKernels
{
    /// <summary>
    /// The evaluation map's per-channel factors as PyTorch's CPU inference computes them, in float:
    /// scale = weight / √(running_var + ε) (as 1/√(running_var + ε) times weight), shift = bias − running_mean·scale.
    /// </summary>
    /// <param name="weight">γ [channels], or empty when the layer is not affine (γ = 1).</param>
    /// <param name="bias">β [channels], or empty when the layer is not affine (β = 0).</param>
    /// <param name="runningMean">running_mean [channels]; its length is the channel count.</param>
    /// <param name="runningVariance">running_var [channels].</param>
    /// <param name="epsilon">ε, added to the variance (PyTorch's <c>eps</c>, 1e-5 by default).</param>
    /// <param name="scale">Receives the scales [channels].</param>
    /// <param name="shift">Receives the shifts [channels].</param>
    public static void ScaleShift(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVariance, float epsilon, Span<float> scale, Span<float> shift)
    {
        int channels = runningMean.Length;
        CheckAffine(weight, bias, channels, "runningMean.Length");
        KernelArguments.SameOrLonger(channels, runningVariance.Length, nameof(runningVariance), nameof(runningMean));
        KernelArguments.SameOrLonger(channels, scale.Length, nameof(scale), nameof(runningMean));
        KernelArguments.SameOrLonger(channels, shift.Length, nameof(shift), nameof(runningMean));
        CheckEpsilon(epsilon);
        for (int c = 0; c < channels; c++)
        {
            (scale[c], shift[c]) = Factors(weight, bias, runningMean[c], runningVariance[c], epsilon, c);
        }
    }

    // PyTorch's CPU order: invstd = 1/√(var + ε), alpha = invstd·γ, beta = β − mean·alpha, all in float.
    private static (float Scale, float Shift) Factors(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float mean, float variance, float epsilon, int c)
    {
        float inverseStd = 1f / MathF.Sqrt(variance + epsilon);
        float alpha = weight.IsEmpty ? inverseStd : inverseStd * weight[c];
        return (alpha, (bias.IsEmpty ? 0f : bias[c]) - mean * alpha);
    }

    /// <summary>
    /// output = input·scale[c] + shift[c] per channel (a product and a sum, each rounded, as PyTorch's kernel);
    /// <paramref name="output"/> may be <paramref name="input"/>.
    /// </summary>
    /// <param name="input">Input [batch, channels, spatial].</param>
    /// <param name="scale">Scales [channels], from <see cref="ScaleShift"/>.</param>
    /// <param name="shift">Shifts [channels].</param>
    /// <param name="output">Output [batch, channels, spatial]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="spatial">Elements per channel and sample (1 for (N, C), L, or H·W).</param>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> output, int batch, int channels, int spatial)
    {
        CheckLayout(batch, channels, spatial);
        long length = KernelArguments.Product(batch, channels, spatial);
        KernelArguments.AtLeast(input.Length, length, nameof(input), "batch·channels·spatial");
        KernelArguments.AtLeast(scale.Length, channels, nameof(scale), "channels");
        KernelArguments.AtLeast(shift.Length, channels, nameof(shift), "channels");
        KernelArguments.AtLeast(output.Length, length, nameof(output), "batch·channels·spatial");
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = (n * channels + c) * spatial;
                ScaleAndShift(input.Slice(start, spatial), scale[c], shift[c], output.Slice(start, spatial));
            }
        }
    }

    /// <summary>
    /// The evaluation map's input gradient: outputGradient·scale[c] per channel; overwrites
    /// <paramref name="inputGradient"/>, or with <paramref name="accumulate"/> adds to it. It may be
    /// <paramref name="outputGradient"/> when not accumulating.
    /// </summary>
    /// <param name="outputGradient">Gradient with respect to the output [batch, channels, spatial].</param>
    /// <param name="scale">Scales [channels], from <see cref="ScaleShift"/>.</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, channels, spatial]; overwritten, or added to.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="spatial">Elements per channel and sample.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it.</param>
    public static void BackwardInput(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> scale, Span<float> inputGradient, int batch, int channels, int spatial, bool accumulate = false)
    {
        CheckLayout(batch, channels, spatial);
        long length = KernelArguments.Product(batch, channels, spatial);
        KernelArguments.AtLeast(outputGradient.Length, length, nameof(outputGradient), "batch·channels·spatial");
        KernelArguments.AtLeast(scale.Length, channels, nameof(scale), "channels");
        KernelArguments.AtLeast(inputGradient.Length, length, nameof(inputGradient), "batch·channels·spatial");
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = (n * channels + c) * spatial;
                var source = outputGradient.Slice(start, spatial);
                var destination = inputGradient.Slice(start, spatial);
                if (accumulate)
                {
                    TensorPrimitives.MultiplyAdd(source, scale[c], destination, destination);
                }
                else
                {
                    TensorPrimitives.Multiply(source, scale[c], destination);
                }
            }
        }
    }

    /// <summary>
    /// Training forward: the batch's mean and biased variance per channel over batch and spatial positions (in double,
    /// two passes, rounded to float into <paramref name="mean"/> and <paramref name="variance"/>), then
    /// output = input·scale + shift with <see cref="ScaleShift"/>'s factors computed from them, as PyTorch's train mode.
    /// <paramref name="output"/> may be <paramref name="input"/>.
    /// </summary>
    /// <param name="input">Input [batch, channels, spatial].</param>
    /// <param name="weight">γ [channels], or empty when not affine.</param>
    /// <param name="bias">β [channels], or empty when not affine.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="output">Output [batch, channels, spatial]; overwritten.</param>
    /// <param name="mean">Receives the batch means [channels] (for <see cref="UpdateRunningStatistics"/> and <see cref="TrainingBackward"/>).</param>
    /// <param name="variance">Receives the batch's biased variances [channels].</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="spatial">Elements per channel and sample.</param>
    public static void TrainingForward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float epsilon, Span<float> output, Span<float> mean, Span<float> variance, int batch, int channels, int spatial)
    {
        CheckLayout(batch, channels, spatial);
        long length = KernelArguments.Product(batch, channels, spatial);
        KernelArguments.AtLeast(input.Length, length, nameof(input), "batch·channels·spatial");
        CheckAffine(weight, bias, channels, "channels");
        CheckEpsilon(epsilon);
        KernelArguments.AtLeast(output.Length, length, nameof(output), "batch·channels·spatial");
        KernelArguments.AtLeast(mean.Length, channels, nameof(mean), "channels");
        KernelArguments.AtLeast(variance.Length, channels, nameof(variance), "channels");
        RequireSeveralValues(batch, spatial);

        double count = (double)batch * spatial;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (int n = 0; n < batch; n++)
            {
                foreach (float x in input.Slice((n * channels + c) * spatial, spatial))
                {
                    sum += x;
                }
            }

            double average = sum / count, squares = 0;
            for (int n = 0; n < batch; n++)
            {
                foreach (float x in input.Slice((n * channels + c) * spatial, spatial))
                {
                    double d = x - average;
                    squares += d * d;
                }
            }

            mean[c] = (float)average;
            variance[c] = (float)(squares / count);

            // Only this channel's elements are written, after its statistics are read: output may be input.
            var (alpha, beta) = Factors(weight, bias, mean[c], variance[c], epsilon, c);
            for (int n = 0; n < batch; n++)
            {
                int start = (n * channels + c) * spatial;
                ScaleAndShift(input.Slice(start, spatial), alpha, beta, output.Slice(start, spatial));
            }
        }
    }

    /// <summary>
    /// PyTorch's train-mode update of the running statistics from a batch's: running_mean = (1 − momentum)·running_mean +
    /// momentum·mean and running_var = (1 − momentum)·running_var + momentum·variance·n/(n − 1) (the unbiased variance),
    /// with n = batch·spatial values per channel, computed in double.
    /// </summary>
    /// <param name="mean">The batch means [channels], from <see cref="TrainingForward"/>; its length is the channel count.</param>
    /// <param name="variance">The batch's biased variances [channels].</param>
    /// <param name="count">Values per channel in the batch, batch·spatial; at least 2.</param>
    /// <param name="momentum">PyTorch's <c>momentum</c> (0.1 by default), between 0 and 1.</param>
    /// <param name="runningMean">running_mean [channels], updated in place.</param>
    /// <param name="runningVariance">running_var [channels], updated in place.</param>
    public static void UpdateRunningStatistics(ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, long count, float momentum, Span<float> runningMean, Span<float> runningVariance)
    {
        int channels = mean.Length;
        KernelArguments.SameOrLonger(channels, variance.Length, nameof(variance), nameof(mean));
        KernelArguments.SameOrLonger(channels, runningMean.Length, nameof(runningMean), nameof(mean));
        KernelArguments.SameOrLonger(channels, runningVariance.Length, nameof(runningVariance), nameof(mean));
        if (count < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be at least 2 (the unbiased variance divides by count − 1) but is {count}.");
        }

        if (!(momentum >= 0f && momentum <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"momentum must lie between 0 and 1 but is {momentum}.");
        }

        double keep = 1.0 - momentum, correction = count / (count - 1.0);
        for (int c = 0; c < channels; c++)
        {
            runningMean[c] = (float)(keep * runningMean[c] + momentum * (double)mean[c]);
            runningVariance[c] = (float)(keep * runningVariance[c] + momentum * (variance[c] * correction));
        }
    }

    /// <summary>
    /// Training backward through the batch statistics (PyTorch's batch_norm_backward in train mode): with
    /// σ⁻¹ = 1/√(variance + ε), Σdy and Σdy·(x − mean) per channel over batch and spatial positions (in double),
    /// inputGradient = (dy − Σdy/n − (x − mean)·σ⁻²·Σdy·(x − mean)/n)·σ⁻¹·γ; and, for an affine layer, adds
    /// Σdy·(x − mean)·σ⁻¹ to <paramref name="weightGradient"/> and Σdy to <paramref name="biasGradient"/> (the gradient
    /// buffers of a training pass, like <see cref="DenseKernels.BackwardWeight"/>'s).
    /// </summary>
    /// <param name="input">The layer's input [batch, channels, spatial].</param>
    /// <param name="outputGradient">Gradient with respect to the layer's output [batch, channels, spatial].</param>
    /// <param name="weight">γ [channels], or empty when not affine.</param>
    /// <param name="mean">The batch means [channels], from <see cref="TrainingForward"/>.</param>
    /// <param name="variance">The batch's biased variances [channels], from <see cref="TrainingForward"/>.</param>
    /// <param name="epsilon">ε, as in the forward pass.</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, channels, spatial]; overwritten, or added to. May be <paramref name="outputGradient"/> when not accumulating (a channel's sums are taken before its elements are written).</param>
    /// <param name="weightGradient">γ's gradient [channels], added to; empty when not affine.</param>
    /// <param name="biasGradient">β's gradient [channels], added to; empty when not affine.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="spatial">Elements per channel and sample.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it.</param>
    public static void TrainingBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> weight, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float epsilon, Span<float> inputGradient, Span<float> weightGradient, Span<float> biasGradient, int batch, int channels, int spatial, bool accumulate = false)
    {
        CheckLayout(batch, channels, spatial);
        long length = KernelArguments.Product(batch, channels, spatial);
        KernelArguments.AtLeast(input.Length, length, nameof(input), "batch·channels·spatial");
        KernelArguments.AtLeast(outputGradient.Length, length, nameof(outputGradient), "batch·channels·spatial");
        KernelArguments.EmptyOr(weight.Length, channels, nameof(weight), "channels");
        KernelArguments.AtLeast(mean.Length, channels, nameof(mean), "channels");
        KernelArguments.AtLeast(variance.Length, channels, nameof(variance), "channels");
        CheckEpsilon(epsilon);
        KernelArguments.AtLeast(inputGradient.Length, length, nameof(inputGradient), "batch·channels·spatial");
        KernelArguments.EmptyOr(weightGradient.Length, channels, nameof(weightGradient), "channels");
        KernelArguments.EmptyOr(biasGradient.Length, channels, nameof(biasGradient), "channels");
        if (weightGradient.IsEmpty != biasGradient.IsEmpty)
        {
            throw new ArgumentException($"weightGradient and biasGradient must both be empty (not affine) or both hold {channels} elements; got {weightGradient.Length} and {biasGradient.Length}.", nameof(biasGradient));
        }

        RequireSeveralValues(batch, spatial);
        double count = (double)batch * spatial;
        for (int c = 0; c < channels; c++)
        {
            double average = mean[c], inverseStd = 1.0 / Math.Sqrt((double)variance[c] + epsilon);
            double sumGradient = 0, dot = 0;
            for (int n = 0; n < batch; n++)
            {
                int start = (n * channels + c) * spatial;
                for (int s = 0; s < spatial; s++)
                {
                    double dy = outputGradient[start + s];
                    sumGradient += dy;
                    dot += dy * (input[start + s] - average);
                }
            }

            double gamma = weight.IsEmpty ? 1.0 : weight[c];
            double meanGradient = sumGradient / count, projection = dot * inverseStd * inverseStd / count, factor = inverseStd * gamma;
            for (int n = 0; n < batch; n++)
            {
                int start = (n * channels + c) * spatial;
                for (int s = 0; s < spatial; s++)
                {
                    double dx = (outputGradient[start + s] - meanGradient - (input[start + s] - average) * projection) * factor;
                    inputGradient[start + s] = accumulate ? (float)(inputGradient[start + s] + dx) : (float)dx;
                }
            }

            if (!weightGradient.IsEmpty)
            {
                weightGradient[c] = (float)(weightGradient[c] + dot * inverseStd);
                biasGradient[c] = (float)(biasGradient[c] + sumGradient);
            }
        }
    }

    /// <summary>
    /// RevealCancel through the evaluation map (deeplift's BatchNormalization, a linear layer): the positive and negative
    /// parts Δx⁺, Δx⁻ of one sample's input difference (as <see cref="DeepLiftKernels.SplitConv"/> or
    /// <see cref="DeepLiftKernels.SplitDense"/> wrote them) become those of its output, in place: scale·Δx⁺ and scale·Δx⁻
    /// where scale ≥ 0, swapped (scale·Δx⁻ is then the positive part) where scale &lt; 0. The shift has no difference.
    /// </summary>
    /// <param name="scale">Scales [channels], from <see cref="ScaleShift"/>.</param>
    /// <param name="parts">Δx⁺ (first row) and Δx⁻ (second row), channels·spatial each; rewritten as the output's parts.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="spatial">Elements per channel.</param>
    public static void ScaleParts(ReadOnlySpan<float> scale, Span<float> parts, int channels, int spatial)
    {
        int length = CheckParts(scale, parts, channels, spatial, nameof(parts));
        for (int i = 0; i < length; i++)
        {
            float s = scale[i / spatial], positive = parts[i], negative = parts[length + i];
            (parts[i], parts[length + i]) = s >= 0f ? (s * positive, s * negative) : (s * negative, s * positive);
        }
    }

    /// <summary>
    /// The backward step of <see cref="ScaleParts"/>: from the multipliers m⁺, m⁻ of the output's positive and negative
    /// parts, those of the input's, in place: scale·m⁺ and scale·m⁻ where scale ≥ 0, scale·m⁻ and scale·m⁺ where
    /// scale &lt; 0 (an input part that the map turns negative takes the negative part's multiplier).
    /// </summary>
    /// <param name="scale">Scales [channels], from <see cref="ScaleShift"/>.</param>
    /// <param name="multipliers">m⁺ (first row) and m⁻ (second row), channels·spatial each; rewritten as the input parts' multipliers.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="spatial">Elements per channel.</param>
    public static void ScalePartMultipliers(ReadOnlySpan<float> scale, Span<float> multipliers, int channels, int spatial)
    {
        int length = CheckParts(scale, multipliers, channels, spatial, nameof(multipliers));
        for (int i = 0; i < length; i++)
        {
            float s = scale[i / spatial], positive = multipliers[i], negative = multipliers[length + i];
            (multipliers[i], multipliers[length + i]) = s >= 0f ? (s * positive, s * negative) : (s * negative, s * positive);
        }
    }

    /// <summary>
    /// Folds an evaluation-mode BatchNorm into the Dense or Conv layer before it, in place: each output channel's
    /// weight row times scale[o], and bias[o]·scale[o] + shift[o] (so that layer·x then BatchNorm equals the folded
    /// layer·x up to rounding). The weight is in PyTorch's layout, output channel first ([out, in], [out, in/groups, k…]);
    /// a layer without bias folds with a bias of zeros, which the caller provides.
    /// </summary>
    /// <param name="scale">Scales [channels], from <see cref="ScaleShift"/>; its length is the output channel count.</param>
    /// <param name="shift">Shifts [channels].</param>
    /// <param name="weight">The preceding layer's weight [channels, fan-in], scaled in place.</param>
    /// <param name="bias">Its bias [channels], folded in place.</param>
    public static void Fold(ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> weight, Span<float> bias)
    {
        int channels = scale.Length;
        KernelArguments.SameOrLonger(channels, shift.Length, nameof(shift), nameof(scale));
        if (channels == 0 || weight.Length % channels != 0)
        {
            throw new ArgumentException($"weight must hold a whole number of rows, one per channel ({channels}, the length of scale), but has {weight.Length} elements.", nameof(weight));
        }

        if (bias.Length != channels)
        {
            throw new ArgumentException($"bias must hold exactly {channels} elements (the length of scale) but has {bias.Length}.", nameof(bias));
        }

        int fanIn = weight.Length / channels;
        for (int o = 0; o < channels; o++)
        {
            var row = weight.Slice(o * fanIn, fanIn);
            TensorPrimitives.Multiply(row, scale[o], row);
            bias[o] = bias[o] * scale[o] + shift[o];
        }
    }

    // y = x·a + b, the product and the sum each rounded (never fused), so vector and scalar elements agree.
    private static void ScaleAndShift(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<float>(a);
            var vb = new Vector<float>(b);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(x.Slice(i)) * va + vb).CopyTo(y.Slice(i));
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = x[i] * a + b;
        }
    }

    private static int CheckParts(ReadOnlySpan<float> scale, Span<float> pair, int channels, int spatial, string name)
    {
        KernelArguments.NotNegative(channels, nameof(channels));
        KernelArguments.NotNegative(spatial, nameof(spatial));
        KernelArguments.AtLeast(scale.Length, channels, nameof(scale), "channels");
        long length = KernelArguments.Product(channels, spatial);
        KernelArguments.AtLeast(pair.Length, 2 * length, name, "2·channels·spatial");
        return (int)length;
    }

    private static void CheckLayout(int batch, int channels, int spatial)
    {
        KernelArguments.NotNegative(batch, nameof(batch));
        KernelArguments.NotNegative(channels, nameof(channels));
        KernelArguments.NotNegative(spatial, nameof(spatial));
    }

    private static void CheckAffine(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int channels, string formula)
    {
        KernelArguments.EmptyOr(weight.Length, channels, nameof(weight), formula);
        KernelArguments.EmptyOr(bias.Length, channels, nameof(bias), formula);
        if (weight.IsEmpty != bias.IsEmpty)
        {
            throw new ArgumentException($"weight and bias must both be empty (not affine) or both hold {channels} elements; got {weight.Length} and {bias.Length}.", nameof(bias));
        }
    }

    private static void CheckEpsilon(float epsilon)
    {
        if (!(epsilon > 0f) || float.IsInfinity(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"epsilon must be positive and finite but is {epsilon}.");
        }
    }

    // PyTorch refuses to train on one value per channel ("Expected more than 1 value per channel when training").
    private static void RequireSeveralValues(int batch, int spatial)
    {
        if ((long)batch * spatial < 2)
        {
            throw new ArgumentException($"Training a BatchNorm needs more than one value per channel, but batch·spatial is {(long)batch * spatial} (batch {batch}, spatial {spatial}).", nameof(batch));
        }
    }
}
