using ILGPU;

namespace NigGen.Gpu.Device;

/// <summary>Geometry of a pooling layer with the derived sizes the kernels index by.</summary>
internal struct PoolShape
{
    public int Channels;
    public int InHeight;
    public int InWidth;
    public int OutHeight;
    public int OutWidth;
    public int SizeHeight;
    public int SizeWidth;
    public int StrideHeight;
    public int StrideWidth;
    public int InLength;
    public int OutLength;

    public static PoolShape From(in NigGen.Kernels.PoolGeometry g) => new()
    {
        Channels = g.Channels,
        InHeight = g.InHeight,
        InWidth = g.InWidth,
        OutHeight = g.OutHeight,
        OutWidth = g.OutWidth,
        SizeHeight = g.SizeHeight,
        SizeWidth = g.SizeWidth,
        StrideHeight = g.StrideHeight,
        StrideWidth = g.StrideWidth,
        InLength = g.InputLength,
        OutLength = g.OutputLength,
    };
}

/// <summary>Which rows of a path pass belong to which sample and point: rows are (sample, point), points fastest.</summary>
internal struct PathRows
{
    /// <summary>The pass's first sample within the call's batch.</summary>
    public int FirstSample;

    /// <summary>Points of each sample in this pass.</summary>
    public int Points;

    /// <summary>The pass's first point, an index into the call's alphas.</summary>
    public int FirstPoint;
}

/// <summary>
/// The element-wise kernels, one thread per output element (implicitly grouped, so any group size works): pooling
/// and its gradients, activation gradients, interpolation along the path, the output seed and the sums over points.
/// Each gathers what it needs, so no kernel needs atomics and every sum runs in a fixed order.
/// </summary>
internal static class ElementwiseKernels
{
    /// <summary>Max pooling; ties keep the first maximum in row-major window order, a NaN wins (PyTorch's rule).</summary>
    public static void MaxPoolForward(Index1D index, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax, PoolShape g, int keepArgmax)
    {
        int row = index / g.OutLength;
        int o = index - row * g.OutLength;
        int plane = g.OutHeight * g.OutWidth;
        int channel = o / plane;
        int position = o - channel * plane;
        int oy = position / g.OutWidth;
        int ox = position - oy * g.OutWidth;
        int start = channel * g.InHeight * g.InWidth + oy * g.StrideHeight * g.InWidth + ox * g.StrideWidth;
        int sample = row * g.InLength;
        float max = float.NegativeInfinity;
        int best = start;
        for (int dy = 0; dy < g.SizeHeight; dy++)
        {
            int windowRow = start + dy * g.InWidth;
            for (int dx = 0; dx < g.SizeWidth; dx++)
            {
                float v = input[sample + windowRow + dx];
                if (v > max || float.IsNaN(v))
                {
                    max = v;
                    best = windowRow + dx;
                }
            }
        }

        output[index] = max;
        if (keepArgmax != 0)
        {
            argmax[index] = best;
        }
    }

    /// <summary>Max pooling's input gradient: each input element sums, in output order, the windows that chose it.</summary>
    public static void MaxPoolBackward(Index1D index, ArrayView<float> outputGradient, ArrayView<int> argmax, ArrayView<float> inputGradient, PoolShape g)
    {
        int row = index / g.InLength;
        int i = index - row * g.InLength;
        int inPlane = g.InHeight * g.InWidth;
        int channel = i / inPlane;
        int position = i - channel * inPlane;
        int y = position / g.InWidth;
        int x = position - y * g.InWidth;
        int outBase = row * g.OutLength + channel * g.OutHeight * g.OutWidth;
        float sum = 0f;
        for (int oy = FirstWindow(y, g.SizeHeight, g.StrideHeight); oy <= y / g.StrideHeight && oy < g.OutHeight; oy++)
        {
            for (int ox = FirstWindow(x, g.SizeWidth, g.StrideWidth); ox <= x / g.StrideWidth && ox < g.OutWidth; ox++)
            {
                int o = outBase + oy * g.OutWidth + ox;
                if (argmax[o] == i)
                {
                    sum += outputGradient[o];
                }
            }
        }

        inputGradient[index] = sum;
    }

    /// <summary>Average pooling: the window's sum in row-major order, divided by the window size.</summary>
    public static void AvgPoolForward(Index1D index, ArrayView<float> input, ArrayView<float> output, PoolShape g)
    {
        int row = index / g.OutLength;
        int o = index - row * g.OutLength;
        int plane = g.OutHeight * g.OutWidth;
        int channel = o / plane;
        int position = o - channel * plane;
        int oy = position / g.OutWidth;
        int ox = position - oy * g.OutWidth;
        int start = row * g.InLength + channel * g.InHeight * g.InWidth + oy * g.StrideHeight * g.InWidth + ox * g.StrideWidth;
        float sum = 0f;
        for (int dy = 0; dy < g.SizeHeight; dy++)
        {
            for (int dx = 0; dx < g.SizeWidth; dx++)
            {
                sum += input[start + dy * g.InWidth + dx];
            }
        }

        output[index] = sum / (g.SizeHeight * g.SizeWidth);
    }

