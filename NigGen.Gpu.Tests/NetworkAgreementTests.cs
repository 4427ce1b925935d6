using System;
using NigGen.Attribution;
using Xunit;

namespace NigGen.Gpu.Tests;

/// <summary>
/// Each tiny network on ILGPU's CPU accelerator against its CPU path: Forward, Neuron Integrated Gradients (single and
/// batched, per-sample and shared baselines, trapezoid and Gauss-Legendre) and integrated gradients. Each network is
/// uploaded twice: with automatic passes, and with passes of 3 rows, which splits every sample's points into chunks
/// that share their boundary point (and splits Forward and the endpoint passes too).
/// </summary>
public abstract class NetworkAgreementTests
{
    private static readonly AttributionOptions Trapezoid = new() { Steps = 6 };
    private static readonly AttributionOptions GaussLegendre = new() { Steps = 4, Rule = IntegrationRule.GaussLegendre };

    protected abstract IAttributedNetwork Cpu { get; }

    protected abstract GpuNetwork Gpu { get; }

    protected abstract GpuNetwork SmallPasses { get; }

    [Fact]
    public void Forward() => Agreement.Forward(Cpu, Gpu, batch: 5, seed: 1);

    /// <summary>Enough rows that the dense GEMMs fill every column of each thread's 8 × 4 block.</summary>
    [Fact]
    public void ForwardLargeBatch() => Agreement.Forward(Cpu, Gpu, batch: 40, seed: 9);

    [Fact]
    public void ForwardInPassesOfThreeRows() => Agreement.Forward(Cpu, SmallPasses, batch: 7, seed: 2);

    [Fact]
    public void NeuronIntegratedGradients() => Agreement.NeuronIntegratedGradients(Cpu, Gpu, Trapezoid, seed: 3);

    [Fact]
    public void NeuronIntegratedGradientsGaussLegendre() => Agreement.NeuronIntegratedGradients(Cpu, Gpu, GaussLegendre, seed: 4);

    [Fact]
    public void NeuronIntegratedGradientsBatch() => Agreement.NeuronIntegratedGradientsBatch(Cpu, Gpu, samples: 3, sharedBaseline: false, Trapezoid, seed: 5);

    [Fact]
    public void NeuronIntegratedGradientsBatchWithSharedBaselineInPassesOfThreeRows() =>
        Agreement.NeuronIntegratedGradientsBatch(Cpu, SmallPasses, samples: 3, sharedBaseline: true, Trapezoid, seed: 6);

    /// <summary>A batch larger than one round of samples: the call is split, each round uploading its own samples.</summary>
    [Fact]
    public void NeuronIntegratedGradientsBatchInRoundsOfTwoSamples()
    {
        int saved = Gpu.SamplesPerCall;
        Gpu.SamplesPerCall = 2;
        try
        {
            Agreement.NeuronIntegratedGradientsBatch(Cpu, Gpu, samples: 5, sharedBaseline: false, Trapezoid, seed: 10);
        }
        finally
        {
            Gpu.SamplesPerCall = saved;
        }
    }

    /// <summary>Another thread than the one that uploaded the network (each call binds the accelerator to its thread).</summary>
    [Fact]
    public async System.Threading.Tasks.Task NeuronIntegratedGradientsFromAnotherThread() =>
        await System.Threading.Tasks.Task.Run(() => Agreement.NeuronIntegratedGradients(Cpu, Gpu, Trapezoid, seed: 12));

    [Fact]
    public void IntegratedGradients() => Agreement.IntegratedGradients(Cpu, Gpu, Trapezoid, seed: 7);

    [Fact]
    public void IntegratedGradientsInPassesOfThreeRows() => Agreement.IntegratedGradients(Cpu, SmallPasses, new AttributionOptions { Steps = 7, Rule = IntegrationRule.RiemannMiddle }, seed: 8);

    /// <summary>Uploads <paramref name="cpu"/> with automatic passes and with passes of 3 rows.</summary>
    protected static (GpuNetwork Automatic, GpuNetwork Small) Upload(Func<GpuOptions?, GpuNetwork> toGpu) =>
        (toGpu(null), toGpu(new GpuOptions { MaxRowsPerPass = 3 }));
}

public sealed class DenseAgreementTests : NetworkAgreementTests
{
    private static readonly GpuDenseNet Network = GpuDenseNet.CreateRandom(seed: 11);
    private static readonly (GpuNetwork Automatic, GpuNetwork Small) OnDevice = Upload(o => Network.ToGpu(GpuFixture.Device.Accelerator, o));

    protected override IAttributedNetwork Cpu => Network;

    protected override GpuNetwork Gpu => OnDevice.Automatic;

    protected override GpuNetwork SmallPasses => OnDevice.Small;

