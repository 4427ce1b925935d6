using System;
using NigGen.Gpu.Device;
using NigGen.Kernels;
using Xunit;

namespace NigGen.Gpu.Tests;

/// <summary>The device's own exp and log (plain arithmetic, for ILGPU's PTX backend) against double precision, and the activations against the CPU kernels.</summary>
public sealed class DeviceMathTests
{
    [Fact]
    public void ExpIsWithinFourUlpOverTheFloatRange()
    {
        for (double x = -87; x <= 88.5; x += 0.01237)
        {
            AssertUlp(Math.Exp((float)x), ActivationMath.Exp((float)x), (float)x, "exp");
        }

        Assert.Equal(float.PositiveInfinity, ActivationMath.Exp(89f));
        Assert.Equal(0f, ActivationMath.Exp(-104f));
        Assert.True(ActivationMath.Exp(-100f) > 0f, "e^−100 is a subnormal float, not 0");
        Assert.True(float.IsNaN(ActivationMath.Exp(float.NaN)));
    }

    [Fact]
    public void LogIsWithinFourUlpForNormalFloats()
    {
        for (double x = 1e-30; x < 1e30; x *= 1.0371)
        {
            AssertUlp(Math.Log((float)x), ActivationMath.Log((float)x), (float)x, "log");
        }
    }

    [Theory]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Softplus)]
    [InlineData(Activation.Elu)]
    [InlineData(Activation.LeakyRelu)]
    [InlineData(Activation.Relu)]
    public void ActivationsMatchTheCpuKernels(Activation activation)
    {
        var pre = new float[4001];
        for (int i = 0; i < pre.Length; i++)
        {
            pre[i] = (i - 2000) * 0.0137f; // −27.4 … 27.4, through both sides of every branch
        }

        var post = new float[pre.Length];
        var gradient = new float[pre.Length];
        var ones = new float[pre.Length];
        Array.Fill(ones, 1f);
        Cpu(activation, pre, post, ones, gradient);
        for (int i = 0; i < pre.Length; i++)
        {
            float device = ActivationMath.Forward((int)activation, pre[i]);
            Assert.True(Math.Abs(device - post[i]) <= 1e-6 * Math.Max(1, Math.Abs(post[i])), $"{activation}({pre[i]:R}): device {device:R}, CPU {post[i]:R}");
            float deviceGradient = ActivationMath.Backward((int)activation, pre[i], post[i], 1f);
            Assert.True(Math.Abs(deviceGradient - gradient[i]) <= 1e-6, $"{activation}'({pre[i]:R}): device {deviceGradient:R}, CPU {gradient[i]:R}");
        }
    }

    private static void Cpu(Activation activation, float[] pre, float[] post, float[] ones, float[] gradient)
    {
        switch (activation)
        {
            case Activation.Sigmoid: ActivationKernels.Sigmoid(pre, post); ActivationKernels.SigmoidBackward(pre, post, ones, gradient); break;
            case Activation.Tanh: ActivationKernels.Tanh(pre, post); ActivationKernels.TanhBackward(pre, post, ones, gradient); break;
            case Activation.Softplus: ActivationKernels.Softplus(pre, post); ActivationKernels.SoftplusBackward(pre, post, ones, gradient); break;
            case Activation.Elu: ActivationKernels.Elu(pre, post); ActivationKernels.EluBackward(pre, post, ones, gradient); break;
            case Activation.LeakyRelu: ActivationKernels.LeakyRelu(pre, post); ActivationKernels.LeakyReluBackward(pre, post, ones, gradient); break;
            default: ActivationKernels.Relu(pre, post); ActivationKernels.ReluBackward(pre, post, ones, gradient); break;
        }
    }

    private static void AssertUlp(double exact, float actual, float x, string what)
    {
        float rounded = (float)exact;
        double ulp = Math.Max(Math.Abs(MathF.BitIncrement(rounded) - rounded), float.Epsilon);
        Assert.True(Math.Abs(actual - exact) <= 4 * ulp, $"{what}({x:R}) = {actual:R}, exact {exact:R}: {Math.Abs(actual - exact) / ulp:F1} ulp");
    }
}
