using System;
using System.Threading;

namespace NigGen.Attribution;

// The parallel loops of PathAttribution as reusable jobs (ParallelJob): their arguments live in fields, the spans as
// pointers pinned by the calling method for the whole call, so a multi-threaded call allocates nothing.
public static partial class PathAttribution
{
    /// <summary>
    /// A job whose indices run on a network workspace: the calling thread's own, or, on a helper thread, one the network
    /// lends for as long as the helper stays in the call (<see cref="NetworkDescription.LendWorkspace"/>). Pool threads
    /// then keep no workspace of their own, so a thread the pool has just created allocates none.
    /// </summary>
    private abstract class WorkspaceJob : ParallelJob
    {
        // The workspace lent to this thread while it helps the job t_lentFor (a helper's index could itself start a call).
        [ThreadStatic]
        private static NetworkWorkspace? t_lent;

        [ThreadStatic]
        private static WorkspaceJob? t_lentFor;

        /// <summary>The calling thread's workspace, the call's network and the samples a workspace must hold.</summary>
        protected NetworkWorkspace? CallerWorkspace;
        protected NetworkDescription? Network;
        protected int Capacity;

        /// <summary>The workspace of the thread running an index.</summary>
        protected NetworkWorkspace Worker() => t_lentFor == this ? t_lent! : CallerWorkspace!.ForCurrentThread(Capacity);

        protected override void HelperStarting()
        {
            t_lent = Network!.LendWorkspace(CallerWorkspace!, Capacity);
            t_lentFor = this;
        }

        protected override void HelperLeaving()
        {
            if (t_lentFor == this)
            {
                Network!.ReturnWorkspace(t_lent!);
                (t_lent, t_lentFor) = (null, null);
            }
        }
    }

    /// <summary>Forward blocks of a batch across threads, each on its thread's workspace.</summary>
    private sealed unsafe class ForwardJob : WorkspaceJob
    {
        [ThreadStatic]
        private static ForwardJob? s_forThisThread;

        private float* _input;
        private float* _output;
        private int _batch;
        private int _block;
        private int _layerThreads;

        public static void RunBlocks(NetworkWorkspace ws, NetworkDescription network, float* input, float* output, int batch, int block, int blocks, int threads, int layerThreads)
        {
            var job = s_forThisThread ??= new ForwardJob();
            (job.CallerWorkspace, job.Network, job.Capacity) = (ws, network, block);
            (job._batch, job._block, job._layerThreads) = (batch, block, layerThreads);
            job._input = input;
            job._output = output;
            try
            {
                job.RunAll(blocks, threads, CancellationToken.None);
            }
            finally
            {
                (job.CallerWorkspace, job.Network) = (null, null);
                job._input = job._output = null;
            }
        }

        protected override void Run(int index)
        {
            var network = Network!;
            int start = index * _block;
            int count = Math.Min(_block, _batch - start);
            var worker = Worker();
            new ReadOnlySpan<float>(_input + (long)start * network.InputLength, count * network.InputLength).CopyTo(worker.Inputs);
            worker.LayerThreads = _layerThreads;
            try
            {
                worker.ForwardInference(count);
            }
            finally
            {
                worker.LayerThreads = 1;
            }

            worker.Outputs(count).CopyTo(new Span<float>(_output + (long)start * network.OutputLength, count * network.OutputLength));
        }
    }

    /// <summary>Whole samples of a batched Neuron Integrated Gradients call across threads.</summary>
    private sealed unsafe class SamplesJob : WorkspaceJob
    {
        [ThreadStatic]
        private static SamplesJob? s_forThisThread;

        private QuadratureRule _quadrature;
        private int _chunk;
        private PathShortcuts _shortcuts;
        private int _samples;
        private CancellationToken _cancellationToken;

        public (nint Pointer, int Length) Inputs;
        public (nint Pointer, int Length) Baselines;
        public bool SharedBaseline;
        public int* Targets;
        public float* Importances;
        public float* Deltas;

        public static SamplesJob ForThisThread() => s_forThisThread ??= new SamplesJob();