    /// <summary>Average pooling's input gradient: the sum of gradient / window size over the windows holding the element.</summary>
    public static void AvgPoolBackward(Index1D index, ArrayView<float> outputGradient, ArrayView<float> inputGradient, PoolShape g)
    {
        int row = index / g.InLength;
        int i = index - row * g.InLength;
        int inPlane = g.InHeight * g.InWidth;
        int channel = i / inPlane;
        int position = i - channel * inPlane;
        int y = position / g.InWidth;
        int x = position - y * g.InWidth;
        int outBase = row * g.OutLength + channel * g.OutHeight * g.OutWidth;
        float divisor = g.SizeHeight * g.SizeWidth;
        float sum = 0f;
        for (int oy = FirstWindow(y, g.SizeHeight, g.StrideHeight); oy <= y / g.StrideHeight && oy < g.OutHeight; oy++)
        {
            for (int ox = FirstWindow(x, g.SizeWidth, g.StrideWidth); ox <= x / g.StrideWidth && ox < g.OutWidth; ox++)
            {
                sum += outputGradient[outBase + oy * g.OutWidth + ox] / divisor;
            }
        }

        inputGradient[index] = sum;
    }

    // The first window (along one axis) that holds coordinate c: the smallest o with o·stride + size > c.
    private static int FirstWindow(int c, int size, int stride)
    {
        int first = c - size + 1;
        return first <= 0 ? 0 : (first + stride - 1) / stride;
    }

    /// <summary>preGradient = f'(pre)·postGradient for the activation <paramref name="kind"/>.</summary>
    public static void ActivationBackward(Index1D index, ArrayView<float> pre, ArrayView<float> post, ArrayView<float> postGradient, ArrayView<float> preGradient, int kind) =>
        preGradient[index] = ActivationMath.Backward(kind, pre[index], post[index], postGradient[index]);

    /// <summary>
    /// Rows of the pass's interpolated tensor: x' + α·(x − x'), from the endpoints laid out per sample as
    /// [value at the input, value at the baseline], each <paramref name="length"/> floats. Writes pre and, through
    /// the activation, post (the same view when there is no activation).
    /// </summary>
    public static void Interpolate(Index1D index, ArrayView<float> endpoints, ArrayView<double> alphas, ArrayView<float> pre, ArrayView<float> post, PathRows rows, int length, int activation)
    {
        int row = index / length;
        int j = index - row * length;
        int sample = row / rows.Points;
        int point = row - sample * rows.Points;
        int at = (rows.FirstSample + sample) * 2 * length + j;
        float start = endpoints[at + length];
        float difference = endpoints[at] - start;
        float value = difference * (float)alphas[rows.FirstPoint + point] + start;
        if (activation == ActivationMath.None)
        {
            post[index] = value;
        }
        else
        {
            pre[index] = value;
            post[index] = ActivationMath.Forward(activation, value);
        }
    }

    /// <summary>
    /// <see cref="Interpolate"/>, the activation and the pooling above it in one pass, for paths whose backward pass
    /// stops above the pooling: each pooled output interpolates its window from the endpoints, so the affine layer's
    /// values (the largest tensor of a convolutional network) are never written. <paramref name="max"/> selects max
    /// pooling (first maximum, as <see cref="MaxPoolForward"/>) or average pooling.
    /// </summary>
    public static void InterpolatePool(Index1D index, ArrayView<float> endpoints, ArrayView<double> alphas, ArrayView<float> output, PathRows rows, PoolShape g, int activation, int max)
    {
        int row = index / g.OutLength;
        int o = index - row * g.OutLength;
        int plane = g.OutHeight * g.OutWidth;
        int channel = o / plane;
        int position = o - channel * plane;
        int oy = position / g.OutWidth;
        int ox = position - oy * g.OutWidth;
        int start = channel * g.InHeight * g.InWidth + oy * g.StrideHeight * g.InWidth + ox * g.StrideWidth;
        int sample = row / rows.Points;
        int point = row - sample * rows.Points;
        float alpha = (float)alphas[rows.FirstPoint + point];
        int at = (rows.FirstSample + sample) * 2 * g.InLength;
        float best = float.NegativeInfinity;
        float sum = 0f;
        for (int dy = 0; dy < g.SizeHeight; dy++)
        {
            for (int dx = 0; dx < g.SizeWidth; dx++)
            {
                int j = at + start + dy * g.InWidth + dx;
                float baseline = endpoints[j + g.InLength];
                float value = ActivationMath.Forward(activation, (endpoints[j] - baseline) * alpha + baseline);
                if (value > best || float.IsNaN(value))
                {
                    best = value;
                }

                sum += value;
            }
        }

        output[index] = max != 0 ? best : sum / (g.SizeHeight * g.SizeWidth);
    }

