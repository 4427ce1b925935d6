using System;
using System.Diagnostics;
using System.IO;
using NigGen.Sample.Analysis;
using NigGen.Sample.Training;

namespace NigGen.Sample.Cli;

/// <summary>
/// Training progress on stderr. On a terminal, one line redrawn in place (a bar, the step, the epoch's running loss and
/// the last epoch's validation accuracy) at most ten times a second, replaced by a summary line at the end of each epoch
/// (losses, accuracy and AUROC per task); when stderr is redirected (a log file, CI), only the summary lines, so logs
/// hold no carriage returns.
/// </summary>
public sealed class ProgressBar : ITrainingProgress
{
    private const int BarWidth = 30;
    private readonly TextWriter _writer;
    private readonly bool _interactive;
    private readonly Stopwatch _sinceRedraw = Stopwatch.StartNew();
    private readonly Stopwatch _sinceStart = Stopwatch.StartNew();
    private int _lastLength;
    private double _validationAccuracy = double.NaN;

    /// <summary>Progress to <paramref name="writer"/>; <paramref name="interactive"/> when it is a terminal.</summary>
    public ProgressBar(TextWriter writer, bool interactive)
    {
        _writer = writer;
        _interactive = interactive;
    }

    /// <summary>Whether stderr is a terminal that can redraw a line (not redirected, and TERM is not "dumb").</summary>
    public static bool StandardErrorIsTerminal =>
        !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb";

    /// <inheritdoc/>
    public void Step(int epoch, int epochs, int batch, int batches, double runningLoss)
    {
        if (!_interactive || (batch != batches && _sinceRedraw.ElapsedMilliseconds < 100))
        {
            return;
        }

        _sinceRedraw.Restart();
        int filled = (int)Math.Round(BarWidth * (double)batch / batches);
        string line = $"epoch {epoch}/{epochs} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {batch}/{batches}  loss {Format.Fixed(runningLoss, 4)}";
        if (!double.IsNaN(_validationAccuracy))
        {
            line += $"  validation accuracy {Format.Percent(_validationAccuracy)} (epoch {epoch - 1})";
        }

        Redraw(line);
    }

    /// <inheritdoc/>
    public void EpochDone(EpochResult result, int epochs)
    {
        _validationAccuracy = result.Validation.MeanAccuracy;
        string line = $"epoch {result.Epoch}/{epochs}  loss {Format.Fixed(result.TrainingLoss, 4)}  validation loss {Format.Fixed(result.ValidationLoss, 4)}  " +
                      $"accuracy {Format.Percent(result.Validation.MeanAccuracy)} ({result.Validation.Summary()})  {Format.Fixed(_sinceStart.Elapsed.TotalSeconds, 1)} s";
        if (_interactive)
        {
            Redraw(line);
            _writer.WriteLine();
            _lastLength = 0;
        }
        else
        {
            _writer.WriteLine(line);
        }

        _writer.Flush();
    }

    private void Redraw(string line)
    {
        // Pad over what the previous, longer line left on screen.
        _writer.Write('\r');
        _writer.Write(line.PadRight(_lastLength));
        _lastLength = line.Length;
        _writer.Flush();
    }
}
