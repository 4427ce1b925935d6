using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using NigGen.Kernels;

namespace NigGen.Benchmarks.Suites;

/// <summary>
/// NigGen's GEMM kernel (m×k×n) on a square shape, the MLP's batch-64 shapes, the matrix-vector shapes of a batch of
/// one (1 row) and of Neuron Integrated Gradients' endpoint pass (2 rows), and a product whose B rows are 4 KiB apart
/// (packed panels).
/// </summary>
public class GemmBenchmarks
{
    /// <summary>The shapes the GEMM rows report, in order.</summary>
    public static readonly string[] Shapes = ["256x256x256", "64x784x256", "64x256x256", "1x784x256", "2x784x256", "64x784x1024"];

    /// <summary>The shapes held to 90 % of the FMA peak (the performance issues' benchmark shapes).</summary>
    public static readonly string[] TargetShapes = ["256x256x256", "64x784x256", "64x256x256"];

    private float[] _a = null!;
    private float[] _b = null!;
    private float[] _c = null!;
    private int _m;
    private int _k;
    private int _n;

    [ParamsSource(nameof(AllShapes))]
    public string Shape { get; set; } = "";

    public static (int M, int K, int N) Parse(string shape)
    {
        var parts = shape.Split('x');
        return (int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
    }

    public static IEnumerable<string> AllShapes() => Shapes;

    [GlobalSetup]
    public void Setup()
    {
        (_m, _k, _n) = Parse(Shape);
        var random = new Random(4);
        _a = new float[_m * _k];
        _b = new float[_k * _n];
        _c = new float[_m * _n];
        for (int i = 0; i < _a.Length; i++)
        {
            _a[i] = random.NextSingle() - 0.5f;
        }

        for (int i = 0; i < _b.Length; i++)
        {
            _b[i] = random.NextSingle() - 0.5f;
        }
    }

    [Benchmark]
    public void Multiply() => Gemm.Multiply(_a, _b, _c, _m, _k, _n);
}

/// <summary>
/// The core's register-only FMA peak: independent FMA chains (more than latency × FMA ports), no memory traffic.
/// GEMM efficiency is reported against this, measured in the same run.
/// </summary>
public class FmaPeakBenchmarks
{
    /// <summary>Loop trips per call; each trip issues <see cref="Accumulators"/> FMAs.</summary>
    public const int Iterations = 1 << 14;

    /// <summary>Independent accumulators: two FMA pipes × 4-cycle latency need 8 in flight on current x86 cores; 12 leaves slack.</summary>
    public const int Accumulators = 12;

    public static double Flops(int lanes) => 2.0 * lanes * Accumulators * Iterations;

    [Benchmark]
    public float Vector512Fma() => Fma512(Iterations);

    [Benchmark]
    public float Vector256Fma() => Fma256(Iterations);

    // acc = acc·0.999999 + 1e-6 converges to 1: stays finite and normal however long it runs.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma512(int iterations)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-6f);
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector512<float> a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c);
            a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c);
            a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c);
            a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c);
            a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }

        var sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector512.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma256(int iterations)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-6f);
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector256<float> a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c);
            a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c);
            a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c);
            a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c);
            a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c);
            a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }

        var sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(sum);
    }
}

/// <summary>
/// The convolution paths that lean on GEMM-like micro-kernels, at batch 8: a 3×3 stride-2 convolution (implicit GEMM)
/// and a 3×3 stride-1 one (Winograd's per-cell products), in GFLOP/s of the direct sum (2 × outputs × taps).
/// </summary>
public class ConvBenchmarks
{
    private ConvGeometry _geometry;
    private NigGen.Layer _layer = null!;
    private float[] _input = null!;
    private float[] _output = null!;
    private float[] _scratch = null!;

    public const int Batch = 8;

    /// <summary>The convolutions the rows report: in channels, height, width, out channels, kernel, stride, padding.</summary>
    public static readonly string[] Convolutions = ["32,32,32,64,3,2,1", "64,16,16,64,3,1,1"];

    [ParamsSource(nameof(AllConvolutions))]
    public string Conv { get; set; } = "";

    public static IEnumerable<string> AllConvolutions() => Convolutions;

    public static ConvGeometry Geometry(string conv)
    {
        var p = Array.ConvertAll(conv.Split(','), int.Parse);
        return new ConvGeometry(p[0], p[1], p[2], p[3], p[4], p[4], p[5], p[5], p[6], p[6]);
    }

    public static string Describe(string conv)
    {
        var g = Geometry(conv);
        string path = WinogradConv.Supports(g) ? "Winograd" : ImplicitConv.Supports(g) ? "implicit GEMM" : "direct or im2col";
        return $"{g.KernelHeight}×{g.KernelWidth} stride {g.StrideHeight}, {g.InChannels}→{g.OutChannels} channels, {g.InHeight}×{g.InWidth}, batch {Batch} ({path})";
    }

    public static double Flops(string conv)
    {
        var g = Geometry(conv);
        return 2.0 * Batch * g.OutputLength * g.PatchLength;
    }

    [GlobalSetup]
    public void Setup()
    {
        _geometry = Geometry(Conv);
        _layer = NigGen.Layer.Create("conv", [_geometry.OutChannels, _geometry.InChannels, _geometry.KernelHeight, _geometry.KernelWidth], true, new NigGen.Weights.RandomWeightSource(1));
        var random = new Random(2);
        _input = new float[Batch * _geometry.InputLength];
        for (int i = 0; i < _input.Length; i++)
        {
            _input[i] = random.NextSingle() - 0.5f;
        }

        _output = new float[Batch * _geometry.OutputLength];
        _scratch = new float[_geometry.ScratchLength];
    }

    [Benchmark]
    public void Forward() => ConvKernels.Forward(_geometry, _input, _layer, _output, Batch, _scratch);
}
