namespace NigGen.Weights;

/// <summary>
/// What a generated network's <c>Load(path, options)</c> and <c>Load(stream, options)</c> accept beyond a file that holds
/// exactly the network's tensors, all finite. <see cref="Default"/> (what <c>Load(path)</c> uses) accepts nothing more.
/// </summary>
public sealed record WeightsLoadOptions
{
    /// <summary>The strict defaults: no tensor the network does not read, no NaN or infinite weight.</summary>
    public static WeightsLoadOptions Default { get; } = new();

    /// <summary>
    /// Accept tensors the network does not read (for example a full model's state dict loaded into a network that
    /// declares only its first layers, or a batch-norm counter) and ignore them. Off by default: an unexpected tensor
    /// usually means the file belongs to another network or a layer was renamed.
    /// </summary>
    public bool AllowUnexpectedTensors { get; init; }

    /// <summary>
    /// Accept NaN and infinite weights as they are. Off by default: a non-finite weight makes every output it reaches
    /// NaN or infinite, so it is reported at load, naming the tensor and the element. (An F64 value beyond float32's
    /// range becomes infinite when converted, and is reported the same way.)
    /// </summary>
    public bool AllowNonFiniteWeights { get; init; }
}
