using System;
using System.IO;
using System.Linq;
using NigGen.Tests.Networks;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Numerics;

/// <summary>DeepLIFT against Captum's published case, hand calculations, a double-precision reference and summation to delta.</summary>
public sealed class DeepLiftTests
{
    private static readonly DeepLiftRule[] Rules = Enum.GetValues<DeepLiftRule>();

    public static TheoryData<string, DeepLiftRule> NetworksAndRules()
    {
        var data = new TheoryData<string, DeepLiftRule>();
        foreach (string name in ((System.Collections.Generic.IEnumerable<object[]>)Subjects.All).Select(row => (string)row[0]).Concat([nameof(LinearNet), nameof(ConvActivationsNet)]))
        {
            foreach (var rule in Rules)
            {
                data.Add(name, rule);
            }
        }

        return data;
    }

    public static TheoryData<string, DeepLiftRule> DenseNetworksAndRules()
    {
        var data = new TheoryData<string, DeepLiftRule>();
        foreach (string name in new[] { nameof(DenseActivationsNet), nameof(SmallMlp) })
        {
            foreach (var rule in Rules)
            {
                data.Add(name, rule);
            }
        }

        return data;
    }

    /// <summary>Subjects.ByName, plus the networks declared for DeepLIFT.</summary>
    internal static Subject SubjectByName(string name) => name switch
    {
        nameof(LinearNet) => Linear(),
        nameof(ConvActivationsNet) => ConvActivations(),
        _ => Subjects.ByName(name),
    };

    internal static Subject Linear()
    {
        var reference = new ReferenceNetwork([2, 6, 5], 21,
            new RefConv("conv", 3, Kernel: 2, Padding: 1),
            new RefAvgPool("pool", 2),
            new RefFlatten("flat"),
            new RefDense("fc1", 5),
            new RefDense("fc2", 2));
        return new Subject(nameof(LinearNet), reference, LinearNet.Load(reference.ToSafetensors()));
    }

    internal static Subject ConvActivations()
    {
        var reference = new ReferenceNetwork([2, 7, 7], 22,
            new RefConv("conv1", 3, Kernel: 3, Activation: Activation.Relu),
            new RefConv("conv2", 4, Kernel: 2, Stride: 2, Activation: Activation.Tanh),
            new RefFlatten("flat"),
            new RefDense("fc", 3));
        return new Subject(nameof(ConvActivationsNet), reference, ConvActivationsNet.Load(reference.ToSafetensors()));
    }

    /// <summary>
    /// Captum's ReLUDeepLift: F = 2·relu(x1) + 2·relu(x2 − 1.5), x = (1, 2), x' = 0. Rescale: the ReLUs move by (1, 0.5)
    /// for input moves (1, 2), multipliers 2·(1/1, 0.5/2) = (2, 0.5), attributions (2·1, 0.5·2) = (2, 1), delta 0. Each ReLU
    /// sees one input, so RevealCancel agrees; the ReLUs' own importances are 2·Δrelu = (2, 1) as well.
    /// </summary>
    [Fact]
    public void Captums_ReLUDeepLift_case()
    {
        var network = CaptumReluDeepLift.Load(Weights(
            ("relus.weight", [2, 2], [1, 0, 0, 1]),
            ("relus.bias", [2], [0, -1.5f]),
            ("output.weight", [1, 2], [2, 2])));
        foreach (var rule in Rules)
        {
            var attribution = new float[2];
            float delta = network.DeepLiftInputs([1, 2], [0, 0], 0, attribution, rule);
            Assert.Equal([2f, 1f], attribution);
            Assert.Equal(0f, delta);

            var importance = new float[CaptumReluDeepLift.ImportanceLength];
            Assert.Equal(0f, network.DeepLift([1, 2], [0, 0], 0, importance, rule));
            Assert.Equal([2f, 1f], importance);
        }
    }

