using System;
using System.Collections.Generic;
using ILGPU;
using ILGPU.Runtime;

namespace NigGen.Gpu.Device;

/// <summary>
/// A network on one accelerator: every layer's weights (uploaded once) and buffers for <see cref="Rows"/> rows in
/// flight, and the forward and split backward passes over them. Rows are samples for Forward and interpolation points
/// for the path methods. The layout mirrors the generated CPU code: a layer without activation shares one buffer for
/// its pre-activation and output, a Flatten owns none, and backward positions number 2·layer (pre-activation),
/// 2·layer + 1 (output), −1 (the input).
/// </summary>
internal sealed class DevicePlan : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly DeviceKernels _kernels;
    private readonly GpuLayer[] _layers;
    private readonly LayerBuffers[] _buffers;
    private readonly List<IDisposable> _owned = new();
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _unused;
    private readonly int _groupSize;
    private ArrayView<float> _input;

    public DevicePlan(Accelerator accelerator, GpuLayer[] layers, int inputLength, int rows, int groupSize, Func<int, bool> scoresPreActivation, Func<int, bool> isScored)
    {
        _accelerator = accelerator;
        _kernels = DeviceKernels.For(accelerator);
        _layers = layers;
        _groupSize = groupSize;
        Rows = rows;
        InputLength = inputLength;
        _unused = Allocate<float>(1);
        Inputs = Allocate<float>((long)rows * inputLength);
        InputGradients = Allocate<float>((long)rows * inputLength);
        _buffers = new LayerBuffers[layers.Length];
        for (int i = 0; i < layers.Length; i++)
        {
            _buffers[i] = CreateBuffers(layers[i], rows, scoresPreActivation(i));
        }

        AffineLayer = FindAffineLayer(layers, isScored);
    }

    /// <summary>Rows one pass holds.</summary>
    public int Rows { get; }

    public int InputLength { get; }

    public int OutputLength => _layers[^1].OutputLength;

    /// <summary>Input rows of a pass (interpolated inputs, or a Forward call's samples).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Inputs { get; }

    /// <summary>Gradients with respect to the input rows after a backward pass down to position −1.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> InputGradients { get; }

    /// <summary>
    /// The first Dense or Conv layer when only Flatten and AvgPool precede it, or −1: its pre-activation is affine in
    /// the input, hence in α along the path, and is interpolated instead of recomputed (the CPU path's shortcut).
    /// </summary>
    public int AffineLayer { get; }

    public int LayerCount => _layers.Length;

    public int OutputLengthOf(int index) => _layers[index].OutputLength;

    public Activation ActivationOf(int index) => _layers[index].Activation;

    /// <summary>
    /// Whether the affine layer's interpolation can be fused with the pooling right above it: a backward pass down to
    /// <paramref name="backwardTo"/> then never reads the affine layer's values nor the pooling's argmax.
    /// </summary>
    public bool CanFusePoolAboveAffineLayer(int backwardTo, out PoolShape shape, out bool max)
    {
        int pool = AffineLayer + 1;
        bool fusable = AffineLayer >= 0 && pool < _layers.Length
            && _layers[pool].Kind is GpuLayerKind.MaxPool or GpuLayerKind.AvgPool
            && backwardTo >= 2 * pool;
        shape = fusable ? _buffers[pool].Pool : default;
        max = fusable && _layers[pool].Kind == GpuLayerKind.MaxPool;
        return fusable;
    }

    public int OutputPosition => 2 * _layers.Length - 1;

    /// <summary>Device bytes one row of the buffers takes: what sizes <see cref="Rows"/>.</summary>
    public static long BytesPerRow(GpuLayer[] layers, int inputLength)
    {
        long floats = 2L * inputLength;
        foreach (var layer in layers)
        {
            if (layer.Kind == GpuLayerKind.Flatten)
            {
                continue;
            }

            floats += 2L * layer.OutputLength * (layer.HasActivation ? 2 : 1);
            if (layer.Kind == GpuLayerKind.MaxPool)
            {
                floats += layer.OutputLength; // the argmax, an int per output
            }
        }

        return 4 * floats;
    }

    /// <summary>
    /// Runs layers <paramref name="firstLayer"/>… on <paramref name="rows"/> rows read from <paramref name="input"/>
    /// (the network input; unused when the first layer's input is already in place). What a backward pass down to
    /// <paramref name="backwardTo"/> will need (pre-activations, argmaxes) is kept; the rest is not written.
    /// </summary>
    public void Forward(int rows, ArrayView<float> input, int firstLayer, int backwardTo, bool keepAffinePreActivation = false)
    {
        _input = input;
        for (int i = firstLayer; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            var source = Values(i - 1, rows);
            bool keepPre = layer.HasActivation && (backwardTo < 2 * i + 1 || _buffers[i].ScoresPreActivation || (keepAffinePreActivation && i == AffineLayer));
            switch (layer.Kind)
            {
                case GpuLayerKind.Dense:
                {
                    var buffers = _buffers[i];
                    var shape = DeviceKernels.Plan(layer.OutputLength, rows, layer.InputLength, _groupSize);
                    _kernels.Gemm(
                        new MatrixA { Data = buffers.Weight!.View, Stride = layer.InputLength },
                        new MatrixB { Data = source, Stride = layer.InputLength },
                        Output(i, rows, keepPre, biasOnM: true, positions: layer.OutputLength, rowLength: 0, columnStride: layer.OutputLength),
                        shape);
                    break;
                }

                case GpuLayerKind.Conv:
                {
                    var buffers = _buffers[i];
                    var g = buffers.Conv;
                    var shape = DeviceKernels.Plan(rows * g.OutPlane, g.OutChannels, g.InChannels * g.KernelArea, _groupSize);
                    _kernels.Gemm(
                        new ConvPatchesA { Input = source, Shape = g },
                        new MatrixB { Data = buffers.Weight!.View, Stride = g.InChannels * g.KernelArea },
                        Output(i, rows, keepPre, biasOnM: false, positions: g.OutPlane, rowLength: g.OutLength, columnStride: g.OutPlane),
                        shape);
                    break;
                }

                case GpuLayerKind.MaxPool:
                {
                    bool keepArgmax = backwardTo < 2 * i;
                    _kernels.MaxPoolForward(rows * layer.OutputLength, source, Values(i, rows), _buffers[i].Argmax!.View, _buffers[i].Pool, keepArgmax);
                    break;
                }

                case GpuLayerKind.AvgPool:
                    _kernels.AvgPoolForward(rows * layer.OutputLength, source, Values(i, rows), _buffers[i].Pool);
                    break;

                case GpuLayerKind.Flatten:
                    break; // the same memory
            }
        }
    }

    /// <summary>Propagates gradients from position <paramref name="from"/> down to <paramref name="to"/> only (−1: the input).</summary>
    public void Backward(int rows, int from, int to)
    {
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            var layer = _layers[i];
            if (layer.Kind == GpuLayerKind.Flatten)
            {
                continue;
            }

            int outputPosition = 2 * i + 1, prePosition = 2 * i;
            if (layer.HasActivation && from >= outputPosition && to < outputPosition)
            {
                _kernels.ActivationBackward(rows * layer.OutputLength, PreActivations(i, rows), Values(i, rows), Gradients(i, rows), PreActivationGradients(i, rows), layer.Activation);
            }

            if (from < prePosition || to >= prePosition)
            {
                continue;
            }

            var gradient = PreActivationGradients(i, rows);
            var below = Gradients(i - 1, rows);
            var buffers = _buffers[i];
            switch (layer.Kind)
            {
                case GpuLayerKind.Dense:
                    _kernels.Gemm(
                        new MatrixA { Data = buffers.WeightTransposed!.View, Stride = layer.OutputLength },
                        new MatrixB { Data = gradient, Stride = layer.OutputLength },
                        Plain(below, positions: layer.InputLength, rowLength: 0, columnStride: layer.InputLength),
                        DeviceKernels.Plan(layer.InputLength, rows, layer.OutputLength, _groupSize));
                    break;

                case GpuLayerKind.Conv:
                {
                    var g = buffers.Conv;
                    _kernels.Gemm(
                        new ConvGradientPatchesA { OutputGradient = gradient, Shape = g },
                        new MatrixB { Data = buffers.WeightTransposed!.View, Stride = g.OutChannels * g.KernelArea },
                        Plain(below, positions: g.InPlane, rowLength: g.InLength, columnStride: g.InPlane),
                        DeviceKernels.Plan(rows * g.InPlane, g.InChannels, g.OutChannels * g.KernelArea, _groupSize));
                    break;
                }

                case GpuLayerKind.MaxPool:
                    _kernels.MaxPoolBackward(rows * layer.InputLength, gradient, buffers.Argmax!.View, below, buffers.Pool);
                    break;

                case GpuLayerKind.AvgPool:
                    _kernels.AvgPoolBackward(rows * layer.InputLength, gradient, below, buffers.Pool);
                    break;
            }
        }
    }

    /// <summary>The values at backward position <paramref name="position"/> (a pre-activation or an output).</summary>
    public ArrayView<float> ValuesAt(int position, int rows) =>
        position % 2 == 0 ? PreActivations(position / 2, rows) : Values(position / 2, rows);

    /// <summary>The gradients at backward position <paramref name="position"/>.</summary>
    public ArrayView<float> GradientsAt(int position, int rows) =>
        position % 2 == 0 ? PreActivationGradients(position / 2, rows) : Gradients(position / 2, rows);

    /// <summary>Layer <paramref name="index"/>'s output rows; index −1 is the current input.</summary>
    public ArrayView<float> Values(int index, int rows)
    {
        if (index < 0)
        {
            return _input.SubView(0, (long)rows * InputLength);
        }

        var buffers = _buffers[index];
        return buffers.Post is null ? Values(index - 1, rows) : buffers.Post.View.SubView(0, (long)rows * _layers[index].OutputLength);
    }

    public ArrayView<float> PreActivations(int index, int rows) =>
        _buffers[index].Pre is { } pre ? pre.View.SubView(0, (long)rows * _layers[index].OutputLength) : Values(index, rows);

    public ArrayView<float> Gradients(int index, int rows)
    {
        if (index < 0)
        {
            return InputGradients.View.SubView(0, (long)rows * InputLength);
        }

        var buffers = _buffers[index];
        return buffers.PostGradient is null ? Gradients(index - 1, rows) : buffers.PostGradient.View.SubView(0, (long)rows * _layers[index].OutputLength);
    }

    public ArrayView<float> PreActivationGradients(int index, int rows) =>
        _buffers[index].PreGradient is { } pre ? pre.View.SubView(0, (long)rows * _layers[index].OutputLength) : Gradients(index, rows);

    public MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length)
        where T : unmanaged
    {
        var buffer = _accelerator.Allocate1D<T>(Math.Max(1, length));
        _owned.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        foreach (var buffer in _owned)
        {
            buffer.Dispose();
        }

        _owned.Clear();
    }

    private GemmOutput Output(int index, int rows, bool keepPre, bool biasOnM, int positions, int rowLength, int columnStride)
    {
        var layer = _layers[index];
        var buffers = _buffers[index];
        return new GemmOutput
        {
            Pre = keepPre ? PreActivations(index, rows) : _unused.View,
            Post = Values(index, rows),
            Bias = buffers.Bias?.View ?? _unused.View,
            HasBias = buffers.Bias is null ? 0 : 1,
            BiasOnM = biasOnM ? 1 : 0,
            Activation = (int)layer.Activation,
            KeepPre = keepPre ? 1 : 0,
            Positions = positions,
            RowLength = rowLength,
            ColumnStride = columnStride,
        };
    }

    private GemmOutput Plain(ArrayView<float> target, int positions, int rowLength, int columnStride) => new()
    {
        Pre = _unused.View,
        Post = target,
        Bias = _unused.View,
        Activation = ActivationMath.None,
        Positions = positions,
        RowLength = rowLength,
        ColumnStride = columnStride,
    };

    private LayerBuffers CreateBuffers(GpuLayer layer, int rows, bool scoresPreActivation)
    {
        var buffers = new LayerBuffers { ScoresPreActivation = scoresPreActivation };
        if (layer.Kind == GpuLayerKind.Flatten)
        {
            return buffers;
        }

        long length = (long)rows * layer.OutputLength;
        buffers.Post = Allocate<float>(length);
        buffers.PostGradient = Allocate<float>(length);
        if (layer.HasActivation)
        {
            buffers.Pre = Allocate<float>(length);
            buffers.PreGradient = Allocate<float>(length);
        }

        switch (layer.Kind)
        {
            case GpuLayerKind.Dense:
                // Forward reads W [out, in] as A (rows of the output); backward reads Wᵀ [in, out].
                buffers.Weight = Upload(layer.Layer.Weight);
                buffers.WeightTransposed = Upload(layer.Layer.WeightTransposed);
                break;
            case GpuLayerKind.Conv:
                buffers.Conv = ConvShape.From(layer.ConvGeometry);
                buffers.Weight = Upload(layer.Layer.Weight);
                buffers.WeightTransposed = Upload(RegroupByInputChannel(layer.Layer.Weight, buffers.Conv));
                break;
            case GpuLayerKind.MaxPool:
                buffers.Pool = PoolShape.From(layer.PoolGeometry);
                buffers.Argmax = Allocate<int>(length);
                break;
            case GpuLayerKind.AvgPool:
                buffers.Pool = PoolShape.From(layer.PoolGeometry);
                break;
        }

        if (!layer.Layer.Bias.IsEmpty)
        {
            buffers.Bias = Upload(layer.Layer.Bias);
        }

        return buffers;
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Upload(ReadOnlySpan<float> values)
    {
        var buffer = Allocate<float>(values.Length);
        buffer.View.SubView(0, values.Length).CopyFromCPU(_accelerator.DefaultStream, values);
        return buffer;
    }

    // W [out, in, kh, kw] → [in, out, kh, kw]: the input gradient's GEMM reads it by input channel, k-contiguous.
    private static float[] RegroupByInputChannel(ReadOnlySpan<float> weight, in ConvShape g)
    {
        var regrouped = new float[weight.Length];
        int area = g.KernelArea;
        for (int o = 0; o < g.OutChannels; o++)
        {
            for (int c = 0; c < g.InChannels; c++)
            {
                weight.Slice((o * g.InChannels + c) * area, area).CopyTo(regrouped.AsSpan((c * g.OutChannels + o) * area, area));
            }
        }

        return regrouped;
    }

    // The first Dense or Conv layer with only linear layers below it, none of them scored (as the generator's
    // AffinePrefixLayer): the path interpolates its pre-activation instead of running the layers below, so a scored
    // layer there would never get its values along the path.
    private static int FindAffineLayer(GpuLayer[] layers, Func<int, bool> isScored)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            switch (layers[i].Kind)
            {
                case GpuLayerKind.Dense or GpuLayerKind.Conv:
                    return i;
                case GpuLayerKind.Flatten or GpuLayerKind.AvgPool when !isScored(i):
                    continue;
                default:
                    return -1;
            }
        }

        return -1;
    }

    private sealed class LayerBuffers
    {
        public bool ScoresPreActivation;
        public MemoryBuffer1D<float, Stride1D.Dense>? Pre;
        public MemoryBuffer1D<float, Stride1D.Dense>? Post;
        public MemoryBuffer1D<float, Stride1D.Dense>? PreGradient;
        public MemoryBuffer1D<float, Stride1D.Dense>? PostGradient;
        public MemoryBuffer1D<int, Stride1D.Dense>? Argmax;
        public MemoryBuffer1D<float, Stride1D.Dense>? Weight;
        public MemoryBuffer1D<float, Stride1D.Dense>? WeightTransposed;
        public MemoryBuffer1D<float, Stride1D.Dense>? Bias;
        public ConvShape Conv;
        public PoolShape Pool;
    }
}