    /// <summary>
    /// The device keeps one rule's points at a time: each change of rule or Steps replaces them, a repeat finds them.
    /// Points upload in pieces of 16 here (4,096 by default); 520 Gauss-Legendre steps come from the asymptotic expansions.
    /// </summary>
    [Fact]
    public void Changing_the_rule_replaces_the_points_on_the_device()
    {
        AttributionOptions[] sequence =
        [
            new() { Steps = 6 },
            new() { Steps = 40 },
            new() { Steps = 520, Rule = IntegrationRule.GaussLegendre },
            new() { Steps = 6 },
            new() { Steps = 6 },
            new() { Steps = 33, Rule = IntegrationRule.RiemannLeft },
        ];
        var gpu = OnDevice.Automatic;
        int saved = gpu.QuadraturePiece;
        gpu.QuadraturePiece = 16;
        try
        {
            for (int i = 0; i < sequence.Length; i++)
            {
                Agreement.NeuronIntegratedGradients(Network, gpu, sequence[i], seed: 20 + i);
                Agreement.IntegratedGradients(Network, gpu, sequence[i] with { Steps = Math.Min(sequence[i].Steps, 40) }, seed: 30 + i);
            }
        }
        finally
        {
            gpu.QuadraturePiece = saved;
        }
    }
}

public sealed class Conv1dAgreementTests : NetworkAgreementTests
{
    private static readonly GpuConv1dNet Network = GpuConv1dNet.CreateRandom(seed: 12);
    private static readonly (GpuNetwork Automatic, GpuNetwork Small) OnDevice = Upload(o => Network.ToGpu(GpuFixture.Device.Accelerator, o));

    protected override IAttributedNetwork Cpu => Network;

    protected override GpuNetwork Gpu => OnDevice.Automatic;

    protected override GpuNetwork SmallPasses => OnDevice.Small;
}

public sealed class Conv2dAgreementTests : NetworkAgreementTests
{
    private static readonly GpuConv2dNet Network = GpuConv2dNet.CreateRandom(seed: 13);
    private static readonly (GpuNetwork Automatic, GpuNetwork Small) OnDevice = Upload(o => Network.ToGpu(GpuFixture.Device.Accelerator, o));

    protected override IAttributedNetwork Cpu => Network;

    protected override GpuNetwork Gpu => OnDevice.Automatic;

    protected override GpuNetwork SmallPasses => OnDevice.Small;
}

public sealed class PoolFirstAgreementTests : NetworkAgreementTests
{
    private static readonly GpuPoolFirstNet Network = GpuPoolFirstNet.CreateRandom(seed: 14);
    private static readonly (GpuNetwork Automatic, GpuNetwork Small) OnDevice = Upload(o => Network.ToGpu(GpuFixture.Device.Accelerator, o));

    protected override IAttributedNetwork Cpu => Network;

    protected override GpuNetwork Gpu => OnDevice.Automatic;

    protected override GpuNetwork SmallPasses => OnDevice.Small;
}

public sealed class AvgPoolAgreementTests : NetworkAgreementTests
{
    private static readonly GpuAvgPoolNet Network = GpuAvgPoolNet.CreateRandom(seed: 15);
    private static readonly (GpuNetwork Automatic, GpuNetwork Small) OnDevice = Upload(o => Network.ToGpu(GpuFixture.Device.Accelerator, o));

    protected override IAttributedNetwork Cpu => Network;

    protected override GpuNetwork Gpu => OnDevice.Automatic;

    protected override GpuNetwork SmallPasses => OnDevice.Small;
}

public sealed class ScoredBelowDenseAgreementTests : NetworkAgreementTests
{
    private static readonly GpuScoredBelowDenseNet Network = GpuScoredBelowDenseNet.CreateRandom(seed: 17);
    private static readonly (GpuNetwork Automatic, GpuNetwork Small) OnDevice = Upload(o => Network.ToGpu(GpuFixture.Device.Accelerator, o));

    protected override IAttributedNetwork Cpu => Network;

    protected override GpuNetwork Gpu => OnDevice.Automatic;

    protected override GpuNetwork SmallPasses => OnDevice.Small;
}

/// <summary>The 2-D network in groups of 64 threads: the planner's larger tiles through every pass.</summary>
public sealed class WideGroupAgreementTests
{
    private static readonly GpuConv2dNet Network = GpuConv2dNet.CreateRandom(seed: 16);
    private static readonly GpuNetwork OnDevice = Network.ToGpu(GpuFixture.WideDevice.Accelerator);

    [Fact]
    public void ForwardLargeBatch() => Agreement.Forward(Network, OnDevice, batch: 70, seed: 1);

    [Fact]
    public void NeuronIntegratedGradientsBatch() =>
        Agreement.NeuronIntegratedGradientsBatch(Network, OnDevice, samples: 4, sharedBaseline: false, new AttributionOptions { Steps = 9 }, seed: 2);

    [Fact]
    public void IntegratedGradients() => Agreement.IntegratedGradients(Network, OnDevice, new AttributionOptions { Steps = 9 }, seed: 3);
}
