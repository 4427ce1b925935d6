using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;
using NigGen.Sample.Genomics;

namespace NigGen.Sample.Report;

/// <summary>
/// The report's drawings as inline SVG: sequence tracks, sequence logos and bar charts. Letters are drawn as paths
/// (defined once per page in <see cref="GlyphDefinitions"/>), not as text, so that their height is exact and the page
/// looks the same whatever fonts the browser has.
/// </summary>
public static class Svg
{
    // Base colours as DNA logos usually have them: A green, C blue, G orange, T red.
    private static readonly string[] BaseColours = ["#109648", "#255c99", "#f7a41d", "#d62839"];

    /// <summary>The four letters as paths in a 100 × 100 box (y down), referenced as #glyph-A … #glyph-T.</summary>
    public static string GlyphDefinitions()
    {
        const string c = "M93,28 A50,50 0 1 0 93,72 L77,63 A32,33 0 1 1 77,37 Z";
        var paths = new[]
        {
            "M0,100 L40,0 L60,0 L100,100 L80,100 L69,72 L31,72 L20,100 Z M37,56 L63,56 L50,22 Z",
            c,
            c + " M55,48 H100 V90 H85 V62 H55 Z",
            "M0,0 H100 V17 H59 V100 H41 V17 H0 Z",
        };
        var svg = new StringBuilder("<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\"><defs>");
        for (int b = 0; b < 4; b++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<path id=\"glyph-{Dna.Bases[b]}\" fill-rule=\"evenodd\" fill=\"{BaseColours[b]}\" d=\"{paths[b]}\"/>");
        }

