namespace NigGen.Training;

/// <summary>
/// The loss a <see cref="Trainer"/> minimises. Both read the network's output as logits: declare the head (the last
/// Dense or Conv layer) with <see cref="Activation.None"/>, and the loss applies the softmax or sigmoid itself, in a
/// numerically stable form.
/// </summary>
public enum TrainingLoss
{
    /// <summary>
    /// Softmax cross-entropy with class-probability targets (one-hot for hard labels), PyTorch's
    /// <c>nn.CrossEntropyLoss</c> with probability targets: per sample −Σ_c t_c·log softmax(z)_c, averaged over the batch.
    /// Each target row must hold values in [0, 1] that sum to 1.
    /// </summary>
    SoftmaxCrossEntropy,

    /// <summary>
    /// An independent sigmoid per output (multi-task, multi-label), PyTorch's <c>nn.BCEWithLogitsLoss</c>: per output
    /// max(z, 0) − z·t + log(1 + e^−|z|), averaged over batch × outputs. Targets are 0/1 labels, or any value in [0, 1].
    /// </summary>
    SigmoidCrossEntropy,
}
