using System;
using NigGen.Attribution;
using NigGen.Kernels;
using Xunit;

namespace NigGen.Gpu.Tests;

/// <summary>
/// Bad arguments fail on the GPU path exactly as on the CPU path (same exception type, parameter and message: the
/// same checks run), before any device work; and the GPU-only errors name what was wrong.
/// </summary>
public sealed class BadInputTests
{
    private static readonly GpuConv1dNet Network = GpuConv1dNet.CreateRandom(seed: 21);
    private static readonly GpuNetwork OnDevice = Network.ToGpu(GpuFixture.Device.Accelerator);
    private static readonly int In = GpuConv1dNet.InputLength;

    public static TheoryData<string> Cases =>
    [
        "forward: input not whole samples", "forward: output of another batch", "forward: NaN input",
        "nig: short input", "nig: short baseline", "nig: target too large", "nig: negative target", "nig: short importance",
        "nig: infinite baseline", "nig: zero steps", "nig: undefined rule",
        "batch: baselines neither one nor per sample", "batch: targets of another batch", "batch: bad target",
        "batch: short importances", "batch: short deltas", "batch: NaN input",
        "ig: short attribution", "ig: one step with the trapezoid", "ig: NaN input",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void FailsAsTheCpuPathDoes(string @case)
    {
        var cpu = Record(@case, gpu: false);
        var gpu = Record(@case, gpu: true);
        Assert.NotNull(cpu);
        Assert.NotNull(gpu);
        Assert.Equal(cpu!.GetType(), gpu!.GetType());
        Assert.Equal(cpu.Message, gpu.Message);
        Assert.Equal((cpu as ArgumentException)?.ParamName, (gpu as ArgumentException)?.ParamName);
    }

    [Fact]
    public void TheNetworkStaysUsableAfterBadCalls()
    {
        Assert.NotNull(Record("nig: target too large", gpu: true));
        Agreement.NeuronIntegratedGradients(Network, OnDevice, new AttributionOptions { Steps = 3 }, seed: 5);
    }

    [Fact]
    public void PassesOfOneRowAreRefused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Network.ToGpu(GpuFixture.Device.Accelerator, new GpuOptions { MaxRowsPerPass = 1 }));
        Assert.Contains("MaxRowsPerPass = 1", error.Message);
    }

    [Fact]
    public void GroupSizesBeyondTheAcceleratorAreRefused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Network.ToGpu(GpuFixture.Device.Accelerator, new GpuOptions { MaxGroupSize = 32 }));
        Assert.Contains("MaxGroupSize = 32", error.Message);
        Assert.Contains("[16, 16]", error.Message);
    }

    [Fact]
    public void LayersThatDoNotChainAreNamed()
    {
        var layer = Layer.Create("fc", [3, 4], hasBias: true, new NigGen.Weights.RandomWeightSource(1));
        var description = new NetworkDescription("Broken", [5], [3], outputPosition: 1, floatsPerSample: 1, attributeLayers: [], layers: []);
        var error = Assert.Throws<ArgumentException>(() => GpuNetwork.Create(GpuFixture.Device.Accelerator, description, [GpuLayer.Dense(layer, 4, 3, Activation.None)]));
        Assert.Contains("layer 'fc' reads 4 floats per sample, but the layer below it writes 5", error.Message);
    }

    [Fact]
    public void AWeightOfTheWrongShapeIsNamed()
    {
        var layer = Layer.Create("conv", [2, 1, 3], hasBias: false, new NigGen.Weights.RandomWeightSource(1));
        var geometry = new ConvGeometry(InChannels: 1, InHeight: 1, InWidth: 8, OutChannels: 3, KernelHeight: 1, KernelWidth: 3, StrideHeight: 1, StrideWidth: 1, PaddingHeight: 0, PaddingWidth: 0);
        var error = Assert.Throws<ArgumentException>(() => GpuLayer.Conv(layer, geometry, Activation.Relu));
        Assert.Contains("Layer 'conv' has a weight of 6 floats", error.Message);
    }

    [Fact]
    public void ADisposedNetworkSaysSo()
    {
        var network = Network.ToGpu(GpuFixture.Device.Accelerator);
        network.Dispose();
        network.Dispose();
        Assert.Throws<ObjectDisposedException>(() => network.Forward(new float[In], new float[GpuConv1dNet.OutputLength]));
    }

    private static Exception? Record(string @case, bool gpu)
    {
        var input = GpuFixture.Values(In, 1);
        var baseline = new float[In];
        var bad = (float[])input.Clone();
        bad[5] = float.NaN;
        var importance = new float[GpuConv1dNet.ImportanceLength];
        var attribution = new float[In];
        var options = new AttributionOptions { Steps = 3 };
        Func<float[], float[], int, float[], AttributionOptions, float> nig = gpu ? (x, b, t, i, o) => OnDevice.NeuronIntegratedGradients(x, b, t, i, o) : (x, b, t, i, o) => Network.NeuronIntegratedGradients(x, b, t, i, o);
        Action<float[], float[], int[], float[], float[], AttributionOptions> batch = gpu ? (x, b, t, i, d, o) => OnDevice.NeuronIntegratedGradients(x, b, t, i, d, o) : (x, b, t, i, d, o) => Network.NeuronIntegratedGradients(x, b, t, i, d, o);
        Func<float[], float[], int, float[], AttributionOptions, float> ig = gpu ? (x, b, t, a, o) => OnDevice.IntegratedGradients(x, b, t, a, o) : (x, b, t, a, o) => Network.IntegratedGradients(x, b, t, a, o);
        Action<float[], float[]> forward = gpu ? (x, y) => OnDevice.Forward(x, y) : (x, y) => Network.Forward(x, y);
        var two = GpuFixture.Values(2 * In, 2);
        var twoBad = (float[])two.Clone();
        twoBad[In + 3] = float.PositiveInfinity;
        var infiniteBaseline = new float[In];
        infiniteBaseline[0] = float.NegativeInfinity;
        return Record(@case switch
        {
            "forward: input not whole samples" => () => forward(new float[In + 1], new float[GpuConv1dNet.OutputLength]),
            "forward: output of another batch" => () => forward(two, new float[GpuConv1dNet.OutputLength]),
            "forward: NaN input" => () => forward(bad, new float[GpuConv1dNet.OutputLength]),
            "nig: short input" => () => nig(new float[In - 1], baseline, 0, importance, options),
            "nig: short baseline" => () => nig(input, new float[In - 1], 0, importance, options),
            "nig: target too large" => () => nig(input, baseline, GpuConv1dNet.OutputLength, importance, options),
            "nig: negative target" => () => nig(input, baseline, -1, importance, options),
            "nig: short importance" => () => nig(input, baseline, 0, new float[GpuConv1dNet.ImportanceLength - 1], options),
            "nig: infinite baseline" => () => nig(input, infiniteBaseline, 0, importance, options),
            "nig: zero steps" => () => nig(input, baseline, 0, importance, new AttributionOptions { Steps = 0 }),
            "nig: undefined rule" => () => nig(input, baseline, 0, importance, new AttributionOptions { Rule = (IntegrationRule)42 }),
            "batch: baselines neither one nor per sample" => () => batch(two, new float[3 * In], [0, 1], new float[2 * GpuConv1dNet.ImportanceLength], new float[2], options),
            "batch: targets of another batch" => () => batch(two, baseline, [0], new float[2 * GpuConv1dNet.ImportanceLength], new float[2], options),
            "batch: bad target" => () => batch(two, baseline, [0, 7], new float[2 * GpuConv1dNet.ImportanceLength], new float[2], options),
            "batch: short importances" => () => batch(two, baseline, [0, 1], new float[GpuConv1dNet.ImportanceLength], new float[2], options),
            "batch: short deltas" => () => batch(two, baseline, [0, 1], new float[2 * GpuConv1dNet.ImportanceLength], new float[1], options),
            "batch: NaN input" => () => batch(twoBad, baseline, [0, 1], new float[2 * GpuConv1dNet.ImportanceLength], new float[2], options),
            "ig: short attribution" => () => ig(input, baseline, 0, new float[In - 1], options),
            "ig: one step with the trapezoid" => () => ig(input, baseline, 0, attribution, new AttributionOptions { Steps = 1 }),
            "ig: NaN input" => () => ig(bad, baseline, 0, attribution, options),
            _ => throw new ArgumentOutOfRangeException(nameof(@case), @case, null),
        });
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
