using System;
using System.Collections.Concurrent;

namespace NigGen;

/// <summary>
/// Points (alphas in [0, 1]) and step sizes of an integration rule with a given number of points, computed in double
/// precision. Obtained from <see cref="Quadrature.Get"/>, which caches one immutable table per (rule, points) pair.
/// </summary>
public sealed class QuadratureTable
{
    private readonly double[] _alphas;
    private readonly double[] _stepSizes;

    internal QuadratureTable(IntegrationRule rule, double[] alphas, double[] stepSizes)
    {
        Rule = rule;
        _alphas = alphas;
        _stepSizes = stepSizes;
    }

    /// <summary>The rule the table belongs to.</summary>
    public IntegrationRule Rule { get; }

    /// <summary>The number of points.</summary>
    public int Count => _alphas.Length;

    /// <summary>The points along the path, in ascending order, as Captum's <c>alphas(n)</c> returns them.</summary>
    public ReadOnlySpan<double> Alphas => _alphas;

    /// <summary>
    /// The weight of each point (Captum's <c>step_sizes(n)</c>, except for the trapezoid rule, whose steps here sum
    /// to 1; see <see cref="IntegrationRule.RiemannTrapezoid"/>).
    /// </summary>
    public ReadOnlySpan<double> StepSizes => _stepSizes;
}

/// <summary>
/// The quadrature rules of Captum's <c>approximation_methods</c>: Riemann sums (left, right, middle, trapezoid) on
/// numpy-style linspaces and Gauss-Legendre nodes mapped to [0, 1].
/// </summary>
public static class Quadrature
{
    private static readonly ConcurrentDictionary<long, QuadratureTable> Cache = new();

