using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NigGen.Kernels;

/// <summary>
/// PyTorch <c>Conv1d</c>/<c>Conv2d</c> kernels (cross-correlation, zero padding, dilation and groups) by im2col and GEMM,
/// one sample at a time, so a sample's result does not depend on the batch it is processed in. Dilated or grouped
/// geometries (<see cref="ConvGeometry.IsDilatedOrGrouped"/>) run im2col + GEMM per group: the weight's rows
/// [OutChannels, (InChannels / Groups)·k…] of a group are contiguous, and in the transposed layout
/// [PatchLength, OutChannels] (<see cref="Layer.WeightTransposed"/>, the plain transpose whatever the groups) a group's
/// block is the columns group·OutChannelsPerGroup … of every row.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ConvKernels
{
    /// <summary>
    /// output = weight ⋆ input + bias for each sample: directly from the input rows for small patches with stride 1 along
    /// the width, else by im2col and GEMM. All paths give bitwise the same numbers.
    /// </summary>
    /// <param name="geometry">The convolution's geometry.</param>
    /// <param name="input">Input [batch, InChannels, InHeight, InWidth].</param>
    /// <param name="weight">Weight in PyTorch's layout [OutChannels, InChannels / Groups, KernelHeight, KernelWidth], i.e. the matrix [OutChannels, PatchLength].</param>
    /// <param name="bias">Bias [OutChannels], or empty for a layer without bias.</param>
    /// <param name="output">Output [batch, OutChannels, OutHeight, OutWidth]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="scratch">At least <see cref="ConvGeometry.ScratchLength"/> floats.</param>
    public static void Forward(in ConvGeometry geometry, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, int batch, Span<float> scratch) =>
        Forward(geometry, input, weight, ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, 0, bias, output, batch, scratch, ForwardPath.Fastest);

    /// <summary>
    /// output = weight ⋆ input + bias for each sample, the fastest way this machine and geometry allow: an implicit GEMM
    /// over the transposed weight for large patches, a direct kernel for small ones with stride 1 along the width, else
    /// im2col and GEMM. All paths give bitwise the same numbers.
    /// </summary>
    /// <param name="geometry">The convolution's geometry.</param>
    /// <param name="input">Input [batch, InChannels, InHeight, InWidth].</param>
    /// <param name="weight">Weight in PyTorch's layout, the matrix [OutChannels, PatchLength].</param>
    /// <param name="weightTransposed">The same matrix transposed: [PatchLength, OutChannels].</param>
    /// <param name="bias">Bias [OutChannels], or empty for a layer without bias.</param>
    /// <param name="output">Output [batch, OutChannels, OutHeight, OutWidth]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="scratch">At least <see cref="ConvGeometry.ScratchLength"/> floats.</param>
    public static void Forward(in ConvGeometry geometry, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> weightTransposed, ReadOnlySpan<float> bias, Span<float> output, int batch, Span<float> scratch)
    {
        KernelArguments.AtLeast(weightTransposed.Length, KernelArguments.Product(geometry.PatchLength, geometry.OutChannels), nameof(weightTransposed), "PatchLength·OutChannels");
        Forward(geometry, input, weight, weightTransposed, ReadOnlySpan<float>.Empty, 0, bias, output, batch, scratch, ForwardPath.Fastest);
    }

    /// <summary>
    /// output = layer ⋆ input + bias with every kernel the layer's prepared weights allow: Winograd's algorithm for 3×3
    /// and 5×5 kernels at stride 1 with at least 8 input and 16 output channels (its weight transformed on the layer's
    /// first such call, and after a training update) unless the input's magnitude could overflow its transforms, else as <see cref="Forward(in ConvGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, Span{float})"/>.
    /// Winograd's results differ from the direct sum by a few 1e-6 of the tile's Σ|w·x|; for inputs of ordinary
    /// magnitude the choice depends on the geometry only, so a sample's output is the same in every batch and call.
    /// </summary>
    /// <param name="geometry">The convolution's geometry.</param>
    /// <param name="input">Input [batch, InChannels, InHeight, InWidth].</param>
    /// <param name="layer">The convolution layer: its weight must have the geometry's shape.</param>
    /// <param name="output">Output [batch, OutChannels, OutHeight, OutWidth]; overwritten.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="scratch">At least <see cref="ConvGeometry.ScratchLength"/> floats.</param>
    public static void Forward(in ConvGeometry geometry, ReadOnlySpan<float> input, Layer layer, Span<float> output, int batch, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ConvGeometry g = geometry;
        g.Validate(nameof(geometry));
        RequireShape(g, layer);

        // The Winograd weight is built on the layer's first call that can use it.
        float largest = 0;
        var winogradWeight = WinogradConv.Supports(g) ? layer.WinogradWeight(out largest) : ReadOnlySpan<float>.Empty;
        Forward(g, input, layer.Weight, layer.WeightTransposed, winogradWeight, largest, layer.Bias, output, batch, scratch, ForwardPath.Fastest);
    }

    internal static void RequireShape(in ConvGeometry g, Layer layer)
    {
        var shape = layer.WeightShape;
        bool matches = g.KernelHeight == 1 && shape.Count == 3
            ? shape[0] == g.OutChannels && shape[1] == g.InChannelsPerGroup && shape[2] == g.KernelWidth
            : shape.Count == 4 && shape[0] == g.OutChannels && shape[1] == g.InChannelsPerGroup && shape[2] == g.KernelHeight && shape[3] == g.KernelWidth;
        if (!matches)
        {
            throw new ArgumentException($"Layer '{layer.Name}' has a weight of shape [{string.Join(", ", shape)}], which does not fit the convolution ({g}).", nameof(layer));
        }
    }

    /// <summary>Which forward kernel runs; tests force im2col to compare the others with it bitwise.</summary>
    internal enum ForwardPath
    {
        Fastest,
        Im2Col,
    }

    /// <summary>
    /// The forward dispatcher; <paramref name="weightTransposed"/> may be empty (then the implicit GEMM is not used), and
    /// so may <paramref name="winogradWeight"/> (then Winograd's algorithm is not used).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Forward(in ConvGeometry geometry, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> weightTransposed, ReadOnlySpan<float> winogradWeight, float winogradLargest, ReadOnlySpan<float> bias, Span<float> output, int batch, Span<float> scratch, ForwardPath path)
    {
        ConvGeometry g = geometry;
        g.Validate(nameof(geometry));
        KernelArguments.NotNegative(batch, nameof(batch));
        int inLength = g.InputLength;
        int outLength = g.OutputLength;
        KernelArguments.AtLeast(input.Length, KernelArguments.Product(batch, inLength), nameof(input), "batch·InputLength");
        KernelArguments.AtLeast(weight.Length, KernelArguments.Product(g.OutChannels, g.PatchLength), nameof(weight), "OutChannels·PatchLength");
        KernelArguments.EmptyOr(bias.Length, g.OutChannels, nameof(bias), "OutChannels");
        KernelArguments.AtLeast(output.Length, KernelArguments.Product(batch, outLength), nameof(output), "batch·OutputLength");
        KernelArguments.AtLeast(scratch.Length, g.ScratchLength, nameof(scratch), "ScratchLength");

        bool winograd = path == ForwardPath.Fastest && !winogradWeight.IsEmpty && WinogradConv.Supports(g);
        if (winograd)
        {
            KernelArguments.AtLeast(winogradWeight.Length, WinogradConv.WeightLength(g.OutChannels, g.InChannels, g.KernelHeight), nameof(winogradWeight), "the transformed weight's length");
        }

        fixed (float* pin = input, pw = weight, pwt = weightTransposed, pwino = winogradWeight, pb = bias, pout = output, pcols = scratch)
        {
            float* biasOrNull = bias.IsEmpty ? null : pb;
            if (!winograd)
            {
                ForwardExact(g, pin, pw, pwt, biasOrNull, pout, batch, pcols, path);
                return;
            }

            // Each sample's choice depends on its own values only, so its output is the same in every batch: runs of
            // samples Winograd's transforms cannot overflow go through them, the others (values near float's range, or
            // not finite) through the direct kernels.
            for (int s = 0; s < batch;)
            {
                int start = s;
                s = EndOfRun(g, input, start, batch, winogradLargest, out bool safe);
                float* first = pin + (nint)start * inLength;
                float* result = pout + (nint)start * outLength;
                if (safe)
                {
                    WinogradConv.Forward(g, first, pwino, biasOrNull, result, s - start, pcols);
                }
                else
                {
                    ForwardExact(g, first, pw, pwt, biasOrNull, result, s - start, pcols, path);
                }
            }
        }
    }

    /// <summary>
    /// The end of the run of samples of <paramref name="input"/> (each the geometry's input length) from
    /// <paramref name="start"/> that Winograd's transforms can (<paramref name="safe"/>) or cannot take: the same answer
    /// for every sample of the run.
    /// </summary>
    private static int EndOfRun(in ConvGeometry g, ReadOnlySpan<float> input, int start, int batch, float winogradLargest, out bool safe)
    {
        int inLength = g.InputLength, s = start;
        safe = WinogradConv.CannotOverflow(g, input.Slice(s * inLength, inLength), winogradLargest);
        while (++s < batch && WinogradConv.CannotOverflow(g, input.Slice(s * inLength, inLength), winogradLargest) == safe)
        {
        }

        return s;
    }

    /// <summary>
    /// The convolution, its activation and a max pooling above it, as one call: <paramref name="output"/> gets the same
    /// bits as <see cref="Forward(in ConvGeometry, ReadOnlySpan{float}, Layer, Span{float}, int, Span{float})"/> into
    /// <paramref name="preActivation"/> followed by <see cref="PoolKernels.MaxForwardActivated"/>. Where Winograd's
    /// kernel takes the convolution, the pooling is 2×2 with stride 2 and the activation is ReLU or none, the pooling
    /// runs on the kernel's channels-last tiles and only the pooled map is written: the convolution's full map never
    /// goes to memory. <paramref name="preActivation"/>, <paramref name="activations"/> and <paramref name="argmax"/> are
    /// then scratch, their contents unspecified; this is the forward pass of callers that read only what is above the pooling.
    /// </summary>
    /// <param name="convolution">The convolution's geometry.</param>
    /// <param name="pooling">The max pooling's geometry: its input is the convolution's output.</param>
    /// <param name="activation">The convolution's activation, applied before the pooling.</param>
    /// <param name="input">Input [batch, InChannels, InHeight, InWidth].</param>
    /// <param name="layer">The convolution layer: its weight must have the geometry's shape.</param>
    /// <param name="preActivation">At least batch · the convolution's OutputLength floats.</param>
    /// <param name="activations">At least batch · the convolution's OutputLength floats.</param>
    /// <param name="output">The pooled output [batch, OutChannels, pooled height, pooled width]; overwritten.</param>
    /// <param name="argmax">At least batch · the pooling's OutputLength indices.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="scratch">At least the convolution's <see cref="ConvGeometry.ScratchLength"/> floats.</param>
    public static unsafe void ForwardMaxPooled(in ConvGeometry convolution, in PoolGeometry pooling, Activation activation, ReadOnlySpan<float> input, Layer layer, Span<float> preActivation, Span<float> activations, Span<float> output, Span<int> argmax, int batch, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ConvGeometry g = convolution;
        PoolGeometry p = pooling;
        g.Validate(nameof(convolution));
        p.Validate(nameof(pooling));
        if (p.Channels != g.OutChannels || p.InHeight != g.OutHeight || p.InWidth != g.OutWidth)
        {
            throw new ArgumentException(
                $"The pooling's input ({p.Channels}, {p.InHeight}, {p.InWidth}) is not the convolution's output ({g.OutChannels}, {g.OutHeight}, {g.OutWidth}).", nameof(pooling));
        }

        if (activation is not (Activation.None or Activation.Relu) || !PoolKernels.Is2x2(p) || !WinogradConv.Supports(g))
        {
            Forward(g, input, layer, preActivation, batch, scratch);
            PoolKernels.MaxForwardActivated(p, activation, preActivation, activations, output, argmax, batch);
            return;
        }

        RequireShape(g, layer);
        KernelArguments.NotNegative(batch, nameof(batch));
        int inLength = g.InputLength, outLength = g.OutputLength, pooledLength = p.OutputLength;
        KernelArguments.AtLeast(input.Length, KernelArguments.Product(batch, inLength), nameof(input), "batch·InputLength");
        KernelArguments.AtLeast(preActivation.Length, KernelArguments.Product(batch, outLength), nameof(preActivation), "batch·OutputLength");
        KernelArguments.AtLeast(activations.Length, KernelArguments.Product(batch, outLength), nameof(activations), "batch·OutputLength");
        KernelArguments.AtLeast(output.Length, KernelArguments.Product(batch, pooledLength), nameof(output), "batch·the pooling's OutputLength");
        KernelArguments.AtLeast(argmax.Length, KernelArguments.Product(batch, pooledLength), nameof(argmax), "batch·the pooling's OutputLength");
        KernelArguments.AtLeast(scratch.Length, g.ScratchLength, nameof(scratch), "ScratchLength");

        var winogradWeight = layer.WinogradWeight(out float largest);
        var bias = layer.Bias;
        fixed (float* pin = input, pwino = winogradWeight, pb = bias, pout = output, pcols = scratch)
        {
            // Runs of samples as in Forward; those Winograd cannot take go through the stored map.
            for (int s = 0; s < batch;)
            {
                int start = s;
                s = EndOfRun(g, input, start, batch, largest, out bool safe);
                if (safe)
                {
                    WinogradConv.ForwardMaxPooled(g, pin + (nint)start * inLength, pwino, bias.IsEmpty ? null : pb, pout + (nint)start * pooledLength, s - start, pcols, activation == Activation.Relu);
                    continue;
                }

                var pre = preActivation.Slice(start * outLength, (s - start) * outLength);
                Forward(g, input.Slice(start * inLength, (s - start) * inLength), layer, pre, s - start, scratch);
                PoolKernels.MaxForwardActivated(p, activation, pre, activations.Slice(start * outLength), output.Slice(start * pooledLength), argmax.Slice(start * pooledLength), s - start);
            }
        }
    }

    /// <summary>The kernels that compute each output as the same ascending-tap FMA chain from the bias (so bitwise equal).</summary>
    internal enum ExactKernel
    {
        Implicit,
        Direct,
        Grouped,
        Im2Col,
    }

    /// <summary>
    /// Which of them the forward pass runs: the direct kernel or the implicit GEMM where the machine and geometry allow
    /// (both take dilated, ungrouped convolutions: dilation only spaces their tap offsets; where both could run,
    /// <see cref="DirectConv.PreferredOverImplicit"/> picks), else per-group im2col for dilated or grouped layers, else
    /// im2col + GEMM. <paramref name="transposed"/>: whether the transposed weight the implicit GEMM reads is at hand.
    /// </summary>
    internal static ExactKernel FastestExactKernel(in ConvGeometry g, bool transposed = true) =>
        DirectConv.PreferredOverImplicit(g) ? ExactKernel.Direct
        : transposed && ImplicitConv.Supports(g) ? ExactKernel.Implicit
        : g.IsDilatedOrGrouped ? ExactKernel.Grouped
        : DirectConv.Supports(g) ? ExactKernel.Direct
        : ExactKernel.Im2Col;

    // The exact kernels (above); pwt may be null (then the implicit GEMM is not used).
    private static unsafe void ForwardExact(in ConvGeometry g, float* pin, float* pw, float* pwt, float* bias, float* pout, int batch, float* pcols, ForwardPath path)
    {
        var kernel = path == ForwardPath.Fastest ? FastestExactKernel(g, pwt != null) : g.IsDilatedOrGrouped ? ExactKernel.Grouped : ExactKernel.Im2Col;
        switch (kernel)
        {
            case ExactKernel.Direct:
                DirectConv.Forward(g, pin, pw, bias, pout, batch, pcols);
                return;
            case ExactKernel.Implicit:
                ImplicitConv.Forward(g, pin, pwt, bias, pout, batch, pcols);
                return;
            case ExactKernel.Grouped:
                GroupedForward(g, pin, pw, bias, pout, batch, pcols);
                return;
        }

        int inLength = g.InputLength, outLength = g.OutputLength, pixels = g.OutHeight * g.OutWidth;
        for (int s = 0; s < batch; s++)
        {
            float* sample = pin + (nint)s * inLength;
            float* result = pout + (nint)s * outLength;
            float* columns = Columns(g, sample, pcols);

            if (bias != null)
            {
                for (int oc = 0; oc < g.OutChannels; oc++)
                {
                    new Span<float>(result + (nint)oc * pixels, pixels).Fill(bias[oc]);
                }
            }

            Gemm.MultiplyCore(pw, columns, result, g.OutChannels, g.PatchLength, pixels, bias != null);
        }
    }

    /// <summary>
    /// Gradient with respect to the input (a transposed convolution); overwrites <paramref name="inputGradient"/>, or with
    /// <paramref name="accumulate"/> adds to it (each element's taps then add onto the value already there, which equals
    /// overwriting and adding up to rounding).
    /// </summary>
    /// <param name="geometry">The convolution's geometry.</param>
    /// <param name="outputGradient">Gradient with respect to the output [batch, OutChannels, OutHeight, OutWidth].</param>
    /// <param name="weightTransposed">The weight matrix [OutChannels, PatchLength] transposed: [PatchLength, OutChannels].</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, InChannels, InHeight, InWidth]; overwritten, or added to.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="scratch">At least <see cref="ConvGeometry.ScratchLength"/> floats for one sample's column gradient.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void BackwardInput(in ConvGeometry geometry, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> weightTransposed, Span<float> inputGradient, int batch, Span<float> scratch, bool accumulate = false)
    {
        ConvGeometry g = geometry;
        g.Validate(nameof(geometry));
        KernelArguments.NotNegative(batch, nameof(batch));
        int inLength = g.InputLength;
        int outLength = g.OutputLength;
        int patch = g.PatchLength;
        int pixels = g.OutHeight * g.OutWidth;
        KernelArguments.AtLeast(outputGradient.Length, KernelArguments.Product(batch, outLength), nameof(outputGradient), "batch·OutputLength");
        KernelArguments.AtLeast(weightTransposed.Length, KernelArguments.Product(patch, g.OutChannels), nameof(weightTransposed), "PatchLength·OutChannels");
        KernelArguments.AtLeast(inputGradient.Length, KernelArguments.Product(batch, inLength), nameof(inputGradient), "batch·InputLength");
        KernelArguments.AtLeast(scratch.Length, g.ScratchLength, nameof(scratch), "ScratchLength");

        bool pointwise = g.IsPointwise;
        fixed (float* pg = outputGradient, pw = weightTransposed, pin = inputGradient, pcols = scratch)
        {
            if (g.IsDilatedOrGrouped)
            {
                if (!accumulate)
                {
                    inputGradient.Slice(0, batch * inLength).Clear();
                }

                GroupedBackwardInput(g, pg, pw, pin, batch, pcols);
                return;
            }

            for (int s = 0; s < batch; s++)
            {
                float* gradient = pg + (nint)s * outLength;
                float* result = pin + (nint)s * inLength;
                if (pointwise)
                {
                    // The column gradient is the input gradient itself.
                    Gemm.MultiplyCore(pw, gradient, result, patch, g.OutChannels, pixels, accumulate);
                    continue;
                }

                Gemm.MultiplyCore(pw, gradient, pcols, patch, g.OutChannels, pixels, accumulate: false);
                if (!accumulate)
                {
                    new Span<float>(result, inLength).Clear();
                }

                Col2Im(g, pcols, result);
            }
        }
    }

    /// <summary>
    /// The input gradient with every kernel the layer's prepared weights allow: at stride 1, where Winograd's algorithm
    /// applies to the input gradient as a forward convolution (<see cref="ConvGeometry.BackwardInputAsForward"/>: a 3×3
    /// or 5×5 kernel, at least 8 output and 16 input channels), through it with the flipped weight transformed once
    /// (<see cref="Layer"/> keeps it, rebuilt after a training update), samples whose output gradient could overflow its
    /// transforms going through GEMM and col2im; at stride 1 where it does not (dilated layers, other kernel sizes, few
    /// channels), on the implicit GEMM with the flipped weight when the patch suits it (<see cref="ConvGeometry.BackwardInputIsImplicit"/>:
    /// each input gradient one FMA chain over the output channels and taps in ascending order, then added when
    /// accumulating); else as <see cref="BackwardInput(in ConvGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, Span{float}, bool)"/>.
    /// Winograd's results differ from GEMM and col2im's by a few 1e-6 of the largest sum of magnitudes in the sample
    /// (near the borders, where an element sums few terms, more of its own), as in the forward pass; a sample's
    /// gradient is the same in every batch.
    /// </summary>
    /// <param name="geometry">The convolution's geometry.</param>
    /// <param name="outputGradient">Gradient with respect to the output [batch, OutChannels, OutHeight, OutWidth].</param>
    /// <param name="layer">The convolution layer: its weight must have the geometry's shape.</param>
    /// <param name="inputGradient">Gradient with respect to the input [batch, InChannels, InHeight, InWidth]; overwritten, or added to.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="scratch">At least <see cref="ConvGeometry.ScratchLength"/> floats.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it.</param>
    public static unsafe void BackwardInput(in ConvGeometry geometry, ReadOnlySpan<float> outputGradient, Layer layer, Span<float> inputGradient, int batch, Span<float> scratch, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ConvGeometry g = geometry;
        g.Validate(nameof(geometry));
        RequireShape(g, layer);
        ConvGeometry backward = g.BackwardInputIsForward ? g.BackwardInputAsForward : default;
        bool implicitGemm = g.BackwardInputIsImplicit;
        if (!implicitGemm && (!g.BackwardInputIsForward || !WinogradConv.Supports(backward)))
        {
            BackwardInput(g, outputGradient, layer.WeightTransposed, inputGradient, batch, scratch, accumulate);
            return;
        }

        KernelArguments.NotNegative(batch, nameof(batch));
        int inLength = g.InputLength, outLength = g.OutputLength;
        KernelArguments.AtLeast(outputGradient.Length, KernelArguments.Product(batch, outLength), nameof(outputGradient), "batch·OutputLength");
        KernelArguments.AtLeast(inputGradient.Length, KernelArguments.Product(batch, inLength), nameof(inputGradient), "batch·InputLength");
        KernelArguments.AtLeast(scratch.Length, g.ScratchLength, nameof(scratch), "ScratchLength");
        if (implicitGemm)
        {
            // Dilated layers and kernels Winograd's algorithm lacks: the flipped weight on the implicit GEMM, with no
            // im2col columns to scatter back.
            fixed (float* pg = outputGradient, pflipped = layer.FlippedWeightTransposed(), pin = inputGradient, pcols = scratch)
            {
                ImplicitConv.Forward(backward, pg, pflipped, null, pin, batch, pcols, accumulate);
            }

            return;
        }

        var transformed = layer.WinogradBackwardWeight(out float largest);
        fixed (float* pg = outputGradient, pwino = transformed, pin = inputGradient, pcols = scratch)
        {
            // As in the forward pass: runs of samples the transforms cannot overflow, the others through GEMM and col2im.
            for (int s = 0; s < batch;)
            {
                int start = s;
                s = EndOfRun(backward, outputGradient, start, batch, largest, out bool safe); // its input is the output gradient
                if (safe)
                {
                    WinogradConv.Forward(backward, pg + (nint)start * outLength, pwino, null, pin + (nint)start * inLength, s - start, pcols, accumulate);
                }
                else
                {
                    BackwardInput(g, outputGradient.Slice(start * outLength, (s - start) * outLength), layer.WeightTransposed,
                        inputGradient.Slice(start * inLength, (s - start) * inLength), s - start, scratch, accumulate);
                }
            }
        }
    }

    /// <summary>
    /// Adds a batch's parameter gradients. The weight's, in the transposed layout the GEMM produces without copying the
    /// columns: per sample, weightGradientTransposed[p, oc] += Σ_x columns[p, x]·outputGradient[oc, x], the im2col
    /// columns of the input times the transposed output gradient. The bias's: Σ over samples and output positions.
    /// Every sum continues from the value it held, samples and positions in ascending order, so gradients added over
    /// consecutive blocks of a batch equal those of the whole batch in one call, bit for bit.
    /// </summary>
    /// <param name="geometry">The convolution's geometry.</param>
    /// <param name="input">The layer's input [batch, InChannels, InHeight, InWidth].</param>
    /// <param name="outputGradient">Gradient with respect to the layer's output (its pre-activation) [batch, OutChannels, OutHeight, OutWidth].</param>
    /// <param name="weightGradientTransposed">The weight's gradient as [PatchLength, OutChannels], the layout of <see cref="Layer.WeightTransposed"/>; added to.</param>
    /// <param name="biasGradient">The bias's gradient [OutChannels], added to; empty for a layer without bias.</param>
    /// <param name="batch">Number of samples.</param>
    /// <param name="scratch">At least <see cref="ConvGeometry.WeightGradientScratchLength"/> floats: one sample's columns and transposed output gradient.</param>
    public static unsafe void BackwardWeight(in ConvGeometry geometry, ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> weightGradientTransposed, Span<float> biasGradient, int batch, Span<float> scratch)
    {
        ConvGeometry g = geometry;
        g.Validate(nameof(geometry));
        KernelArguments.NotNegative(batch, nameof(batch));
        int inLength = g.InputLength;
        int outLength = g.OutputLength;
        int patch = g.PatchLength;
        int pixels = g.OutHeight * g.OutWidth;
        KernelArguments.AtLeast(input.Length, KernelArguments.Product(batch, inLength), nameof(input), "batch·InputLength");
        KernelArguments.AtLeast(outputGradient.Length, KernelArguments.Product(batch, outLength), nameof(outputGradient), "batch·OutputLength");
        KernelArguments.AtLeast(weightGradientTransposed.Length, KernelArguments.Product(patch, g.OutChannels), nameof(weightGradientTransposed), "PatchLength·OutChannels");
        KernelArguments.EmptyOr(biasGradient.Length, g.OutChannels, nameof(biasGradient), "OutChannels");
        KernelArguments.AtLeast(scratch.Length, g.WeightGradientScratchLength, nameof(scratch), "WeightGradientScratchLength");

        fixed (float* pin = input, pg = outputGradient, pw = weightGradientTransposed, pb = biasGradient, pcols = scratch)
        {
            float* gradientTransposed = pcols + g.ScratchLength;
            for (int s = 0; s < batch; s++)
            {
                float* sample = pin + (nint)s * inLength;
                float* gradient = pg + (nint)s * outLength;
                if (g.IsDilatedOrGrouped)
                {
                    GroupedBackwardWeight(g, sample, gradient, pw, pcols, gradientTransposed);
                }
                else
                {
                    float* columns = Columns(g, sample, pcols);

                    // A = columns [PatchLength, pixels], B = outputGradientᵀ [pixels, OutChannels]: the GEMM reads row-major operands only.
                    Transposition.Transpose(gradient, gradientTransposed, g.OutChannels, pixels);
                    Gemm.MultiplyCore(columns, gradientTransposed, pw, patch, pixels, g.OutChannels, accumulate: true);
                }

                if (pb != null)
                {
                    for (int oc = 0; oc < g.OutChannels; oc++)
                    {
                        float* row = gradient + (nint)oc * pixels;
                        float sum = pb[oc];
                        for (int x = 0; x < pixels; x++)
                        {
                            sum += row[x];
                        }

                        pb[oc] = sum;
                    }
                }
            }
        }
    }

    // Dilated or grouped convolutions: per sample and group, the group's im2col columns (taps DilationHeight and
    // DilationWidth apart) times the group's rows of the weight, [OutChannelsPerGroup, PatchLength], which lie
    // contiguous in PyTorch's layout; each output the same ascending-tap FMA chain from the bias as the im2col path.
    private static unsafe void GroupedForward(in ConvGeometry g, float* pin, float* pw, float* bias, float* pout, int batch, float* pcols)
    {
        int inLength = g.InputLength, outLength = g.OutputLength, pixels = g.OutHeight * g.OutWidth, patch = g.PatchLength;
        int outPer = g.OutChannelsPerGroup;
        nint groupInput = (nint)g.InChannelsPerGroup * g.InHeight * g.InWidth;
        for (int s = 0; s < batch; s++)
        {
            float* sample = pin + (nint)s * inLength;
            float* result = pout + (nint)s * outLength;
            if (bias != null)
            {
                for (int oc = 0; oc < g.OutChannels; oc++)
                {
                    new Span<float>(result + (nint)oc * pixels, pixels).Fill(bias[oc]);
                }
            }

            for (int group = 0; group < g.Groups; group++)
            {
                Im2Col(g, sample + group * groupInput, pcols);
                Gemm.MultiplyCore(pw + (nint)group * outPer * patch, pcols, result + (nint)group * outPer * pixels, outPer, patch, pixels, bias != null);
            }
        }
    }

    // The input gradient of a dilated or grouped convolution: per group, the group's block of the transposed weight
    // (columns group·OutChannelsPerGroup … of [PatchLength, OutChannels], packed once per call into the scratch after the
    // column gradient when there are several groups) times the group's output gradient, then col2im onto the group's
    // input channels. inputGradient has been cleared, or holds what the caller accumulates onto.
    private static unsafe void GroupedBackwardInput(in ConvGeometry g, float* pg, float* pw, float* pin, int batch, float* pcols)
    {
        int inLength = g.InputLength, outLength = g.OutputLength, pixels = g.OutHeight * g.OutWidth, patch = g.PatchLength;
        int outPer = g.OutChannelsPerGroup;
        nint groupInput = (nint)g.InChannelsPerGroup * g.InHeight * g.InWidth;
        float* packed = pcols + (nint)patch * pixels;
        for (int group = 0; group < g.Groups; group++)
        {
            float* weightBlock = pw;
            if (g.Groups > 1)
            {
                CopyColumns(pw + (nint)group * outPer, g.OutChannels, packed, outPer, patch);
                weightBlock = packed;
            }

            for (int s = 0; s < batch; s++)
            {
                float* gradient = pg + (nint)s * outLength + (nint)group * outPer * pixels;
                Gemm.MultiplyCore(weightBlock, gradient, pcols, patch, outPer, pixels, accumulate: false);
                Col2Im(g, pcols, pin + (nint)s * inLength + group * groupInput);
            }
        }
    }

    // One sample's weight gradient of a dilated or grouped convolution, in the layout [PatchLength, OutChannels]: per
    // group, the group's columns times its transposed output gradient, added to the group's block of columns. With
    // several groups the block is strided, so it is gathered into the scratch, accumulated there (continuing each
    // sum's chain) and scattered back, exact copies both ways.
    private static unsafe void GroupedBackwardWeight(in ConvGeometry g, float* sample, float* gradient, float* pw, float* pcols, float* gradientTransposed)
    {
        int pixels = g.OutHeight * g.OutWidth, patch = g.PatchLength, outPer = g.OutChannelsPerGroup;
        nint groupInput = (nint)g.InChannelsPerGroup * g.InHeight * g.InWidth;
        float* packed = pcols + (nint)patch * pixels;
        for (int group = 0; group < g.Groups; group++)
        {
            Im2Col(g, sample + group * groupInput, pcols);
            Transposition.Transpose(gradient + (nint)group * outPer * pixels, gradientTransposed, outPer, pixels);
            if (g.Groups == 1)
            {
                Gemm.MultiplyCore(pcols, gradientTransposed, pw, patch, pixels, outPer, accumulate: true);
                continue;
            }

            float* block = pw + (nint)group * outPer;
            CopyColumns(block, g.OutChannels, packed, outPer, patch);
            Gemm.MultiplyCore(pcols, gradientTransposed, packed, patch, pixels, outPer, accumulate: true);
            for (int p = 0; p < patch; p++)
            {
                new ReadOnlySpan<float>(packed + (nint)p * outPer, outPer).CopyTo(new Span<float>(block + (nint)p * g.OutChannels, outPer));
            }
        }
    }

    /// <summary>Copies <paramref name="rows"/> runs of <paramref name="count"/> floats <paramref name="stride"/> apart into a packed [rows, count] block.</summary>
    private static unsafe void CopyColumns(float* source, int stride, float* destination, int count, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(source + (nint)r * stride, count).CopyTo(new Span<float>(destination + (nint)r * count, count));
        }
    }

    /// <summary>Copies a short run; the last vector may overlap the previous one (same values, distinct buffers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Copy(float* source, float* destination, int count)
    {
        if (Vector512.IsHardwareAccelerated && count >= 16)
        {
            for (int i = 0; i < count - 16; i += 16)
            {
                Vector512.Load(source + i).Store(destination + i);
            }

            Vector512.Load(source + count - 16).Store(destination + count - 16);
        }
        else if (Vector256.IsHardwareAccelerated && count >= 8)
        {
            for (int i = 0; i < count - 8; i += 8)
            {
                Vector256.Load(source + i).Store(destination + i);
            }

            Vector256.Load(source + count - 8).Store(destination + count - 8);
        }
        else if (Vector128.IsHardwareAccelerated && count >= 4)
        {
            for (int i = 0; i < count - 4; i += 4)
            {
                Vector128.Load(source + i).Store(destination + i);
            }

            Vector128.Load(source + count - 4).Store(destination + count - 4);
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                destination[i] = source[i];
            }
        }
    }

    /// <summary>
    /// destination[i] += source[i]; vector and scalar adds round alike, so the split never changes results. The last
    /// partial vector is a masked load and store (col2im's edge taps cover one column less than a row, so without it
    /// most of a short row would go element by element); masked-off lanes are neither read nor written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddTo(float* destination, float* source, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= count; i += 16)
            {
                (Vector512.Load(destination + i) + Vector512.Load(source + i)).Store(destination + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= count; i += 8)
            {
                (Vector256.Load(destination + i) + Vector256.Load(source + i)).Store(destination + i);
            }
        }

        if (Avx.IsSupported && i < count)
        {
            Vector256<float> mask = FirstLanes(count - i);
            Avx.MaskStore(destination + i, mask, Avx.Add(Avx.MaskLoad(destination + i, mask), Avx.MaskLoad(source + i, mask)));
            return;
        }

        for (; i < count; i++)
        {
            destination[i] += source[i];
        }
    }

    /// <summary>
    /// destination[2i] += source[i] for i &lt; count (col2im at stride 2), 8 sources at a time: they are interleaved with
    /// −0, which added to any float leaves it bitwise unchanged (but a signalling NaN, which comes out quiet), so one vector add updates the even elements and
    /// rewrites the odd ones in between as they were. The stores stop at destination[2·(count − 1)], inside the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddToEven(float* destination, float* source, int count)
    {
        Vector256<float> negativeZero = Vector256.Create(-0f);
        for (int i = 0; i < count; i += 8)
        {
            int n = Math.Min(8, count - i);
            Vector256<float> values = n == 8 ? Avx.LoadVector256(source + i) : Avx.MaskLoad(source + i, FirstLanes(n));

            // Unpack works within 128-bit halves: low = s0 −0 s1 −0 | s4 −0 s5 −0, high = s2 −0 s3 −0 | s6 −0 s7 −0.
            Vector256<float> low = Avx.UnpackLow(values, negativeZero), high = Avx.UnpackHigh(values, negativeZero);
            float* target = destination + 2 * i;

            // Elements to store: all 16 while later sources follow (their even elements lie past these), else up to the last even one.
            int span = i + 8 < count ? 16 : 2 * n - 1;
            if (span >= 16)
            {
                Avx.Store(target, Avx.Add(Avx.LoadVector256(target), Avx.Permute2x128(low, high, 0x20)));
                Avx.Store(target + 8, Avx.Add(Avx.LoadVector256(target + 8), Avx.Permute2x128(low, high, 0x31)));
                continue;
            }

            Vector256<float> first = FirstLanes(Math.Min(8, span));
            Avx.MaskStore(target, first, Avx.Add(Avx.MaskLoad(target, first), Avx.Permute2x128(low, high, 0x20)));
            if (span > 8)
            {
                Vector256<float> second = FirstLanes(span - 8);
                Avx.MaskStore(target + 8, second, Avx.Add(Avx.MaskLoad(target + 8, second), Avx.Permute2x128(low, high, 0x31)));
            }
        }
    }

    /// <summary>A mask of the first <paramref name="count"/> lanes (1 to 8) for AVX's masked loads and stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> FirstLanes(int count) =>
        Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();

    /// <summary>First output column x whose input column x·stride − padding + offset is ≥ 0.</summary>
    private static int FirstValid(int padding, int offset, int stride)
    {
        int need = padding - offset;
        return need <= 0 ? 0 : stride == 1 ? need : (need + stride - 1) / stride;
    }

    /// <summary>One past the last output column whose input column is &lt; extent, clamped to [0, outExtent].</summary>
    private static int EndValid(int extent, int padding, int offset, int stride, int outExtent)
    {
        int last = extent - 1 + padding - offset;
        return last < 0 ? 0 : Math.Min(outExtent, (stride == 1 ? last : last / stride) + 1);
    }

    /// <summary>Output rows [y0, y1) whose input row y·stride − padding + offset lies in [0, extent), within [0, outExtent].</summary>
    private static (int Start, int End) ValidRange(int extent, int padding, int offset, int stride, int outExtent)
    {
        // A dilated tap can see only padding (padding 3, dilation 3, input height 1): its first valid row would lie past
        // the output, and the callers clear and walk the rows before it.
        int start = Math.Min(outExtent, FirstValid(padding, offset, stride));
        return (start, Math.Max(start, EndValid(extent, padding, offset, stride, outExtent)));
    }

    // Taps whose valid output ranges Col2Im tabulates per call; later taps (kernels this long are rare) compute theirs.
    private const int RangeTableTaps = 32;

    /// <summary>ranges[2t], ranges[2t + 1] = <see cref="ValidRange"/> of tap t, for the first taps up to <see cref="RangeTableTaps"/>.</summary>
    private static unsafe void FillRanges(int* ranges, int taps, int extent, int padding, int dilation, int stride, int outExtent)
    {
        for (int t = 0; t < Math.Min(taps, RangeTableTaps); t++)
        {
            (ranges[2 * t], ranges[2 * t + 1]) = ValidRange(extent, padding, t * dilation, stride, outExtent);
        }
    }

    /// <summary>Tap <paramref name="tap"/>'s valid output range: from the table <see cref="FillRanges"/> wrote, or computed past its end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (int Start, int End) TapRange(int* ranges, int tap, int extent, int padding, int dilation, int stride, int outExtent) =>
        tap < RangeTableTaps ? (ranges[2 * tap], ranges[2 * tap + 1]) : ValidRange(extent, padding, tap * dilation, stride, outExtent);

    /// <summary>One sample's im2col columns [PatchLength, OutHeight·OutWidth]: written to <paramref name="scratch"/>, or the sample itself for a pointwise convolution (im2col would copy it unchanged).</summary>
    private static unsafe float* Columns(in ConvGeometry g, float* sample, float* scratch)
    {
        if (g.IsPointwise)
        {
            return sample;
        }

        Im2Col(g, sample, scratch);
        return scratch;
    }

    /// <summary>
    /// Writes the columns matrix [PatchLength, OutHeight·OutWidth] of one group's input channels (all of them for an
    /// ungrouped convolution); row (c, kh, kw) holds the input each output pixel sees through that tap, the taps
    /// DilationHeight and DilationWidth apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Im2Col(in ConvGeometry g, float* input, float* columns)
    {
        int outH = g.OutHeight, outW = g.OutWidth, inH = g.InHeight, inW = g.InWidth;
        int sh = g.StrideHeight, sw = g.StrideWidth, ph = g.PaddingHeight, pw = g.PaddingWidth;
        int dh = g.DilationHeight, dw = g.DilationWidth;
        nint pixels = (nint)outH * outW;
        float* row = columns;
        if (sh == 1 && sw == 1 && ph == 0 && pw == 0 && outW == 8 && !g.IsDilatedOrGrouped && Vector256.IsHardwareAccelerated)
        {
            Im2Col8(g, input, columns);
            return;
        }

        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            float* plane = input + (nint)c * inH * inW;
            for (int kh = 0; kh < g.KernelHeight; kh++)
            {
                (int y0, int y1) = ValidRange(inH, ph, kh * dh, sh, outH);
                for (int kw = 0; kw < g.KernelWidth; kw++)
                {
                    (int x0, int x1) = ValidRange(inW, pw, kw * dw, sw, outW);
                    new Span<float>(row, y0 * outW).Clear();
                    new Span<float>(row + (nint)y1 * outW, (outH - y1) * outW).Clear();
                    float* src = plane + (nint)(y0 * sh - ph + kh * dh) * inW - pw + kw * dw;
                    float* dst = row + (nint)y0 * outW;
                    nint srcStep = (nint)sh * inW;
                    if (sw == 1 && x0 == 0 && x1 == outW)
                    {
                        // The common interior tap: whole rows, no padding to write.
                        for (int y = y0; y < y1; y++, src += srcStep, dst += outW)
                        {
                            Copy(src, dst, outW);
                        }
                    }
                    else
                    {
                        for (int y = y0; y < y1; y++, src += srcStep, dst += outW)
                        {
                            for (int x = 0; x < x0; x++)
                            {
                                dst[x] = 0f;
                            }

                            for (int x = x1; x < outW; x++)
                            {
                                dst[x] = 0f;
                            }

                            if (sw == 1)
                            {
                                Copy(src + x0, dst + x0, x1 - x0);
                            }
                            else
                            {
                                for (int x = x0; x < x1; x++)
                                {
                                    dst[x] = src[(nint)x * sw];
                                }
                            }
                        }
                    }

                    row += pixels;
                }
            }
        }
    }

    /// <summary>
    /// Im2col for stride 1, no padding and 8-wide output rows (small feature maps, such as the small CNN's second layer):
    /// every tap is a plain window and each output row one vector, so the per-tap range and padding work is skipped.
    /// Wider rows measured no faster this way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Im2Col8(in ConvGeometry g, float* input, float* columns)
    {
        int outH = g.OutHeight, inW = g.InWidth, kernelH = g.KernelHeight, kernelW = g.KernelWidth;
        nint planeLength = (nint)g.InHeight * inW;
        float* dst = columns;
        for (int c = 0; c < g.InChannels; c++)
        {
            float* plane = input + c * planeLength;
            for (int kh = 0; kh < kernelH; kh++)
            {
                for (int kw = 0; kw < kernelW; kw++)
                {
                    float* src = plane + (nint)kh * inW + kw;
                    for (int y = 0; y < outH; y++, src += inW, dst += 8)
                    {
                        Vector256.Load(src).Store(dst);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Scatter-adds the columns gradient back onto the input gradient of one group's input channels (all of them for an
    /// ungrouped convolution), taps in a fixed order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Col2Im(in ConvGeometry g, float* columns, float* input)
    {
        int outH = g.OutHeight, outW = g.OutWidth, inH = g.InHeight, inW = g.InWidth;
        int sh = g.StrideHeight, sw = g.StrideWidth, ph = g.PaddingHeight, pw = g.PaddingWidth;
        int dh = g.DilationHeight, dw = g.DilationWidth;
        nint pixels = (nint)outH * outW;
        float* row = columns;

        // The valid ranges depend on the tap, not the channel: the first taps' are computed once per call (with a
        // stride they cost two divisions each, as much as a small map's adds).
        int* rowRanges = stackalloc int[2 * RangeTableTaps];
        int* columnRanges = stackalloc int[2 * RangeTableTaps];
        FillRanges(rowRanges, g.KernelHeight, inH, ph, dh, sh, outH);
        FillRanges(columnRanges, g.KernelWidth, inW, pw, dw, sw, outW);

        // Stride 1 along both sides with rows as long as the input's: a tap that covers whole rows adds one contiguous block.
        bool wholeRows = sw == 1 && sh == 1 && outW == inW;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            float* plane = input + (nint)c * inH * inW;
            for (int kh = 0; kh < g.KernelHeight; kh++)
            {
                (int y0, int y1) = TapRange(rowRanges, kh, inH, ph, dh, sh, outH);
                for (int kw = 0; kw < g.KernelWidth; kw++)
                {
                    (int x0, int x1) = TapRange(columnRanges, kw, inW, pw, dw, sw, outW);
                    float* dst = plane + (nint)(y0 * sh - ph + kh * dh) * inW - pw + kw * dw;
                    float* src = row + (nint)y0 * outW;
                    nint dstStep = (nint)sh * inW;
                    if (wholeRows && x0 == 0 && x1 == outW)
                    {
                        AddTo(dst, src, (y1 - y0) * outW);
                        row += pixels;
                        continue;
                    }

                    for (int y = y0; y < y1; y++, src += outW, dst += dstStep)
                    {
                        if (sw == 1)
                        {
                            AddTo(dst + x0, src + x0, x1 - x0);
                        }
                        else if (sw == 2 && Avx.IsSupported)
                        {
                            AddToEven(dst + (nint)x0 * 2, src + x0, x1 - x0);
                        }
                        else
                        {
                            for (int x = x0; x < x1; x++)
                            {
                                dst[(nint)x * sw] += src[x];
                            }
                        }
                    }

                    row += pixels;
                }
            }
        }
    }
}
