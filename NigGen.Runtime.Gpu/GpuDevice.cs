using System;
using System.Diagnostics.CodeAnalysis;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace NigGen.Gpu;

/// <summary>
/// An ILGPU context and one accelerator, disposed together: <see cref="CreateCuda"/> for an NVIDIA GPU (the backend's
/// purpose), <see cref="TryCreateCuda"/> to fall back to the CPU path when there is none, and
/// <see cref="CreateCpuSimulator"/> for tests on machines without a GPU (ILGPU's CPU accelerator simulates a GPU
/// thread by thread: correct, and far slower than NigGen's CPU path).
/// </summary>
public sealed class GpuDevice : IDisposable
{
    private GpuDevice(Context context, Accelerator accelerator)
    {
        Context = context;
        Accelerator = accelerator;
    }

    /// <summary>The ILGPU context.</summary>
    public Context Context { get; }

    /// <summary>The accelerator networks are uploaded to (<c>net.ToGpu(device.Accelerator)</c>).</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The device's name, as the driver reports it.</summary>
    public string Name => Accelerator.Name;

    /// <summary>Whether this is ILGPU's CPU simulator rather than a GPU.</summary>
    public bool IsCpuSimulator => Accelerator.AcceleratorType == AcceleratorType.CPU;

    /// <summary>The CUDA GPU <paramref name="index"/> (0: the first).</summary>
    /// <exception cref="GpuNotAvailableException">No CUDA device (no NVIDIA GPU, or no driver), or fewer than <paramref name="index"/> + 1.</exception>
    [RequiresDynamicCode(GpuNetwork.RequiresDynamicCodeMessage)]
    [RequiresUnreferencedCode(GpuNetwork.RequiresDynamicCodeMessage)]
    public static GpuDevice CreateCuda(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Context context;
        try
        {
            context = Context.Create(builder => builder.Cuda().Optimize(OptimizationLevel.O2));
        }
        catch (Exception e)
        {
            throw new GpuNotAvailableException($"NigGen's GPU backend could not initialise CUDA ({e.GetType().Name}: {e.Message}). Use the network's CPU methods instead (see docs/GPU.md, 'Choosing the device').", e);
        }

        try
        {
            var devices = context.GetCudaDevices();
            if (devices.Count <= index)
            {
                string found = devices.Count == 0
                    ? "no CUDA device was found (no NVIDIA GPU, or its driver's libcuda is not installed)"
                    : $"only {devices.Count} CUDA device(s) were found: {DeviceNames(devices)}";
                throw new GpuNotAvailableException($"NigGen's GPU backend needs a CUDA device, but {found}. Use the network's CPU methods instead (see docs/GPU.md, 'Choosing the device').");
            }

            return new GpuDevice(context, devices[index].CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static string DeviceNames(Context.DeviceCollection<CudaDevice> devices)
    {
        var names = new System.Collections.Generic.List<string>();
        foreach (var device in devices)
        {
            names.Add(device.Name);
        }

        return string.Join(", ", names);
    }

    /// <summary>The first CUDA GPU, or false (and null) when there is none, so that the caller can use the CPU path.</summary>
    [RequiresDynamicCode(GpuNetwork.RequiresDynamicCodeMessage)]
    [RequiresUnreferencedCode(GpuNetwork.RequiresDynamicCodeMessage)]
    public static bool TryCreateCuda([NotNullWhen(true)] out GpuDevice? device)
    {
        try
        {
            device = CreateCuda();
            return true;
        }
        catch (GpuNotAvailableException)
        {
            device = null;
            return false;
        }
    }

    /// <summary>
    /// ILGPU's CPU accelerator with groups of up to <paramref name="maxGroupSize"/> threads, for tests and for checking
    /// the GPU path on a machine without a GPU. Each group's threads are real threads, so keep shapes tiny.
    /// </summary>
    [RequiresDynamicCode(GpuNetwork.RequiresDynamicCodeMessage)]
    [RequiresUnreferencedCode(GpuNetwork.RequiresDynamicCodeMessage)]
    public static GpuDevice CreateCpuSimulator(int maxGroupSize = 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroupSize, 16);
        int warp = 4;
        var device = new CPUDevice(warp, (maxGroupSize + warp - 1) / warp, 1);
        var context = Context.Create(builder => builder.CPU(device).Optimize(OptimizationLevel.O1));
        try
        {
            return new GpuDevice(context, context.CreateCPUAccelerator(0));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the accelerator, then the context.</summary>
    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}

/// <summary>No device of the kind asked for is available.</summary>
public sealed class GpuNotAvailableException : InvalidOperationException
{
    /// <summary>Creates the exception with its message.</summary>
    public GpuNotAvailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and the error that caused it.</summary>
    public GpuNotAvailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
