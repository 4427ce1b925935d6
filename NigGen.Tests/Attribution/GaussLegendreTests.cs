using System;
using Xunit;
using Xunit.Abstractions;

namespace NigGen.Tests.Attribution;

/// <summary>
/// Gauss-Legendre rules above <see cref="Quadrature.MaxTabulatedGaussLegendrePoints"/> points come from Bogaert's
/// iteration-free expansions, one point at a time: checked against the Newton tables (the former method, O(n²)) where
/// those are affordable, and by what the rule must integrate at 100,000 and 1,000,000 points.
/// </summary>
public sealed class GaussLegendreTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(101)]
    [InlineData(256)]
    [InlineData(512)]
    [InlineData(513)]
    [InlineData(777)]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(1500)]
    [InlineData(2000)]
    public void Expansions_agree_with_Newton_iteration_to_1e_14(int n)
    {
        var alphas = new double[n];
        var steps = new double[n];
        Quadrature.NewtonGaussLegendre(n, alphas, steps);
        double worstAlpha = 0, worstStep = 0, worstRelativeStep = 0;
        for (int i = 0; i < n; i++)
        {
            var (alpha, step) = Quadrature.GaussLegendrePoint(n, i);
            worstAlpha = Math.Max(worstAlpha, Math.Abs(alpha - alphas[i]));
            worstStep = Math.Max(worstStep, Math.Abs(step - steps[i]));
            worstRelativeStep = Math.Max(worstRelativeStep, Math.Abs(step - steps[i]) / steps[i]);
        }

        output.WriteLine($"n = {n}: alphas within {worstAlpha:E1}, step sizes within {worstStep:E1} ({worstRelativeStep:E1} relative)");
        Assert.True(worstAlpha <= 1e-14, $"n = {n}: an alpha differs by {worstAlpha:E2}");
        Assert.True(worstStep <= 1e-14, $"n = {n}: a step size differs by {worstStep:E2}");
        // Relative to the smallest weights, at the ends, the two differ by up to about 1e-11 at 2,000 points: the Newton
        // table's 2/((1 − z)(1 + z) P′(z)²) loses digits to the cancellation in 1 − z as z nears 1 (its error grows as
        // n²), while the expansions work in θ and sin θ, which keep them.
        Assert.True(worstRelativeStep <= 1e-10, $"n = {n}: a step size differs by {worstRelativeStep:E2} of itself");
        if (n > Quadrature.MaxTabulatedGaussLegendrePoints)
        {
            Assert.Equal(alphas[n / 3], Quadrature.Get(IntegrationRule.GaussLegendre, n).Alpha(n / 3), 1e-14);
        }
    }

    [Theory]
    [InlineData(100_000)]
    [InlineData(1_000_000)]
    public void Large_rules_integrate_smooth_and_oscillating_functions_to_rounding(int n)
    {
        var rule = Quadrature.Get(IntegrationRule.GaussLegendre, n);
        double sum = 0, exp = 0, oscillating = 0, high = 0, previous = 0;
        for (int i = 0; i < n; i++)
        {
            double alpha = rule.Alpha(i), step = rule.StepSize(i);
            Assert.True(alpha > previous, $"alphas not ascending at {i}");
            previous = alpha;
            sum += step;
            exp += step * Math.Exp(alpha);
            oscillating += step * Math.Cos(20_000 * alpha);
            high += step * Math.Pow(alpha, 99_999);
        }

        Assert.True(previous < 1);
        Assert.Equal(rule.Alpha(7), 1 - rule.Alpha(n - 8), 1e-16);
        Assert.Equal(rule.StepSize(7), rule.StepSize(n - 8));
        Assert.Equal(1.0, sum, 1e-13);
        Assert.Equal(Math.E - 1, exp, 1e-13);
        Assert.Equal(Math.Sin(20_000) / 20_000, oscillating, 1e-13);
        Assert.Equal(1e-5, high, 1e-16);
    }

    [Fact]
    public void Points_near_zero_keep_their_relative_precision()
    {
        // The first node of an n-point rule is about j₀,₁²/(4 (n + ½)²); computed as 0.5 (1 − cos θ) it would carry an
        // absolute error of about 1e-16, which is most of its value at a million points.
        var rule = Quadrature.Get(IntegrationRule.GaussLegendre, 1_000_000);
        double approximation = 2.404825557695773 * 2.404825557695773 / (4 * 1_000_000.5 * 1_000_000.5);
        Assert.Equal(1, rule.Alpha(0) / approximation, 1e-6);
        Assert.True(rule.Alpha(0) > 1e-12);
    }
}
