using System;
using ILGPU;
using ILGPU.Runtime;
using NigGen.Gpu.Device;
using Xunit;

namespace NigGen.Gpu.Tests;

/// <summary>
/// The tiled GEMM kernel on its own, against a double-precision product, on shapes that leave partial tiles on every
/// side and use every register of each thread's 8 × 4 block, for the group sizes the planner picks from.
/// </summary>
public sealed class GemmKernelTests
{
    [Theory]
    [InlineData(37, 29, 21, 16)]
    [InlineData(5, 70, 3, 16)]
    [InlineData(70, 5, 33, 16)]
    [InlineData(64, 64, 40, 16)]
    [InlineData(37, 29, 21, 64)]
    [InlineData(9, 130, 17, 64)]
    [InlineData(130, 20, 17, 64)]
    public void MatchesTheProductInDouble(int m, int n, int k, int groupSize)
    {
        var device = groupSize == 16 ? GpuFixture.Device : GpuFixture.WideDevice;
        var accelerator = device.Accelerator;
        var a = GpuFixture.Values(m * k, seed: m);
        var b = GpuFixture.Values(n * k, seed: n); // B(k, n) = b[n·k + k]: k-contiguous
        var bias = GpuFixture.Values(m, seed: k);
        using var aBuffer = accelerator.Allocate1D(a);
        using var bBuffer = accelerator.Allocate1D(b);
        using var biasBuffer = accelerator.Allocate1D(bias);
        using var output = accelerator.Allocate1D<float>(m * n);
        var shape = DeviceKernels.Plan(m, n, k, groupSize);
        Assert.True(shape.ThreadsM * shape.ThreadsN == groupSize, $"Plan({m}, {n}, {k}) uses {shape.ThreadsM} × {shape.ThreadsN} threads, not {groupSize}.");

        // A row-major [n, m] result with the bias on m, as the dense layers store theirs.
        DeviceKernels.For(accelerator).Gemm(
            new MatrixA { Data = aBuffer.View, Stride = k },
            new MatrixB { Data = bBuffer.View, Stride = k },
            new GemmOutput { Pre = output.View, Post = output.View, Bias = biasBuffer.View, HasBias = 1, BiasOnM = 1, Activation = 0, Positions = m, RowLength = 0, ColumnStride = m },
            shape);
        accelerator.Synchronize();
        var actual = output.GetAsArray1D();

        var expected = new float[m * n];
        for (int row = 0; row < m; row++)
        {
            for (int column = 0; column < n; column++)
            {
                double sum = bias[row];
                for (int i = 0; i < k; i++)
                {
                    sum += (double)a[row * k + i] * b[column * k + i];
                }

                expected[column * m + row] = (float)sum;
            }
        }

        GpuFixture.AssertClose(expected, actual, $"GEMM {m}×{n}×{k} in groups of {groupSize}", tolerance: 1e-5);
    }

    [Fact]
    public void PlanCoversTheSmallerDimensionWithTheFewestThreads()
    {
        // The CNN's conv2 (M = rows·64 positions, N = 32 channels) and fc2 (M = 10 outputs, N = rows) on a GPU.
        var conv = DeviceKernels.Plan(51 * 64, 32, 400, 256);
        Assert.Equal((32, 8), (conv.ThreadsM, conv.ThreadsN));
        var dense = DeviceKernels.Plan(10, 51, 128, 256);
        Assert.Equal((4, 64), (dense.ThreadsM, dense.ThreadsN));
        Assert.True(conv.SharedFloats * 4 <= 48 * 1024 && dense.SharedFloats * 4 <= 48 * 1024, "A tile must fit CUDA's 48 KiB of static shared memory per group.");
    }
}
