using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using NigGen.Weights;

namespace NigGen.Benchmarks.Comparison;

/// <summary>Scores every attribute-layer neuron of one sample; returns the summation delta, or NaN for a method without one.</summary>
public delegate float Scorer(IAttributedNetwork network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance);

/// <summary>One way of scoring the attribute-layer neurons of one sample.</summary>
public sealed record RankingMethod(string Name, string Column, string Short, Scorer Score, bool HasDelta);

/// <summary>What one method gave on one attribute layer.</summary>
public sealed record LayerResult(double[] MeanDrop, double SpearmanWithNig, double TopOverlapWithNig);

/// <summary>What one method gave over all samples of one model.</summary>
public sealed record MethodResult(RankingMethod Method, double SecondsPerSample, double MeanAbsoluteDelta, IReadOnlyList<LayerResult> Layers);

/// <summary>A trained model of the comparison.</summary>
public sealed record Model(string Name, string Training, IAttributedNetwork Network, double TrainAccuracy);

/// <summary>One model's outcome.</summary>
public sealed record ModelResult(
    Model Model, double TestAccuracy, double MeanOutputDifference,
    IReadOnlyList<(string Name, int Length, int[] Ks)> Layers, IReadOnlyList<MethodResult> Methods);

/// <summary>The whole experiment's outcome.</summary>
public sealed record ComparisonResult(int Samples, IReadOnlyList<ModelResult> Models, TimeSpan Elapsed);

/// <summary>
/// The paper's comparison: rank an attribute layer's neurons by each method, fix the top k to their baseline values
/// (<see cref="IAttributedNetwork.Ablate"/>) and measure how much the target output drops. A ranking that finds the
/// neurons the prediction rests on makes it drop fastest.
/// </summary>
public static class NeuronRankingComparison
{
    public const int WeightSeed = 1807;
    public const int TopOverlapK = 16;
    public const int TrainSamples = 4000;
    public const int Epochs = 12;

    public static readonly RankingMethod[] Methods =
    [
        new("Neuron Integrated Gradients (50 steps)", "NIG", "N", (n, x, b, t, i) => n.NeuronIntegratedGradients(x, b, t, i, new AttributionOptions { Steps = 50 }), true),
        new("DeepLIFT Rescale", "Rescale", "R", (n, x, b, t, i) => n.DeepLift(x, b, t, i, DeepLiftRule.Rescale), true),
        new("DeepLIFT RevealCancel", "RevealCancel", "C", (n, x, b, t, i) => n.DeepLift(x, b, t, i, DeepLiftRule.RevealCancel), true),
        new("Gradient × activation", "grad × act", "G", (n, x, _, t, i) => { n.GradientTimesActivation(x, t, i); return float.NaN; }, false),
        new("Random", "random", "x", (_, _, _, _, i) => { RandomScores(i); return float.NaN; }, false),
    ];

    [ThreadStatic]
    private static Random? t_random;

    /// <summary>Trains both models, scores <paramref name="samples"/> test images with every method and ablates their top neurons.</summary>
    public static ComparisonResult Run(int samples, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        var train = new float[TrainSamples * SyntheticDigits.Length];
        var trainLabels = new int[TrainSamples];
        SyntheticDigits.Generate(seed: 1, TrainSamples, train, trainLabels);
        var test = new float[samples * SyntheticDigits.Length];
        var testLabels = new int[samples];
        SyntheticDigits.Generate(seed: 2, samples, test, testLabels);

        var models = new[] { TrainCnn(train, trainLabels, maxPool: true, log), TrainCnn(train, trainLabels, maxPool: false, log), TrainMlp(train, trainLabels, log) };
        var results = models.Select(model => Compare(model, test, testLabels, log)).ToList();
        return new ComparisonResult(samples, results, clock.Elapsed);
    }

