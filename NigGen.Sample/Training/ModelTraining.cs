using System;
using System.Collections.Generic;
using NigGen.Sample.Analysis;
using NigGen.Sample.Genomics;
using NigGen.Training;

namespace NigGen.Sample.Training;

/// <summary>
/// Trains <see cref="RegulatoryNet"/> in-process with the trainer NigGen generates for it (per-task sigmoid
/// cross-entropy, Adam), shuffling the training set every epoch, and evaluating on the validation set after each.
/// </summary>
public static class ModelTraining
{
    /// <summary>Trains <paramref name="network"/> in place; returns every epoch's result.</summary>
    public static IReadOnlyList<EpochResult> Train(
        RegulatoryNet network, float[] trainInputs, float[] trainLabels, float[] validationInputs, float[] validationLabels, TrainingSettings settings, ITrainingProgress? progress)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Epochs, 1, nameof(settings.Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.BatchSize, 1, nameof(settings.BatchSize));
        int inputLength = RegulatoryNet.InputLength;
        int outputs = RegulatoryNet.OutputLength;
        int n = trainInputs.Length / inputLength;
        if (n == 0)
        {
            throw new ArgumentException("the training set is empty.", nameof(trainInputs));
        }

        var trainer = network.CreateTrainer(new TrainingOptions { Loss = TrainingLoss.SigmoidCrossEntropy, LearningRate = settings.LearningRate });
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        int batchSize = Math.Min(settings.BatchSize, n);
        var batchInputs = new float[batchSize * inputLength];
        var batchTargets = new float[batchSize * outputs];
        var validationLogits = new float[validationLabels.Length];
        var results = new List<EpochResult>();
        int batches = (n + batchSize - 1) / batchSize;
        for (int epoch = 1; epoch <= settings.Epochs; epoch++)
        {
            var random = new SplitMix((ulong)(uint)settings.Seed, 1000UL + (ulong)epoch);
            random.Shuffle(order);
            double lossSum = 0;
            int seen = 0;
            for (int b = 0; b < batches; b++)
            {
                int start = b * batchSize;
                int count = Math.Min(batchSize, n - start);
                for (int k = 0; k < count; k++)
                {
                    int i = order[start + k];
                    trainInputs.AsSpan(i * inputLength, inputLength).CopyTo(batchInputs.AsSpan(k * inputLength, inputLength));
                    trainLabels.AsSpan(i * outputs, outputs).CopyTo(batchTargets.AsSpan(k * outputs, outputs));
                }

                float loss = trainer.Step(batchInputs.AsSpan(0, count * inputLength), batchTargets.AsSpan(0, count * outputs));
                lossSum += loss * count;
                seen += count;
                progress?.Step(epoch, settings.Epochs, b + 1, batches, lossSum / seen);
            }

            double validationLoss = double.NaN;
            var metrics = TaskMetrics.Compute([], [], outputs);
            if (validationInputs.Length > 0)
            {
                validationLoss = trainer.Loss(validationInputs, validationLabels);
                network.Forward(validationInputs, validationLogits, -1);
                metrics = TaskMetrics.Compute(validationLogits, validationLabels, outputs);
            }

            var result = new EpochResult(epoch, lossSum / seen, validationLoss, metrics);
            results.Add(result);
            progress?.EpochDone(result, settings.Epochs);
        }

        return results;
    }
}
