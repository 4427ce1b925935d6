using System;
using System.Numerics.Tensors;

namespace NigGen.Benchmarks;

/// <summary>
/// The attribution contenders on one network and one sample (or a batch of 64): NigGen's Neuron Integrated Gradients,
/// NigGen's unoptimised path, and total conductance the straightforward way, one NeuronConductance call (one backward
/// pass to the input per interpolation point) per neuron, summed over the input features.
/// </summary>
public sealed class AttributionCase
{
    public const int Steps = 50;
    public const int Batch = 64;

    /// <summary>Most neurons the per-neuron route runs; its time is scaled to the whole layer (the work per neuron is identical).</summary>
    public const int PerNeuronSubset = 32;

    private static readonly AttributionOptions Optimised = new() { Steps = Steps };
    private static readonly AttributionOptions Unoptimised = new() { Steps = Steps, Unoptimised = true };
    private static readonly AttributionOptions AllCores = new() { Steps = Steps, MaxDegreeOfParallelism = -1 };

    private readonly IAttributedNetwork _network;
    private readonly float[] _input;
    private readonly float[] _baseline;
    private readonly int _target;
    private readonly float[] _importance;
    private readonly float[] _attribution;
    private readonly int[] _neurons;
    private readonly float[] _perNeuronTotals;
    private readonly float[] _inputs;
    private readonly int[] _targets;
    private readonly float[] _importances;
    private readonly float[] _deltas;

    public AttributionCase(NetworkKind kind)
    {
        Network = ReferenceNetwork.Create(kind);
        _network = Network.Network;
        _input = Network.Inputs(1, seed: 1);
        _baseline = new float[Network.InputLength];
        _target = Network.Predict(_input);
        _importance = new float[Network.ImportanceLength];
        _attribution = new float[Network.InputLength];

        Width = Network.ImportanceLength;
        NeuronsRun = Math.Min(Width, PerNeuronSubset);
        _neurons = new int[NeuronsRun];
        for (int i = 0; i < NeuronsRun; i++)
        {
            _neurons[i] = (int)((long)i * Width / NeuronsRun);
        }

        _perNeuronTotals = new float[Width];

        _inputs = Network.Inputs(Batch, seed: 2);
        _targets = new int[Batch];
        for (int s = 0; s < Batch; s++)
        {
            _targets[s] = Network.Predict(_inputs.AsSpan(s * Network.InputLength, Network.InputLength));
        }

        _importances = new float[Batch * Network.ImportanceLength];
        _deltas = new float[Batch];
    }

    public ReferenceNetwork Network { get; }

    /// <summary>Neurons of the attribute layer(s).</summary>
    public int Width { get; }

    /// <summary>Neurons the per-neuron route runs per call (evenly spaced).</summary>
    public int NeuronsRun { get; }

    /// <summary>Factor from the per-neuron route's measured time to the whole layer.</summary>
    public double PerNeuronScale => (double)Width / NeuronsRun;

    public ReadOnlySpan<float> Importance => _importance;

    public float NeuronIntegratedGradients() =>
        _network.NeuronIntegratedGradients(_input, _baseline, _target, _importance, Optimised);

    public float UnoptimisedNeuronIntegratedGradients() =>
        _network.NeuronIntegratedGradients(_input, _baseline, _target, _importance, Unoptimised);

    public float NeuronIntegratedGradientsAllCores() =>
        _network.NeuronIntegratedGradients(_input, _baseline, _target, _importance, AllCores);

    public float PerNeuronConductance()
    {
        float sum = 0;
        foreach (int neuron in _neurons)
        {
            _network.NeuronConductance(_input, _baseline, _target, neuron, _attribution, Optimised);
            float total = TensorPrimitives.Sum<float>(_attribution);
            _perNeuronTotals[neuron] = total;
            sum += total;
        }

        return sum;
    }

    public void NeuronIntegratedGradientsBatch() =>
        _network.NeuronIntegratedGradients(_inputs, _baseline, _targets, _importances, _deltas, Optimised);

    public void NeuronIntegratedGradientsBatchAllCores() =>
        _network.NeuronIntegratedGradients(_inputs, _baseline, _targets, _importances, _deltas, AllCores);

    public void UnoptimisedNeuronIntegratedGradientsBatch() =>
        _network.NeuronIntegratedGradients(_inputs, _baseline, _targets, _importances, _deltas, Unoptimised);

    /// <summary>
    /// Fails unless the unoptimised and all-cores paths agree with the single-threaded one. Returns whether all cores
    /// gave bitwise the same importances (NigGen promises it), and how far the per-neuron totals (a different
    /// discretisation of the same integral) are from NigGen's, relative to the largest importance.
    /// </summary>
    public (bool ThreadsIdentical, double PerNeuronDeviation) Check()
    {
        NeuronIntegratedGradients();
        var optimised = (float[])_importance.Clone();
        UnoptimisedNeuronIntegratedGradients();
        Checks.RequireClose($"Unoptimised Neuron Integrated Gradients of {Network.Label}", _importance, optimised, Checks.UnoptimisedTolerance);
        NeuronIntegratedGradientsAllCores();
        Checks.RequireClose($"All-cores Neuron Integrated Gradients of {Network.Label}", _importance, optimised, Checks.UnoptimisedTolerance);
        bool identical = Checks.BitwiseEqual(_importance, optimised);

        NeuronIntegratedGradientsBatch();
        var batch = (float[])_importances.Clone();
        UnoptimisedNeuronIntegratedGradientsBatch();
        Checks.RequireClose($"Unoptimised batched Neuron Integrated Gradients of {Network.Label}", _importances, batch, Checks.UnoptimisedTolerance);
        NeuronIntegratedGradientsBatchAllCores();
        Checks.RequireClose($"All-cores batched Neuron Integrated Gradients of {Network.Label}", _importances, batch, Checks.UnoptimisedTolerance);
        identical &= Checks.BitwiseEqual(_importances, batch);

        optimised.CopyTo(_importance, 0);
        PerNeuronConductance();
        double worst = 0;
        double scale = 0;
        foreach (int neuron in _neurons)
        {
            worst = Math.Max(worst, Math.Abs(_perNeuronTotals[neuron] - optimised[neuron]));
        }

        foreach (float value in optimised)
        {
            scale = Math.Max(scale, Math.Abs(value));
        }

        return (identical, scale == 0 ? worst : worst / scale);
    }
}
