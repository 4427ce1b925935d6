using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// The standard normal distribution function Φ(x) and density φ(x) in double precision, for GELU. .NET has no erf, so
/// erf and erfc come from W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations for the
/// error function", Math. Comp. 23 (1969) 631–638; netlib specfun CALERF): erf(t) = t·R₁(t²) for |t| ≤ 0.46875,
/// erfc(t) = e^−t²·R₂(t) for 0.46875 &lt; t ≤ 4 and e^−t²·(1/√π − R₃(1/t²)/t²)/t beyond, each within a few 1e-16 in
/// double. Φ(x) = ½(1 + erf(x/√2)) near 0, else 1 − ½·erfc(x/√2) for positive and ½·erfc(−x/√2) for negative x, so
/// the negative tail keeps its full relative precision (no 1 + erf cancellation). e^−t² is also ½x²'s exponential,
/// which gives the density at no extra cost. Rounded to float these are correctly rounded except within about 1e-15
/// of a halfway point. The vector forms compute every lane through all three approximations and select (no lane's
/// result depends on its neighbours); the scalar form follows the same formulas with Math.Exp.
/// </summary>
internal static class NormalDistribution
{
    private const double InverseSqrt2 = 0.70710678118654752440;
    private const double InverseSqrtPi = 0.56418958354775628695;
    private const double InverseSqrt2Pi = 0.39894228040143267794;

    /// <summary>|x/√2| up to which erf's own approximation is used (Cody's first interval).</summary>
    private const double CentralLimit = 0.46875;

    /// <summary>|x/√2| above which erfc's asymptotic approximation is used (Cody's third interval).</summary>
    private const double TailFrom = 4.0;

    /// <summary>Φ(x), and φ(x) in <paramref name="density"/>. NaN gives NaN; ±∞ give 1 or 0 (density 0).</summary>
    public static double Cdf(double x, out double density)
    {
        double t = x * InverseSqrt2;
        double y = Math.Abs(t);
        double gauss = Math.Exp(-(y * y));
        density = gauss * InverseSqrt2Pi;
        if (y <= CentralLimit)
        {
            return 0.5 + 0.5 * (t * Central(t * t));
        }

        double erfc = gauss * (y <= TailFrom ? Middle(y) : Tail(y));
        return t > 0 ? 1.0 - 0.5 * erfc : 0.5 * erfc;
    }

    /// <inheritdoc cref="Cdf(double, out double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Cdf(Vector256<double> x, out Vector256<double> density)
    {
        Vector256<double> t = x * InverseSqrt2;
        Vector256<double> y = Vector256.Abs(t);
        Vector256<double> s = y * y;
        Vector256<double> gauss = Vector256.Exp(-s);
        density = gauss * InverseSqrt2Pi;
        Vector256<double> central = Vector256.Create(0.5) + Vector256.Create(0.5) * (t * Central(s));
        Vector256<double> erfc = gauss * Vector256.ConditionalSelect(Vector256.LessThanOrEqual(y, Vector256.Create(TailFrom)), Middle(y), Tail(y));
        Vector256<double> half = Vector256.Create(0.5) * erfc;
        Vector256<double> outer = Vector256.ConditionalSelect(Vector256.GreaterThan(t, Vector256<double>.Zero), Vector256<double>.One - half, half);
        return Vector256.ConditionalSelect(Vector256.LessThanOrEqual(y, Vector256.Create(CentralLimit)), central, outer);
    }

