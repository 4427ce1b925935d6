using System;
using BenchmarkDotNet.Attributes;

namespace NigGen.Benchmarks.Suites;

/// <summary>
/// Every point and step size of a large rule, read in chunks as a path method reads them: Gauss-Legendre from Bogaert's
/// expansions (the former Newton tables cost O(n²): 2.5 s at 20,000 points, more than 20 s at 1,000,000), and the
/// trapezoid's closed form for scale.
/// </summary>
public class QuadratureBenchmarks
{
    private const int Chunk = 4096;
    private readonly double[] _alphas = new double[Chunk];
    private readonly double[] _stepSizes = new double[Chunk];

    [Params(100_000, 1_000_000)]
    public int Points { get; set; }

    [Benchmark]
    public double GaussLegendre() => ReadAll(IntegrationRule.GaussLegendre);

    [Benchmark]
    public double Trapezoid() => ReadAll(IntegrationRule.RiemannTrapezoid);

    private double ReadAll(IntegrationRule rule)
    {
        var quadrature = Quadrature.Get(rule, Points);
        double sum = 0;
        for (int start = 0; start < Points; start += Chunk)
        {
            int count = Math.Min(Chunk, Points - start);
            quadrature.CopyAlphas(start, _alphas.AsSpan(0, count));
            quadrature.CopyStepSizes(start, _stepSizes.AsSpan(0, count));
            for (int i = 0; i < count; i++)
            {
                sum += _alphas[i] * _stepSizes[i];
            }
        }

        return sum; // ∫₀¹ α dα = 0.5: checked in the preflight, and keeps the work from being optimised away
    }
}
