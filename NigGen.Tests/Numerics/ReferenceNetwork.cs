using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NigGen.Weights;

namespace NigGen.Tests.Numerics;

public abstract record RefLayer(string Name, Activation Activation = Activation.None);

public sealed record RefDense(string Name, int Units, Activation Activation = Activation.None, bool Bias = true) : RefLayer(Name, Activation);

public sealed record RefConv(string Name, int OutChannels, int Kernel, int Stride = 1, int Padding = 0, Activation Activation = Activation.None, bool Bias = true) : RefLayer(Name, Activation);

public sealed record RefMaxPool(string Name, int Size, int Stride = 0) : RefLayer(Name);

public sealed record RefAvgPool(string Name, int Size, int Stride = 0) : RefLayer(Name);

public sealed record RefFlatten(string Name) : RefLayer(Name);

/// <summary>
/// A naive double-precision re-implementation of a declared network, written from PyTorch's definitions and
/// independent of the generated code and kernels: the oracle for forward values and, by finite differences, gradients.
/// 1-D tensors (C, L) are handled as (C, 1, L).
/// </summary>
public sealed class ReferenceNetwork
{
    private readonly int[] _inputShape;
    private readonly RefLayer[] _layers;
    private readonly Dictionary<string, (float[] Data, int[] Shape)> _parameters = new();

    public ReferenceNetwork(int[] inputShape, int seed, params RefLayer[] layers)
    {
        _inputShape = inputShape;
        _layers = layers;
        var random = new Random(seed);
        var shape = inputShape;
        foreach (var layer in layers)
        {
            switch (layer)
            {
                case RefDense dense:
                    AddParameter(random, dense.Name, [dense.Units, shape[0]], dense.Bias);
                    break;
                case RefConv conv:
                    int[] weightShape = shape.Length == 3 ? [conv.OutChannels, shape[0], conv.Kernel, conv.Kernel] : [conv.OutChannels, shape[0], conv.Kernel];
                    AddParameter(random, conv.Name, weightShape, conv.Bias);
                    break;
            }

            shape = OutputShape(layer, shape);
        }

        OutputLength = shape.Aggregate(1, (a, b) => a * b);
    }

    public int InputLength => _inputShape.Aggregate(1, (a, b) => a * b);

    public int OutputLength { get; }

    public IReadOnlyList<RefLayer> Layers => _layers;

    public float[] Parameter(string name) => _parameters[name].Data;

    /// <summary>The weights as a safetensors stream, to load into the generated network.</summary>
    public MemoryStream ToSafetensors()
    {
        var writer = new SafetensorsWriter();
        foreach (var (name, (data, shape)) in _parameters)
        {
            writer.Add(name, shape, data);
        }

        var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        return stream;
    }

    public double[] Forward(ReadOnlySpan<double> input) => Run(input.ToArray(), 0, _layers.Length, scorePreActivationOf: -1);

    /// <summary>
    /// The network output with the parameters <paramref name="parameters"/> names (<c>fc1.weight</c>…) replaced by
    /// double-precision values: the oracle for finite differences with respect to the weights.
    /// </summary>
    public double[] Forward(ReadOnlySpan<double> input, IReadOnlyDictionary<string, double[]> parameters) =>
        Run(input.ToArray(), 0, _layers.Length, scorePreActivationOf: -1, parameters);

    /// <summary>Every parameter (<c>name.weight</c>, <c>name.bias</c>) as a fresh double-precision copy, PyTorch's layout.</summary>
    public Dictionary<string, double[]> ParametersInDouble() =>
        _parameters.ToDictionary(p => p.Key, p => Array.ConvertAll(p.Value.Data, v => (double)v));

    /// <summary>The value of layer <paramref name="layer"/>: its output, or its pre-activation.</summary>
    public double[] Hidden(ReadOnlySpan<double> input, int layer, bool preActivation) =>
        Run(input.ToArray(), 0, layer + 1, scorePreActivationOf: preActivation ? layer : -1);

    /// <summary>The network output computed from layer <paramref name="layer"/>'s value (its output, or its pre-activation).</summary>
    public double[] ForwardFromHidden(double[] hidden, int layer, bool preActivation)
    {
        if (preActivation)
        {
            hidden = hidden.Select(v => Activate(_layers[layer].Activation, v)).ToArray();
        }

        return Run(hidden, layer + 1, _layers.Length, scorePreActivationOf: -1);
    }

    public int IndexOf(string name) => Array.FindIndex(_layers, l => l.Name == name);

    /// <summary>
    /// The network output with values replaced on the way: after each layer's linear part and again after its
    /// activation, <paramref name="replace"/>(layer, preActivation, value) returns what the rest of the network reads.
    /// </summary>
    public double[] Forward(ReadOnlySpan<double> input, Func<int, bool, double[], double[]> replace)
    {
        var x = input.ToArray();
        for (int i = 0; i < _layers.Length; i++)
        {
            x = replace(i, true, Run(x, i, i + 1, scorePreActivationOf: i));
            x = replace(i, false, x.Select(v => Activate(_layers[i].Activation, v)).ToArray());
        }

        return x;
    }

    private double[] Run(double[] x, int from, int to, int scorePreActivationOf, IReadOnlyDictionary<string, double[]>? parameters = null)
    {
        var shape = ShapeBefore(from);
        for (int i = from; i < to; i++)
        {
            var layer = _layers[i];
            x = layer switch
            {
                RefDense dense => Dense(x, dense, parameters),
                RefConv conv => Conv(x, shape, conv, parameters),
                RefMaxPool pool => Pool(x, shape, pool.Size, pool.Stride, max: true),
                RefAvgPool pool => Pool(x, shape, pool.Size, pool.Stride, max: false),
                _ => x,
            };
            if (i != scorePreActivationOf)
            {
                x = x.Select(v => Activate(layer.Activation, v)).ToArray();
            }

            shape = OutputShape(layer, shape);
        }

        return x;
    }

