using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using ILGPU;
using ILGPU.Runtime;
using NigGen.Attribution;
using NigGen.Gpu.Device;

namespace NigGen.Gpu;

/// <summary>
/// A generated network on an ILGPU accelerator, returned by the network's <c>ToGpu(accelerator)</c>: Forward,
/// NeuronIntegratedGradients (single and batched) and IntegratedGradients with the CPU methods' signatures,
/// validation and conventions, and their numbers within float rounding. Weights are uploaded once, when it is
/// created; a call uploads its inputs, baselines and targets once, runs interpolation, the forward pass, the split
/// backward pass and the sums over interpolation points on the device, and copies back only the results.
/// </summary>
/// <remarks>
/// Calls are serialised (one at a time per instance; the device runs one pass at a time anyway). Dispose it to free
/// the device memory; the accelerator stays the caller's. <see cref="AttributionOptions.ChunkSize"/> and
/// <see cref="AttributionOptions.MaxDegreeOfParallelism"/> are validated but not used: the device plans its own
/// passes (<see cref="GpuOptions.MaxRowsPerPass"/>).
/// </remarks>
public sealed class GpuNetwork : IDisposable
{
    /// <summary>Why the GPU entry points are marked [RequiresDynamicCode]: ILGPU compiles kernels at run time.</summary>
    public const string RequiresDynamicCodeMessage =
        "NigGen's GPU backend (NigGen.Runtime.Gpu) compiles its kernels with ILGPU at run time, which needs the JIT: it does not work under Native AOT. AOT apps use the CPU methods of NigGen.Runtime only.";

    private readonly object _gate = new();
    private readonly DevicePlan _plan;
    private readonly DeviceKernels _kernels;
    // The points and step sizes of the last rule a call used, on the device: one rule at a time, so device memory does
    // not grow with the number of distinct Steps values callers pass (at most 16 bytes a point, 256 MiB at MaxSteps).
    private (IntegrationRule Rule, int Points, MemoryBuffer1D<double, Stride1D.Dense>? Alphas, MemoryBuffer1D<double, Stride1D.Dense>? StepSizes) _quadrature;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _layerBounds;
    private readonly int _attributeLayers;
    private readonly CallBuffers _call;
    private int _samplesPerCall;
    private bool _disposed;

    private GpuNetwork(Accelerator accelerator, NetworkDescription description, GpuLayer[] layers, int rows, int groupSize)
    {
        Accelerator = accelerator;
        Description = description;
        var attributePositions = new HashSet<int>();
        foreach (var layer in description.AttributeLayers)
        {
            attributePositions.Add(layer.GradientPosition);
        }

        _plan = new DevicePlan(accelerator, layers, description.InputLength, rows, groupSize, 
            scoresPreActivation: i => attributePositions.Contains(2 * i) && layers[i].HasActivation,
            isScored: i => attributePositions.Contains(2 * i) || attributePositions.Contains(2 * i + 1));
        _kernels = DeviceKernels.For(accelerator);
        _attributeLayers = description.AttributeLayers.Count;
        var bounds = new int[_attributeLayers + 1];
        for (int l = 0; l < _attributeLayers; l++)
        {
            bounds[l + 1] = bounds[l] + description.AttributeLayers[l].Length;
        }

        _layerBounds = _plan.Allocate<int>(bounds.Length);
        _layerBounds.View.SubView(0, bounds.Length).CopyFromCPU(accelerator.DefaultStream, bounds);
        int affineLength = _plan.AffineLayer >= 0 ? layers[_plan.AffineLayer].OutputLength : 0;
        _call = new CallBuffers(accelerator, description.InputLength, description.OutputLength, description.ImportanceLength, affineLength);
        long widest = 2L * Math.Max(Math.Max(description.InputLength, description.OutputLength), Math.Max(description.ImportanceLength, affineLength));
        _samplesPerCall = (int)Math.Clamp((1L << 28) / widest, 1, 1 << 16);
    }

