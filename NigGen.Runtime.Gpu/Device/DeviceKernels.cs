using System;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace NigGen.Gpu.Device;

/// <summary>
/// The kernels compiled for one accelerator, each on first use (compiling is the slow part of a first call), and
/// shared by every network on that accelerator.
/// </summary>
internal sealed class DeviceKernels
{
    private static readonly ConditionalWeakTable<Accelerator, DeviceKernels> Cache = new();

    private readonly Accelerator _accelerator;
    private readonly Lazy<Action<KernelConfig, MatrixA, MatrixB, GemmOutput, GemmShape>> _gemmMatrix;
    private readonly Lazy<Action<KernelConfig, ConvPatchesA, MatrixB, GemmOutput, GemmShape>> _gemmConv;
    private readonly Lazy<Action<KernelConfig, ConvGradientPatchesA, MatrixB, GemmOutput, GemmShape>> _gemmConvGradient;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolShape, int>> _maxPoolForward;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolShape>> _maxPoolBackward;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<float>, PoolShape>> _avgPoolForward;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<float>, PoolShape>> _avgPoolBackward;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>> _activationBackward;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<float>, PathRows, int, int>> _interpolate;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<float>, PathRows, PoolShape, int, int>> _interpolatePool;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<int>, PathRows, int>> _seed;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, PathRows, int, int, int>> _pathProducts;
    private readonly Lazy<Action<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, int>> _neuronDeltas;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, PathRows, int>> _weightedGradients;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<float>, int>> _scaleByDifference;
    private readonly Lazy<Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>> _attributionDelta;

