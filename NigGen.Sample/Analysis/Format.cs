using System.Globalization;

namespace NigGen.Sample.Analysis;

/// <summary>Number formats for the console and the report, culture-invariant.</summary>
public static class Format
{
    /// <summary>0.742 → "74.2%".</summary>
    public static string Percent(double fraction) => (fraction * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    /// <summary>Fixed-point with <paramref name="decimals"/> digits.</summary>
    public static string Fixed(double value, int decimals) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>A whole number with thousands separators: 12,345.</summary>
    public static string Count(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Scientific notation with 2 decimals: 1.23E-05.</summary>
    public static string Scientific(double value) => value.ToString("0.00E+00", CultureInfo.InvariantCulture);
}