    /// <summary>
    /// y = relu(h1 + h2 − h3 + 0.5) with h = x (an identity layer, scored).
    /// x = (2, 1, 2), x' = (0, 2, 0): Δh = (2, −1, 2), terms w·Δh = (2, −1, −2), so Δx⁺ = 2, Δx⁻ = −3; z' = 2.5, z = 1.5, Δy = −1.
    ///   Rescale: m = Δy/Δz = 1, importance = w·m·Δh = (2, −1, −2).
    ///   RevealCancel: Δy⁺ = ½[relu(4.5) − relu(2.5)] + ½[relu(1.5) − relu(−0.5)] = 1 + 0.75 = 1.75, m⁺ = 1.75/2 = 0.875;
    ///     Δy⁻ = ½[relu(−0.5) − relu(2.5)] + ½[relu(1.5) − relu(4.5)] = −1.25 − 1.5 = −2.75, m⁻ = −2.75/−3 = 11/12.
    ///     h1 (term +2) takes m⁺: 2·0.875 = 1.75; h2 (term −1) and h3 (term −2) take m⁻: −11/12 and −22/12. Sum −1 = Δy.
    /// x = (2, 1, 2), x' = 0: terms (2, 1, −2), Δx⁺ = 3, Δx⁻ = −2; z' = 0.5, z = 1.5, Δy = 1.
    ///   Rescale: m = 1, importance (2, 1, −2).
    ///   RevealCancel: Δy⁺ = ½[relu(3.5) − relu(0.5)] + ½[relu(1.5) − relu(−1.5)] = 1.5 + 0.75 = 2.25, m⁺ = 0.75;
    ///     Δy⁻ = ½[relu(−1.5) − relu(0.5)] + ½[relu(1.5) − relu(3.5)] = −0.25 − 1 = −1.25, m⁻ = 0.625;
    ///     importance (2·0.75, 1·0.75, −2·0.625) = (1.5, 0.75, −1.25). Sum 1 = Δy.
    /// GenomicsDefault is RevealCancel here (the ReLU follows a Dense layer); inputs get the same numbers through the identity.
    /// </summary>
    [Theory]
    [InlineData(new[] { 0f, 2f, 0f }, new[] { 2f, -1f, -2f }, new[] { 1.75, -11.0 / 12, -22.0 / 12 })]
    [InlineData(new[] { 0f, 0f, 0f }, new[] { 2f, 1f, -2f }, new[] { 1.5, 0.75, -1.25 })]
    public void RevealCancel_by_hand(float[] baseline, float[] rescale, double[] revealCancel)
    {
        var network = RevealCancelNet.Load(Weights(
            ("h.weight", [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]),
            ("y.weight", [1, 3], [1, 1, -1]),
            ("y.bias", [1], [0.5f])));
        float[] input = [2, 1, 2];
        foreach (var rule in Rules)
        {
            double[] expected = rule == DeepLiftRule.Rescale ? rescale.Select(v => (double)v).ToArray() : revealCancel;
            var importance = new float[3];
            float delta = network.DeepLift(input, baseline, 0, importance, rule);
            AssertNear(expected, importance, 1e-6, $"{rule} importance");
            Assert.True(Math.Abs(delta) < 1e-6, $"{rule} delta {delta}");

            var attribution = new float[3];
            network.DeepLiftInputs(input, baseline, 0, attribution, rule);
            AssertNear(expected, attribution, 1e-6, $"{rule} inputs");
        }
    }

    /// <summary>
    /// Captum's max-pool rule on pairs, F = max(x1, x2) + max(x3, x4), x = (1, 3, 4, 2), x' = (5, 0, 1, 3).
    /// Window 1: out = 3 (at x2), out' = 5 (at x1), xmax = 5: x2 receives 5 − 5 = 0, x1 receives out − xmax = −2.
    /// Window 2: out = 4 (at x3), out' = 3 (at x4), xmax = 4: x3 receives 4 − 3 = 1, x4 receives 4 − 4 = 0.
    /// Importance (−2, 0, 1, 0), summing to F(x) − F(x') = 7 − 8. Gradient × Δ would give (0, 3, 3, 0), summing to 6.
    /// </summary>
    [Fact]
    public void Max_pool_rule_by_hand()
    {
        var network = MaxPoolRuleNet.Load(Weights(("identity.weight", [1, 1, 1], [1]), ("sum.weight", [1, 2], [1, 1])));
        foreach (var rule in Rules)
        {
            var importance = new float[4];
            float delta = network.DeepLift([1, 3, 4, 2], [5, 0, 1, 3], 0, importance, rule);
            AssertNear([-2, 0, 1, 0], importance, 1e-6, $"{rule}");
            Assert.True(Math.Abs(delta) < 1e-6, $"{rule} delta {delta}");
        }

        // x' = (1, 0, 4, 3): x1 and x3 equal their baselines and take the gradient (Captum's fallback), contributing
        // nothing; x2 receives out − out' = 3 − 1 = 2, x4 receives xmax − out' = 4 − 4 = 0 from a window both maxima share.
        var same = new float[4];
        float sameDelta = network.DeepLift([1, 3, 4, 2], [1, 0, 4, 3], 0, same);
        AssertNear([0, 2, 0, 0], same, 1e-6, "equal elements");
        Assert.True(Math.Abs(sameDelta) < 1e-6, $"delta {sameDelta}");
    }

