using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NigGen.Kernels;

/// <summary>
/// PyTorch <c>MaxPool1d/2d</c> and <c>AvgPool1d/2d</c> kernels (floor mode, optional padding) and their input gradients.
/// Every kernel here, the fused ones included, takes padded geometries (<see cref="PoolGeometry.PaddingHeight"/>): max
/// pooling skips the padding (PyTorch's −∞), average pooling counts it as zeros and divides by the whole window
/// (<c>count_include_pad=True</c>). Padded geometries take a plain scalar path; unpadded ones keep their vector paths.
/// </summary>
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void MaxForward(in PoolGeometry geometry, ReadOnlySpan<float> input, Span<float> output, Span<int> argmax, int batch)
    {
        PoolGeometry g = geometry;
        Check(g, batch, input.Length, nameof(input), "batch·InputLength", output.Length, nameof(output), "batch·OutputLength");
        KernelArguments.AtLeast(argmax.Length, KernelArguments.Product(batch, g.OutputLength), nameof(argmax), "batch·OutputLength");

        if (g.IsPadded)
        {
            MaxForwardPadded(g, input, output, argmax, batch);
            return;
        }

        int inLength = g.InputLength, outLength = g.OutputLength, plane = g.InHeight * g.InWidth;
        int outH = g.OutHeight, outW = g.OutWidth, inW = g.InWidth;
        int kh = g.SizeHeight, kw = g.SizeWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        bool pairs = Is2x2(g);
        fixed (float* pin = input, pout = output)
        fixed (int* pidx = argmax)
        {
            for (int s = 0; s < batch; s++)
            {
                float* sample = pin + (nint)s * inLength;
                float* o = pout + (nint)s * outLength;
                int* idx = pidx + (nint)s * outLength;
                if (pairs && outW % 4 == 0)
                {
                    MaxSample2x2(sample, g, o, idx);
                    continue;
                }

                for (int c = 0; c < g.Channels; c++)
                {
                    int planeStart = c * plane;
                    for (int y = 0; y < outH; y++)
                    {
                        int rowStart = planeStart + y * sh * inW;
                        int x = 0;

                        // The common 2×2, stride-2 window: contiguous loads split into even and odd columns.
                        if (pairs && outW >= 4)
                        {
                            MaxRow2x2(sample, rowStart, inW, outW, o, idx);
                            x = outW;
                        }

                        // Windows at least a vector wide (such as 1-D pooling over 20 positions): one output at a
                        // time, its window scanned a vector at a time.
                        if (Vector256.IsHardwareAccelerated && kw >= 8)
                        {
                            for (; x < outW; x++)
                            {
                                int start = rowStart + x * sw;
                                idx[x] = MaxWide(sample, start, inW, kh, kw);
                                o[x] = sample[idx[x]];
                            }
                        }

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
    /// Max pooling of activation(<paramref name="pre"/>) for a caller that reads only the pooling's output (inference):
    /// bitwise the activation's kernel then <see cref="MaxForward"/>'s output. No activation or ReLU is applied after the
    /// maximum (ReLU is non-decreasing, maps every x ≤ 0 to +0 and keeps a NaN, so under the first-maximum, last-NaN rule
    /// it gives the same bits either way), for a 2×2, stride-2 window in registers: then neither activations nor argmax
    /// are written. Otherwise <paramref name="activations"/> (other activations) and <paramref name="argmax"/> serve as
    /// scratch.
    /// </summary>
    /// <param name="geometry">The pooling's geometry.</param>
    /// <param name="activation">The activation between <paramref name="pre"/> and the pooling.</param>
    /// <param name="pre">Pre-activation values [batch, Channels, InHeight, InWidth].</param>
    /// <param name="activations">Scratch for the activations, [batch, Channels, InHeight, InWidth].</param>
    /// <param name="output">Output [batch, Channels, OutHeight, OutWidth]; overwritten.</param>
    /// <param name="argmax">Scratch for the argmax, [batch, OutputLength].</param>
    /// <param name="batch">Number of samples.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void MaxForwardActivated(in PoolGeometry geometry, Activation activation, ReadOnlySpan<float> pre, Span<float> activations, Span<float> output, Span<int> argmax, int batch)
    {
        PoolGeometry g = geometry;
        Check(g, batch, pre.Length, nameof(pre), "batch·InputLength", output.Length, nameof(output), "batch·OutputLength");
        KernelArguments.AtLeast(activations.Length, KernelArguments.Product(batch, g.InputLength), nameof(activations), "batch·InputLength");
        KernelArguments.AtLeast(argmax.Length, KernelArguments.Product(batch, g.OutputLength), nameof(argmax), "batch·OutputLength");
        int inLength = g.InputLength, outLength = g.OutputLength;
        if (activation is not (Activation.None or Activation.Relu))
        {
            ActivationKernels.Forward(activation, pre.Slice(0, batch * inLength), activations);
            MaxForward(g, activations, output, argmax, batch);
            return;
        }

        if (!InRegisters2x2(g))
        {
            MaxForward(g, pre, output, argmax, batch);
            if (activation == Activation.Relu)
            {
                ActivationKernels.Relu(output.Slice(0, batch * outLength), output);
            }

            return;
        }

        fixed (float* pin = pre, pout = output)
        {
            for (int s = 0; s < batch; s++)
            {
                Pooled2x2<MaxWindow, Stored>(g, new Stored(pin + (nint)s * inLength), activation == Activation.Relu, pout + (nint)s * outLength);
            }
        }
    }

    /// <summary>
    /// Gradient of max pooling: <paramref name="inputGradient"/> is cleared (unless <paramref name="accumulate"/>), then
    /// each output gradient is added at its argmax (overlapping windows that chose the same element add up).
    /// </summary>
    /// <param name="geometry">The pooling's geometry.</param>
    /// <param name="outputGradient">Gradient with respect to the output [batch, Channels, OutHeight, OutWidth].</param>
    /// <param name="argmax">The indices <see cref="MaxForward"/> recorded [batch, OutputLength].</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, Channels, InHeight, InWidth]; overwritten, or added to.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxBackward(in PoolGeometry geometry, ReadOnlySpan<float> outputGradient, ReadOnlySpan<int> argmax, Span<float> inputGradient, int batch, bool accumulate = false)
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
            if (!accumulate)
            {
                target.Clear();
            }

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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void AvgForward(in PoolGeometry geometry, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        PoolGeometry g = geometry;
        Check(g, batch, input.Length, nameof(input), "batch·InputLength", output.Length, nameof(output), "batch·OutputLength");

        int inLength = g.InputLength, outLength = g.OutputLength, plane = g.InHeight * g.InWidth;
        int outH = g.OutHeight, outW = g.OutWidth, inW = g.InWidth;
        int kh = g.SizeHeight, kw = g.SizeWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        float divisor = kh * kw;
        if (g.IsPadded)
        {
            AvgForwardPadded(g, input, output, batch);
            return;
        }

        bool pairs = Is2x2(g);

        // One window over whole rows (global average pooling): its elements are contiguous, and the channels go eight at a
        // time (WindowSums8), each lane adding its channel's elements in the scalar loop's order.
        bool whole = outH == 1 && outW == 1 && kw == inW && Avx.IsSupported;
        fixed (float* pin = input, pout = output)
        {
            for (int s = 0; s < batch; s++)
            {
                float* sample = pin + (nint)s * inLength;
                float* o = pout + (nint)s * outLength;
                int c0 = 0;
                for (; whole && c0 + 8 <= g.Channels; c0 += 8)
                {
                    WindowSums8(sample + (nint)c0 * plane, plane, kh * kw, divisor, o);
                    o += 8;
                }

                for (int c = c0; c < g.Channels; c++)
                {
                    float* p = sample + (nint)c * plane;
                    for (int y = 0; y < outH; y++)
                    {
                        float* row = p + (nint)y * sh * inW;
                        int x = 0;
                        if (pairs && outW >= 4)
                        {
                            AvgRow2x2(row, inW, outW, o);
                            x = outW;
                        }

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
    /// Gradient of average pooling: <paramref name="inputGradient"/> is overwritten (or, with <paramref name="accumulate"/>,
    /// added to); each output gradient divided by the window size is added to every element of its window.
    /// </summary>
    /// <param name="geometry">The pooling's geometry.</param>
    /// <param name="outputGradient">Gradient with respect to the output [batch, Channels, OutHeight, OutWidth].</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, Channels, InHeight, InWidth]; overwritten, or added to.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void AvgBackward(in PoolGeometry geometry, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch, bool accumulate = false)
    {
        PoolGeometry g = geometry;
        Check(g, batch, inputGradient.Length, nameof(inputGradient), "batch·InputLength", outputGradient.Length, nameof(outputGradient), "batch·OutputLength");

        int inLength = g.InputLength, outLength = g.OutputLength, plane = g.InHeight * g.InWidth;
        int outH = g.OutHeight, outW = g.OutWidth, inW = g.InWidth;
        int kh = g.SizeHeight, kw = g.SizeWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        float divisor = kh * kw;
        if (!accumulate)
        {
            inputGradient.Slice(0, batch * inLength).Clear();
        }

        if (g.IsPadded)
        {
            AvgBackwardPadded(g, outputGradient, inputGradient, batch);
            return;
        }

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
                                // Each element takes the same additions in the same order, a row of the window at once.
                                float* r = window + (nint)dy * inW;
                                int dx = 0;
                                if (Vector256.IsHardwareAccelerated)
                                {
                                    var add = Vector256.Create(delta);
                                    for (; dx + 8 <= kw; dx += 8)
                                    {
                                        (Vector256.Load(r + dx) + add).Store(r + dx);
                                    }
                                }

                                for (; dx < kw; dx++)
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

    /// <summary>Whether the window is 2×2 with stride 2, unpadded, and the pair-splitting vector code can run.</summary>
    internal static bool Is2x2(in PoolGeometry g) =>
        g.SizeHeight == 2 && g.SizeWidth == 2 && g.StrideHeight == 2 && g.StrideWidth == 2 && !g.IsPadded && Vector256.IsHardwareAccelerated;

    /// <summary>The rows [top, bottom) and columns [left, right) of the input that output (y, x)'s window covers, padding left out.</summary>
    private static (int Top, int Bottom, int Left, int Right) RealWindow(in PoolGeometry g, int y, int x)
    {
        int top = y * g.StrideHeight - g.PaddingHeight, left = x * g.StrideWidth - g.PaddingWidth;
        return (Math.Max(top, 0), Math.Min(top + g.SizeHeight, g.InHeight), Math.Max(left, 0), Math.Min(left + g.SizeWidth, g.InWidth));
    }

    // Padded max pooling, PyTorch's CPU loop: the window clipped to the input (the padding is −∞, which never wins), the
    // first real element the initial argmax, −∞ the initial maximum, then the greater-or-NaN rule in row-major order.
    private static void MaxForwardPadded(in PoolGeometry g, ReadOnlySpan<float> input, Span<float> output, Span<int> argmax, int batch)
    {
        int inLength = g.InputLength, outLength = g.OutputLength, plane = g.InHeight * g.InWidth, inW = g.InWidth;
        for (int s = 0; s < batch; s++)
        {
            ReadOnlySpan<float> sample = input.Slice(s * inLength, inLength);
            int o = s * outLength;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int y = 0; y < g.OutHeight; y++)
                {
                    for (int x = 0; x < g.OutWidth; x++, o++)
                    {
                        var (top, bottom, left, right) = RealWindow(g, y, x);
                        int best = c * plane + top * inW + left;
                        float max = float.NegativeInfinity;
                        for (int row = top; row < bottom; row++)
                        {
                            int rowStart = c * plane + row * inW;
                            for (int column = left; column < right; column++)
                            {
                                float v = sample[rowStart + column];
                                if (v > max || float.IsNaN(v))
                                {
                                    max = v;
                                    best = rowStart + column;
                                }
                            }
                        }

                        output[o] = max;
                        argmax[o] = best;
                    }
                }
            }
        }
    }

    // Padded average pooling (count_include_pad=True): the real elements' sum from 0 in row-major order (the padding adds
    // zeros), divided by the whole window.
    private static void AvgForwardPadded(in PoolGeometry g, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        int inLength = g.InputLength, outLength = g.OutputLength, plane = g.InHeight * g.InWidth, inW = g.InWidth;
        float divisor = g.SizeHeight * g.SizeWidth;
        for (int s = 0; s < batch; s++)
        {
            ReadOnlySpan<float> sample = input.Slice(s * inLength, inLength);
            int o = s * outLength;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int y = 0; y < g.OutHeight; y++)
                {
                    for (int x = 0; x < g.OutWidth; x++, o++)
                    {
                        var (top, bottom, left, right) = RealWindow(g, y, x);
                        float sum = 0f;
                        for (int row = top; row < bottom; row++)
                        {
                            int rowStart = c * plane + row * inW;
                            for (int column = left; column < right; column++)
                            {
                                sum += sample[rowStart + column];
                            }
                        }

                        output[o] = sum / divisor;
                    }
                }
            }
        }
    }

    // Gradient of padded average pooling: each output gradient over the whole window, added to the window's real elements.
    private static void AvgBackwardPadded(in PoolGeometry g, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int inLength = g.InputLength, outLength = g.OutputLength, plane = g.InHeight * g.InWidth, inW = g.InWidth;
        float divisor = g.SizeHeight * g.SizeWidth;
        for (int s = 0; s < batch; s++)
        {
            Span<float> sample = inputGradient.Slice(s * inLength, inLength);
            int o = s * outLength;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int y = 0; y < g.OutHeight; y++)
                {
                    for (int x = 0; x < g.OutWidth; x++, o++)
                    {
                        var (top, bottom, left, right) = RealWindow(g, y, x);
                        float delta = outputGradient[o] / divisor;
                        for (int row = top; row < bottom; row++)
                        {
                            int rowStart = c * plane + row * inW;
                            for (int column = left; column < right; column++)
                            {
                                sample[rowStart + column] += delta;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// One output row (≥ 4 outputs) of a 2×2, stride-2 max pooling. Each lane takes its window's four elements in
    /// row-major order with the scalar rule, so ties and NaNs resolve exactly as there. A last block that does not fit
    /// overlaps the previous one and recomputes its outputs identically.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxRow2x2(float* sample, int rowStart, int inW, int outW, float* output, int* argmax)
    {
        int x = 0;
        if (outW >= 8)
        {
            Vector256<int> lanes = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
            for (; x < outW; x += 8)
            {
                x = Math.Min(x, outW - 8);
                int start = rowStart + 2 * x;
                (Vector256<float> e0, Vector256<float> e1) = Split8(sample + start);
                (Vector256<float> e2, Vector256<float> e3) = Split8(sample + start + inW);
                Vector256<int> first = Vector256.Create(start) + lanes;
                Vector256<float> max = e0;
                Vector256<int> best = first;
                Take(e1, first + Vector256.Create(1), ref max, ref best);
                Take(e2, first + Vector256.Create(inW), ref max, ref best);
                Take(e3, first + Vector256.Create(inW + 1), ref max, ref best);
                max.Store(output + x);
                best.Store(argmax + x);
            }

            return;
        }

        Vector128<int> lanes4 = Vector128.Create(0, 2, 4, 6);
        for (; x < outW; x += 4)
        {
            x = Math.Min(x, outW - 4);
            int start = rowStart + 2 * x;
            (Vector128<float> e0, Vector128<float> e1) = Split4(sample + start);
            (Vector128<float> e2, Vector128<float> e3) = Split4(sample + start + inW);
            Vector128<int> first = Vector128.Create(start) + lanes4;
            Vector128<float> max = e0;
            Vector128<int> best = first;
            Take(e1, first + Vector128.Create(1), ref max, ref best);
            Take(e2, first + Vector128.Create(inW), ref max, ref best);
            Take(e3, first + Vector128.Create(inW + 1), ref max, ref best);
            max.Store(output + x);
            best.Store(argmax + x);
        }
    }

    /// <summary>
    /// One sample of a 2×2, stride-2 max pooling whose rows hold a multiple of four outputs. The outputs are taken in
    /// memory order, eight at a time: two runs of four outputs, each run's windows in one pair of input rows (the two runs
    /// may lie in consecutive output rows), so that no lane is computed twice and no row is too short for a vector. Each
    /// lane takes its window's four elements in row-major order with the scalar rule.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxSample2x2(float* sample, in PoolGeometry g, float* output, int* argmax)
    {
        int inW = g.InWidth;
        var runs = new RunsOfFour(g);
        int count = g.Channels * g.OutHeight * (g.OutWidth / 4);
        Vector256<int> lanes = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
        Vector256<int> right = Vector256.Create(1), below = Vector256.Create(inW), belowRight = Vector256.Create(inW + 1);
        int r = 0;
        for (; r + 2 <= count; r += 2, output += 8, argmax += 8)
        {
            int first = runs.Next(), second = runs.Next();
            (Vector256<float> e0, Vector256<float> e1) = SplitPairs(Vector256.Load(sample + first), Vector256.Load(sample + second));
            (Vector256<float> e2, Vector256<float> e3) = SplitPairs(Vector256.Load(sample + first + inW), Vector256.Load(sample + second + inW));
            Vector256<float> max = e0;
            Vector256<int> offset = Vector256<int>.Zero;
            Take(e1, right, ref max, ref offset);
            Take(e2, below, ref max, ref offset);
            Take(e3, belowRight, ref max, ref offset);
            max.Store(output);
            (Vector256.Create(Vector128.Create(first), Vector128.Create(second)) + lanes + offset).Store(argmax);
        }

        if (r < count)
        {
            int first = runs.Next();
            (Vector128<float> e0, Vector128<float> e1) = SplitPairs(Vector256.Load(sample + first));
            (Vector128<float> e2, Vector128<float> e3) = SplitPairs(Vector256.Load(sample + first + inW));
            Vector128<float> max = e0;
            Vector128<int> offset = Vector128<int>.Zero;
            Take(e1, right.GetLower(), ref max, ref offset);
            Take(e2, below.GetLower(), ref max, ref offset);
            Take(e3, belowRight.GetLower(), ref max, ref offset);
            max.Store(output);
            (Vector128.Create(first) + lanes.GetLower() + offset).Store(argmax);
        }
    }

    /// <summary>
    /// The runs of four outputs of a 2×2, stride-2 pooling in memory order, as the sample index of each run's first
    /// window's top-left element.
    /// </summary>
    internal struct RunsOfFour
    {
        private readonly int _inW, _outW, _outH, _plane;
        private int _x, _y, _rowStart, _planeStart;

        public RunsOfFour(in PoolGeometry g)
        {
            _inW = g.InWidth;
            _outW = g.OutWidth;
            _outH = g.OutHeight;
            _plane = g.InHeight * g.InWidth;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Next()
        {
            int start = _rowStart + 2 * _x;
            _x += 4;
            if (_x == _outW)
            {
                _x = 0;
                _rowStart += 2 * _inW;
                if (++_y == _outH)
                {
                    _y = 0;
                    _planeStart += _plane;
                    _rowStart = _planeStart;
                }
            }

            return start;
        }
    }

    /// <summary>Whether <see cref="Pooled2x2"/> can run: a 2×2, stride-2 window, at least four outputs a row.</summary>
    internal static bool InRegisters2x2(in PoolGeometry g) => Is2x2(g) && g.OutWidth >= 4;

    /// <summary>
    /// One sample of a 2×2, stride-2 pooling with at least four outputs a row, values only: TSource gives the input's
    /// elements (stored, or computed in registers), TWindow combines each lane's four window elements (in row-major order)
    /// into its output. Rows a multiple of four outputs wide go in memory order, eight outputs from two runs of four (as
    /// <see cref="MaxSample2x2"/>); other rows one at a time, a last block that does not fit overlapping the previous one
    /// and recomputing its outputs identically.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Pooled2x2<TWindow, TSource>(in PoolGeometry g, TSource source, bool relu, float* output)
        where TWindow : struct, IWindow2x2
        where TSource : struct, IPairSource
    {
        int inW = g.InWidth, outW = g.OutWidth, outH = g.OutHeight, plane = g.InHeight * inW;
        float* o = output;
        if (outW % 4 == 0)
        {
            var runs = new RunsOfFour(g);
            int count = g.Channels * outH * (outW / 4);
            int r = 0;
            for (; r + 2 <= count; r += 2, o += 8)
            {
                int first = runs.Next(), second = runs.Next();
                (Vector256<float> e0, Vector256<float> e1) = source.Pairs(first, second);
                (Vector256<float> e2, Vector256<float> e3) = source.Pairs(first + inW, second + inW);
                TWindow.Combine(e0, e1, e2, e3, relu).Store(o);
            }

            if (r < count)
            {
                int first = runs.Next();
                (Vector128<float> e0, Vector128<float> e1) = source.Pairs(first);
                (Vector128<float> e2, Vector128<float> e3) = source.Pairs(first + inW);
                TWindow.Combine(e0, e1, e2, e3, relu).Store(o);
            }

            return;
        }

        for (int c = 0; c < g.Channels; c++)
        {
            for (int y = 0; y < outH; y++, o += outW)
            {
                int top = c * plane + 2 * y * inW;
                if (outW >= 8)
                {
                    for (int x = 0; x < outW; x += 8)
                    {
                        x = Math.Min(x, outW - 8);
                        int at = top + 2 * x;
                        (Vector256<float> e0, Vector256<float> e1) = source.Pairs(at, at + 8);
                        (Vector256<float> e2, Vector256<float> e3) = source.Pairs(at + inW, at + inW + 8);
                        TWindow.Combine(e0, e1, e2, e3, relu).Store(o + x);
                    }

                    continue;
                }

                for (int x = 0; x < outW; x += 4)
                {
                    x = Math.Min(x, outW - 4);
                    int at = top + 2 * x;
                    (Vector128<float> e0, Vector128<float> e1) = source.Pairs(at);
                    (Vector128<float> e2, Vector128<float> e3) = source.Pairs(at + inW);
                    TWindow.Combine(e0, e1, e2, e3, relu).Store(o + x);
                }
            }
        }
    }

    /// <summary>What a 2×2 window's four elements (row-major, one window per lane) become, ReLU included if asked.</summary>
    internal interface IWindow2x2
    {
        static abstract Vector512<float> Combine(Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3, bool relu);

        static abstract Vector256<float> Combine(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3, bool relu);

        static abstract Vector128<float> Combine(Vector128<float> e0, Vector128<float> e1, Vector128<float> e2, Vector128<float> e3, bool relu);
    }

    // The max rule (greater, or NaN), then ReLU: the same bits as ReLU before the maximum (see MaxForwardActivated).
    // Where no element is NaN, x86's max instruction is that rule: max(a, b) is a when a > b, else b, so the earlier
    // element wins ties (−0 against +0 included), and max(m, +0) is ReLU (x ≤ 0, −0 too, to +0). One check for NaN in
    // the four elements then costs two compares, against two compares and a blend per element for the rule itself;
    // vectors with a NaN take the rule.
    internal readonly struct MaxWindow : IWindow2x2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Combine(Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3, bool relu)
        {
            if (Avx512F.IsSupported && (Avx512F.CompareUnordered(e0, e1) | Avx512F.CompareUnordered(e2, e3)) == Vector512<float>.Zero)
            {
                Vector512<float> fast = Avx512F.Max(e3, Avx512F.Max(e2, Avx512F.Max(e1, e0)));
                return relu ? Avx512F.Max(fast, Vector512<float>.Zero) : fast;
            }

            Vector512<float> max = TakeValue(e3, TakeValue(e2, TakeValue(e1, e0)));
            return relu ? Vector512.AndNot(max, Vector512.LessThanOrEqual(max, Vector512<float>.Zero)) : max;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Combine(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3, bool relu)
        {
            if (Avx.IsSupported && (Avx.CompareUnordered(e0, e1) | Avx.CompareUnordered(e2, e3)) == Vector256<float>.Zero)
            {
                Vector256<float> fast = Avx.Max(e3, Avx.Max(e2, Avx.Max(e1, e0)));
                return relu ? Avx.Max(fast, Vector256<float>.Zero) : fast;
            }

            Vector256<float> max = TakeValue(e3, TakeValue(e2, TakeValue(e1, e0)));
            return relu ? Relu(max) : max;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Combine(Vector128<float> e0, Vector128<float> e1, Vector128<float> e2, Vector128<float> e3, bool relu)
        {
            if (Sse.IsSupported && (Sse.CompareUnordered(e0, e1) | Sse.CompareUnordered(e2, e3)) == Vector128<float>.Zero)
            {
                Vector128<float> fast = Sse.Max(e3, Sse.Max(e2, Sse.Max(e1, e0)));
                return relu ? Sse.Max(fast, Vector128<float>.Zero) : fast;
            }

            Vector128<float> max = TakeValue(e3, TakeValue(e2, TakeValue(e1, e0)));
            return relu ? Vector128.AndNot(max, Vector128.LessThanOrEqual(max, Vector128<float>.Zero)) : max;
        }
    }

    // ReLU on each element, then the average: the sum from 0 in row-major order, divided by 4, as AvgForward.
    internal readonly struct AverageWindow : IWindow2x2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Combine(Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3, bool relu)
        {
            if (relu)
            {
                e0 = Vector512.AndNot(e0, Vector512.LessThanOrEqual(e0, Vector512<float>.Zero));
                e1 = Vector512.AndNot(e1, Vector512.LessThanOrEqual(e1, Vector512<float>.Zero));
                e2 = Vector512.AndNot(e2, Vector512.LessThanOrEqual(e2, Vector512<float>.Zero));
                e3 = Vector512.AndNot(e3, Vector512.LessThanOrEqual(e3, Vector512<float>.Zero));
            }

            return (((Vector512<float>.Zero + e0) + e1) + e2 + e3) / Vector512.Create(4f);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Combine(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3, bool relu)
        {
            if (relu)
            {
                (e0, e1, e2, e3) = (Relu(e0), Relu(e1), Relu(e2), Relu(e3));
            }

            return (((Vector256<float>.Zero + e0) + e1) + e2 + e3) / Vector256.Create(4f);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Combine(Vector128<float> e0, Vector128<float> e1, Vector128<float> e2, Vector128<float> e3, bool relu)
        {
            if (relu)
            {
                e0 = Vector128.AndNot(e0, Vector128.LessThanOrEqual(e0, Vector128<float>.Zero));
                e1 = Vector128.AndNot(e1, Vector128.LessThanOrEqual(e1, Vector128<float>.Zero));
                e2 = Vector128.AndNot(e2, Vector128.LessThanOrEqual(e2, Vector128<float>.Zero));
                e3 = Vector128.AndNot(e3, Vector128.LessThanOrEqual(e3, Vector128<float>.Zero));
            }

            return (((Vector128<float>.Zero + e0) + e1) + e2 + e3) / Vector128.Create(4f);
        }
    }

    // ActivationKernels.Relu's rule: x ≤ 0 to +0, NaN kept.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Relu(Vector256<float> x) => Vector256.AndNot(x, Vector256.LessThanOrEqual(x, Vector256<float>.Zero));

    /// <summary>Where <see cref="Pooled2x2"/> reads the input's elements, eight consecutive ones at a time.</summary>
    internal interface IPairSource
    {
        /// <summary>Elements first … first + 7 and second … second + 7 of the sample, split into even and odd elements.</summary>
        (Vector256<float> Even, Vector256<float> Odd) Pairs(int first, int second);

        /// <summary>Elements at … at + 7, split into even and odd elements.</summary>
        (Vector128<float> Even, Vector128<float> Odd) Pairs(int at);
    }

    // A stored sample.
    private readonly unsafe struct Stored(float* sample) : IPairSource
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector256<float> Even, Vector256<float> Odd) Pairs(int first, int second) =>
            SplitPairs(Vector256.Load(sample + first), Vector256.Load(sample + second));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector128<float> Even, Vector128<float> Odd) Pairs(int at) => SplitPairs(Vector256.Load(sample + at));
    }

    /// <summary>One output row (≥ 4 outputs) of a 2×2, stride-2 average pooling, summing in the scalar loop's order.</summary>
    private static unsafe void AvgRow2x2(float* row, int inW, int outW, float* output)
    {
        int x = 0;
        if (outW >= 8)
        {
            Vector256<float> quarter = Vector256.Create(4f);
            for (; x < outW; x += 8)
            {
                x = Math.Min(x, outW - 8);
                (Vector256<float> e0, Vector256<float> e1) = Split8(row + 2 * x);
                (Vector256<float> e2, Vector256<float> e3) = Split8(row + 2 * x + inW);
                ((((Vector256<float>.Zero + e0) + e1) + e2 + e3) / quarter).Store(output + x);
            }

            return;
        }

        for (; x < outW; x += 4)
        {
            x = Math.Min(x, outW - 4);
            (Vector128<float> e0, Vector128<float> e1) = Split4(row + 2 * x);
            (Vector128<float> e2, Vector128<float> e3) = Split4(row + 2 * x + inW);
            ((((Vector128<float>.Zero + e0) + e1) + e2 + e3) / Vector128.Create(4f)).Store(output + x);
        }
    }

    /// <summary>The scalar rule's maximum after one more window element: that element when it is greater, or NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> TakeValue(Vector256<float> v, Vector256<float> max) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v), v, max);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> TakeValue(Vector512<float> v, Vector512<float> max) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(v, max) | ~Vector512.Equals(v, v), v, max);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> TakeValue(Vector128<float> v, Vector128<float> max) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(v, max) | ~Vector128.Equals(v, v), v, max);

    /// <summary>
    /// The scalar rule for one more window element: take it when greater than the maximum so far, or NaN, recording its
    /// index (or its offset in the window: the caller's choice).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector256<float> v, Vector256<int> index, ref Vector256<float> max, ref Vector256<int> best)
    {
        Vector256<float> take = Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v);
        max = Vector256.ConditionalSelect(take, v, max);
        best = Vector256.ConditionalSelect(take.AsInt32(), index, best);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector128<float> v, Vector128<int> index, ref Vector128<float> max, ref Vector128<int> best)
    {
        Vector128<float> take = Vector128.GreaterThan(v, max) | ~Vector128.Equals(v, v);
        max = Vector128.ConditionalSelect(take, v, max);
        best = Vector128.ConditionalSelect(take.AsInt32(), index, best);
    }

    /// <summary>p[0], p[2], …, p[14] and p[1], p[3], …, p[15].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<float> Even, Vector256<float> Odd) Split8(float* p) =>
        Vector512.IsHardwareAccelerated ? SplitPairs(Vector512.Load(p)) : SplitPairs(Vector256.Load(p), Vector256.Load(p + 8));

    /// <summary>p[0], p[2], p[4], p[6] and p[1], p[3], p[5], p[7].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector128<float> Even, Vector128<float> Odd) Split4(float* p) => SplitPairs(Vector256.Load(p));

    /// <summary>The even and the odd elements of sixteen floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector256<float> Even, Vector256<float> Odd) SplitPairs(Vector512<float> v)
    {
        Vector512<float> s = Vector512.Shuffle(v, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
        return (s.GetLower(), s.GetUpper());
    }

    /// <summary>The even and the odd elements of sixteen floats in two halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector256<float> Even, Vector256<float> Odd) SplitPairs(Vector256<float> low, Vector256<float> high)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return SplitPairs(Concatenate(low, high));
        }

        Vector256<int> order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        Vector256<float> lo = Vector256.Shuffle(low, order);
        Vector256<float> hi = Vector256.Shuffle(high, order);
        return (Vector256.Create(lo.GetLower(), hi.GetLower()), Vector256.Create(lo.GetUpper(), hi.GetUpper()));
    }

    /// <summary>
    /// low then high in one vector. Vector512.Create(low, high) inserts both halves into the register's old value, a false
    /// dependency on the previous loop iteration; this widens low and inserts only high.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Concatenate(Vector256<float> low, Vector256<float> high) => low.ToVector512Unsafe().WithUpper(high);

    /// <summary>The even and the odd elements of eight floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector128<float> Even, Vector128<float> Odd) SplitPairs(Vector256<float> v)
    {
        Vector256<float> s = Vector256.Shuffle(v, Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7));
        return (s.GetLower(), s.GetUpper());
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

    /// <summary>
    /// The scalar rule's choice (the first maximum in row-major order, or the last NaN) for the window at
    /// sample[start], kw ≥ 8: the maximum by vector max, then the first element equal to it (−0 and +0 compare equal,
    /// as under the rule's &gt;); a window holding a NaN falls back to the scalar scan.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int MaxWide(float* sample, int start, int inW, int kh, int kw)
    {
        Vector256<float> max = Vector256.Create(float.NegativeInfinity);
        Vector256<float> nan = Vector256<float>.Zero;
        for (int dy = 0; dy < kh; dy++)
        {
            float* row = sample + start + dy * inW;
            for (int dx = 0; dx < kw; dx += 8)
            {
                Vector256<float> v = Vector256.Load(row + Math.Min(dx, kw - 8));
                max = Vector256.Max(max, v);
                nan |= ~Vector256.Equals(v, v);
            }
        }

        if (nan != Vector256<float>.Zero)
        {
            int best = start;
            float value = float.NegativeInfinity;
            for (int dy = 0; dy < kh; dy++)
            {
                for (int dx = 0; dx < kw; dx++)
                {
                    int at = start + dy * inW + dx;
                    float v = sample[at];
                    if (v > value || float.IsNaN(v))
                    {
                        value = v;
                        best = at;
                    }
                }
            }

            return best;
        }

        // Horizontal maximum, then the first element equal to it.
        Vector128<float> half = Vector128.Max(max.GetLower(), max.GetUpper());
        half = Vector128.Max(half, Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1)));
        half = Vector128.Max(half, Vector128.Shuffle(half, Vector128.Create(1, 0, 3, 2)));
        // (Gathering a row's matches into one mask before a single test measured slower than this early exit.)
        Vector256<float> target = Vector256.Create(half.ToScalar());
        for (int dy = 0; dy < kh; dy++)
        {
            float* row = sample + start + dy * inW;
            for (int dx = 0; dx < kw; dx += 8)
            {
                int offset = Math.Min(dx, kw - 8);
                uint equal = Vector256.Equals(Vector256.Load(row + offset), target).ExtractMostSignificantBits();
                if (equal != 0)
                {
                    return start + dy * inW + offset + System.Numerics.BitOperations.TrailingZeroCount(equal);
                }
            }
        }

        return start; // every element is −∞ only if the maximum is; then the first one, as the scalar rule
    }

    /// <summary>
    /// The averages of 8 windows of <paramref name="length"/> contiguous elements, <paramref name="plane"/> apart: 8×8
    /// blocks transposed so that lane c adds window c's elements one by one in order, from 0, as the scalar loop does
    /// (the same bits), eight chains at a time where one channel's sum was a single chain of dependent additions.
    /// </summary>
    [SkipLocalsInit]
    private static unsafe void WindowSums8(float* first, int plane, int length, float divisor, float* output)
    {
        float* block = stackalloc float[64];
        Vector256<float> sum = Vector256<float>.Zero;
        int x = 0;
        for (; x + 8 <= length; x += 8)
        {
            Transposition.Block8x8(first + x, plane, block, 8, add: false);
            for (int j = 0; j < 8; j++)
            {
                sum += Vector256.Load(block + 8 * j);
            }
        }

        nint p = plane;
        for (; x < length; x++)
        {
            float* e = first + x;
            sum += Vector256.Create(e[0], e[p], e[2 * p], e[3 * p], e[4 * p], e[5 * p], e[6 * p], e[7 * p]);
        }

        (sum / Vector256.Create(divisor)).Store(output);
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
