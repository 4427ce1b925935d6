using System;
using System.IO;
using NigGen.Sample.Genomics;
using NigGen.Weights;

namespace NigGen.Sample.Tests;

/// <summary>Networks with known weights for the sample's tests.</summary>
internal static class TestNetworks
{
    /// <summary>
    /// A RegulatoryNet whose filter 0 holds the GATA motif's log-odds against the background in offsets 0…7 (offsets
    /// 8…10 zero) with bias −<paramref name="threshold"/>; every other filter is zero with bias −1 (never active), and
    /// the dense layers are PyTorch-initialised from <paramref name="seed"/>.
    /// </summary>
    public static RegulatoryNet GataDetector(float threshold, int seed = 1)
    {
        var random = RegulatoryNet.CreateRandom(seed);
        using var saved = new MemoryStream();
        random.Save(saved);
        saved.Position = 0;

        var weights = new float[RegulatoryNet.FilterCount * Dna.Channels * RegulatoryNet.FilterWidth];
        var biases = new float[RegulatoryNet.FilterCount];
        biases.AsSpan().Fill(-1f);
        biases[0] = -threshold;
        for (int k = 0; k < Motif.Gata.Length; k++)
        {
            for (int c = 0; c < Dna.Channels; c++)
            {
                weights[(0 * Dna.Channels + c) * RegulatoryNet.FilterWidth + k] = LogOdds(Motif.Gata, k, c);
            }
        }

        // Rewrite conv1 and keep the dense layers of the random network.
        var file = SafetensorsFile.Read(saved, "random");
        var writer = new SafetensorsWriter();
        writer.Add("conv1.weight", [RegulatoryNet.FilterCount, Dna.Channels, RegulatoryNet.FilterWidth], weights);
        writer.Add("conv1.bias", [RegulatoryNet.FilterCount], biases);
        foreach (var (name, shape) in new (string, int[])[] { ("fc1.weight", [32, 320]), ("fc1.bias", [32]), ("head.weight", [3, 32]), ("head.bias", [3]) })
        {
            writer.Add(name, shape, file.GetTensor(name, shape, fanIn: shape.Length == 2 ? shape[1] : 1));
        }

        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        return RegulatoryNet.Load(stream);
    }

    /// <summary>log2 of the motif's probability over the background's, for one position and base.</summary>
    public static float LogOdds(Motif motif, int position, int channel) => MathF.Log2(motif.Probability(position, channel) / Dna.Background[channel]);

    /// <summary>A temporary folder, deleted on dispose.</summary>
    public sealed class TemporaryFolder : IDisposable
    {
        public TemporaryFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "niggen-sample-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