    /// <summary>Each output of a lone max pooling is its own attribute neuron; the inputs get Captum's max-pool rule.</summary>
    [Fact]
    public void A_lone_max_pooling()
    {
        var network = PoolOnlyNet.CreateRandom(seed: 1);
        var importance = new float[PoolOnlyNet.ImportanceLength];
        Assert.Equal(0f, network.DeepLift([1, 3, 4, 2], [5, 0, 1, 3], 1, importance));
        Assert.Equal([0f, 1f], importance);
        var attribution = new float[PoolOnlyNet.InputLength];
        network.DeepLiftInputs([1, 3, 4, 2], [5, 0, 1, 3], 0, attribution);
        AssertNear([-2, 0, 0, 0], attribution, 1e-6, "inputs");
    }

    [Theory]
    [MemberData(nameof(NetworksAndRules))]
    public void Importance_sums_to_the_output_difference_on_every_attribute_layer(string name, DeepLiftRule rule)
    {
        var subject = SubjectByName(name);
        var network = subject.Network;
        var description = network.Description;
        var importance = new float[description.ImportanceLength];
        for (int target = 0; target < description.OutputLength; target++)
        {
            var input = subject.RandomInput(seed: 50 + target);
            var baseline = subject.RandomInput(seed: 60 + target).Select(v => 0.3f * v).ToArray();
            double difference = OutputDifference(network, input, baseline, target);

            float delta = network.DeepLift(input, baseline, target, importance, rule);

            double largest = 0;
            foreach (var layer in description.AttributeLayers)
            {
                var slice = importance.AsSpan(layer.Offset, layer.Length).ToArray();
                double layerDelta = slice.Sum(v => (double)v) - difference;
                double scale = slice.Sum(v => Math.Abs((double)v)) + Math.Abs(difference);
                Assert.True(Math.Abs(layerDelta) <= 1e-5 * scale + 1e-7, $"{name} {rule} target {target} layer {layer.Name}: Σ importance − ΔF = {layerDelta:G3} (scale {scale:G3})");
                largest = Math.Max(largest, scale);
            }

            Assert.True(Math.Abs(delta) <= 1e-5 * largest + 1e-7, $"{name} {rule} target {target}: returned delta {delta:G3}");
        }
    }

    [Theory]
    [MemberData(nameof(NetworksAndRules))]
    public void Input_attributions_sum_to_the_output_difference(string name, DeepLiftRule rule)
    {
        var subject = SubjectByName(name);
        var network = subject.Network;
        var attribution = new float[network.Description.InputLength];
        for (int target = 0; target < network.Description.OutputLength; target++)
        {
            var input = subject.RandomInput(seed: 70 + target);
            var baseline = subject.RandomInput(seed: 80 + target).Select(v => 0.3f * v).ToArray();
            double difference = OutputDifference(network, input, baseline, target);

            float delta = network.DeepLiftInputs(input, baseline, target, attribution, rule);

            double sum = attribution.Sum(v => (double)v);
            double scale = attribution.Sum(v => Math.Abs((double)v)) + Math.Abs(difference);
            Assert.True(Math.Abs(sum - difference) <= 1e-5 * scale + 1e-7, $"{name} {rule} target {target}: Σ attribution − ΔF = {sum - difference:G3} (scale {scale:G3})");
            Assert.True(Math.Abs(delta) <= 1e-5 * scale + 1e-7, $"{name} {rule} target {target}: returned delta {delta:G3}");
        }
    }

