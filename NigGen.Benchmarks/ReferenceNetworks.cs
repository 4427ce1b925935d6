using System;
using System.IO;
using NigGen.Benchmarks.Peers;

namespace NigGen.Benchmarks;

/// <summary>The networks benchmarked; <see cref="Mlp"/> and <see cref="Cnn"/> are the reference networks.</summary>
public enum NetworkKind
{
    /// <summary>MLP 784-256-256-10, attribute layer 256 wide.</summary>
    Mlp,
    /// <summary>The CNN (DigitNet), attribute layer 128 wide.</summary>
    Cnn,
    /// <summary>MLP 784-256-64-10, attribute layer 64 wide.</summary>
    Mlp64,
    /// <summary>MLP 784-256-1024-10, attribute layer 1024 wide.</summary>
    Mlp1024,
}

/// <summary>One benchmarked network: NigGen's instance and the safetensors bytes every other contender is built from.</summary>
public sealed class ReferenceNetwork
{
    /// <summary>Seed of the weights; every contender reads the same tensors.</summary>
    public const int WeightSeed = 20180511;

    private ReferenceNetwork(NetworkKind kind, IAttributedNetwork network, byte[] weights)
    {
        Kind = kind;
        Network = network;
        Weights = weights;
    }

    public NetworkKind Kind { get; }

    /// <summary>Loaded back from <see cref="Weights"/>, so NigGen runs exactly the tensors the peers get.</summary>
    public IAttributedNetwork Network { get; }

    /// <summary>The weights as a safetensors file (PyTorch names and layouts).</summary>
    public byte[] Weights { get; }

    public int InputLength => Network.Description.InputLength;

    public int OutputLength => Network.Description.OutputLength;

    public int ImportanceLength => Network.Description.ImportanceLength;

    public string Label => Describe(Kind);

    /// <summary>Shape of one input sample as the ONNX model takes it (without the batch dimension).</summary>
    public long[] SampleShape => Kind == NetworkKind.Cnn ? [1, 28, 28] : [InputLength];

    public static string Describe(NetworkKind kind) => kind switch
    {
        NetworkKind.Mlp => "MLP 784-256-256-10",
        NetworkKind.Cnn => "CNN (DigitNet)",
        NetworkKind.Mlp64 => "MLP 784-256-64-10",
        NetworkKind.Mlp1024 => "MLP 784-256-1024-10",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static ReferenceNetwork Create(NetworkKind kind) => kind switch
    {
        NetworkKind.Mlp => RoundTrip(kind, s => global::NigGen.Benchmarks.Mlp.CreateRandom(WeightSeed).Save(s), s => global::NigGen.Benchmarks.Mlp.Load(s)),
        NetworkKind.Cnn => RoundTrip(kind, s => global::NigGen.Benchmarks.Cnn.CreateRandom(WeightSeed).Save(s), s => global::NigGen.Benchmarks.Cnn.Load(s)),
        NetworkKind.Mlp64 => RoundTrip(kind, s => global::NigGen.Benchmarks.Mlp64.CreateRandom(WeightSeed).Save(s), s => global::NigGen.Benchmarks.Mlp64.Load(s)),
        NetworkKind.Mlp1024 => RoundTrip(kind, s => global::NigGen.Benchmarks.Mlp1024.CreateRandom(WeightSeed).Save(s), s => global::NigGen.Benchmarks.Mlp1024.Load(s)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The same network as an ONNX model (opset 13), built from <see cref="Weights"/>.</summary>
    public byte[] BuildOnnxModel() => OnnxModels.Build(Kind, Weights);

    /// <summary>Deterministic pixels in [0, 1), like a normalised image.</summary>
    public float[] Inputs(int batch, int seed)
    {
        var random = new Random(seed);
        var data = new float[batch * InputLength];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = random.NextSingle();
        }

        return data;
    }

    /// <summary>The class the network predicts for a sample: the target attribution explains.</summary>
    public int Predict(ReadOnlySpan<float> sample)
    {
        var output = new float[OutputLength];
        Network.Forward(sample, output);
        int best = 0;
        for (int i = 1; i < output.Length; i++)
        {
            if (output[i] > output[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static ReferenceNetwork RoundTrip(NetworkKind kind, Action<Stream> save, Func<Stream, IAttributedNetwork> load)
    {
        using var stream = new MemoryStream();
        save(stream);
        var weights = stream.ToArray();
        return new ReferenceNetwork(kind, load(new MemoryStream(weights, writable: false)), weights);
    }
}
