using System.Collections.Generic;
using System.Linq;

namespace NigGen.Generator.Emit;

/// <summary>
/// Tracks, within one emitted backward pass, which gradient buffers have been written: a layer read by several others
/// (a residual branch point, say) receives the sum of their gradients, so its first write in the pass overwrites and
/// the later ones add. Which write comes first depends on where the pass starts and stops (a pass from a hidden layer
/// skips the layers above it), so a buffer written more than once gets a local flag, set as each write runs.
/// </summary>
internal sealed class GradientWrites
{
    private readonly EmitPlan _plan;
    private readonly ISet<int> _shared;

    /// <param name="plan">The pass's plan.</param>
    /// <param name="emitted">Which layers' input gradients the pass writes (all, when null): a buffer is shared only if
    /// two of the writes the pass makes target it, so that every flag declared is also read.</param>
    public GradientWrites(EmitPlan plan, System.Func<LayerPlan, bool>? emitted = null)
    {
        _plan = plan;
        _shared = new HashSet<int>(plan.GradientWrites().Where(w => emitted?.Invoke(w.Layer) ?? true)
            .GroupBy(w => w.Owner).Where(g => g.Count() > 1).Select(g => g.Key));
    }

    /// <summary>Declares the flags at the top of the pass.</summary>
    public void EmitDeclarations(SourceWriter w)
    {
        if (_shared.Count == 0)
        {
            return;
        }

        w.Line("// Gradient buffers that several layers write: the first write in this pass overwrites, later ones add.");
        foreach (int owner in _shared.OrderByDescending(o => o))
        {
            w.Line($"bool {Flag(owner)} = false;");
        }

        w.Line();
    }

    /// <summary>The kernel argument for input <paramref name="k"/> of <paramref name="layer"/>: empty, or ", accumulate: flag".</summary>
    public string Accumulate(LayerPlan layer, int k)
    {
        int owner = _plan.GradientOwner(layer.SourceIndex(k));
        return _shared.Contains(owner) ? $", accumulate: {Flag(owner)}" : string.Empty;
    }

    /// <summary>Whether input <paramref name="k"/>'s buffer is shared (its write needs <see cref="Accumulate"/> and <see cref="EmitWritten"/>).</summary>
    public bool IsShared(LayerPlan layer, int k) => _shared.Contains(_plan.GradientOwner(layer.SourceIndex(k)));

    /// <summary>The flag's name for input <paramref name="k"/> of <paramref name="layer"/>.</summary>
    public string FlagOf(LayerPlan layer, int k) => Flag(_plan.GradientOwner(layer.SourceIndex(k)));

    /// <summary>Marks input <paramref name="k"/>'s buffer written, after the write.</summary>
    public void EmitWritten(SourceWriter w, LayerPlan layer, int k)
    {
        if (IsShared(layer, k))
        {
            w.Line($"{FlagOf(layer, k)} = true;");
        }
    }

    // "inputGradientsWritten" cannot be a layer's flag, whose names end in "GradientWritten".
    private string Flag(int owner) => owner < 0 ? "inputGradientsWritten" : char.ToLowerInvariant(_plan.Layers[owner].Pascal[0]) + _plan.Layers[owner].Pascal.Substring(1) + "GradientWritten";
}
