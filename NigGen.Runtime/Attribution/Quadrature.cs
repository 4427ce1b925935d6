using System;
using System.Threading;

namespace NigGen;

/// <summary>
/// The points (alphas in [0, 1]) and step sizes of an integration rule with a given number of points, in double
/// precision, from <see cref="Quadrature.Get"/>. The Riemann rules, and Gauss-Legendre rules of more than
/// <see cref="Quadrature.MaxTabulatedGaussLegendrePoints"/> points, compute each entry from its index when asked:
/// nothing is stored, so a rule of any size costs no memory. Smaller Gauss-Legendre rules read a table that
/// <see cref="Quadrature"/> keeps in a small cache.
/// </summary>
public readonly struct QuadratureRule
{
    // Gauss-Legendre rules of at most Quadrature.MaxTabulatedGaussLegendrePoints points only; null otherwise.
    private readonly double[]? _alphas;
    private readonly double[]? _stepSizes;

    internal QuadratureRule(IntegrationRule rule, int count, double[]? alphas, double[]? stepSizes)
    {
        Rule = rule;
        Count = count;
        _alphas = alphas;
        _stepSizes = stepSizes;
    }

    /// <summary>The rule.</summary>
    public IntegrationRule Rule { get; }

    /// <summary>The number of points.</summary>
    public int Count { get; }

    /// <summary>The point at <paramref name="index"/> along the path; points ascend as Captum's <c>alphas(n)</c> returns them.</summary>
    /// <param name="index">The point's index, in [0, <see cref="Count"/>).</param>
    /// <returns>The point, in [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Count"/>).</exception>
    public double Alpha(int index)
    {
        RequireRange(index, 1, nameof(index));
        if (_alphas is not null)
        {
            return _alphas[index];
        }

        return Rule == IntegrationRule.GaussLegendre ? Quadrature.GaussLegendrePoint(Count, index).Alpha : Quadrature.LinspacePoint(Rule, Count, index);
    }

    /// <summary>
    /// The weight of the point at <paramref name="index"/> (Captum's <c>step_sizes(n)</c>, except for the trapezoid rule,
    /// whose steps here sum to 1; see <see cref="IntegrationRule.RiemannTrapezoid"/>).
    /// </summary>
    /// <param name="index">The point's index, in [0, <see cref="Count"/>).</param>
    /// <returns>The weight.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Count"/>).</exception>
    public double StepSize(int index)
    {
        RequireRange(index, 1, nameof(index));
        if (_stepSizes is not null)
        {
            return _stepSizes[index];
        }

        return Rule == IntegrationRule.GaussLegendre ? Quadrature.GaussLegendrePoint(Count, index).StepSize : Quadrature.RiemannStepSize(Rule, Count, index);
    }

    /// <summary>Writes the points <paramref name="start"/> … <paramref name="start"/> + destination.Length − 1 into <paramref name="destination"/>.</summary>
    /// <param name="start">The first point's index.</param>
    /// <param name="destination">Where the points go; its length is the number of points copied.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not within [0, <see cref="Count"/>).</exception>
    public void CopyAlphas(int start, Span<double> destination)
    {
        RequireRange(start, destination.Length, nameof(start));
        if (_alphas is not null)
        {
            _alphas.AsSpan(start, destination.Length).CopyTo(destination);
        }
        else if (Rule == IntegrationRule.GaussLegendre)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = Quadrature.GaussLegendrePoint(Count, start + i).Alpha;
            }
        }
        else
        {
            Quadrature.Linspace(Rule, Count, start, destination);
        }
    }

    /// <summary>Writes the step sizes <paramref name="start"/> … <paramref name="start"/> + destination.Length − 1 into <paramref name="destination"/>.</summary>
    /// <param name="start">The first point's index.</param>
    /// <param name="destination">Where the step sizes go; its length is the number of points copied.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not within [0, <see cref="Count"/>).</exception>
    public void CopyStepSizes(int start, Span<double> destination)
    {
        RequireRange(start, destination.Length, nameof(start));
        if (_stepSizes is not null)
        {
            _stepSizes.AsSpan(start, destination.Length).CopyTo(destination);
            return;
        }

        for (int i = 0; i < destination.Length; i++)
        {
            int index = start + i;
            destination[i] = Rule == IntegrationRule.GaussLegendre ? Quadrature.GaussLegendrePoint(Count, index).StepSize : Quadrature.RiemannStepSize(Rule, Count, index);
        }
    }

    private void RequireRange(int start, int length, string parameterName)
    {
        if (start < 0 || (long)start + length > Count)
        {
            throw new ArgumentOutOfRangeException(parameterName, start, $"Points {start} to {(long)start + length - 1} are not all within the {Count} points of this {Rule} rule.");
        }
    }
}

