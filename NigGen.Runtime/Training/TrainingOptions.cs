using System;

namespace NigGen.Training;

/// <summary>
/// The loss and the Adam optimiser's settings of a <see cref="Trainer"/>. The defaults are PyTorch's
/// <c>torch.optim.Adam</c> defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8) with no weight decay; a non-zero
/// <see cref="WeightDecay"/> is decoupled, as in <c>torch.optim.AdamW</c>.
/// </summary>
public sealed class TrainingOptions
{
    /// <summary>The loss; the network's output is its logits. Default <see cref="TrainingLoss.SoftmaxCrossEntropy"/>.</summary>
    public TrainingLoss Loss { get; init; } = TrainingLoss.SoftmaxCrossEntropy;

    /// <summary>Adam's step size (PyTorch's <c>lr</c>), ≥ 0. Default 1e-3. <see cref="Trainer.LearningRate"/> can change it between steps.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Decay of the running mean of gradients, in [0, 1). Default 0.9.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Decay of the running mean of squared gradients, in [0, 1). Default 0.999.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Added to the denominator's square root for numerical stability, ≥ 0. Default 1e-8.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>
    /// Decoupled weight decay (AdamW), ≥ 0: each step first multiplies every parameter, biases included (as PyTorch
    /// does by default), by 1 − LearningRate·WeightDecay. Default 0: plain Adam.
    /// </summary>
    public float WeightDecay { get; init; }

    /// <summary>
    /// Seed of Dropout layers' masks: training is reproducible from it (the same seed, batches and steps give the same
    /// masks, bit for bit). Default 0.
    /// </summary>
    public int Seed { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of its range.</summary>
    internal void Validate()
    {
        if (!Enum.IsDefined(Loss))
        {
            throw new ArgumentException($"options.Loss is {(int)Loss}, which is not a TrainingLoss.", "options");
        }

        RequireAtLeastZero(LearningRate, nameof(LearningRate));
        RequireFraction(Beta1, nameof(Beta1));
        RequireFraction(Beta2, nameof(Beta2));
        RequireAtLeastZero(Epsilon, nameof(Epsilon));
        RequireAtLeastZero(WeightDecay, nameof(WeightDecay));
    }

    internal static void RequireAtLeastZero(float value, string name)
    {
        if (!(value >= 0f) || float.IsPositiveInfinity(value))
        {
            throw new ArgumentException($"options.{name} is {value}, but it must be finite and ≥ 0.", "options");
        }
    }

    private static void RequireFraction(float value, string name)
    {
        if (!(value >= 0f && value < 1f))
        {
            throw new ArgumentException($"options.{name} is {value}, but it must be in [0, 1).", "options");
        }
    }
}