    private DeviceKernels(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _gemmMatrix = new(() => accelerator.LoadStreamKernel<MatrixA, MatrixB, GemmOutput, GemmShape>(GemmKernel.Run));
        _gemmConv = new(() => accelerator.LoadStreamKernel<ConvPatchesA, MatrixB, GemmOutput, GemmShape>(GemmKernel.Run));
        _gemmConvGradient = new(() => accelerator.LoadStreamKernel<ConvGradientPatchesA, MatrixB, GemmOutput, GemmShape>(GemmKernel.Run));
        _maxPoolForward = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolShape, int>(ElementwiseKernels.MaxPoolForward));
        _maxPoolBackward = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolShape>(ElementwiseKernels.MaxPoolBackward));
        _avgPoolForward = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolShape>(ElementwiseKernels.AvgPoolForward));
        _avgPoolBackward = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolShape>(ElementwiseKernels.AvgPoolBackward));
        _activationBackward = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ActivationBackward));
        _interpolate = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<float>, PathRows, int, int>(ElementwiseKernels.Interpolate));
        _interpolatePool = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<float>, PathRows, PoolShape, int, int>(ElementwiseKernels.InterpolatePool));
        _seed = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, PathRows, int>(ElementwiseKernels.SeedOutputGradient));
        _pathProducts = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, PathRows, int, int, int>(ElementwiseKernels.AccumulatePathProducts));
        _neuronDeltas = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, int>(ElementwiseKernels.NeuronDeltas));
        _weightedGradients = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, PathRows, int>(ElementwiseKernels.AccumulateWeightedGradients));
        _scaleByDifference = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<float>, int>(ElementwiseKernels.ScaleByDifference));
        _attributionDelta = new(() => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(ElementwiseKernels.AttributionDelta));
    }

    public static DeviceKernels For(Accelerator accelerator) => Cache.GetValue(accelerator, static a => new DeviceKernels(a));

    /// <summary>
    /// When set, every launch is synchronised before and after and its time added here by kernel (and GEMM shape):
    /// the device check's breakdown (NigGen.GpuCheck --profile). Null, the default, costs one null check per launch.
    /// </summary>
    internal static System.Collections.Concurrent.ConcurrentDictionary<string, (int Calls, double Seconds)>? Profile;

    private long Begin()
    {
        if (Profile is null)
        {
            return 0;
        }

        _accelerator.Synchronize();
        return System.Diagnostics.Stopwatch.GetTimestamp();
    }

    private void End(long start, string name)
    {
        if (Profile is not { } profile)
        {
            return;
        }

        _accelerator.Synchronize();
        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        profile.AddOrUpdate(name, (1, seconds), (_, total) => (total.Calls + 1, total.Seconds + seconds));
    }

    private static string Describe(string kind, in GemmShape shape) =>
        Profile is null ? kind : $"{kind} GEMM {shape.M}×{shape.N}×{shape.K}, tile {shape.TileM}×{shape.TileN}";

    public void Gemm(MatrixA a, MatrixB b, GemmOutput output, GemmShape shape)
    {
        long start = Begin();
        _gemmMatrix.Value(Config(shape), a, b, output, shape);
        End(start, Describe("dense", shape));
    }

    public void Gemm(ConvPatchesA a, MatrixB b, GemmOutput output, GemmShape shape)
    {
        long start = Begin();
        _gemmConv.Value(Config(shape), a, b, output, shape);
        End(start, Describe("conv", shape));
    }

    public void Gemm(ConvGradientPatchesA a, MatrixB b, GemmOutput output, GemmShape shape)
    {
        long start = Begin();
        _gemmConvGradient.Value(Config(shape), a, b, output, shape);
        End(start, Describe("conv input-gradient", shape));
    }

    public void MaxPoolForward(int count, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax, PoolShape shape, bool keepArgmax)
    {
        long start = Begin();
        _maxPoolForward.Value(count, input, output, argmax, shape, keepArgmax ? 1 : 0);
        End(start, nameof(MaxPoolForward));
    }

    public void MaxPoolBackward(int count, ArrayView<float> outputGradient, ArrayView<int> argmax, ArrayView<float> inputGradient, PoolShape shape)
    {
        long start = Begin();
        _maxPoolBackward.Value(count, outputGradient, argmax, inputGradient, shape);
        End(start, nameof(MaxPoolBackward));
    }

    public void AvgPoolForward(int count, ArrayView<float> input, ArrayView<float> output, PoolShape shape)
    {
        long start = Begin();
        _avgPoolForward.Value(count, input, output, shape);
        End(start, nameof(AvgPoolForward));
    }

    public void AvgPoolBackward(int count, ArrayView<float> outputGradient, ArrayView<float> inputGradient, PoolShape shape)
    {
        long start = Begin();
        _avgPoolBackward.Value(count, outputGradient, inputGradient, shape);
        End(start, nameof(AvgPoolBackward));
    }

    public void ActivationBackward(int count, ArrayView<float> pre, ArrayView<float> post, ArrayView<float> postGradient, ArrayView<float> preGradient, Activation activation)
    {
        long start = Begin();
        _activationBackward.Value(count, pre, post, postGradient, preGradient, (int)activation);
        End(start, nameof(ActivationBackward));
    }

    public void Interpolate(int count, ArrayView<float> endpoints, ArrayView<double> alphas, ArrayView<float> pre, ArrayView<float> post, PathRows rows, int length, Activation activation)
    {
        long start = Begin();
        _interpolate.Value(count, endpoints, alphas, pre, post, rows, length, (int)activation);
        End(start, nameof(Interpolate));
    }

    public void InterpolatePool(int count, ArrayView<float> endpoints, ArrayView<double> alphas, ArrayView<float> output, PathRows rows, PoolShape shape, Activation activation, bool max)
    {
        long start = Begin();
        _interpolatePool.Value(count, endpoints, alphas, output, rows, shape, (int)activation, max ? 1 : 0);
        End(start, nameof(InterpolatePool));
    }

    public void SeedOutputGradient(int count, ArrayView<float> outputGradient, ArrayView<int> targets, PathRows rows, int outputLength)
    {
        long start = Begin();
        _seed.Value(count, outputGradient, targets, rows, outputLength);
        End(start, nameof(SeedOutputGradient));
    }

    public void AccumulatePathProducts(int count, ArrayView<float> gradients, ArrayView<float> values, ArrayView<double> importances, PathRows rows, int length, int offset, int importanceLength)
    {
        long start = Begin();
        _pathProducts.Value(count, gradients, values, importances, rows, length, offset, importanceLength);
        End(start, nameof(AccumulatePathProducts));
    }

    public void NeuronDeltas(int samples, ArrayView<double> importances, ArrayView<float> results, ArrayView<float> deltas, ArrayView<float> endpointOutputs, ArrayView<int> targets, ArrayView<int> layerBounds, int layers, int importanceLength, int outputLength)
    {
        long start = Begin();
        _neuronDeltas.Value(samples, importances, results, deltas, endpointOutputs, targets, layerBounds, layers, importanceLength, outputLength);
        End(start, nameof(NeuronDeltas));
    }

    public void AccumulateWeightedGradients(int count, ArrayView<float> gradients, ArrayView<double> stepSizes, ArrayView<double> sums, PathRows rows, int length)
    {
        long start = Begin();
        _weightedGradients.Value(count, gradients, stepSizes, sums, rows, length);
        End(start, nameof(AccumulateWeightedGradients));
    }

    public void ScaleByDifference(int count, ArrayView<float> endpoints, ArrayView<double> sums, ArrayView<float> attribution, int length)
    {
        long start = Begin();
        _scaleByDifference.Value(count, endpoints, sums, attribution, length);
        End(start, nameof(ScaleByDifference));
    }

    public void AttributionDelta(ArrayView<float> attribution, ArrayView<float> endpointOutputs, ArrayView<int> targets, ArrayView<float> delta, int length, int outputLength)
    {
        long start = Begin();
        _attributionDelta.Value(1, attribution, endpointOutputs, targets, delta, length, outputLength);
        End(start, nameof(AttributionDelta));
    }

    private static KernelConfig Config(in GemmShape shape)
    {
        int groupsM = (shape.M + shape.TileM - 1) / shape.TileM;
        int groupsN = (shape.N + shape.TileN - 1) / shape.TileN;
        return new KernelConfig(new Index2D(groupsM, groupsN), new Index2D(shape.ThreadsM * shape.ThreadsN, 1), SharedMemoryConfig.RequestDynamic<float>(shape.SharedFloats));
    }

    /// <summary>
    /// The tiling of an M × N × K GEMM for groups of <paramref name="groupSize"/> threads (a power of two, at least 16):
    /// the smaller of M and N gets the fewest threads that cover it (8 rows or 4 columns each), the other dimension the
    /// rest. N gets 8 to 64 threads: at least 8 so that every thread loads A for one fixed row, at most 64
    /// (ThreadsN / 8 ≤ TileK) so that those rows' columns divide the slice evenly, which also bounds shared memory.
    /// </summary>
    public static GemmShape Plan(int m, int n, int k, int groupSize)
    {
        int threadsM, threadsN;
        if (n <= m)
        {
            threadsN = Math.Clamp(CeilingPowerOfTwo((n + 3) / 4), 8, Math.Min(64, groupSize));
            threadsM = groupSize / threadsN;
        }
        else
        {
            threadsM = Math.Clamp(CeilingPowerOfTwo((m + 7) / 8), 1, groupSize / 8);
            threadsN = Math.Min(groupSize / threadsM, 64);
            threadsM = groupSize / threadsN;
        }

        return new GemmShape { M = m, N = n, K = k, ThreadsM = threadsM, ThreadsN = threadsN };
    }

    private static int CeilingPowerOfTwo(int value) => value <= 1 ? 1 : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)value);
}