    private int[] ShapeBefore(int index)
    {
        var shape = _inputShape;
        for (int i = 0; i < index; i++)
        {
            shape = OutputShape(_layers[i], shape);
        }

        return shape;
    }

    private double[] Values(string name, IReadOnlyDictionary<string, double[]>? parameters) =>
        parameters is not null && parameters.TryGetValue(name, out var values) ? values : Array.ConvertAll(_parameters[name].Data, v => (double)v);

    private double[] Dense(double[] x, RefDense layer, IReadOnlyDictionary<string, double[]>? parameters)
    {
        var weight = Values(layer.Name + ".weight", parameters);
        var bias = layer.Bias ? Values(layer.Name + ".bias", parameters) : null;
        var y = new double[layer.Units];
        for (int o = 0; o < layer.Units; o++)
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

    private double[] Conv(double[] x, int[] shape, RefConv layer, IReadOnlyDictionary<string, double[]>? parameters)
    {
        var (channels, height, width) = Spatial(shape);
        bool twoD = shape.Length == 3;
        int kh = twoD ? layer.Kernel : 1, kw = layer.Kernel;
        int ph = twoD ? layer.Padding : 0, pw = layer.Padding;
        int sh = twoD ? layer.Stride : 1, sw = layer.Stride;
        int oh = (height + 2 * ph - kh) / sh + 1, ow = (width + 2 * pw - kw) / sw + 1;
        var weight = Values(layer.Name + ".weight", parameters);
        var bias = layer.Bias ? Values(layer.Name + ".bias", parameters) : null;
        var y = new double[layer.OutChannels * oh * ow];
        for (int o = 0; o < layer.OutChannels; o++)
        for (int r = 0; r < oh; r++)
        for (int c = 0; c < ow; c++)
        {
            double sum = bias?[o] ?? 0;
            for (int ch = 0; ch < channels; ch++)
            for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++)
            {
                int row = r * sh - ph + u, column = c * sw - pw + v;
                if (row >= 0 && row < height && column >= 0 && column < width)
                {
                    sum += weight[((o * channels + ch) * kh + u) * kw + v] * x[(ch * height + row) * width + column];
                }
            }

            y[(o * oh + r) * ow + c] = sum;
        }

        return y;
    }

    private static double[] Pool(double[] x, int[] shape, int size, int stride, bool max)
    {
        var (channels, height, width) = Spatial(shape);
        bool twoD = shape.Length == 3;
        stride = stride == 0 ? size : stride;
        int kh = twoD ? size : 1, sh = twoD ? stride : 1;
        int oh = (height - kh) / sh + 1, ow = (width - size) / stride + 1;
        var y = new double[channels * oh * ow];
        for (int ch = 0; ch < channels; ch++)
        for (int r = 0; r < oh; r++)
        for (int c = 0; c < ow; c++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            for (int u = 0; u < kh; u++)
            for (int v = 0; v < size; v++)
            {
                double value = x[(ch * height + r * sh + u) * width + c * stride + v];
                acc = max ? Math.Max(acc, value) : acc + value;
            }

            y[(ch * oh + r) * ow + c] = max ? acc : acc / (kh * size);
        }

        return y;
    }

    public static double Activate(Activation activation, double x) => activation switch
    {
        Activation.Relu => Math.Max(0, x),
        Activation.LeakyRelu => x > 0 ? x : 0.01 * x,
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Activation.Tanh => Math.Tanh(x),
        Activation.Softplus => x > 20 ? x : Math.Log(1 + Math.Exp(x)),
        Activation.Elu => x > 0 ? x : Math.Exp(x) - 1,
        _ => x,
    };

    private static (int Channels, int Height, int Width) Spatial(int[] shape) =>
        shape.Length == 3 ? (shape[0], shape[1], shape[2]) : (shape[0], 1, shape[1]);

    private static int[] OutputShape(RefLayer layer, int[] shape)
    {
        switch (layer)
        {
            case RefDense dense:
                return [dense.Units];
            case RefFlatten:
                return [shape.Aggregate(1, (a, b) => a * b)];
            case RefConv conv:
                return shape.Select((d, i) => i == 0 ? conv.OutChannels : (d + 2 * conv.Padding - conv.Kernel) / conv.Stride + 1).ToArray();
            case RefMaxPool or RefAvgPool:
                int size = layer is RefMaxPool m ? m.Size : ((RefAvgPool)layer).Size;
                int stride = layer is RefMaxPool m2 ? m2.Stride : ((RefAvgPool)layer).Stride;
                stride = stride == 0 ? size : stride;
                return shape.Select((d, i) => i == 0 ? d : (d - size) / stride + 1).ToArray();
            default:
                throw new ArgumentException(layer.ToString());
        }
    }

    private void AddParameter(Random random, string name, int[] weightShape, bool bias)
    {
        int fanIn = weightShape.Skip(1).Aggregate(1, (a, b) => a * b);
        double bound = 1 / Math.Sqrt(fanIn);
        float Next() => (float)((random.NextDouble() * 2 - 1) * bound * 1.5);
        _parameters[name + ".weight"] = (Enumerable.Range(0, weightShape.Aggregate(1, (a, b) => a * b)).Select(_ => Next()).ToArray(), weightShape);
        if (bias)
        {
            _parameters[name + ".bias"] = (Enumerable.Range(0, weightShape[0]).Select(_ => Next()).ToArray(), [weightShape[0]]);
        }
    }
}
