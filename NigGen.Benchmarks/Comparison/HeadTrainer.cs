using System;
using System.Numerics.Tensors;

namespace NigGen.Benchmarks.Comparison;

/// <summary>
/// Trains a dense head (features → hidden with ReLU → 10 classes) by minibatch SGD with momentum on softmax
/// cross-entropy, over the features of a frozen, randomly initialised front. The generated code has input gradients
/// only, so the head's parameter gradients are written out here; the front is not trained.
/// </summary>
public sealed class HeadTrainer
{
    public const int Classes = SyntheticDigits.Classes;

    public HeadTrainer(int features, int hidden, float[] fc1Weight, float[] fc1Bias, float[] fc2Weight, float[] fc2Bias)
    {
        Features = features;
        Hidden = hidden;
        Fc1Weight = fc1Weight;
        Fc1Bias = fc1Bias;
        Fc2Weight = fc2Weight;
        Fc2Bias = fc2Bias;
    }

    public int Features { get; }

    public int Hidden { get; }

    /// <summary>[Hidden, Features], PyTorch's layout.</summary>
    public float[] Fc1Weight { get; }

    public float[] Fc1Bias { get; }

    /// <summary>[Classes, Hidden], PyTorch's layout.</summary>
    public float[] Fc2Weight { get; }

    public float[] Fc2Bias { get; }

    /// <summary>Runs <paramref name="epochs"/> passes over the samples in a shuffled order; returns the last epoch's mean loss.</summary>
    public double Train(float[] features, int[] labels, int epochs, float learningRate, float momentum, int batchSize, int seed)
    {
        int samples = labels.Length;
        var random = new Random(seed);
        var order = new int[samples];
        for (int i = 0; i < samples; i++)
        {
            order[i] = i;
        }

        var parameters = new[] { Fc1Weight, Fc1Bias, Fc2Weight, Fc2Bias };
        var gradients = Array.ConvertAll(parameters, p => new float[p.Length]);
        var velocities = Array.ConvertAll(parameters, p => new float[p.Length]);
        var z1 = new float[Hidden];
        var h = new float[Hidden];
        var z2 = new float[Classes];
        var dh = new float[Hidden];
        double loss = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            loss = 0;
            for (int start = 0; start < samples; start += batchSize)
            {
                int count = Math.Min(batchSize, samples - start);
                foreach (var g in gradients)
                {
                    Array.Clear(g);
                }

                for (int b = 0; b < count; b++)
                {
                    int s = order[start + b];
                    var f = features.AsSpan(s * Features, Features);
                    Forward(f, z1, h, z2);

                    // Softmax cross-entropy: ∂loss/∂z2 = softmax(z2) − onehot(label).
                    TensorPrimitives.SoftMax(z2, z2);
                    loss -= Math.Log(Math.Max(z2[labels[s]], 1e-30f));
                    z2[labels[s]] -= 1f;

                    dh.AsSpan().Clear();
                    for (int k = 0; k < Classes; k++)
                    {
                        gradients[3][k] += z2[k];
                        TensorPrimitives.MultiplyAdd(h, z2[k], gradients[2].AsSpan(k * Hidden, Hidden), gradients[2].AsSpan(k * Hidden, Hidden));
                        TensorPrimitives.MultiplyAdd(Fc2Weight.AsSpan(k * Hidden, Hidden), z2[k], dh, dh);
                    }

                    for (int j = 0; j < Hidden; j++)
                    {
                        if (z1[j] > 0f)
                        {
                            gradients[1][j] += dh[j];
                            TensorPrimitives.MultiplyAdd(f, dh[j], gradients[0].AsSpan(j * Features, Features), gradients[0].AsSpan(j * Features, Features));
                        }
                    }
                }

                for (int p = 0; p < parameters.Length; p++)
                {
                    // v ← μ·v − lr·g/count, θ ← θ + v
                    TensorPrimitives.Multiply(velocities[p], momentum, velocities[p]);
                    TensorPrimitives.MultiplyAdd(gradients[p], -learningRate / count, velocities[p], velocities[p]);
                    TensorPrimitives.Add(parameters[p], velocities[p], parameters[p]);
                }
            }

            loss /= samples;
        }

        return loss;
    }

    private void Forward(ReadOnlySpan<float> f, Span<float> z1, Span<float> h, Span<float> z2)
    {
        for (int j = 0; j < Hidden; j++)
        {
            z1[j] = Fc1Bias[j] + TensorPrimitives.Dot(Fc1Weight.AsSpan(j * Features, Features), f);
            h[j] = Math.Max(z1[j], 0f);
        }

        for (int k = 0; k < Classes; k++)
        {
            z2[k] = Fc2Bias[k] + TensorPrimitives.Dot(Fc2Weight.AsSpan(k * Hidden, Hidden), h);
        }
    }
}