        public void Run(NetworkWorkspace ws, NetworkDescription network, QuadratureRule quadrature, int chunk, PathShortcuts shortcuts, int samples, int threads, CancellationToken cancellationToken)
        {
            (CallerWorkspace, Network, Capacity) = (ws, network, chunk);
            (_quadrature, _chunk, _shortcuts, _samples, _cancellationToken) = (quadrature, chunk, shortcuts, samples, cancellationToken);
            try
            {
                RunAll(samples, threads, cancellationToken);
            }
            finally
            {
                (CallerWorkspace, Network, _quadrature, _cancellationToken) = (null, null, default, default);
                (Inputs, Baselines) = (default, default);
                Targets = null;
                Importances = Deltas = null;
            }
        }

        protected override void Run(int sample)
        {
            var network = Network!;
            var worker = Worker();
            var inputs = new ReadOnlySpan<float>((float*)Inputs.Pointer, Inputs.Length);
            var baselines = new ReadOnlySpan<float>((float*)Baselines.Pointer, Baselines.Length);
            var importances = new Span<float>(Importances, _samples * network.ImportanceLength);
            Deltas[sample] = NeuronIntegratedGradientsSample(worker, network, inputs, baselines, SharedBaseline, Targets[sample], importances, sample, _quadrature, _chunk, _shortcuts, threads: 1, _cancellationToken);
        }
    }

    /// <summary>One round of a single sample's path blocks across threads, block i of the round into partial i.</summary>
    private sealed unsafe class PathBlocksJob : WorkspaceJob
    {
        [ThreadStatic]
        private static PathBlocksJob? s_forThisThread;

        private QuadratureRule _quadrature;
        private double[]? _partials;
        private float* _input;
        private float* _baseline;
        private int _length;
        private int _target;
        private int _chunk;
        private bool _shortcut;
        private int _stop;
        private int _forwardFor;
        private bool _chained;
        private int _blocks;
        private int _intervals;
        private long _call;
        private int _first;
        private CancellationToken _cancellationToken;

        public static PathBlocksJob ForThisThread() => s_forThisThread ??= new PathBlocksJob();

        public void Start(NetworkWorkspace ws, NetworkDescription network, float* input, float* baseline, int length, int target, QuadratureRule quadrature, int chunk, bool shortcut, bool chained, int stop, int forwardFor, int blocks, int intervals, long call, double[] partials)
        {
            (CallerWorkspace, Network, Capacity) = (ws, network, chunk);
            (_length, _target, _quadrature, _chunk) = (length, target, quadrature, chunk);
            _input = input;
            _baseline = baseline;
            (_shortcut, _chained, _stop, _forwardFor, _blocks, _intervals, _call, _partials) = (shortcut, chained, stop, forwardFor, blocks, intervals, call, partials);
        }

        public void RunRound(int first, int count, CancellationToken cancellationToken)
        {
            (_first, _cancellationToken) = (first, cancellationToken);
            RunAll(count, count, cancellationToken);
        }

        public void Release()
        {
            (CallerWorkspace, Network, _quadrature, _partials, _cancellationToken) = (null, null, default, null, default);
            _input = _baseline = null;
        }

        protected override void Run(int index)
        {
            var network = Network!;
            var input = new ReadOnlySpan<float>(_input, _length);
            var baseline = new ReadOnlySpan<float>(_baseline, _length);
            var worker = Worker();
            if (worker.PreparedCall != _call)
            {
                // The caller's workspace holds this call's endpoints: copy them instead of running the network on the
                // input and the baseline again (the same numbers; the MLP's endpoint pass costs a quarter of a sample).
                PrepareDifference(worker, input, baseline);
                if (_shortcut)
                {
                    worker.CopyAffineEndpoints(CallerWorkspace!);
                }

                worker.PreparedCall = _call;
            }

            int length = network.ImportanceLength;
            var partial = _partials.AsSpan(index * length, length);
            partial.Clear();
            int block = _first + index;
            bool kept = false; // blocks on other threads: each computes its first point
            PathBlock(worker, network, baseline, _target, _quadrature, _chunk, _shortcut, _chained, _stop, _forwardFor, BlockStart(block, _blocks, _intervals), BlockStart(block + 1, _blocks, _intervals), partial, ref kept, _cancellationToken);
        }
    }
}
