using System;

namespace NigGen.Training;

/// <summary>
/// The two losses on a block of logits, in double precision and numerically stable forms, each returning the block's
/// summed loss and writing the gradient with respect to the logits (scaled to the batch mean) for the backward pass.
/// </summary>
internal static class LossFunctions
{
    /// <summary>
    /// Σ over rows of −Σ_c t_c·log softmax(z)_c, with log softmax(z)_c = z_c − (m + log Σ_j e^(z_j − m)), m = max_j z_j.
    /// Unless <paramref name="gradient"/> is empty it receives scale·(softmax(z)·Σ_c t_c − t): the exact gradient, which
    /// is softmax(z) − t for rows that sum to 1.
    /// </summary>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient, int classes, double scale)
    {
        double total = 0;
        for (int start = 0; start < logits.Length; start += classes)
        {
            var z = logits.Slice(start, classes);
            var t = targets.Slice(start, classes);
            double max = double.NegativeInfinity;
            foreach (float value in z)
            {
                max = Math.Max(max, value);
            }

            double sum = 0;
            foreach (float value in z)
            {
                sum += Math.Exp(value - max);
            }

            double logSumExp = max + Math.Log(sum);
            double targetSum = 0;
            for (int c = 0; c < classes; c++)
            {
                total += t[c] * (logSumExp - z[c]);
                targetSum += t[c];
            }

            if (!gradient.IsEmpty)
            {
                var g = gradient.Slice(start, classes);
                for (int c = 0; c < classes; c++)
                {
                    g[c] = (float)(scale * (Math.Exp(z[c] - logSumExp) * targetSum - t[c]));
                }
            }
        }

        return total;
    }

    /// <summary>
    /// Σ over elements of max(z, 0) − z·t + log(1 + e^−|z|), which is −[t·log σ(z) + (1 − t)·log(1 − σ(z))] without
    /// overflow. Unless <paramref name="gradient"/> is empty it receives scale·(σ(z) − t).
    /// </summary>
    public static double SigmoidCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient, double scale)
    {
        double total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double z = logits[i], t = targets[i];
            double e = Math.Exp(-Math.Abs(z));
            total += Math.Max(z, 0) - z * t + Math.Log(1 + e);
            if (!gradient.IsEmpty)
            {
                double sigmoid = z >= 0 ? 1 / (1 + e) : e / (1 + e);
                gradient[i] = (float)(scale * (sigmoid - t));
            }
        }

        return total;
    }
}
