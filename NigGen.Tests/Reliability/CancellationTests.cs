using System;
using System.Linq;
using System.Threading;
using NigGen.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace NigGen.Tests.Reliability;

/// <summary>
/// The batched Neuron Integrated Gradients stops promptly when its token is cancelled (between samples and between
/// chunks), with an <see cref="OperationCanceledException"/>, and leaves the network usable.
/// </summary>
public sealed class CancellationTests(ITestOutputHelper output)
{
    private const int Samples = 256;
    private static readonly Conv2dNet Network = Conv2dNet.CreateRandom(seed: 51);

    private static readonly float[] Inputs = Enumerable.Range(0, Samples * Conv2dNet.InputLength).Select(i => MathF.Sin(0.37f * i)).ToArray();
    private static readonly float[] Baseline = new float[Conv2dNet.InputLength];
    private static readonly int[] Targets = Enumerable.Range(0, Samples).Select(s => s % Conv2dNet.OutputLength).ToArray();

    private static (float[] Importances, float[] Deltas) Run(AttributionOptions options, CancellationToken token, int samples = Samples, float[]? deltas = null)
    {
        var importances = new float[samples * Conv2dNet.ImportanceLength];
        deltas ??= new float[samples];
        Network.NeuronIntegratedGradients(Inputs.AsSpan(0, samples * Conv2dNet.InputLength), Baseline, Targets.AsSpan(0, samples), importances, deltas, options, token);
        return (importances, deltas);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_long_batch_stops_promptly_and_the_network_stays_usable(int threads)
    {
        // 256 samples of 10,000 steps: seconds of work, which the cancellation cuts to a fraction.
        var options = new AttributionOptions { Steps = 10_000, ChunkSize = 17, MaxDegreeOfParallelism = threads };
        Run(options, CancellationToken.None, samples: 1);
        var expected = Run(options, CancellationToken.None, samples: 2);

        // Cancelled from a thread of its own: a timer would need a thread-pool thread, which the batch may be using.
        using var source = new CancellationTokenSource();
        var canceller = new Thread(() =>
        {
            Thread.Sleep(100);
            source.Cancel();
        });
        canceller.Start();
        var deltas = Enumerable.Repeat(float.NaN, Samples).ToArray();
        Assert.ThrowsAny<OperationCanceledException>(() => Run(options, source.Token, deltas: deltas));
        canceller.Join();

        // Prompt: the batch (seconds of work) stopped long before its end, so most samples were never written. Judged by
        // the work left undone rather than by a clock, so that a loaded machine cannot make it flaky.
        int finished = deltas.Count(d => !float.IsNaN(d));
        output.WriteLine($"{finished} of {Samples} samples finished before the cancellation took effect");
        Assert.True(finished < Samples / 2, $"{finished} of {Samples} samples finished: the cancellation did not stop the batch");

        // The network, and this thread's workspace, are fine: the same numbers as before.
        var after = Run(options, CancellationToken.None, samples: 2);
        Assert.Equal(expected.Importances, after.Importances);
        Assert.Equal(expected.Deltas, after.Deltas);
    }

    [Fact]
    public void A_cancelled_token_stops_before_any_sample()
    {
        using var source = new CancellationTokenSource();
        source.Cancel();
        var importances = new float[Conv2dNet.ImportanceLength];
        var deltas = new float[] { 7f };
        var error = Assert.ThrowsAny<OperationCanceledException>(() =>
            Network.NeuronIntegratedGradients(Inputs.AsSpan(0, Conv2dNet.InputLength), Baseline, [0], importances, deltas, default, source.Token));
        Assert.Equal(source.Token, error.CancellationToken);
        Assert.Equal(7f, deltas[0]);
    }

    [Fact]
    public void A_token_that_is_never_cancelled_changes_nothing()
    {
        var options = new AttributionOptions { Steps = 30 };
        using var source = new CancellationTokenSource();
        var withToken = Run(options, source.Token, samples: 5);

        var importances = new float[5 * Conv2dNet.ImportanceLength];
        var deltas = new float[5];
        Network.NeuronIntegratedGradients(Inputs.AsSpan(0, 5 * Conv2dNet.InputLength), Baseline, Targets.AsSpan(0, 5), importances, deltas, options);
        Assert.Equal(importances, withToken.Importances);
        Assert.Equal(deltas, withToken.Deltas);

        // Through the interface, as a scoring service holding any network would call it.
        IAttributedNetwork network = Network;
        network.NeuronIntegratedGradients(Inputs.AsSpan(0, 5 * Conv2dNet.InputLength), Baseline, Targets.AsSpan(0, 5), importances, deltas, options, source.Token);
        Assert.Equal(importances, withToken.Importances);
    }
}
