using System;

namespace NigGen.Serving.Protocol;

/// <summary>Which attribution a request asks for; requests are batched only with requests of the same method and options.</summary>
internal enum AttributionMethod
{
    /// <summary>Only <c>output</c> was requested: a forward pass.</summary>
    None,
    NeuronIntegratedGradients,
    DeepLift,
}

/// <summary>An output tensor the request names.</summary>
internal enum OutputKind
{
    Output,
    Importance,
    Delta,
}

/// <summary>A requested output and whether it goes back as binary data (the binary tensor data extension).</summary>
internal readonly record struct RequestedOutput(OutputKind Kind, bool Binary)
{
    public string Name => Kind switch
    {
        OutputKind.Output => InferenceRequestParser.OutputName,
        OutputKind.Importance => InferenceRequestParser.ImportanceName,
        _ => InferenceRequestParser.DeltaName,
    };
}

/// <summary>
/// What requests in one batch share: the model, the method and its options. Two requests with equal keys give the same
/// numbers whether they are computed together or apart.
/// </summary>
internal readonly record struct BatchKey(ServedModel Model, AttributionMethod Method, int Steps, IntegrationRule Rule, DeepLiftRule DeepLiftRule)
{
    public string MethodName => Method switch
    {
        AttributionMethod.None => "forward",
        AttributionMethod.NeuronIntegratedGradients => InferenceRequestParser.NeuronIntegratedGradientsMethod,
        _ => InferenceRequestParser.DeepLiftMethod,
    };

    public AttributionOptions AttributionOptions => new() { Steps = Steps, Rule = Rule, MaxDegreeOfParallelism = -1 };
}

/// <summary>A checked inference request: everything in it is valid for its model.</summary>
internal sealed class InferenceRequest
{
    public required string? Id { get; init; }

    public required BatchKey Key { get; init; }

    public ServedModel Model => Key.Model;

    /// <summary>Samples in the request.</summary>
    public required int Samples { get; init; }

    /// <summary>Samples × InputLength.</summary>
    public required float[] Inputs { get; init; }

    /// <summary>One baseline (InputLength) or one per sample; null: the model's baseline.</summary>
    public required float[]? Baselines { get; init; }

    /// <summary>One target per sample; null: each sample's argmax.</summary>
    public required int[]? Targets { get; init; }

    /// <summary>The outputs to return, in the order asked.</summary>
    public required RequestedOutput[] Outputs { get; init; }

    public bool AnyBinaryOutput => Array.Exists(Outputs, o => o.Binary);

    /// <summary>The baseline of sample <paramref name="sample"/>.</summary>
    public ReadOnlySpan<float> BaselineOf(int sample)
    {
        int length = Model.Description.InputLength;
        return Baselines is null ? Model.Baseline
            : Baselines.Length == length ? Baselines
            : Baselines.AsSpan(sample * length, length);
    }
}
