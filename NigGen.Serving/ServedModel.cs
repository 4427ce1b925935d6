using System;
using System.Collections.Generic;
using System.Linq;
using NigGen.Attribution;

namespace NigGen.Serving;

/// <summary>
/// A network served under a name: the generated network, the baseline that attribution starts from when a request
/// gives none, and the defaults of the attribution parameters.
/// </summary>
public sealed class ServedModel
{
    /// <summary>Serves <paramref name="network"/> as <paramref name="name"/> (default: the network class's name).</summary>
    /// <param name="network">A generated network; attribution needs one with an [AttributeLayer] (<see cref="IAttributedNetwork"/>).</param>
    /// <param name="baseline">The default baseline, one sample (InputLength floats, all finite); null: zeros.</param>
    /// <param name="name">The model's name in the URLs; null: <c>network.Description.Name</c>.</param>
    /// <param name="version">The one version served, named in the versioned URLs and in responses.</param>
    /// <param name="defaultOptions">Steps and rule when a request names none; the thread count is ignored (batches run on every core).</param>
    /// <param name="defaultDeepLiftRule">The DeepLIFT rule when a request names none.</param>
    public ServedModel(INetwork network, float[]? baseline = null, string? name = null, string version = "1",
        AttributionOptions defaultOptions = default, DeepLiftRule defaultDeepLiftRule = DeepLiftRule.Rescale)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        Network = network;
        Description = network.Description;
        Name = name ?? Description.Name;
        ArgumentException.ThrowIfNullOrWhiteSpace(Name, nameof(name));
        if (Name.Contains('/') || version.Contains('/'))
        {
            throw new ArgumentException($"model name '{Name}' and version '{version}' must not contain '/': they are URL path segments.", Name.Contains('/') ? nameof(name) : nameof(version));
        }

        Version = version;
        if (baseline is not null)
        {
            if (baseline.Length != Description.InputLength)
            {
                throw new ArgumentException($"the baseline has {baseline.Length} values but {Description.Name} takes {Description.InputLength} per sample.", nameof(baseline));
            }

            int bad = Array.FindIndex(baseline, v => !float.IsFinite(v));
            if (bad >= 0)
            {
                throw new ArgumentException($"the baseline holds {baseline[bad]} at index {bad}; every value must be finite.", nameof(baseline));
            }
        }

        Baseline = baseline is null ? new float[Description.InputLength] : (float[])baseline.Clone();
        DefaultSteps = defaultOptions.Steps;
        DefaultRule = defaultOptions.Rule;
        DefaultDeepLiftRule = defaultDeepLiftRule;
        InputShape = [.. Description.InputShape];
    }

    /// <summary>The network.</summary>
    public INetwork Network { get; }

    /// <summary>The network as an attributed network, or null when it has no [AttributeLayer] (then only <c>output</c> is served).</summary>
    public IAttributedNetwork? AttributedNetwork => Network as IAttributedNetwork;

    /// <summary>The network's shapes and attribute layers.</summary>
    public NetworkDescription Description { get; }

    /// <summary>The model's name in the URLs.</summary>
    public string Name { get; }

    /// <summary>The version served.</summary>
    public string Version { get; }

    /// <summary>The baseline used when a request sends none (one sample).</summary>
    public float[] Baseline { get; }

    /// <summary>Shape of one input sample.</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>Integration steps of Neuron Integrated Gradients when a request names none.</summary>
    public int DefaultSteps { get; }

    /// <summary>Integration rule when a request names none.</summary>
    public IntegrationRule DefaultRule { get; }

    /// <summary>DeepLIFT rule when a request names none.</summary>
    public DeepLiftRule DefaultDeepLiftRule { get; }

    /// <summary>Whether the model scores neurons (has attribute layers).</summary>
    public bool HasAttribution => AttributedNetwork is not null && Description.ImportanceLength > 0;

    internal static string ShapeText(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

    internal string SampleShapeText => ShapeText(InputShape);

    internal string ShapeWithBatch(string batch) => "[" + string.Join(", ", new[] { batch }.Concat(InputShape.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)))) + "]";
}
