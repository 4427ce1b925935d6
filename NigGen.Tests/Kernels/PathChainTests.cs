using System;
using System.Linq;
using NigGen.Kernels;
using NigGen.Weights;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

/// <summary>
/// PathChain: the layer above the affine prefix updated from point to point must equal the layer applied to its inputs
/// (a double-precision reference) at every point, whatever the geometry, the chunking and the inputs' lines; it must
/// do so with far fewer column updates than inputs × points; and values that leave every line, or are not finite, must
/// still give the right numbers.
/// </summary>
public sealed class PathChainTests
{
    // The affine layer's pre-activation A + α·B goes through a ReLU (or none) and a max pooling (or none) into the
    // chained layer: a Dense layer (weight [out, in]) or a convolution.
    private sealed record Case(string Name, int[] Source, PoolGeometry? Pool, bool Relu, ConvGeometry? Conv, int DenseOutputs = 0)
    {
        public int SourceLength => Source.Aggregate(1, (a, b) => a * b);

        public int InputLength => Pool?.OutputLength ?? SourceLength;

        public int OutputLength => Conv?.OutputLength ?? DenseOutputs;

        public override string ToString() => Name;
    }

    private static readonly Case[] Cases =
    [
        new("dense", [40], null, true, null, DenseOutputs: 24),
        new("dense after a 2x2 pooling", [3, 8, 8], new PoolGeometry(3, 8, 8, 2, 2, 2, 2), true, null, DenseOutputs: 10),
        new("Basset-like conv1d after pooling 3", [6, 40], new PoolGeometry(6, 1, 40, 1, 3, 1, 3), true, new ConvGeometry(6, 1, 13, 5, 1, 5, 1, 1, 0, 0)),
        new("dilated padded conv1d", [4, 30], null, true, new ConvGeometry(4, 1, 30, 6, 1, 3, 1, 1, 0, 4) { DilationWidth = 4 }),
        new("strided padded conv2d after a padded pooling", [3, 9, 9], new PoolGeometry(3, 9, 9, 3, 3, 2, 2) { PaddingHeight = 1, PaddingWidth = 1 }, true,
            new ConvGeometry(3, 5, 5, 4, 3, 3, 2, 2, 1, 1)),
        new("grouped dilated conv2d", [4, 7, 7], null, true, new ConvGeometry(4, 7, 7, 6, 3, 3, 1, 1, 2, 2) { DilationHeight = 2, DilationWidth = 2, Groups = 2 }),
        new("depthwise conv1d", [5, 12], null, true, new ConvGeometry(5, 1, 12, 5, 1, 3, 1, 1, 0, 1) { Groups = 5 }),
        new("pooled without activation", [2, 6, 6], new PoolGeometry(2, 6, 6, 2, 2, 2, 2), false, new ConvGeometry(2, 3, 3, 3, 1, 1, 2, 2, 0, 0)),
    ];

    public static TheoryData<string> CaseNames => new(Cases.Select(c => c.Name));

    private const int Points = 33; // one reduction block

    // Everything one chain run needs: the endpoints, the layer, the points and the values the layers below give there.
    private sealed class Setup
    {
        public Setup(Case c, int seed, double[]? alphas = null)
        {
            Case = c;
            var random = new Random(seed);
            AtBaseline = RandomArray(random, c.SourceLength);
            Difference = RandomArray(random, c.SourceLength, 2f); // most lines cross zero on [0, 1]
            Layer = c.Conv is { } g
                ? Layer.Create("chained", g.KernelHeight == 1 ? [g.OutChannels, g.InChannelsPerGroup, g.KernelWidth] : [g.OutChannels, g.InChannelsPerGroup, g.KernelHeight, g.KernelWidth], hasBias: true, new RandomWeightSource(seed))
                : Layer.Create("chained", [c.DenseOutputs, c.InputLength], hasBias: true, new RandomWeightSource(seed));
            Alphas = alphas ?? Enumerable.Range(0, Points).Select(k => (double)k / (Points - 1)).ToArray();
            Values = new float[Alphas.Length * c.InputLength];
            var pre = new float[Alphas.Length * c.SourceLength];
            InterpolationKernels.InterpolateRows(Difference, AtBaseline, Alphas, pre);
            if (c.Relu)
            {
                ActivationKernels.Relu(pre, pre);
            }

            if (c.Pool is { } pool)
            {
                PoolKernels.MaxForward(pool, pre, Values, new int[Values.Length], Alphas.Length);
            }
            else
            {
                pre.CopyTo(Values, 0);
            }
        }

