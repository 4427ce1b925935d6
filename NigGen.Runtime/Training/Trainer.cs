using System;
using System.Collections.Generic;
using System.ComponentModel;
using NigGen.Attribution;

namespace NigGen.Training;

/// <summary>
/// Trains a generated network in place with Adam: <see cref="Step"/> runs a batch forward, computes the loss and its
/// gradient with respect to every Dense and Conv parameter (the generated backward pass), then updates the parameters.
/// Create one with the network's <c>CreateTrainer</c>.
/// </summary>
/// <remarks>
/// Single-threaded and deterministic: the same network, data and options give bitwise the same parameters on the same
/// machine, whatever the batch's split into blocks. A trainer is not thread-safe, and while it steps, no other thread
/// may use its network. Adam's state (two moments per parameter and the step count) lives in the trainer; a new trainer
/// starts from zero moments.
/// </remarks>
public sealed class Trainer
{
    // Probabilities computed in float and normalised still sum to 1 within a few ulps per class; 1e-3 admits any such row
    // while catching multi-hot rows and class indices.
    private const double SumTolerance = 1e-3;

    private readonly TrainingPass _pass;
    private readonly LayerGradients[] _layers;
    private readonly Moments[] _moments;
    private float _learningRate;

    /// <summary>Creates a trainer over a generated network's training pass (called by the generated <c>CreateTrainer</c>).</summary>
    /// <exception cref="ArgumentException">An option is out of its range.</exception>
    /// <exception cref="InvalidOperationException">The network's head applies an activation, so its output is not logits.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Trainer(TrainingPass pass, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (pass.HeadActivation != Activation.None)
        {
            string function = options.Loss == TrainingLoss.SoftmaxCrossEntropy ? "softmax" : "sigmoid";
            throw new InvalidOperationException(
                $"{pass.Description.Name} cannot be trained with TrainingLoss.{options.Loss}: its head layer '{pass.HeadName}' applies " +
                $"{pass.HeadActivation}, but the loss reads the network's output as logits (it applies the {function} itself), so it would be " +
                $"computed on {pass.HeadActivation}(logits) and train a different function. Declare '{pass.HeadName}' with Activation.None " +
                $"and apply the {function} to Forward's output when you need probabilities.");
        }