/// <summary>
/// The quadrature rules of Captum's <c>approximation_methods</c>: Riemann sums (left, right, middle, trapezoid) on
/// numpy-style linspaces and Gauss-Legendre nodes mapped to [0, 1].
/// </summary>
/// <remarks>
/// Memory and time are bounded for any number of points: the Riemann rules are closed forms evaluated per point, and
/// Gauss-Legendre rules above <see cref="MaxTabulatedGaussLegendrePoints"/> points use Bogaert's iteration-free
/// asymptotic expansions (O(1) per point). Only the small Gauss-Legendre rules are tables, built by Newton iteration
/// (O(n²), at most about a millisecond) and kept in a cache of the <see cref="CachedGaussLegendreTables"/> most recently
/// built.
/// </remarks>
public static class Quadrature
{
    /// <summary>
    /// The most points <see cref="Get"/> accepts: 2²⁴ + 1, the points of Neuron Integrated Gradients at
    /// <see cref="AttributionOptions.MaxSteps"/> steps. Beyond 2²⁴ steps neighbouring points of a linspace on [0, 1]
    /// round to the same float32 alpha (float32 has 2²⁴ values in [0.5, 1)), so more points add work but no resolution.
    /// </summary>
    public const int MaxPoints = AttributionOptions.MaxSteps + 1;

    /// <summary>
    /// The largest Gauss-Legendre rule built by Newton iteration as a table (and cached); larger ones use Bogaert's
    /// expansions. 512 covers Captum's 500 steps, the tests' largest Gauss-Legendre rule whose results are compared
    /// with stored ones, so those keep every bit; the asymptotic nodes differ from the Newton ones by about 1e-16.
    /// </summary>
    public const int MaxTabulatedGaussLegendrePoints = 512;

    /// <summary>How many Gauss-Legendre tables the cache keeps: the most recently built ones (at most 64 KiB in all).</summary>
    public const int CachedGaussLegendreTables = 8;

    private sealed record GaussLegendreTable(int Points, double[] Alphas, double[] StepSizes);

    // Slots written round-robin: the cache holds the CachedGaussLegendreTables tables built last. Tables are immutable
    // once published, so readers need no lock; two threads building the same table both publish an equal one.
    private static readonly GaussLegendreTable?[] RecentTables = new GaussLegendreTable?[CachedGaussLegendreTables];
    private static int s_tablesBuilt;

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
    /// Returns the points and step sizes of <paramref name="rule"/> with <paramref name="points"/> points. Allocates
    /// nothing except when it builds a Gauss-Legendre table of at most <see cref="MaxTabulatedGaussLegendrePoints"/>
    /// points that is not in the cache. Thread-safe.
    /// </summary>
    /// <param name="rule">The rule.</param>
    /// <param name="points">The number of points, from <see cref="MinimumPoints"/> to <see cref="MaxPoints"/>.</param>
    /// <returns>The rule.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="rule"/> is not defined, or <paramref name="points"/> is outside its range.
    /// </exception>
    public static QuadratureRule Get(IntegrationRule rule, int points)
    {
        int minimum = MinimumPoints(rule);
        if (points < minimum || points > MaxPoints)
        {
            throw new ArgumentOutOfRangeException(
                nameof(points), points, $"The {rule} rule takes {minimum} to {MaxPoints} points; got {points}.");
        }

        if (rule != IntegrationRule.GaussLegendre || points > MaxTabulatedGaussLegendrePoints)
        {
            return new QuadratureRule(rule, points, null, null);
        }

        var table = TabulatedGaussLegendre(points);
        return new QuadratureRule(rule, points, table.Alphas, table.StepSizes);
    }

