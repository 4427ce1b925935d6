using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Kernels;
using Xunit;
using static NigGen.Tests.Kernels.KernelTestSupport;

namespace NigGen.Tests.Kernels;

public class ActivationKernelsTests
{
    private delegate void Forward(ReadOnlySpan<float> pre, Span<float> post);

    private delegate void Backward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient);

    public static IEnumerable<object[]> Names() =>
        new[] { "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Elu", "Gelu", "Silu" }.Select(n => new object[] { n });

    private static (Forward Forward, Backward Backward, Func<double, double> Value, Func<double, double> Derivative) Activation(string name) => name switch
    {
        "Relu" => (ActivationKernels.Relu, ActivationKernels.ReluBackward, x => Math.Max(x, 0), x => x > 0 ? 1 : 0),
        "LeakyRelu" => (ActivationKernels.LeakyRelu, ActivationKernels.LeakyReluBackward, x => x > 0 ? x : x * 0.01f, x => x > 0 ? 1 : 0.01f),
        "Sigmoid" => (ActivationKernels.Sigmoid, ActivationKernels.SigmoidBackward, Sigmoid, x => Sigmoid(x) * (1 - Sigmoid(x))),
        "Tanh" => (ActivationKernels.Tanh, ActivationKernels.TanhBackward, Math.Tanh, x => 1 - Math.Tanh(x) * Math.Tanh(x)),
        "Softplus" => (ActivationKernels.Softplus, ActivationKernels.SoftplusBackward, Softplus, x => x > 20 ? 1 : Sigmoid(x)),
        "Elu" => (ActivationKernels.Elu, ActivationKernels.EluBackward, x => x > 0 ? x : ExpM1(x), x => x > 0 ? 1 : Math.Exp(x)),
        "Gelu" => (ActivationKernels.Gelu, ActivationKernels.GeluBackward, Gelu, x => AtInfinity(x) ?? Phi(x) + x * Density(x)),
        "Silu" => (ActivationKernels.Silu, ActivationKernels.SiluBackward, Silu, x => AtInfinity(x) ?? Sigmoid(x) * (1 + x * (1 - Sigmoid(x)))),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    // The references at ±∞ are the limits (0 and −0 below, the identity above).
    private static double Gelu(double x) => double.IsNegativeInfinity(x) ? -0.0 : double.IsPositiveInfinity(x) ? x : x * Phi(x);

    // GELU's and SiLU's derivatives at ±∞ are their limits, 1 and 0.
    private static double? AtInfinity(double x) => double.IsInfinity(x) ? (x > 0 ? 1 : 0) : null;

    private static double Silu(double x) => double.IsNegativeInfinity(x) ? -0.0 : x * Sigmoid(x);

    private static double Density(double x) => Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    /// <summary>
    /// Φ(x) = ½·erfc(−x/√2) by an independent route from the kernel's (Cody's rational approximations): erf's Taylor
    /// series below |t| = 2 (terms up to 2^(2n+1)/n!, so under 1e-15 of rounding), the continued fraction
    /// erfc(t) = e^−t²/√π · 1/(t + ½/(t + 1/(t + 3/2/(t + …)))) at and beyond it, evaluated from 300 levels down.
    /// </summary>
    internal static double Phi(double x)
    {
        double t = -x / Math.Sqrt(2);
        return 0.5 * Erfc(t);
    }

    private static double Erfc(double t)
    {
        if (double.IsNaN(t))
        {
            return double.NaN;
        }

        if (Math.Abs(t) < 2)
        {
            double term = t, sum = t;
            for (int n = 1; n < 60; n++)
            {
                term *= -t * t / n;
                sum += term / (2 * n + 1);
            }

            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }

        if (t < 0)
        {
            return 2 - Erfc(-t);
        }

        double fraction = t;
        for (int k = 300; k >= 1; k--)
        {
            fraction = t + k / 2.0 / fraction;
        }

        return Math.Exp(-t * t) / Math.Sqrt(Math.PI) / fraction;
    }

    private static double Log1P(double u) => u < 1e-5 ? u - u * u / 2 + u * u * u / 3 : Math.Log(1 + u);

    private static double ExpM1(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;

    private static double Softplus(double x) => x > 20 ? x : Math.Max(x, 0) + Log1P(Math.Exp(-Math.Abs(x)));

    /// <summary>Random values over the interesting range plus tiny magnitudes, thresholds and special values.</summary>
    private static float[] Inputs(int seed)
    {
        var random = new Random(seed);
        var values = new List<float>(RandomArray(random, 499, 30f));
        values.AddRange(RandomArray(random, 301, 1f));
        for (int e = -38; e <= 0; e++)
        {
            values.Add(MathF.Pow(10, e) * 1.37f);
            values.Add(-MathF.Pow(10, e) * 1.37f);
        }

        values.AddRange(new[] { 0f, -0f, 20f, 20.0001f, 19.9999f, -20f, 88f, -88f, -100f, 100f, -1000f, 1000f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon });
        return values.ToArray();
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardMatchesDoubleReference(string name)
    {
        var (forward, _, value, _) = Activation(name);
        float[] pre = Inputs(name.Length);
        float[] post = new float[pre.Length];
        forward(pre, post);
        for (int i = 0; i < pre.Length; i++)
        {
            double expected = value(pre[i]);
            double tolerance = 4 * FloatEpsilon * Math.Abs(expected) + 1e-40;
            Close(expected, post[i], tolerance, $"{name}({pre[i]:R})");
        }

        float[] nan = { float.NaN };
        float[] result = new float[1];
        forward(nan, result);
        Assert.True(float.IsNaN(result[0]), $"{name}(NaN) = {result[0]}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BackwardMatchesAnalyticDerivative(string name)
    {
        var (forward, backward, _, derivative) = Activation(name);
        float[] pre = Inputs(name.Length + 1);
        var random = new Random(5);
        float[] post = new float[pre.Length];
        float[] gradient = RandomArray(random, pre.Length, 3f);
        float[] preGradient = new float[pre.Length];
        forward(pre, post);
        backward(pre, post, gradient, preGradient);
        for (int i = 0; i < pre.Length; i++)
        {
            double expected = gradient[i] * derivative(pre[i]);
            Close(expected, preGradient[i], 2e-6 * Math.Abs(gradient[i]) + 1e-40, $"{name}'({pre[i]:R})·{gradient[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BackwardMatchesFiniteDifferences(string name)
    {
        var (forward, backward, _, _) = Activation(name);
        var random = new Random(11);
        float[] pre = RandomArray(random, 200, 6f);
        for (int i = 0; i < pre.Length; i++)
        {
            if (MathF.Abs(pre[i]) < 0.05f)
            {
                pre[i] = 0.5f; // keep away from the kinks of ReLU and leaky ReLU
            }
        }

        const float h = 1e-2f;
        float[] plus = new float[pre.Length], minus = new float[pre.Length], post = new float[pre.Length];
        float[] up = new float[pre.Length], down = new float[pre.Length];
        for (int i = 0; i < pre.Length; i++)
        {
            up[i] = pre[i] + h;
            down[i] = pre[i] - h;
        }

        forward(up, plus);
        forward(down, minus);
        forward(pre, post);
        float[] ones = new float[pre.Length];
        ones.AsSpan().Fill(1f);
        float[] slope = new float[pre.Length];
        backward(pre, post, ones, slope);
        for (int i = 0; i < pre.Length; i++)
        {
            double difference = ((double)plus[i] - minus[i]) / ((double)up[i] - down[i]);
            Close(difference, slope[i], 2e-3, $"{name}'({pre[i]:R})");
        }
    }

    [Fact]
    public void KinksFollowPyTorch()
    {
        float[] pre = { 0f, -0f, 1f, -1f };
        float[] gradient = { 5f, 5f, 5f, 5f };
        float[] post = new float[4], result = new float[4];
        ActivationKernels.Relu(pre, post);
        ActivationKernels.ReluBackward(pre, post, gradient, result);
        Assert.Equal(new float[] { 0f, 0f, 5f, 0f }, result);
        ActivationKernels.LeakyRelu(pre, post);
        ActivationKernels.LeakyReluBackward(pre, post, gradient, result);
        Assert.Equal(new float[] { 5f * 0.01f, 5f * 0.01f, 5f, 5f * 0.01f }, result);
        ActivationKernels.Elu(pre, post);
        ActivationKernels.EluBackward(pre, post, gradient, result);
        Assert.Equal(5f, result[0]);
        float[] high = { 20f, 20.5f };
        float[] highPost = new float[2];
        ActivationKernels.Softplus(high, highPost);
        Assert.Equal(20.5f, highPost[1]);
        ActivationKernels.SoftplusBackward(high, highPost, gradient.AsSpan(0, 2), result);
        Assert.Equal(5f, result[1]);
    }

    [Fact]
    public void GeluAndSiluMatchKnownValues()
    {
        // torch.nn.functional.gelu (approximate='none') and silu: x·Φ(x) and x·σ(x) to 9 digits (Python's math.erfc and exp).
        float[] pre = { -3f, -1f, -0.5f, 0.5f, 1f, 2f, -10f };
        float[] gelu = new float[pre.Length], silu = new float[pre.Length];
        ActivationKernels.Gelu(pre, gelu);
        ActivationKernels.Silu(pre, silu);
        double[] expectedGelu = { -0.00404969409, -0.158655254, -0.154268769, 0.345731231, 0.841344746, 1.95449974, -7.61985302e-23 };
        double[] expectedSilu = { -0.142277620, -0.268941421, -0.188770334, 0.311229666, 0.731058579, 1.76159416, -4.53978687e-4 };
        for (int i = 0; i < pre.Length; i++)
        {
            Close(expectedGelu[i], gelu[i], 2e-9 * Math.Abs(expectedGelu[i]) + 2 * FloatEpsilon * Math.Abs(expectedGelu[i]), $"gelu({pre[i]})");
            Close(expectedSilu[i], silu[i], 2e-9 * Math.Abs(expectedSilu[i]) + 2 * FloatEpsilon * Math.Abs(expectedSilu[i]), $"silu({pre[i]})");
        }
    }

    [Fact]
    public void GeluAndSiluSpecialValues()
    {
        // ±0 keep their sign; −∞ gives the limit −0 (PyTorch's formulas give NaN), +∞ itself; NaN stays NaN. Derivatives:
        // ½ at ±0 for both, 0 at −∞, 1 at +∞.
        float[] pre = { 0f, -0f, float.NegativeInfinity, float.PositiveInfinity, float.NaN, -1e30f, 1e30f };
        float[] ones = { 1f, 1f, 1f, 1f, 1f, 1f, 1f };
        foreach (var (forward, backward, name) in new (Forward, Backward, string)[]
                 {
                     (ActivationKernels.Gelu, ActivationKernels.GeluBackward, "Gelu"),
                     (ActivationKernels.Silu, ActivationKernels.SiluBackward, "Silu"),
                 })
        {
            float[] post = new float[pre.Length], slope = new float[pre.Length];
            forward(pre, post);
            backward(pre, post, ones, slope);
            BitwiseEqual(new[] { 0f, -0f, -0f, float.PositiveInfinity }, post.AsSpan(0, 4), name);
            Assert.True(float.IsNaN(post[4]), $"{name}(NaN) = {post[4]}");
            Assert.Equal(-0f, post[5]);
            Assert.True(float.IsNegative(post[5]), $"{name}(-1e30) = {post[5]:R}");
            Assert.Equal(1e30f, post[6]);
            Assert.Equal(new[] { 0.5f, 0.5f, 0f, 1f }, slope.AsSpan(0, 4).ToArray());
            Assert.True(float.IsNaN(slope[4]), $"{name}'(NaN) = {slope[4]}");
            Assert.Equal(0f, slope[5]);
            Assert.Equal(1f, slope[6]);
        }
    }

    [Fact]
    public void GeluAndSiluKeepTheirDigitsInTheNegativeTail()
    {
        // Where 1 + erf(x/√2) or float e^−x would lose everything: GELU down to its last subnormal, SiLU past e^88.
        float[] pre = { -5f, -8f, -12f, -13.5f, -85f, -95f, -100f, -103f };
        float[] post = new float[pre.Length];
        ActivationKernels.Gelu(pre.AsSpan(0, 4), post);
        for (int i = 0; i < 4; i++)
        {
            Close(Gelu(pre[i]), post[i], 2 * FloatEpsilon * Math.Abs(Gelu(pre[i])) + 1e-45, $"gelu({pre[i]})");
            Assert.True(post[i] < 0, $"gelu({pre[i]}) = {post[i]:R}");
        }

        ActivationKernels.Silu(pre.AsSpan(4), post);
        for (int i = 4; i < pre.Length; i++)
        {
            Close(Silu(pre[i]), post[i - 4], 2 * FloatEpsilon * Math.Abs(Silu(pre[i])) + 1e-45, $"silu({pre[i]})");
            Assert.True(post[i - 4] < 0, $"silu({pre[i]}) = {post[i - 4]:R}");
        }
    }

    [Theory]
    [InlineData("Gelu")]
    [InlineData("Silu")]
    public void VectorAndScalarTailsAgreeBitwise(string name)
    {
        // A span's last partial vector goes through a padded full vector; the result of each element must equal the one
        // it gets inside a longer span, at every offset (lengths 1..40 over the same data).
        var (forward, backward, _, _) = Activation(name);
        float[] pre = Inputs(77).Take(40).ToArray();
        float[] gradient = RandomArray(new Random(2), 40, 3f);
        float[] post = new float[40], preGradient = new float[40];
        forward(pre, post);
        backward(pre, post, gradient, preGradient);
        for (int length = 1; length <= 40; length++)
        {
            for (int start = 0; start + length <= 40; start += length)
            {
                float[] somePost = new float[length], someGradient = new float[length];
                forward(pre.AsSpan(start, length), somePost);
                backward(pre.AsSpan(start, length), post.AsSpan(start, length), gradient.AsSpan(start, length), someGradient);
                BitwiseEqual(post.AsSpan(start, length), somePost, $"{name} length {length} at {start}");
                BitwiseEqual(preGradient.AsSpan(start, length), someGradient, $"{name}' length {length} at {start}");
            }
        }
    }

    [Fact]
    public void ReluEqualsTensorPrimitivesMaxBitwiseAtEveryLength()
    {
        // NaN payloads kept, −0 turned into +0, infinities, at lengths reaching every vector width and the scalar tail.
        float[] special = { float.NaN, -float.NaN, BitConverter.Int32BitsToSingle(0x7FC00123), -0f, 0f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, 3f, -3f };
        var random = new Random(11);
        for (int n = 0; n <= 70; n++)
        {
            float[] pre = new float[n];
            for (int i = 0; i < n; i++)
            {
                pre[i] = special[random.Next(special.Length)];
            }

            float[] expected = new float[n], actual = new float[n];
            System.Numerics.Tensors.TensorPrimitives.Max(pre, 0f, expected);
            ActivationKernels.Relu(pre, actual);
            for (int i = 0; i < n; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"n {n}, [{i}] = {pre[i]}");
            }

            ActivationKernels.Relu(pre, pre);
            Assert.Equal(actual, pre);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BackwardWorksInPlace(string name)
    {
        var (forward, backward, _, _) = Activation(name);
        var random = new Random(3);
        foreach (int length in new[] { 1, 5, 16, 37, 100 })
        {
            float[] pre = RandomArray(random, length, 4f);
            float[] post = new float[length];
            forward(pre, post);
            float[] gradient = RandomArray(random, length);
            float[] separate = new float[length];
            backward(pre, post, gradient, separate);
            backward(pre, post, gradient, gradient);
            BitwiseEqual(separate, gradient, $"{name} length {length}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void RowResultDoesNotDependOnBatch(string name)
    {
        var (forward, backward, _, _) = Activation(name);
        foreach (int features in new[] { 1, 3, 10, 17, 33 })
        {
            var random = new Random(features);
            const int rows = 64;
            float[] pre = RandomArray(random, rows * features, 8f);
            float[] gradient = RandomArray(random, rows * features);
            float[] post = new float[pre.Length], preGradient = new float[pre.Length];
            forward(pre, post);
            backward(pre, post, gradient, preGradient);

            foreach (int batch in new[] { 1, 7 })
            {
                int length = batch * features;
                float[] somePost = new float[length], someGradient = new float[length];
                for (int start = 0; start + length <= pre.Length; start += length)
                {
                    forward(pre.AsSpan(start, length), somePost);
                    backward(pre.AsSpan(start, length), post.AsSpan(start, length), gradient.AsSpan(start, length), someGradient);
                    BitwiseEqual(post.AsSpan(start, length), somePost, $"{name} features {features} batch {batch} at {start}");
                    BitwiseEqual(preGradient.AsSpan(start, length), someGradient, $"{name}' features {features} batch {batch} at {start}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void RejectsShortSpans(string name)
    {
        var (forward, backward, _, _) = Activation(name);
        float[] a = new float[10], b = new float[10], c = new float[10], d = new float[10];
        ThrowsLength(() => forward(a, b.AsSpan(0, 9)), "post", 10, 9);
        ThrowsLength(() => backward(a, b.AsSpan(0, 9), c, d), "post", 10, 9);
        ThrowsLength(() => backward(a, b, c.AsSpan(0, 9), d), "postGradient", 10, 9);
        ThrowsLength(() => backward(a, b, c, d.AsSpan(0, 9)), "preGradient", 10, 9);
    }
}