    /// <summary>The accelerator the network lives on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The network's shapes and attribute layers (the generated class's Description).</summary>
    public NetworkDescription Description { get; }

    /// <summary>Most points uploaded to the device at once from the host; settable for tests.</summary>
    internal int QuadraturePiece { get; set; } = 4096;

    /// <summary>Most samples of a batched call handled at once (the rest follow in further rounds); settable for tests.</summary>
    internal int SamplesPerCall
    {
        get => _samplesPerCall;
        set => _samplesPerCall = Math.Max(1, value);
    }

    /// <summary>Rows (samples or interpolation points) one pass over the layers holds on the device.</summary>
    public int RowsPerPass => _plan.Rows;

    /// <summary>
    /// Uploads a network described by <paramref name="layers"/> (the generated <c>ToGpu</c> passes its own) to
    /// <paramref name="accelerator"/>. Its kernels are compiled on first use and shared by every network on the accelerator.
    /// </summary>
    /// <exception cref="ArgumentException">The layers do not chain from the description's input to its output.</exception>
    [RequiresDynamicCode(RequiresDynamicCodeMessage)]
    [RequiresUnreferencedCode(RequiresDynamicCodeMessage)]
    public static GpuNetwork Create(Accelerator accelerator, NetworkDescription description, GpuLayer[] layers, GpuOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(layers);
        options ??= new GpuOptions();
        RequireChain(description, layers);

        int groupSize = GroupSize(accelerator, options);
        int rows = options.MaxRowsPerPass;
        if (rows == 0)
        {
            // An eighth of the device, at most 1 GiB; the CPU simulator (host memory, tiny networks) gets 16 MiB.
            long budget = accelerator.AcceleratorType == AcceleratorType.CPU ? 16L << 20 : Math.Clamp(accelerator.MemorySize / 8, 16L << 20, 1L << 30);
            rows = (int)Math.Clamp(budget / DevicePlan.BytesPerRow(layers, description.InputLength), 2, MaxRows);
        }
        else if (rows < 2 || rows > MaxRows)
        {
            throw new ArgumentOutOfRangeException(nameof(options), rows, $"GpuOptions.MaxRowsPerPass = {rows} must be 0 (automatic) or in [2, {MaxRows}]: an interval needs both of its points.");
        }

        accelerator.Bind();
        return new GpuNetwork(accelerator, description, layers, rows, groupSize);
    }

    // The dense GEMMs' grid has rows / TileN (TileN ≥ 32) groups along y, which CUDA limits to 65,535.
    private const int MaxRows = 1 << 19;

