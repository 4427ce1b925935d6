using NigGen;

namespace NigGen.Sample.Genomics;

/// <summary>
/// The sample's model: one-hot DNA (A, C, G, T × 200 positions) → 32 convolution filters of width 15 (wider than the
/// planted motifs, so that a filter can hold a whole motif even when it learns it off-centre; 32 rather than 16 so that
/// both strands of both motifs get filters whatever the seed) → max pooling in windows of 20 → a dense layer of 32 → one
/// logit per task (sigmoid per task, so the head has no activation). Both the filters'
/// output and the dense layer are scored by Neuron Integrated Gradients.
/// </summary>
[Network]
[Input(4, 200)]
public sealed partial class RegulatoryNet
{
    [Conv(32, Kernel = 15, Padding = 7, Activation = Activation.Relu), AttributeLayer] Layer conv1;
    [MaxPool(20)]                                                                       Layer pool1;
    [Flatten]                                                                           Layer flat;
    [Dense(32, Activation = Activation.Relu), AttributeLayer]                          Layer fc1;
    [Dense(3)]                                                                          Layer head;
}
