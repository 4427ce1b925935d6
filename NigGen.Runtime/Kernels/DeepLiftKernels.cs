using System;
using System.ComponentModel;
using System.Numerics;
using System.Numerics.Tensors;

namespace NigGen.Kernels;

/// <summary>
/// DeepLIFT's rules over one (input, baseline) pair. A value span holds two rows of one layer, the input's values and
/// then the baseline's, each of half the span's length. A multiplier span is laid out the same way: its first row holds
/// the input row's multipliers (contribution = multiplier × (value − baseline value)); its second row is scratch where
/// a method says so, and is otherwise left alone. Linear layers need no kernel of their own: their multipliers
/// propagate as gradients do, through the gradient kernels run on the first row.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DeepLiftKernels
{
    /// <summary>Below this |Δx| the Rescale rule and Captum's max-pool rule use the gradient (Captum's eps).</summary>
    public const float RescaleEpsilon = 1e-10f;

    /// <summary>
    /// deeplift's NEAR_ZERO_THRESHOLD: a RevealCancel part |Δx⁺| or |Δx⁻| below half of it takes its multiplier's limit
    /// (deeplift adds this pseudocount instead, which in float32 gives the same limit less accurately).
    /// </summary>
    public const float RevealCancelEpsilon = 1e-7f;

    // Block of neurons RevealCancel evaluates at once in stack buffers.
    private const int Block = 32;

    /// <summary>
    /// Rescale (Captum's <c>nonlinear</c>): preMultipliers = outputMultipliers·Δy/Δx, or outputMultipliers·f'(x) at the
    /// input where |Δx| &lt; <see cref="RescaleEpsilon"/>.
    /// </summary>
    /// <param name="activation">The nonlinearity y = f(x).</param>
    /// <param name="pre">Its inputs x: two rows (input, baseline).</param>
    /// <param name="post">Its outputs y: two rows.</param>
    /// <param name="outputMultipliers">Multipliers of y (first row).</param>
    /// <param name="preMultipliers">Receives the multipliers of x (first row); must not overlap <paramref name="outputMultipliers"/>.</param>
    public static void Rescale(Activation activation, ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> outputMultipliers, Span<float> preMultipliers)
    {
        int n = RowLength(pre, nameof(pre));
        KernelArguments.AtLeast(post.Length, 2L * n, nameof(post), "2·length of a row of pre");
        KernelArguments.AtLeast(outputMultipliers.Length, n, nameof(outputMultipliers), "length of a row of pre");
        KernelArguments.AtLeast(preMultipliers.Length, n, nameof(preMultipliers), "length of a row of pre");

        ReadOnlySpan<float> x = pre.Slice(0, n), x0 = pre.Slice(n, n), y = post.Slice(0, n), y0 = post.Slice(n, n);
        ReadOnlySpan<float> u = outputMultipliers.Slice(0, n);
        Span<float> m = preMultipliers.Slice(0, n);

        // The fallback first, from the activation's own backward kernel (its conventions, such as ReLU'(0) = 0).
        Derivative(activation, x, y, u, m);
        for (int i = 0; i < n; i++)
        {
            float dx = x[i] - x0[i];
            if (MathF.Abs(dx) >= RescaleEpsilon)
            {
                // Captum's order: grad_output * delta_out / delta_in.
                m[i] = u[i] * (y[i] - y0[i]) / dx;
            }
        }
    }

    /// <summary>
    /// The positive and negative parts of the contributions w·Δin reaching each output of a Dense layer: Δx⁺_j = Σ_i
    /// max(w_ji·Δin_i, 0) and Δx⁻_j = Σ_i min(w_ji·Δin_i, 0). The bias contributes nothing (its difference is 0).
    /// </summary>
    /// <param name="inputs">The layer's inputs: two rows of <paramref name="inFeatures"/>.</param>
    /// <param name="weightTransposed">The weight [outFeatures, inFeatures] transposed: [inFeatures, outFeatures].</param>
    /// <param name="parts">Receives Δx⁺ in its first row and Δx⁻ in its second, <paramref name="outFeatures"/> each.</param>
    /// <param name="inFeatures">Input features.</param>
    /// <param name="outFeatures">Output features.</param>
    public static void SplitDense(ReadOnlySpan<float> inputs, ReadOnlySpan<float> weightTransposed, Span<float> parts, int inFeatures, int outFeatures)
    {
        KernelArguments.NotNegative(inFeatures, nameof(inFeatures));
        KernelArguments.NotNegative(outFeatures, nameof(outFeatures));
        KernelArguments.AtLeast(inputs.Length, KernelArguments.Product(2, inFeatures), nameof(inputs), "2·inFeatures");
        KernelArguments.AtLeast(weightTransposed.Length, KernelArguments.Product(inFeatures, outFeatures), nameof(weightTransposed), "inFeatures·outFeatures");
        KernelArguments.AtLeast(parts.Length, KernelArguments.Product(2, outFeatures), nameof(parts), "2·outFeatures");

        Span<float> positive = parts.Slice(0, outFeatures), negative = parts.Slice(outFeatures, outFeatures);
        positive.Clear();
        negative.Clear();
        for (int i = 0; i < inFeatures; i++)
        {
            float d = inputs[i] - inputs[inFeatures + i];
            if (d != 0f)
            {
                AddParts(weightTransposed.Slice(i * outFeatures, outFeatures), d, positive, negative);
            }
        }
    }

    /// <summary>
    /// RevealCancel (kundajelab/deeplift) at an activation: from the parts Δx⁺, Δx⁻ of its input's difference, the
    /// multipliers outputMultipliers·m⁺ and outputMultipliers·m⁻ with m± = Δy±/Δx±. x₀ + Δx⁺ + Δx⁻ is the input's x, so
    /// its forward value f(x) stands for f(x₀+Δx⁻+Δx⁺): m⁺Δx⁺ + m⁻Δx⁻ is then Δy as the forward pass computed it. A part
    /// below half of <see cref="RevealCancelEpsilon"/> takes the multiplier's limit, the mean of f' at the two points
    /// its formula differences: ½[f'(x₀) + f'(x₀+Δx∓)].
    /// </summary>
    /// <param name="activation">The nonlinearity y = f(x).</param>
    /// <param name="pre">Its inputs x: two rows (input, baseline).</param>
    /// <param name="post">Its outputs y: two rows.</param>
    /// <param name="outputMultipliers">Multipliers of y (first row).</param>
    /// <param name="parts">On entry Δx⁺ (first row) and Δx⁻ (second row), as <see cref="SplitDense"/> or <see cref="SplitConv"/>
    /// wrote them; on return the multipliers of the positive and of the negative contributions.</param>
    public static void RevealCancel(Activation activation, ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> outputMultipliers, Span<float> parts)
    {
        int n = RowLength(pre, nameof(pre));
        KernelArguments.AtLeast(post.Length, 2L * n, nameof(post), "2·length of a row of pre");
        KernelArguments.AtLeast(outputMultipliers.Length, n, nameof(outputMultipliers), "length of a row of pre");
        KernelArguments.AtLeast(parts.Length, 2L * n, nameof(parts), "2·length of a row of pre");

        const float nearZero = 0.5f * RevealCancelEpsilon;
        Span<float> buffer = stackalloc float[8 * Block];
        for (int start = 0; start < n; start += Block)
        {
            int count = Math.Min(Block, n - start);
            Span<float> atPositive = buffer.Slice(0, count), fPositive = buffer.Slice(Block, count);
            Span<float> atNegative = buffer.Slice(2 * Block, count), fNegative = buffer.Slice(3 * Block, count);
            Span<float> ones = buffer.Slice(4 * Block, count), gBaseline = buffer.Slice(5 * Block, count);
            Span<float> gPositive = buffer.Slice(6 * Block, count), gNegative = buffer.Slice(7 * Block, count);
            ReadOnlySpan<float> x0 = pre.Slice(n + start, count), y = post.Slice(start, count), y0 = post.Slice(n + start, count);
            Span<float> positive = parts.Slice(start, count), negative = parts.Slice(n + start, count);

            TensorPrimitives.Add(x0, positive, atPositive);
            TensorPrimitives.Add(x0, negative, atNegative);
            ActivationKernels.Forward(activation, atPositive, fPositive);
            ActivationKernels.Forward(activation, atNegative, fNegative);
            ones.Fill(1f);
            Derivative(activation, x0, y0, ones, gBaseline);
            Derivative(activation, atPositive, fPositive, ones, gPositive);
            Derivative(activation, atNegative, fNegative, ones, gNegative);

            for (int k = 0; k < count; k++)
            {
                float p = positive[k], q = negative[k];
                float dyPositive = 0.5f * ((fPositive[k] - y0[k]) + (y[k] - fNegative[k]));
                float dyNegative = 0.5f * ((fNegative[k] - y0[k]) + (y[k] - fPositive[k]));
                float mPositive = MathF.Abs(p) < nearZero ? 0.5f * (gBaseline[k] + gNegative[k]) : dyPositive / p;
                float mNegative = MathF.Abs(q) < nearZero ? 0.5f * (gBaseline[k] + gPositive[k]) : dyNegative / q;
                float u = outputMultipliers[start + k];
                positive[k] = u * mPositive;
                negative[k] = u * mNegative;
            }
        }
    }

    /// <summary>
    /// The input multipliers of a Dense layer below a RevealCancel activation (deeplift's Dense layer): a term w_ji·Δin_i
    /// that is positive takes output j's positive multiplier, a negative one its negative multiplier, and an input with
    /// Δin_i = 0 the mean of the two.
    /// </summary>
    /// <param name="multipliers">The positive (first row) and negative (second row) multipliers of the layer's outputs.</param>
    /// <param name="weight">The weight in PyTorch's layout [outFeatures, inFeatures].</param>
    /// <param name="inputs">The layer's inputs: two rows of <paramref name="inFeatures"/>.</param>
    /// <param name="inputMultipliers">Receives the inputs' multipliers in its first row; its second row is scratch.</param>
    /// <param name="inFeatures">Input features.</param>
    /// <param name="outFeatures">Output features.</param>
    public static void DenseRevealCancelBackward(ReadOnlySpan<float> multipliers, ReadOnlySpan<float> weight, ReadOnlySpan<float> inputs, Span<float> inputMultipliers, int inFeatures, int outFeatures)
    {
        KernelArguments.NotNegative(inFeatures, nameof(inFeatures));
        KernelArguments.NotNegative(outFeatures, nameof(outFeatures));
        KernelArguments.AtLeast(multipliers.Length, KernelArguments.Product(2, outFeatures), nameof(multipliers), "2·outFeatures");
        KernelArguments.AtLeast(weight.Length, KernelArguments.Product(outFeatures, inFeatures), nameof(weight), "outFeatures·inFeatures");
        KernelArguments.AtLeast(inputs.Length, KernelArguments.Product(2, inFeatures), nameof(inputs), "2·inFeatures");
        KernelArguments.AtLeast(inputMultipliers.Length, KernelArguments.Product(2, inFeatures), nameof(inputMultipliers), "2·inFeatures");

        // A: the multiplier of an input whose difference is positive, B: negative (the sign of w·Δin decides the part).
        Span<float> a = inputMultipliers.Slice(0, inFeatures), b = inputMultipliers.Slice(inFeatures, inFeatures);
        a.Clear();
        b.Clear();
        for (int j = 0; j < outFeatures; j++)
        {
            AddSelected(weight.Slice(j * inFeatures, inFeatures), multipliers[j], multipliers[outFeatures + j], a, b);
        }

        Combine(inputs, a, b);
    }

    /// <summary>
    /// <see cref="SplitDense"/> for a convolution: the positive and negative parts of the contributions w·Δin reaching
    /// each output.
    /// </summary>
    /// <param name="geometry">The convolution's geometry.</param>
    /// <param name="inputs">The layer's inputs: two rows of InputLength.</param>
    /// <param name="weight">The weight in PyTorch's layout [OutChannels, InChannels / Groups, KernelHeight, KernelWidth] (dilation and groups as the geometry says).</param>
    /// <param name="parts">Receives Δx⁺ in its first row and Δx⁻ in its second, OutputLength each.</param>
    public static void SplitConv(in ConvGeometry geometry, ReadOnlySpan<float> inputs, ReadOnlySpan<float> weight, Span<float> parts)
    {
        ConvGeometry g = geometry;
        CheckConv(g, inputs.Length, nameof(inputs), weight.Length, parts.Length, nameof(parts));
        int inLength = g.InputLength, outLength = g.OutputLength;
        Span<float> positive = parts.Slice(0, outLength), negative = parts.Slice(outLength, outLength);
        positive.Clear();
        negative.Clear();
        int kernel = g.KernelHeight * g.KernelWidth, inPerGroup = g.InChannelsPerGroup, outPerGroup = g.OutChannelsPerGroup;
        for (int oc = 0; oc < g.OutChannels; oc++)
        {
            for (int icInGroup = 0; icInGroup < inPerGroup; icInGroup++)
            {
                int ic = oc / outPerGroup * inPerGroup + icInGroup;
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        float w = weight[(oc * inPerGroup + icInGroup) * kernel + ky * g.KernelWidth + kx];
                        if (w == 0f)
                        {
                            continue;
                        }

                        for (int oy = 0; oy < g.OutHeight; oy++)
                        {
                            int iy = oy * g.StrideHeight - g.PaddingHeight + ky * g.DilationHeight;
                            if ((uint)iy >= (uint)g.InHeight)
                            {
                                continue;
                            }

                            int outRow = (oc * g.OutHeight + oy) * g.OutWidth;
                            int inRow = (ic * g.InHeight + iy) * g.InWidth;
                            for (int ox = 0; ox < g.OutWidth; ox++)
                            {
                                int ix = ox * g.StrideWidth - g.PaddingWidth + kx * g.DilationWidth;
                                if ((uint)ix < (uint)g.InWidth)
                                {
                                    float t = w * (inputs[inRow + ix] - inputs[inLength + inRow + ix]);
                                    positive[outRow + ox] += MathF.Max(t, 0f);
                                    negative[outRow + ox] += MathF.Min(t, 0f);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary><see cref="DenseRevealCancelBackward"/> for a convolution.</summary>
    /// <param name="geometry">The convolution's geometry.</param>
    /// <param name="multipliers">The positive (first row) and negative (second row) multipliers of the layer's outputs.</param>
    /// <param name="weight">The weight in PyTorch's layout [OutChannels, InChannels / Groups, KernelHeight, KernelWidth] (dilation and groups as the geometry says).</param>
    /// <param name="inputs">The layer's inputs: two rows of InputLength.</param>
    /// <param name="inputMultipliers">Receives the inputs' multipliers in its first row; its second row is scratch.</param>
    public static void ConvRevealCancelBackward(in ConvGeometry geometry, ReadOnlySpan<float> multipliers, ReadOnlySpan<float> weight, ReadOnlySpan<float> inputs, Span<float> inputMultipliers)
    {
        ConvGeometry g = geometry;
        CheckConv(g, inputs.Length, nameof(inputs), weight.Length, multipliers.Length, nameof(multipliers));
        KernelArguments.AtLeast(inputMultipliers.Length, KernelArguments.Product(2, g.InputLength), nameof(inputMultipliers), "2·InputLength");
        int inLength = g.InputLength, outLength = g.OutputLength;
        Span<float> a = inputMultipliers.Slice(0, inLength), b = inputMultipliers.Slice(inLength, inLength);
        a.Clear();
        b.Clear();
        int kernel = g.KernelHeight * g.KernelWidth, inPerGroup = g.InChannelsPerGroup, outPerGroup = g.OutChannelsPerGroup;
        for (int oc = 0; oc < g.OutChannels; oc++)
        {
            for (int icInGroup = 0; icInGroup < inPerGroup; icInGroup++)
            {
                int ic = oc / outPerGroup * inPerGroup + icInGroup;
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        float w = weight[(oc * inPerGroup + icInGroup) * kernel + ky * g.KernelWidth + kx];
                        float wPositive = MathF.Max(w, 0f), wNegative = MathF.Min(w, 0f);
                        for (int oy = 0; oy < g.OutHeight; oy++)
                        {
                            int iy = oy * g.StrideHeight - g.PaddingHeight + ky * g.DilationHeight;
                            if ((uint)iy >= (uint)g.InHeight)
                            {
                                continue;
                            }

                            int outRow = (oc * g.OutHeight + oy) * g.OutWidth;
                            int inRow = (ic * g.InHeight + iy) * g.InWidth;
                            for (int ox = 0; ox < g.OutWidth; ox++)
                            {
                                int ix = ox * g.StrideWidth - g.PaddingWidth + kx * g.DilationWidth;
                                if ((uint)ix < (uint)g.InWidth)
                                {
                                    float p = multipliers[outRow + ox], q = multipliers[outLength + outRow + ox];
                                    a[inRow + ix] += wPositive * p + wNegative * q;
                                    b[inRow + ix] += wNegative * p + wPositive * q;
                                }
                            }
                        }
                    }
                }
            }
        }

        Combine(inputs, a, b);
    }

    /// <summary>
    /// Captum's max-pool rule: with xmax = max(out, out'), each output sends multiplier·(xmax − out') to the input's
    /// argmax and multiplier·(out − xmax) to the baseline's argmax, so its contributions sum to multiplier·Δout; an input
    /// element's multiplier is what it received divided by its Δin, or the ordinary max-pool gradient where
    /// |Δin| &lt; <see cref="RescaleEpsilon"/>. Overlapping windows add up (Captum's max_unpool keeps only one of them,
    /// which breaks summation to delta). Padded geometries need nothing more: an argmax only ever names a real element.
    /// </summary>
    /// <param name="geometry">The pooling's geometry.</param>
    /// <param name="inputs">The pooling's inputs: two rows of InputLength.</param>
    /// <param name="outputs">Its outputs: two rows of OutputLength.</param>
    /// <param name="argmax">The indices <see cref="PoolKernels.MaxForward"/> recorded for both rows.</param>
    /// <param name="outputMultipliers">Multipliers of the outputs (first row).</param>
    /// <param name="inputMultipliers">Receives the inputs' multipliers in its first row; its second row is scratch.</param>
    public static void MaxPool(in PoolGeometry geometry, ReadOnlySpan<float> inputs, ReadOnlySpan<float> outputs, ReadOnlySpan<int> argmax, ReadOnlySpan<float> outputMultipliers, Span<float> inputMultipliers)
    {
        PoolGeometry g = geometry;
        g.Validate(nameof(geometry));
        int inLength = g.InputLength, outLength = g.OutputLength;
        KernelArguments.AtLeast(inputs.Length, KernelArguments.Product(2, inLength), nameof(inputs), "2·InputLength");
        KernelArguments.AtLeast(outputs.Length, KernelArguments.Product(2, outLength), nameof(outputs), "2·OutputLength");
        KernelArguments.AtLeast(argmax.Length, KernelArguments.Product(2, outLength), nameof(argmax), "2·OutputLength");
        KernelArguments.AtLeast(outputMultipliers.Length, outLength, nameof(outputMultipliers), "OutputLength");
        KernelArguments.AtLeast(inputMultipliers.Length, KernelArguments.Product(2, inLength), nameof(inputMultipliers), "2·InputLength");

        Span<float> received = inputMultipliers.Slice(0, inLength), gradient = inputMultipliers.Slice(inLength, inLength);
        received.Clear();
        gradient.Clear();
        for (int j = 0; j < outLength; j++)
        {
            float m = outputMultipliers[j], output = outputs[j], outputAtBaseline = outputs[outLength + j];
            float max = MathF.Max(output, outputAtBaseline);
            int atInput = argmax[j], atBaseline = argmax[outLength + j];
            received[atInput] += m * (max - outputAtBaseline);
            received[atBaseline] += m * (output - max);
            gradient[atInput] += m;
        }

        for (int i = 0; i < inLength; i++)
        {
            float d = inputs[i] - inputs[inLength + i];
            received[i] = MathF.Abs(d) < RescaleEpsilon ? gradient[i] : received[i] / d;
        }
    }

    /// <summary>contributions = multipliers · (values − baseline values): DeepLIFT's importance of each neuron.</summary>
    /// <param name="multipliers">Multipliers of the neurons (first row).</param>
    /// <param name="values">The neurons' values: two rows (input, baseline).</param>
    /// <param name="contributions">Receives one row of contributions.</param>
    public static void Contributions(ReadOnlySpan<float> multipliers, ReadOnlySpan<float> values, Span<float> contributions)
    {
        int n = RowLength(values, nameof(values));
        KernelArguments.AtLeast(multipliers.Length, n, nameof(multipliers), "length of a row of values");
        KernelArguments.AtLeast(contributions.Length, n, nameof(contributions), "length of a row of values");
        for (int j = 0; j < n; j++)
        {
            contributions[j] = multipliers[j] * (values[j] - values[n + j]);
        }
    }

    private static int RowLength(ReadOnlySpan<float> pair, string name)
    {
        if (pair.Length % 2 != 0)
        {
            throw new ArgumentException($"{name} must hold two rows of equal length (input, baseline) but has {pair.Length} elements.", name);
        }

        return pair.Length / 2;
    }

    private static void CheckConv(in ConvGeometry g, int inputs, string inputsName, int weight, int outputs, string outputsName)
    {
        g.Validate("geometry");
        KernelArguments.AtLeast(inputs, KernelArguments.Product(2, g.InputLength), inputsName, "2·InputLength");
        KernelArguments.AtLeast(weight, KernelArguments.Product(g.OutChannels, g.PatchLength), "weight", "OutChannels·PatchLength");
        KernelArguments.AtLeast(outputs, KernelArguments.Product(2, g.OutputLength), outputsName, "2·OutputLength");
    }

    // positive += max(row·d, 0), negative += min(row·d, 0).
    private static void AddParts(ReadOnlySpan<float> row, float d, Span<float> positive, Span<float> negative)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var scale = new Vector<float>(d);
            for (; j <= row.Length - Vector<float>.Count; j += Vector<float>.Count)
            {
                var t = new Vector<float>(row.Slice(j)) * scale;
                (new Vector<float>(positive.Slice(j)) + Vector.Max(t, Vector<float>.Zero)).CopyTo(positive.Slice(j));
                (new Vector<float>(negative.Slice(j)) + Vector.Min(t, Vector<float>.Zero)).CopyTo(negative.Slice(j));
            }
        }

        for (; j < row.Length; j++)
        {
            float t = row[j] * d;
            positive[j] += MathF.Max(t, 0f);
            negative[j] += MathF.Min(t, 0f);
        }
    }

    // a += max(w, 0)·p + min(w, 0)·q, b += min(w, 0)·p + max(w, 0)·q over a weight row.
    private static void AddSelected(ReadOnlySpan<float> row, float p, float q, Span<float> a, Span<float> b)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vp = new Vector<float>(p);
            var vq = new Vector<float>(q);
            for (; i <= row.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var w = new Vector<float>(row.Slice(i));
                var wPositive = Vector.Max(w, Vector<float>.Zero);
                var wNegative = Vector.Min(w, Vector<float>.Zero);
                (new Vector<float>(a.Slice(i)) + wPositive * vp + wNegative * vq).CopyTo(a.Slice(i));
                (new Vector<float>(b.Slice(i)) + wNegative * vp + wPositive * vq).CopyTo(b.Slice(i));
            }
        }

        for (; i < row.Length; i++)
        {
            float wPositive = MathF.Max(row[i], 0f), wNegative = MathF.Min(row[i], 0f);
            a[i] += wPositive * p + wNegative * q;
            b[i] += wNegative * p + wPositive * q;
        }
    }

    // a ← a where Δin > 0, b where Δin < 0, ½(a + b) where Δin = 0 (deeplift's zero-difference inputs).
    private static void Combine(ReadOnlySpan<float> inputs, Span<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length;
        for (int i = 0; i < n; i++)
        {
            float d = inputs[i] - inputs[n + i];
            a[i] = d > 0f ? a[i] : d < 0f ? b[i] : 0.5f * (a[i] + b[i]);
        }
    }

    // preGradient = postGradient·f'(pre), by the activation's backward kernel (post = f(pre)).
    private static void Derivative(Activation activation, ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        switch (activation)
        {
            case Activation.None:
                postGradient.Slice(0, pre.Length).CopyTo(preGradient);
                break;
            case Activation.Relu:
                ActivationKernels.ReluBackward(pre, post, postGradient, preGradient);
                break;
            case Activation.LeakyRelu:
                ActivationKernels.LeakyReluBackward(pre, post, postGradient, preGradient);
                break;
            case Activation.Sigmoid:
                ActivationKernels.SigmoidBackward(pre, post, postGradient, preGradient);
                break;
            case Activation.Tanh:
                ActivationKernels.TanhBackward(pre, post, postGradient, preGradient);
                break;
            case Activation.Softplus:
                ActivationKernels.SoftplusBackward(pre, post, postGradient, preGradient);
                break;
            case Activation.Elu:
                ActivationKernels.EluBackward(pre, post, postGradient, preGradient);
                break;
            case Activation.Gelu:
                ActivationKernels.GeluBackward(pre, post, postGradient, preGradient);
                break;
            case Activation.Silu:
                ActivationKernels.SiluBackward(pre, post, postGradient, preGradient);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "not a defined NigGen.Activation");
        }
    }
}
