namespace NigGen.Gpu;

/// <summary>How a <see cref="GpuNetwork"/> sizes its device work. <c>null</c> or <c>new GpuOptions()</c> picks both from the accelerator.</summary>
public sealed record GpuOptions
{
    /// <summary>
    /// Most rows (samples, or interpolation points) one pass over the layers holds; 0, the default, sizes passes to
    /// about an eighth of the device's memory, at most 1 GiB (16 MiB on ILGPU's CPU simulator). Results do not depend on
    /// it beyond float rounding.
    /// </summary>
    public int MaxRowsPerPass { get; init; }

    /// <summary>
    /// Most threads in a group of the GEMM kernels; 0, the default, takes min(256, the accelerator's limit). A power of
    /// two, at least 16 (ILGPU's CPU accelerator allows 16 per group unless created with a larger CPUDevice).
    /// </summary>
    public int MaxGroupSize { get; init; }
}
