using System;
using System.Collections.Generic;
using NigGen.Weights;

namespace NigGen;

/// <summary>
/// One layer of a generated network and its parameters. The fields a user declares with a layer attribute hold these;
/// the generated code creates them when the network is loaded. Only training changes them afterwards: each
/// <see cref="Training.Trainer.Step"/> updates the parameters of the trainer's network in place. A network nobody
/// trains never changes, which is what makes it safe to share between threads; while a trainer steps a network, no
/// other thread may use that network (its calls could read half-updated weights).
/// </summary>
public sealed class Layer
{
    private readonly float[] _weight;
    private readonly float[] _weightTransposed;
    private readonly float[] _winogradWeight;
    private readonly float[] _bias;
    private readonly int[] _weightShape;

    private Layer(string name, float[] weight, float[] weightTransposed, float[] bias, int[] weightShape)
    {
        Name = name;
        _weight = weight;
        _weightTransposed = weightTransposed;
        _bias = bias;
        _weightShape = weightShape;
        _winogradWeight = new float[WinogradWeightLength(weightShape)];
        TransformWinogradWeight();
    }

    /// <summary>The layer's name: the field's name, and the prefix of its tensors (<c>name.weight</c>, <c>name.bias</c>).</summary>
    public string Name { get; }

    /// <summary>The weight in PyTorch's layout (Linear [out, in], Conv1d [out, in, k], Conv2d [out, in, kh, kw]); empty for layers without parameters.</summary>
    public ReadOnlySpan<float> Weight => _weight;

    /// <summary>The weight viewed as a matrix [out, in·k…] and transposed to [in·k…, out]: the layout the kernels broadcast from.</summary>
    public ReadOnlySpan<float> WeightTransposed => _weightTransposed;

    /// <summary>The bias [out]; empty when the layer has none.</summary>
    public ReadOnlySpan<float> Bias => _bias;

    /// <summary>The weight's shape in PyTorch's layout; empty for layers without parameters.</summary>
    public IReadOnlyList<int> WeightShape => _weightShape;

    /// <summary>Number of trainable parameters (weight and bias).</summary>
    public int ParameterCount => _weight.Length + _bias.Length;

    /// <summary>Creates a layer without parameters (pooling, flatten).</summary>
    public static Layer WithoutParameters(string name) => new(name, [], [], [], []);

    /// <summary>
    /// Creates a layer with a weight of <paramref name="weightShape"/> (PyTorch layout, output dimension first) and,
    /// when <paramref name="hasBias"/>, a bias of length <c>weightShape[0]</c>, both read from <paramref name="source"/>.
    /// </summary>
    public static Layer Create(string name, int[] weightShape, bool hasBias, IWeightSource source)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(weightShape);
        ArgumentNullException.ThrowIfNull(source);
        int outputs = weightShape[0];
        int fanIn = 1;
        for (int i = 1; i < weightShape.Length; i++)
        {
            fanIn *= weightShape[i];
        }

        float[] weight = source.GetTensor(name + ".weight", weightShape, fanIn);
        float[] bias = hasBias ? source.GetTensor(name + ".bias", [outputs], fanIn) : [];
        return new Layer(name, weight, Transpose(weight, outputs, fanIn), bias, (int[])weightShape.Clone());
    }

    /// <summary>
    /// For a 2-D convolution with a 3×3 or 5×5 kernel and enough channels, the weight in the Winograd domain
    /// (<see cref="Kernels.WinogradTransform.TransformWeight"/>), prepared once here so that calls only transform their
    /// inputs and outputs; empty for every other layer. It costs 64/25 (5×5) or 4 (3×3) times the weight's memory
    /// (more where the output channels are padded to a multiple of 32).
    /// </summary>
    internal ReadOnlySpan<float> WinogradWeight => _winogradWeight;

    // Training (NigGen.Training.Trainer, in this assembly) updates the parameters in place through these; nothing
    // outside the runtime can change a layer.
    internal Span<float> MutableWeight => _weight;

    internal Span<float> MutableWeightTransposed => _weightTransposed;

    internal Span<float> MutableBias => _bias;

    /// <summary>Rows of the weight viewed as a matrix: the output features or channels.</summary>
    internal int Outputs => _weightShape.Length == 0 ? 0 : _weightShape[0];

    /// <summary>Columns of the weight viewed as a matrix: inputs per output (in·k…).</summary>
    internal int FanIn => Outputs == 0 ? 0 : _weight.Length / Outputs;

    /// <summary>After an update of one layout of the weight, rewrites the other, so that every kernel reads the same parameters.</summary>
    internal void SynchroniseWeight(bool fromTransposed)
    {
        if (fromTransposed)
        {
            Kernels.Transposition.Transpose(_weightTransposed, _weight, FanIn, Outputs);
        }
        else
        {
            Kernels.Transposition.Transpose(_weight, _weightTransposed, Outputs, FanIn);
        }

        TransformWinogradWeight();
    }

    // Square 2-D kernels of a size the Winograd kernel handles, with enough channels for it to pay (whether a layer's
    // stride lets it run is the kernel's decision at call time).
    private static long WinogradWeightLength(int[] shape)
    {
        return shape.Length == 4 && Kernels.WinogradConv.AppliesToWeight(shape[0], shape[1], shape[2], shape[3])
            ? Kernels.WinogradConv.WeightLength(shape[0], shape[1], shape[2])
            : 0;
    }

    private void TransformWinogradWeight()
    {
        if (_winogradWeight.Length != 0)
        {
            int taps = _weightShape[2];
            int outputs = _weightShape[0];
            Kernels.WinogradTransform.ForKernel(taps)!.TransformWeight(_weight, outputs, _weightShape[1], Kernels.WinogradConv.PaddedOutChannels(outputs), _winogradWeight);
        }
    }

    private static float[] Transpose(float[] matrix, int rows, int columns)
    {
        var transposed = new float[matrix.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                transposed[c * rows + r] = matrix[r * columns + c];
            }
        }

        return transposed;
    }
}
