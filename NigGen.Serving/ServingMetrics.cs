using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace NigGen.Serving;

/// <summary>
/// The server's instruments (System.Diagnostics.Metrics, meter <c>NigGen.Serving</c>), exported at /metrics in
/// Prometheus' text format: requests by outcome, request and queue latency, batch sizes, queue length.
/// </summary>
internal sealed class ServingMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "NigGen.Serving";

    // Seconds: from a tenth of a millisecond (a forward pass) to a minute (a large batch with many steps).
    private static readonly double[] SecondsBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    private static readonly int[] SizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _queueTime;
    private readonly Histogram<int> _batchSamples;
    private readonly Histogram<int> _batchRequests;
    private readonly UpDownCounter<long> _queueLength;

    public ServingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("niggen.inference.requests", "{request}", "Inference requests by model and outcome (ok, bad_request, not_found, too_large, unauthorized, queue_full, cancelled, error).");
        _duration = meter.CreateHistogram("niggen.inference.duration", "s", "Time from a request's arrival to its response, by model and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _queueTime = meter.CreateHistogram("niggen.inference.queue.duration", "s", "Time a request waited in the dynamic batcher's queue, by model.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _batchSamples = meter.CreateHistogram("niggen.batch.samples", "{sample}", "Samples in each batched call, by model and method.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = SizeBuckets });
        _batchRequests = meter.CreateHistogram("niggen.batch.requests", "{request}", "Requests gathered into each batched call, by model and method.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = SizeBuckets });
        _queueLength = meter.CreateUpDownCounter<long>("niggen.queue.length", "{request}", "Requests waiting in the dynamic batcher's queue.");
    }

    public void Request(string model, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "model", model }, { "outcome", outcome } };
        _requests.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    public void QueueTime(string model, TimeSpan time) => _queueTime.Record(time.TotalSeconds, new KeyValuePair<string, object?>("model", model));

    public void Batch(string model, string method, int samples, int requests)
    {
        var tags = new TagList { { "model", model }, { "method", method } };
        _batchSamples.Record(samples, tags);
        _batchRequests.Record(requests, tags);
    }

    public void QueueLength(int change) => _queueLength.Add(change);
}
