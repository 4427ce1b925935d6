using System;
using System.ComponentModel;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Threading;
using NigGen.Kernels;

namespace NigGen.Attribution;

/// <summary>
/// The path methods, written once for every generated network: interpolation in chunks, the generated forward and
/// split backward passes, and the quadrature sums. Generated code validates nothing itself and calls these.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class PathAttribution
{
    /// <summary>Most samples a Forward call runs through the layers at once.</summary>
    public const int ForwardBlock = 64;

    /// <summary>Workspace floats a Forward block aims for (1 MiB); see <see cref="NetworkDescription.ForwardBlock"/>.</summary>
    public const int ForwardBlockFloats = 1 << 18;

    /// <summary>Workspace floats an automatic chunk aims for (8 MiB): a whole reduction block of the reference CNN in one pass, within the last-level cache.</summary>
    public const int AutomaticChunkFloats = 1 << 21;

    /// <summary>
    /// Fewest points an automatic chunk takes when its workspace stays within <see cref="LargestAutomaticChunkFloats"/>:
    /// a network too large for the cache at any chunk size (Basset's first conv block alone is 4.6 MiB a point) still
    /// needs enough rows per layer for the GEMM to run near its peak; at 2 points a chunk Basset took twice as long as at 16.
    /// </summary>
    public const int MinimumAutomaticChunk = 16;

    /// <summary>Workspace floats an automatic chunk never exceeds to reach <see cref="MinimumAutomaticChunk"/> (256 MiB).</summary>
    public const int LargestAutomaticChunkFloats = 1 << 26;

    /// <summary>Fewest samples worth handing to another thread in a Forward call: below this the hand-off costs more than it saves.</summary>
    public const int MinSamplesPerThread = 8;

    /// <summary>
    /// Forward over a batch on up to <paramref name="maxDegreeOfParallelism"/> threads (−1: every core), in blocks of
    /// samples chosen by <see cref="ForwardSplit"/>; each row's result is the single-threaded one.
    /// </summary>
    public static void Forward(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, Span<float> output, int maxDegreeOfParallelism)
    {
        AttributionOptions.RequireDegreeOfParallelism(maxDegreeOfParallelism, nameof(maxDegreeOfParallelism), nameof(maxDegreeOfParallelism));
        int batch = network.BatchSize(input, output.Length);
        var (block, threads) = ForwardSplit(network, batch, maxDegreeOfParallelism);
        int blocks = (batch + block - 1) / block;
        if (threads > 1)
        {
            ForwardParallel(ws, network, input, output, batch, block, blocks, threads, maxDegreeOfParallelism);
        }
        else if (AllowedThreads(maxDegreeOfParallelism) is > 1 and int layerThreads)
        {
            // Too few samples to share out (a batch of 1): the Dense layers share their columns instead.
            var worker = ws.ForCurrentThread(block);
            worker.LayerThreads = layerThreads;
            try
            {
                ForwardBlocks(worker, network, input, output, batch, block);
            }
            finally
            {
                worker.LayerThreads = 1;
            }
        }
        else
        {
            ForwardBlocks(ws, network, input, output, batch, block);
        }
    }

    private static int AllowedThreads(int maxDegreeOfParallelism) =>
        maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : Math.Max(1, maxDegreeOfParallelism);

    /// <summary>
    /// How Forward splits a batch: blocks of at most <see cref="NetworkDescription.ForwardBlock"/> samples (the workspace
    /// a thread keeps hot), made smaller when that leaves allowed threads idle and each would still get
    /// <see cref="MinSamplesPerThread"/> samples (a batch of 64 through the MLP: two blocks of 32 on two cores, not one of
    /// 64), and the threads that run them. Rows are independent, so the split never changes a result.
    /// </summary>
    public static (int Block, int Threads) ForwardSplit(NetworkDescription network, int batch, int maxDegreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(network);
        int allowed = AllowedThreads(maxDegreeOfParallelism);
        int block = network.ForwardBlock;
        long perThread = ((long)batch + allowed - 1) / allowed;
        if (perThread >= MinSamplesPerThread)
        {
            block = (int)Math.Min(block, perThread);
        }

        int blocks = (Math.Max(batch, 1) + block - 1) / block;
        return (block, Math.Min(blocks, allowed));
    }

    private static unsafe void ForwardParallel(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, Span<float> output, int batch, int block, int blocks, int threads, int maxDegreeOfParallelism)
    {
        fixed (float* inputPointer = input, outputPointer = output)
        {
            // Cores left over when there are fewer blocks than cores (a batch of 100 on 16) go to the Dense layers' columns.
            int layerThreads = Math.Max(1, AllowedThreads(maxDegreeOfParallelism) / threads);
            ForwardJob.RunBlocks(ws, network, inputPointer, outputPointer, batch, block, blocks, threads, layerThreads);
        }
    }

    // One thread (or one block): no task scheduling, nothing allocated.
    private static void ForwardBlocks(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, Span<float> output, int batch, int block)
    {
        var worker = ws.ForCurrentThread(block);
        for (int start = 0; start < batch; start += block)
        {
            int count = Math.Min(block, batch - start);
            input.Slice(start * network.InputLength, count * network.InputLength).CopyTo(worker.Inputs);
            worker.ForwardInference(count);
            worker.Outputs(count).CopyTo(output.Slice(start * network.OutputLength, count * network.OutputLength));
        }
    }

    /// <summary>Workspace capacity for Neuron Integrated Gradients: its chunk size, after validating the options.</summary>
    public static int NeuronIntegratedGradientsCapacity(NetworkDescription network, in AttributionOptions options)
    {
        var points = NeuronIntegratedGradientsPoints(options);
        return NeuronIntegratedGradientsChunk(network, options, points);
    }

    /// <summary>Workspace capacity for integrated gradients and neuron conductance: their chunk size, after validating the options.</summary>
    public static int PathCapacity(NetworkDescription network, in AttributionOptions options) =>
        ChunkSize(network, options, PathPoints(options));

    /// <summary>Neuron Integrated Gradients of one sample; returns the completeness delta (see the generated method).</summary>
    public static float NeuronIntegratedGradients(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance, in AttributionOptions options)
    {
        network.RequireSample(input.Length, nameof(input));
        network.RequireSample(baseline.Length, nameof(baseline));
        network.RequireTarget(target);
        network.RequireLength(importance.Length, network.ImportanceLength, nameof(importance), "ImportanceLength");
        network.RequireFinite(input, nameof(input));
        network.RequireFinite(baseline, nameof(baseline));
        var quadrature = Quadrature.Get(options.Rule, NeuronIntegratedGradientsPoints(options));
        return NeuronIntegratedGradientsCore(ws, network, input, baseline, target, importance, quadrature, NeuronIntegratedGradientsChunk(network, options, quadrature.Count), options.Shortcuts, options.Threads, CancellationToken.None);
    }

    /// <summary>Neuron Integrated Gradients of a batch; <paramref name="baselines"/> holds one baseline per sample or one for all.</summary>
    public static void NeuronIntegratedGradients(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, in AttributionOptions options) =>
        NeuronIntegratedGradients(ws, network, inputs, baselines, targets, importances, deltas, options, CancellationToken.None);

    /// <summary>
    /// Neuron Integrated Gradients of a batch, stopped by <paramref name="cancellationToken"/> between samples and between
    /// chunks of interpolation points with an <see cref="OperationCanceledException"/>. Results of samples finished
    /// before the cancellation are written; the others are left unspecified.
    /// </summary>
    public static void NeuronIntegratedGradients(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, in AttributionOptions options, CancellationToken cancellationToken)
    {
        int samples = network.RequireBatch(inputs, baselines, targets, importances.Length, network.ImportanceLength, nameof(importances), "ImportanceLength", deltas.Length);
        bool sharedBaseline = baselines.Length == network.InputLength;

        var quadrature = Quadrature.Get(options.Rule, NeuronIntegratedGradientsPoints(options));
        int chunk = NeuronIntegratedGradientsChunk(network, options, quadrature.Count);
        int threads = Math.Min(options.Threads, samples);
        if (threads <= 1)
        {
            for (int s = 0; s < samples; s++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                deltas[s] = NeuronIntegratedGradientsSample(ws, network, inputs, baselines, sharedBaseline, targets[s], importances, s, quadrature, chunk, options.Shortcuts, threads: 1, cancellationToken);
            }

            return;
        }

        ParallelSamples(ws, network, inputs, baselines, sharedBaseline, targets, importances, deltas, quadrature, chunk, options.Shortcuts, threads, cancellationToken);
    }

    // Samples are independent: each worker runs whole samples on its own workspace, so the numbers are the ones the
    // single-threaded loop gives. A cancelled token stops samples from starting; samples running stop at their next chunk.
    private static unsafe void ParallelSamples(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, bool sharedBaseline, ReadOnlySpan<int> targets, Span<float> importances, Span<float> deltas, QuadratureRule quadrature, int chunk, PathShortcuts shortcuts, int threads, CancellationToken cancellationToken)
    {
        fixed (float* inputsPointer = inputs, baselinesPointer = baselines, importancesPointer = importances, deltasPointer = deltas)
        fixed (int* targetsPointer = targets)
        {
            var job = SamplesJob.ForThisThread();
            job.Inputs = ((nint)inputsPointer, inputs.Length);
            job.Baselines = ((nint)baselinesPointer, baselines.Length);
            job.SharedBaseline = sharedBaseline;
            job.Targets = targetsPointer;
            job.Importances = importancesPointer;
            job.Deltas = deltasPointer;
            job.Run(ws, network, quadrature, chunk, shortcuts, deltas.Length, threads, cancellationToken);
        }
    }

    private static float NeuronIntegratedGradientsSample(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> baselines, bool sharedBaseline, int target, Span<float> importances, int sample, QuadratureRule quadrature, int chunk, PathShortcuts shortcuts, int threads, CancellationToken cancellationToken)
    {
        int inputLength = network.InputLength;
        var baseline = sharedBaseline ? baselines : baselines.Slice(sample * inputLength, inputLength);
        return NeuronIntegratedGradientsCore(
            ws, network, inputs.Slice(sample * inputLength, inputLength), baseline, target,
            importances.Slice(sample * network.ImportanceLength, network.ImportanceLength), quadrature, chunk, shortcuts, threads, cancellationToken);
    }

    /// <summary>Integrated gradients of one sample; returns the completeness delta.</summary>
    public static float IntegratedGradients(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> attribution, in AttributionOptions options)
    {
        network.RequireSample(input.Length, nameof(input));
        network.RequireSample(baseline.Length, nameof(baseline));
        network.RequireTarget(target);
        network.RequireSample(attribution.Length, nameof(attribution));
        network.RequireFinite(input, nameof(input));
        network.RequireFinite(baseline, nameof(baseline));
        var quadrature = Quadrature.Get(options.Rule, PathPoints(options));
        int chunk = ChunkSize(network, options, quadrature.Count);
        bool shortcut = options.Shortcuts != PathShortcuts.None && ws.HasAffinePrefix;
        var (outputAtInput, outputAtBaseline) = Endpoints(ws, network, input, baseline, target, shortcut);

        int inputLength = network.InputLength;
        var sums = ws.Accumulator.AsSpan(0, inputLength);
        sums.Clear();
        PrepareDifference(ws, input, baseline);
        for (int start = 0; start < quadrature.Count; start += chunk)
        {
            int count = Math.Min(chunk, quadrature.Count - start);
            ForwardPoints(ws, baseline, Alphas(ws, quadrature, start, count), shortcut, backwardTo: -1);
            SeedOutputGradient(ws, network, count, target);
            ws.Backward(count, network.OutputPosition, -1);
            AccumulateWeighted(ws.InputGradients, StepSizes(ws, quadrature, start, count), inputLength, sums);
        }

        return ScaleByDifference(ws, sums, attribution) - (outputAtInput - outputAtBaseline);
    }

    /// <summary>Conductance of one neuron for every input feature.</summary>
    public static void NeuronConductance(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, int neuron, Span<float> attribution, in AttributionOptions options)
    {
        network.RequireSample(input.Length, nameof(input));
        network.RequireSample(baseline.Length, nameof(baseline));
        network.RequireTarget(target);
        network.RequireSample(attribution.Length, nameof(attribution));
        var (layer, index) = network.FindNeuron(neuron);
        network.RequireFinite(input, nameof(input));
        network.RequireFinite(baseline, nameof(baseline));
        var quadrature = Quadrature.Get(options.Rule, PathPoints(options));
        int chunk = ChunkSize(network, options, quadrature.Count);
        bool shortcut = options.Shortcuts != PathShortcuts.None && ws.HasAffinePrefix;
        if (shortcut)
        {
            Endpoints(ws, network, input, baseline, target, shortcut);
        }

        int inputLength = network.InputLength;
        var sums = ws.Accumulator.AsSpan(0, inputLength);
        sums.Clear();
        PrepareDifference(ws, input, baseline);
        for (int start = 0; start < quadrature.Count; start += chunk)
        {
            int count = Math.Min(chunk, quadrature.Count - start);
            ForwardPoints(ws, baseline, Alphas(ws, quadrature, start, count), shortcut, backwardTo: -1);

            // ∂F/∂y at every point, then ∂y/∂x scaled by it: the product Dhamdhere's conductance integrates.
            SeedOutputGradient(ws, network, count, target);
            ws.Backward(count, network.OutputPosition, layer.GradientPosition);
            var gradients = ws.Gradients(layer.GradientPosition, count);
            for (int p = 0; p < count; p++)
            {
                ws.PointGradients[p] = gradients[p * layer.Length + index];
            }

            gradients.Clear();
            for (int p = 0; p < count; p++)
            {
                gradients[p * layer.Length + index] = ws.PointGradients[p];
            }

            ws.Backward(count, layer.GradientPosition, -1);
            AccumulateWeighted(ws.InputGradients, StepSizes(ws, quadrature, start, count), inputLength, sums);
        }

        ScaleByDifference(ws, sums, attribution);
    }

    /// <summary>The gradient of output[target] with respect to one input sample.</summary>
    public static void InputGradient(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, int target, Span<float> gradient)
    {
        network.RequireSample(input.Length, nameof(input));
        network.RequireTarget(target);
        network.RequireSample(gradient.Length, nameof(gradient));
        network.RequireFinite(input, nameof(input));
        input.CopyTo(ws.Inputs);
        ws.Forward(1);
        SeedOutputGradient(ws, network, 1, target);
        ws.Backward(1, network.OutputPosition, -1);
        ws.InputGradients.AsSpan(0, network.InputLength).CopyTo(gradient);
    }

    private static float NeuronIntegratedGradientsCore(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, Span<float> importance, QuadratureRule quadrature, int chunk, PathShortcuts shortcuts, int threads, CancellationToken cancellationToken)
    {
        bool shortcut = shortcuts != PathShortcuts.None && ws.HasAffinePrefix;
        long call = Interlocked.Increment(ref s_calls);
        var (outputAtInput, outputAtBaseline) = Prepare(ws, network, input, baseline, target, shortcut, call);
        int stop = shortcuts == PathShortcuts.None ? -1 : network.EarliestAttributePosition;

        // What the forward pass along the path prepares for: the backward stop, or the input to keep it unfused.
        int forwardFor = shortcuts is PathShortcuts.All or PathShortcuts.Unchained ? stop : -1;

        // The first Dense or Conv layer above the affine prefix updated from point to point (PathChain).
        bool chained = shortcut && shortcuts is PathShortcuts.All or PathShortcuts.Unfused && ws.PathChain is { Runs: true };
        var sums = ws.Accumulator.AsSpan(0, network.ImportanceLength);
        sums.Clear();

        // Intervals are summed in blocks whose bounds depend only on the number of intervals: each block in interval
        // order, then the blocks in block order. Chunks never straddle blocks, so the result is the same for any
        // chunk size and any number of threads.
        int intervals = quadrature.Count - 1;
        int blocks = (intervals + ReductionBlock - 1) / ReductionBlock;
        threads = Math.Min(threads, blocks);
        if (threads <= 1)
        {
            var partial = ws.BlockAccumulator.AsSpan(0, network.ImportanceLength);
            bool kept = false; // on one thread a block starts from the point the previous one kept
            for (int b = 0; b < blocks; b++)
            {
                partial.Clear();
                PathBlock(ws, network, baseline, target, quadrature, chunk, shortcut, chained, stop, forwardFor, BlockStart(b, blocks, intervals), BlockStart(b + 1, blocks, intervals), partial, ref kept, cancellationToken);
                TensorPrimitives.Add(sums, partial, sums);
            }
        }
        else
        {
            ParallelPathBlocks(ws, network, input, baseline, target, quadrature, chunk, shortcut, chained, stop, forwardFor, blocks, intervals, threads, call, sums, cancellationToken);
        }

        for (int j = 0; j < sums.Length; j++)
        {
            importance[j] = (float)sums[j];
        }

        // Every attribute layer is a cut of the network, so each layer's importances alone should sum to F(x) − F(x').
        float expected = outputAtInput - outputAtBaseline;
        float worst = 0;
        foreach (var layer in network.AttributeLayerSpan)
        {
            float delta = TensorPrimitives.Sum<float>(importance.Slice(layer.Offset, layer.Length)) - expected;
            if (Math.Abs(delta) >= Math.Abs(worst) || float.IsNaN(delta))
            {
                worst = delta;
            }
        }

        return worst;
    }

    /// <summary>Most interpolation intervals summed together before their sum joins the total (see NeuronIntegratedGradientsCore).</summary>
    public const int ReductionBlock = 32;

    private static long s_calls;

    private static int BlockStart(int block, int blocks, int intervals) => (int)((long)block * intervals / blocks);

    // Σ over intervals [first, end) of g(α_k)·(h(α_k+1) − h(α_k)) into partial, in interval order, chunk by chunk. Each
    // chunk's last point is kept (its attribute layers' values and gradients), so the next chunk starts at the point
    // after it: no point is computed twice. The interval between two chunks then joins the sum first, from the kept
    // point, which holds the same numbers a recomputation would give (a sample's results never depend on its batch):
    // the same products, added in the same order.
    // With kept set, the point `first` is already kept (the previous block's last, on the same thread). With chained,
    // the block computes its first point anyway: its chain starts there, on any thread (PathChain).
    private static void PathBlock(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> baseline, int target, QuadratureRule quadrature, int chunk, bool shortcut, bool chained, int stop, int forwardFor, int first, int end, Span<double> partial, ref bool kept, CancellationToken cancellationToken)
    {
        var chain = chained ? ws.PathChain : null;
        if (chain is not null)
        {
            chain.Start();
            kept = false;
        }

        try
        {
            for (int start = kept ? first + 1 : first; start <= end;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(chunk, end - start + 1);
                ForwardPoints(ws, baseline, Alphas(ws, quadrature, start, count), shortcut, forwardFor);
                SeedOutputGradient(ws, network, count, target);
                ws.Backward(count, network.OutputPosition, stop);
                foreach (var layer in network.AttributeLayerSpan)
                {
                    var gradients = ws.Gradients(layer.GradientPosition, count);
                    var values = ws.Values(layer.GradientPosition, count);
                    var sums = partial.Slice(layer.Offset, layer.Length);
                    var keptGradient = ws.KeptGradients.AsSpan(layer.Offset, layer.Length);
                    var keptValue = ws.KeptValues.AsSpan(layer.Offset, layer.Length);
                    if (kept)
                    {
                        AccumulateInterval(keptGradient, keptValue, values.Slice(0, layer.Length), sums);
                    }

                    AccumulatePathProducts(gradients, values, count, layer.Length, sums);
                    gradients.Slice((count - 1) * layer.Length, layer.Length).CopyTo(keptGradient);
                    values.Slice((count - 1) * layer.Length, layer.Length).CopyTo(keptValue);
                }

                kept = true;
                start += count;
            }
        }
        finally
        {
            chain?.Stop();
        }
    }

    // Rounds of up to `threads` blocks, one per worker, each into its own partial; the round's partials are added in
    // block order, so only `threads` partials are alive at once and memory does not grow with the number of steps.
    private static unsafe void ParallelPathBlocks(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, QuadratureRule quadrature, int chunk, bool shortcut, bool chained, int stop, int forwardFor, int blocks, int intervals, int threads, long call, Span<double> sums, CancellationToken cancellationToken)
    {
        int length = network.ImportanceLength;
        var partials = System.Buffers.ArrayPool<double>.Shared.Rent(threads * length);
        try
        {
            fixed (float* inputPointer = input, baselinePointer = baseline)
            {
                var job = PathBlocksJob.ForThisThread();
                job.Start(ws, network, inputPointer, baselinePointer, input.Length, target, quadrature, chunk, shortcut, chained, stop, forwardFor, blocks, intervals, call, partials);
                try
                {
                    for (int round = 0; round < blocks; round += threads)
                    {
                        int count = Math.Min(threads, blocks - round);
                        job.RunRound(round, count, cancellationToken);
                        for (int i = 0; i < count; i++)
                        {
                            TensorPrimitives.Add(sums, partials.AsSpan(i * length, length), sums);
                        }
                    }
                }
                finally
                {
                    job.Release();
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(partials);
        }
    }

    // Endpoint outputs, the affine prefix's endpoints (with the shortcut) and x − x': what every chunk of a call needs.
    private static (float AtInput, float AtBaseline) Prepare(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, bool shortcut, long call)
    {
        var endpoints = Endpoints(ws, network, input, baseline, target, shortcut);
        PrepareDifference(ws, input, baseline);
        ws.PreparedCall = call;
        return endpoints;
    }

    internal static int NeuronIntegratedGradientsPoints(in AttributionOptions options)
    {
        RequireDefined(options.Rule);

        // As Captum's LayerConductance: n steps are n intervals between the rule's n + 1 points.
        return options.Steps + 1;
    }

    internal static int PathPoints(in AttributionOptions options)
    {
        RequireDefined(options.Rule);
        int minimum = Quadrature.MinimumPoints(options.Rule);
        if (options.Steps < minimum)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Steps, $"AttributionOptions.Steps = {options.Steps} is too small for {options.Rule}: it needs at least {minimum} steps.");
        }

        return options.Steps;
    }

    private static void RequireDefined(IntegrationRule rule)
    {
        if (!Enum.IsDefined(rule))
        {
            throw new ArgumentOutOfRangeException(nameof(AttributionOptions.Rule), rule, "AttributionOptions.Rule is not a defined IntegrationRule.");
        }
    }

    // A chunk never spans more than one reduction block (ReductionBlock intervals, one more point).
    private static int NeuronIntegratedGradientsChunk(NetworkDescription network, in AttributionOptions options, int points) =>
        Math.Min(ChunkSize(network, options, points), ReductionBlock + 1);

    private static int ChunkSize(NetworkDescription network, in AttributionOptions options, int points)
    {
        int perPoint = Math.Max(1, network.FloatsPerSample);
        int chunk = options.ChunkSize > 0 ? options.ChunkSize
            : Math.Max(AutomaticChunkFloats / perPoint, Math.Min(MinimumAutomaticChunk, LargestAutomaticChunkFloats / perPoint));

        // Never below 2: the endpoint forward pass runs input and baseline together.
        chunk = Math.Max(2, Math.Min(chunk, points));
        if ((long)chunk * network.FloatsPerSample > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ChunkSize, $"AttributionOptions.ChunkSize = {chunk} would need {(long)chunk * network.FloatsPerSample} floats of workspace for {network.Name}, more than an array holds; it takes chunks of at most {Array.MaxLength / network.FloatsPerSample} points.");
        }

        return chunk;
    }

    // F at the input and at the baseline; with the shortcut, also the endpoints of the affine prefix.
    private static (float AtInput, float AtBaseline) Endpoints(NetworkWorkspace ws, NetworkDescription network, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline, int target, bool shortcut)
    {
        input.CopyTo(ws.Inputs);
        baseline.CopyTo(ws.Inputs.AsSpan(network.InputLength));
        ws.Forward(2);
        if (shortcut)
        {
            ws.CaptureAffineEndpoints();
        }

        var outputs = ws.Outputs(2);
        return (outputs[target], outputs[network.OutputLength + target]);
    }

    // The forward pass at the points alphas, keeping what a backward pass down to backwardTo reads.
    // The chunk's points and step sizes, written into the workspace: rules compute them per point rather than hold
    // tables, so memory does not grow with the number of steps.
    private static ReadOnlySpan<double> Alphas(NetworkWorkspace ws, in QuadratureRule quadrature, int start, int count)
    {
        var alphas = ws.ChunkAlphas.AsSpan(0, count);
        quadrature.CopyAlphas(start, alphas);
        return alphas;
    }

    private static ReadOnlySpan<double> StepSizes(NetworkWorkspace ws, in QuadratureRule quadrature, int start, int count)
    {
        var steps = ws.ChunkStepSizes.AsSpan(0, count);
        quadrature.CopyStepSizes(start, steps);
        return steps;
    }

    private static void ForwardPoints(NetworkWorkspace ws, ReadOnlySpan<float> baseline, ReadOnlySpan<double> alphas, bool shortcut, int backwardTo)
    {
        if (shortcut)
        {
            ws.ForwardAlongPath(alphas.Length, alphas, backwardTo);
        }
        else
        {
            InterpolationKernels.InterpolateRows(ws.Difference, baseline, alphas, ws.Inputs);
            ws.Forward(alphas.Length);
        }
    }

    private static void PrepareDifference(NetworkWorkspace ws, ReadOnlySpan<float> input, ReadOnlySpan<float> baseline) =>
        TensorPrimitives.Subtract(input, baseline, ws.Difference);

    private static void SeedOutputGradient(NetworkWorkspace ws, NetworkDescription network, int count, int target)
    {
        var gradients = ws.OutputGradients(count);
        gradients.Clear();
        for (int p = 0; p < count; p++)
        {
            gradients[p * network.OutputLength + target] = 1f;
        }
    }

    // sums[j] += Σ_p g[p, j]·(v[p+1, j] − v[p, j]) over the chunk's intervals, points in order.
    // sums[j] += g_p[j]·(h_p+1[j] − h_p[j]) over the chunk's intervals p in order: the difference and product in float,
    // the sum in double. Vectorised over neurons, a block of sums stays in registers across the intervals; each sum
    // still sees the same operations in the same order, so results equal the scalar loop's bit for bit.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulatePathProducts(ReadOnlySpan<float> gradients, ReadOnlySpan<float> values, int count, int length, Span<double> sums)
    {
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref float h = ref MemoryMarshal.GetReference(values);
        ref double s = ref MemoryMarshal.GetReference(sums);
        nuint rows = (nuint)length;
        nuint j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 16 <= rows; j += 16)
            {
                Vector512<double> low = Vector512.LoadUnsafe(ref s, j);
                Vector512<double> high = Vector512.LoadUnsafe(ref s, j + 8);
                nuint row = j;
                for (int p = 0; p + 1 < count; p++, row += rows)
                {
                    Vector512<float> product = Vector512.LoadUnsafe(ref g, row) * (Vector512.LoadUnsafe(ref h, row + rows) - Vector512.LoadUnsafe(ref h, row));
                    (Vector512<double> productLow, Vector512<double> productHigh) = Vector512.Widen(product);
                    low += productLow;
                    high += productHigh;
                }

                low.StoreUnsafe(ref s, j);
                high.StoreUnsafe(ref s, j + 8);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= rows; j += 8)
            {
                Vector256<double> low = Vector256.LoadUnsafe(ref s, j);
                Vector256<double> high = Vector256.LoadUnsafe(ref s, j + 4);
                nuint row = j;
                for (int p = 0; p + 1 < count; p++, row += rows)
                {
                    Vector256<float> product = Vector256.LoadUnsafe(ref g, row) * (Vector256.LoadUnsafe(ref h, row + rows) - Vector256.LoadUnsafe(ref h, row));
                    (Vector256<double> productLow, Vector256<double> productHigh) = Vector256.Widen(product);
                    low += productLow;
                    high += productHigh;
                }

                low.StoreUnsafe(ref s, j);
                high.StoreUnsafe(ref s, j + 4);
            }
        }

        for (; j < rows; j++)
        {
            double sum = Unsafe.Add(ref s, j);
            nuint row = j;
            for (int p = 0; p + 1 < count; p++, row += rows)
            {
                sum += Unsafe.Add(ref g, row) * (Unsafe.Add(ref h, row + rows) - Unsafe.Add(ref h, row));
            }

            Unsafe.Add(ref s, j) = sum;
        }
    }

    // sums += g·(to − from) for one interval whose end points are not adjacent rows: AccumulatePathProducts' product
    // (float difference, float product, added in double), element by element the same.
    private static void AccumulateInterval(ReadOnlySpan<float> gradient, ReadOnlySpan<float> from, ReadOnlySpan<float> to, Span<double> sums)
    {
        ref float g = ref MemoryMarshal.GetReference(gradient);
        ref float h0 = ref MemoryMarshal.GetReference(from);
        ref float h1 = ref MemoryMarshal.GetReference(to);
        ref double s = ref MemoryMarshal.GetReference(sums);
        nuint length = (nuint)sums.Length, j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= length; j += 8)
            {
                Vector256<float> product = Vector256.LoadUnsafe(ref g, j) * (Vector256.LoadUnsafe(ref h1, j) - Vector256.LoadUnsafe(ref h0, j));
                (Vector256<double> low, Vector256<double> high) = Vector256.Widen(product);
                (Vector256.LoadUnsafe(ref s, j) + low).StoreUnsafe(ref s, j);
                (Vector256.LoadUnsafe(ref s, j + 4) + high).StoreUnsafe(ref s, j + 4);
            }
        }

        for (; j < length; j++)
        {
            Unsafe.Add(ref s, j) += Unsafe.Add(ref g, j) * (Unsafe.Add(ref h1, j) - Unsafe.Add(ref h0, j));
        }
    }

    private static void AccumulateWeighted(ReadOnlySpan<float> gradients, ReadOnlySpan<double> weights, int length, Span<double> sums)
    {
        for (int p = 0; p < weights.Length; p++)
        {
            double weight = weights[p];
            var row = gradients.Slice(p * length, length);
            for (int i = 0; i < length; i++)
            {
                sums[i] += weight * row[i];
            }
        }
    }

    // attribution = (x − x') · Σ step·gradient; returns Σ attribution for the completeness delta.
    private static float ScaleByDifference(NetworkWorkspace ws, ReadOnlySpan<double> sums, Span<float> attribution)
    {
        double total = 0;
        for (int i = 0; i < attribution.Length; i++)
        {
            attribution[i] = (float)(ws.Difference[i] * sums[i]);
            total += attribution[i];
        }

        return (float)total;
    }
}