    /// <inheritdoc cref="Cdf(double, out double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Cdf(Vector512<double> x, out Vector512<double> density)
    {
        Vector512<double> t = x * InverseSqrt2;
        Vector512<double> y = Vector512.Abs(t);
        Vector512<double> s = y * y;
        Vector512<double> gauss = Vector512.Exp(-s);
        density = gauss * InverseSqrt2Pi;
        Vector512<double> central = Vector512.Create(0.5) + Vector512.Create(0.5) * (t * Central(s));
        Vector512<double> erfc = gauss * Vector512.ConditionalSelect(Vector512.LessThanOrEqual(y, Vector512.Create(TailFrom)), Middle(y), Tail(y));
        Vector512<double> half = Vector512.Create(0.5) * erfc;
        Vector512<double> outer = Vector512.ConditionalSelect(Vector512.GreaterThan(t, Vector512<double>.Zero), Vector512<double>.One - half, half);
        return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(y, Vector512.Create(CentralLimit)), central, outer);
    }

    // erf(t) / t as a function of s = t², |t| ≤ 0.46875.
    private static double Central(double s) =>
        ((((A4 * s + A0) * s + A1) * s + A2) * s + A3) / ((((s + B0) * s + B1) * s + B2) * s + B3);

    // erfc(y)·e^y², 0.46875 < y ≤ 4.
    private static double Middle(double y) =>
        ((((((((C8 * y + C0) * y + C1) * y + C2) * y + C3) * y + C4) * y + C5) * y + C6) * y + C7)
        / ((((((((y + D0) * y + D1) * y + D2) * y + D3) * y + D4) * y + D5) * y + D6) * y + D7);

    // erfc(y)·e^y², y > 4.
    private static double Tail(double y)
    {
        double z = 1.0 / (y * y);
        double r = z * (((((P5 * z + P0) * z + P1) * z + P2) * z + P3) * z + P4) / (((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4);
        return (InverseSqrtPi - r) / y;
    }

    private static Vector256<double> Central(Vector256<double> s) =>
        ((((Vector256.Create(A4) * s + Vector256.Create(A0)) * s + Vector256.Create(A1)) * s + Vector256.Create(A2)) * s + Vector256.Create(A3))
        / ((((s + Vector256.Create(B0)) * s + Vector256.Create(B1)) * s + Vector256.Create(B2)) * s + Vector256.Create(B3));

    private static Vector256<double> Middle(Vector256<double> y)
    {
        Vector256<double> n = Vector256.Create(C8) * y + Vector256.Create(C0);
        n = n * y + Vector256.Create(C1);
        n = n * y + Vector256.Create(C2);
        n = n * y + Vector256.Create(C3);
        n = n * y + Vector256.Create(C4);
        n = n * y + Vector256.Create(C5);
        n = n * y + Vector256.Create(C6);
        n = n * y + Vector256.Create(C7);
        Vector256<double> d = y + Vector256.Create(D0);
        d = d * y + Vector256.Create(D1);
        d = d * y + Vector256.Create(D2);
        d = d * y + Vector256.Create(D3);
        d = d * y + Vector256.Create(D4);
        d = d * y + Vector256.Create(D5);
        d = d * y + Vector256.Create(D6);
        d = d * y + Vector256.Create(D7);
        return n / d;
    }

    private static Vector256<double> Tail(Vector256<double> y)
    {
        Vector256<double> z = Vector256<double>.One / (y * y);
        Vector256<double> n = Vector256.Create(P5) * z + Vector256.Create(P0);
        n = n * z + Vector256.Create(P1);
        n = n * z + Vector256.Create(P2);
        n = n * z + Vector256.Create(P3);
        n = n * z + Vector256.Create(P4);
        Vector256<double> d = z + Vector256.Create(Q0);
        d = d * z + Vector256.Create(Q1);
        d = d * z + Vector256.Create(Q2);
        d = d * z + Vector256.Create(Q3);
        d = d * z + Vector256.Create(Q4);
        return (Vector256.Create(InverseSqrtPi) - z * n / d) / y;
    }

    private static Vector512<double> Central(Vector512<double> s) =>
        ((((Vector512.Create(A4) * s + Vector512.Create(A0)) * s + Vector512.Create(A1)) * s + Vector512.Create(A2)) * s + Vector512.Create(A3))
        / ((((s + Vector512.Create(B0)) * s + Vector512.Create(B1)) * s + Vector512.Create(B2)) * s + Vector512.Create(B3));

    private static Vector512<double> Middle(Vector512<double> y)
    {
        Vector512<double> n = Vector512.Create(C8) * y + Vector512.Create(C0);
        n = n * y + Vector512.Create(C1);
        n = n * y + Vector512.Create(C2);
        n = n * y + Vector512.Create(C3);
        n = n * y + Vector512.Create(C4);
        n = n * y + Vector512.Create(C5);
        n = n * y + Vector512.Create(C6);
        n = n * y + Vector512.Create(C7);
        Vector512<double> d = y + Vector512.Create(D0);
        d = d * y + Vector512.Create(D1);
        d = d * y + Vector512.Create(D2);
        d = d * y + Vector512.Create(D3);
        d = d * y + Vector512.Create(D4);
        d = d * y + Vector512.Create(D5);
        d = d * y + Vector512.Create(D6);
        d = d * y + Vector512.Create(D7);
        return n / d;
    }

    private static Vector512<double> Tail(Vector512<double> y)
    {
        Vector512<double> z = Vector512<double>.One / (y * y);
        Vector512<double> n = Vector512.Create(P5) * z + Vector512.Create(P0);
        n = n * z + Vector512.Create(P1);
        n = n * z + Vector512.Create(P2);
        n = n * z + Vector512.Create(P3);
        n = n * z + Vector512.Create(P4);
        Vector512<double> d = z + Vector512.Create(Q0);
        d = d * z + Vector512.Create(Q1);
        d = d * z + Vector512.Create(Q2);
        d = d * z + Vector512.Create(Q3);
        d = d * z + Vector512.Create(Q4);
        return (Vector512.Create(InverseSqrtPi) - z * n / d) / y;
    }

    // Cody's coefficients, as published.
    private const double A0 = 3.16112374387056560e00, A1 = 1.13864154151050156e02, A2 = 3.77485237685302021e02;
    private const double A3 = 3.20937758913846947e03, A4 = 1.85777706184603153e-1;
    private const double B0 = 2.36012909523441209e01, B1 = 2.44024637934444173e02, B2 = 1.28261652607737228e03;
    private const double B3 = 2.84423683343917062e03;
    private const double C0 = 5.64188496988670089e-1, C1 = 8.88314979438837594e00, C2 = 6.61191906371416295e01;
    private const double C3 = 2.98635138197400131e02, C4 = 8.81952221241769090e02, C5 = 1.71204761263407058e03;
    private const double C6 = 2.05107837782607147e03, C7 = 1.23033935479799725e03, C8 = 2.15311535474403846e-8;
    private const double D0 = 1.57449261107098347e01, D1 = 1.17693950891312499e02, D2 = 5.37181101862009858e02;
    private const double D3 = 1.62138957456669019e03, D4 = 3.29079923573345963e03, D5 = 4.36261909014324716e03;
    private const double D6 = 3.43936767414372164e03, D7 = 1.23033935480374942e03;
    private const double P0 = 3.05326634961232344e-1, P1 = 3.60344899949804439e-1, P2 = 1.25781726111229246e-1;
    private const double P3 = 1.60837851487422766e-2, P4 = 6.58749161529837803e-4, P5 = 1.63153871373020978e-2;
    private const double Q0 = 2.56852019228982242e00, Q1 = 1.87295284992346047e00, Q2 = 5.27905102951428412e-1;
    private const double Q3 = 6.05183413124413191e-2, Q4 = 2.33520497626869185e-3;
}
