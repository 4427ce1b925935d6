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
}
