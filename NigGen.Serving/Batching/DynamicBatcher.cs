using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using NigGen.Serving.Protocol;

namespace NigGen.Serving.Batching;

/// <summary>
/// Gathers concurrent requests of the same model, method and options into one batched call on every core. One batch runs
/// at a time (each uses every core), on a thread of its own. The queue holds at most
/// <see cref="ServingOptions.MaxQueuedRequests"/> requests; a batch holds at most <see cref="ServingOptions.MaxBatchSize"/>
/// samples (a larger request runs alone).
/// <para>
/// When the batcher is free it takes the oldest request and the queued requests of the same kind, in arrival order. If
/// they hold fewer samples than the previous batch of that kind did (the concurrency it saw), it waits for more, but no
/// longer than <see cref="ServingOptions.MaxQueueDelay"/> after the oldest request arrived: a lone client never waits
/// for others, many clients fill batches.
/// </para>
/// <para>
/// A request whose client goes away (its token cancelled) leaves the queue at once; once its batch runs, the batch is
/// cancelled (between samples and chunks of Neuron Integrated Gradients) when every request in it has gone.
/// </para>
/// </summary>
internal sealed class DynamicBatcher : IDisposable
{
    private readonly ServingOptions _options;
    private readonly ServingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly List<WorkItem> _queue = [];
    private readonly Dictionary<BatchKey, int> _previousBatchSamples = [];
    private readonly Thread _worker;
    private bool _stopping;

    public DynamicBatcher(ServingOptions options, ServingMetrics metrics, ILogger<DynamicBatcher> logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _worker = new Thread(Run) { IsBackground = true, Name = "NigGen dynamic batcher" };
        _worker.Start();
    }

    /// <summary>Requests waiting in the queue.</summary>
    public int QueuedRequests
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Batches stopped because every request in them had gone (their clients disconnected).</summary>
    internal int CancelledBatches => Volatile.Read(ref _cancelledBatches);

    private int _cancelledBatches;

    /// <summary>Tests: called on the batcher's thread before each batch runs, with its samples and requests (may block).</summary>
    internal Action<int, int>? BatchStarting { get; set; }

    /// <summary>Queues <paramref name="request"/>; the task completes with its share of the batch it ran in.</summary>
    /// <exception cref="InferenceException">503: the queue is full or the server is stopping.</exception>
    public Task<BatchResult> EnqueueAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var item = new WorkItem(request, Stopwatch.GetTimestamp()) { Owner = this };
        lock (_gate)
        {
            if (_stopping)
            {
                throw new InferenceException(503, "the server is shutting down.");
            }

            if (_queue.Count >= _options.MaxQueuedRequests)
            {
                throw new InferenceException(503, $"the queue is full ({_queue.Count} requests wait); retry after {_options.RetryAfterSeconds} s.");
            }

            _queue.Add(item);
            Monitor.Pulse(_gate);
        }

        _metrics.QueueLength(+1);
        if (cancellationToken.CanBeCanceled)
        {
            item.Registration = cancellationToken.UnsafeRegister(static state => ((WorkItem)state!).Owner!.Cancel((WorkItem)state), item);
        }

