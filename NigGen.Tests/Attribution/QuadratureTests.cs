using System;
using System.Threading.Tasks;
using Xunit;

namespace NigGen.Tests.Attribution;

public class QuadratureTests
{
    private const double Tolerance = 1e-15;

    public static TheoryData<IntegrationRule> AllRules => new()
    {
        IntegrationRule.RiemannTrapezoid,
        IntegrationRule.RiemannLeft,
        IntegrationRule.RiemannRight,
        IntegrationRule.RiemannMiddle,
        IntegrationRule.GaussLegendre,
    };

    private static void AssertClose(double[] expected, ReadOnlySpan<double> actual, double tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    private static double Sum(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (double v in values)
        {
            sum += v;
        }

        return sum;
    }

    [Fact]
    public void RiemannRulesUseCaptumsPoints()
    {
        QuadratureRule left = Quadrature.Get(IntegrationRule.RiemannLeft, 4);
        AssertClose(new[] { 0, 0.25, 0.5, 0.75 }, left.Alphas());
        AssertClose(new[] { 0.25, 0.25, 0.25, 0.25 }, left.StepSizes());

        QuadratureRule right = Quadrature.Get(IntegrationRule.RiemannRight, 4);
        AssertClose(new[] { 0.25, 0.5, 0.75, 1 }, right.Alphas());
        AssertClose(new[] { 0.25, 0.25, 0.25, 0.25 }, right.StepSizes());

        QuadratureRule middle = Quadrature.Get(IntegrationRule.RiemannMiddle, 4);
        AssertClose(new[] { 0.125, 0.375, 0.625, 0.875 }, middle.Alphas());
        AssertClose(new[] { 0.25, 0.25, 0.25, 0.25 }, middle.StepSizes());

        QuadratureRule trapezoid = Quadrature.Get(IntegrationRule.RiemannTrapezoid, 5);
        AssertClose(new[] { 0, 0.25, 0.5, 0.75, 1 }, trapezoid.Alphas());
        AssertClose(new[] { 0.125, 0.25, 0.25, 0.25, 0.125 }, trapezoid.StepSizes());

        QuadratureRule three = Quadrature.Get(IntegrationRule.RiemannLeft, 3);
        AssertClose(new[] { 0, 1.0 / 3, 2.0 / 3 }, three.Alphas());
        AssertClose(new[] { 1.0 / 6, 0.5, 5.0 / 6 }, Quadrature.Get(IntegrationRule.RiemannMiddle, 3).Alphas());
        AssertClose(new[] { 1.0 / 3, 2.0 / 3, 1 }, Quadrature.Get(IntegrationRule.RiemannRight, 3).Alphas());
    }

    [Fact]
    public void TwoPointRulesAreExact()
    {
        Assert.Equal(new[] { 0.0, 1.0 }, Quadrature.Get(IntegrationRule.RiemannTrapezoid, 2).Alphas());
        Assert.Equal(new[] { 0.5, 0.5 }, Quadrature.Get(IntegrationRule.RiemannTrapezoid, 2).StepSizes());
        Assert.Equal(new[] { 0.0, 0.5 }, Quadrature.Get(IntegrationRule.RiemannLeft, 2).Alphas());
        Assert.Equal(new[] { 0.5, 1.0 }, Quadrature.Get(IntegrationRule.RiemannRight, 2).Alphas());
        Assert.Equal(new[] { 0.25, 0.75 }, Quadrature.Get(IntegrationRule.RiemannMiddle, 2).Alphas());
    }

    [Theory]
    [InlineData(IntegrationRule.RiemannLeft, 7)]
    [InlineData(IntegrationRule.RiemannRight, 7)]
    [InlineData(IntegrationRule.RiemannMiddle, 11)]
    [InlineData(IntegrationRule.RiemannTrapezoid, 50)]
    public void RiemannPointsFollowNumpyLinspaceBitForBit(IntegrationRule rule, int n)
    {
        (double start, double stop) = rule switch
        {
            IntegrationRule.RiemannLeft => (0.0, 1 - 1.0 / n),
            IntegrationRule.RiemannRight => (1.0 / n, 1.0),
            IntegrationRule.RiemannMiddle => (1.0 / (2 * n), 1 - 1.0 / (2 * n)),
            _ => (0.0, 1.0),
        };
        double step = (stop - start) / (n - 1);
        ReadOnlySpan<double> alphas = Quadrature.Get(rule, n).Alphas();

        for (int i = 0; i < n - 1; i++)
        {
            Assert.Equal(i * step + start, alphas[i]);
        }

        Assert.Equal(stop, alphas[n - 1]);
    }

    [Fact]
    public void TrapezoidStepsAreTheCorrectWeightsNotCaptums()
    {
        foreach (int n in new[] { 2, 3, 5, 9, 17, 33, 1025 })
        {
            // With n − 1 a power of two every step is a power of two, so the sum is exactly 1.
            Assert.Equal(1.0, Sum(Quadrature.Get(IntegrationRule.RiemannTrapezoid, n).StepSizes()));
        }

        foreach (int n in new[] { 4, 7, 10, 50, 51, 300 })
        {
            ReadOnlySpan<double> steps = Quadrature.Get(IntegrationRule.RiemannTrapezoid, n).StepSizes();
            Assert.Equal(1.0, Sum(steps), 1e-14);
            Assert.Equal(0.5 / (n - 1), steps[0]);
            Assert.Equal(0.5 / (n - 1), steps[n - 1]);
            Assert.Equal(1.0 / (n - 1), steps[n / 2]);
        }
    }

    [Fact]
    public void GaussLegendreMatchesKnownNodesAndWeights()
    {
        // Closed forms on [-1, 1], ascending; alphas are 0.5 (1 + x), steps 0.5 w.
        double[][] nodes =
        {
            new[] { 0.0 },
            new[] { -1 / Math.Sqrt(3), 1 / Math.Sqrt(3) },
            new[] { -Math.Sqrt(0.6), 0, Math.Sqrt(0.6) },
            new[]
            {
                -Math.Sqrt(3.0 / 7 + 2.0 / 7 * Math.Sqrt(1.2)), -Math.Sqrt(3.0 / 7 - 2.0 / 7 * Math.Sqrt(1.2)),
                Math.Sqrt(3.0 / 7 - 2.0 / 7 * Math.Sqrt(1.2)), Math.Sqrt(3.0 / 7 + 2.0 / 7 * Math.Sqrt(1.2)),
            },
            new[]
            {
                -Math.Sqrt(5 + 2 * Math.Sqrt(10.0 / 7)) / 3, -Math.Sqrt(5 - 2 * Math.Sqrt(10.0 / 7)) / 3, 0,
                Math.Sqrt(5 - 2 * Math.Sqrt(10.0 / 7)) / 3, Math.Sqrt(5 + 2 * Math.Sqrt(10.0 / 7)) / 3,
            },
        };
        double[][] weights =
        {
            new[] { 2.0 },
            new[] { 1.0, 1.0 },
            new[] { 5.0 / 9, 8.0 / 9, 5.0 / 9 },
            new[] { (18 - Math.Sqrt(30)) / 36, (18 + Math.Sqrt(30)) / 36, (18 + Math.Sqrt(30)) / 36, (18 - Math.Sqrt(30)) / 36 },
            new[]
            {
                (322 - 13 * Math.Sqrt(70)) / 900, (322 + 13 * Math.Sqrt(70)) / 900, 128.0 / 225,
                (322 + 13 * Math.Sqrt(70)) / 900, (322 - 13 * Math.Sqrt(70)) / 900,
            },
        };

        for (int n = 1; n <= 5; n++)
        {
            QuadratureRule table = Quadrature.Get(IntegrationRule.GaussLegendre, n);
            Assert.Equal(n, table.Count);
            Assert.Equal(IntegrationRule.GaussLegendre, table.Rule);
            AssertClose(Array.ConvertAll(nodes[n - 1], x => 0.5 * (1 + x)), table.Alphas(), 2e-16);
            AssertClose(Array.ConvertAll(weights[n - 1], w => 0.5 * w), table.StepSizes(), 3e-16);
        }

        Assert.Equal(0.5, Quadrature.Get(IntegrationRule.GaussLegendre, 3).Alphas()[1]);
    }

    [Fact]
    public void GaussLegendreIntegratesPolynomialsOfDegree2NMinus1Exactly()
    {
        var random = new Random(1234);
        for (int n = 1; n <= 24; n++)
        {
            QuadratureRule table = Quadrature.Get(IntegrationRule.GaussLegendre, n);
            int degree = 2 * n - 1;
            var coefficients = new double[degree + 1];
            double exact = 0;
            for (int k = 0; k <= degree; k++)
            {
                coefficients[k] = random.NextDouble() * 2 - 1;
                exact += coefficients[k] / (k + 1);
            }

            double quadrature = 0;
            for (int i = 0; i < n; i++)
            {
                double value = 0;
                for (int k = degree; k >= 0; k--)
                {
                    value = value * table.Alpha(i) + coefficients[k];
                }

                quadrature += table.StepSize(i) * value;
            }

            Assert.True(Math.Abs(quadrature - exact) < 1e-14, $"n={n}: {quadrature:R} vs {exact:R}");

            // One degree more is not exact (the rule's degree is exactly 2n - 1); the error, n!⁴ / ((2n + 1) (2n)!²),
            // drops below rounding beyond n = 8.
            if (n > 8)
            {
                continue;
            }

            double monomial = 0;
            for (int i = 0; i < n; i++)
            {
                monomial += table.StepSize(i) * Math.Pow(table.Alpha(i), 2 * n);
            }

            Assert.True(Math.Abs(monomial - 1.0 / (2 * n + 1)) > 1e-12, $"n={n}");
        }
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(5000)]
    public void GaussLegendreStaysAccurateForManyPoints(int n)
    {
        QuadratureRule table = Quadrature.Get(IntegrationRule.GaussLegendre, n);
        ReadOnlySpan<double> alphas = table.Alphas();
        ReadOnlySpan<double> steps = table.StepSizes();

        Assert.Equal(1.0, Sum(steps), 1e-14);
        Assert.True(alphas[0] > 0 && alphas[n - 1] < 1);
        double exp = 0, oscillating = 0, high = 0;
        for (int i = 0; i < n; i++)
        {
            if (i > 0)
            {
                Assert.True(alphas[i] > alphas[i - 1], $"alphas not ascending at {i}");
            }

            Assert.Equal(alphas[i], 1 - alphas[n - 1 - i], 1e-15);
            Assert.Equal(steps[i], steps[n - 1 - i]);
            exp += steps[i] * Math.Exp(alphas[i]);
            oscillating += steps[i] * Math.Cos(200 * alphas[i]);
            high += steps[i] * Math.Pow(alphas[i], 999);
        }

        Assert.Equal(Math.E - 1, exp, 1e-14);
        Assert.Equal(Math.Sin(200) / 200, oscillating, 1e-14);
        Assert.Equal(1e-3, high, 1e-16);
    }

    [Theory]
    [MemberData(nameof(AllRules))]
    public void StepSizesSumToOne(IntegrationRule rule)
    {
        foreach (int n in new[] { 2, 3, 10, 49, 50, 51, 500 })
        {
            QuadratureRule table = Quadrature.Get(rule, n);
            Assert.Equal(rule, table.Rule);
            Assert.Equal(n, table.Count);
            Assert.Equal(n, table.StepSizes().Length);
            Assert.Equal(1.0, Sum(table.StepSizes()), 1e-14);
            foreach (double alpha in table.Alphas())
            {
                Assert.InRange(alpha, 0.0, 1.0);
            }
        }
    }

    [Fact]
    public void RejectsPointsOutsideTheRangeNamingTheRuleAndTheRange()
    {
        Assert.Equal(2, Quadrature.MinimumPoints(IntegrationRule.RiemannTrapezoid));
        Assert.Equal(2, Quadrature.MinimumPoints(IntegrationRule.RiemannLeft));
        Assert.Equal(2, Quadrature.MinimumPoints(IntegrationRule.RiemannRight));
        Assert.Equal(2, Quadrature.MinimumPoints(IntegrationRule.RiemannMiddle));
        Assert.Equal(1, Quadrature.MinimumPoints(IntegrationRule.GaussLegendre));
        Assert.Equal((1 << 24) + 1, Quadrature.MaxPoints);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Quadrature.Get(IntegrationRule.RiemannTrapezoid, 1));
        Assert.StartsWith("The RiemannTrapezoid rule takes 2 to 16777217 points; got 1.", e.Message);
        Assert.Equal("points", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Quadrature.Get(IntegrationRule.GaussLegendre, 0));
        Assert.StartsWith("The GaussLegendre rule takes 1 to 16777217 points; got 0.", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Quadrature.Get(IntegrationRule.RiemannMiddle, -5));
        Assert.StartsWith("The RiemannMiddle rule takes 2 to 16777217 points; got -5.", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Quadrature.Get(IntegrationRule.GaussLegendre, Quadrature.MaxPoints + 1));
        Assert.StartsWith("The GaussLegendre rule takes 1 to 16777217 points; got 16777218.", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Quadrature.Get(IntegrationRule.RiemannLeft, int.MaxValue));
        Assert.StartsWith("The RiemannLeft rule takes 2 to 16777217 points; got 2147483647.", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Quadrature.Get((IntegrationRule)42, 10));
        Assert.StartsWith("Integration rule 42 is not defined.", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Quadrature.MinimumPoints((IntegrationRule)(-1)));
        Assert.Equal(Quadrature.MaxPoints, Quadrature.Get(IntegrationRule.GaussLegendre, Quadrature.MaxPoints).Count);
    }

