using System;
using System.Text;

namespace NigGen.Kernels;

/// <summary>
/// Geometry of one 1D or 2D pooling over one sample: no dilation, floor mode (PyTorch's defaults), optional zero-size
/// padding on each side (<see cref="PaddingHeight"/>, <see cref="PaddingWidth"/>; PyTorch's <c>padding</c>: max pooling
/// treats the padding as −∞, average pooling counts it as zeros, <c>count_include_pad=True</c>). A 1D pooling uses
/// InHeight = 1, SizeHeight = 1, StrideHeight = 1, PaddingHeight = 0. Global pooling is a window equal to the whole
/// input (stride 1, no padding).
/// </summary>
/// <param name="Channels">Channels (pooling keeps them apart).</param>
/// <param name="InHeight">Input height (1 for 1D).</param>
/// <param name="InWidth">Input width (the length for 1D).</param>
/// <param name="SizeHeight">Window height (1 for 1D).</param>
/// <param name="SizeWidth">Window width.</param>
/// <param name="StrideHeight">Vertical stride (1 for 1D).</param>
/// <param name="StrideWidth">Horizontal stride.</param>
public readonly record struct PoolGeometry(
    int Channels,
    int InHeight,
    int InWidth,
    int SizeHeight,
    int SizeWidth,
    int StrideHeight,
    int StrideWidth)
{
    /// <summary>
    /// Rows of implicit padding above and below the input (PyTorch's <c>padding[0]</c>); 0 by default, at most half the
    /// window height, as PyTorch requires, so every window holds at least one real element.
    /// </summary>
    public int PaddingHeight { get; init; }

    /// <summary>Columns of implicit padding left and right of the input; 0 by default, at most half the window width.</summary>
    public int PaddingWidth { get; init; }

    /// <summary>Whether the geometry pads the input.</summary>
    public bool IsPadded => PaddingHeight != 0 || PaddingWidth != 0;

    /// <summary>Output height: (InHeight + 2·PaddingHeight − SizeHeight) / StrideHeight + 1.</summary>
    public int OutHeight => (InHeight - (SizeHeight - 2 * PaddingHeight)) / StrideHeight + 1;

    /// <summary>Output width: (InWidth + 2·PaddingWidth − SizeWidth) / StrideWidth + 1.</summary>
    public int OutWidth => (InWidth - (SizeWidth - 2 * PaddingWidth)) / StrideWidth + 1;

    /// <summary>Input floats per sample: Channels·InHeight·InWidth.</summary>
    public int InputLength => Channels * InHeight * InWidth;

    /// <summary>Output floats per sample: Channels·OutHeight·OutWidth.</summary>
    public int OutputLength => Channels * OutHeight * OutWidth;

    // The compiler's PrintMembers would evaluate the derived sizes, which divide by the strides: print the fields only.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(Describe());
        return true;
    }

    private string Describe() =>
        $"channels {Channels}, in {InHeight}×{InWidth}, window {SizeHeight}×{SizeWidth}, stride {StrideHeight}×{StrideWidth}"
        + (IsPadded ? $", padding {PaddingHeight}×{PaddingWidth}" : "");

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless every dimension is usable, the padding is at most half the window
    /// and the window fits the padded input.
    /// </summary>
    internal void Validate(string name)
    {
        if (Channels < 1 || InHeight < 1 || InWidth < 1 || SizeHeight < 1 || SizeWidth < 1 || StrideHeight < 1 || StrideWidth < 1)
        {
            throw new ArgumentException($"{name} needs positive sizes and strides: {Describe()}.", name);
        }

        if (PaddingHeight < 0 || PaddingWidth < 0 || 2L * PaddingHeight > SizeHeight || 2L * PaddingWidth > SizeWidth)
        {
            throw new ArgumentException($"{name} needs a padding between 0 and half the window: {Describe()}.", name);
        }

        if (SizeHeight > InHeight + 2L * PaddingHeight || SizeWidth > InWidth + 2L * PaddingWidth)
        {
            throw new ArgumentException($"{name} has a window larger than the {(IsPadded ? "padded " : "")}input: {Describe()}.", name);
        }

        if ((long)Channels * InHeight * InWidth > int.MaxValue)
        {
            throw new ArgumentException($"{name} describes buffers larger than a span can hold: {Describe()}.", name);
        }
    }
}