    private static GaussLegendreTable TabulatedGaussLegendre(int points)
    {
        for (int slot = 0; slot < RecentTables.Length; slot++)
        {
            var cached = Volatile.Read(ref RecentTables[slot]);
            if (cached?.Points == points)
            {
                return cached;
            }
        }

        var alphas = new double[points];
        var steps = new double[points];
        NewtonGaussLegendre(points, alphas, steps);
        var table = new GaussLegendreTable(points, alphas, steps);
        int next = (int)((uint)(Interlocked.Increment(ref s_tablesBuilt) - 1) % CachedGaussLegendreTables);
        Volatile.Write(ref RecentTables[next], table);
        return table;
    }

    // numpy.linspace's arithmetic, as the tables of earlier versions held it: start + i·step with
    // step = (stop − start)/(n − 1), the last element exactly stop. Every expression below is the one those tables
    // were filled with, so each point is the same double bit for bit.
    private static (double Start, double Stop) LinspaceBounds(IntegrationRule rule, int n) => rule switch
    {
        IntegrationRule.RiemannLeft => (0.0, 1.0 - 1.0 / n),
        IntegrationRule.RiemannRight => (1.0 / n, 1.0),
        IntegrationRule.RiemannMiddle => (1.0 / (2.0 * n), 1.0 - 1.0 / (2.0 * n)),
        _ => (0.0, 1.0),
    };

    internal static double LinspacePoint(IntegrationRule rule, int n, int index)
    {
        var (start, stop) = LinspaceBounds(rule, n);
        double step = (stop - start) / (n - 1);
        return index == n - 1 ? stop : index * step + start;
    }

    internal static void Linspace(IntegrationRule rule, int n, int first, Span<double> destination)
    {
        var (start, stop) = LinspaceBounds(rule, n);
        double step = (stop - start) / (n - 1);
        for (int i = 0; i < destination.Length; i++)
        {
            int index = first + i;
            destination[i] = index == n - 1 ? stop : index * step + start;
        }
    }

    // The trapezoid's correct weights, summing to 1 (Captum uses 1/n with halved ends, summing to 1 − 1/n); 1/n otherwise.
    internal static double RiemannStepSize(IntegrationRule rule, int n, int index) =>
        rule != IntegrationRule.RiemannTrapezoid ? 1.0 / n
        : index == 0 || index == n - 1 ? 0.5 / (n - 1)
        : 1.0 / (n - 1);

    /// <summary>
    /// Point <paramref name="index"/> (ascending) of the n-point Gauss-Legendre rule on [0, 1] from Bogaert's expansions:
    /// the node nearer an end is sin²(θ/2) from it, θ the k-th angle from that end, so points near 0 keep their
    /// relative precision; the middle point of an odd rule is exactly 0.5.
    /// </summary>
    internal static (double Alpha, double StepSize) GaussLegendrePoint(int n, int index)
    {
        int fromEnd = Math.Min(index, n - 1 - index);
        var (theta, weight) = BogaertNode(n, fromEnd + 1);
        double alpha;
        if (2 * index + 1 == n)
        {
            alpha = 0.5;
        }
        else
        {
            double half = Math.Sin(0.5 * theta);
            double distance = half * half;
            alpha = index == fromEnd ? distance : 1.0 - distance;
        }

        return (alpha, 0.5 * weight);
    }

