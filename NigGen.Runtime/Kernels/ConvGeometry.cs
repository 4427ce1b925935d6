using System;
using System.Text;

namespace NigGen.Kernels;

/// <summary>
/// Geometry of one 1D or 2D convolution over one sample (PyTorch semantics, zero padding), with PyTorch's
/// <c>dilation</c> (<see cref="DilationHeight"/>, <see cref="DilationWidth"/>) and <c>groups</c> (<see cref="Groups"/>),
/// both 1 by default. A 1D convolution uses InHeight = 1, KernelHeight = 1, PaddingHeight = 0, StrideHeight = 1,
/// DilationHeight = 1. The weight is PyTorch's [OutChannels, InChannels / Groups, KernelHeight, KernelWidth]: output
/// channel o reads input channels g·InChannels/Groups … (g + 1)·InChannels/Groups − 1 of its group g = o / (OutChannels / Groups).
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
    /// <summary>Vertical spacing of the kernel's taps (PyTorch's <c>dilation[0]</c>); 1 by default.</summary>
    public int DilationHeight { get; init; } = 1;

    /// <summary>Horizontal spacing of the kernel's taps (PyTorch's <c>dilation[-1]</c>); 1 by default.</summary>
    public int DilationWidth { get; init; } = 1;

    /// <summary>
    /// Channel groups (PyTorch's <c>groups</c>); 1 by default. Must divide both channel counts; Groups = InChannels is a
    /// depthwise convolution.
    /// </summary>
    public int Groups { get; init; } = 1;

    /// <summary>Input channels each output channel reads: InChannels / Groups.</summary>
    public int InChannelsPerGroup => InChannels / Groups;

    /// <summary>Output channels of each group: OutChannels / Groups.</summary>
    public int OutChannelsPerGroup => OutChannels / Groups;

    /// <summary>
    /// Whether the convolution is dilated or grouped; such geometries take the grouped im2col + GEMM path (or the
    /// depthwise kernel), never the implicit GEMM, direct or Winograd kernels.
    /// </summary>
    public bool IsDilatedOrGrouped => DilationHeight != 1 || DilationWidth != 1 || Groups != 1;

    /// <summary>Output height: (InHeight + 2·PaddingHeight − DilationHeight·(KernelHeight − 1) − 1) / StrideHeight + 1.</summary>
    public int OutHeight => (int)OutExtent(InHeight, PaddingHeight, DilationHeight, KernelHeight, StrideHeight);

    /// <summary>Output width: (InWidth + 2·PaddingWidth − DilationWidth·(KernelWidth − 1) − 1) / StrideWidth + 1.</summary>
    public int OutWidth => (int)OutExtent(InWidth, PaddingWidth, DilationWidth, KernelWidth, StrideWidth);

    // In long, so that no padding or dilation a caller can pass overflows before Validate sees the size.
    private static long OutExtent(int input, int padding, int dilation, int kernel, int stride) =>
        (input + 2L * padding - (long)dilation * (kernel - 1) - 1) / stride + 1;

    /// <summary>Input floats per sample: InChannels·InHeight·InWidth.</summary>
    public int InputLength => InChannels * InHeight * InWidth;

    /// <summary>Output floats per sample: OutChannels·OutHeight·OutWidth.</summary>
    public int OutputLength => OutChannels * OutHeight * OutWidth;

    /// <summary>
    /// Length of one im2col patch, the K of the GEMM, and the weight's floats per output channel:
    /// (InChannels / Groups)·KernelHeight·KernelWidth.
    /// </summary>
    public int PatchLength => InChannelsPerGroup * KernelHeight * KernelWidth;

    /// <summary>
    /// Floats of scratch the kernels need: the largest of the im2col buffer (PatchLength·OutHeight·OutWidth), what the
    /// implicit GEMM needs (a zero-padded copy of one sample when the layer pads, and a zero-padded panel of 32 output
    /// channels of the transposed weight when the channels do not fill whole 16-float vectors) and, where Winograd's
    /// algorithm applies, its channels-last copy of a sample and transformed blocks of tiles. A dilated or grouped
    /// geometry (<see cref="IsDilatedOrGrouped"/>) needs one group's im2col buffer, plus, with more than one group, one
    /// group's block of the transposed weight (PatchLength·OutChannelsPerGroup): PatchLength·OutHeight·OutWidth
    /// + (Groups &gt; 1 ? PatchLength·OutChannelsPerGroup : 0); a dilated one with one group also what the implicit
    /// GEMM needs, which takes dilation. At stride 1 with one group, also what the implicit GEMM needs for the input
    /// gradient as a forward convolution (<see cref="BackwardInputIsImplicit"/>). The generated code asks the geometry for it.
    /// </summary>
    public int ScratchLength => checked((int)Math.Max(Groups != 1 ? GroupedScratchLength
        : IsDilatedOrGrouped ? Math.Max(GroupedScratchLength, ImplicitScratchLength)
        : Math.Max(Math.Max((long)PatchLength * OutHeight * OutWidth, ImplicitScratchLength), WinogradScratchLength),
        BackwardImplicitScratchLength));

    // The implicit GEMM's scratch for the input gradient, where it may run it (whatever the machine: the scratch size
    // depends on the geometry only).
    private long BackwardImplicitScratchLength =>
        BackwardInputIsForward && !WinogradConv.Applies(BackwardInputAsForward) && ImplicitConv.Applies(BackwardInputAsForward)
            ? BackwardInputAsForward.ImplicitScratchLength : 0;

    // Winograd's scratch for the forward pass and, where the input gradient runs as a forward convolution, for that.
    private long WinogradScratchLength => Math.Max(WinogradConv.ScratchLength(this), BackwardInputIsForward ? WinogradConv.ScratchLength(BackwardInputAsForward) : 0);

    /// <summary>
    /// Whether the input gradient is a forward convolution of the output gradient (<see cref="BackwardInputAsForward"/>):
    /// stride 1, one group, padding no wider than the dilated kernel less one.
    /// </summary>
    internal bool BackwardInputIsForward =>
        Groups == 1 && StrideHeight == 1 && StrideWidth == 1
        && PaddingHeight <= (long)DilationHeight * (KernelHeight - 1) && PaddingWidth <= (long)DilationWidth * (KernelWidth - 1);

    /// <summary>
    /// At stride 1 the input gradient is the output gradient correlated with the weight flipped in space and with its
    /// two channel axes swapped, at the same dilation, over the output gradient padded by d·(k − 1) − p: the forward
    /// convolution (OutChannels, OutHeight, OutWidth) → (InChannels, InHeight, InWidth) of this geometry.
    /// </summary>
    internal ConvGeometry BackwardInputAsForward =>
        new(OutChannels, OutHeight, OutWidth, InChannels, KernelHeight, KernelWidth, 1, 1,
            DilationHeight * (KernelHeight - 1) - PaddingHeight, DilationWidth * (KernelWidth - 1) - PaddingWidth)
        {
            DilationHeight = DilationHeight,
            DilationWidth = DilationWidth,
        };

    /// <summary>
    /// Whether the input gradient runs on the implicit GEMM as a forward convolution with the flipped weight
    /// (<see cref="Layer"/> keeps it): where Winograd's algorithm does not take it, and the patch suits the implicit GEMM.
    /// </summary>
    internal bool BackwardInputIsImplicit =>
        BackwardInputIsForward && !WinogradConv.Supports(BackwardInputAsForward) && ImplicitConv.Supports(BackwardInputAsForward);

    /// <summary>The dilated or grouped path's scratch (see <see cref="ScratchLength"/>).</summary>
    internal long GroupedScratchLength =>
        (long)PatchLength * OutHeight * OutWidth + (Groups > 1 ? (long)PatchLength * OutChannelsPerGroup : 0);

    /// <summary>The implicit GEMM's scratch (see <see cref="ScratchLength"/>).</summary>
    internal long ImplicitScratchLength =>
        (PaddingHeight == 0 && PaddingWidth == 0 ? 0 : (long)InChannels * (InHeight + 2 * PaddingHeight) * (InWidth + 2 * PaddingWidth))
        + (OutChannels % 16 == 0 ? 0 : (long)PatchLength * 32);

    /// <summary>Floats of scratch <see cref="ConvKernels.BackwardWeight"/> needs: the im2col buffer and one sample's transposed output gradient.</summary>
    public int WeightGradientScratchLength => ScratchLength + OutChannels * OutHeight * OutWidth;

    /// <summary>True when im2col would copy the input unchanged (1×1 kernel, stride 1, no padding, one group).</summary>
    internal bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1 && PaddingHeight == 0 && PaddingWidth == 0 && Groups == 1;

    // The compiler's PrintMembers would evaluate the derived sizes, which divide by the strides: print the fields only.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(Describe());
        return true;
    }

    private string Describe() =>
        $"in {InChannels}×{InHeight}×{InWidth}, out channels {OutChannels}, kernel {KernelHeight}×{KernelWidth}, stride {StrideHeight}×{StrideWidth}, padding {PaddingHeight}×{PaddingWidth}"
        + (DilationHeight != 1 || DilationWidth != 1 ? $", dilation {DilationHeight}×{DilationWidth}" : "")
        + (Groups != 1 ? $", groups {Groups}" : "");

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless every dimension is usable, the groups divide both channel counts
    /// and the output is non-empty.
    /// </summary>
    internal void Validate(string name)
    {
        if (InChannels < 1 || InHeight < 1 || InWidth < 1 || OutChannels < 1 || KernelHeight < 1 || KernelWidth < 1
            || StrideHeight < 1 || StrideWidth < 1 || PaddingHeight < 0 || PaddingWidth < 0
            || DilationHeight < 1 || DilationWidth < 1 || Groups < 1)
        {
            throw new ArgumentException($"{name} needs positive sizes, strides, dilations and groups and non-negative padding: {Describe()}.", name);
        }

        if (InChannels % Groups != 0 || OutChannels % Groups != 0)
        {
            throw new ArgumentException($"{name} needs groups that divide both the input and the output channels: {Describe()}.", name);
        }

        if (InHeight + 2L * PaddingHeight < DilationHeight * (KernelHeight - 1L) + 1 || InWidth + 2L * PaddingWidth < DilationWidth * (KernelWidth - 1L) + 1)
        {
            throw new ArgumentException($"{name} has a kernel larger than the padded input: {Describe()}.", name);
        }

        // The padded extents bound every tap offset (kernel·dilation) and output position times stride the kernels compute in int.
        if (InHeight + 2L * PaddingHeight > int.MaxValue || InWidth + 2L * PaddingWidth > int.MaxValue
            || OutExtent(InHeight, PaddingHeight, DilationHeight, KernelHeight, StrideHeight) > int.MaxValue
            || OutExtent(InWidth, PaddingWidth, DilationWidth, KernelWidth, StrideWidth) > int.MaxValue
            || (long)InChannels * InHeight * InWidth > int.MaxValue || (long)PatchLength * OutHeight * OutWidth > int.MaxValue
            || (long)OutChannels * OutHeight * OutWidth > int.MaxValue || ImplicitScratchLength > int.MaxValue || GroupedScratchLength > int.MaxValue
            || WinogradScratchLength > int.MaxValue || BackwardImplicitScratchLength > int.MaxValue)
        {
            throw new ArgumentException($"{name} describes buffers larger than a span can hold: {Describe()}.", name);
        }
    }
}
