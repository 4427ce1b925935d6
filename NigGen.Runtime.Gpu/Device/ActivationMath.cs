using System;

namespace NigGen.Gpu.Device;

/// <summary>
/// The activations and their derivatives on the device, by <see cref="Activation"/> number. The same definitions as
/// NigGen.Runtime's ActivationKernels (PyTorch's float32 conventions: ReLU'(0) = 0, softplus linear above 20, tanh by
/// the same polynomial near zero, an accurate log1p and expm1 near zero). exp and log are written out here in plain
/// arithmetic (within about 2 ulp) because ILGPU's PTX backend has no exp, log or tanh without ILGPU.Algorithms, which
/// a caller's accelerator need not have enabled.
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
                return 1f / (1f + Exp(-x));
            case Tanh:
                return TanhOf(x);
            case Softplus:
                return x > SoftplusThreshold ? x : (x > 0f ? x : 0f) + Log1p(Exp(x > 0f ? -x : x));
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
                float z = Exp(pre);
                return pre > SoftplusThreshold ? gradient : gradient * z / (z + 1f);
            case Elu:
                return pre <= 0f ? gradient * (post + 1f) : gradient;
            default:
                return gradient;
        }
    }

    // tanh: the CPU kernel's odd polynomial for |x| ≤ 0.625, 1 − 2/(e^2|x| + 1) with x's sign beyond.
    private static float TanhOf(float x)
    {
        float a = x < 0f ? -x : x;
        if (a <= 0.625f)
        {
            float z = x * x;
            float p = ((((-5.70498872745E-3f * z + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z + 1.33314422036E-1f) * z) - 3.33332819422E-1f;
            return p * z * x + x;
        }

        float t = 1f - 2f / (Exp(a + a) + 1f);
        return x < 0f ? -t : t;
    }

    // log(1 + u) for u in [0, 1], accurate for small u (the ratio corrects log's rounding of 1 + u).
    private static float Log1p(float u)
    {
        float w = 1f + u;
        return w == 1f ? u : Log(w) * (u / (w - 1f));
    }

    // e^x − 1 for x ≤ 0, accurate near 0 (Kahan's correction).
    private static float Expm1(float x)
    {
        float u = Exp(x);
        if (u == 1f)
        {
            return x;
        }

        float um1 = u - 1f;
        return um1 == -1f ? -1f : um1 * x / Log(u);
    }

    private const float Log2E = 1.44269504f;
    private const float Ln2High = 0.693145752f; // ln 2 with its last 11 bits zero, so k·Ln2High is exact
    private const float Ln2Low = 1.42860677e-6f;

    /// <summary>
    /// e^x: x = k·ln 2 + r with |r| ≤ ln 2 / 2 (Cody-Waite), e^r by its Taylor series to r⁷ (error below 1e-8
    /// relative), times 2^k built from the exponent bits in two halves so that subnormal results come out right.
    /// </summary>
    public static float Exp(float x)
    {
        if (float.IsNaN(x))
        {
            return x;
        }

        if (x > 88.7228394f)
        {
            return float.PositiveInfinity;
        }

        if (x < -103.972084f)
        {
            return 0f;
        }

        float t = x * Log2E;
        int k = (int)(t < 0f ? t - 0.5f : t + 0.5f);
        float r = x - k * Ln2High - k * Ln2Low;
        float p = 1f / 5040f;
        p = p * r + 1f / 720f;
        p = p * r + 1f / 120f;
        p = p * r + 1f / 24f;
        p = p * r + 1f / 6f;
        p = p * r + 0.5f;
        p = p * r + 1f;
        p = p * r + 1f;
        int half = k / 2;
        return p * PowerOfTwo(half) * PowerOfTwo(k - half);
    }

    /// <summary>
    /// log x for a positive, normal x: x = m·2^e with m in [√½, √2), log m = 2·atanh(s), s = (m − 1)/(m + 1), by its
    /// series to s⁹ (|s| ≤ 0.172, error below 1e-9).
    /// </summary>
    public static float Log(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        int e = ((bits >> 23) & 0xff) - 127;
        float m = BitConverter.Int32BitsToSingle((bits & 0x7fffff) | 0x3f800000);
        if (m > 1.41421356f)
        {
            m *= 0.5f;
            e++;
        }

        float s = (m - 1f) / (m + 1f);
        float z = s * s;
        float series = (((z / 9f + 1f / 7f) * z + 1f / 5f) * z + 1f / 3f) * z;
        float logM = 2f * s + 2f * s * series;
        return e * Ln2High + (e * Ln2Low + logM);
    }

    // 2^k for k in [−126, 127], from the exponent bits.
    private static float PowerOfTwo(int k) => BitConverter.Int32BitsToSingle((k + 127) << 23);
}
