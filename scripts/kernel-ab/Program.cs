using System;
using System.Diagnostics;
using NigGen;

// One case of the benchmarks' reference networks (the same declarations as NigGen.Benchmarks/Networks.cs), timed as
// the best call over a few seconds: on a shared machine the best call is the one the others' load disturbed least.
//   KernelAb SECONDS CASE   with CASE one of mlp-forward-1, mlp-forward-64, cnn-forward-1, cnn-forward-64, mlp-nig, cnn-nig
double seconds = double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
string name = args[1];
Action call = name switch
{
    "mlp-forward-1" => Forward(Mlp.CreateRandom(1), Mlp.InputLength, Mlp.OutputLength, 1),
    "mlp-forward-64" => Forward(Mlp.CreateRandom(1), Mlp.InputLength, Mlp.OutputLength, 64),
    "cnn-forward-1" => Forward(Cnn.CreateRandom(1), Cnn.InputLength, Cnn.OutputLength, 1),
    "cnn-forward-64" => Forward(Cnn.CreateRandom(1), Cnn.InputLength, Cnn.OutputLength, 64),
    "mlp-nig" => Nig(Mlp.CreateRandom(1), Mlp.InputLength, Mlp.ImportanceLength),
    "cnn-nig" => Nig(Cnn.CreateRandom(1), Cnn.InputLength, Cnn.ImportanceLength),
    _ => throw new ArgumentException($"unknown case {name}"),
};

var warmUp = Stopwatch.StartNew();
while (warmUp.Elapsed.TotalSeconds < 0.5)
{
    call();
}

double best = double.MaxValue;
var clock = Stopwatch.StartNew();
while (clock.Elapsed.TotalSeconds < seconds)
{
    long start = Stopwatch.GetTimestamp();
    call();
    best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMicroseconds);
}

Console.WriteLine($"{name}: {best:F2} µs");

static float[] Values(int length, int seed)
{
    var random = new Random(seed);
    var values = new float[length];
    for (int i = 0; i < length; i++)
    {
        values[i] = random.NextSingle() * 2 - 1;
    }

    return values;
}

static Action Forward(INetwork network, int inputLength, int outputLength, int batch)
{
    float[] input = Values(batch * inputLength, 1), output = new float[batch * outputLength];
    return () => network.Forward(input, output);
}

static Action Nig(IAttributedNetwork network, int inputLength, int importanceLength)
{
    float[] input = Values(inputLength, 3), baseline = new float[inputLength], importance = new float[importanceLength];
    var options = new AttributionOptions { Steps = 50 };
    return () => network.NeuronIntegratedGradients(input, baseline, 0, importance, options);
}

[Network]
[Input(784)]
public sealed partial class Mlp
{
    [Dense(256, Activation = Activation.Relu)]                 Layer fc1;
    [Dense(256, Activation = Activation.Relu), AttributeLayer] Layer fc2;
    [Dense(10)]                                                Layer fc3;
}

[Network]
[Input(1, 28, 28)]
public sealed partial class Cnn
{
    [Conv(16, Kernel = 5, Activation = Activation.Relu)]       Layer conv1;
    [MaxPool(2)]                                                Layer pool1;
    [Conv(32, Kernel = 5, Activation = Activation.Relu)]       Layer conv2;
    [MaxPool(2)]                                                Layer pool2;
    [Flatten]                                                   Layer flat;
    [Dense(128, Activation = Activation.Relu), AttributeLayer] Layer fc1;
    [Dense(10)]                                                 Layer fc2;
}
