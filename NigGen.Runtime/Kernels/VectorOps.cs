using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NigGen.Kernels;

/// <summary>
/// The few vector operations the GEMM micro-kernels need, abstracted over the vector width so one generic kernel
/// serves Vector512, Vector256 and Vector128 (the JIT and Native AOT specialise it per struct).
/// </summary>
internal unsafe interface IVectorOps<TVec>
    where TVec : struct
{
    static abstract int Count { get; }

    static abstract TVec Zero { get; }

    static abstract TVec Load(float* source);

    static abstract void Store(float* destination, TVec value);

    static abstract TVec Broadcast(float value);

    /// <summary>a·b + c with a single rounding.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    static abstract TVec Add(TVec a, TVec b);

    static abstract TVec Subtract(TVec a, TVec b);

    /// <summary>max(v, 0) as <see cref="ActivationKernels.Relu"/> computes it: NaN kept, −0 to +0.</summary>
    static abstract TVec Relu(TVec v);
}

internal readonly unsafe struct Ops512 : IVectorOps<Vector512<float>>
{
    public static int Count => 16;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector512<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> v) => Vector512.AndNot(v, Vector512.LessThanOrEqual(v, Vector512<float>.Zero));
}

internal readonly unsafe struct Ops256 : IVectorOps<Vector256<float>>
{
    public static int Count => 8;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector256<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> v) => Vector256.AndNot(v, Vector256.LessThanOrEqual(v, Vector256<float>.Zero));
}

internal readonly unsafe struct Ops128 : IVectorOps<Vector128<float>>
{
    public static int Count => 4;

    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* source) => Vector128.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector128<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Relu(Vector128<float> v) => Vector128.AndNot(v, Vector128.LessThanOrEqual(v, Vector128<float>.Zero));
}

/// <summary>An integer known from the type, so generic kernels specialise on it and the JIT folds branches on it away.</summary>
internal interface IConstant
{
    static abstract int Value { get; }
}

internal readonly struct R1 : IConstant { public static int Value => 1; }

internal readonly struct R2 : IConstant { public static int Value => 2; }

internal readonly struct R3 : IConstant { public static int Value => 3; }

internal readonly struct R4 : IConstant { public static int Value => 4; }

internal readonly struct R5 : IConstant { public static int Value => 5; }

internal readonly struct R6 : IConstant { public static int Value => 6; }

internal readonly struct R7 : IConstant { public static int Value => 7; }

internal readonly struct R8 : IConstant { public static int Value => 8; }

internal readonly struct V1 : IConstant { public static int Value => 1; }

internal readonly struct V2 : IConstant { public static int Value => 2; }

internal readonly struct V4 : IConstant { public static int Value => 4; }

internal readonly struct V3 : IConstant { public static int Value => 3; }