    /// <summary>
    /// The k-th (1-based, k ≤ (n + 1)/2) node angle θ (x = cos θ, counted from x = 1) and weight on [−1, 1] of the
    /// n-point Gauss-Legendre rule, without iteration: I. Bogaert, "Iteration-free computation of Gauss-Legendre
    /// quadrature nodes and weights", SIAM J. Sci. Comput. 36(3), A1008–A1026 (2014). The node is an expansion in
    /// powers of 1/(n + ½)² around the Bessel zero j₀,ₖ scaled by 1/(n + ½), the weight one around J₁(j₀,ₖ)²; the
    /// coefficient functions are the paper's Chebyshev interpolants. Accurate to about 1e-16 for n above 100.
    /// </summary>
    private static (double Theta, double Weight) BogaertNode(int n, int k)
    {
        double w = 1.0 / (n + 0.5);
        double nu = BesselJ0Zero(k);
        double theta = w * nu;
        double x = theta * theta;
        double b = BesselJ1SquaredAtJ0Zero(k);

        double nodeTerm1 = (((((-1.29052996274280508473467968379e-12 * x + 2.40724685864330121825976175184e-10) * x
            - 3.13148654635992041468855740012e-8) * x + 0.275573168962061235623801563453e-5) * x
            - 0.148809523713909147898955880165e-3) * x + 0.416666666665193394525296923981e-2) * x
            - 0.416666666666662959639712457549e-1;
        double nodeTerm2 = (((((2.20639421781871003734786884322e-9 * x - 7.53036771373769326811030753538e-8) * x
            + 0.161969259453836261731700382098e-5) * x - 0.253300326008232025914059965302e-4) * x
            + 0.282116886057560434805998583817e-3) * x - 0.209022248387852902722635654229e-2) * x
            + 0.815972221772932265640401128517e-2;
        double nodeTerm3 = (((((-2.97058225375526229899781956673e-8 * x + 5.55845330223796209655886325712e-7) * x
            - 0.567797841356833081642185432056e-5) * x + 0.418498100329504574443885193835e-4) * x
            - 0.251395293283965914823026348764e-3) * x + 0.128654198542845137196151147483e-2) * x
            - 0.416012165620204364833694266818e-2;

        double weightTerm1 = ((((((((-2.20902861044616638398573427475e-14 * x + 2.30365726860377376873232578871e-12) * x
            - 1.75257700735423807659851042318e-10) * x + 1.03756066927916795821098009353e-8) * x
            - 4.63968647553221331251529631098e-7) * x + 0.149644593625028648361395938176e-4) * x
            - 0.326278659594412170300449074873e-3) * x + 0.436507936507598105249726413120e-2) * x
            - 0.305555555555553028279487898503e-1) * x + 0.833333333333333302184063103900e-1;
        double weightTerm2 = (((((((3.63117412152654783455929483029e-12 * x + 7.67643545069893130779501844323e-11) * x
            - 7.12912857233642220650643150625e-9) * x + 2.11483880685947151466370130277e-7) * x
            - 0.381817918680045468483009307090e-5) * x + 0.465969530694968391417927388162e-4) * x
            - 0.407297185611335764191683161117e-3) * x + 0.268959435694729660779984493795e-2) * x
            - 0.111111111111214923138249347172e-1;
        double weightTerm3 = (((((((2.01826791256703301806643264922e-9 * x - 4.38647122520206649251063212545e-8) * x
            + 5.08898347288671653137451093208e-7) * x - 0.397933316519135275712977531366e-5) * x
            + 0.200559326396458326778521795392e-4) * x - 0.422888059282921161626339411388e-4) * x
            - 0.105646050254076140548678457002e-3) * x - 0.947969308958577323145923317955e-4) * x
            + 0.656966489926484797412985260842e-2;

        double nuOverSin = nu / Math.Sin(theta);
        double scaled = w * w * nuOverSin;
        double scaled2 = scaled * scaled;
        double nodeTheta = w * (nu + theta * scaled * (nodeTerm1 + scaled2 * (nodeTerm2 + scaled2 * nodeTerm3)));
        double bNuOverSin = b * nuOverSin;
        double denominator = bNuOverSin + bNuOverSin * scaled2 * (weightTerm1 + scaled2 * (weightTerm2 + scaled2 * weightTerm3));
        return (nodeTheta, 2.0 * w / denominator);
    }

