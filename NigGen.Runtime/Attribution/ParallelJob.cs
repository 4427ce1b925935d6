using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace NigGen.Attribution;

/// <summary>
/// A parallel loop over the indices 0 … count − 1 that allocates nothing per call, so that multi-threaded calls are as
/// allocation-free in steady state as single-threaded ones (Parallel.For allocates its options, closure, tasks and
/// loop state on every call). A derived job holds the call's arguments in fields; one instance per job kind and calling
/// thread is reused. The calling thread works too, helpers are the same instance queued to the thread pool as an
/// <see cref="IThreadPoolWorkItem"/>, and indices are handed out one at a time. Which thread runs an index never changes
/// its result: every index writes only its own outputs, on the running thread's own workspace.
/// </summary>
internal abstract class ParallelJob : IThreadPoolWorkItem
{
    // Pulsed by the helper that leaves last; the caller spins briefly, then sleeps on it (a helper may be mid-way
    // through an index that takes milliseconds). A monitor on a plain object, not a ManualResetEventSlim: that one
    // allocates its lock object on the first wait that blocks, so some steady-state call allocated 24 bytes.
    private readonly object _helpersLeft = new();
    private int _next;
    private int _count;
    private int _open;    // 1 while the calling thread accepts help for the current call
    private int _slots;   // helpers the current call still accepts: its thread limit less the calling thread
    private int _active;  // helpers between their check of _open and their exit
    private Exception? _failure;
    private CancellationToken _cancellationToken;

    // Spins (SpinWait.SpinOnce: busy spins, then yields) before sleeping, as many as ManualResetEventSlim's default: a
    // helper finishing its index usually leaves within microseconds, and waking a sleeping caller costs about as much.
    private const int SpinsBeforeSleeping = 35;

    /// <summary>Runs one index; may run on any thread.</summary>
    protected abstract void Run(int index);

    /// <summary>Runs on a helper thread before it takes its first index of a call.</summary>
    protected virtual void HelperStarting()
    {
    }

    /// <summary>Runs on a helper thread after its last index of a call, before the call can return.</summary>
    protected virtual void HelperLeaving()
    {
    }

    /// <summary>
    /// Runs every index on up to <paramref name="threads"/> threads, the calling one included, and returns when all have
    /// finished. The first exception an index throws stops the others from starting and is rethrown here as it was
    /// thrown; a cancelled token stops indices from starting and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <remarks>
    /// The caller never waits for a helper that has not started: once it has run out of indices it closes the call and
    /// waits only for helpers already inside it (each finishing the index it holds). A helper the thread pool starts
    /// later finds the call closed and returns, so a pool busy with other callers cannot stall this one.
    /// </remarks>
    protected void RunAll(int count, int threads, CancellationToken cancellationToken)
    {
        _next = 0;
        _count = count;
        _failure = null;
        _cancellationToken = cancellationToken;
        int helpers = Math.Max(0, Math.Min(threads, count) - 1);

        // Helpers queued by an earlier call that the pool starts only now may join this one, but never more than it
        // allows in all: each joining helper takes a slot.
        _slots = helpers;
        Volatile.Write(ref _open, 1); // publishes the fields above to helpers that see the call open
        try
        {
            for (int i = 0; i < helpers; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }

            Drain();
        }
        finally
        {
            Interlocked.Exchange(ref _open, 0); // a full fence: the reads of _active below cannot move above it
            WaitForHelpers();
        }

        var failure = _failure;
        _failure = null;
        _cancellationToken = default;
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    // Returns once no helper is inside the call. A helper leaving last pulses under the lock, after its decrement, so a
    // caller that saw it still active under the lock is already waiting when the pulse comes.
    private void WaitForHelpers()
    {
        var spinner = default(SpinWait);
        for (int i = 0; i < SpinsBeforeSleeping && Volatile.Read(ref _active) != 0; i++)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        lock (_helpersLeft)
        {
            while (Volatile.Read(ref _active) != 0)
            {
                Monitor.Wait(_helpersLeft);
            }
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        Interlocked.Increment(ref _active);
        if (Volatile.Read(ref _open) == 1 && Interlocked.Decrement(ref _slots) >= 0)
        {
            try
            {
                HelperStarting();
                Drain();
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, exception, null);
            }
            finally
            {
                // The decrement below must run whatever happens here, or the caller would wait forever.
                try
                {
                    HelperLeaving();
                }
                catch (Exception exception)
                {
                    Interlocked.CompareExchange(ref _failure, exception, null);
                }
            }
        }

        if (Interlocked.Decrement(ref _active) == 0)
        {
            // Late helpers of an earlier call pulse too; the caller's loop re-checks, so that costs nothing.
            lock (_helpersLeft)
            {
                Monitor.PulseAll(_helpersLeft);
            }
        }
    }

    private void Drain()
    {
        while (!_cancellationToken.IsCancellationRequested && Volatile.Read(ref _failure) is null)
        {
            int index = Interlocked.Increment(ref _next) - 1;
            if (index >= _count)
            {
                return;
            }

            try
            {
                Run(index);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, exception, null);
                return;
            }
        }
    }
}
