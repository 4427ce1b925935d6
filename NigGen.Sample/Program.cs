using System;
using System.Diagnostics;
using System.Linq;
using NigGen;
using NigGen.Sample;

// NigGen sample: declare a network (DigitNet.cs), create or load its weights, predict, and score the neurons of its
// attribute layer with Neuron Integrated Gradients.
//   dotnet run --project NigGen.Sample                      random weights (PyTorch's default initialisation)
//   dotnet run --project NigGen.Sample -- model.safetensors  weights exported from PyTorch
DigitNet network;
if (args.Length > 0)
{
    network = DigitNet.Load(args[0]);
    Console.WriteLine($"Weights: {args[0]}");
}
else
{
    network = DigitNet.CreateRandom(seed: 1);
    Console.WriteLine("Weights: random (PyTorch's default initialisation, seed 1); pass a .safetensors path to load trained ones");
}

var description = DigitNet.Description;
Console.WriteLine($"Network: {description.Name}, input ({string.Join(", ", description.InputShape)}) → {DigitNet.OutputLength} classes, " +
                  $"scoring {string.Join(", ", description.AttributeLayers.Select(l => $"{l.Name} ({l.Length} neurons)"))}");
Console.WriteLine();

var images = new (string Name, float[] Pixels)[]
{
    ("a vertical stroke", Draw((r, c) => Math.Abs(c - 14) <= 1 && r is > 4 and < 24)),
    ("a ring", Draw((r, c) => Math.Abs(Math.Sqrt((r - 14) * (r - 14) + (c - 14) * (c - 14)) - 8) < 1.5)),
    ("a cross", Draw((r, c) => Math.Abs(r - c) <= 1 || Math.Abs(r + c - 27) <= 1)),
};

var batch = images.SelectMany(image => image.Pixels).ToArray();
var logits = new float[images.Length * DigitNet.OutputLength];
network.Forward(batch, logits);

var baseline = new float[DigitNet.InputLength]; // an all-black image
var importance = new float[DigitNet.ImportanceLength];
var deepLift = new float[DigitNet.ImportanceLength];
var options = new AttributionOptions { Steps = 50, Rule = IntegrationRule.RiemannTrapezoid };
for (int i = 0; i < images.Length; i++)
{
    var scores = logits.AsSpan(i * DigitNet.OutputLength, DigitNet.OutputLength);
    int predicted = IndexOfMax(scores);
    Console.WriteLine($"Image {i} ({images[i].Name}): predicted class {predicted} (logit {scores[predicted]:F4})");

    float delta = network.NeuronIntegratedGradients(images[i].Pixels, baseline, predicted, importance, options);
    var stopwatch = Stopwatch.StartNew();
    const int repeats = 20;
    for (int r = 0; r < repeats; r++)
    {
        network.NeuronIntegratedGradients(images[i].Pixels, baseline, predicted, importance, options);
    }

    double milliseconds = stopwatch.Elapsed.TotalMilliseconds / repeats;
    Console.WriteLine($"  Top neurons for class {predicted} (Neuron Integrated Gradients, {options.Steps} steps, {options.Rule}; {milliseconds:F2} ms per call):");
    foreach (int neuron in TopNeurons(importance, 5))
    {
        Console.WriteLine($"    {description.DescribeNeuron(neuron),-10} {importance[neuron],+10:F5}");
    }

    Console.WriteLine($"  Completeness: Σ importance = {importance.Sum():F5}, F(x) − F(baseline) differs by delta = {delta:E2}");

    // DeepLIFT, the paper's cheaper comparison: one forward pass over input and baseline, one backward pass.
    float deepLiftDelta = network.DeepLift(images[i].Pixels, baseline, predicted, deepLift, DeepLiftRule.Rescale);
    stopwatch.Restart();
    for (int r = 0; r < repeats; r++)
    {
        network.DeepLift(images[i].Pixels, baseline, predicted, deepLift, DeepLiftRule.Rescale);
    }

    double deepLiftMilliseconds = stopwatch.Elapsed.TotalMilliseconds / repeats;
    var topByNig = TopNeurons(importance, 5);
    var topByDeepLift = TopNeurons(deepLift, 5);
    Console.WriteLine($"  DeepLIFT (Rescale; {deepLiftMilliseconds:F3} ms per call): top 5 {string.Join(", ", topByDeepLift.Select(description.DescribeNeuron))}; " +
                      $"{topByNig.Intersect(topByDeepLift).Count()} of NIG's top 5; delta = {deepLiftDelta:E2}");
    Console.WriteLine();
}

static int[] TopNeurons(float[] scores, int count) =>
    Enumerable.Range(0, scores.Length).OrderByDescending(n => Math.Abs(scores[n])).Take(count).ToArray();

static float[] Draw(Func<int, int, bool> ink)
{
    var pixels = new float[DigitNet.InputLength];
    for (int r = 0; r < 28; r++)
    {
        for (int c = 0; c < 28; c++)
        {
            pixels[r * 28 + c] = ink(r, c) ? 1f : 0f;
        }
    }

    return pixels;
}

static int IndexOfMax(ReadOnlySpan<float> values)
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
