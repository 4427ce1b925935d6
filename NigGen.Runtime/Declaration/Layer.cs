using System;
using System.Collections.Generic;
using System.Threading;
using NigGen.Weights;

namespace NigGen;

/// <summary>
/// One layer of a generated network and its parameters. The fields a user declares with a layer attribute hold these;
/// the generated code creates them when the network is loaded. Only training changes them afterwards: each
/// <see cref="Training.Trainer.Step"/> updates the parameters of the trainer's network in place. A network nobody
/// trains never changes, which is what makes it safe to share between threads; while a trainer steps a network, no
/// other thread may use that network (its calls could read half-updated weights).
/// </summary>
public sealed class Layer
{
    // 64-byte aligned: the kernels' vector loads of the weights never straddle cache lines (AlignedFloats).
    private readonly AlignedFloats _weight;
    private readonly AlignedFloats _weightTransposed;
    private readonly object _winogradLock = new();
    private WinogradState? _winograd;
    private WinogradState? _winogradBackward;
    private FlippedState? _flipped;
    private readonly AlignedFloats _bias;
    private readonly int[] _weightShape;
    private readonly BatchNormState? _batchNorm;

    private Layer(string name, AlignedFloats weight, AlignedFloats weightTransposed, AlignedFloats bias, int[] weightShape, BatchNormState? batchNorm = null)
    {
        Name = name;
        _weight = weight;
        _weightTransposed = weightTransposed;
        _bias = bias;
        _weightShape = weightShape;
        _batchNorm = batchNorm;
    }

    /// <summary>
    /// The name by which a layer attribute's <c>From</c>, <c>[Add]</c> or <c>[Concat]</c> reads the network's input:
    /// <c>[Conv(16, Kernel = 1, From = Layer.Input)]</c>.
    /// </summary>
    public const string Input = "<input>";

    /// <summary>The layer's name: the field's name, and the prefix of its tensors (<c>name.weight</c>, <c>name.bias</c>).</summary>
    public string Name { get; }

    /// <summary>The weight in PyTorch's layout (Linear [out, in], Conv1d [out, in, k], Conv2d [out, in, kh, kw]); empty for layers without parameters.</summary>
    public ReadOnlySpan<float> Weight => _weight.Span;

    /// <summary>
    /// The weight viewed as a matrix [out, in·k…] and transposed to [in·k…, out]: the layout the kernels broadcast from.
    /// For a grouped convolution (weight [out, in / groups, k…]) it is the same plain transpose, [in / groups·k…, out]:
    /// group g's block is columns g·out/groups … (g + 1)·out/groups − 1 of every row, which the kernels pack as they
    /// need it, so that training and weights I/O treat every layer alike.
    /// </summary>
    public ReadOnlySpan<float> WeightTransposed => _weightTransposed.Span;

    /// <summary>The bias [out]; empty when the layer has none.</summary>
    public ReadOnlySpan<float> Bias => _bias.Span;

    /// <summary>The weight's shape in PyTorch's layout; empty for layers without parameters.</summary>
    public IReadOnlyList<int> WeightShape => _weightShape;

    /// <summary>Number of trainable parameters (weight and bias).</summary>
    public int ParameterCount => _weight.Length + _bias.Length;

    /// <summary>Whether this is a BatchNorm layer (running statistics, and per-channel scale and shift).</summary>
    public bool IsBatchNorm => _batchNorm is not null;

    /// <summary>BatchNorm's running mean [C] (empty for other layers).</summary>
    public ReadOnlySpan<float> RunningMean => _batchNorm is null ? default : _batchNorm.RunningMean;

    /// <summary>BatchNorm's running variance [C] (empty for other layers).</summary>
    public ReadOnlySpan<float> RunningVariance => _batchNorm is null ? default : _batchNorm.RunningVariance;

    /// <summary>BatchNorm's <c>num_batches_tracked</c>: the training batches its running statistics have seen.</summary>
    public long BatchesTracked => _batchNorm?.BatchesTracked ?? 0;

