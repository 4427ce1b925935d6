using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>PyTorch <c>MaxPool1d/2d</c> and <c>AvgPool1d/2d</c> kernels (no padding, floor mode) and their input gradients.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class PoolKernels
{
    /// <summary>
    /// Max pooling. Each window is scanned in row-major order taking a value when it is greater than the running maximum
    /// or NaN (PyTorch's rule), so ties keep the first maximum and a NaN propagates.
    /// </summary>
    /// <param name="geometry">The pooling's geometry.</param>
    /// <param name="input">Input [batch, Channels, InHeight, InWidth].</param>
    /// <param name="output">Output [batch, Channels, OutHeight, OutWidth]; overwritten.</param>
    /// <param name="argmax">[batch, OutputLength]: for each output, the index within its sample's input (0 … InputLength − 1) of the element chosen.</param>
    /// <param name="batch">Number of samples.</param>
    public static unsafe void MaxForward(in PoolGeometry geometry, ReadOnlySpan<float> input, Span<float> output, Span<int> argmax, int batch)
    {
        PoolGeometry g = geometry;
        Check(g, batch, input.Length, nameof(input), "batch·InputLength", output.Length, nameof(output), "batch·OutputLength");
        KernelArguments.AtLeast(argmax.Length, KernelArguments.Product(batch, g.OutputLength), nameof(argmax), "batch·OutputLength");

        int inLength = g.InputLength, outLength = g.OutputLength, plane = g.InHeight * g.InWidth;
        int outH = g.OutHeight, outW = g.OutWidth, inW = g.InWidth;
        int kh = g.SizeHeight, kw = g.SizeWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        fixed (float* pin = input, pout = output)
        fixed (int* pidx = argmax)
        {
            for (int s = 0; s < batch; s++)
            {
                float* sample = pin + (nint)s * inLength;
                float* o = pout + (nint)s * outLength;
                int* idx = pidx + (nint)s * outLength;
                for (int c = 0; c < g.Channels; c++)
                {
                    int planeStart = c * plane;
                    for (int y = 0; y < outH; y++)
                    {
                        int rowStart = planeStart + y * sh * inW;
                        int x = 0;

                        // Eight outputs at once, one lane each, scanning their windows in the same order as the scalar
                        // loop: the vector compare-and-select replaces a data-dependent, badly predicted branch. The
                        // last block may overlap the previous one; overlapping outputs are recomputed identically.
                        if (Vector256.IsHardwareAccelerated && outW >= 8)
                        {
                            for (; x < outW; x += 8)
                            {
                                x = Math.Min(x, outW - 8);
                                MaxBlock(sample, rowStart + x * sw, sw, inW, kh, kw, o + x, idx + x);
                            }
                        }

                        for (; x < outW; x++)
                        {
                            int start = rowStart + x * sw;
                            int best = start;
                            float max = float.NegativeInfinity;
                            for (int dy = 0; dy < kh; dy++)
                            {
                                int windowRow = start + dy * inW;
                                for (int dx = 0; dx < kw; dx++)
                                {
                                    float v = sample[windowRow + dx];
                                    if (v > max || float.IsNaN(v))
                                    {
                                        max = v;
                                        best = windowRow + dx;
                                    }
                                }
                            }

                            o[x] = max;
                            idx[x] = best;
                        }

                        o += outW;
                        idx += outW;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Gradient of max pooling: <paramref name="inputGradient"/> is cleared, then each output gradient is added at its
    /// argmax (overlapping windows that chose the same element add up).
    /// </summary>
    /// <param name="geometry">The pooling's geometry.</param>
    /// <param name="outputGradient">Gradient with respect to the output [batch, Channels, OutHeight, OutWidth].</param>
    /// <param name="argmax">The indices <see cref="MaxForward"/> recorded [batch, OutputLength].</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, Channels, InHeight, InWidth]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    public static void MaxBackward(in PoolGeometry geometry, ReadOnlySpan<float> outputGradient, ReadOnlySpan<int> argmax, Span<float> inputGradient, int batch)
    {
        PoolGeometry g = geometry;
        Check(g, batch, inputGradient.Length, nameof(inputGradient), "batch·InputLength", outputGradient.Length, nameof(outputGradient), "batch·OutputLength");
        KernelArguments.AtLeast(argmax.Length, KernelArguments.Product(batch, g.OutputLength), nameof(argmax), "batch·OutputLength");

        int inLength = g.InputLength, outLength = g.OutputLength;
        for (int s = 0; s < batch; s++)
        {
            // Bounds-checked per sample: a corrupt index throws instead of writing into another sample.
            Span<float> target = inputGradient.Slice(s * inLength, inLength);
            ReadOnlySpan<float> gradient = outputGradient.Slice(s * outLength, outLength);
            ReadOnlySpan<int> indices = argmax.Slice(s * outLength, outLength);
            target.Clear();
            for (int j = 0; j < gradient.Length; j++)
            {
                target[indices[j]] += gradient[j];
            }
        }
    }

    /// <summary>Average pooling: the window's sum in row-major order, divided by the window size.</summary>
    /// <param name="geometry">The pooling's geometry.</param>
    /// <param name="input">Input [batch, Channels, InHeight, InWidth].</param>
    /// <param name="output">Output [batch, Channels, OutHeight, OutWidth]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    public static unsafe void AvgForward(in PoolGeometry geometry, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        PoolGeometry g = geometry;
        Check(g, batch, input.Length, nameof(input), "batch·InputLength", output.Length, nameof(output), "batch·OutputLength");

        int inLength = g.InputLength, outLength = g.OutputLength, plane = g.InHeight * g.InWidth;
        int outH = g.OutHeight, outW = g.OutWidth, inW = g.InWidth;
        int kh = g.SizeHeight, kw = g.SizeWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        float divisor = kh * kw;
        fixed (float* pin = input, pout = output)
        {
            for (int s = 0; s < batch; s++)
            {
                float* sample = pin + (nint)s * inLength;
                float* o = pout + (nint)s * outLength;
                for (int c = 0; c < g.Channels; c++)
                {
                    float* p = sample + (nint)c * plane;
                    for (int y = 0; y < outH; y++)
                    {
                        float* row = p + (nint)y * sh * inW;
                        int x = 0;

                        // Eight outputs at once; each lane adds its window in the scalar loop's order, so results match it.
                        if (Vector256.IsHardwareAccelerated && outW >= 8)
                        {
                            for (; x < outW; x += 8)
                            {
                                x = Math.Min(x, outW - 8);
                                AvgBlock(row + (nint)x * sw, sw, inW, kh, kw, divisor, o + x);
                            }
                        }

                        for (; x < outW; x++)
                        {
                            float* window = row + (nint)x * sw;
                            float sum = 0f;
                            for (int dy = 0; dy < kh; dy++)
                            {
                                float* r = window + (nint)dy * inW;
                                for (int dx = 0; dx < kw; dx++)
                                {
                                    sum += r[dx];
                                }
                            }

                            o[x] = sum / divisor;
                        }

                        o += outW;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Gradient of average pooling: <paramref name="inputGradient"/> is overwritten; each output gradient divided by the
    /// window size is added to every element of its window.
    /// </summary>
    /// <param name="geometry">The pooling's geometry.</param>
    /// <param name="outputGradient">Gradient with respect to the output [batch, Channels, OutHeight, OutWidth].</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, Channels, InHeight, InWidth]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    public static unsafe void AvgBackward(in PoolGeometry geometry, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        PoolGeometry g = geometry;
        Check(g, batch, inputGradient.Length, nameof(inputGradient), "batch·InputLength", outputGradient.Length, nameof(outputGradient), "batch·OutputLength");

        int inLength = g.InputLength, outLength = g.OutputLength, plane = g.InHeight * g.InWidth;
        int outH = g.OutHeight, outW = g.OutWidth, inW = g.InWidth;
        int kh = g.SizeHeight, kw = g.SizeWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        float divisor = kh * kw;
        inputGradient.Slice(0, batch * inLength).Clear();
        fixed (float* pg = outputGradient, pin = inputGradient)
        {
            for (int s = 0; s < batch; s++)
            {
                float* gradient = pg + (nint)s * outLength;
                float* sample = pin + (nint)s * inLength;
                for (int c = 0; c < g.Channels; c++)
                {
                    float* p = sample + (nint)c * plane;
                    for (int y = 0; y < outH; y++)
                    {
                        for (int x = 0; x < outW; x++)
                        {
                            float delta = *gradient++ / divisor;
                            float* window = p + (nint)y * sh * inW + (nint)x * sw;
                            for (int dy = 0; dy < kh; dy++)
                            {
                                float* r = window + (nint)dy * inW;
                                for (int dx = 0; dx < kw; dx++)
                                {
                                    r[dx] += delta;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Max pooling of the eight outputs whose first windows start at sample[start + lane·stride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MaxBlock(float* sample, int start, int stride, int inW, int kh, int kw, float* output, int* argmax)
    {
        Vector256<int> first = Vector256.Create(start) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * stride;
        Vector256<int> best = first;
        Vector256<float> max = Vector256.Create(float.NegativeInfinity);
        for (int dy = 0; dy < kh; dy++)
        {
            for (int dx = 0; dx < kw; dx++)
            {
                int offset = dy * inW + dx;
                Vector256<float> v = Strided(sample + start + offset, stride);
                Vector256<float> take = Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v);
                max = Vector256.ConditionalSelect(take, v, max);
                best = Vector256.ConditionalSelect(take.AsInt32(), first + Vector256.Create(offset), best);
            }
        }

        max.Store(output);
        best.Store(argmax);
    }

    /// <summary>Average pooling of the eight outputs whose first windows start at window[lane·stride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AvgBlock(float* window, int stride, int inW, int kh, int kw, float divisor, float* output)
    {
        Vector256<float> sum = Vector256<float>.Zero;
        for (int dy = 0; dy < kh; dy++)
        {
            for (int dx = 0; dx < kw; dx++)
            {
                sum += Strided(window + (nint)dy * inW + dx, stride);
            }
        }

        (sum / Vector256.Create(divisor)).Store(output);
    }

    /// <summary>Loads p[0], p[stride], …, p[7·stride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Strided(float* p, int stride)
    {
        if (stride == 1)
        {
            return Vector256.Load(p);
        }

        nint s = stride;
        return Vector256.Create(p[0], p[s], p[2 * s], p[3 * s], p[4 * s], p[5 * s], p[6 * s], p[7 * s]);
    }

    private static void Check(in PoolGeometry g, int batch, int inLength, string inName, string inFormula, int outLength, string outName, string outFormula)
    {
        g.Validate("geometry");
        KernelArguments.NotNegative(batch, nameof(batch));
        KernelArguments.AtLeast(inLength, KernelArguments.Product(batch, g.InputLength), inName, inFormula);
        KernelArguments.AtLeast(outLength, KernelArguments.Product(batch, g.OutputLength), outName, outFormula);
    }
}
