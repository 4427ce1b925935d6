using NigGen.Sample.Analysis;

namespace NigGen.Sample.Training;

/// <summary>How the model is trained.</summary>
public sealed record TrainingSettings
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Sequences per Adam step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam's step size.</summary>
    public float LearningRate { get; init; } = 3e-3f;

    /// <summary>Seed of the weights' initialisation and of the order in which each epoch visits the training set.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>What one epoch ended with.</summary>
public sealed record EpochResult(int Epoch, double TrainingLoss, double ValidationLoss, TaskMetrics Validation);

/// <summary>What the training loop reports as it goes: after every step, and at the end of every epoch.</summary>
public interface ITrainingProgress
{
    /// <summary>After step <paramref name="batch"/> of <paramref name="batches"/> of <paramref name="epoch"/>, with the epoch's running mean loss.</summary>
    void Step(int epoch, int epochs, int batch, int batches, double runningLoss);

    /// <summary>At the end of an epoch.</summary>
    void EpochDone(EpochResult result, int epochs);
}
