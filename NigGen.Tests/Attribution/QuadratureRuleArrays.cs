namespace NigGen.Tests.Attribution;

/// <summary>A rule's points and step sizes as arrays, for tests that read them all.</summary>
internal static class QuadratureRuleArrays
{
    public static double[] Alphas(this QuadratureRule rule)
    {
        var alphas = new double[rule.Count];
        rule.CopyAlphas(0, alphas);
        return alphas;
    }

    public static double[] StepSizes(this QuadratureRule rule)
    {
        var steps = new double[rule.Count];
        rule.CopyStepSizes(0, steps);
        return steps;
    }
}
