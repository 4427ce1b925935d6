using System;

namespace NigGen.Gpu.Device;

/// <summary>
/// The activations and their derivatives on the device, by <see cref="Activation"/> number. The same definitions as
/// NigGen.Runtime's ActivationKernels (PyTorch's float32 conventions: ReLU'(0) = 0, softplus linear above 20, an
/// accurate log1p and expm1 near zero); the device's exp, log and tanh may differ from .NET's by an ulp or two.
/// </summary>
internal static class ActivationMath
{
    public const int None = (int)Activation.None;
    public const int Relu = (int)Activation.Relu;
    public const int LeakyRelu = (int)Activation.LeakyRelu;
    public const int Sigmoid = (int)Activation.Sigmoid;
    public const int Tanh = (int)Activation.Tanh;
    public const int Softplus = (int)Activation.Softplus;
    public const int Elu = (int)Activation.Elu;

    private const float LeakySlope = 0.01f;
    private const float SoftplusThreshold = 20f;

    public static float Forward(int kind, float x)
    {
        switch (kind)
        {
            case Relu:
                return x > 0f ? x : 0f;
            case LeakyRelu:
                return x > 0f ? x : x * LeakySlope;
            case Sigmoid:
                return 1f / (1f + MathF.Exp(-x));
            case Tanh:
                return MathF.Tanh(x);
            case Softplus:
                return x > SoftplusThreshold ? x : MathF.Max(x, 0f) + Log1p(MathF.Exp(-MathF.Abs(x)));
            case Elu:
                return x > 0f ? x : Expm1(x);
            default:
                return x;
        }
    }

    /// <summary>The gradient with respect to the pre-activation, from the pre-activation, the output and the output's gradient.</summary>
    public static float Backward(int kind, float pre, float post, float gradient)
    {
        switch (kind)
        {
            case Relu:
                return pre <= 0f ? 0f : gradient;
            case LeakyRelu:
                return pre > 0f ? gradient : gradient * LeakySlope;
            case Sigmoid:
                return gradient * (1f - post) * post;
            case Tanh:
                return gradient * (1f - post * post);
            case Softplus:
                float z = MathF.Exp(pre);
                return pre > SoftplusThreshold ? gradient : gradient * z / (z + 1f);
            case Elu:
                return pre <= 0f ? gradient * (post + 1f) : gradient;
            default:
                return gradient;
        }
    }

    // log(1 + u) for u in [0, 1], accurate for small u (the ratio corrects log's rounding of 1 + u).
    private static float Log1p(float u)
    {
        float w = 1f + u;
        return w == 1f ? u : MathF.Log(w) * (u / (w - 1f));
    }

    // e^x − 1 for x ≤ 0, accurate near 0 (Kahan's correction).
    private static float Expm1(float x)
    {
        float u = MathF.Exp(x);
        if (u == 1f)
        {
            return x;
        }

        float um1 = u - 1f;
        return um1 == -1f ? -1f : um1 * x / MathF.Log(u);
    }
}