        return item.Completion.Task;
    }

    private void Cancel(WorkItem item)
    {
        CancellationTokenSource? abandon = null;
        lock (_gate)
        {
            if (item.State == WorkState.Queued)
            {
                _queue.Remove(item);
                item.State = WorkState.Done;
                _metrics.QueueLength(-1);
            }
            else if (item.State == WorkState.Running && item.Batch is { } batch && !item.Abandoned)
            {
                item.Abandoned = true;
                if (--batch.LiveRequests == 0)
                {
                    abandon = batch.Cancellation;
                }
            }
        }

        item.Completion.TrySetCanceled();
        abandon?.Cancel();
    }

    private void Run()
    {
        while (TakeBatch() is { } batch)
        {
            try
            {
                Execute(batch);
            }
            catch (Exception e)
            {
                // Never lose a request: whatever went wrong is each request's error, and the batcher goes on.
                if (e is not OperationCanceledException)
                {
                    Log.BatchFailed(_logger, e, batch.Key.Model.Name, batch.Key.MethodName, batch.Samples);
                }

                if (e is OperationCanceledException)
                {
                    Interlocked.Increment(ref _cancelledBatches);
                }

                foreach (var item in batch.Items)
                {
                    if (e is OperationCanceledException)
                    {
                        item.Completion.TrySetCanceled();
                    }
                    else
                    {
                        item.Completion.TrySetException(new InferenceException(500, $"the model failed on this batch: {e.Message}"));
                    }
                }
            }
            finally
            {
                lock (_gate)
                {
                    foreach (var item in batch.Items)
                    {
                        item.State = WorkState.Done;
                    }
                }

                foreach (var item in batch.Items)
                {
                    item.Registration.Dispose();
                }

                batch.Cancellation.Dispose();
            }
        }
    }

    /// <summary>Waits for the next batch; null when stopping and nothing is left.</summary>
    private Batch? TakeBatch()
    {
        lock (_gate)
        {
            while (true)
            {
                if (_queue.Count == 0)
                {
                    if (_stopping)
                    {
                        return null;
                    }

                    Monitor.Wait(_gate);
                    continue;
                }

                var oldest = _queue[0];
                var key = oldest.Request.Key;
                int wanted = Math.Min(_options.MaxBatchSize, _previousBatchSamples.GetValueOrDefault(key, 1));
                if (!_stopping && _options.MaxQueueDelay > TimeSpan.Zero && QueuedSamples(key, wanted) < wanted)
                {
                    var waited = Stopwatch.GetElapsedTime(oldest.EnqueuedAt);
                    if (waited < _options.MaxQueueDelay)
                    {
                        Monitor.Wait(_gate, _options.MaxQueueDelay - waited);
                        continue;
                    }
                }

                var items = new List<WorkItem>();
                int samples = 0;
                for (int i = 0; i < _queue.Count; i++)
                {
                    var item = _queue[i];
                    if (item.Request.Key != key)
                    {
                        continue;
                    }

                    if (items.Count > 0 && samples + item.Request.Samples > _options.MaxBatchSize)
                    {
                        break;
                    }

                    items.Add(item);
                    samples += item.Request.Samples;
                    _queue.RemoveAt(i--);
                }

                var batch = new Batch(key, items, samples);
                long now = Stopwatch.GetTimestamp();
                foreach (var item in items)
                {
                    item.State = WorkState.Running;
                    item.Batch = batch;
                    item.QueueTime = Stopwatch.GetElapsedTime(item.EnqueuedAt, now);
                }

                _previousBatchSamples[key] = samples;
                _metrics.QueueLength(-items.Count);
                return batch;
            }
        }
    }

    private int QueuedSamples(BatchKey key, int enough)
    {
        int samples = 0;
        foreach (var item in _queue)
        {
            if (item.Request.Key == key && (samples += item.Request.Samples) >= enough)
            {
                break;
            }
        }

        return samples;
    }

    private void Execute(Batch batch)
    {
        BatchStarting?.Invoke(batch.Samples, batch.Items.Count);
        var key = batch.Key;
        var model = key.Model;
        var description = model.Description;
        int n = batch.Samples, inputLength = description.InputLength, outputLength = description.OutputLength;
        var token = batch.Cancellation.Token;
        token.ThrowIfCancellationRequested();

        // The batch's arrays come from a pool and go back when the last of its requests has written its answer
        // (BatchResult.Release): a batch's importances are hundreds of kilobytes, and allocating them afresh for every
        // batch put them on the large-object heap and cost a full (gen-2) collection every few batches.
        var buffers = new BatchBuffers(batch.Items.Count);
        var inputs = buffers.Rent(n * inputLength);
        int offset = 0;
        foreach (var item in batch.Items)
        {
            item.Request.Inputs.CopyTo(inputs, offset * inputLength);
            offset += item.Request.Samples;
        }

        var logits = buffers.Rent(n * outputLength);
        model.Network.Forward(inputs.AsSpan(0, n * inputLength), logits.AsSpan(0, n * outputLength), -1);

        float[]? importances = null, deltas = null;
        if (key.Method != AttributionMethod.None)
        {
            var network = model.AttributedNetwork!;
            var targets = new int[n];
            offset = 0;
            foreach (var item in batch.Items)
            {
                for (int s = 0; s < item.Request.Samples; s++)
                {
                    targets[offset + s] = item.Request.Targets?[s] ?? ArgMax(logits.AsSpan((offset + s) * outputLength, outputLength));
                }

                offset += item.Request.Samples;
            }

            var baselines = Baselines(batch, inputLength);
            importances = buffers.Rent(n * description.ImportanceLength);
            deltas = buffers.Rent(n);
            if (key.Method == AttributionMethod.NeuronIntegratedGradients)
            {
                network.NeuronIntegratedGradients(inputs.AsSpan(0, n * inputLength), baselines, targets, importances.AsSpan(0, n * description.ImportanceLength), deltas.AsSpan(0, n), key.AttributionOptions, token);
            }
            else
            {
                DeepLiftOnEveryCore(network, inputs, baselines, targets, importances, deltas, key.DeepLiftRule, token);
            }
        }

        _metrics.Batch(model.Name, key.MethodName, n, batch.Items.Count);
        offset = 0;
        foreach (var item in batch.Items)
        {
            _metrics.QueueTime(model.Name, item.QueueTime);
            bool delivered = item.Completion.TrySetResult(new BatchResult
            {
                Offset = offset,
                Samples = item.Request.Samples,
                Logits = logits,
                Importances = importances,
                Deltas = deltas,
                BatchSamples = n,
                BatchRequests = batch.Items.Count,
                QueueTime = item.QueueTime,
                Buffers = buffers,
            });
            if (!delivered)
            {
                buffers.Release(); // its client went away: nobody will read its share
            }

            offset += item.Request.Samples;
        }
    }

    /// <summary>The model's baseline when no request sent one, else one baseline per sample.</summary>
    private static float[] Baselines(Batch batch, int inputLength)
    {
        if (batch.Items.TrueForAll(i => i.Request.Baselines is null))
        {
            return batch.Key.Model.Baseline;
        }

        if (batch.Items.Count == 1)
        {
            return batch.Items[0].Request.Baselines!;
        }

        var baselines = new float[batch.Samples * inputLength];
        int offset = 0;
        foreach (var item in batch.Items)
        {
            for (int s = 0; s < item.Request.Samples; s++, offset++)
            {
                item.Request.BaselineOf(s).CopyTo(baselines.AsSpan(offset * inputLength, inputLength));
            }
        }

        return baselines;
    }

    // The batched DeepLift runs on the calling thread; each sample's numbers do not depend on the others, so blocks of
    // samples on every core give the same bits.
    private static void DeepLiftOnEveryCore(IAttributedNetwork network, float[] inputs, float[] baselines, int[] targets, float[] importances, float[] deltas, DeepLiftRule rule, CancellationToken token)
    {
        var description = network.Description;
        int n = targets.Length, inputLength = description.InputLength, importanceLength = description.ImportanceLength;
        bool shared = baselines.Length == inputLength;
        int blocks = Math.Min(n, Environment.ProcessorCount);
        Parallel.For(0, blocks, new ParallelOptions { CancellationToken = token }, block =>
        {
            int start = (int)((long)n * block / blocks), end = (int)((long)n * (block + 1) / blocks);
            int count = end - start;
            network.DeepLift(
                inputs.AsSpan(start * inputLength, count * inputLength),
                shared ? baselines : baselines.AsSpan(start * inputLength, count * inputLength),
                targets.AsSpan(start, count),
                importances.AsSpan(start * importanceLength, count * importanceLength),
                deltas.AsSpan(start, count),
                rule);
        });
    }

    /// <summary>The index of the largest value (the first on ties), as the sample's SequenceScorer does.</summary>
    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Finishes the batch in flight and what is queued, then stops the thread.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        _worker.Join();
    }

    private enum WorkState
    {
        Queued,
        Running,
        Done,
    }

    private sealed class WorkItem(InferenceRequest request, long enqueuedAt)
    {
        public InferenceRequest Request { get; } = request;

        public long EnqueuedAt { get; } = enqueuedAt;

        public TaskCompletionSource<BatchResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public DynamicBatcher? Owner { get; set; }

        // Guarded by the batcher's lock.
        public WorkState State { get; set; }

        public Batch? Batch { get; set; }

        public bool Abandoned { get; set; }

        public TimeSpan QueueTime { get; set; }
    }

    private sealed class Batch(BatchKey key, List<WorkItem> items, int samples)
    {
        public BatchKey Key { get; } = key;

        public List<WorkItem> Items { get; } = items;

        public int Samples { get; } = samples;

        // Guarded by the batcher's lock: requests in the batch whose clients are still there.
        public int LiveRequests { get; set; } = items.Count;

        public CancellationTokenSource Cancellation { get; } = new();
    }
}
