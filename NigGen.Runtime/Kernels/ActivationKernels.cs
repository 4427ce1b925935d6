using System;
using System.ComponentModel;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// Element-wise activations and their backward passes, matching PyTorch's float32 definitions. The element count is
/// <c>pre.Length</c>; the other spans must be at least that long. Every element goes through the same vector code
/// (a short tail is padded into a full vector), so a value never depends on where it sits in the span, i.e. on the
/// batch size. Backward methods accept <c>preGradient</c> being the very same span as <c>postGradient</c>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ActivationKernels
{
    private const float LeakySlope = 0.01f;
    private const float SoftplusThreshold = 20f;

    /// <summary>
    /// post = the activation of pre, by that activation's kernel (a copy for <see cref="Activation.None"/>); pre and post
    /// may be the very same span.
    /// </summary>
    /// <param name="activation">The activation.</param>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Receives the activations.</param>
    public static void Forward(Activation activation, ReadOnlySpan<float> pre, Span<float> post)
    {
        switch (activation)
        {
            case Activation.None:
                CheckForward(pre, post);
                pre.CopyTo(post);
                break;
            case Activation.Relu:
                Relu(pre, post);
                break;
            case Activation.LeakyRelu:
                LeakyRelu(pre, post);
                break;
            case Activation.Sigmoid:
                Sigmoid(pre, post);
                break;
            case Activation.Tanh:
                Tanh(pre, post);
                break;
            case Activation.Softplus:
                Softplus(pre, post);
                break;
            case Activation.Elu:
                Elu(pre, post);
                break;
            case Activation.Gelu:
                Gelu(pre, post);
                break;
            case Activation.Silu:
                Silu(pre, post);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "not a defined NigGen.Activation");
        }
    }

    /// <summary>post = max(pre, 0).</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Receives the activations.</param>
    public static void Relu(ReadOnlySpan<float> pre, Span<float> post)
    {
        CheckForward(pre, post);
        ReluCore(pre, post);
    }

    /// <summary>
    /// A plain compare-and-mask loop, exactly TensorPrimitives.Max(pre, 0) (NaN kept, −0 to +0) but cheaper per element,
    /// so large spans run at memory speed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ReluCore(ReadOnlySpan<float> x, Span<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // Four vectors a step: in-cache spans are limited by loop overhead otherwise.
            for (; i + 64 <= n; i += 64)
            {
                Vector512<float> v0 = Vector512.LoadUnsafe(ref xr, i);
                Vector512<float> v1 = Vector512.LoadUnsafe(ref xr, i + 16);
                Vector512<float> v2 = Vector512.LoadUnsafe(ref xr, i + 32);
                Vector512<float> v3 = Vector512.LoadUnsafe(ref xr, i + 48);
                Vector512.AndNot(v0, Vector512.LessThanOrEqual(v0, Vector512<float>.Zero)).StoreUnsafe(ref yr, i);
                Vector512.AndNot(v1, Vector512.LessThanOrEqual(v1, Vector512<float>.Zero)).StoreUnsafe(ref yr, i + 16);
                Vector512.AndNot(v2, Vector512.LessThanOrEqual(v2, Vector512<float>.Zero)).StoreUnsafe(ref yr, i + 32);
                Vector512.AndNot(v3, Vector512.LessThanOrEqual(v3, Vector512<float>.Zero)).StoreUnsafe(ref yr, i + 48);
            }

            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref xr, i);
                Vector512.AndNot(v, Vector512.LessThanOrEqual(v, Vector512<float>.Zero)).StoreUnsafe(ref yr, i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref xr, i);
                Vector256.AndNot(v, Vector256.LessThanOrEqual(v, Vector256<float>.Zero)).StoreUnsafe(ref yr, i);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4)
            {
                Vector128<float> v = Vector128.LoadUnsafe(ref xr, i);
                Vector128.AndNot(v, Vector128.LessThanOrEqual(v, Vector128<float>.Zero)).StoreUnsafe(ref yr, i);
            }
        }

        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref xr, i);
            Unsafe.Add(ref yr, i) = v > 0f || float.IsNaN(v) ? v : 0f;
        }
    }

    /// <summary>preGradient = pre &gt; 0 ? postGradient : 0 (PyTorch's ReLU'(0) = 0; NaN passes the gradient).</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Activations (unused by this derivative).</param>
    /// <param name="postGradient">Gradient with respect to the activations.</param>
    /// <param name="preGradient">Receives the gradient with respect to the pre-activations; may be <paramref name="postGradient"/>.</param>
    public static void ReluBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        CheckBackward(pre, post, postGradient, preGradient);
        Backward<ReluGrad>(pre, post, postGradient, preGradient);
    }

    /// <summary>post = pre &gt; 0 ? pre : 0.01·pre.</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Receives the activations.</param>
    public static void LeakyRelu(ReadOnlySpan<float> pre, Span<float> post)
    {
        CheckForward(pre, post);
        Unary<LeakyReluOp>(pre, post);
    }

    /// <summary>preGradient = pre &gt; 0 ? postGradient : 0.01·postGradient.</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Activations (unused by this derivative).</param>
    /// <param name="postGradient">Gradient with respect to the activations.</param>
    /// <param name="preGradient">Receives the gradient with respect to the pre-activations; may be <paramref name="postGradient"/>.</param>
    public static void LeakyReluBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        CheckBackward(pre, post, postGradient, preGradient);
        Backward<LeakyReluGrad>(pre, post, postGradient, preGradient);
    }

    /// <summary>post = 1 / (1 + e^−pre).</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Receives the activations.</param>
    public static void Sigmoid(ReadOnlySpan<float> pre, Span<float> post)
    {
        CheckForward(pre, post);
        Chunked<SigmoidSpan>(pre, post);
    }

    /// <summary>preGradient = postGradient·(1 − post)·post.</summary>
    /// <param name="pre">Pre-activation values (unused by this derivative).</param>
    /// <param name="post">Activations, the sigmoid of <paramref name="pre"/>.</param>
    /// <param name="postGradient">Gradient with respect to the activations.</param>
    /// <param name="preGradient">Receives the gradient with respect to the pre-activations; may be <paramref name="postGradient"/>.</param>
    public static void SigmoidBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        CheckBackward(pre, post, postGradient, preGradient);
        Backward<SigmoidGrad>(pre, post, postGradient, preGradient);
    }

    /// <summary>post = tanh(pre), within about 2 ulp.</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Receives the activations.</param>
    public static void Tanh(ReadOnlySpan<float> pre, Span<float> post)
    {
        // Not TensorPrimitives.Tanh: it goes through e^x − 1 and loses up to ~30 ulp for small |x|.
        CheckForward(pre, post);
        Unary<TanhOp>(pre, post);
    }

    /// <summary>preGradient = postGradient·(1 − post²).</summary>
    /// <param name="pre">Pre-activation values (unused by this derivative).</param>
    /// <param name="post">Activations, the tanh of <paramref name="pre"/>.</param>
    /// <param name="postGradient">Gradient with respect to the activations.</param>
    /// <param name="preGradient">Receives the gradient with respect to the pre-activations; may be <paramref name="postGradient"/>.</param>
    public static void TanhBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        CheckBackward(pre, post, postGradient, preGradient);
        Backward<TanhGrad>(pre, post, postGradient, preGradient);
    }

    /// <summary>post = pre &gt; 20 ? pre : log(1 + e^pre) (PyTorch's Softplus with beta 1, threshold 20).</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Receives the activations.</param>
    public static void Softplus(ReadOnlySpan<float> pre, Span<float> post)
    {
        CheckForward(pre, post);
        Unary<SoftplusOp>(pre, post);
    }

    /// <summary>preGradient = pre &gt; 20 ? postGradient : postGradient·z / (z + 1) with z = e^pre, i.e. the sigmoid of pre.</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Activations (unused by this derivative).</param>
    /// <param name="postGradient">Gradient with respect to the activations.</param>
    /// <param name="preGradient">Receives the gradient with respect to the pre-activations; may be <paramref name="postGradient"/>.</param>
    public static void SoftplusBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        CheckBackward(pre, post, postGradient, preGradient);
        Backward<SoftplusGrad>(pre, post, postGradient, preGradient);
    }

    /// <summary>post = pre &gt; 0 ? pre : e^pre − 1 (alpha 1), with an accurate expm1 near zero.</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Receives the activations.</param>
    public static void Elu(ReadOnlySpan<float> pre, Span<float> post)
    {
        CheckForward(pre, post);
        Unary<EluOp>(pre, post);
    }

    /// <summary>preGradient = pre ≤ 0 ? postGradient·(post + 1) : postGradient.</summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Activations, the ELU of <paramref name="pre"/>.</param>
    /// <param name="postGradient">Gradient with respect to the activations.</param>
    /// <param name="preGradient">Receives the gradient with respect to the pre-activations; may be <paramref name="postGradient"/>.</param>
    public static void EluBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        CheckBackward(pre, post, postGradient, preGradient);
        Backward<EluGrad>(pre, post, postGradient, preGradient);
    }

    /// <summary>
    /// post = pre·Φ(pre) = 0.5·pre·(1 + erf(pre/√2)), PyTorch's default (erf) GELU, computed in double and rounded once
    /// (within about 0.5 ulp, the negative tail included). GELU(−∞) = −0, the limit (PyTorch's formula gives NaN there).
    /// </summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Receives the activations.</param>
    public static void Gelu(ReadOnlySpan<float> pre, Span<float> post)
    {
        CheckForward(pre, post);
        Unary<GeluOp>(pre, post);
    }

    /// <summary>
    /// preGradient = postGradient·(Φ(pre) + pre·φ(pre)) (PyTorch's GeluBackward, erf form), computed in double and rounded
    /// once; the derivative is 1 at +∞ and 0 at −∞.
    /// </summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Activations (unused by this derivative).</param>
    /// <param name="postGradient">Gradient with respect to the activations.</param>
    /// <param name="preGradient">Receives the gradient with respect to the pre-activations; may be <paramref name="postGradient"/>.</param>
    public static void GeluBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        CheckBackward(pre, post, postGradient, preGradient);
        Backward<GeluGrad>(pre, post, postGradient, preGradient);
    }

    /// <summary>
    /// post = pre·σ(pre) = pre / (1 + e^−pre) (PyTorch's SiLU), computed in double and rounded once, so the far negative
    /// tail keeps its digits where float e^−pre would overflow. SiLU(−∞) = −0, the limit (PyTorch's formula gives NaN).
    /// </summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Receives the activations.</param>
    public static void Silu(ReadOnlySpan<float> pre, Span<float> post)
    {
        CheckForward(pre, post);
        Unary<SiluOp>(pre, post);
    }

    /// <summary>
    /// preGradient = postGradient·σ(pre)·(1 + pre·(1 − σ(pre))) (PyTorch's silu_backward), computed in double and rounded
    /// once; the derivative is 1 at +∞ and 0 at −∞.
    /// </summary>
    /// <param name="pre">Pre-activation values.</param>
    /// <param name="post">Activations (unused by this derivative).</param>
    /// <param name="postGradient">Gradient with respect to the activations.</param>
    /// <param name="preGradient">Receives the gradient with respect to the pre-activations; may be <paramref name="postGradient"/>.</param>
    public static void SiluBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        CheckBackward(pre, post, postGradient, preGradient);
        Backward<SiluGrad>(pre, post, postGradient, preGradient);
    }

    private static void CheckForward(ReadOnlySpan<float> pre, Span<float> post) =>
        KernelArguments.SameOrLonger(pre.Length, post.Length, nameof(post), nameof(pre));

    private static void CheckBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
    {
        KernelArguments.SameOrLonger(pre.Length, post.Length, nameof(post), nameof(pre));
        KernelArguments.SameOrLonger(pre.Length, postGradient.Length, nameof(postGradient), nameof(pre));
        KernelArguments.SameOrLonger(pre.Length, preGradient.Length, nameof(preGradient), nameof(pre));
    }

    /// <summary>The vector length TensorPrimitives uses for a span of at least that many floats.</summary>
    private static int TensorPrimitivesChunk =>
        Vector512.IsHardwareAccelerated ? Vector512<float>.Count
        : Vector256.IsHardwareAccelerated ? Vector256<float>.Count
        : Vector128.IsHardwareAccelerated ? Vector128<float>.Count
        : 1;

    /// <summary>
    /// Applies a TensorPrimitives function so every element takes its widest vector path: TensorPrimitives computes
    /// spans shorter than a vector with narrower vectors or scalar code, which may round differently.
    /// </summary>
    private static void Chunked<TFunction>(ReadOnlySpan<float> x, Span<float> y)
        where TFunction : struct, ISpanFunction
    {
        int chunk = TensorPrimitivesChunk;
        int body = x.Length - x.Length % chunk;
        if (body > 0)
        {
            TFunction.Apply(x.Slice(0, body), y.Slice(0, body));
        }

        int rest = x.Length - body;
        if (rest > 0)
        {
            Span<float> buffer = stackalloc float[16];
            buffer = buffer.Slice(0, chunk);
            x.Slice(body).CopyTo(buffer);
            TFunction.Apply(buffer, buffer);
            buffer.Slice(0, rest).CopyTo(y.Slice(body));
        }
    }

    private static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> y)
        where TOp : struct, IUnaryOp
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
            }

            if (i < n)
            {
                Span<float> buffer = stackalloc float[Vector512<float>.Count];
                x.Slice(i).CopyTo(buffer);
                TOp.Invoke(Vector512.Create((ReadOnlySpan<float>)buffer)).CopyTo(buffer);
                buffer.Slice(0, n - i).CopyTo(y.Slice(i));
            }

            return;
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
            }

            if (i < n)
            {
                Span<float> buffer = stackalloc float[Vector256<float>.Count];
                x.Slice(i).CopyTo(buffer);
                TOp.Invoke(Vector256.Create((ReadOnlySpan<float>)buffer)).CopyTo(buffer);
                buffer.Slice(0, n - i).CopyTo(y.Slice(i));
            }

            return;
        }

        for (; i < n; i++)
        {
            y[i] = TOp.Invoke(x[i]);
        }
    }

    private static void Backward<TOp>(ReadOnlySpan<float> pre, ReadOnlySpan<float> post, ReadOnlySpan<float> postGradient, Span<float> preGradient)
        where TOp : struct, IBackwardOp
    {
        ref float pr = ref MemoryMarshal.GetReference(pre);
        ref float qr = ref MemoryMarshal.GetReference(post);
        ref float gr = ref MemoryMarshal.GetReference(postGradient);
        ref float dr = ref MemoryMarshal.GetReference(preGradient);
        int n = pre.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            const int W = 16;
            for (; i <= n - W; i += W)
            {
                Vector512<float> p = TOp.UsesPre ? Vector512.LoadUnsafe(ref pr, (nuint)i) : default;
                Vector512<float> q = TOp.UsesPost ? Vector512.LoadUnsafe(ref qr, (nuint)i) : default;
                TOp.Invoke(p, q, Vector512.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }

            if (i < n)
            {
                // All inputs are read before the output is written, so preGradient may alias postGradient.
                Span<float> buffer = stackalloc float[3 * W];
                pre.Slice(i, n - i).CopyTo(buffer);
                post.Slice(i, n - i).CopyTo(buffer.Slice(W));
                postGradient.Slice(i, n - i).CopyTo(buffer.Slice(2 * W));
                Vector512<float> r = TOp.Invoke(
                    Vector512.Create((ReadOnlySpan<float>)buffer),
                    Vector512.Create((ReadOnlySpan<float>)buffer.Slice(W)),
                    Vector512.Create((ReadOnlySpan<float>)buffer.Slice(2 * W)));
                r.CopyTo(buffer);
                buffer.Slice(0, n - i).CopyTo(preGradient.Slice(i));
            }

            return;
        }

        if (Vector256.IsHardwareAccelerated)
        {
            const int W = 8;
            for (; i <= n - W; i += W)
            {
                Vector256<float> p = TOp.UsesPre ? Vector256.LoadUnsafe(ref pr, (nuint)i) : default;
                Vector256<float> q = TOp.UsesPost ? Vector256.LoadUnsafe(ref qr, (nuint)i) : default;
                TOp.Invoke(p, q, Vector256.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }

            if (i < n)
            {
                Span<float> buffer = stackalloc float[3 * W];
                pre.Slice(i, n - i).CopyTo(buffer);
                post.Slice(i, n - i).CopyTo(buffer.Slice(W));
                postGradient.Slice(i, n - i).CopyTo(buffer.Slice(2 * W));
                Vector256<float> r = TOp.Invoke(
                    Vector256.Create((ReadOnlySpan<float>)buffer),
                    Vector256.Create((ReadOnlySpan<float>)buffer.Slice(W)),
                    Vector256.Create((ReadOnlySpan<float>)buffer.Slice(2 * W)));
                r.CopyTo(buffer);
                buffer.Slice(0, n - i).CopyTo(preGradient.Slice(i));
            }

            return;
        }

        for (; i < n; i++)
        {
            preGradient[i] = TOp.Invoke(pre[i], post[i], postGradient[i]);
        }
    }

    private interface ISpanFunction
    {
        static abstract void Apply(ReadOnlySpan<float> x, Span<float> y);
    }

    private interface IUnaryOp
    {
        static abstract float Invoke(float x);

        static abstract Vector256<float> Invoke(Vector256<float> x);

        static abstract Vector512<float> Invoke(Vector512<float> x);
    }

    private interface IBackwardOp
    {
        static abstract bool UsesPre { get; }

        static abstract bool UsesPost { get; }

        static abstract float Invoke(float pre, float post, float gradient);

        static abstract Vector256<float> Invoke(Vector256<float> pre, Vector256<float> post, Vector256<float> gradient);

        static abstract Vector512<float> Invoke(Vector512<float> pre, Vector512<float> post, Vector512<float> gradient);
    }

    private readonly struct SigmoidSpan : ISpanFunction
    {
        public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);
    }

    // Cephes tanhf: an odd polynomial for |x| ≤ 0.625, else 1 − 2/(e^2|x| + 1) with the sign of x.
    private readonly struct TanhOp : IUnaryOp
    {
        private const float Limit = 0.625f;
        private const float C4 = -5.70498872745E-3f;
        private const float C3 = 2.06390887954E-2f;
        private const float C2 = -5.37397155531E-2f;
        private const float C1 = 1.33314422036E-1f;
        private const float C0 = -3.33332819422E-1f;

        public static float Invoke(float x)
        {
            float a = MathF.Abs(x);
            if (a <= Limit)
            {
                float z = x * x;
                float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(C4, z, C3), z, C2), z, C1), z, C0);
                return MathF.FusedMultiplyAdd(p * z, x, x);
            }

            return MathF.CopySign(1f - 2f / (MathF.Exp(a + a) + 1f), x);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> a = Vector256.Abs(x);
            Vector256<float> z = x * x;
            Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(C4), z, Vector256.Create(C3));
            p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C2));
            p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C1));
            p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(C0));
            Vector256<float> small = Vector256.FusedMultiplyAdd(p * z, x, x);
            Vector256<float> large = Vector256<float>.One - Vector256.Create(2f) / (Vector256.Exp(a + a) + Vector256<float>.One);
            large |= x & Vector256.Create(-0f);
            return Vector256.ConditionalSelect(Vector256.LessThanOrEqual(a, Vector256.Create(Limit)), small, large);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x)
        {
            Vector512<float> a = Vector512.Abs(x);
            Vector512<float> z = x * x;
            Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(C4), z, Vector512.Create(C3));
            p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(C2));
            p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(C1));
            p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(C0));
            Vector512<float> small = Vector512.FusedMultiplyAdd(p * z, x, x);
            Vector512<float> large = Vector512<float>.One - Vector512.Create(2f) / (Vector512.Exp(a + a) + Vector512<float>.One);
            large |= x & Vector512.Create(-0f);
            return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(a, Vector512.Create(Limit)), small, large);
        }
    }

    private readonly struct LeakyReluOp : IUnaryOp
    {
        public static float Invoke(float x) => x > 0f ? x : x * LeakySlope;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * LeakySlope);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * LeakySlope);
    }

    // softplus(x) = max(x, 0) + log1p(e^−|x|) never overflows; log1p(u) = log(w)·u/(w − 1) with w = 1 + u
    // (Goldberg) keeps full precision for tiny u, where log(1 + u) would round to 0.
    private readonly struct SoftplusOp : IUnaryOp
    {
        public static float Invoke(float x)
        {
            if (x > SoftplusThreshold)
            {
                return x;
            }

            double u = Math.Exp(-Math.Abs((double)x));
            double w = 1.0 + u;
            double log1p = w == 1.0 ? u : Math.Log(w) * (u / (w - 1.0));
            return (float)(Math.Max(x, 0.0) + log1p);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> one = Vector256<float>.One;
            Vector256<float> u = Vector256.Exp(-Vector256.Abs(x));
            Vector256<float> w = one + u;
            Vector256<float> log1p = Vector256.ConditionalSelect(Vector256.Equals(w, one), u, Vector256.Log(w) * (u / (w - one)));
            Vector256<float> r = Vector256.Max(x, Vector256<float>.Zero) + log1p;
            return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(SoftplusThreshold)), x, r);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x)
        {
            Vector512<float> one = Vector512<float>.One;
            Vector512<float> u = Vector512.Exp(-Vector512.Abs(x));
            Vector512<float> w = one + u;
            Vector512<float> log1p = Vector512.ConditionalSelect(Vector512.Equals(w, one), u, Vector512.Log(w) * (u / (w - one)));
            Vector512<float> r = Vector512.Max(x, Vector512<float>.Zero) + log1p;
            return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(SoftplusThreshold)), x, r);
        }
    }

    // e^x − 1 cancels near 0: for −0.5 ≤ x ≤ 0 use the Taylor series to x⁸/8! (truncation below 0.3 ulp),
    // below that e^x − 1 itself (|result| ≥ 0.39, so no cancellation).
    private readonly struct EluOp : IUnaryOp
    {
        private const float SeriesLimit = -0.5f;
        private const float C8 = 1f / 40320f;
        private const float C7 = 1f / 5040f;
        private const float C6 = 1f / 720f;
        private const float C5 = 1f / 120f;
        private const float C4 = 1f / 24f;
        private const float C3 = 1f / 6f;
        private const float C2 = 0.5f;

        public static float Invoke(float x)
        {
            if (x > 0f)
            {
                return x;
            }

            if (x >= SeriesLimit)
            {
                float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(C8, x, C7), x, C6), x, C5);
                p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(p, x, C4), x, C3), x, C2);
                return MathF.FusedMultiplyAdd(p, x * x, x);
            }

            return MathF.Exp(x) - 1f;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(C8), x, Vector256.Create(C7));
            p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(C6));
            p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(C5));
            p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(C4));
            p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(C3));
            p = Vector256.FusedMultiplyAdd(p, x, Vector256.Create(C2));
            Vector256<float> series = Vector256.FusedMultiplyAdd(p, x * x, x);
            Vector256<float> expm1 = Vector256.ConditionalSelect(
                Vector256.GreaterThanOrEqual(x, Vector256.Create(SeriesLimit)), series, Vector256.Exp(x) - Vector256<float>.One);
            return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, expm1);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x)
        {
            Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(C8), x, Vector512.Create(C7));
            p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(C6));
            p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(C5));
            p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(C4));
            p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(C3));
            p = Vector512.FusedMultiplyAdd(p, x, Vector512.Create(C2));
            Vector512<float> series = Vector512.FusedMultiplyAdd(p, x * x, x);
            Vector512<float> expm1 = Vector512.ConditionalSelect(
                Vector512.GreaterThanOrEqual(x, Vector512.Create(SeriesLimit)), series, Vector512.Exp(x) - Vector512<float>.One);
            return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, expm1);
        }
    }

    // PyTorch's threshold_backward: pre ≤ 0 gives exactly 0; anything else (NaN included) passes the gradient.
    private readonly struct ReluGrad : IBackwardOp
    {
        public static bool UsesPre => true;

        public static bool UsesPost => false;

        public static float Invoke(float pre, float post, float gradient) => pre <= 0f ? 0f : gradient;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> pre, Vector256<float> post, Vector256<float> gradient) =>
            Vector256.ConditionalSelect(Vector256.LessThanOrEqual(pre, Vector256<float>.Zero), Vector256<float>.Zero, gradient);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> pre, Vector512<float> post, Vector512<float> gradient) =>
            Vector512.ConditionalSelect(Vector512.LessThanOrEqual(pre, Vector512<float>.Zero), Vector512<float>.Zero, gradient);
    }

    private readonly struct LeakyReluGrad : IBackwardOp
    {
        public static bool UsesPre => true;

        public static bool UsesPost => false;

        public static float Invoke(float pre, float post, float gradient) => pre > 0f ? gradient : gradient * LeakySlope;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> pre, Vector256<float> post, Vector256<float> gradient) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(pre, Vector256<float>.Zero), gradient, gradient * LeakySlope);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> pre, Vector512<float> post, Vector512<float> gradient) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(pre, Vector512<float>.Zero), gradient, gradient * LeakySlope);
    }

    // Same operation order as PyTorch's sigmoid_backward: g·(1 − s)·s.
    private readonly struct SigmoidGrad : IBackwardOp
    {
        public static bool UsesPre => false;

        public static bool UsesPost => true;

        public static float Invoke(float pre, float post, float gradient) => gradient * (1f - post) * post;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> pre, Vector256<float> post, Vector256<float> gradient) =>
            gradient * (Vector256<float>.One - post) * post;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> pre, Vector512<float> post, Vector512<float> gradient) =>
            gradient * (Vector512<float>.One - post) * post;
    }

    private readonly struct TanhGrad : IBackwardOp
    {
        public static bool UsesPre => false;

        public static bool UsesPost => true;

        public static float Invoke(float pre, float post, float gradient) => gradient * (1f - post * post);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> pre, Vector256<float> post, Vector256<float> gradient) =>
            gradient * (Vector256<float>.One - post * post);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> pre, Vector512<float> post, Vector512<float> gradient) =>
            gradient * (Vector512<float>.One - post * post);
    }

    // PyTorch's softplus_backward: z = e^x; x > threshold ? g : g·z / (z + 1).
    private readonly struct SoftplusGrad : IBackwardOp
    {
        public static bool UsesPre => true;

        public static bool UsesPost => false;

        public static float Invoke(float pre, float post, float gradient)
        {
            float z = MathF.Exp(pre);
            return pre > SoftplusThreshold ? gradient : gradient * z / (z + 1f);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> pre, Vector256<float> post, Vector256<float> gradient)
        {
            Vector256<float> z = Vector256.Exp(pre);
            return Vector256.ConditionalSelect(Vector256.GreaterThan(pre, Vector256.Create(SoftplusThreshold)), gradient, gradient * z / (z + Vector256<float>.One));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> pre, Vector512<float> post, Vector512<float> gradient)
        {
            Vector512<float> z = Vector512.Exp(pre);
            return Vector512.ConditionalSelect(Vector512.GreaterThan(pre, Vector512.Create(SoftplusThreshold)), gradient, gradient * z / (z + Vector512<float>.One));
        }
    }

    private readonly struct EluGrad : IBackwardOp
    {
        public static bool UsesPre => true;

        public static bool UsesPost => true;

        public static float Invoke(float pre, float post, float gradient) => pre <= 0f ? gradient * (post + 1f) : gradient;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> pre, Vector256<float> post, Vector256<float> gradient) =>
            Vector256.ConditionalSelect(Vector256.LessThanOrEqual(pre, Vector256<float>.Zero), gradient * (post + Vector256<float>.One), gradient);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> pre, Vector512<float> post, Vector512<float> gradient) =>
            Vector512.ConditionalSelect(Vector512.LessThanOrEqual(pre, Vector512<float>.Zero), gradient * (post + Vector512<float>.One), gradient);
    }

    // GELU in double. Beyond ±40, Φ is 0 or 1 to double precision (e^−800 underflows), so the argument is clamped there:
    // that changes no finite result and keeps ±∞ from making ∞·0. Above +40 the output is pre itself (pre·1).
    private readonly struct GeluOp : IUnaryOp
    {
        public static float Invoke(float x)
        {
            double limited = GeluLimited(x);
            return (float)((x > GeluLimit ? x : limited) * NormalDistribution.Cdf(limited, out _));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> limited = GeluLimited(x);
            (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(limited);
            (Vector256<double> factorLower, Vector256<double> factorUpper) = Vector256.Widen(Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(GeluLimit)), x, limited));
            return Vector256.Narrow(factorLower * NormalDistribution.Cdf(lower, out _), factorUpper * NormalDistribution.Cdf(upper, out _));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x)
        {
            Vector512<float> limited = GeluLimited(x);
            (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(limited);
            (Vector512<double> factorLower, Vector512<double> factorUpper) = Vector512.Widen(Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(GeluLimit)), x, limited));
            return Vector512.Narrow(factorLower * NormalDistribution.Cdf(lower, out _), factorUpper * NormalDistribution.Cdf(upper, out _));
        }
    }

    // Φ(x) + x·φ(x) at the clamped argument (1 above +40, 0 below −40), times the gradient, in double.
    private readonly struct GeluGrad : IBackwardOp
    {
        public static bool UsesPre => true;

        public static bool UsesPost => false;

        public static float Invoke(float pre, float post, float gradient)
        {
            double x = GeluLimited(pre);
            double cdf = NormalDistribution.Cdf(x, out double density);
            return (float)(gradient * (cdf + x * density));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> pre, Vector256<float> post, Vector256<float> gradient)
        {
            (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(GeluLimited(pre));
            (Vector256<double> gradientLower, Vector256<double> gradientUpper) = Vector256.Widen(gradient);
            Vector256<double> cdfLower = NormalDistribution.Cdf(lower, out Vector256<double> densityLower);
            Vector256<double> cdfUpper = NormalDistribution.Cdf(upper, out Vector256<double> densityUpper);
            return Vector256.Narrow(gradientLower * (cdfLower + lower * densityLower), gradientUpper * (cdfUpper + upper * densityUpper));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> pre, Vector512<float> post, Vector512<float> gradient)
        {
            (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(GeluLimited(pre));
            (Vector512<double> gradientLower, Vector512<double> gradientUpper) = Vector512.Widen(gradient);
            Vector512<double> cdfLower = NormalDistribution.Cdf(lower, out Vector512<double> densityLower);
            Vector512<double> cdfUpper = NormalDistribution.Cdf(upper, out Vector512<double> densityUpper);
            return Vector512.Narrow(gradientLower * (cdfLower + lower * densityLower), gradientUpper * (cdfUpper + upper * densityUpper));
        }
    }

    private const float GeluLimit = 40f;

    // x clamped to [−40, 40]; NaN stays NaN (both comparisons are false).
    private static float GeluLimited(float x) => x < -GeluLimit ? -GeluLimit : x > GeluLimit ? GeluLimit : x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GeluLimited(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-GeluLimit)), Vector256.Create(-GeluLimit),
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(GeluLimit)), Vector256.Create(GeluLimit), x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GeluLimited(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-GeluLimit)), Vector512.Create(-GeluLimit),
            Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(GeluLimit)), Vector512.Create(GeluLimit), x));

    // SiLU in double: x / (1 + e^−x). The argument is clamped to [−1000, 1000] (e^1000 is ∞ in double, so the clamp
    // changes no finite result): then −∞ gives −1000/∞ = −0 instead of −∞/∞, and +∞ still gives ∞ (never clamped in the
    // forward, where e^−∞ = 0 is harmless).
    private const float SiluLimit = 1000f;

    private readonly struct SiluOp : IUnaryOp
    {
        public static float Invoke(float x)
        {
            double limited = x < -SiluLimit ? -SiluLimit : x;
            return (float)(limited / (1.0 + Math.Exp(-limited)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> limited = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-SiluLimit)), Vector256.Create(-SiluLimit), x);
            (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(limited);
            return Vector256.Narrow(lower / (Vector256<double>.One + Vector256.Exp(-lower)), upper / (Vector256<double>.One + Vector256.Exp(-upper)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> x)
        {
            Vector512<float> limited = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-SiluLimit)), Vector512.Create(-SiluLimit), x);
            (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(limited);
            return Vector512.Narrow(lower / (Vector512<double>.One + Vector512.Exp(-lower)), upper / (Vector512<double>.One + Vector512.Exp(-upper)));
        }
    }

    // σ(x)·(1 + x·(1 − σ(x))) times the gradient, in double, at x clamped to [−1000, 1000]: 1 at +∞, 0 at −∞.
    private readonly struct SiluGrad : IBackwardOp
    {
        public static bool UsesPre => true;

        public static bool UsesPost => false;

        public static float Invoke(float pre, float post, float gradient)
        {
            double x = pre < -SiluLimit ? -SiluLimit : pre > SiluLimit ? SiluLimit : pre;
            double s = 1.0 / (1.0 + Math.Exp(-x));
            return (float)(gradient * (s * (1.0 + x * (1.0 - s))));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Invoke(Vector256<float> pre, Vector256<float> post, Vector256<float> gradient)
        {
            Vector256<float> limited = Vector256.ConditionalSelect(Vector256.LessThan(pre, Vector256.Create(-SiluLimit)), Vector256.Create(-SiluLimit),
                Vector256.ConditionalSelect(Vector256.GreaterThan(pre, Vector256.Create(SiluLimit)), Vector256.Create(SiluLimit), pre));
            (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(limited);
            (Vector256<double> gradientLower, Vector256<double> gradientUpper) = Vector256.Widen(gradient);
            return Vector256.Narrow(gradientLower * Derivative(lower), gradientUpper * Derivative(upper));

            static Vector256<double> Derivative(Vector256<double> x)
            {
                Vector256<double> s = Vector256<double>.One / (Vector256<double>.One + Vector256.Exp(-x));
                return s * (Vector256<double>.One + x * (Vector256<double>.One - s));
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Invoke(Vector512<float> pre, Vector512<float> post, Vector512<float> gradient)
        {
            Vector512<float> limited = Vector512.ConditionalSelect(Vector512.LessThan(pre, Vector512.Create(-SiluLimit)), Vector512.Create(-SiluLimit),
                Vector512.ConditionalSelect(Vector512.GreaterThan(pre, Vector512.Create(SiluLimit)), Vector512.Create(SiluLimit), pre));
            (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(limited);
            (Vector512<double> gradientLower, Vector512<double> gradientUpper) = Vector512.Widen(gradient);
            return Vector512.Narrow(gradientLower * Derivative(lower), gradientUpper * Derivative(upper));

            static Vector512<double> Derivative(Vector512<double> x)
            {
                Vector512<double> s = Vector512<double>.One / (Vector512<double>.One + Vector512.Exp(-x));
                return s * (Vector512<double>.One + x * (Vector512<double>.One - s));
            }
        }
    }
}