    private static ModelResult Compare(Model model, float[] images, int[] labels, Action<string> log)
    {
        var network = model.Network;
        var description = network.Description;
        int samples = labels.Length, classes = description.OutputLength;
        var outputs = new float[samples * classes];
        network.Forward(images, outputs);
        var targets = Enumerable.Range(0, samples).Select(s => ArgMax(outputs.AsSpan(s * classes, classes))).ToArray();
        double testAccuracy = targets.Where((t, s) => t == labels[s]).Count() / (double)samples;
        log($"{model.Name}: test accuracy {testAccuracy:P1} on {samples} images; scoring and ablating");

        var baseline = new float[description.InputLength];
        var atBaseline = new float[classes];
        network.Forward(baseline, atBaseline);
        double meanDifference = Enumerable.Range(0, samples).Average(s => Math.Abs(outputs[s * classes + targets[s]] - atBaseline[targets[s]]));
        var layers = description.AttributeLayers
            .Select(l => (l.Name, l.Length, Ks: Enumerable.Range(0, 31).Select(p => 1 << p).TakeWhile(k => k <= l.Length / 4).ToArray()))
            .ToList();

        var scores = new Dictionary<RankingMethod, float[]>();
        var timings = new List<(RankingMethod Method, double Seconds, double Delta)>();
        int length = description.ImportanceLength;
        foreach (var method in Methods)
        {
            var importance = new float[samples * length];

            // Warm-up for at least 100 calls and half a second, so that tiered compilation has promoted the hot code
            // before anything is timed; then the whole set, on one thread.
            var warmUp = Stopwatch.StartNew();
            for (int call = 0; call < 100 || warmUp.ElapsedMilliseconds < 500; call++)
            {
                int s = call % samples;
                method.Score(network, Image(images, s), baseline, targets[s], importance.AsSpan(s * length, length));
            }

            // The fastest of five passes: the machine is shared, and a slower pass measures the neighbours too.
            double seconds = double.MaxValue, deltas = 0;
            for (int pass = 0; pass < 5; pass++)
            {
                t_random = new Random(3);
                deltas = 0;
                var timer = Stopwatch.StartNew();
                for (int s = 0; s < samples; s++)
                {
                    deltas += Math.Abs(method.Score(network, Image(images, s), baseline, targets[s], importance.AsSpan(s * length, length)));
                }

                seconds = Math.Min(seconds, timer.Elapsed.TotalSeconds / samples);
            }

            scores[method] = importance;
            timings.Add((method, seconds, deltas / samples));
            log($"{model.Name}: {method.Name}: {seconds * 1e3:F3} ms per sample");
        }

        var results = new List<MethodResult>();
        foreach (var (method, seconds, delta) in timings)
        {
            var perLayer = new List<LayerResult>();
            foreach (var layer in description.AttributeLayers)
            {
                var ks = layers.First(l => l.Name == layer.Name).Ks;
                var drops = Ablation(network, images, baseline, targets, outputs, scores[method], layer.Offset, layer.Length, ks);
                var (spearman, overlap) = Agreement(scores[Methods[0]], scores[method], layer.Offset, layer.Length, length, samples);
                perLayer.Add(new LayerResult(drops, spearman, overlap));
            }

            results.Add(new MethodResult(method, seconds, method.HasDelta ? delta : double.NaN, perLayer));
        }

        log($"{model.Name}: ablations done");
        return new ModelResult(model, testAccuracy, meanDifference, layers, results);
    }

    private static ReadOnlySpan<float> Image(float[] images, int s) => images.AsSpan(s * SyntheticDigits.Length, SyntheticDigits.Length);

    private static void RandomScores(Span<float> importance)
    {
        var random = t_random ??= new Random(3);
        for (int i = 0; i < importance.Length; i++)
        {
            importance[i] = (float)random.NextDouble();
        }
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Mean over samples of F(x) − F(x with the top k neurons at their baseline values), for each k.</summary>
    private static double[] Ablation(IAttributedNetwork network, float[] images, float[] baseline, int[] targets, float[] outputs, float[] scores, int offset, int length, int[] ks)
    {
        int classes = network.Description.OutputLength, importanceLength = network.Description.ImportanceLength;
        var drops = new double[ks.Length];
        var order = new int[length];
        var keys = new float[length];
        var output = new float[classes];
        for (int s = 0; s < targets.Length; s++)
        {
            for (int j = 0; j < length; j++)
            {
                order[j] = offset + j;
                keys[j] = -scores[s * importanceLength + offset + j];
            }

            // Highest score first.
            Array.Sort(keys, order);
            float original = outputs[s * classes + targets[s]];
            for (int i = 0; i < ks.Length; i++)
            {
                network.Ablate(Image(images, s), baseline, order.AsSpan(0, ks[i]), output);
                drops[i] += original - output[targets[s]];
            }
        }

        for (int i = 0; i < ks.Length; i++)
        {
            drops[i] /= targets.Length;
        }

        return drops;
    }

    /// <summary>Mean Spearman rank correlation with NIG's scores, and the mean share of NIG's top <see cref="TopOverlapK"/> neurons found in the method's.</summary>
    private static (double Spearman, double Overlap) Agreement(float[] nig, float[] other, int offset, int length, int importanceLength, int samples)
    {
        double spearman = 0, overlap = 0;
        for (int s = 0; s < samples; s++)
        {
            var a = Ranks(nig.AsSpan(s * importanceLength + offset, length));
            var b = Ranks(other.AsSpan(s * importanceLength + offset, length));
            spearman += Pearson(a, b);
            var topA = Enumerable.Range(0, length).Where(j => a[j] >= length - TopOverlapK).ToHashSet();
            overlap += Enumerable.Range(0, length).Count(j => b[j] >= length - TopOverlapK && topA.Contains(j)) / (double)TopOverlapK;
        }

        return (spearman / samples, overlap / samples);
    }

    // Ranks 0 … n − 1 in ascending order of value (ties broken by index, enough for a summary statistic).
    private static double[] Ranks(ReadOnlySpan<float> values)
    {
        var keys = values.ToArray();
        var index = Enumerable.Range(0, keys.Length).ToArray();
        Array.Sort(keys, index);
        var ranks = new double[keys.Length];
        for (int r = 0; r < index.Length; r++)
        {
            ranks[index[r]] = r;
        }

        return ranks;
    }

    private static double Pearson(double[] a, double[] b)
    {
        double meanA = a.Average(), meanB = b.Average(), ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            ab += (a[i] - meanA) * (b[i] - meanB);
            aa += (a[i] - meanA) * (a[i] - meanA);
            bb += (b[i] - meanB) * (b[i] - meanB);
        }

        return aa == 0 || bb == 0 ? 0 : ab / Math.Sqrt(aa * bb);
    }