    // The first 20 positive zeros of J₀, to 30 digits.
    private static readonly double[] J0Zeros =
    [
        2.40482555769577276862163187933, 5.52007811028631064959660411281, 8.65372791291101221695419871266,
        11.7915344390142816137430449119, 14.9309177084877859477625939974, 18.0710639679109225431478829756,
        21.2116366298792589590783933505, 24.3524715307493027370579447632, 27.4934791320402547958772882346,
        30.6346064684319751175495789269, 33.7758202135735686842385463467, 36.9170983536640439797694930633,
        40.0584257646282392947993073740, 43.1997917131767303575240727287, 46.3411883716618140186857888791,
        49.4826098973978171736027615332, 52.6240518411149960292512853804, 55.7655107550199793116834927735,
        58.9069839260809421328344066346, 62.0484691902271698828525002646,
    ];

    // J₁(j₀,ₖ)² for k = 1 … 21.
    private static readonly double[] J1SquaredAtJ0Zeros =
    [
        0.269514123941916926139021992911, 0.115780138582203695807812836182, 0.0736863511364082151406476811985,
        0.0540375731981162820417749182758, 0.0426614290172430912655106063495, 0.0352421034909961013587473033648,
        0.0300210701030546726750888157688, 0.0261473914953080885904584675399, 0.0231591218246913922652676382178,
        0.0207838291222678576039808057297, 0.0188504506693176678161056800214, 0.0172461575696650082995240053542,
        0.0158935181059235978027065594287, 0.0147376260964721895895742982592, 0.0137384651453871179182880484134,
        0.0128661817376151328791406637228, 0.0120980515486267975471075438497, 0.0114164712244916085168627222986,
        0.0108075927911802040115547286830, 0.0102603729262807628110423992790, 0.00976589713979105054059846736696,
    ];

    // The k-th zero of J₀: tabulated, then McMahon's expansion in 1/(π(k − ¼)).
    private static double BesselJ0Zero(int k)
    {
        if (k <= J0Zeros.Length)
        {
            return J0Zeros[k - 1];
        }

        double z = Math.PI * (k - 0.25);
        double r = 1.0 / z;
        double r2 = r * r;
        return z + r * (0.125 + r2 * (-0.807291666666666666666666666667e-1 + r2 * (0.246028645833333333333333333333
            + r2 * (-1.82443876720610119047619047619 + r2 * (25.3364147973439050099206349206 + r2 * (-567.644412135183381139802038240
            + r2 * (18690.4765282320653831636345064 + r2 * (-8.49353580299148769921876983660e5 + r2 * 5.09225462402226769498681286758e7))))))));
    }

    // J₁(j₀,ₖ)²: tabulated, then its expansion in 1/(k − ¼).
    private static double BesselJ1SquaredAtJ0Zero(int k)
    {
        if (k <= J1SquaredAtJ0Zeros.Length)
        {
            return J1SquaredAtJ0Zeros[k - 1];
        }

        double x = 1.0 / (k - 0.25);
        double x2 = x * x;
        return x * (0.202642367284675542887758926420 + x2 * x2 * (-0.303380429711290253026202643516e-3
            + x2 * (0.198924364245969295201137972743e-3 + x2 * (-0.228969902772111653038747229723e-3
            + x2 * (0.433710719130746277915572905025e-3 + x2 * (-0.123632349727175414724737657367e-2
            + x2 * (0.496101423268883102872271417616e-2 + x2 * (-0.266837393702323757700998557826e-1
            + x2 * 0.185395398206345628711318848386))))))));
    }

    /// <summary>
    /// Gauss-Legendre nodes and weights on [−1, 1] by Newton iteration on the Legendre recurrence, mapped to [0, 1]:
    /// alphas 0.5·(1 + x), steps 0.5·w, ascending like numpy's <c>leggauss</c>. Nodes are computed for one half and
    /// mirrored, so the table is exactly symmetric; weights are rescaled to sum to 2 as <c>leggauss</c> does. Each
    /// Newton step runs the O(n) recurrence, so the table costs O(n²): used up to
    /// <see cref="MaxTabulatedGaussLegendrePoints"/> points only, and by the tests as the reference for the expansions.
    /// </summary>
    internal static void NewtonGaussLegendre(int n, Span<double> alphas, Span<double> steps)
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