    /// <summary>DeepLIFT in double precision on Dense-only networks, from the reference's hidden values and weights.</summary>
    [Theory]
    [MemberData(nameof(DenseNetworksAndRules))]
    public void Matches_a_double_precision_DeepLIFT_on_dense_networks(string name, DeepLiftRule rule)
    {
        var subject = Subjects.ByName(name);
        var description = subject.Network.Description;
        var input = subject.RandomInput(seed: 90);
        var baseline = subject.RandomInput(seed: 91).Select(v => 0.5f * v).ToArray();
        for (int target = 0; target < description.OutputLength; target++)
        {
            var (expectedImportance, expectedInputs) = DenseDeepLift.Run(subject.Reference, description, input, baseline, target, rule != DeepLiftRule.Rescale);

            var importance = new float[description.ImportanceLength];
            subject.Network.DeepLift(input, baseline, target, importance, rule);
            ForwardAndGradientTests.AssertClose(expectedImportance, importance, $"{name} {rule} target {target} importance", relative: 1e-4);

            var attribution = new float[input.Length];
            subject.Network.DeepLiftInputs(input, baseline, target, attribution, rule);
            ForwardAndGradientTests.AssertClose(expectedInputs, attribution, $"{name} {rule} target {target} inputs", relative: 1e-4);
        }
    }

    /// <summary>Without activations every multiplier is the (constant) gradient: DeepLIFT is gradient × Δ, and so is NIG.</summary>
    [Fact]
    public void On_a_linear_network_every_rule_is_gradient_times_difference()
    {
        var subject = Linear();
        var network = subject.Network;
        var input = subject.RandomInput(seed: 3);
        var baseline = subject.RandomInput(seed: 4);
        var gradient = new float[input.Length];
        network.InputGradient(input, 1, gradient);
        var expectedInputs = gradient.Select((g, i) => (double)g * (input[i] - baseline[i])).ToArray();

        // One trapezoid step is ∂F/∂h at the baseline × (h(x) − h(x')): exact for a linear network.
        var nig = new float[network.Description.ImportanceLength];
        network.NeuronIntegratedGradients(input, baseline, 1, nig, new AttributionOptions { Steps = 1 });

        foreach (var rule in Rules)
        {
            var attribution = new float[input.Length];
            network.DeepLiftInputs(input, baseline, 1, attribution, rule);
            ForwardAndGradientTests.AssertClose(expectedInputs, attribution, $"{rule} inputs", relative: 1e-5);

            var importance = new float[nig.Length];
            network.DeepLift(input, baseline, 1, importance, rule);
            ForwardAndGradientTests.AssertClose(nig.Select(v => (double)v).ToArray(), importance, $"{rule} neurons", relative: 1e-5);
        }
    }

    /// <summary>When only linear layers lie above the attribute layer its multipliers are the gradient, whatever the rule: DeepLIFT equals NIG.</summary>
    [Fact]
    public void Equals_neuron_integrated_gradients_when_the_layers_above_are_linear()
    {
        var subject = Subjects.SmallMlp();
        var input = subject.RandomInput(seed: 8);
        var baseline = new float[input.Length];
        var nig = new float[SmallMlp.ImportanceLength];
        subject.Network.NeuronIntegratedGradients(input, baseline, 2, nig);
        foreach (var rule in Rules)
        {
            var importance = new float[SmallMlp.ImportanceLength];
            subject.Network.DeepLift(input, baseline, 2, importance, rule);
            ForwardAndGradientTests.AssertClose(nig.Select(v => (double)v).ToArray(), importance, $"{rule}", relative: 1e-5);
        }
    }

    [Fact]
    public void Genomics_default_is_RevealCancel_after_dense_layers_and_Rescale_after_convolutions()
    {
        var dense = Subjects.SmallMlp();
        var conv = ConvActivations();
        Assert.Equal(Importance(dense, DeepLiftRule.RevealCancel), Importance(dense, DeepLiftRule.GenomicsDefault));
        Assert.NotEqual(Importance(dense, DeepLiftRule.Rescale), Importance(dense, DeepLiftRule.GenomicsDefault));
        Assert.Equal(Importance(conv, DeepLiftRule.Rescale), Importance(conv, DeepLiftRule.GenomicsDefault));
        Assert.NotEqual(Importance(conv, DeepLiftRule.RevealCancel), Importance(conv, DeepLiftRule.GenomicsDefault));

        static float[] Importance(Subject subject, DeepLiftRule rule)
        {
            var attribution = new float[subject.Reference.InputLength];
            subject.Network.DeepLiftInputs(subject.RandomInput(seed: 5), subject.RandomInput(seed: 6), 0, attribution, rule);
            return attribution;
        }
    }

