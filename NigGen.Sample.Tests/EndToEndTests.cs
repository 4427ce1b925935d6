using System.IO;
using System.Linq;
using NigGen.Sample.Genomics;
using NigGen.Sample.Training;
using Xunit;

namespace NigGen.Sample.Tests;

public sealed class EndToEndTests
{
    [Fact]
    public void ASmallTrainingRunLearnsThePlantedMotifsAndTheSanityCheckSeesIt()
    {
        // A tenth of the default run's work (10,000 sequences, 5 epochs): enough to learn both motifs.
        using var folder = new TestNetworks.TemporaryFolder();
        var data = new DataSettings { TrainSize = 10_000, ValidationSize = 300, TestSize = 500 };
        var log = new StringWriter();
        var network = Workflows.Train(data, new TrainingSettings { Epochs = 5 }, log, progress: null);

        // Well above chance (AUROC 0.5) on held-out data.
        var metrics = Workflows.Evaluate(network, SimulatedGenomics.Generate(data.Seed, Split.Test, data.TestSize));
        Assert.All(metrics.Auroc, auroc => Assert.True(auroc > 0.85, metrics.Summary()));
        Assert.True(metrics.MeanAccuracy > 0.8, metrics.Summary());

        // Saved weights give the same predictions.
        string weights = folder.File("model.safetensors");
        network.Save(weights);
        var reloaded = RegulatoryNet.Load(weights);
        var inputs = SimulatedGenomics.OneHotBatch(SimulatedGenomics.Generate(2, Split.Test, 20));
        var before = new float[20 * Tasks.Count];
        var after = new float[before.Length];
        network.Forward(inputs, before);
        reloaded.Forward(inputs, after);
        Assert.Equal(before, after);

        // The sanity check: attribution concentrates on the planted motifs (chance is 1×), and each task's top filters
        // learned its motifs.
        var sanity = Workflows.Report(reloaded, data, folder.File("report.html"), folder.File("scores.jsonl"), [], log);
        Assert.All(sanity.Mass, m => Assert.True(m.Enrichment > 2.5, string.Join('\n', sanity.Lines())));
        Assert.True(sanity.Passed, string.Join('\n', sanity.Lines()));
        Assert.Equal(data.TestSize, File.ReadLines(folder.File("scores.jsonl")).Count());
        Assert.Contains("Sanity check: <span class=\"pass\">passed</span>", File.ReadAllText(folder.File("report.html")));
    }
}
