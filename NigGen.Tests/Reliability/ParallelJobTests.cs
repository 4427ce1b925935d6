using System;
using System.Threading;
using NigGen.Attribution;
using Xunit;

namespace NigGen.Tests.Reliability;

public sealed class ParallelJobTests
{
    private sealed class CountingJob : ParallelJob
    {
        public int[] Hits = [];
        public int Throwing = -1;
        public CancellationTokenSource? CancelAt5;
        public Action? AtIndex10;
        public int Running;
        public int MostRunning;

        public void Run(int count, int threads, CancellationToken token = default)
        {
            Hits = new int[count];
            RunAll(count, threads, token);
        }

        protected override void Run(int index)
        {
            if (index == Throwing)
            {
                throw new InvalidOperationException($"index {index}");
            }

            if (index == 5)
            {
                CancelAt5?.Cancel();
            }

            if (index == 10)
            {
                AtIndex10?.Invoke();
            }

            int running = Interlocked.Increment(ref Running);
            int most;
            while (running > (most = Volatile.Read(ref MostRunning)) && Interlocked.CompareExchange(ref MostRunning, running, most) != most)
            {
            }

            Thread.SpinWait(200);
            Interlocked.Increment(ref Hits[index]);
            Interlocked.Decrement(ref Running);
        }
    }

    [Theory]
    [InlineData(1000, 4)]
    [InlineData(3, 8)]   // more threads than indices
    [InlineData(50, 1)]  // the calling thread alone
    [InlineData(0, 2)]
    public void Every_index_runs_exactly_once_and_the_job_is_reusable(int count, int threads)
    {
        var job = new CountingJob();
        for (int call = 0; call < 20; call++)
        {
            job.Run(count, threads);
            Assert.All(job.Hits, hits => Assert.Equal(1, hits));
        }
    }

    [Fact]
    public void The_first_exception_is_rethrown_as_thrown_and_the_job_stays_usable()
    {
        var job = new CountingJob { Throwing = 17 };
        var error = Assert.Throws<InvalidOperationException>(() => job.Run(1000, 4));
        Assert.Equal("index 17", error.Message);
        Assert.True(Array.IndexOf(job.Hits, 0) >= 0, "indices after the failure should not all have run");

        job.Throwing = -1;
        job.Run(100, 4);
        Assert.All(job.Hits, hits => Assert.Equal(1, hits));
    }

    [Fact]
    public void Cancellation_stops_indices_from_starting_and_throws()
    {
        var job = new CountingJob { CancelAt5 = new CancellationTokenSource() };
        Assert.ThrowsAny<OperationCanceledException>(() => job.Run(100_000, 2, job.CancelAt5.Token));
        Assert.True(Array.IndexOf(job.Hits, 0) >= 0);

        var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var idle = new CountingJob();
        Assert.ThrowsAny<OperationCanceledException>(() => idle.Run(10, 2, cancelled.Token));
        Assert.All(idle.Hits, hits => Assert.Equal(0, hits));
    }

    // Two indices: the calling thread holds index 0 until a helper has taken index 1, which then sleeps, so the caller
    // has to sleep until that helper leaves.
    private sealed class SlowHelperJob : ParallelJob
    {
        private readonly int _caller = Environment.CurrentManagedThreadId;
        private volatile bool _helperStarted;
        public bool HelperSleeps;
        public int HelperRuns;

        public void Run()
        {
            _helperStarted = false;
            RunAll(2, 2, CancellationToken.None);
        }

        protected override void Run(int index)
        {
            if (Environment.CurrentManagedThreadId == _caller)
            {
                for (int spins = 0; spins < 100_000_000 && !_helperStarted; spins++)
                {
                    Thread.SpinWait(10);
                }

                return;
            }

            _helperStarted = true;
            Interlocked.Increment(ref HelperRuns);
            if (HelperSleeps)
            {
                Thread.Sleep(30);
            }
        }
    }

    [Fact]
    public void Sleeping_until_a_slow_helper_leaves_allocates_nothing()
    {
        // ManualResetEventSlim allocated its lock object on the first wait that blocked, so some steady-state call
        // allocated 24 bytes on the calling thread; the monitor on a preallocated object does not.
        var job = new SlowHelperJob();
        job.Run(); // the queue and the helper's first pass, without a long wait
        job.HelperSleeps = true;
        long before = GC.GetAllocatedBytesForCurrentThread();
        job.Run();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2, job.HelperRuns);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Helpers_left_over_from_earlier_calls_never_exceed_a_calls_thread_limit()
    {
        // While every pool thread is busy, calls finish on the calling thread alone and their helpers wait in the pool's
        // queue. When the pool frees up during a later call, those helpers reach the job together: they must not take
        // that call past its own limit of two threads.
        ThreadPool.GetMinThreads(out int workers, out int ports);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), ports);
        using var gate = new ManualResetEventSlim(false);
        using var blocked = new CountdownEvent(12);
        try
        {
            for (int i = 0; i < 12; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(_ => { blocked.Signal(); gate.Wait(); }, null);
            }

            Assert.True(blocked.Wait(TimeSpan.FromSeconds(30)), "the pool did not start 12 threads");
            var job = new CountingJob();
            for (int call = 0; call < 40; call++)
            {
                job.Run(4, 2);
            }

            job.MostRunning = 0;
            job.AtIndex10 = gate.Set;
            job.Run(2000, 2);
            Assert.All(job.Hits, hits => Assert.Equal(1, hits));
            Assert.True(job.MostRunning <= 2, $"{job.MostRunning} threads ran a call limited to 2");
        }
        finally
        {
            gate.Set();
            ThreadPool.SetMinThreads(workers, ports);
        }
    }
}
