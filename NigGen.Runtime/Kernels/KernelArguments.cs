using System;

namespace NigGen.Kernels;

/// <summary>Cheap argument checks shared by the kernels; messages name the argument and the expected vs actual length.</summary>
internal static class KernelArguments
{
    public static void NotNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative but is {value}.");
        }
    }

    public static void AtLeast(int actual, long expected, string name, string formula)
    {
        if (actual < expected)
        {
            throw new ArgumentException($"{name} must hold at least {expected} elements ({formula}) but has {actual}.", name);
        }
    }

    public static void EmptyOr(int actual, int expected, string name, string formula)
    {
        if (actual != 0 && actual != expected)
        {
            throw new ArgumentException($"{name} must be empty or hold exactly {expected} elements ({formula}) but has {actual}.", name);
        }
    }

    /// <summary>Checks that every later length is at least <paramref name="count"/>, the element count taken from the first span.</summary>
    public static void SameOrLonger(int count, int actual, string name, string reference)
    {
        if (actual < count)
        {
            throw new ArgumentException($"{name} must hold at least {count} elements (the length of {reference}) but has {actual}.", name);
        }
    }

    public static long Product(int a, int b) => (long)a * b;

    public static long Product(int a, int b, int c) => (long)a * b * c;
}
