using System.Linq;
using NigGen.Tests.Generator;
using Xunit;

namespace NigGen.Tests.Training;

/// <summary>Which networks get the training API.</summary>
public sealed class TrainingGenerationTests
{
    [Fact]
    public void A_network_without_dense_or_conv_layers_has_nothing_to_train()
    {
        var run = GeneratorHarness.Run("using NigGen; namespace Tests; [Network, Input(2, 8)] public partial class PoolOnly { [MaxPool(2), AttributeLayer] Layer pool; [Flatten] Layer flat; }");
        GeneratorHarness.AssertNoCompilationErrors(run);
        string source = Assert.Single(run.Sources).SourceText.ToString();
        Assert.DoesNotContain("CreateTrainer", source);
        Assert.DoesNotContain("ITrainableNetwork", source);
        Assert.DoesNotContain("TrainingState", source);
    }

    [Fact]
    public void Every_network_with_a_dense_or_conv_layer_is_trainable()
    {
        Assert.IsAssignableFrom<ITrainableNetwork>(Networks.ForwardOnlyNet.CreateRandom(seed: 1));
        Assert.IsAssignableFrom<ITrainableNetwork>(Networks.CaptumMultiLayer.CreateRandom(seed: 1));
        var run = GeneratorHarness.Run("using NigGen; namespace Tests; [Network, Input(2, 8)] public partial class OneConv { [Conv(3, Kernel = 3), AttributeLayer] Layer conv; }");
        GeneratorHarness.AssertNoCompilationErrors(run);
        Assert.Contains("CreateTrainer(global::NigGen.Training.TrainingOptions options)", Assert.Single(run.Sources).SourceText.ToString());
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Id != "NIG0008"));
    }

    [Fact]
    public void A_users_own_trainer_types_beside_the_network_do_not_capture_the_generated_code()
    {
        // A sample's own 'Trainer' command and options in the network's namespace: the generated code still means NigGen's.
        var run = GeneratorHarness.Run(
            "using NigGen; namespace App; public sealed class Trainer { } public sealed class TrainingOptions { } public sealed class LayerGradients { } public sealed class TrainingPass { } public interface ITrainableNetwork { }" +
            "[Network, Input(4)] public partial class Net { [Dense(3), AttributeLayer] Layer fc; [Dense(2)] Layer head; }");
        GeneratorHarness.AssertNoCompilationErrors(run);
    }
}
