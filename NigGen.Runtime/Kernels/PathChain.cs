using System;
using System.ComponentModel;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// The first Dense or Conv layer above the affine prefix, computed along the path by updating its output from one
/// point to the next instead of recomputing it (Neuron Integrated Gradients only; generated code calls it).
/// </summary>
/// <remarks>
/// <para>
/// Below this layer everything is affine in α up to a ReLU (or no activation) and possibly a max pooling, so each of
/// its inputs is, at any point, either zero or the line A[s] + α·B[s] of one element s of the affine layer's
/// pre-activation (A its value at the baseline, B its difference): the element itself, or the one its pooling window
/// picks. An input changes line only where a ReLU switches or a window's winner changes, which on the benchmark
/// networks happens less than once per input over a 50-step path. With c and d the lines' coefficients, the layer's
/// pre-activation is P + α·Q + bias, where P = W·c and Q = W·d; from one point to the next only the columns of W of the
/// inputs that changed line are added into P and Q. On Basset's second convolution (300 → 200 channels, 11 taps) that
/// is about a thirtieth of the multiply-adds of recomputing the layer at each point.
/// </para>
/// <para>
/// Each point checks every input against its line, fl(B·α + A) against the value the layers below computed (the same
/// float operations as the interpolation kernels), and looks for the new line only where they differ. An input on no
/// line it can find (which float rounding never produces for a ReLU and a max pooling, but costs nothing to allow)
/// takes the constant line of its own value. The results therefore equal the layer applied to its inputs up to float
/// rounding in the order of the sums, as the affine prefix's interpolation does.
/// </para>
/// <para>
/// A chain starts (its anchor: P and Q computed in full) at the first point of each reduction block of the path and
/// runs through the block's points in order, across chunks. A point's numbers then depend on its block's points only,
/// never on the chunk size or the number of threads. A point whose inputs are not finite, or endpoints that are not,
/// are computed directly and the next point starts a new chain. Convolutions that Winograd's kernel takes are not
/// chained: its transforms already cut their multiply-adds by four or more, and the chain's scattered column updates
/// do not beat it (<see cref="Runs"/>).
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PathChain
{
    private readonly float[] _atBaseline;
    private readonly float[] _difference;
    private readonly PoolGeometry _pool;
    private readonly bool _pooled;
    private readonly int _inputLength;
    private readonly int _outputLength;
    private readonly ConvGeometry? _convolution;

    // Per input: the line c + α·d it follows. Per output (channels last for a convolution): P = W·c and Q = W·d.
    private readonly float[] _c;
    private readonly float[] _d;
    private readonly float[] _p;
    private readonly float[] _q;

    // The anchor's inputs and outputs (two rows: c, then d), a point's output channels last, and for a pooled input
    // the affine layer's pre-activation at the anchor with its pooling's maxima and argmax.
    private readonly float[] _anchorInputs;
    private readonly float[] _anchorOutputs;
    private readonly float[] _channelsLast;
    private readonly float[] _sourceValues;
    private readonly float[] _pooledValues;
    private readonly int[] _argmax;

    private double[] _alphas = new double[Attribution.PathAttribution.ReductionBlock + 1];
    private int _points;
    private bool _enabled;
    private bool _entered;
    private bool _anchored;
    private int _endpointsFinite; // 0 unknown, 1 yes, −1 no: checked once per call

    /// <param name="atBaseline">The affine layer's pre-activation at the baseline (the workspace's array, filled later).</param>
    /// <param name="difference">Its difference between input and baseline (likewise).</param>
    /// <param name="pool">The max pooling between the affine layer's activation and the chained layer, or null.</param>
    /// <param name="inputLength">The chained layer's inputs per sample.</param>
    /// <param name="outputLength">Its outputs per sample.</param>
    /// <param name="convolution">The chained convolution's geometry; null for a Dense layer.</param>
    public PathChain(float[] atBaseline, float[] difference, PoolGeometry? pool, int inputLength, int outputLength, ConvGeometry? convolution = null)
    {
        ArgumentNullException.ThrowIfNull(atBaseline);
        ArgumentNullException.ThrowIfNull(difference);
        KernelArguments.NotNegative(inputLength, nameof(inputLength));
        KernelArguments.NotNegative(outputLength, nameof(outputLength));
        if (difference.Length != atBaseline.Length)
        {
            throw new ArgumentException($"PathChain needs endpoints of equal length; got {atBaseline.Length} and {difference.Length}.", nameof(difference));
        }

        int expected = pool is { } p ? p.OutputLength : atBaseline.Length;
        if (pool is { } g && g.InputLength != atBaseline.Length || inputLength != expected)
        {
            throw new ArgumentException($"PathChain's input of {inputLength} does not follow from an affine layer of {atBaseline.Length} {(pool is null ? "without pooling" : $"through the pooling {pool}")}.", nameof(inputLength));
        }

        if (convolution is { } c && (c.InputLength != inputLength || c.OutputLength != outputLength))
        {
            throw new ArgumentException($"The convolution ({c}) takes {c.InputLength} inputs to {c.OutputLength} outputs, not {inputLength} to {outputLength}.", nameof(convolution));
        }

        _atBaseline = atBaseline;
        _difference = difference;
        _convolution = convolution;
        Runs = convolution is not { } conv || !WinogradConv.Supports(conv);
        _pooled = pool is not null;
        _pool = pool ?? default;
        _inputLength = inputLength;
        _outputLength = outputLength;
        if (!Runs)
        {
            (_c, _d, _p, _q, _anchorInputs, _anchorOutputs, _channelsLast, _sourceValues, _pooledValues, _argmax) = ([], [], [], [], [], [], [], [], [], []);
            return;
        }

        _c = new float[inputLength];
        _d = new float[inputLength];
        _p = new float[outputLength];
        _q = new float[outputLength];
        _anchorInputs = new float[2 * inputLength];
        _anchorOutputs = new float[2 * outputLength];
        _channelsLast = new float[outputLength];
        _sourceValues = _pooled ? new float[atBaseline.Length] : [];
        _pooledValues = _pooled ? new float[inputLength] : [];
        _argmax = _pooled ? new int[inputLength] : [];
    }

    /// <summary>
    /// Whether the chain updates its layer at all: not for a convolution that Winograd's kernel takes, whose transforms
    /// already cut its multiply-adds by four or more; the chain's scattered column updates do not beat them.
    /// </summary>
    internal bool Runs { get; }

    /// <summary>Whether the current forward pass runs along the path with the chain on (between Enter and Leave).</summary>
    public bool IsActive => _entered;

    /// <summary>Chains started (P and Q computed in full); for tests.</summary>
    internal long Anchors { get; private set; }

    /// <summary>Columns added into P and Q, one per input that changed line; for tests.</summary>
    internal long ColumnUpdates { get; private set; }

    /// <summary>Points computed directly because a value was not finite; for tests.</summary>
    internal long DirectPoints { get; private set; }

    /// <summary>Chains run from here on (Neuron Integrated Gradients, at the start of each reduction block): the next point anchors.</summary>
    internal void Start()
    {
        _enabled = Runs;
        _anchored = false;
    }

    /// <summary>No chain from here on; the endpoints will be checked again (a new call captures new ones).</summary>
    internal void Stop()
    {
        _enabled = false;
        _entered = false;
        _anchored = false;
        _endpointsFinite = 0;
    }

    /// <summary>The forward pass at <paramref name="alphas"/> begins: when chains run, the chained layer takes these points.</summary>
    public void Enter(ReadOnlySpan<double> alphas)
    {
        if (!_enabled)
        {
            return;
        }

        if (_alphas.Length < alphas.Length)
        {
            _alphas = new double[alphas.Length];
        }

        alphas.CopyTo(_alphas);
        _points = alphas.Length;
        _entered = true;
    }

    /// <summary>The forward pass along the path has ended.</summary>
    public void Leave() => _entered = false;

    /// <summary>
    /// A Dense layer's pre-activation at the entered points: output[p] = W·input[p] + bias up to float rounding.
    /// Always runs (returns true): a dense layer's column is contiguous and its recomputation a full matrix product.
    /// </summary>
    /// <param name="layer">The Dense layer (or the Dense layer folded with its BatchNorm).</param>
    /// <param name="input">Its input at the points [batch, inputLength]: the values the layers below computed.</param>
    /// <param name="output">Its pre-activation [batch, outputLength]; overwritten.</param>
    /// <param name="batch">The number of entered points.</param>
    public bool Dense(Layer layer, ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (_convolution is { } made)
        {
            throw new ArgumentException($"The chain was made for the convolution ({made}), not a Dense layer.", nameof(layer));
        }

        var shape = layer.WeightShape;
        if (shape.Count != 2 || shape[0] != _outputLength || shape[1] != _inputLength)
        {
            throw new ArgumentException($"Layer '{layer.Name}' has a weight of shape [{string.Join(", ", shape)}]; the chain expects a Dense weight [{_outputLength}, {_inputLength}].", nameof(layer));
        }

        Run(new Columns(layer, default, isConv: false), input, output, batch, scratch: default);
        return true;
    }

    /// <summary>
    /// A convolution's pre-activation at the entered points, as <see cref="Dense"/>; returns false, writing nothing,
    /// where the chain does not run (<see cref="Runs"/>: the caller then runs the convolution as usual).
    /// </summary>
    /// <param name="geometry">The convolution's geometry.</param>
    /// <param name="layer">The convolution (or the convolution folded with its BatchNorm).</param>
    /// <param name="input">Its input at the points [batch, InputLength].</param>
    /// <param name="output">Its pre-activation [batch, OutputLength]; overwritten.</param>
    /// <param name="batch">The number of entered points.</param>
    /// <param name="scratch">At least <see cref="ConvGeometry.ScratchLength"/> floats.</param>
    public bool Conv(in ConvGeometry geometry, Layer layer, ReadOnlySpan<float> input, Span<float> output, int batch, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ConvGeometry g = geometry;
        g.Validate(nameof(geometry));
        ConvKernels.RequireShape(g, layer);
        if (_convolution != g)
        {
            throw new ArgumentException($"The chain was made for {(_convolution is { } made ? $"the convolution ({made})" : "a Dense layer")}, not the convolution ({g}).", nameof(geometry));
        }

        if (!Runs)
        {
            return false;
        }

        Run(new Columns(layer, g, isConv: true), input, output, batch, scratch);
        return true;
    }

    private void Run(in Columns columns, ReadOnlySpan<float> input, Span<float> output, int batch, Span<float> scratch)
    {
        if (!_entered || batch != _points)
        {
            throw new InvalidOperationException($"PathChain runs inside a forward pass along the path of {batch} points; {(_entered ? $"{_points} were entered" : "none was entered")}.");
        }

        KernelArguments.AtLeast(input.Length, KernelArguments.Product(batch, _inputLength), nameof(input), "batch·inputLength");
        KernelArguments.AtLeast(output.Length, KernelArguments.Product(batch, _outputLength), nameof(output), "batch·outputLength");
        if (_endpointsFinite == 0)
        {
            _endpointsFinite = FiniteValues.AllFinite(_atBaseline) && FiniteValues.AllFinite(_difference) ? 1 : -1;
        }

        for (int point = 0; point < batch; point++)
        {
            float alpha = (float)_alphas[point];
            var values = input.Slice(point * _inputLength, _inputLength);
            var row = output.Slice(point * _outputLength, _outputLength);
            bool chained = _endpointsFinite > 0 && (_anchored ? Advance(columns, values, alpha) : Anchor(columns, values, alpha, scratch));
            if (!chained)
            {
                columns.Direct(values, row, scratch);
                DirectPoints++;
                _anchored = false;
                continue;
            }

            _anchored = true;
            columns.Write(_p, _q, alpha, row, _channelsLast);
        }
    }

    // A new chain at this point: every input's line, then P and Q by the layer's own kernel (without bias).
    private bool Anchor(in Columns columns, ReadOnlySpan<float> values, float alpha, Span<float> scratch)
    {
        if (!FiniteValues.AllFinite(values))
        {
            return false;
        }

        ReadOnlySpan<float> a = _atBaseline, b = _difference;
        if (_pooled)
        {
            // The winners by the pooling's own kernel on the same interpolation: its maxima are the values below.
            TensorPrimitives.MultiplyAdd(b, alpha, a, _sourceValues);
            PoolKernels.MaxForward(_pool, _sourceValues, _pooledValues, _argmax, 1);
        }

        for (int j = 0; j < values.Length; j++)
        {
            float v = values[j];
            int s = _pooled ? (_pooledValues[j] == v ? _argmax[j] : -1) : (b[j] * alpha + a[j] == v ? j : -1);
            (_c[j], _d[j]) = v == 0 ? (0f, 0f) : s >= 0 ? (a[s], b[s]) : (v, 0f);
        }

        _c.CopyTo(_anchorInputs, 0);
        _d.CopyTo(_anchorInputs, _inputLength);
        columns.Anchor(_anchorInputs, _anchorOutputs, _p, _q, scratch);
        Anchors++;
        return true;
    }

    // The next point of the chain: inputs whose line no longer gives their value take their new line, and the
    // difference of the two lines' coefficients times their column is added into P and Q.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe bool Advance(in Columns columns, ReadOnlySpan<float> values, float alpha)
    {
        int n = _inputLength;
        fixed (float* c = _c, d = _d, v = values)
        {
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var av = Vector512.Create(alpha);
                for (; j + 16 <= n; j += 16)
                {
                    // The same operations as the interpolation: a multiply, then an add, not fused.
                    var line = Vector512.Load(d + j) * av + Vector512.Load(c + j);
                    ulong changed = (~Vector512.Equals(line, Vector512.Load(v + j))).ExtractMostSignificantBits();
                    for (; changed != 0; changed &= changed - 1)
                    {
                        if (!Change(columns, j + BitOperations.TrailingZeroCount(changed), values, alpha))
                        {
                            return false;
                        }
                    }
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var av = Vector256.Create(alpha);
                for (; j + 8 <= n; j += 8)
                {
                    var line = Vector256.Load(d + j) * av + Vector256.Load(c + j);
                    uint changed = (~Vector256.Equals(line, Vector256.Load(v + j))).ExtractMostSignificantBits();
                    for (; changed != 0; changed &= changed - 1)
                    {
                        if (!Change(columns, j + BitOperations.TrailingZeroCount(changed), values, alpha))
                        {
                            return false;
                        }
                    }
                }
            }

            for (; j < n; j++)
            {
                if (d[j] * alpha + c[j] != v[j] && !Change(columns, j, values, alpha))
                {
                    return false;
                }
            }
        }

        return true;
    }

    // Input j's value is off its line: find the line that gives it (the element itself, or one of its window's), or
    // take the constant line of the value; add the change's column into P and Q.
    private bool Change(in Columns columns, int j, ReadOnlySpan<float> values, float alpha)
    {
        float v = values[j];
        if (!float.IsFinite(v))
        {
            return false;
        }

        float c = v, d = 0f;
        if (v == 0)
        {
            c = 0f;
        }
        else if (!_pooled)
        {
            if (_difference[j] * alpha + _atBaseline[j] == v)
            {
                (c, d) = (_atBaseline[j], _difference[j]);
            }
        }
        else
        {
            int s = WindowElementOnValue(j, v, alpha);
            if (s >= 0)
            {
                (c, d) = (_atBaseline[s], _difference[s]);
            }
        }

        float dc = c - _c[j], dd = d - _d[j];
        _c[j] = c;
        _d[j] = d;
        if (dc != 0 || dd != 0)
        {
            columns.Add(j, dc, dd, _p, _q);
            ColumnUpdates++;
        }

        return true;
    }

    // The first element of pooled output j's window (in the pooling kernel's order) whose line gives v at alpha, or −1.
    private int WindowElementOnValue(int j, float v, float alpha)
    {
        PoolGeometry g = _pool;
        int outPlane = g.OutHeight * g.OutWidth;
        int channel = j / outPlane, oy = j % outPlane / g.OutWidth, ox = j % g.OutWidth;
        int y0 = oy * g.StrideHeight - g.PaddingHeight, x0 = ox * g.StrideWidth - g.PaddingWidth;
        int y1 = Math.Min(y0 + g.SizeHeight, g.InHeight), x1 = Math.Min(x0 + g.SizeWidth, g.InWidth);
        int plane = channel * g.InHeight * g.InWidth;
        for (int y = Math.Max(y0, 0); y < y1; y++)
        {
            for (int x = Math.Max(x0, 0); x < x1; x++)
            {
                int s = plane + y * g.InWidth + x;
                if (_difference[s] * alpha + _atBaseline[s] == v)
                {
                    return s;
                }
            }
        }

        return -1;
    }

    // The chained layer's columns: where input j's weights sit, and how P, Q and the output are laid out.
    private readonly struct Columns(Layer layer, ConvGeometry geometry, bool isConv)
    {
        private readonly Layer _layer = layer;
        private readonly ConvGeometry _g = geometry;
        private readonly bool _isConv = isConv;

        // P and Q from the two anchor rows (c, then d), by the layer's kernel without its bias; channels last for a
        // convolution.
        public void Anchor(float[] inputs, float[] outputs, float[] p, float[] q, Span<float> scratch)
        {
            if (!_isConv)
            {
                int inFeatures = inputs.Length / 2, outFeatures = p.Length;
                DenseKernels.Forward(inputs, _layer.WeightTransposed, ReadOnlySpan<float>.Empty, outputs, 2, inFeatures, outFeatures);
                outputs.AsSpan(0, outFeatures).CopyTo(p);
                outputs.AsSpan(outFeatures, outFeatures).CopyTo(q);
                return;
            }

            ConvKernels.Forward(_g, inputs, _layer.Weight, _layer.WeightTransposed, ReadOnlySpan<float>.Empty, 0, ReadOnlySpan<float>.Empty, outputs, 2, scratch, ConvKernels.ForwardPath.Fastest);
            int pixels = _g.OutHeight * _g.OutWidth, channels = _g.OutChannels;
            ToChannelsLast(outputs.AsSpan(0, p.Length), p, channels, pixels);
            ToChannelsLast(outputs.AsSpan(p.Length, q.Length), q, channels, pixels);
        }

        // P += dc·column(j), Q += dd·column(j): a Dense layer's row of the transposed weight; for a convolution, each
        // tap of input j's channel that lands on an output, over the output channels of its group.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public unsafe void Add(int j, float dc, float dd, float[] p, float[] q)
        {
            fixed (float* w = _layer.WeightTransposed, pp = p, pq = q)
            {
                if (!_isConv)
                {
                    int outFeatures = p.Length;
                    AddScaled(w + (nint)j * outFeatures, dc, dd, pp, pq, outFeatures);
                    return;
                }

                ConvGeometry g = _g;
                int plane = g.InHeight * g.InWidth;
                int channel = j / plane, y = j % plane / g.InWidth, x = j % g.InWidth;
                int group = channel / g.InChannelsPerGroup, local = channel - group * g.InChannelsPerGroup;
                int groupOutputs = g.OutChannelsPerGroup, outChannels = g.OutChannels, outHeight = g.OutHeight, outWidth = g.OutWidth;
                nint firstOutput = (nint)group * groupOutputs;
                for (int kh = 0; kh < g.KernelHeight; kh++)
                {
                    // Output row oy reads input row oy·stride − padding + kh·dilation.
                    int ty = y + g.PaddingHeight - kh * g.DilationHeight;
                    if (ty < 0)
                    {
                        break;
                    }

                    int oy = g.StrideHeight == 1 ? ty : ty % g.StrideHeight == 0 ? ty / g.StrideHeight : -1;
                    if (oy < 0 || oy >= outHeight)
                    {
                        continue;
                    }

                    for (int kw = 0; kw < g.KernelWidth; kw++)
                    {
                        int tx = x + g.PaddingWidth - kw * g.DilationWidth;
                        if (tx < 0)
                        {
                            break;
                        }

                        int ox = g.StrideWidth == 1 ? tx : tx % g.StrideWidth == 0 ? tx / g.StrideWidth : -1;
                        if (ox < 0 || ox >= outWidth)
                        {
                            continue;
                        }

                        float* column = w + ((nint)(local * g.KernelHeight + kh) * g.KernelWidth + kw) * outChannels + firstOutput;
                        nint at = ((nint)oy * outWidth + ox) * outChannels + firstOutput;
                        AddScaled(column, dc, dd, pp + at, pq + at, groupOutputs);
                    }
                }
            }
        }

        // output = P + α·Q + bias, channel-major for a convolution (through channelsLast).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public unsafe void Write(float[] p, float[] q, float alpha, Span<float> output, float[] channelsLast)
        {
            ReadOnlySpan<float> bias = _layer.Bias;
            int channels = _isConv ? _g.OutChannels : p.Length;
            int pixels = p.Length / Math.Max(channels, 1);
            Span<float> rows = _isConv ? channelsLast : output;
            fixed (float* pp = p, pq = q, pb = bias, pr = rows)
            {
                for (int pixel = 0; pixel < pixels; pixel++)
                {
                    nint at = (nint)pixel * channels;
                    Combine(pp + at, pq + at, alpha, pb, pr + at, channels);
                }

                if (_isConv)
                {
                    fixed (float* po = output)
                    {
                        Transposition.TransposeStrided(pr, channels, po, pixels, pixels, channels);
                    }
                }
            }
        }

        // The point computed as usual, with the layer's own kernel.
        public void Direct(ReadOnlySpan<float> values, Span<float> output, Span<float> scratch)
        {
            if (_isConv)
            {
                ConvKernels.Forward(_g, values, _layer, output, 1, scratch);
            }
            else
            {
                DenseKernels.Forward(values, _layer.WeightTransposed, _layer.Bias, output, 1, values.Length, output.Length);
            }
        }

        private static unsafe void ToChannelsLast(ReadOnlySpan<float> channelMajor, Span<float> channelsLast, int channels, int pixels)
        {
            fixed (float* source = channelMajor, destination = channelsLast)
            {
                Transposition.TransposeStrided(source, pixels, destination, channels, channels, pixels);
            }
        }
    }

    // p += w·dc and q += w·dd over n elements, each a fused multiply-add, so every vector width gives the same bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddScaled(float* w, float dc, float dd, float* p, float* q, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vc = Vector512.Create(dc), vd = Vector512.Create(dd);
            for (; i + 16 <= n; i += 16)
            {
                var column = Vector512.Load(w + i);
                Vector512.FusedMultiplyAdd(column, vc, Vector512.Load(p + i)).Store(p + i);
                Vector512.FusedMultiplyAdd(column, vd, Vector512.Load(q + i)).Store(q + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vc = Vector256.Create(dc), vd = Vector256.Create(dd);
            for (; i + 8 <= n; i += 8)
            {
                var column = Vector256.Load(w + i);
                Vector256.FusedMultiplyAdd(column, vc, Vector256.Load(p + i)).Store(p + i);
                Vector256.FusedMultiplyAdd(column, vd, Vector256.Load(q + i)).Store(q + i);
            }
        }

        for (; i < n; i++)
        {
            p[i] = MathF.FusedMultiplyAdd(w[i], dc, p[i]);
            q[i] = MathF.FusedMultiplyAdd(w[i], dd, q[i]);
        }
    }

    // out = fma(q, α, p) + bias over n elements (bias may be null: no bias).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Combine(float* p, float* q, float alpha, float* bias, float* output, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var a = Vector512.Create(alpha);
            for (; i + 16 <= n; i += 16)
            {
                var z = Vector512.FusedMultiplyAdd(Vector512.Load(q + i), a, Vector512.Load(p + i));
                (bias == null ? z : z + Vector512.Load(bias + i)).Store(output + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create(alpha);
            for (; i + 8 <= n; i += 8)
            {
                var z = Vector256.FusedMultiplyAdd(Vector256.Load(q + i), a, Vector256.Load(p + i));
                (bias == null ? z : z + Vector256.Load(bias + i)).Store(output + i);
            }
        }

        for (; i < n; i++)
        {
            float z = MathF.FusedMultiplyAdd(q[i], alpha, p[i]);
            output[i] = bias == null ? z : z + bias[i];
        }
    }
}