        public Case Case { get; }

        public float[] AtBaseline { get; }

        public float[] Difference { get; }

        public Layer Layer { get; }

        public double[] Alphas { get; }

        public float[] Values { get; }

        public PathChain NewChain() => new(AtBaseline, Difference, Case.Pool, Case.InputLength, Case.OutputLength, Case.Conv);

        // The chain over all points, entered in chunks of `chunk` points, as the path methods call it.
        public float[] Run(PathChain chain, int chunk)
        {
            int inLength = Case.InputLength, outLength = Case.OutputLength;
            var output = new float[Alphas.Length * outLength];
            var scratch = new float[Case.Conv is { } g ? Math.Max(1, g.ScratchLength) * 2 : 0];
            chain.Start();
            for (int start = 0; start < Alphas.Length; start += chunk)
            {
                int count = Math.Min(chunk, Alphas.Length - start);
                chain.Enter(Alphas.AsSpan(start, count));
                var input = Values.AsSpan(start * inLength, count * inLength);
                var rows = output.AsSpan(start * outLength, count * outLength);
                bool ran = Case.Conv is { } conv ? chain.Conv(conv, Layer, input, rows, count, scratch) : chain.Dense(Layer, input, rows, count);
                Assert.True(ran, $"{Case}: the chain declined");
                chain.Leave();
            }

            chain.Stop();
            return output;
        }

        // The layer on the same values in double precision, and Σ|w·x| + |b| per output for the tolerance.
        public double[] Reference(out double[] magnitude)
        {
            int points = Alphas.Length;
            if (Case.Conv is { } g)
            {
                return ConvKernelsTests.ReferenceForward(g, Values, Layer.Weight.ToArray(), Layer.Bias.ToArray(), points, out magnitude);
            }

            int inLength = Case.InputLength, outLength = Case.OutputLength;
            var result = new double[points * outLength];
            magnitude = new double[result.Length];
            var w = Layer.Weight;
            for (int p = 0; p < points; p++)
            {
                for (int o = 0; o < outLength; o++)
                {
                    double sum = Layer.Bias[o], size = Math.Abs(Layer.Bias[o]);
                    for (int i = 0; i < inLength; i++)
                    {
                        double term = (double)w[o * inLength + i] * Values[p * inLength + i];
                        sum += term;
                        size += Math.Abs(term);
                    }

                    result[p * outLength + o] = sum;
                    magnitude[p * outLength + o] = size;
                }
            }

            return result;
        }
    }

