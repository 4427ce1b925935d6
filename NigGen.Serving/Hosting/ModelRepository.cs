using System;
using System.Collections.Generic;
using System.Linq;

namespace NigGen.Serving.Hosting;

/// <summary>The served models by name, and whether the server still takes work (false once a shutdown begins).</summary>
internal sealed class ModelRepository
{
    private readonly Dictionary<string, ServedModel> _models;

    public ModelRepository(IEnumerable<ServedModel> models)
    {
        _models = new Dictionary<string, ServedModel>(StringComparer.Ordinal);
        foreach (var model in models)
        {
            if (!_models.TryAdd(model.Name, model))
            {
                throw new ArgumentException($"two models are named '{model.Name}'; each served model needs its own name.", nameof(models));
            }
        }

        if (_models.Count == 0)
        {
            throw new ArgumentException("no model to serve.", nameof(models));
        }
    }

    public IReadOnlyCollection<ServedModel> Models => _models.Values;

    public string Names => string.Join(", ", _models.Keys.Order(StringComparer.Ordinal));

    /// <summary>False once the host is stopping: readiness probes then fail while requests in flight finish.</summary>
    public volatile bool Ready = true;

    public bool TryGet(string name, out ServedModel model) => _models.TryGetValue(name, out model!);
}
