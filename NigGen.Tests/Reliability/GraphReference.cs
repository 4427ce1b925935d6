using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NigGen.Weights;

namespace NigGen.Tests.Reliability;

/// <summary>The layer kinds a graph declaration can use.</summary>
public enum GraphKind
{
    Dense,
    Conv,
    MaxPool,
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    Flatten,
    BatchNorm,
    Dropout,
    Add,
    Concat,
}

/// <summary>
/// One layer of a graph as the declaration states it: what it reads (indices of earlier layers, −1 the network input)
/// and its arguments, with PyTorch's defaults. <see cref="Size"/> is the units, the output channels or the pooling window.
/// </summary>
public sealed record GraphLayer(string Name, GraphKind Kind, int[] Inputs)
{
    public int Size { get; init; }

    public int Kernel { get; init; }

    public int Stride { get; init; } = 1;

    public int Padding { get; init; }

    public int Dilation { get; init; } = 1;

    public int Groups { get; init; } = 1;

    public bool Bias { get; init; } = true;

    public Activation Activation { get; init; }

    public double Epsilon { get; init; } = 1e-5;

    public double Momentum { get; init; } = 0.1;

    public bool Affine { get; init; } = true;

    public double P { get; init; }

    /// <summary>The state_dict prefix when it is not the field's name.</summary>
    public string? Weights { get; init; }

    public string Prefix => Weights ?? Name;

    public bool HasParameters => Kind is GraphKind.Dense or GraphKind.Conv or GraphKind.BatchNorm;
}

