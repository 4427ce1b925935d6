using System;
using System.ComponentModel;

namespace NigGen.Attribution;

/// <summary>
/// The buffers of one pass over up to <see cref="Capacity"/> samples, and the generated network's passes over them.
/// Each generated network derives its own; <see cref="PathAttribution"/> drives it. Not thread-safe: one per thread.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class NetworkWorkspace
{
    /// <summary>Allocates the network-independent buffers.</summary>
    protected NetworkWorkspace(int capacity, int inputLength, int accumulatorLength)
    {
        Capacity = capacity;
        Inputs = new float[capacity * inputLength];
        InputGradients = new float[capacity * inputLength];
        Difference = new float[inputLength];
        Accumulator = new double[accumulatorLength];
        BlockAccumulator = new double[accumulatorLength];
        KeptGradients = new float[accumulatorLength];
        KeptValues = new float[accumulatorLength];
        PointGradients = new float[capacity];
        ChunkAlphas = new double[capacity];
        ChunkStepSizes = new double[capacity];
    }

    /// <summary>Most samples (interpolation points) one pass holds.</summary>
    public int Capacity { get; }

    /// <summary>
    /// Threads a Dense layer's kernel may share its output columns among: 1, except during a multi-threaded Forward
    /// whose batch is too small to split by samples (<see cref="PathAttribution.Forward"/>). Columns are independent
    /// chains, so this never changes a result.
    /// </summary>
    public int LayerThreads { get; internal set; } = 1;

    /// <summary>Input rows of the next <see cref="Forward"/>.</summary>
    public readonly float[] Inputs;

    /// <summary>Gradients with respect to <see cref="Inputs"/> after a backward pass down to the input.</summary>
    public readonly float[] InputGradients;

    internal readonly float[] Difference;
    internal readonly double[] Accumulator;
    internal readonly double[] BlockAccumulator;

    // Neuron Integrated Gradients: the attribute layers' gradients and values at the last point of the previous chunk.
    internal readonly float[] KeptGradients;
    internal readonly float[] KeptValues;

    // The call whose endpoints this workspace holds (parallel workers prepare their own workspace once per call).
    internal long PreparedCall;
    internal readonly float[] PointGradients;

    // The current chunk's points along the path and their step sizes (QuadratureRule computes them per chunk).
    internal readonly double[] ChunkAlphas;
    internal readonly double[] ChunkStepSizes;

    /// <summary>
    /// Whether the network's first Dense or Conv layer is preceded only by linear layers, so that its pre-activation is
    /// affine in α along the path and can be interpolated instead of recomputed (see <see cref="ForwardAlongPath"/>).
    /// </summary>
    public virtual bool HasAffinePrefix => false;

    /// <summary>
    /// The first Dense or Conv layer above the affine prefix, when the layers between are a ReLU (or no activation) and
    /// possibly a max pooling: Neuron Integrated Gradients updates it from point to point (<see cref="Kernels.PathChain"/>).
    /// </summary>
    public virtual Kernels.PathChain? PathChain => null;

    /// <summary>After <see cref="Forward"/> on the two rows (input, baseline), keeps the affine prefix's endpoints.</summary>
    public virtual void CaptureAffineEndpoints() => throw new NotSupportedException("This network has no affine prefix.");

    /// <summary>Takes the affine prefix's endpoints that <paramref name="source"/>, a workspace of the same network, captured.</summary>
    public virtual void CopyAffineEndpoints(NetworkWorkspace source) => throw new NotSupportedException("This network has no affine prefix.");

    /// <summary>
    /// Forward at the path points <paramref name="alphas"/>: the affine prefix's pre-activation is interpolated between
    /// the captured endpoints, then the layers above run as usual. Equal to <see cref="Forward"/> on interpolated inputs
    /// up to float rounding, at the cost of one vector operation per point for the first layer. When the backward pass
    /// that follows stops at <paramref name="backwardTo"/> above the affine layer's activation, or above the pooling
    /// right over it, the interpolation, the activation and the pooling run as one kernel straight into the pooling's
    /// output (bitwise the same numbers): the affine layer's pre-activation and activations and the pooling's argmax are
    /// then not written.
    /// </summary>
    public virtual void ForwardAlongPath(int batch, ReadOnlySpan<double> alphas, int backwardTo) => throw new NotSupportedException("This network has no affine prefix.");

    /// <summary>The same network's workspace for the current thread, with room for <paramref name="capacity"/> samples.</summary>
    public abstract NetworkWorkspace ForCurrentThread(int capacity);

    /// <summary>
    /// A workspace of the same network (and weights) for a helper thread, with room for <paramref name="capacity"/>
    /// samples: <paramref name="spare"/> when it is one of this network's that is large enough, else a new one.
    /// </summary>
    public abstract NetworkWorkspace ForHelper(NetworkWorkspace? spare, int capacity);

    /// <summary>Drops the reference to the network instance (and its weights), so that a spare workspace does not keep it alive.</summary>
    public abstract void Unbind();

    /// <summary>Runs every layer on the first <paramref name="batch"/> rows of <see cref="Inputs"/>.</summary>
    public abstract void Forward(int batch);

    /// <summary>
    /// <see cref="Forward"/> for a caller that reads only <see cref="Outputs"/> afterwards: the same outputs, but buffers
    /// that only a backward pass reads (activations fused into a max pooling, the argmax) may be left unwritten.
    /// </summary>
    public virtual void ForwardInference(int batch) => Forward(batch);

    /// <summary>Propagates gradients from backward position <paramref name="from"/> down to <paramref name="to"/> (−1: the input).</summary>
    public abstract void Backward(int batch, int from, int to);

    /// <summary>The network's outputs after <see cref="Forward"/>.</summary>
    public abstract Span<float> Outputs(int batch);

    /// <summary>Where the backward pass starts: the gradient with respect to the outputs.</summary>
    public abstract Span<float> OutputGradients(int batch);

    /// <summary>The values of the attribute layer at backward position <paramref name="position"/>.</summary>
    public abstract Span<float> Values(int position, int batch);

    /// <summary>The gradients with respect to the attribute layer at backward position <paramref name="position"/>.</summary>
    public abstract Span<float> Gradients(int position, int batch);

    /// <summary>
    /// DeepLIFT: after <see cref="Forward"/> on two rows (input, baseline) and with the target's multiplier seeded in the
    /// first row of <see cref="OutputGradients"/>, propagates multipliers by <paramref name="rule"/> down to backward
    /// position <paramref name="to"/> (−1: the input, into <see cref="InputGradients"/>), writing every attribute layer's
    /// importance into <paramref name="importance"/> on the way unless it is empty.
    /// </summary>
    public virtual void DeepLift(DeepLiftRule rule, int to, Span<float> importance) => throw new NotSupportedException("This network has no generated DeepLIFT pass.");

    /// <summary>
    /// <see cref="Forward"/> on two rows (input, baseline) in which the listed <paramref name="neurons"/> (indices into the
    /// importance vector) of the first row take the second row's values at every attribute layer, before the layers above read them.
    /// </summary>
    public virtual void ForwardAblated(ReadOnlySpan<int> neurons) => throw new NotSupportedException("This network has no attribute layers to ablate.");
}