        _pass = pass;
        Options = options;
        _learningRate = options.LearningRate;
        _layers = [.. pass.Layers];
        _moments = Array.ConvertAll(_layers, l => new Moments(l.Layer));
    }

    /// <summary>The options the trainer was created with.</summary>
    public TrainingOptions Options { get; }

    /// <summary>Adam's step size for the next steps (a schedule may change it between steps); starts at <see cref="TrainingOptions.LearningRate"/>.</summary>
    /// <exception cref="ArgumentException">The value is negative, NaN or infinite.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0f) || float.IsPositiveInfinity(value))
            {
                throw new ArgumentException($"LearningRate is {value}, but it must be finite and ≥ 0.", nameof(value));
            }

            _learningRate = value;
        }
    }

    /// <summary>Adam steps applied so far (PyTorch's <c>step</c>, which the bias corrections use).</summary>
    public long StepCount { get; private set; }

    /// <summary>Every Dense and Conv layer's gradients from the last <see cref="Step"/> or <see cref="ComputeGradients"/>, in declaration order.</summary>
    public IReadOnlyList<LayerGradients> Gradients => _layers;

    /// <summary>
    /// One training step: the mean loss over the batch with the current parameters, then one Adam update of every
    /// parameter of the network, in place. <paramref name="inputs"/> holds batch × InputLength floats,
    /// <paramref name="targets"/> batch × OutputLength (class probabilities, one-hot for hard labels, for
    /// <see cref="TrainingLoss.SoftmaxCrossEntropy"/>; values in [0, 1] for <see cref="TrainingLoss.SigmoidCrossEntropy"/>).
    /// Any batch size works: it runs in blocks the workspace holds, and the gradients add up over them.
    /// </summary>
    /// <returns>The mean loss over the batch before the update.</returns>
    /// <exception cref="ArgumentException">A length does not match, the batch is empty, an input is not finite, or a target is outside what the loss accepts.</exception>
    /// <exception cref="InvalidOperationException">The loss or a gradient is not finite (non-finite weights, or logits that overflow); the parameters are left unchanged.</exception>
    public float Step(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        float loss = ComputeGradients(inputs, targets);
        RequireFiniteGradients(loss);
        StepCount++;
        var step = new AdamStep(_learningRate, Options, StepCount);
        for (int l = 0; l < _layers.Length; l++)
        {
            // The update runs in the gradient's layout (Adam is element-wise, so the layout does not change the numbers),
            // then the layer rewrites its other layout from it.
            var gradients = _layers[l];
            var layer = gradients.Layer;
            var moments = _moments[l];
            var weight = gradients.IsTransposed ? layer.MutableWeightTransposed : layer.MutableWeight;
            Adam.Update(weight, gradients.WeightAccumulator, moments.WeightFirst, moments.WeightSecond, step);
            Adam.Update(layer.MutableBias, gradients.BiasAccumulator, moments.BiasFirst, moments.BiasSecond, step);
            layer.SynchroniseWeight(fromTransposed: gradients.IsTransposed);
        }

        _pass.AfterUpdate();
        return loss;
    }

    /// <summary>
    /// The mean loss over the batch with the current parameters, in evaluation mode: on the outputs <c>Forward</c> gives,
    /// BatchNorm with its running statistics and Dropout the identity (<see cref="Step"/> and
    /// <see cref="ComputeGradients"/> return training mode's loss, with batch statistics and masks). Nothing changes.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Step"/>.</exception>
    public float Loss(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets) => Run(inputs, targets, backward: false);

    /// <summary>
    /// The mean loss over the batch, leaving the gradient of that mean with respect to every parameter in
    /// <see cref="Gradients"/>; the parameters do not change. <see cref="Step"/> is this followed by the Adam update.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Step"/>.</exception>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets) => Run(inputs, targets, backward: true);

    private float Run(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, bool backward)
    {
        var description = _pass.Description;
        int batch = RequireBatch(inputs, targets);
        int outputs = description.OutputLength;

        // Both losses are means: over samples (softmax) or over samples × outputs (sigmoid).
        bool softmax = Options.Loss == TrainingLoss.SoftmaxCrossEntropy;
        double count = softmax ? batch : (double)batch * outputs;
        double scale = 1 / count;
        if (backward)
        {
            foreach (var layer in _layers)
            {
                layer.Clear();
            }
        }

        // BatchNorm's batch statistics cover the whole batch: a training pass then runs it in one block.
        int block = _pass.Capacity;
        if (backward && _pass.WholeBatch)
        {
            _pass.Reserve(batch);
            block = batch;
        }

        var ws = _pass.Workspace;
        double total = 0;
        for (int start = 0; start < batch; start += block)
        {
            int samples = Math.Min(block, batch - start);
            inputs.Slice(start * description.InputLength, samples * description.InputLength).CopyTo(ws.Inputs);
            if (backward)
            {
                _pass.TrainingForward(samples, StepCount, start);
            }
            else
            {
                ws.Forward(samples);
            }

            var logits = ws.Outputs(samples);
            var blockTargets = targets.Slice(start * outputs, samples * outputs);
            var gradient = backward ? ws.OutputGradients(samples) : Span<float>.Empty;
            total += softmax
                ? LossFunctions.SoftmaxCrossEntropy(logits, blockTargets, gradient, outputs, scale)
                : LossFunctions.SigmoidCrossEntropy(logits, blockTargets, gradient, scale);
            if (backward)
            {
                _pass.Backward(samples);
            }
        }

        return (float)(total / count);
    }

    private void RequireFiniteGradients(float loss)
    {
        string? problem = float.IsFinite(loss) ? null : $"the loss is {FiniteValues.Describe(loss)}";
        foreach (var layer in _layers)
        {
            problem ??= layer.DescribeNonFinite();
        }

        if (problem is not null)
        {
            throw new InvalidOperationException(
                $"{_pass.Description.Name}: {problem}, so the step was not applied and the parameters are unchanged. A finite batch gives a " +
                "non-finite loss or gradient only when the weights are not finite (loaded with AllowNonFiniteWeights, or diverged) or the " +
                "logits overflow float; lower the learning rate or check the weights.");
        }
    }

    // Every check before any work, with messages that name the argument, the sample and the rule.
    private int RequireBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        var description = _pass.Description;
        int batch = description.SampleCount(inputs.Length, nameof(inputs));
        if (batch == 0)
        {
            throw new ArgumentException($"inputs holds no samples: the loss is a mean over the batch, which needs at least one sample of InputLength = {description.InputLength}.", nameof(inputs));
        }

        int outputs = description.OutputLength;
        if (targets.Length != (long)batch * outputs)
        {
            throw new ArgumentException($"targets has {targets.Length} floats, but {batch} input sample(s) need batch × OutputLength = {batch} × {outputs} = {(long)batch * outputs}.", nameof(targets));
        }

        description.RequireFinite(inputs, nameof(inputs));
        bool softmax = Options.Loss == TrainingLoss.SoftmaxCrossEntropy;
        for (int s = 0; s < batch; s++)
        {
            var row = targets.Slice(s * outputs, outputs);
            double sum = 0;
            for (int o = 0; o < outputs; o++)
            {
                float t = row[o];
                if (!(t >= 0f && t <= 1f))
                {
                    string what = float.IsFinite(t) ? t.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : FiniteValues.Describe(t);
                    string rule = softmax
                        ? "TrainingLoss.SoftmaxCrossEntropy takes class probabilities in [0, 1] (one-hot for hard labels)"
                        : "TrainingLoss.SigmoidCrossEntropy takes a label in [0, 1] per output (0 or 1 for hard labels)";
                    throw new ArgumentException($"targets[{s * outputs + o}] (sample {s}, output {o}) is {what}: {rule}.", nameof(targets));
                }

                sum += t;
            }

            if (softmax && Math.Abs(sum - 1) > SumTolerance)
            {
                throw new ArgumentException(
                    $"targets row {s} sums to {sum:G6}: TrainingLoss.SoftmaxCrossEntropy takes one probability distribution per sample " +
                    "(one-hot for hard labels), which sums to 1. For several independent labels per sample use TrainingLoss.SigmoidCrossEntropy.",
                    nameof(targets));
            }
        }

        return batch;
    }

    // Adam's running means of one layer's gradients and squared gradients, in the layout of its gradients.
    private sealed class Moments(Layer layer)
    {
        public readonly float[] WeightFirst = new float[layer.Weight.Length];
        public readonly float[] WeightSecond = new float[layer.Weight.Length];
        public readonly float[] BiasFirst = new float[layer.Bias.Length];
        public readonly float[] BiasSecond = new float[layer.Bias.Length];
    }
}
