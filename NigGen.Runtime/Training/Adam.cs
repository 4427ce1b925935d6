using System;
using System.Numerics;

namespace NigGen.Training;

/// <summary>The constants of one Adam step, computed once for every parameter (bias corrections in double, as PyTorch does).</summary>
internal readonly struct AdamStep
{
    public AdamStep(float learningRate, TrainingOptions options, long step)
    {
        Decay = (float)(1 - (double)learningRate * options.WeightDecay);
        DecaysWeights = options.WeightDecay != 0f;
        Beta2 = options.Beta2;
        OneMinusBeta1 = (float)(1 - (double)options.Beta1);
        OneMinusBeta2 = (float)(1 - (double)options.Beta2);
        StepSize = (float)(learningRate / (1 - Math.Pow(options.Beta1, step)));
        BiasCorrection2Sqrt = (float)Math.Sqrt(1 - Math.Pow(options.Beta2, step));
        Epsilon = options.Epsilon;
    }

    public float Decay { get; }

    public bool DecaysWeights { get; }

    public float Beta2 { get; }

    public float OneMinusBeta1 { get; }

    public float OneMinusBeta2 { get; }

    /// <summary>lr / (1 − β1^t).</summary>
    public float StepSize { get; }

    /// <summary>√(1 − β2^t).</summary>
    public float BiasCorrection2Sqrt { get; }

    public float Epsilon { get; }
}

/// <summary>
/// PyTorch's single-tensor Adam/AdamW update (amsgrad off, maximize off), element by element in float32 in the order of
/// its operations: p ← p·(1 − lr·λ); m ← m + (1 − β1)(g − m); v ← v·β2 + (1 − β2)·g·g;
/// p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε).
/// </summary>
internal static class Adam
{
    public static void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> firstMoments, Span<float> secondMoments, in AdamStep step)
    {
        if (gradients.Length != parameters.Length || firstMoments.Length != parameters.Length || secondMoments.Length != parameters.Length)
        {
            throw new ArgumentException("Adam's parameters, gradients and moments must have the same length.");
        }

        // Vector and scalar lanes do the same IEEE operations (no fused multiply-add), so the split never changes results.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var decay = new Vector<float>(step.Decay);
            var oneMinusBeta1 = new Vector<float>(step.OneMinusBeta1);
            var beta2 = new Vector<float>(step.Beta2);
            var oneMinusBeta2 = new Vector<float>(step.OneMinusBeta2);
            var stepSize = new Vector<float>(step.StepSize);
            var correction = new Vector<float>(step.BiasCorrection2Sqrt);
            var epsilon = new Vector<float>(step.Epsilon);
            for (; i + Vector<float>.Count <= parameters.Length; i += Vector<float>.Count)
            {
                var g = new Vector<float>(gradients.Slice(i));
                var p = new Vector<float>(parameters.Slice(i));
                var m = new Vector<float>(firstMoments.Slice(i));
                var v = new Vector<float>(secondMoments.Slice(i));
                if (step.DecaysWeights)
                {
                    p *= decay;
                }

                m += oneMinusBeta1 * (g - m);
                v = v * beta2 + oneMinusBeta2 * g * g;
                var denominator = Vector.SquareRoot(v) / correction + epsilon;
                p -= stepSize * (m / denominator);
                p.CopyTo(parameters.Slice(i));
                m.CopyTo(firstMoments.Slice(i));
                v.CopyTo(secondMoments.Slice(i));
            }
        }

        for (; i < parameters.Length; i++)
        {
            float g = gradients[i];
            float p = parameters[i];
            float m = firstMoments[i];
            float v = secondMoments[i];
            if (step.DecaysWeights)
            {
                p *= step.Decay;
            }

            m += step.OneMinusBeta1 * (g - m);
            v = v * step.Beta2 + step.OneMinusBeta2 * g * g;
            float denominator = MathF.Sqrt(v) / step.BiasCorrection2Sqrt + step.Epsilon;
            parameters[i] = p - step.StepSize * (m / denominator);
            firstMoments[i] = m;
            secondMoments[i] = v;
        }
    }
}