/// <summary>
/// A naive double-precision evaluation of a declared layer graph, written from PyTorch's definitions of each layer (eval
/// mode) and independent of the generated code and of the runtime's kernels: the oracle the graph fuzzer compares the
/// generated Forward with. It also makes the weights: a random PyTorch-style state_dict (BatchNorm running statistics
/// with positive variance and an int64 num_batches_tracked) under each layer's prefix. A (C, L) tensor is handled as (C, 1, L).
/// </summary>
public sealed class GraphReference
{
    private readonly int[] _inputShape;
    private readonly IReadOnlyList<GraphLayer> _layers;
    private readonly int[][] _shapes;
    private readonly Dictionary<string, (float[] Data, int[] Shape)> _tensors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);

    public GraphReference(int[] inputShape, IReadOnlyList<GraphLayer> layers, int seed)
    {
        _inputShape = inputShape;
        _layers = layers;
        _shapes = new int[layers.Count][];
        var random = new Random(seed);
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var inputs = layer.Inputs.Select(ShapeOf).ToArray();
            _shapes[i] = OutputShape(layer, inputs);
            var input = inputs[0];
            switch (layer.Kind)
            {
                case GraphKind.Dense:
                    AddAffine(random, layer, [layer.Size, input[0]]);
                    break;
                case GraphKind.Conv:
                    int[] weight = input.Length == 3
                        ? [layer.Size, input[0] / layer.Groups, layer.Kernel, layer.Kernel]
                        : [layer.Size, input[0] / layer.Groups, layer.Kernel];
                    AddAffine(random, layer, weight);
                    break;
                case GraphKind.BatchNorm:
                    int channels = input[0];
                    if (layer.Affine)
                    {
                        Add(layer.Prefix + ".weight", [channels], () => 0.5 + random.NextDouble());
                        Add(layer.Prefix + ".bias", [channels], () => random.NextDouble() - 0.5);
                    }

                    Add(layer.Prefix + ".running_mean", [channels], () => random.NextDouble() - 0.5);
                    Add(layer.Prefix + ".running_var", [channels], () => 0.3 + 1.5 * random.NextDouble());
                    _counters[layer.Prefix + ".num_batches_tracked"] = random.Next(1, 1000);
                    break;
            }
        }
    }

    public int InputLength => Length(_inputShape);

    public int OutputLength => Length(_shapes[^1]);

    public int[] ShapeOf(int node) => node < 0 ? _inputShape : _shapes[node];

    /// <summary>The state_dict as a safetensors stream, to load into the generated network.</summary>
    public MemoryStream ToSafetensors()
    {
        var writer = new SafetensorsWriter();
        foreach (var (name, (data, shape)) in _tensors)
        {
            writer.Add(name, shape, data);
        }

        foreach (var (name, count) in _counters)
        {
            writer.AddInt64(name, [], [count]);
        }

        var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        return stream;
    }

    /// <summary>The index of the layer named <paramref name="name"/>.</summary>
    public int IndexOf(string name) => _layers.ToList().FindIndex(l => l.Name == name);

    /// <summary>The last layer's output for one sample.</summary>
    public double[] Forward(double[] input) => Evaluate(input, -1, false, null, -1);

    /// <summary>Layer <paramref name="node"/>'s value for one sample: its output, or its value before its activation.</summary>
    public double[] Hidden(double[] input, int node, bool preActivation) => Evaluate(input, node, preActivation, null, node);

    /// <summary>
    /// The last layer's output when layer <paramref name="node"/>'s value (its output, or its value before its
    /// activation) is replaced by <paramref name="replacement"/> and every other layer is computed from the input as
    /// usual: F as a function of that one layer, whose partial derivatives Neuron Integrated Gradients integrates.
    /// </summary>
    public double[] Forward(double[] input, int node, bool preActivation, double[] replacement) =>
        Evaluate(input, node, preActivation, replacement, -1);

    private double[] Evaluate(double[] input, int node, bool preActivation, double[]? replacement, int stopAt)
    {
        var values = new double[_layers.Count][];
        for (int i = 0; i < _layers.Count; i++)
        {
            var layer = _layers[i];
            var inputs = layer.Inputs.Select(j => j < 0 ? input : values[j]).ToArray();
            var shape = ShapeOf(layer.Inputs[0]);
            double[] linear = layer.Kind switch
            {
                GraphKind.Dense => Dense(layer, inputs[0]),
                GraphKind.Conv => Conv(layer, inputs[0], shape, _shapes[i]),
                GraphKind.MaxPool => Pool(layer, inputs[0], shape, _shapes[i], max: true),
                GraphKind.AvgPool => Pool(layer, inputs[0], shape, _shapes[i], max: false),
                GraphKind.GlobalAvgPool => Global(inputs[0], shape[0], max: false),
                GraphKind.GlobalMaxPool => Global(inputs[0], shape[0], max: true),
                GraphKind.BatchNorm => BatchNorm(layer, inputs[0], shape[0]),
                GraphKind.Add => Enumerable.Range(0, inputs[0].Length).Select(e => inputs.Sum(x => x[e])).ToArray(),
                // Channels first and contiguous: concatenating along channels appends the tensors.
                GraphKind.Concat => inputs.SelectMany(x => x).ToArray(),
                // Flatten keeps the C-major order; Dropout is the identity in eval mode.
                _ => inputs[0],
            };
            if (i == node && preActivation)
            {
                if (i == stopAt)
                {
                    return linear;
                }

                linear = replacement ?? linear;
            }

            values[i] = linear.Select(v => Activate(layer.Activation, v)).ToArray();
            if (i == node && !preActivation)
            {
                if (i == stopAt)
                {
                    return values[i];
                }

                values[i] = replacement ?? values[i];
            }
        }

        return values[^1];
    }

    /// <summary>PyTorch's output shape of a layer whose declaration is valid.</summary>
    public static int[] OutputShape(GraphLayer layer, int[][] inputs)
    {
        var input = inputs[0];
        switch (layer.Kind)
        {
            case GraphKind.Dense:
                return [layer.Size];
            case GraphKind.Flatten:
                return [Length(input)];
            case GraphKind.GlobalAvgPool or GraphKind.GlobalMaxPool:
                return [input[0]];
            case GraphKind.Concat:
                var output = (int[])input.Clone();
                output[0] = inputs.Sum(s => s[0]);
                return output;
            case GraphKind.Conv:
                int window = layer.Dilation * (layer.Kernel - 1) + 1;
                return input.Select((d, i) => i == 0 ? layer.Size : (d + 2 * layer.Padding - window) / layer.Stride + 1).ToArray();
            case GraphKind.MaxPool or GraphKind.AvgPool:
                int stride = layer.Stride == 0 ? layer.Size : layer.Stride;
                return input.Select((d, i) => i == 0 ? d : (d + 2 * layer.Padding - layer.Size) / stride + 1).ToArray();
            default:
                return input;
        }
    }

    public static int Length(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    public static double Activate(Activation activation, double x) => activation switch
    {
        Activation.None => x,
        Activation.Relu => Math.Max(0, x),
        Activation.LeakyRelu => x > 0 ? x : 0.01 * x,
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Activation.Tanh => Math.Tanh(x),
        // PyTorch's Softplus (beta 1, threshold 20): linear above 20.
        Activation.Softplus => x > 20 ? x : Math.Log(1 + Math.Exp(x)),
        Activation.Elu => x > 0 ? x : Math.Exp(x) - 1,
        Activation.Gelu => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        Activation.Silu => x / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };

    /// <summary>
    /// erf by its Maclaurin series, (2/√π)·Σ (−1)ⁿ x^(2n+1) / (n!·(2n+1)), which .NET lacks. Below |x| = 4 the alternating
    /// terms peak near 1e5, so cancellation costs at most ~1e-11; above, erf is ±1 within erfc(4) ≈ 1.5e-8.
    /// </summary>
    public static double Erf(double x)
    {
        if (Math.Abs(x) >= 4)
        {
            return Math.Sign(x);
        }

        double term = x, sum = x;
        for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
        {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }

        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    private double[] Tensor(string name) => Array.ConvertAll(_tensors[name].Data, v => (double)v);

    private double[] Dense(GraphLayer layer, double[] x)
    {
        var weight = Tensor(layer.Prefix + ".weight");
        var bias = layer.Bias ? Tensor(layer.Prefix + ".bias") : null;
        var y = new double[layer.Size];
        for (int o = 0; o < y.Length; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int i = 0; i < x.Length; i++)
            {
                sum += weight[o * x.Length + i] * x[i];
            }

            y[o] = sum;
        }

        return y;
    }

    // nn.Conv1d/Conv2d: output channel o of group g = o / (out / groups) reads input channels g·(in / groups) onwards;
    // tap (u, v) reads input position (r·stride − padding + u·dilation, c·stride − padding + v·dilation), zero outside.
    private double[] Conv(GraphLayer layer, double[] x, int[] inShape, int[] outShape)
    {
        var (channels, height, width) = Spatial(inShape);
        var (outChannels, outHeight, outWidth) = Spatial(outShape);
        bool twoD = inShape.Length == 3;
        int kh = twoD ? layer.Kernel : 1, kw = layer.Kernel;
        int ph = twoD ? layer.Padding : 0, pw = layer.Padding;
        int groupIn = channels / layer.Groups, groupOut = outChannels / layer.Groups;
        var weight = Tensor(layer.Prefix + ".weight");
        var bias = layer.Bias ? Tensor(layer.Prefix + ".bias") : null;
        var y = new double[outChannels * outHeight * outWidth];
        for (int o = 0; o < outChannels; o++)
        for (int r = 0; r < outHeight; r++)
        for (int c = 0; c < outWidth; c++)
        {
            double sum = bias?[o] ?? 0;
            int firstChannel = o / groupOut * groupIn;
            for (int k = 0; k < groupIn; k++)
            for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++)
            {
                int row = r * (twoD ? layer.Stride : 1) - ph + u * layer.Dilation;
                int column = c * layer.Stride - pw + v * layer.Dilation;
                if (row >= 0 && row < height && column >= 0 && column < width)
                {
                    sum += weight[((o * groupIn + k) * kh + u) * kw + v] * x[((firstChannel + k) * height + row) * width + column];
                }
            }

            y[(o * outHeight + r) * outWidth + c] = sum;
        }

        return y;
    }

    // MaxPool: padding is −∞ (never the maximum). AvgPool with count_include_pad=True: padding adds zeros and counts
    // in the divisor, which is the whole window (floor mode keeps every window inside the padded input).
    private static double[] Pool(GraphLayer layer, double[] x, int[] inShape, int[] outShape, bool max)
    {
        var (channels, height, width) = Spatial(inShape);
        var (_, outHeight, outWidth) = Spatial(outShape);
        bool twoD = inShape.Length == 3;
        int stride = layer.Stride == 0 ? layer.Size : layer.Stride;
        int kh = twoD ? layer.Size : 1, sh = twoD ? stride : 1, ph = twoD ? layer.Padding : 0;
        var y = new double[channels * outHeight * outWidth];
        for (int ch = 0; ch < channels; ch++)
        for (int r = 0; r < outHeight; r++)
        for (int c = 0; c < outWidth; c++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            for (int u = 0; u < kh; u++)
            for (int v = 0; v < layer.Size; v++)
            {
                int row = r * sh - ph + u, column = c * stride - layer.Padding + v;
                if (row >= 0 && row < height && column >= 0 && column < width)
                {
                    double value = x[(ch * height + row) * width + column];
                    acc = max ? Math.Max(acc, value) : acc + value;
                }
            }

            y[(ch * outHeight + r) * outWidth + c] = max ? acc : acc / (kh * layer.Size);
        }

        return y;
    }

    private static double[] Global(double[] x, int channels, bool max)
    {
        int positions = x.Length / channels;
        return Enumerable.Range(0, channels)
            .Select(ch => max ? x.Skip(ch * positions).Take(positions).Max() : x.Skip(ch * positions).Take(positions).Sum() / positions)
            .ToArray();
    }

    // Eval mode: (x − running_mean) / √(running_var + ε) · γ + β per channel; a (C) input has one feature per channel.
    private double[] BatchNorm(GraphLayer layer, double[] x, int channels)
    {
        var mean = Tensor(layer.Prefix + ".running_mean");
        var variance = Tensor(layer.Prefix + ".running_var");
        var gamma = layer.Affine ? Tensor(layer.Prefix + ".weight") : null;
        var beta = layer.Affine ? Tensor(layer.Prefix + ".bias") : null;
        int positions = x.Length / channels;
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / positions;
            double normalised = (x[i] - mean[ch]) / Math.Sqrt(variance[ch] + layer.Epsilon);
            y[i] = gamma is null ? normalised : normalised * gamma[ch] + beta![ch];
        }

        return y;
    }

    private static (int Channels, int Height, int Width) Spatial(int[] shape) =>
        shape.Length == 3 ? (shape[0], shape[1], shape[2]) : shape.Length == 2 ? (shape[0], 1, shape[1]) : (shape[0], 1, 1);

    // PyTorch's default initialisation bound, 1/√fan_in, for weight and bias alike.
    private void AddAffine(Random random, GraphLayer layer, int[] weightShape)
    {
        double bound = 1 / Math.Sqrt(Length(weightShape) / weightShape[0]);
        Add(layer.Prefix + ".weight", weightShape, () => (random.NextDouble() * 2 - 1) * bound * 1.5);
        if (layer.Bias)
        {
            Add(layer.Prefix + ".bias", [weightShape[0]], () => (random.NextDouble() * 2 - 1) * bound * 1.5);
        }
    }

    private void Add(string name, int[] shape, Func<double> next) =>
        _tensors.Add(name, (Enumerable.Range(0, Length(shape)).Select(_ => (float)next()).ToArray(), shape));
}