        return svg.Append("</defs></svg>").ToString();
    }

    /// <summary>
    /// A sequence track: each base drawn at a height proportional to its attribution (above the line for evidence
    /// for the task, below for evidence against), with the planted motifs shaded and labelled. The y axis is symmetric,
    /// ±the largest |attribution|, with ticks at both ends and at 0; the x axis is the position in the sequence.
    /// </summary>
    public static string Track(string bases, IReadOnlyList<float> scores, IReadOnlyList<MotifInstance>? instances)
    {
        const double baseWidth = 5, half = 55, top = 18, left = 64;
        int length = bases.Length;
        double width = left + length * baseWidth + 10;
        double bottom = top + 2 * half;
        double height = bottom + 34;
        double middle = top + half;
        double max = scores.Select(s => Math.Abs((double)s)).DefaultIfEmpty(0).Max();
        double scale = max > 0 ? half / max : 0;

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg class=\"track\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\">"));
        foreach (var instance in instances ?? [])
        {
            double x = left + instance.Start * baseWidth;
            double w = instance.Motif.Length * baseWidth;
            string fill = instance.Motif == Motif.Gata ? "#b9e4c9" : "#c9d8f0";
            svg.Append(Invariant($"<rect class=\"motif\" x=\"{x}\" y=\"{top}\" width=\"{w}\" height=\"{2 * half}\" fill=\"{fill}\" opacity=\"0.7\"/>"));
            svg.Append(Invariant($"<text x=\"{x + w / 2}\" y=\"{top - 5}\" font-size=\"10\" text-anchor=\"middle\">{instance.Motif.Name}{(instance.ReverseStrand ? '−' : '+')}</text>"));
        }

        svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{middle}\" x2=\"{left + length * baseWidth}\" y2=\"{middle}\" stroke=\"#888\" stroke-width=\"0.5\"/>"));
        for (int p = 0; p < length; p++)
        {
            int channel = Dna.Channel(bases[p]);
            double h = Math.Abs(scores[p]) * scale;
            if (channel < 0 || h < 0.05)
            {
                continue;
            }

            double y = scores[p] >= 0 ? middle - h : middle;
            svg.Append(Glyph(channel, left + p * baseWidth, y, baseWidth, h));
        }

        // x axis: the position, a tick every 20 bases, under the drawing.
        svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{left + length * baseWidth}\" y2=\"{bottom}\" stroke=\"#555\" stroke-width=\"0.7\"/>"));
        for (int p = 0; p <= length; p += 20)
        {
            double x = left + p * baseWidth;
            svg.Append(Invariant($"<line x1=\"{x}\" y1=\"{bottom}\" x2=\"{x}\" y2=\"{bottom + 4}\" stroke=\"#555\"/>"));
            svg.Append(Invariant($"<text x=\"{x}\" y=\"{bottom + 14}\" font-size=\"10\" text-anchor=\"middle\">{p}</text>"));
        }

        svg.Append(Invariant($"<text x=\"{left + length * baseWidth / 2}\" y=\"{height - 3}\" font-size=\"10\" text-anchor=\"middle\">position (base)</text>"));

        // y axis: attribution, from −max (evidence against the task) to +max.
        svg.Append(YAxis(left, max > 0 ? [(top, max), (middle, 0), (bottom, -max)] : [(middle, 0)], top, bottom, "attribution"));
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A sequence logo of a [position, base] probability matrix: letters stacked by probability × information content.</summary>
    public static string Logo(IReadOnlyList<float> frequencies, int columns, double columnWidth = 14, double height = 56)
    {
        const double bottomMargin = 2;
        double bitHeight = (height - bottomMargin) / 2;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg class=\"logo\" viewBox=\"0 0 {columns * columnWidth} {height}\" width=\"{columns * columnWidth}\" height=\"{height}\" role=\"img\">"));
        svg.Append(Invariant($"<line x1=\"0\" y1=\"{height - bottomMargin}\" x2=\"{columns * columnWidth}\" y2=\"{height - bottomMargin}\" stroke=\"#aaa\" stroke-width=\"0.5\"/>"));
        var column = new float[Dna.Channels];
        for (int k = 0; k < columns; k++)
        {
            for (int c = 0; c < Dna.Channels; c++)
            {
                column[c] = frequencies[k * Dna.Channels + c];
            }

            double information = Analysis.FilterMotifs.Information(column);
            double y = height - bottomMargin;
            // Smallest at the bottom, the most frequent base on top.
            foreach (int c in Enumerable.Range(0, Dna.Channels).OrderBy(c => column[c]))
            {
                double h = column[c] * information * bitHeight;
                if (h < 0.05)
                {
                    continue;
                }

                y -= h;
                svg.Append(Glyph(c, k * columnWidth + 0.5, y, columnWidth - 1, h));
            }
        }

        return svg.Append("</svg>").ToString();
    }

    /// <summary>A horizontal signed bar for a table cell: the value's share of <paramref name="max"/>, green for, red against.</summary>
    public static string InlineBar(double value, double max)
    {
        const double width = 120, height = 12;
        double half = width / 2;
        double length = max > 0 ? Math.Min(1, Math.Abs(value) / max) * half : 0;
        double x = value >= 0 ? half : half - length;
        string colour = value >= 0 ? "#2a9d8f" : "#e76f51";
        return Invariant($"<svg class=\"bar\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\"><rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#f3f3f3\"/><rect x=\"{x}\" y=\"1\" width=\"{length}\" height=\"{height - 2}\" fill=\"{colour}\"/><line x1=\"{half}\" y1=\"0\" x2=\"{half}\" y2=\"{height}\" stroke=\"#999\" stroke-width=\"0.5\"/></svg>");
    }

    /// <summary>
    /// A vertical bar chart of signed values, one bar per neuron. The y axis runs between round numbers that enclose
    /// every value and 0 (a negative part only when a value is negative, just deep enough for it), ticked at each round
    /// step, 0 included; the x axis, under the plot, ticks every bar and labels every fourth.
    /// </summary>
    public static string BarChart(IReadOnlyList<double> values, string label, string xTitle, string yTitle)
    {
        const double barWidth = 16, plotHeight = 120, left = 64, top = 10;
        double right = left + values.Count * barWidth;
        double width = right + 10;
        var (low, high, step) = RoundAxis(values.DefaultIfEmpty(0).Min(), values.DefaultIfEmpty(0).Max());
        double scale = plotHeight / (high - low);
        double Y(double value) => top + (high - value) * scale;
        double zero = Y(0), bottom = top + plotHeight;
        double height = bottom + 34;

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg class=\"bars\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(label)}\">"));
        var ticks = new List<(double Y, double Value)>();
        for (long k = (long)Math.Round(low / step); k <= (long)Math.Round(high / step); k++)
        {
            double value = k * step;
            ticks.Add((Y(value), value));
            if (k != 0)
            {
                svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{Y(value)}\" x2=\"{right}\" y2=\"{Y(value)}\" stroke=\"#eee\" stroke-width=\"0.7\"/>"));
            }
        }

        for (int i = 0; i < values.Count; i++)
        {
            double y = Y(Math.Max(values[i], 0));
            double h = Math.Abs(values[i]) * scale;
            string colour = values[i] >= 0 ? "#2a9d8f" : "#e76f51";
            svg.Append(Invariant($"<rect x=\"{left + i * barWidth + 2}\" y=\"{y}\" width=\"{barWidth - 4}\" height=\"{h}\" fill=\"{colour}\"><title>{label} neuron {i}: {Number(values[i])}</title></rect>"));
            double x = left + i * barWidth + barWidth / 2;
            svg.Append(Invariant($"<line x1=\"{x}\" y1=\"{bottom}\" x2=\"{x}\" y2=\"{bottom + (i % 4 == 0 ? 4 : 2)}\" stroke=\"#555\"/>"));
            if (i % 4 == 0)
            {
                svg.Append(Invariant($"<text x=\"{x}\" y=\"{bottom + 14}\" font-size=\"10\" text-anchor=\"middle\">{i}</text>"));
            }
        }

        svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{zero}\" x2=\"{right}\" y2=\"{zero}\" stroke=\"#555\" stroke-width=\"0.7\"/>"));
        if (bottom - zero > 0.5)
        {
            svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"#555\" stroke-width=\"0.7\"/>"));
        }

        svg.Append(Invariant($"<text x=\"{(left + right) / 2}\" y=\"{height - 3}\" font-size=\"10\" text-anchor=\"middle\">{WebUtility.HtmlEncode(xTitle)}</text>"));
        svg.Append(YAxis(left, ticks, top, bottom, yTitle));
        return svg.Append("</svg>").ToString();
    }

    /// <summary>
    /// Round axis limits for values from <paramref name="min"/> to <paramref name="max"/>: a step of 1, 2, 2.5 or 5
    /// times a power of ten giving about five intervals, and the multiples of it that enclose both the values and 0.
    /// All zero gives 0 to 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is NaN or infinite.</exception>
    public static (double Low, double High, double Step) RoundAxis(double min, double max)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max))
        {
            throw new ArgumentOutOfRangeException(double.IsFinite(min) ? nameof(max) : nameof(min), $"An axis needs finite values; the plotted values run from {min} to {max}.");
        }

        min = Math.Min(min, 0);
        max = Math.Max(max, 0);
        if (!(max > min))
        {
            return (0, 1, 0.25);
        }

        double raw = (max - min) / 5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double residual = raw / magnitude;
        double step = (residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10) * magnitude;
        // Rounded first, so that a limit a rounding error past a multiple of the step does not add a whole interval.
        double low = Math.Floor(Math.Round(min / step, 9)) * step;
        double high = Math.Ceiling(Math.Round(max / step, 9)) * step;
        return (low, high, step);
    }

    // A vertical axis line at x = left from top to bottom, with ticks and labels at the given heights and a rotated title.
    private static string YAxis(double left, IEnumerable<(double Y, double Value)> ticks, double top, double bottom, string title)
    {
        var svg = new StringBuilder();
        svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" stroke=\"#555\" stroke-width=\"0.7\"/>"));
        foreach (var (y, value) in ticks)
        {
            svg.Append(Invariant($"<line x1=\"{left - 4}\" y1=\"{y}\" x2=\"{left}\" y2=\"{y}\" stroke=\"#555\"/>"));
            svg.Append(Invariant($"<text x=\"{left - 6}\" y=\"{y + 3}\" font-size=\"9\" text-anchor=\"end\">{Number(value).Replace('-', '−')}</text>"));
        }

        double middle = (top + bottom) / 2;
        svg.Append(Invariant($"<text x=\"12\" y=\"{middle}\" font-size=\"10\" text-anchor=\"middle\" transform=\"rotate(-90 12 {middle})\">{WebUtility.HtmlEncode(title)}</text>"));
        return svg.ToString();
    }

    private static string Glyph(int channel, double x, double y, double width, double height) =>
        Invariant($"<use href=\"#glyph-{Dna.Bases[channel]}\" transform=\"translate({x:0.##} {y:0.##}) scale({width / 100:0.####} {height / 100:0.####})\"/>");

    private static string Number(double value) => Math.Abs(value) >= 0.01 || value == 0
        ? value.ToString("0.###", CultureInfo.InvariantCulture)
        : value.ToString("0.##E0", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
