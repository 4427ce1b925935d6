using System.IO;
using NigGen.Sample.Analysis;
using NigGen.Sample.Cli;
using NigGen.Sample.Training;
using Xunit;

namespace NigGen.Sample.Tests;

public sealed class ProgressBarTests
{
    private static readonly EpochResult Epoch1 = new(1, 0.5, 0.4, TaskMetrics.Compute([1, -1, 1, /**/ -1, -1, 1], [1, 0, 1, /**/ 0, 1, 1], 3));

    [Fact]
    public void RedirectedOutputGetsOnePlainLinePerEpoch()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, interactive: false);
        for (int b = 1; b <= 10; b++)
        {
            bar.Step(1, 2, b, 10, 0.5);
        }

        bar.EpochDone(Epoch1, 2);
        string text = output.ToString();
        Assert.DoesNotContain('\r', text);
        var line = Assert.Single(text.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("epoch 1/2  loss 0.5000  validation loss 0.4000  accuracy 83.3% (both 100.0% (AUROC 1.000), gata 50.0% (AUROC 0.500), tal1 100.0% (AUROC NaN))", line);
    }

    [Fact]
    public void TerminalOutputRedrawsOneLineWithLossAndTheLastValidationAccuracy()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, interactive: true);
        bar.Step(1, 2, 10, 10, 0.25);
        bar.EpochDone(Epoch1, 2);
        bar.Step(2, 2, 10, 10, 0.125);
        string text = output.ToString();
        Assert.StartsWith("\repoch 1/2 [##############################] 10/10  loss 0.2500", text);
        Assert.Contains("\repoch 2/2 [##############################] 10/10  loss 0.1250  validation accuracy 83.3% (epoch 1)", text);
        Assert.Single(text.Split('\n'), line => line.Contains("validation loss 0.4000", System.StringComparison.Ordinal));
    }
}
