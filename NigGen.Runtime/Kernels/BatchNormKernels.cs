using System;

namespace NigGen.Kernels;

#pragma warning disable CS1591 // TEMPORARY stand-in until the kernels branch lands its BatchNormKernels.
public static class BatchNormKernels
{
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> output, int batch, int channels, int spatial)
    {
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int s = 0; s < spatial; s++)
                {
                    int i = (n * channels + c) * spatial + s;
                    output[i] = input[i] * scale[c] + shift[c];
                }
    }

    public static void BackwardInput(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> scale, Span<float> inputGradient, int batch, int channels, int spatial, bool accumulate = false)
    {
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int s = 0; s < spatial; s++)
                {
                    int i = (n * channels + c) * spatial + s;
                    inputGradient[i] = (accumulate ? inputGradient[i] : 0f) + outputGradient[i] * scale[c];
                }
    }
}
