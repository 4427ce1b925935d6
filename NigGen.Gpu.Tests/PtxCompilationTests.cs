using System;
using System.Linq;
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NigGen.Gpu.Device;
using Xunit;

namespace NigGen.Gpu.Tests;

/// <summary>
/// ILGPU's CPU accelerator runs the kernels as .NET code, so the agreement tests never exercise ILGPU's compiler.
/// Here every kernel goes through ILGPU's PTX backend for an H100/H200 (SM 9.0), without a GPU: a construct the
/// compiler rejects fails here rather than in a GPU session; and the GEMM's 8 × 4 block must stay in registers.
/// </summary>
public sealed class PtxCompilationTests
{
    private static readonly Lazy<(Context Context, PTXBackend Backend)> Compiler = new(() =>
    {
        var context = Context.Create(builder => builder.Optimize(OptimizationLevel.O2));
        return (context, new PTXBackend(context, new CudaArchitecture(9, 0), new CudaInstructionSet(8, 0), nvvmAPI: null!)); // no NVVM: ILGPU emits PTX itself
    });

    public static TheoryData<string> ElementwiseKernels() =>
        [.. typeof(ElementwiseKernels).GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => m.Name)];

    [Theory]
    [InlineData(typeof(MatrixA))]
    [InlineData(typeof(ConvPatchesA))]
    [InlineData(typeof(ConvGradientPatchesA))]
    public void TheGemmCompilesWithItsBlockInRegisters(Type operand)
    {
        var kernel = typeof(GemmKernel).GetMethod(nameof(GemmKernel.Run))!.MakeGenericMethod(operand);
        string ptx = Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel));
        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain(".local", ptx, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ElementwiseKernels))]
    public void ElementwiseKernelCompiles(string name)
    {
        var kernel = typeof(ElementwiseKernels).GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
        Assert.Contains(".entry", Compile(EntryPointDescription.FromImplicitlyGroupedKernel(kernel)), StringComparison.Ordinal);
    }

    private static string Compile(EntryPointDescription entry)
    {
        var compiled = (PTXCompiledKernel)Compiler.Value.Backend.Compile(entry, KernelSpecialization.Empty);
        return compiled.PTXAssembly;
    }
}