    /// <summary>The fewest points <paramref name="rule"/> accepts: 2 for the Riemann rules, 1 for Gauss-Legendre (as Captum).</summary>
    /// <param name="rule">The rule.</param>
    /// <returns>The minimum number of points.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rule"/> is not a defined value.</exception>
    public static int MinimumPoints(IntegrationRule rule) => rule switch
    {
        IntegrationRule.RiemannTrapezoid or IntegrationRule.RiemannLeft
            or IntegrationRule.RiemannRight or IntegrationRule.RiemannMiddle => 2,
        IntegrationRule.GaussLegendre => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, $"Integration rule {(int)rule} is not defined."),
    };

    /// <summary>
    /// Returns the points and step sizes of <paramref name="rule"/> with <paramref name="points"/> points. The table is
    /// computed once per (rule, points) pair and then shared; later calls allocate nothing. Thread-safe.
    /// </summary>
    /// <param name="rule">The rule.</param>
    /// <param name="points">The number of points, at least <see cref="MinimumPoints"/>.</param>
    /// <returns>The shared, immutable table.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="rule"/> is not defined, or <paramref name="points"/> is less than its minimum.
    /// </exception>
    /// <remarks>Gauss-Legendre tables cost O(points²) to build (well under a second for 5000 points).</remarks>
    public static QuadratureTable Get(IntegrationRule rule, int points)
    {
        int minimum = MinimumPoints(rule);
        if (points < minimum)
        {
            throw new ArgumentOutOfRangeException(
                nameof(points), points, $"The {rule} rule needs at least {minimum} points; got {points}.");
        }

        long key = ((long)rule << 32) | (uint)points;
        if (Cache.TryGetValue(key, out QuadratureTable? table))
        {
            return table;
        }

        // Two threads may build the same table; both are equal and GetOrAdd keeps one.
        return Cache.GetOrAdd(key, Build(rule, points));
    }

    private static QuadratureTable Build(IntegrationRule rule, int n)
    {
        var alphas = new double[n];
        var steps = new double[n];
        switch (rule)
        {
            case IntegrationRule.RiemannTrapezoid:
                Linspace(0.0, 1.0, alphas);
                // Correct trapezoid weights, summing to 1 (Captum uses 1/n with halved ends, summing to 1 − 1/n).
                steps.AsSpan().Fill(1.0 / (n - 1));
                steps[0] = 0.5 / (n - 1);
                steps[n - 1] = 0.5 / (n - 1);
                break;
            case IntegrationRule.RiemannLeft:
                Linspace(0.0, 1.0 - 1.0 / n, alphas);
                steps.AsSpan().Fill(1.0 / n);
                break;
            case IntegrationRule.RiemannRight:
                Linspace(1.0 / n, 1.0, alphas);
                steps.AsSpan().Fill(1.0 / n);
                break;
            case IntegrationRule.RiemannMiddle:
                Linspace(1.0 / (2.0 * n), 1.0 - 1.0 / (2.0 * n), alphas);
                steps.AsSpan().Fill(1.0 / n);
                break;
            default:
                GaussLegendre(n, alphas, steps);
                break;
        }

        return new QuadratureTable(rule, alphas, steps);
    }

    /// <summary>numpy.linspace's arithmetic: start + i·step with step = (stop − start)/(n − 1), last element exactly stop.</summary>
    private static void Linspace(double start, double stop, double[] result)
    {
        int n = result.Length;
        double step = (stop - start) / (n - 1);
        for (int i = 0; i < n; i++)
        {
            result[i] = i * step + start;
        }

        result[n - 1] = stop;
    }

    /// <summary>
    /// Gauss-Legendre nodes and weights on [−1, 1] by Newton iteration on the Legendre recurrence, mapped to [0, 1]:
    /// alphas 0.5·(1 + x), steps 0.5·w, ascending like numpy's <c>leggauss</c>. Nodes are computed for one half and
    /// mirrored, so the table is exactly symmetric; weights are rescaled to sum to 2 as <c>leggauss</c> does.
    /// </summary>
    private static void GaussLegendre(int n, double[] alphas, double[] steps)
    {
        var x = new double[n];
        var w = new double[n];
        for (int k = 0; k < (n + 1) / 2; k++)
        {
            // Tricomi's approximation of the k-th largest root, close enough for Newton to converge to that root.
            double z = (1.0 - (n - 1.0) / (8.0 * n * n * n)) * Math.Cos(Math.PI * (k + 0.75) / (n + 0.5));
            double derivative;
            if (2 * k + 1 == n)
            {
                z = 0.0; // The middle root of an odd-degree Legendre polynomial is exactly 0.
                derivative = LegendreDerivativeAt(n, z);
            }
            else
            {
                for (int iteration = 0; iteration < 100; iteration++)
                {
                    double dz = LegendreNewtonStep(n, z);
                    z -= dz;
                    if (Math.Abs(dz) <= 1e-15)
                    {
                        break;
                    }
                }

                derivative = LegendreDerivativeAt(n, z);
            }

            double weight = 2.0 / ((1.0 - z) * (1.0 + z) * derivative * derivative);
            x[n - 1 - k] = z;
            x[k] = -z;
            w[n - 1 - k] = weight;
            w[k] = weight;
        }

        double sum = 0.0;
        foreach (double weight in w)
        {
            sum += weight;
        }

        double scale = 2.0 / sum;
        for (int i = 0; i < n; i++)
        {
            alphas[i] = 0.5 * (1.0 + x[i]);
            steps[i] = 0.5 * (w[i] * scale);
        }
    }

    private static double LegendreNewtonStep(int n, double z)
    {
        (double p, double previous) = Legendre(n, z);
        double derivative = n * (previous - z * p) / ((1.0 - z) * (1.0 + z));
        return p / derivative;
    }

    private static double LegendreDerivativeAt(int n, double z)
    {
        (double p, double previous) = Legendre(n, z);
        return n * (previous - z * p) / ((1.0 - z) * (1.0 + z));
    }

    /// <summary>P_n(z) and P_{n−1}(z) by Bonnet's recurrence.</summary>
    private static (double P, double Previous) Legendre(int n, double z)
    {
        double previous = 1.0;
        double p = z;
        for (int k = 2; k <= n; k++)
        {
            double next = ((2 * k - 1) * z * p - (k - 1) * previous) / k;
            previous = p;
            p = next;
        }

        return n == 0 ? (1.0, 0.0) : (p, previous);
    }
}
