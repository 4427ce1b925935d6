using System;
using System.IO;
using System.Linq;
using NigGen.Attribution;
using NigGen.Tests.Reference;
using NigGen.Weights;
using Xunit;

namespace NigGen.Tests.Graph;

/// <summary>
/// Every method on real architectures (Basset, a torchvision-named ResNet, a BPNet-style dilated residual net, an
/// Inception block with a depthwise conv) and on one small net per new layer kind, against PyTorch 1.13 and Captum 0.8
/// computed in float64 (scripts/reference/make_reference.py; the data is checked in under Reference/). Each network
/// loads its complete PyTorch state_dict as it is: dotted torchvision names through Weights, num_batches_tracked
/// included, no renaming and no AllowUnexpectedTensors.
/// </summary>
public sealed class PyTorchReferenceTests
{
    public static TheoryData<string> Models => new()
    {
        "basset_small", "resnet_small", "bpnet_small", "inception_small", "batchnorm_options", "dropout_gelu_silu",
        "pool_padding_1d", "pool_padding_2d", "global_pool_1d", "global_max_pool_2d", "dilated_grouped_1d", "dilated_grouped_2d",
    };

    private static IAttributedNetwork Load(string stem)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Reference", stem + ".weights.safetensors");
        return stem switch
        {
            "basset_small" => SmallBasset.Load(path),
            "resnet_small" => SmallResNet.Load(path),
            "bpnet_small" => SmallBpNet.Load(path),
            "inception_small" => SmallInception.Load(path),
            "batchnorm_options" => BatchNormOptionsNet.Load(path),
            "dropout_gelu_silu" => DropoutGeluSiluNet.Load(path),
            "pool_padding_1d" => PoolPadding1dNet.Load(path),
            "pool_padding_2d" => PoolPadding2dNet.Load(path),
            "global_pool_1d" => GlobalPool1dNet.Load(path),
            "global_max_pool_2d" => GlobalMaxPool2dNet.Load(path),
            "dilated_grouped_1d" => DilatedGrouped1dNet.Load(path),
            "dilated_grouped_2d" => DilatedGrouped2dNet.Load(path),
            _ => throw new ArgumentException(stem),
        };
    }

    private sealed class Case(string stem)
    {
        public IAttributedNetwork Net { get; } = Load(stem);

        public SafetensorsFile Reference { get; } = SafetensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Reference", stem + ".reference.safetensors"));

        public int Samples => Reference.ShapeOf("target")[0];

        public float[] Tensor(string name) => Reference.GetTensor(name, Reference.ShapeOf(name), 1);

        public float[] Sample(string name, int n)
        {
            var all = Tensor(name);
            int length = all.Length / Samples;
            return all.AsSpan(n * length, length).ToArray();
        }

        public int Target(int n) => (int)Tensor("target")[n];
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_and_input_gradient(string stem)
    {
        var c = new Case(stem);
        var d = c.Net.Description;
        var output = new float[c.Samples * d.OutputLength];
        c.Net.Forward(c.Tensor("input"), output);
        AssertClose(c.Tensor("forward"), output, $"{stem} forward");

        for (int n = 0; n < c.Samples; n++)
        {
            var gradient = new float[d.InputLength];
            c.Net.InputGradient(c.Sample("input", n), c.Target(n), gradient);
            AssertClose(c.Sample("input_gradient", n), gradient, $"{stem} input gradient, sample {n}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Neuron_integrated_gradients_is_captums_layer_conductance(string stem)
    {
        var c = new Case(stem);
        var d = c.Net.Description;
        foreach (var (rule, prefix) in new[] { (IntegrationRule.RiemannTrapezoid, "conductance."), (IntegrationRule.GaussLegendre, "conductance_gausslegendre.") })
        {
            for (int n = 0; n < c.Samples; n++)
            {
                var importance = new float[d.ImportanceLength];
                c.Net.NeuronIntegratedGradients(c.Sample("input", n), c.Sample("baseline", n), c.Target(n), importance, new AttributionOptions { Steps = 50, Rule = rule });
                foreach (var layer in d.AttributeLayers)
                {
                    AssertClose(c.Sample(prefix + layer.Name, n), importance.AsSpan(layer.Offset, layer.Length).ToArray(), $"{stem} {prefix}{layer.Name}, sample {n}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Integrated_gradients_and_neuron_conductance(string stem)
    {
        var c = new Case(stem);
        var d = c.Net.Description;
        var options = new AttributionOptions { Steps = 50, Rule = IntegrationRule.GaussLegendre };
        for (int n = 0; n < c.Samples; n++)
        {
            var attribution = new float[d.InputLength];
            c.Net.IntegratedGradients(c.Sample("input", n), c.Sample("baseline", n), c.Target(n), attribution, options);
            AssertClose(c.Sample("integrated_gradients", n), attribution, $"{stem} integrated gradients, sample {n}");

            foreach (var layer in d.AttributeLayers)
            {
                int neuron = (int)c.Tensor("neuron_conductance." + layer.Name + ".neuron")[0];
                c.Net.NeuronConductance(c.Sample("input", n), c.Sample("baseline", n), c.Target(n), layer.Offset + neuron, attribution, options);
                AssertClose(c.Sample("neuron_conductance." + layer.Name, n), attribution, $"{stem} neuron conductance of {layer.Name}[{neuron}], sample {n}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void DeepLift_rescale_and_gradient_times_activation(string stem)
    {
        var c = new Case(stem);
        var d = c.Net.Description;
        for (int n = 0; n < c.Samples; n++)
        {
            var attribution = new float[d.InputLength];
            c.Net.DeepLiftInputs(c.Sample("input", n), c.Sample("baseline", n), c.Target(n), attribution);
            AssertClose(c.Sample("deeplift", n), attribution, $"{stem} DeepLift, sample {n}");

            var importance = new float[d.ImportanceLength];
            c.Net.DeepLift(c.Sample("input", n), c.Sample("baseline", n), c.Target(n), importance);
            var gradientTimesActivation = new float[d.ImportanceLength];
            c.Net.GradientTimesActivation(c.Sample("input", n), c.Target(n), gradientTimesActivation);
            foreach (var layer in d.AttributeLayers)
            {
                AssertClose(c.Sample("layer_deeplift." + layer.Name, n), importance.AsSpan(layer.Offset, layer.Length).ToArray(), $"{stem} LayerDeepLift {layer.Name}, sample {n}");
                AssertClose(c.Sample("gradient_x_activation." + layer.Name, n), gradientTimesActivation.AsSpan(layer.Offset, layer.Length).ToArray(), $"{stem} gradient × activation {layer.Name}, sample {n}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Save_writes_back_the_state_dict_it_loaded(string stem)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Reference", stem + ".weights.safetensors");
        var original = SafetensorsFile.Read(path);
        var saved = new MemoryStream();
        ((dynamic)Load(stem)).Save(saved);
        var written = SafetensorsFile.Read(new MemoryStream(saved.ToArray()), "saved");
        Assert.Equal(original.TensorNames.OrderBy(n => n, StringComparer.Ordinal), written.TensorNames.OrderBy(n => n, StringComparer.Ordinal));
        foreach (string name in original.TensorNames)
        {
            if (name.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            {
                Assert.Equal(original.GetInt64Scalar(name), written.GetInt64Scalar(name));
            }
            else
            {
                Assert.Equal(original.GetTensor(name, original.ShapeOf(name), 1), written.GetTensor(name, written.ShapeOf(name), 1));
            }
        }
    }

    /// <summary>Float32 kernels against a float64 reference: within 1e-4 of the tensor's largest magnitude (and 1e-6 absolute).</summary>
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(expected.Max(v => Math.Abs((double)v)), 1e-2);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - (double)actual[i]);
            Assert.True(error <= 1e-4 * scale + 1e-6, $"{what}: element {i} is {actual[i]}, PyTorch {expected[i]} (error {error:G3}, scale {scale:G3})");
        }
    }
}