    /// <summary>Random convolutions (PyTorch's initialisation), then the dense head trained on their features.</summary>
    private static Model TrainCnn(float[] images, int[] labels, bool maxPool, Action<string> log)
    {
        var source = new RandomWeightSource(WeightSeed);
        var writer = new SafetensorsWriter();
        Add(writer, source, "conv1.weight", [16, 1, 5, 5], 25);
        Add(writer, source, "conv1.bias", [16], 25);
        Add(writer, source, "conv2.weight", [32, 16, 5, 5], 400);
        Add(writer, source, "conv2.bias", [32], 400);
        INetwork features = maxPool ? ComparisonCnnFeatures.Load(ToStream(writer)) : ComparisonCnnAvgFeatures.Load(ToStream(writer));
        var extracted = new float[labels.Length * 512];
        features.Forward(images, extracted);
        double loss = TrainHead(writer, source, extracted, labels, 512, 128, "fc1", "fc2");
        IAttributedNetwork network = maxPool ? ComparisonCnn.Load(ToStream(writer)) : ComparisonCnnAvg.Load(ToStream(writer));
        string name = maxPool ? "CNN (DigitNet's layout)" : "CNN with average pooling";
        return Finish(name, "conv1 and conv2 random (PyTorch's initialisation) and frozen; fc1 and fc2 trained", network, images, labels, loss, log);
    }

    /// <summary>A random first layer, then the two layers above trained on its outputs.</summary>
    private static Model TrainMlp(float[] images, int[] labels, Action<string> log)
    {
        var source = new RandomWeightSource(WeightSeed + 1);
        var writer = new SafetensorsWriter();
        Add(writer, source, "fc1.weight", [256, 784], 784);
        Add(writer, source, "fc1.bias", [256], 784);
        var features = ComparisonMlpFeatures.Load(ToStream(writer));
        var extracted = new float[labels.Length * 256];
        features.Forward(images, extracted);
        double loss = TrainHead(writer, source, extracted, labels, 256, 128, "fc2", "fc3");
        var network = ComparisonMlp.Load(ToStream(writer));
        return Finish("MLP 784-256-128-10", "fc1 random (PyTorch's initialisation) and frozen; fc2 and fc3 trained", network, images, labels, loss, log);
    }

    private static double TrainHead(SafetensorsWriter writer, IWeightSource source, float[] features, int[] labels, int inputs, int hidden, string first, string second)
    {
        var head = new HeadTrainer(
            inputs, hidden,
            source.GetTensor(first + ".weight", [hidden, inputs], inputs), source.GetTensor(first + ".bias", [hidden], inputs),
            source.GetTensor(second + ".weight", [HeadTrainer.Classes, hidden], hidden), source.GetTensor(second + ".bias", [HeadTrainer.Classes], hidden));
        double loss = head.Train(features, labels, Epochs, learningRate: 0.05f, momentum: 0.9f, batchSize: 32, seed: 4);
        writer.Add(first + ".weight", [hidden, inputs], head.Fc1Weight);
        writer.Add(first + ".bias", [hidden], head.Fc1Bias);
        writer.Add(second + ".weight", [HeadTrainer.Classes, hidden], head.Fc2Weight);
        writer.Add(second + ".bias", [HeadTrainer.Classes], head.Fc2Bias);
        return loss;
    }

    private static Model Finish(string name, string training, IAttributedNetwork network, float[] images, int[] labels, double loss, Action<string> log)
    {
        int classes = network.Description.OutputLength;
        var outputs = new float[labels.Length * classes];
        network.Forward(images, outputs);
        double accuracy = Enumerable.Range(0, labels.Length).Count(s => ArgMax(outputs.AsSpan(s * classes, classes)) == labels[s]) / (double)labels.Length;
        log($"{name}: trained on {labels.Length} images for {Epochs} epochs: loss {loss:F3}, training accuracy {accuracy:P1}");
        return new Model(name, training, network, accuracy);
    }

    private static void Add(SafetensorsWriter writer, IWeightSource source, string name, int[] shape, int fanIn) =>
        writer.Add(name, shape, source.GetTensor(name, shape, fanIn));

    private static MemoryStream ToStream(SafetensorsWriter writer)
    {
        var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        return stream;
    }
}
