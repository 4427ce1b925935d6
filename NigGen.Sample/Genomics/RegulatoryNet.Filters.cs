using System;

namespace NigGen.Sample.Genomics;

public sealed partial class RegulatoryNet
{
    /// <summary>Number of convolution filters in conv1.</summary>
    public const int FilterCount = 32;

    /// <summary>Width of each conv1 filter, in bases.</summary>
    public const int FilterWidth = 15;

    /// <summary>conv1's zero padding on each side ("same" convolution: one output per input position).</summary>
    public const int FilterPadding = 7;

    /// <summary>conv1's weight in PyTorch's Conv1d layout [filter, channel (A, C, G, T), offset].</summary>
    public ReadOnlySpan<float> FilterWeights => conv1.Weight;

    /// <summary>conv1's bias, one per filter.</summary>
    public ReadOnlySpan<float> FilterBiases => conv1.Bias;
}
