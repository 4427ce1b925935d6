using System;

namespace NigGen;

/// <summary>How the path integral from the baseline to the input is discretised (Captum's <c>method</c> argument).</summary>
public enum IntegrationRule
{
    /// <summary>
    /// Trapezoid rule on linspace(0, 1, n): the only rule whose points cover the whole path, so Neuron Integrated
    /// Gradients telescopes exactly to y(x) − y(x'). The default. Step sizes are 1/(n−1) with the ends halved, which
    /// sum to 1 (Captum uses 1/n, which sums to 1 − 1/n; see docs/ARCHITECTURE.md).
    /// </summary>
    RiemannTrapezoid,
    /// <summary>Left Riemann sum: linspace(0, 1 − 1/n, n), steps 1/n.</summary>
    RiemannLeft,
    /// <summary>Right Riemann sum: linspace(1/n, 1, n), steps 1/n.</summary>
    RiemannRight,
    /// <summary>Midpoint rule: linspace(1/(2n), 1 − 1/(2n), n), steps 1/n.</summary>
    RiemannMiddle,
    /// <summary>Gauss-Legendre nodes mapped to [0, 1] (Captum's default for most methods).</summary>
    GaussLegendre,
}

/// <summary>
/// Options of the path methods. Written <c>new AttributionOptions { Steps = 50, Rule = ..., ChunkSize = ... }</c>;
/// a member left unset keeps its default, and <c>default(AttributionOptions)</c> is the defaults.
/// </summary>
public readonly record struct AttributionOptions
{
    /// <summary>Number of steps used when <see cref="Steps"/> is not set.</summary>
    public const int DefaultSteps = 50;

    private readonly int _steps;
    private readonly int _chunkSize;
    private readonly int _maxDegreeOfParallelism;

    /// <summary>
    /// The most steps a call takes: 2²⁴ = 16,777,216. Points are interpolated in float32, which has 2²⁴ values in
    /// [0.5, 1): at 2²⁴ steps the trapezoid's points k/2²⁴ are each a distinct float32, and beyond it neighbouring points
    /// round to the same alpha, so more steps add work but no resolution. See docs/RELIABILITY.md.
    /// </summary>
    public const int MaxSteps = 1 << 24;

    /// <summary>
    /// The most threads <see cref="MaxDegreeOfParallelism"/> may name: 256. Each thread of a call holds a workspace and a
    /// partial sum, so the limit bounds a call's memory; −1 uses every core whatever their number.
    /// </summary>
    public const int MaxDegreeOfParallelismLimit = 256;

    /// <summary>
    /// Number of integration steps (Captum's <c>n_steps</c>), 1 to <see cref="MaxSteps"/>; 50 by default. Neuron
    /// Integrated Gradients evaluates the rule's n + 1 points (as Captum's LayerConductance does); integrated gradients
    /// and neuron conductance evaluate n.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [1, <see cref="MaxSteps"/>].</exception>
    public int Steps
    {
        get => _steps == 0 ? DefaultSteps : _steps;
        init
        {
            if (value < 1 || value > MaxSteps)
            {
                throw new ArgumentOutOfRangeException(nameof(Steps), value, $"AttributionOptions.Steps = {value} is outside [1, {MaxSteps}]: beyond 2^24 steps neighbouring points round to the same float32 alpha.");
            }

            _steps = value;
        }
    }

    /// <summary>
    /// Turns off the path shortcuts (the first affine layer interpolated instead of recomputed at every point, the
    /// backward pass stopped at the earliest attribute layer): the straightforward algorithm, kept so that benchmarks
    /// can measure what the shortcuts buy. Results agree to float rounding.
    /// </summary>
    internal bool Unoptimised { get; init; }

    /// <summary>
    /// Keeps the path shortcuts but turns off the fused kernel that takes the first layer's interpolated pre-activation
    /// straight through its activation and pooling: kept so that tests can check that the fusion changes no bit.
    /// </summary>
    internal bool Unfused { get; init; }

    /// <summary>
    /// Keeps every other shortcut but recomputes the first Dense or Conv layer above the affine prefix at every point
    /// instead of updating it from the previous point (<see cref="Kernels.PathChain"/>): kept so that tests and
    /// benchmarks can compare the two. Results agree to float rounding.
    /// </summary>
    internal bool Unchained { get; init; }

    /// <summary>The shortcuts a call takes.</summary>
    internal PathShortcuts Shortcuts => Unoptimised ? PathShortcuts.None : Unfused ? PathShortcuts.Unfused : Unchained ? PathShortcuts.Unchained : PathShortcuts.All;

    /// <summary>The quadrature rule; <see cref="IntegrationRule.RiemannTrapezoid"/> by default.</summary>
    public IntegrationRule Rule { get; init; }

    /// <summary>
    /// Most threads one call may use: 0 or 1 (the default) runs on the calling thread only; −1 uses every core.
    /// Batches are split across samples; a single sample's Neuron Integrated Gradients is split across blocks of
    /// interpolation intervals. Results are identical whatever the number of threads (sums are reduced in a fixed order).
    /// At most <see cref="MaxDegreeOfParallelismLimit"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [−1, <see cref="MaxDegreeOfParallelismLimit"/>].</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init
        {
            RequireDegreeOfParallelism(value, "AttributionOptions.MaxDegreeOfParallelism", nameof(MaxDegreeOfParallelism));
            _maxDegreeOfParallelism = value;
        }
    }

    /// <summary>Checks a thread limit: −1 (every core), 0 or 1 (the calling thread), or up to <see cref="MaxDegreeOfParallelismLimit"/>.</summary>
    internal static void RequireDegreeOfParallelism(int value, string what, string parameterName)
    {
        if (value < -1 || value > MaxDegreeOfParallelismLimit)
        {
            throw new ArgumentOutOfRangeException(parameterName, value, $"{what} = {value} is outside [-1, {MaxDegreeOfParallelismLimit}]: -1 uses every core, 0 or 1 the calling thread only.");
        }
    }

    /// <summary>The number of threads <see cref="MaxDegreeOfParallelism"/> resolves to on this machine.</summary>
    internal int Threads => _maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : Math.Max(1, _maxDegreeOfParallelism);

    /// <summary>
    /// Most interpolation points held in memory at once (Captum's <c>internal_batch_size</c>); 0, the default, picks a
    /// size from the network's activation sizes; 1 runs as 2 (an interval needs both of its points). Results do not
    /// depend on it. Any value up to <see cref="int.MaxValue"/> is accepted: a call clamps it to its number of points
    /// (at most <see cref="MaxSteps"/> + 1), and refuses one whose workspace would exceed an array's size.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int ChunkSize
    {
        get => _chunkSize;
        init
        {
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(ChunkSize), value, $"AttributionOptions.ChunkSize = {value} is negative: it takes 0 (automatic) or a number of points from 1 to {int.MaxValue} (clamped to the call's points).");
            }

            _chunkSize = value;
        }
    }
}

/// <summary>Which shortcuts of the path methods a call takes; tests and benchmarks turn them off.</summary>
internal enum PathShortcuts
{
    /// <summary>
    /// Every one: the affine prefix interpolated, the backward pass stopped at the earliest attribute layer, the first
    /// layers fused when that stop allows, and (Neuron Integrated Gradients) the layer above them chained.
    /// </summary>
    All,

    /// <summary>All but the fusion: bitwise the same results as <see cref="All"/>.</summary>
    Unfused,

    /// <summary>All but the chain: the same results as <see cref="All"/> up to float rounding.</summary>
    Unchained,

    /// <summary>None: the straightforward algorithm; the same results up to float rounding.</summary>
    None,
}