    [Theory]
    [InlineData(DeepLiftRule.Rescale)]
    [InlineData(DeepLiftRule.RevealCancel)]
    public void Batched_calls_give_the_single_sample_results(DeepLiftRule rule)
    {
        var subject = Subjects.Conv2d();
        var network = subject.Network;
        const int samples = 3;
        int inputLength = subject.Reference.InputLength, length = network.Description.ImportanceLength;
        var inputs = subject.RandomInput(seed: 11, samples);
        var baselines = subject.RandomInput(seed: 12, samples);
        int[] targets = [0, 2, 1];

        foreach (bool shared in new[] { false, true })
        {
            var baselineSpan = shared ? baselines.AsSpan(0, inputLength).ToArray() : baselines;
            var importances = new float[samples * length];
            var attributions = new float[samples * inputLength];
            var deltas = new float[samples];
            var inputDeltas = new float[samples];
            network.DeepLift(inputs, baselineSpan, targets, importances, deltas, rule);
            network.DeepLiftInputs(inputs, baselineSpan, targets, attributions, inputDeltas, rule);
            for (int s = 0; s < samples; s++)
            {
                var baseline = shared ? baselineSpan : baselines.AsSpan(s * inputLength, inputLength).ToArray();
                var input = inputs.AsSpan(s * inputLength, inputLength).ToArray();
                var single = new float[length];
                Assert.Equal(network.DeepLift(input, baseline, targets[s], single, rule), deltas[s]);
                Assert.Equal(single, importances.AsSpan(s * length, length).ToArray());
                var singleInputs = new float[inputLength];
                Assert.Equal(network.DeepLiftInputs(input, baseline, targets[s], singleInputs, rule), inputDeltas[s]);
                Assert.Equal(singleInputs, attributions.AsSpan(s * inputLength, inputLength).ToArray());
            }
        }
    }

    [Fact]
    public void Allocates_nothing_once_warm()
    {
        var subject = Subjects.Conv2d();
        var network = subject.Network;
        var input = subject.RandomInput(seed: 1);
        var baseline = subject.RandomInput(seed: 2);
        var importance = new float[network.Description.ImportanceLength];
        var attribution = new float[input.Length];
        var output = new float[network.Description.OutputLength];
        int[] neurons = [0, 5, 9];

        void Run()
        {
            foreach (var rule in Rules)
            {
                network.DeepLift(input, baseline, 1, importance, rule);
                network.DeepLiftInputs(input, baseline, 1, attribution, rule);
            }

            network.GradientTimesActivation(input, 1, importance);
            network.Ablate(input, baseline, neurons, output);
        }

        Assert.Equal(0, SteadyStateAllocations.Measure(Run));
    }

    internal static double OutputDifference(IAttributedNetwork network, float[] input, float[] baseline, int target)
    {
        int outputs = network.Description.OutputLength;
        var output = new float[2 * outputs];
        network.Forward(input.Concat(baseline).ToArray(), output);
        return (double)output[target] - output[outputs + target];
    }

    internal static MemoryStream Weights(params (string Name, int[] Shape, float[] Data)[] tensors)
    {
        var writer = new SafetensorsWriter();
        foreach (var (name, shape, data) in tensors)
        {
            writer.Add(name, shape, data);
        }

        var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        return stream;
    }

