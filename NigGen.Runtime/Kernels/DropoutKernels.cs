using System;
using System.ComponentModel;
using System.Numerics.Tensors;

namespace NigGen.Kernels;

/// <summary>
/// PyTorch's inverted dropout, for training only (forward and every attribution method treat dropout as the identity,
/// as PyTorch's eval mode does): each element is zeroed with probability p and the others are scaled by 1/(1 − p), so
/// the expected output is the input. The mask holds each element's factor, 0 or 1/(1 − p), and the backward pass
/// multiplies the gradient by it.
/// <para>
/// The random numbers come from a counter-based generator, so a mask is reproducible from its arguments alone and
/// does not depend on how a batch is split: element i of a call draws SplitMix64's output number
/// <c>firstIndex + i</c> (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014: state
/// key + n·γ with γ = 0x9E3779B97F4A7C15, through the MurmurHash3-style finaliser), for the key
/// mix(seed ⊕ mix(stream + γ)). Its top 24 bits make u in [0, 1) (a multiple of 2⁻²⁴), and the element is kept when
/// u &lt; 1 − p, i.e. with probability 1 − p up to 2⁻²⁴. A caller gives each (training step, layer) its own
/// <c>stream</c> and each element of a pass its own index.
/// </para>
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DropoutKernels
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>
    /// output = input·mask with mask[i] = 0 (probability p) or 1/(1 − p), the mask written to <paramref name="mask"/>
    /// for <see cref="Backward"/>. p = 0 is the identity (mask 1); p = 1 zeroes everything (mask 0; an infinite or NaN
    /// input gives NaN, as PyTorch's input·0). <paramref name="output"/> may be <paramref name="input"/>.
    /// </summary>
    /// <param name="input">The layer's input; its length is the element count.</param>
    /// <param name="probability">p, the probability of zeroing an element, in [0, 1].</param>
    /// <param name="seed">The run's seed (TrainingOptions' seed).</param>
    /// <param name="stream">Which mask of the run: distinct for every training step and dropout layer.</param>
    /// <param name="firstIndex">The index, within the stream, of <paramref name="input"/>'s first element (its offset in the whole batch), so that blocks of a batch draw what the whole batch would.</param>
    /// <param name="output">Receives the output.</param>
    /// <param name="mask">Receives each element's factor, 0 or 1/(1 − p).</param>
    public static void TrainingForward(ReadOnlySpan<float> input, float probability, ulong seed, ulong stream, long firstIndex, Span<float> output, Span<float> mask)
    {
        if (!(probability >= 0f && probability <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, $"probability must lie between 0 and 1 but is {probability}.");
        }

        KernelArguments.SameOrLonger(input.Length, output.Length, nameof(output), nameof(input));
        KernelArguments.SameOrLonger(input.Length, mask.Length, nameof(mask), nameof(input));
        if (firstIndex < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(firstIndex), firstIndex, $"firstIndex must not be negative but is {firstIndex}.");
        }

        double keep = 1.0 - probability;
        float scale = probability < 1f ? (float)(1.0 / keep) : 0f;
        ulong key = Mix(seed ^ Mix(stream + Golden));
        ulong state = key + (ulong)firstIndex * Golden;
        for (int i = 0; i < input.Length; i++)
        {
            state += Golden;
            double u = (Mix(state) >> 40) * (1.0 / (1 << 24));
            mask[i] = u < keep ? scale : 0f;
        }

        TensorPrimitives.Multiply(input, mask.Slice(0, input.Length), output.Slice(0, input.Length));
    }

    /// <summary>
    /// inputGradient = outputGradient·mask; overwrites <paramref name="inputGradient"/> (which may be
    /// <paramref name="outputGradient"/>), or with <paramref name="accumulate"/> adds to it.
    /// </summary>
    /// <param name="outputGradient">Gradient with respect to the output; its length is the element count.</param>
    /// <param name="mask">The mask <see cref="TrainingForward"/> wrote.</param>
    /// <param name="inputGradient">Gradient with respect to the input; overwritten, or added to.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it.</param>
    public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> mask, Span<float> inputGradient, bool accumulate = false)
    {
        int n = outputGradient.Length;
        KernelArguments.SameOrLonger(n, mask.Length, nameof(mask), nameof(outputGradient));
        KernelArguments.SameOrLonger(n, inputGradient.Length, nameof(inputGradient), nameof(outputGradient));
        var destination = inputGradient.Slice(0, n);
        if (accumulate)
        {
            TensorPrimitives.MultiplyAdd(outputGradient, mask.Slice(0, n), destination, destination);
        }
        else
        {
            TensorPrimitives.Multiply(outputGradient, mask.Slice(0, n), destination);
        }
    }

    // SplitMix64's finaliser: a bijection of 64-bit words that mixes every input bit into every output bit.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