    /// <summary>The output gradient that starts the backward pass: 1 at each row's target, 0 elsewhere.</summary>
    public static void SeedOutputGradient(Index1D index, ArrayView<float> outputGradient, ArrayView<int> targets, PathRows rows, int outputLength)
    {
        int row = index / outputLength;
        int o = index - row * outputLength;
        int sample = rows.FirstSample + row / rows.Points;
        outputGradient[index] = o == targets[sample] ? 1f : 0f;
    }

    /// <summary>
    /// Neuron Integrated Gradients' sum for one attribute layer: for each sample of the pass and neuron j,
    /// Σ_p g[p, j]·(v[p+1, j] − v[p, j]) over the pass's intervals (each product in float, as the CPU path, summed
    /// in double), added to the sample's importance at <paramref name="offset"/> + j.
    /// </summary>
    public static void AccumulatePathProducts(Index1D index, ArrayView<float> gradients, ArrayView<float> values, ArrayView<double> importances, PathRows rows, int length, int offset, int importanceLength)
    {
        int sample = index / length;
        int j = index - sample * length;
        int first = sample * rows.Points * length + j;
        double sum = 0.0;
        for (int p = 0; p + 1 < rows.Points; p++)
        {
            int at = first + p * length;
            float left = values[at];
            float product = gradients[at] * (values[at + length] - left);
            sum += product;
        }

        importances[(rows.FirstSample + sample) * importanceLength + offset + j] += sum;
    }

    /// <summary>
    /// Per sample: the importances as floats, and the completeness delta Σ importance − (F(x) − F(x')) of the
    /// attribute layer where it is largest in magnitude (the CPU path's rule), from the endpoint outputs.
    /// </summary>
    public static void NeuronDeltas(Index1D sample, ArrayView<double> importances, ArrayView<float> results, ArrayView<float> deltas, ArrayView<float> endpointOutputs, ArrayView<int> targets, ArrayView<int> layerBounds, int layers, int importanceLength, int outputLength)
    {
        int target = targets[sample];
        float expected = endpointOutputs[sample * 2 * outputLength + target] - endpointOutputs[(sample * 2 + 1) * outputLength + target];
        float worst = 0f;
        for (int l = 0; l < layers; l++)
        {
            int start = layerBounds[l];
            int end = layerBounds[l + 1];
            float sum = 0f;
            for (int j = start; j < end; j++)
            {
                float value = (float)importances[sample * importanceLength + j];
                results[sample * importanceLength + j] = value;
                sum += value;
            }

            float delta = sum - expected;
            if (XMathAbs(delta) >= XMathAbs(worst) || float.IsNaN(delta))
            {
                worst = delta;
            }
        }

        deltas[sample] = worst;
    }

    /// <summary>Integrated gradients' sum: sums[i] += Σ_p step_p·g[p, i] over the pass's points (in double, as the CPU path).</summary>
    public static void AccumulateWeightedGradients(Index1D i, ArrayView<float> gradients, ArrayView<double> stepSizes, ArrayView<double> sums, PathRows rows, int length)
    {
        double sum = sums[i];
        for (int p = 0; p < rows.Points; p++)
        {
            sum += stepSizes[rows.FirstPoint + p] * gradients[p * length + i];
        }

        sums[i] = sum;
    }

    /// <summary>Integrated gradients' result: attribution[i] = (x_i − x'_i)·sums[i].</summary>
    public static void ScaleByDifference(Index1D i, ArrayView<float> endpoints, ArrayView<double> sums, ArrayView<float> attribution, int length)
    {
        float difference = endpoints[i] - endpoints[length + i];
        attribution[i] = (float)(difference * sums[i]);
    }

    /// <summary>Integrated gradients' completeness delta (one thread): Σ attribution − (F(x) − F(x')), summed in double.</summary>
    public static void AttributionDelta(Index1D index, ArrayView<float> attribution, ArrayView<float> endpointOutputs, ArrayView<int> targets, ArrayView<float> delta, int length, int outputLength)
    {
        double total = 0.0;
        for (int i = 0; i < length; i++)
        {
            total += attribution[i];
        }

        int target = targets[0];
        delta[index] = (float)total - (endpointOutputs[target] - endpointOutputs[outputLength + target]);
    }

    private static float XMathAbs(float x) => x < 0f ? -x : x;
}