    private static void AssertNear(double[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what} [{i}]: expected {expected[i]:G7}, got {actual[i]:G7}");
        }
    }

    /// <summary>
    /// DeepLIFT in double precision for networks of Dense layers, written from the rules' definitions: Rescale
    /// (gradient where |Δz| &lt; 1e-10) or RevealCancel (parts from the layer below, the sign rule through the weights).
    /// </summary>
    private static class DenseDeepLift
    {
        public static (double[] Importance, double[] Inputs) Run(ReferenceNetwork reference, NigGen.Attribution.NetworkDescription description, float[] input, float[] baseline, int target, bool revealCancel)
        {
            var x = input.Select(v => (double)v).ToArray();
            var x0 = baseline.Select(v => (double)v).ToArray();
            var layers = reference.Layers.Cast<RefDense>().ToArray();
            var importance = new double[description.ImportanceLength];
            var u = new double[layers[^1].Units];
            u[target] = 1;
            for (int i = layers.Length - 1; i >= 0; i--)
            {
                var layer = layers[i];
                var below = i == 0 ? x : reference.Hidden(x, i - 1, preActivation: false);
                var belowAtBaseline = i == 0 ? x0 : reference.Hidden(x0, i - 1, preActivation: false);
                var z = reference.Hidden(x, i, preActivation: true);
                var z0 = reference.Hidden(x0, i, preActivation: true);
                var weight = reference.Parameter(layer.Name + ".weight");
                int inputs = below.Length;
                var scored = description.AttributeLayers.FirstOrDefault(l => l.Name == layer.Name);
                if (scored is { PreActivation: false })
                {
                    for (int j = 0; j < u.Length; j++)
                    {
                        importance[scored.Offset + j] = u[j] * (Activate(layer, z[j]) - Activate(layer, z0[j]));
                    }
                }

                // Multipliers of the positive and negative terms of each pre-activation (equal under Rescale).
                var positive = new double[u.Length];
                var negative = new double[u.Length];
                for (int j = 0; j < u.Length; j++)
                {
                    double dz = z[j] - z0[j], dy = Activate(layer, z[j]) - Activate(layer, z0[j]);
                    if (layer.Activation == Activation.None)
                    {
                        positive[j] = negative[j] = u[j];
                    }
                    else if (!revealCancel)
                    {
                        positive[j] = negative[j] = u[j] * (Math.Abs(dz) < 1e-10 ? Derivative(layer, z[j]) : dy / dz);
                    }
                    else
                    {
                        double p = 0, q = 0;
                        for (int k = 0; k < inputs; k++)
                        {
                            double t = weight[j * inputs + k] * (below[k] - belowAtBaseline[k]);
                            p += Math.Max(t, 0);
                            q += Math.Min(t, 0);
                        }

                        double f0 = Activate(layer, z0[j]), fx = Activate(layer, z[j]);
                        double fp = Activate(layer, z0[j] + p), fq = Activate(layer, z0[j] + q);
                        positive[j] = u[j] * (Math.Abs(p) < 5e-8 ? 0.5 * (Derivative(layer, z0[j]) + Derivative(layer, z0[j] + q)) : 0.5 * ((fp - f0) + (fx - fq)) / p);
                        negative[j] = u[j] * (Math.Abs(q) < 5e-8 ? 0.5 * (Derivative(layer, z0[j]) + Derivative(layer, z0[j] + p)) : 0.5 * ((fq - f0) + (fx - fp)) / q);
                    }

                    if (scored is { PreActivation: true })
                    {
                        importance[scored.Offset + j] = revealCancel ? u[j] * dy : positive[j] * dz;
                    }
                }

                var next = new double[inputs];
                for (int k = 0; k < inputs; k++)
                {
                    double d = below[k] - belowAtBaseline[k];
                    double a = 0, b = 0;
                    for (int j = 0; j < u.Length; j++)
                    {
                        double w = weight[j * inputs + k];
                        a += w >= 0 ? w * positive[j] : w * negative[j];
                        b += w >= 0 ? w * negative[j] : w * positive[j];
                    }

                    next[k] = d > 0 ? a : d < 0 ? b : 0.5 * (a + b);
                }

                u = next;
            }

            return (importance, u.Select((m, k) => m * (x[k] - x0[k])).ToArray());
        }

        private static double Activate(RefDense layer, double z) => ReferenceNetwork.Activate(layer.Activation, z);

        private static double Derivative(RefDense layer, double z) => layer.Activation switch
        {
            Activation.Relu => z > 0 ? 1 : 0,
            Activation.LeakyRelu => z > 0 ? 1 : 0.01,
            Activation.Sigmoid => Activate(layer, z) * (1 - Activate(layer, z)),
            Activation.Tanh => 1 - Math.Tanh(z) * Math.Tanh(z),
            Activation.Softplus => z > 20 ? 1 : 1 / (1 + Math.Exp(-z)),
            Activation.Elu => z > 0 ? 1 : Math.Exp(z),
            _ => 1,
        };
    }
}
