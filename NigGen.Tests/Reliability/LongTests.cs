using System;

namespace NigGen.Tests.Reliability;

/// <summary>
/// The reliability tests run a short mode in every test run and a longer one when the environment variable
/// NIGGEN_LONG_TESTS is 1 (for example before a release: <c>NIGGEN_LONG_TESTS=1 dotnet test</c>).
/// </summary>
internal static class LongTests
{
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("NIGGEN_LONG_TESTS") == "1";

    /// <summary><paramref name="normal"/> in the normal run, <paramref name="longRun"/> in the long one.</summary>
    public static int Choose(int normal, int longRun) => Enabled ? longRun : normal;
}