    /// <summary>
    /// BatchNorm's inference terms from its running statistics, y = x·scale + shift per channel, computed as PyTorch's CPU
    /// eval mode does: scale = weight / √(running_var + ε), shift = bias − running_mean·scale (empty for other layers).
    /// </summary>
    public ReadOnlySpan<float> Scale => _batchNorm is null ? default : _batchNorm.Scale;

    /// <inheritdoc cref="Scale"/>
    public ReadOnlySpan<float> Shift => _batchNorm is null ? default : _batchNorm.Shift;

    /// <summary>Creates a layer without parameters (pooling, flatten).</summary>
    public static Layer WithoutParameters(string name) => new(name, AlignedFloats.Empty, AlignedFloats.Empty, AlignedFloats.Empty, []);

    /// <summary>
    /// Creates a layer with a weight of <paramref name="weightShape"/> (PyTorch layout, output dimension first) and,
    /// when <paramref name="hasBias"/>, a bias of length <c>weightShape[0]</c>, both read from <paramref name="source"/>.
    /// </summary>
    public static Layer Create(string name, int[] weightShape, bool hasBias, IWeightSource source)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(weightShape);
        ArgumentNullException.ThrowIfNull(source);
        int outputs = weightShape[0];
        int fanIn = 1;
        for (int i = 1; i < weightShape.Length; i++)
        {
            fanIn *= weightShape[i];
        }

