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

            Thread.SpinWait(200);
            Interlocked.Increment(ref Hits[index]);
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
}