    [Fact]
    public void ReadingOutsideTheRuleIsRefusedNamingTheRange()
    {
        var rule = Quadrature.Get(IntegrationRule.RiemannLeft, 10);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => rule.Alpha(10));
        Assert.StartsWith("Points 10 to 10 are not all within the 10 points of this RiemannLeft rule.", e.Message);
        Assert.Equal("index", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => rule.StepSize(-1));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => rule.CopyAlphas(5, new double[6]));
        Assert.StartsWith("Points 5 to 10 are not all within the 10 points of this RiemannLeft rule.", e.Message);
        Assert.Equal("start", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => rule.CopyStepSizes(int.MaxValue, new double[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Quadrature.Get(IntegrationRule.GaussLegendre, 20).CopyAlphas(-1, new double[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Quadrature.Get(IntegrationRule.GaussLegendre, 2000).StepSize(2000));
    }

    [Theory]
    [MemberData(nameof(AllRules))]
    public void SinglePointsAndRangesAgree(IntegrationRule rule)
    {
        foreach (int n in new[] { 2, 7, 64, 513, 4099 })
        {
            var table = Quadrature.Get(rule, n);
            var alphas = table.Alphas();
            var steps = table.StepSizes();
            var piece = new double[Math.Min(n, 37)];
            for (int start = 0; start < n; start += piece.Length)
            {
                int count = Math.Min(piece.Length, n - start);
                table.CopyAlphas(start, piece.AsSpan(0, count));
                Assert.Equal(alphas.AsSpan(start, count).ToArray(), piece.AsSpan(0, count).ToArray());
                table.CopyStepSizes(start, piece.AsSpan(0, count));
                Assert.Equal(steps.AsSpan(start, count).ToArray(), piece.AsSpan(0, count).ToArray());
            }

            for (int i = 0; i < n; i++)
            {
                Assert.Equal(alphas[i], table.Alpha(i));
                Assert.Equal(steps[i], table.StepSize(i));
            }
        }
    }

    [Fact]
    public void AllocatesNothingOnceASmallGaussLegendreTableIsCached()
    {
        var first = Quadrature.Get(IntegrationRule.GaussLegendre, 64).Alphas();
        var buffer = new double[64];
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            Quadrature.Get(IntegrationRule.RiemannTrapezoid, 51 + i).CopyAlphas(0, buffer.AsSpan(0, 51));
            Quadrature.Get(IntegrationRule.GaussLegendre, 100_000 + i).CopyStepSizes(50, buffer);
            Quadrature.Get(IntegrationRule.GaussLegendre, 64).CopyAlphas(0, buffer);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(first, buffer);
    }

    [Fact]
    public void IsThreadSafe()
    {
        // More distinct tables than the cache holds, built and evicted by 16 threads at once, each read while others
        // replace cache slots.
        var expected = new double[12][];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = new double[300 + i];
            Quadrature.NewtonGaussLegendre(300 + i, expected[i], new double[300 + i]);
        }

        var failures = new System.Collections.Concurrent.ConcurrentBag<int>();
        Parallel.For(0, 8 * expected.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, k =>
        {
            int i = k % expected.Length;
            if (!expected[i].AsSpan().SequenceEqual(Quadrature.Get(IntegrationRule.GaussLegendre, 300 + i).Alphas()))
            {
                failures.Add(300 + i);
            }
        });
        Assert.Empty(failures);
    }
}