        float[] weight = source.GetTensor(name + ".weight", weightShape, fanIn);
        float[] bias = hasBias ? source.GetTensor(name + ".bias", [outputs], fanIn) : [];
        return new Layer(name, AlignedFloats.CopyOf(weight), Transpose(weight, outputs, fanIn), AlignedFloats.CopyOf(bias), (int[])weightShape.Clone());
    }

    /// <summary>
    /// Creates a BatchNorm layer over <paramref name="channels"/> channels from PyTorch's tensors <c>name.weight</c> and
    /// <c>name.bias</c> (when <paramref name="affine"/>; otherwise the scale is 1 and the shift 0), <c>name.running_mean</c>,
    /// <c>name.running_var</c> and <c>name.num_batches_tracked</c>. A new network starts as PyTorch's does: scale 1,
    /// shift 0, mean 0, variance 1.
    /// </summary>
    public static Layer CreateBatchNorm(string name, int channels, bool affine, double epsilon, IWeightSource source)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        int[] shape = [channels];
        float[] weight = affine ? source.GetTensor(name + ".weight", shape, initialValue: 1f) : [];
        float[] bias = affine ? source.GetTensor(name + ".bias", shape, initialValue: 0f) : [];
        var state = new BatchNormState(
            source.GetTensor(name + ".running_mean", shape, initialValue: 0f),
            source.GetTensor(name + ".running_var", shape, initialValue: 1f),
            (float)epsilon,
            source.GetInt64Scalar(name + ".num_batches_tracked"));
        var layer = new Layer(name, AlignedFloats.CopyOf(weight), AlignedFloats.Empty, AlignedFloats.CopyOf(bias), affine ? shape : [], state);
        layer.UpdateBatchNormTerms();
        return layer;
    }

    /// <summary>
    /// A Dense or Conv layer with the BatchNorm right after it folded in (eval mode): weight·scale per output channel and
    /// bias·scale + shift, so that one kernel computes both layers. Named as <paramref name="affine"/>; used by the
    /// generated inference and attribution passes, never trained.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public static Layer FoldBatchNorm(Layer affine, Layer batchNorm)
    {
        ArgumentNullException.ThrowIfNull(affine);
        ArgumentNullException.ThrowIfNull(batchNorm);
        if (batchNorm._batchNorm is null || affine.Outputs != batchNorm.Scale.Length)
        {
            throw new ArgumentException($"Layer '{batchNorm.Name}' is not a BatchNorm over the {affine.Outputs} outputs of '{affine.Name}'.", nameof(batchNorm));
        }

        var folded = new Layer(affine.Name, AlignedFloats.Allocate(affine._weight.Length), AlignedFloats.Allocate(affine._weight.Length), AlignedFloats.Allocate(affine.Outputs), (int[])affine._weightShape.Clone());
        folded.Refold(affine, batchNorm);
        return folded;
    }

    /// <summary>Recomputes BatchNorm's scale and shift from its parameters and running statistics (after loading or training).</summary>
    internal void UpdateBatchNormTerms()
    {
        var state = _batchNorm!;
        Kernels.BatchNormKernels.ScaleShift(_weight, _bias, state.RunningMean, state.RunningVariance, state.Epsilon, state.Scale, state.Shift);
    }

    /// <summary>
    /// Training (generated code): updates a BatchNorm's running statistics with a batch's mean and biased variance as
    /// PyTorch's train mode does (<see cref="Kernels.BatchNormKernels.UpdateRunningStatistics"/>), counts the batch in
    /// <see cref="BatchesTracked"/> and recomputes the inference terms.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public void TrackBatch(ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, long count, float momentum)
    {
        var state = _batchNorm ?? throw new InvalidOperationException($"Layer '{Name}' is not a BatchNorm layer.");
        Kernels.BatchNormKernels.UpdateRunningStatistics(mean, variance, count, momentum, state.RunningMean, state.RunningVariance);
        state.BatchesTracked++;
        UpdateBatchNormTerms();
    }

    /// <summary>BatchNorm's ε, as declared (float, as PyTorch's kernels use it).</summary>
    public float Epsilon => _batchNorm?.Epsilon ?? 0f;

    /// <summary>
    /// Training (generated code): recomputes this folded layer (<see cref="FoldBatchNorm"/>) from the current parameters
    /// and statistics of the two layers it folds, after a step changed them.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public void Refold(Layer affine, Layer batchNorm)
    {
        ArgumentNullException.ThrowIfNull(affine);
        ArgumentNullException.ThrowIfNull(batchNorm);
        if (affine._weight.Length != _weight.Length || batchNorm.Scale.Length != _bias.Length)
        {
            throw new ArgumentException($"Layer '{Name}' is not the fold of '{affine.Name}' and '{batchNorm.Name}'.", nameof(affine));
        }

        affine._weight.Span.CopyTo(_weight.Span);
        if (affine._bias.Length == 0)
        {
            _bias.Span.Clear();
        }
        else
        {
            affine._bias.Span.CopyTo(_bias.Span);
        }

        Kernels.BatchNormKernels.Fold(batchNorm.Scale, batchNorm.Shift, _weight, _bias);
        SynchroniseWeight(fromTransposed: false);
    }

    private sealed class BatchNormState(float[] runningMean, float[] runningVariance, float epsilon, long batchesTracked)
    {
        public float[] RunningMean { get; } = runningMean;

        public float[] RunningVariance { get; } = runningVariance;

        public float Epsilon { get; } = epsilon;

        public long BatchesTracked { get; set; } = batchesTracked;

        public float[] Scale { get; } = new float[runningMean.Length];

        public float[] Shift { get; } = new float[runningMean.Length];
    }

    /// <summary>
    /// The weight in the Winograd domain (<see cref="Kernels.WinogradTransform.TransformWeight"/>) for
    /// <see cref="Kernels.WinogradConv"/>, and the largest magnitude in it. Built on the first call that runs Winograd's
    /// algorithm (so a layer that never does, such as one with stride 2, never holds it: it costs 64/25 (5×5) or 4 (3×3)
    /// times the weight's memory) and rebuilt on the first such call after a training update; calls in between only
    /// transform their inputs and outputs. Safe to call from several threads at once.
    /// </summary>
    internal ReadOnlySpan<float> WinogradWeight(out float largest)
    {
        var state = Volatile.Read(ref _winograd);
        if (state is null || state.Stale)
        {
            state = PrepareWinograd(backward: false);
        }

        largest = state.Largest;
        return state.Weight;
    }

    /// <summary>
    /// The same for the input gradient of a stride-1 convolution, a forward convolution of the output gradient with the
    /// weight flipped in space and its channel axes swapped (<see cref="Kernels.ConvGeometry.BackwardInputAsForward"/>):
    /// built on the first backward call that runs Winograd's algorithm, rebuilt after a training update.
    /// </summary>
    internal ReadOnlySpan<float> WinogradBackwardWeight(out float largest)
    {
        var state = Volatile.Read(ref _winogradBackward);
        if (state is null || state.Stale)
        {
            state = PrepareWinograd(backward: true);
        }

        largest = state.Largest;
        return state.Weight;
    }

    /// <summary>Whether a Winograd weight has been built (tests: layers that never run Winograd's algorithm hold none).</summary>
    internal bool HasWinogradWeight => Volatile.Read(ref _winograd) is not null;

    /// <summary>Whether the input gradient's Winograd weight has been built.</summary>
    internal bool HasWinogradBackwardWeight => Volatile.Read(ref _winogradBackward) is not null;

    private WinogradState PrepareWinograd(bool backward)
    {
        lock (_winogradLock)
        {
            // The input gradient's convolution maps the output channels to the input channels.
            int outputs = backward ? _weightShape[1] : _weightShape[0], inputs = backward ? _weightShape[0] : _weightShape[1], taps = _weightShape[2];
            var state = backward ? _winogradBackward : _winograd;
            if (state is null)
            {
                var transform = Kernels.WinogradTransform.ForKernel(taps)
                    ?? throw new InvalidOperationException($"Layer '{Name}' has no Winograd form: its kernel is {taps}×{_weightShape[3]}.");
                state = new WinogradState(
                    AlignedFloats.Allocate(checked((int)Kernels.WinogradConv.WeightLength(outputs, inputs, taps))),
                    AlignedFloats.Allocate(transform.Size * taps * outputs),
                    backward ? AlignedFloats.Allocate(_weight.Length) : null) { Stale = true };
            }

            if (state.Stale)
            {
                ReadOnlySpan<float> matrix = _weightTransposed.Span;
                if (state.Flipped is { } flipped)
                {
                    FlipWeight(flipped.Span);
                    matrix = flipped.Span;
                }

                state.Largest = Kernels.WinogradTransform.ForKernel(taps)!.TransformWeight(
                    matrix, outputs, inputs, Kernels.WinogradConv.PaddedOutChannels(outputs), state.Weight, state.Half);
                state.Stale = false;
            }

            if (backward)
            {
                Volatile.Write(ref _winogradBackward, state);
            }
            else
            {
                Volatile.Write(ref _winograd, state);
            }

            return state;
        }
    }

    /// <summary>
    /// The weight flipped in space with its channel axes swapped, in the transposed layout of the input gradient's
    /// forward convolution (<see cref="Kernels.ConvGeometry.BackwardInputAsForward"/>): [(o, kh, kw), i]. For the
    /// implicit GEMM where Winograd's algorithm does not apply to the input gradient (dilated layers, long 1-D kernels);
    /// built on the first such call, rebuilt after a training update. Safe to call from several threads at once.
    /// </summary>
    internal ReadOnlySpan<float> FlippedWeightTransposed()
    {
        var state = Volatile.Read(ref _flipped);
        if (state is null || state.Stale)
        {
            lock (_winogradLock)
            {
                state = _flipped ?? new FlippedState(AlignedFloats.Allocate(_weight.Length));
                if (state.Stale)
                {
                    FlipWeight(state.Weight.Span);
                    state.Stale = false;
                }

                Volatile.Write(ref _flipped, state);
            }
        }

        return state.Weight.Span;
    }

    /// <summary>Whether the flipped weight has been built.</summary>
    internal bool HasFlippedWeight => Volatile.Read(ref _flipped) is not null;

    // The input gradient's weight as TransformWeight and the implicit GEMM read a weight, [outputs·kh·kw, inputs] of its
    // convolution: element [(o·kh + a)·kw + b, i] is this weight's [o, i, kh − 1 − a, kw − 1 − b]. Into a buffer kept
    // with the state, so that a training step's rebuild allocates nothing.
    private void FlipWeight(Span<float> flipped)
    {
        // Conv1d weights are [out, in, k], Conv2d's [out, in, kh, kw].
        int outputs = _weightShape[0], inputs = _weightShape[1];
        int kh = _weightShape.Length == 4 ? _weightShape[2] : 1, kw = _weightShape[^1];
        ReadOnlySpan<float> weight = _weight.Span;
        for (int o = 0; o < outputs; o++)
        {
            for (int i = 0; i < inputs; i++)
            {
                for (int a = 0; a < kh; a++)
                {
                    for (int b = 0; b < kw; b++)
                    {
                        flipped[((o * kh + a) * kw + b) * inputs + i] = weight[((o * inputs + i) * kh + (kh - 1 - a)) * kw + (kw - 1 - b)];
                    }
                }
            }
        }
    }

    private sealed class FlippedState(AlignedFloats weight)
    {
        public AlignedFloats Weight { get; } = weight;

        public volatile bool Stale = true;
    }

    private sealed class WinogradState(AlignedFloats weight, AlignedFloats half, AlignedFloats? flipped)
    {
        public AlignedFloats Weight { get; } = weight;

        public AlignedFloats Half { get; } = half;

        // The input gradient's state only: the flipped weight its transform reads.
        public AlignedFloats? Flipped { get; } = flipped;

        public float Largest { get; set; }

        public volatile bool Stale;
    }

    // Training (NigGen.Training.Trainer, in this assembly) updates the parameters in place through these; nothing
    // outside the runtime can change a layer.
    internal Span<float> MutableWeight => _weight.Span;

    internal Span<float> MutableWeightTransposed => _weightTransposed.Span;

    internal Span<float> MutableBias => _bias.Span;

    /// <summary>Rows of the weight viewed as a matrix: the output features or channels.</summary>
    internal int Outputs => _weightShape.Length == 0 ? 0 : _weightShape[0];

    /// <summary>Columns of the weight viewed as a matrix: inputs per output (in·k…).</summary>
    internal int FanIn => Outputs == 0 ? 0 : _weight.Length / Outputs;

    /// <summary>After an update of one layout of the weight, rewrites the other, so that every kernel reads the same parameters.</summary>
    internal void SynchroniseWeight(bool fromTransposed)
    {
        if (IsBatchNorm)
        {
            // A BatchNorm's γ and β have one layout; its inference terms follow them.
            UpdateBatchNormTerms();
            return;
        }

        if (fromTransposed)
        {
            Kernels.Transposition.Transpose(_weightTransposed, _weight, FanIn, Outputs);
        }
        else
        {
            Kernels.Transposition.Transpose(_weight, _weightTransposed, Outputs, FanIn);
        }

        // The next call that runs Winograd's algorithm rebuilds its weight from the new one.
        if (Volatile.Read(ref _winograd) is { } winograd)
        {
            winograd.Stale = true;
        }

        if (Volatile.Read(ref _winogradBackward) is { } winogradBackward)
        {
            winogradBackward.Stale = true;
        }

        if (Volatile.Read(ref _flipped) is { } flipped)
        {
            flipped.Stale = true;
        }
    }

    private static AlignedFloats Transpose(float[] matrix, int rows, int columns)
    {
        var transposed = AlignedFloats.Allocate(matrix.Length);
        Span<float> to = transposed.Span;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                to[c * rows + r] = matrix[r * columns + c];
            }
        }

        return transposed;
    }
}
