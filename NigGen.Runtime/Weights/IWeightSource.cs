namespace NigGen.Weights;

/// <summary>Where a network's parameters come from when it is created: a weights file or a random initialisation.</summary>
public interface IWeightSource
{
    /// <summary>
    /// Returns a new array holding the tensor <paramref name="name"/> (for example <c>fc1.weight</c>) of
    /// <paramref name="shape"/> in row-major order. <paramref name="fanIn"/> is the number of inputs of one output
    /// neuron of the layer the tensor belongs to (used by random initialisation).
    /// </summary>
    /// <exception cref="WeightsFormatException">The tensor is missing, has another shape, or cannot be read.</exception>
    float[] GetTensor(string name, int[] shape, int fanIn);

    /// <summary>
    /// Returns a new array holding the tensor <paramref name="name"/> of <paramref name="shape"/>, whose initial value
    /// (for a network created without a file) is <paramref name="initialValue"/> everywhere, as PyTorch initialises
    /// BatchNorm's scale (1), shift (0) and running statistics (mean 0, variance 1).
    /// </summary>
    /// <exception cref="WeightsFormatException">The tensor is missing, has another shape, or cannot be read.</exception>
    float[] GetTensor(string name, int[] shape, float initialValue) => GetTensor(name, shape, fanIn: 1);

    /// <summary>
    /// Returns the 64-bit integer scalar <paramref name="name"/> (BatchNorm's <c>num_batches_tracked</c>); 0 for a
    /// network created without a file.
    /// </summary>
    /// <exception cref="WeightsFormatException">The tensor is missing, is not a scalar or cannot be read.</exception>
    long GetInt64Scalar(string name);
}
