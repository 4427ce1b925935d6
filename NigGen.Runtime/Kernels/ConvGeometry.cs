using System;
using System.Text;

namespace NigGen.Kernels;

/// <summary>
/// Geometry of one 1D or 2D convolution over one sample (PyTorch semantics, zero padding, no dilation or groups).
/// A 1D convolution uses InHeight = 1, KernelHeight = 1, PaddingHeight = 0, StrideHeight = 1.
/// </summary>
/// <param name="InChannels">Input channels.</param>
/// <param name="InHeight">Input height (1 for 1D).</param>
/// <param name="InWidth">Input width (the length for 1D).</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="KernelHeight">Kernel height (1 for 1D).</param>
/// <param name="KernelWidth">Kernel width.</param>
/// <param name="StrideHeight">Vertical stride (1 for 1D).</param>
/// <param name="StrideWidth">Horizontal stride.</param>
/// <param name="PaddingHeight">Zero padding above and below (0 for 1D).</param>
/// <param name="PaddingWidth">Zero padding left and right.</param>
public readonly record struct ConvGeometry(
    int InChannels,
    int InHeight,
    int InWidth,
    int OutChannels,
    int KernelHeight,
    int KernelWidth,
    int StrideHeight,
    int StrideWidth,
    int PaddingHeight,
    int PaddingWidth)
{
    /// <summary>Output height: (InHeight + 2·PaddingHeight − KernelHeight) / StrideHeight + 1.</summary>
    public int OutHeight => (InHeight + 2 * PaddingHeight - KernelHeight) / StrideHeight + 1;

    /// <summary>Output width: (InWidth + 2·PaddingWidth − KernelWidth) / StrideWidth + 1.</summary>
    public int OutWidth => (InWidth + 2 * PaddingWidth - KernelWidth) / StrideWidth + 1;

    /// <summary>Input floats per sample: InChannels·InHeight·InWidth.</summary>
    public int InputLength => InChannels * InHeight * InWidth;

    /// <summary>Output floats per sample: OutChannels·OutHeight·OutWidth.</summary>
    public int OutputLength => OutChannels * OutHeight * OutWidth;

    /// <summary>Length of one im2col patch, the K of the GEMM: InChannels·KernelHeight·KernelWidth.</summary>
    public int PatchLength => InChannels * KernelHeight * KernelWidth;

    /// <summary>
    /// Floats of scratch the kernels need: the largest of the im2col buffer (PatchLength·OutHeight·OutWidth), what the
    /// implicit GEMM needs (a zero-padded copy of one sample when the layer pads, and a zero-padded panel of 32 output
    /// channels of the transposed weight when the channels do not fill whole 16-float vectors) and, where Winograd's
    /// algorithm applies, its channels-last copy of a sample and transformed blocks of tiles.
    /// </summary>
    public int ScratchLength => (int)Math.Max(Math.Max((long)PatchLength * OutHeight * OutWidth, ImplicitScratchLength), WinogradConv.ScratchLength(this));

    /// <summary>The implicit GEMM's scratch (see <see cref="ScratchLength"/>); NigGen.Generator mirrors this formula.</summary>
    internal long ImplicitScratchLength =>
        (PaddingHeight == 0 && PaddingWidth == 0 ? 0 : (long)InChannels * (InHeight + 2 * PaddingHeight) * (InWidth + 2 * PaddingWidth))
        + (OutChannels % 16 == 0 ? 0 : (long)PatchLength * 32);

    /// <summary>Floats of scratch <see cref="ConvKernels.BackwardWeight"/> needs: the im2col buffer and one sample's transposed output gradient.</summary>
    public int WeightGradientScratchLength => ScratchLength + OutChannels * OutHeight * OutWidth;

    /// <summary>True when im2col would copy the input unchanged (1×1 kernel, stride 1, no padding).</summary>
    internal bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1 && PaddingHeight == 0 && PaddingWidth == 0;

    // The compiler's PrintMembers would evaluate the derived sizes, which divide by the strides: print the fields only.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(Describe());
        return true;
    }

    private string Describe() =>
        $"in {InChannels}×{InHeight}×{InWidth}, out channels {OutChannels}, kernel {KernelHeight}×{KernelWidth}, stride {StrideHeight}×{StrideWidth}, padding {PaddingHeight}×{PaddingWidth}";

    /// <summary>Throws <see cref="ArgumentException"/> unless every dimension is usable and the output is non-empty.</summary>
    internal void Validate(string name)
    {
        if (InChannels < 1 || InHeight < 1 || InWidth < 1 || OutChannels < 1 || KernelHeight < 1 || KernelWidth < 1
            || StrideHeight < 1 || StrideWidth < 1 || PaddingHeight < 0 || PaddingWidth < 0)
        {
            throw new ArgumentException($"{name} needs positive sizes and strides and non-negative padding: {Describe()}.", name);
        }

        if (InHeight + 2L * PaddingHeight < KernelHeight || InWidth + 2L * PaddingWidth < KernelWidth)
        {
            throw new ArgumentException($"{name} has a kernel larger than the padded input: {Describe()}.", name);
        }

        if ((long)InChannels * InHeight * InWidth > int.MaxValue || (long)PatchLength * OutHeight * OutWidth > int.MaxValue
            || (long)OutChannels * OutHeight * OutWidth > int.MaxValue || ImplicitScratchLength > int.MaxValue
            || WinogradConv.ScratchLength(this) > int.MaxValue)
        {
            throw new ArgumentException($"{name} describes buffers larger than a span can hold: {Describe()}.", name);
        }
    }
}