    private static void AgreesWithReference(Setup setup, float[] output, string what)
    {
        var expected = setup.Reference(out var magnitude);
        for (int i = 0; i < expected.Length; i++)
        {
            // A chained output is a sum of column updates as well as of products: a few more roundings than the kernel's.
            Close(expected[i], output[i], 1e-5 * magnitude[i] + 1e-6, $"{what}, output {i} (point {i / setup.Case.OutputLength})");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Chained_layer_equals_the_layer_on_its_inputs_at_every_point(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        var setup = new Setup(c, seed: 11);
        var chain = setup.NewChain();
        var output = setup.Run(chain, chunk: 7);
        AgreesWithReference(setup, output, name);

        // One chain for the block, no point computed directly, and far fewer column updates than inputs × points.
        Assert.Equal(1, chain.Anchors);
        Assert.Equal(0, chain.DirectPoints);
        Assert.InRange(chain.ColumnUpdates, 1, (long)c.InputLength * Points / 4);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Chunking_changes_no_bit(string name)
    {
        var setup = new Setup(Cases.Single(x => x.Name == name), seed: 12);
        var whole = setup.Run(setup.NewChain(), chunk: Points);
        foreach (int chunk in new[] { 1, 2, 5, 16 })
        {
            BitwiseEqual(whole, setup.Run(setup.NewChain(), chunk), $"{name}, chunks of {chunk}");
        }

        // A chain restarted by Start gives the same numbers as a fresh one.
        var reused = setup.NewChain();
        setup.Run(reused, chunk: 3);
        BitwiseEqual(whole, setup.Run(reused, chunk: 4), $"{name}, restarted chain");
    }

    [Fact]
    public void Unevenly_spaced_points_agree_too()
    {
        // Gauss–Legendre's points are not evenly spaced: the lines do not care.
        var rule = Quadrature.Get(IntegrationRule.GaussLegendre, 20);
        var alphas = new double[rule.Count];
        rule.CopyAlphas(0, alphas);
        foreach (var c in Cases)
        {
            var setup = new Setup(c, seed: 13, alphas);
            AgreesWithReference(setup, setup.Run(setup.NewChain(), chunk: 6), c.Name + ", Gauss–Legendre points");
        }
    }

    [Fact]
    public void Values_off_every_line_take_a_constant_line_and_stay_exact()
    {
        // A kernel below that rounded differently would give values one ulp off their line: the chain must follow them.
        foreach (var c in Cases)
        {
            var setup = new Setup(c, seed: 14);
            var random = new Random(5);
            for (int i = 0; i < setup.Values.Length; i += 3)
            {
                if (setup.Values[i] != 0 && random.Next(2) == 0)
                {
                    setup.Values[i] = MathF.BitIncrement(setup.Values[i]);
                }
            }

            var chain = setup.NewChain();
            AgreesWithReference(setup, setup.Run(chain, chunk: 8), c.Name + ", perturbed values");
            Assert.Equal(0, chain.DirectPoints);
        }
    }

    [Fact]
    public void A_value_that_is_not_finite_is_computed_directly_and_the_next_point_starts_a_new_chain()
    {
        foreach (var c in Cases)
        {
            foreach (float bad in new[] { float.PositiveInfinity, float.NaN })
            {
                var setup = new Setup(c, seed: 15);
                int point = 10, inLength = c.InputLength, outLength = c.OutputLength;
                setup.Values[point * inLength + inLength / 2] = bad;
                var chain = setup.NewChain();
                var output = setup.Run(chain, chunk: 6);
                Assert.Equal(1, chain.DirectPoints);
                Assert.Equal(2, chain.Anchors);

                // That point is the layer's own kernel on its values; the others are finite and agree.
                var direct = new float[outLength];
                var values = setup.Values.AsSpan(point * inLength, inLength);
                if (c.Conv is { } g)
                {
                    ConvKernels.Forward(g, values, setup.Layer, direct, 1, new float[Math.Max(1, g.ScratchLength)]);
                }
                else
                {
                    DenseKernels.Forward(values, setup.Layer.WeightTransposed, setup.Layer.Bias, direct, 1, inLength, outLength);
                }

                BitwiseEqual(direct, output.AsSpan(point * outLength, outLength).ToArray(), $"{c}, {bad} at point {point}");
                var finite = setup.Reference(out var magnitude);
                for (int i = 0; i < finite.Length; i++)
                {
                    if (i / outLength != point)
                    {
                        Close(finite[i], output[i], 1e-5 * magnitude[i] + 1e-6, $"{c}, {bad} at point {point}: output {i}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Endpoints_that_are_not_finite_compute_every_point_directly()
    {
        var c = Cases[2];
        var setup = new Setup(c, seed: 16);
        setup.Difference[3] = float.NaN; // the values stay finite: the poisoned element never wins its window here
        var chain = setup.NewChain();
        setup.Run(chain, chunk: 10);
        Assert.Equal(Points, chain.DirectPoints);
        Assert.Equal(0, chain.Anchors);
    }

    [Fact]
    public void A_convolution_that_Winograds_kernel_takes_is_not_chained()
    {
        var g = new ConvGeometry(16, 10, 10, 16, 3, 3, 1, 1, 1, 1);
        var chain = new PathChain(new float[g.InputLength], new float[g.InputLength], null, g.InputLength, g.OutputLength, g);
        Assert.Equal(Vector256Accelerated(), !chain.Runs);
        if (chain.Runs)
        {
            return;
        }

        chain.Start();
        chain.Enter([0.5]);
        Assert.False(chain.IsActive); // a chain that does not run is never entered
        var layer = Layer.Create("conv", [16, 16, 3, 3], hasBias: true, new RandomWeightSource(1));
        var output = new float[g.OutputLength];
        Assert.False(chain.Conv(g, layer, new float[g.InputLength], output, 1, new float[g.ScratchLength]));
        Assert.All(output, v => Assert.Equal(0f, v));
    }

    private static bool Vector256Accelerated() => System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated;

    [Fact]
    public void Misuse_is_refused_with_a_message_that_names_what_is_wrong()
    {
        var c = Cases[2];
        var setup = new Setup(c, seed: 17);
        var g = c.Conv!.Value;
        var scratch = new float[g.ScratchLength * 2];
        var output = new float[c.OutputLength];
        var chain = setup.NewChain();

        // Outside a forward pass along the path.
        var outside = Assert.Throws<InvalidOperationException>(() => chain.Conv(g, setup.Layer, setup.Values.AsSpan(0, c.InputLength), output, 1, scratch));
        Assert.Contains("none was entered", outside.Message);

        // More points than were entered.
        chain.Start();
        chain.Enter([0.0, 0.5]);
        var count = Assert.Throws<InvalidOperationException>(() => chain.Conv(g, setup.Layer, setup.Values.AsSpan(0, 3 * c.InputLength), new float[3 * c.OutputLength], 3, scratch));
        Assert.Contains("2 were entered", count.Message);

        // Another geometry, a Dense call on a convolution's chain, a weight of the wrong shape.
        var other = g with { PaddingWidth = 1 };
        Assert.Contains("not the convolution", Assert.Throws<ArgumentException>(() => chain.Conv(other, setup.Layer, setup.Values, output, 2, scratch)).Message);
        Assert.Contains("not a Dense layer", Assert.Throws<ArgumentException>(() => chain.Dense(setup.Layer, setup.Values, output, 2)).Message);
        var wrong = Layer.Create("wrong", [5, 6, 3], hasBias: true, new RandomWeightSource(1));
        Assert.Contains("'wrong'", Assert.Throws<ArgumentException>(() => chain.Conv(g, wrong, setup.Values, output, 2, scratch)).Message);

        // Too short an output.
        Assert.Throws<ArgumentException>(() => chain.Conv(g, setup.Layer, setup.Values, new float[c.OutputLength], 2, scratch));

        // Lengths that do not follow from the endpoints and the pooling.
        Assert.Throws<ArgumentException>(() => new PathChain(setup.AtBaseline, setup.Difference, c.Pool, c.InputLength + 1, c.OutputLength, null));
        Assert.Throws<ArgumentException>(() => new PathChain(setup.AtBaseline, new float[3], c.Pool, c.InputLength, c.OutputLength, null));
        Assert.Throws<ArgumentException>(() => new PathChain(setup.AtBaseline, setup.Difference, c.Pool, c.InputLength, c.OutputLength + 1, g));
    }
}
