using System;
using System.Text;

namespace NigGen.Kernels;

/// <summary>
/// Geometry of one 1D or 2D pooling over one sample: no padding, no dilation, floor mode (PyTorch's defaults).
/// A 1D pooling uses InHeight = 1, SizeHeight = 1, StrideHeight = 1.
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
    /// <summary>Output height: (InHeight − SizeHeight) / StrideHeight + 1.</summary>
    public int OutHeight => (InHeight - SizeHeight) / StrideHeight + 1;

    /// <summary>Output width: (InWidth − SizeWidth) / StrideWidth + 1.</summary>
    public int OutWidth => (InWidth - SizeWidth) / StrideWidth + 1;

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
        $"channels {Channels}, in {InHeight}×{InWidth}, window {SizeHeight}×{SizeWidth}, stride {StrideHeight}×{StrideWidth}";

    /// <summary>Throws <see cref="ArgumentException"/> unless every dimension is usable and the window fits the input.</summary>
    internal void Validate(string name)
    {
        if (Channels < 1 || InHeight < 1 || InWidth < 1 || SizeHeight < 1 || SizeWidth < 1 || StrideHeight < 1 || StrideWidth < 1)
        {
            throw new ArgumentException($"{name} needs positive sizes and strides: {Describe()}.", name);
        }

        if (SizeHeight > InHeight || SizeWidth > InWidth)
        {
            throw new ArgumentException($"{name} has a window larger than the input: {Describe()}.", name);
        }

        if ((long)Channels * InHeight * InWidth > int.MaxValue)
        {
            throw new ArgumentException($"{name} describes buffers larger than a span can hold: {Describe()}.", name);
        }
    }
}
