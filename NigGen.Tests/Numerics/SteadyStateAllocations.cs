using System;

namespace NigGen.Tests.Numerics;

/// <summary>
/// Bytes the calling thread allocates per run of some calls once warm. The runtime may allocate a one-off object on
/// the calling thread while it finishes compiling a method (seen once in a CI run: 248 B in the second run), so the
/// calls are warmed up three times and the fewest bytes of ten measured runs is returned: a real per-call allocation
/// shows in every run, a one-off in a few (the multi-threaded calls' test once failed with three runs on a loaded
/// two-core machine).
/// </summary>
internal static class SteadyStateAllocations
{
    public static long Measure(Action calls)
    {
        for (int i = 0; i < 3; i++)
        {
            calls();
        }

        long fewest = long.MaxValue;
        for (int i = 0; i < 10; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            calls();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }
}
