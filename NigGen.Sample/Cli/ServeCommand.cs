using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using Microsoft.Extensions.Logging;
using NigGen.Sample.Genomics;
using NigGen.Sample.Scoring;
using NigGen.Serving;

namespace NigGen.Sample.Cli;

/// <summary>
/// <c>serve</c>: the trained model on the Open Inference Protocol's REST API (NigGen.Serving), scoring and explaining
/// sequences for many clients at once with dynamic batching. See docs/SERVING.md.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(Option<string> weights, TextWriter error)
    {
        var defaults = new ServingOptions();
        var command = new Command("serve", $"Serve the model over HTTP on the Open Inference Protocol (KServe V2): POST /v2/models/{nameof(RegulatoryNet)}/infer gives probabilities' logits, neuron importance and deltas");
        var urls = new Option<string[]>("--urls") { Description = "Addresses to listen on (loopback unless you say otherwise)", DefaultValueFactory = _ => [InferenceServer.DefaultUrl], AllowMultipleArgumentsPerToken = true, HelpName = "url" };
        var maxBatch = SampleCommandLine.Positive(new Option<int>("--max-batch-size") { Description = "Most samples the dynamic batcher gathers into one call (1: batching off)", DefaultValueFactory = _ => defaults.MaxBatchSize });
        var maxDelay = new Option<double>("--max-queue-delay-ms") { Description = "Longest a request waits for others to join its batch", DefaultValueFactory = _ => defaults.MaxQueueDelay.TotalMilliseconds };
        maxDelay.Validators.Add(result =>
        {
            if (SampleCommandLine.Parses(result, text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                && result.GetValueOrDefault<double>() is var value && !(value >= 0 && value <= 60_000))
            {
                result.AddError($"--max-queue-delay-ms must be from 0 to 60000, not {value}.");
            }
        });
        var maxQueue = SampleCommandLine.Positive(new Option<int>("--max-queue") { Description = "Most requests waiting; more are answered 503 with Retry-After", DefaultValueFactory = _ => defaults.MaxQueuedRequests });
        var maxBody = new Option<int>("--max-body-bytes") { Description = "Largest request body; larger ones are answered 413", DefaultValueFactory = _ => (int)defaults.MaxRequestBodyBytes };
        maxBody.Validators.Add(result =>
        {
            if (SampleCommandLine.Parses(result, text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                && result.GetValueOrDefault<int>() is var value && value < 1024)
            {
                result.AddError($"--max-body-bytes must be at least 1024, not {value}.");
            }
        });
        var steps = SampleCommandLine.Positive(new Option<int>("--steps") { Description = "Integration steps when a request names none", DefaultValueFactory = _ => SequenceScorer.DefaultOptions.Steps });
        var logLevel = new Option<string>("--log-level") { Description = "Least severe log level written (JSON lines on stdout; one line per request at information)", DefaultValueFactory = _ => "information" }
            .AcceptOnlyFromAmong("trace", "debug", "information", "warning", "error", "critical", "none");
        foreach (var option in new Option[] { weights, urls, maxBatch, maxDelay, maxQueue, maxBody, steps, logLevel })
        {
            command.Options.Add(option);
        }

        command.SetAction(r => SampleCommandLine.Guard(error, () =>
        {
            var network = RegulatoryNet.Load(r.GetValue(weights)!);
            var options = new ServingOptions
            {
                MaxBatchSize = r.GetValue(maxBatch),
                MaxQueueDelay = TimeSpan.FromMilliseconds(r.GetValue(maxDelay)),
                MaxQueuedRequests = r.GetValue(maxQueue),
                MaxRequestBodyBytes = r.GetValue(maxBody),
                ApiKey = Environment.GetEnvironmentVariable(ServingOptions.ApiKeyEnvironmentVariable),
            };
            // Attribution starts from the background (the expected base at every position), as the score command's does.
            var model = new ServedModel(network, Dna.BackgroundBaseline(), defaultOptions: SequenceScorer.DefaultOptions with { Steps = r.GetValue(steps) });
            var level = Enum.Parse<LogLevel>(r.GetValue(logLevel)!, ignoreCase: true);
            var app = InferenceServer.Create([model], options, r.GetValue(urls), level);
            app.Run();   // until SIGTERM or Ctrl+C: then stop accepting, finish what is in flight
            return 0;
        }));
        return command;
    }
}