    /// <summary>Runs the network on a batch: <paramref name="input"/> holds batch × InputLength floats, <paramref name="output"/> batch × OutputLength.</summary>
    /// <exception cref="ArgumentException">A length is not a whole number of samples, input and output hold different batch sizes, or an input is NaN or infinite.</exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        int batch = Description.BatchSize(input, output.Length);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Accelerator.Bind(); // CUDA contexts are per thread: the caller's thread may not be the one that created it
            var stream = Accelerator.DefaultStream;
            int inputLength = Description.InputLength, outputLength = Description.OutputLength;
            for (int start = 0; start < batch; start += _plan.Rows)
            {
                int count = Math.Min(_plan.Rows, batch - start);
                var inputs = _plan.Inputs.View.SubView(0, (long)count * inputLength);
                inputs.CopyFromCPU(stream, input.Slice(start * inputLength, count * inputLength));
                _plan.Forward(count, inputs, firstLayer: 0, backwardTo: _plan.OutputPosition);
                stream.Synchronize();
                _plan.Values(_plan.LayerCount - 1, count).AsDense().CopyToCPU(stream, output.Slice(start * outputLength, count * outputLength));
            }
        }
    }

    /// <summary>
    /// Neuron Integrated Gradients (total conductance) of every attribute-layer neuron for output[<paramref name="target"/>],
    /// as the CPU method: the rule's Steps + 1 points, the gradient at the left point of each interval. Returns the
    /// completeness delta Σ importance − (F(x) − F(x')) of the attribute layer where it is largest in magnitude.
    /// </summary>
    public float NeuronIntegratedGradients(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance, AttributionOptions options = default)
    {
        RequireAttributeLayers();
        Description.RequireSample(input.Length, nameof(input));
        Description.RequireSample(baseline.Length, nameof(baseline));
        Description.RequireTarget(target);
        Description.RequireLength(importance.Length, Description.ImportanceLength, nameof(importance), "ImportanceLength");
        Description.RequireFinite(input, nameof(input));
        Description.RequireFinite(baseline, nameof(baseline));
        int points = PathAttribution.NeuronIntegratedGradientsPoints(options);
        Span<float> delta = stackalloc float[1];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Accelerator.Bind(); // CUDA contexts are per thread: the caller's thread may not be the one that created it
            NeuronIntegratedGradientsCore(input, baseline, [target], importance, delta, Quadrature.Get(options.Rule, points), CancellationToken.None);
        }

        return delta[0];
    }

    /// <summary>
    /// Neuron Integrated Gradients for a batch: <paramref name="inputs"/> holds n × InputLength floats,
    /// <paramref name="baselines"/> one baseline per sample or a single one for all, <paramref name="targets"/> n targets,
    /// <paramref name="importances"/> n × ImportanceLength and <paramref name="deltas"/> n floats.
    /// </summary>
    public void NeuronIntegratedGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, AttributionOptions options = default) =>
        NeuronIntegratedGradients(inputs, baselines, targets, importances, deltas, options, CancellationToken.None);

    /// <summary>
    /// Neuron Integrated Gradients for a batch, stopped by <paramref name="cancellationToken"/> between passes with an
    /// <see cref="OperationCanceledException"/>; the results are then unspecified and the network stays usable.
    /// </summary>
    public void NeuronIntegratedGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, AttributionOptions options, CancellationToken cancellationToken)
    {
        RequireAttributeLayers();
        int samples = Description.RequireBatch(inputs, baselines, targets, importances.Length, Description.ImportanceLength, nameof(importances), "ImportanceLength", deltas.Length);
        int points = PathAttribution.NeuronIntegratedGradientsPoints(options);
        if (samples == 0)
        {
            return;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Accelerator.Bind(); // CUDA contexts are per thread: the caller's thread may not be the one that created it
            // Calls of at most SamplesPerCall samples: device indices stay within int, and the call's buffers bounded.
            var quadrature = Quadrature.Get(options.Rule, points);
            int inputLength = Description.InputLength, importanceLength = Description.ImportanceLength;
            bool shared = baselines.Length == inputLength;
            for (int first = 0; first < samples; first += _samplesPerCall)
            {
                int count = Math.Min(_samplesPerCall, samples - first);
                NeuronIntegratedGradientsCore(
                    inputs.Slice(first * inputLength, count * inputLength),
                    shared ? baselines : baselines.Slice(first * inputLength, count * inputLength),
                    targets.Slice(first, count),
                    importances.Slice(first * importanceLength, count * importanceLength),
                    deltas.Slice(first, count),
                    quadrature,
                    cancellationToken);
            }
        }
    }

    /// <summary>
    /// Integrated gradients of output[<paramref name="target"/>] for every input feature, as the CPU method (Captum's
    /// conventions, the trapezoid's correct step sizes). Returns the completeness delta Σ attribution − (F(x) − F(x')).
    /// </summary>
    public float IntegratedGradients(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> attribution, AttributionOptions options = default)
    {
        Description.RequireSample(input.Length, nameof(input));
        Description.RequireSample(baseline.Length, nameof(baseline));
        Description.RequireTarget(target);
        Description.RequireSample(attribution.Length, nameof(attribution));
        Description.RequireFinite(input, nameof(input));
        Description.RequireFinite(baseline, nameof(baseline));
        var quadrature = Quadrature.Get(options.Rule, PathAttribution.PathPoints(options));
        Span<float> delta = stackalloc float[1];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Accelerator.Bind(); // CUDA contexts are per thread: the caller's thread may not be the one that created it
            IntegratedGradientsCore(input, baseline, target, attribution, delta, quadrature);
        }

        return delta[0];
    }

    /// <summary>Frees the network's device memory. The accelerator is not disposed.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (!Accelerator.IsDisposed)
            {
                Accelerator.Bind();
            }

            _call.Dispose();
            FreeQuadrature();
            _plan.Dispose();
        }
    }

    private void NeuronIntegratedGradientsCore(ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, QuadratureRule quadrature, CancellationToken cancellationToken)
    {
        int samples = targets.Length;
        int points = quadrature.Count;
        int rows = _plan.Rows;
        int importanceLength = Description.ImportanceLength;
        var stream = Accelerator.DefaultStream;
        var (alphas, _) = QuadratureOnDevice(quadrature);
        _call.Prepare(samples, inputs, baselines, targets);
        var importanceSums = _call.Sums;
        importanceSums.MemSetToZero(stream);
        Endpoints();

        // A pass holds whole samples when their points fit; otherwise one sample's points in chunks that share their
        // boundary point, so that every interval is summed once.
        int samplesPerPass = points <= rows ? Math.Min(samples, rows / points) : 1;
        int pointsPerPass = Math.Min(points, rows);
        int stop = Description.EarliestAttributePosition;
        for (int first = 0; first < samples; first += samplesPerPass)
        {
            int count = Math.Min(samplesPerPass, samples - first);
            for (int start = 0; start < points - 1; start += pointsPerPass - 1)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = new PathRows { FirstSample = first, Points = Math.Min(pointsPerPass, points - start), FirstPoint = start };
                int passRows = count * path.Points;
                ForwardAlongPath(passRows, path, alphas.View, stop);
                _kernels.SeedOutputGradient(passRows * Description.OutputLength, _plan.Gradients(_plan.LayerCount - 1, passRows), _call.Targets, path, Description.OutputLength);
                _plan.Backward(passRows, _plan.OutputPosition, stop);
                int offset = 0;
                foreach (var layer in Description.AttributeLayers)
                {
                    _kernels.AccumulatePathProducts(count * layer.Length, _plan.GradientsAt(layer.GradientPosition, passRows), _plan.ValuesAt(layer.GradientPosition, passRows), importanceSums, path, layer.Length, offset, importanceLength);
                    offset += layer.Length;
                }
            }
        }

        var results = _call.Results.SubView(0, (long)samples * importanceLength);
        var deltasOnDevice = _call.Deltas;
        _kernels.NeuronDeltas(samples, importanceSums, results, deltasOnDevice, _call.EndpointOutputs, _call.Targets, _layerBounds.View, _attributeLayers, importanceLength, Description.OutputLength);
        stream.Synchronize();
        results.AsDense().CopyToCPU(stream, importances.Slice(0, samples * importanceLength));
        deltasOnDevice.AsDense().CopyToCPU(stream, deltas.Slice(0, samples));
    }

    private void IntegratedGradientsCore(ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> attribution, Span<float> delta, QuadratureRule quadrature)
    {
        int points = quadrature.Count;
        int inputLength = Description.InputLength;
        var stream = Accelerator.DefaultStream;
        var (alphas, stepSizes) = QuadratureOnDevice(quadrature);
        _call.Prepare(1, input, baseline, [target]);
        var sums = _call.Sums.SubView(0, inputLength);
        sums.MemSetToZero(stream);
        Endpoints();
        for (int start = 0; start < points; start += _plan.Rows)
        {
            var path = new PathRows { FirstSample = 0, Points = Math.Min(_plan.Rows, points - start), FirstPoint = start };
            ForwardAlongPath(path.Points, path, alphas.View, stop: -1);
            _kernels.SeedOutputGradient(path.Points * Description.OutputLength, _plan.Gradients(_plan.LayerCount - 1, path.Points), _call.Targets, path, Description.OutputLength);
            _plan.Backward(path.Points, _plan.OutputPosition, -1);
            _kernels.AccumulateWeightedGradients(inputLength, _plan.Gradients(-1, path.Points), stepSizes.View, sums, path, inputLength);
        }

        var results = _call.Results.SubView(0, inputLength);
        var deltaOnDevice = _call.Deltas;
        _kernels.ScaleByDifference(inputLength, _call.Endpoints, sums, results, inputLength);
        _kernels.AttributionDelta(results, _call.EndpointOutputs, _call.Targets, deltaOnDevice, inputLength, Description.OutputLength);
        stream.Synchronize();
        results.AsDense().CopyToCPU(stream, attribution);
        deltaOnDevice.AsDense().CopyToCPU(stream, delta);
    }

    // The forward pass over the endpoints (input, baseline) of every sample, in passes of whole pairs: F(x) and F(x')
    // for the deltas and, with the shortcut, the affine layer's pre-activation at both ends.
    private void Endpoints()
    {
        int samples = _call.Samples;
        int pairsPerPass = _plan.Rows / 2;
        int affine = _plan.AffineLayer;
        int inputLength = Description.InputLength, outputLength = Description.OutputLength;
        for (int first = 0; first < samples; first += pairsPerPass)
        {
            int rows = 2 * Math.Min(pairsPerPass, samples - first);
            var input = _call.Endpoints.SubView((long)first * 2 * inputLength, (long)rows * inputLength);
            _plan.Forward(rows, input, firstLayer: 0, backwardTo: _plan.OutputPosition, keepAffinePreActivation: true);
            _plan.Values(_plan.LayerCount - 1, rows).CopyTo(_call.EndpointOutputs.SubView((long)first * 2 * outputLength, (long)rows * outputLength));
            if (affine >= 0)
            {
                int length = _plan.OutputLengthOf(affine);
                _plan.PreActivations(affine, rows).CopyTo(_call.AffineEndpoints.SubView((long)first * 2 * length, (long)rows * length));
            }
        }
    }

    // The pass's rows along the path: with the shortcut, the affine layer's pre-activation interpolated between its
    // endpoints (fused with the pooling above it when the backward pass stops above that) and the layers above it
    // run; otherwise the inputs interpolated and every layer run.
    private void ForwardAlongPath(int rows, PathRows path, ArrayView<double> alphas, int stop)
    {
        int affine = _plan.AffineLayer;
        if (_plan.CanFusePoolAboveAffineLayer(stop, out var pool, out bool max))
        {
            _kernels.InterpolatePool(rows * pool.OutLength, _call.AffineEndpoints, alphas, _plan.Values(affine + 1, rows), path, pool, _plan.ActivationOf(affine), max);
            _plan.Forward(rows, _plan.Inputs.View, firstLayer: affine + 2, backwardTo: stop);
        }
        else if (affine >= 0)
        {
            int length = _plan.OutputLengthOf(affine);
            _kernels.Interpolate(rows * length, _call.AffineEndpoints, alphas, _plan.PreActivations(affine, rows), _plan.Values(affine, rows), path, length, _plan.ActivationOf(affine));
            _plan.Forward(rows, _plan.Inputs.View, firstLayer: affine + 1, backwardTo: stop);
        }
        else
        {
            int inputLength = Description.InputLength;
            var inputs = _plan.Inputs.View.SubView(0, (long)rows * inputLength);
            _kernels.Interpolate(rows * inputLength, _call.Endpoints, alphas, inputs, inputs, path, inputLength, Activation.None);
            _plan.Forward(rows, inputs, firstLayer: 0, backwardTo: stop);
        }
    }

    private (MemoryBuffer1D<double, Stride1D.Dense> Alphas, MemoryBuffer1D<double, Stride1D.Dense> StepSizes) QuadratureOnDevice(QuadratureRule quadrature)
    {
        if (_quadrature.Alphas is { } alphas && _quadrature.StepSizes is { } stepSizes
            && _quadrature.Rule == quadrature.Rule && _quadrature.Points == quadrature.Count)
        {
            return (alphas, stepSizes);
        }

        FreeQuadrature();
        int points = quadrature.Count;
        alphas = Accelerator.Allocate1D<double>(points);
        stepSizes = Accelerator.Allocate1D<double>(points);
        _quadrature = (quadrature.Rule, points, alphas, stepSizes);

        // Uploaded in pieces through a small host buffer: the rule computes its points, it holds no table to copy.
        var piece = new double[Math.Min(points, QuadraturePiece)];
        var stream = Accelerator.DefaultStream;
        for (int start = 0; start < points; start += piece.Length)
        {
            int count = Math.Min(piece.Length, points - start);
            quadrature.CopyAlphas(start, piece.AsSpan(0, count));
            alphas.View.SubView(start, count).CopyFromCPU(stream, piece.AsSpan(0, count));
            quadrature.CopyStepSizes(start, piece.AsSpan(0, count));
            stepSizes.View.SubView(start, count).CopyFromCPU(stream, piece.AsSpan(0, count));
        }

        return (alphas, stepSizes);
    }

    private void FreeQuadrature()
    {
        _quadrature.Alphas?.Dispose();
        _quadrature.StepSizes?.Dispose();
        _quadrature = default;
    }

    private void RequireAttributeLayers()
    {
        if (Description.ImportanceLength == 0)
        {
            throw new InvalidOperationException($"{Description.Name} has no [AttributeLayer]: Neuron Integrated Gradients scores the neurons of attribute layers, so mark at least one layer [AttributeLayer].");
        }
    }

    private static int GroupSize(Accelerator accelerator, GpuOptions options)
    {
        // By default the largest power of two within the limit (CUDA allows 1024; 256 keeps shared memory small).
        int limit = Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        int size = options.MaxGroupSize == 0 ? 1 << System.Numerics.BitOperations.Log2((uint)limit) : options.MaxGroupSize;
        if (size < 16 || size > accelerator.MaxNumThreadsPerGroup || !System.Numerics.BitOperations.IsPow2(size))
        {
            throw new ArgumentOutOfRangeException(nameof(options), size, $"GpuOptions.MaxGroupSize = {size} must be a power of two in [16, {accelerator.MaxNumThreadsPerGroup}] on {accelerator.Name} (0 picks min(256, that limit)).");
        }

        return size;
    }

    // Every layer must read what the one below writes, from the input to the output.
    private static void RequireChain(NetworkDescription description, GpuLayer[] layers)
    {
        if (layers.Length == 0)
        {
            throw new ArgumentException($"{description.Name}: a network needs at least one layer.", nameof(layers));
        }

        int length = description.InputLength;
        foreach (var layer in layers)
        {
            ArgumentNullException.ThrowIfNull(layer, nameof(layers));
            if (layer.InputLength != length)
            {
                throw new ArgumentException($"{description.Name}: layer '{layer.Name}' reads {layer.InputLength} floats per sample, but the layer below it writes {length}.", nameof(layers));
            }

            length = layer.OutputLength;
        }

        if (length != description.OutputLength)
        {
            throw new ArgumentException($"{description.Name}: the last layer writes {length} floats per sample, but the description's OutputLength is {description.OutputLength}.", nameof(layers));
        }
    }

    /// <summary>A call's device buffers, sized for its batch and grown when a larger batch comes.</summary>
    private sealed class CallBuffers : IDisposable
    {
        private readonly Accelerator _accelerator;
        private readonly int _inputLength;
        private readonly int _outputLength;
        private readonly int _importanceLength;
        private readonly int _affineLength;
        private float[] _staging = [];
        private MemoryBuffer1D<float, Stride1D.Dense>? _endpoints;
        private MemoryBuffer1D<float, Stride1D.Dense>? _endpointOutputs;
        private MemoryBuffer1D<float, Stride1D.Dense>? _affineEndpoints;
        private MemoryBuffer1D<double, Stride1D.Dense>? _sums;
        private MemoryBuffer1D<float, Stride1D.Dense>? _results;
        private MemoryBuffer1D<float, Stride1D.Dense>? _deltas;
        private MemoryBuffer1D<int, Stride1D.Dense>? _targets;

        public CallBuffers(Accelerator accelerator, int inputLength, int outputLength, int importanceLength, int affineLength)
        {
            _accelerator = accelerator;
            _inputLength = inputLength;
            _outputLength = outputLength;
            _importanceLength = importanceLength;
            _affineLength = affineLength;
        }

        /// <summary>Samples of the current call.</summary>
        public int Samples { get; private set; }

        /// <summary>Each sample's input and baseline, side by side: [samples, 2, InputLength].</summary>
        public ArrayView<float> Endpoints => View(_endpoints, 2L * Samples * _inputLength);

        /// <summary>The outputs at each sample's input and baseline: [samples, 2, OutputLength].</summary>
        public ArrayView<float> EndpointOutputs => View(_endpointOutputs, 2L * Samples * _outputLength);

        /// <summary>The affine layer's pre-activation at each sample's input and baseline: [samples, 2, its length].</summary>
        public ArrayView<float> AffineEndpoints => View(_affineEndpoints, 2L * Samples * _affineLength);

        /// <summary>The sums over points: [samples, ImportanceLength] for NIG, [InputLength] for integrated gradients.</summary>
        public ArrayView<double> Sums => View(_sums, (long)Samples * Math.Max(_importanceLength, _inputLength));

        /// <summary>The results as floats, laid out like <see cref="Sums"/>.</summary>
        public ArrayView<float> Results => View(_results, (long)Samples * Math.Max(_importanceLength, _inputLength));

        public ArrayView<float> Deltas => View(_deltas, Samples);

        public ArrayView<int> Targets => View(_targets, Samples);

        /// <summary>Sizes the buffers for <paramref name="samples"/> and uploads, once for the call, the endpoints and the targets.</summary>
        public void Prepare(int samples, ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets)
        {
            Samples = samples;
            int length = _inputLength;
            long floats = 2L * samples * length;
            long results = (long)samples * Math.Max(_importanceLength, length);
            Ensure(ref _endpoints, floats);
            Ensure(ref _endpointOutputs, 2L * samples * _outputLength);
            Ensure(ref _affineEndpoints, 2L * samples * _affineLength);
            Ensure(ref _sums, results);
            Ensure(ref _results, results);
            Ensure(ref _deltas, samples);
            Ensure(ref _targets, samples);
            if (_staging.Length < floats)
            {
                _staging = new float[floats];
            }

            bool shared = baselines.Length == length;
            for (int s = 0; s < samples; s++)
            {
                inputs.Slice(s * length, length).CopyTo(_staging.AsSpan(2 * s * length, length));
                (shared ? baselines : baselines.Slice(s * length, length)).CopyTo(_staging.AsSpan((2 * s + 1) * length, length));
            }

            var stream = _accelerator.DefaultStream;
            Endpoints.AsDense().CopyFromCPU(stream, _staging.AsSpan(0, (int)floats));
            Targets.AsDense().CopyFromCPU(stream, targets);
        }

        public void Dispose()
        {
            _endpoints?.Dispose();
            _endpointOutputs?.Dispose();
            _affineEndpoints?.Dispose();
            _sums?.Dispose();
            _results?.Dispose();
            _deltas?.Dispose();
            _targets?.Dispose();
        }

        private static ArrayView<T> View<T>(MemoryBuffer1D<T, Stride1D.Dense>? buffer, long length)
            where T : unmanaged => buffer!.View.SubView(0, Math.Max(1, length));

        // Grows a buffer to hold at least `length` elements, keeping none of its contents.
        private void Ensure<T>(ref MemoryBuffer1D<T, Stride1D.Dense>? buffer, long length)
            where T : unmanaged
        {
            length = Math.Max(1, length);
            if (buffer is null || buffer.Length < length)
            {
                buffer?.Dispose();
                buffer = _accelerator.Allocate1D<T>(length);
            }
        }
    }
}
