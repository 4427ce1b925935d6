using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using NigGen.Kernels;

namespace NigGen.Benchmarks.Suites;

/// <summary>NigGen's GEMM kernel on a square shape and the MLP's batch-64 shapes (m×k×n).</summary>
public class GemmBenchmarks
{
    private float[] _a = null!;
    private float[] _b = null!;
    private float[] _c = null!;
    private int _m;
    private int _k;
    private int _n;

    [Params("256x256x256", "64x784x256", "64x256x256")]
    public string Shape { get; set; } = "";

    public static (int M, int K, int N) Parse(string shape)
    {
        var parts = shape.Split('x');
        return (int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
    }

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
