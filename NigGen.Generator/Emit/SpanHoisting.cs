using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace NigGen.Generator.Emit;

/// <summary>
/// Names each workspace buffer's span once per method: the emitters write every kernel argument as the full slice
/// (<c>ws.Conv1Output.AsSpan(0, batch * LayerLength.Conv1)</c>), which keeps them simple and each call self-evidently
/// right; this pass declares one local per distinct slice at the top of the method (after its constants) and replaces
/// the slices with it, so that the generated code reads as a person would write it.
/// </summary>
internal static class SpanHoisting
{
    // A workspace buffer sliced to the batch: ws.Name (or, inside the workspace, Name) .AsSpan(0, batch * Length).
    private static readonly Regex Slice = new(@"\b(?:ws\.)?([A-Z]\w*)\.AsSpan\(0, batch \* ([\w.]+)\)", RegexOptions.CultureInvariant);

    // A method (or constructor) header: an access modifier, a parameter list, nothing after it; its body follows.
    private static readonly Regex Header = new(@"^(\s*)(private|public|internal)\b[^=;]*\)$", RegexOptions.CultureInvariant);

    public static string Apply(string source)
    {
        var lines = source.Split('\n');
        var output = new StringBuilder(source.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            var header = Header.Match(lines[i]);
            string indent = header.Success ? header.Groups[1].Value : string.Empty;
            if (!header.Success || i + 1 >= lines.Length || lines[i + 1] != indent + "{")
            {
                Append(output, lines[i], i, lines.Length);
                continue;
            }

            int end = i + 2;
            while (end < lines.Length && lines[end] != indent + "}")
            {
                end++;
            }

            Append(output, lines[i], i, lines.Length);
            Append(output, lines[i + 1], i + 1, lines.Length);
            var body = lines.Skip(i + 2).Take(end - i - 2).ToList();
            foreach (string line in Hoist(body, indent + "    "))
            {
                output.Append(line).Append('\n');
            }

            i = end - 1;
        }

        return output.ToString();
    }

    private static void Append(StringBuilder output, string line, int index, int count)
    {
        output.Append(line);
        if (index < count - 1)
        {
            output.Append('\n');
        }
    }

    private static IEnumerable<string> Hoist(List<string> body, string indent)
    {
        var locals = new Dictionary<string, string>();
        foreach (string line in body)
        {
            foreach (Match match in Slice.Matches(line))
            {
                if (!locals.ContainsKey(match.Value))
                {
                    // A buffer sliced to several lengths (the join scratch) gets the length's name as a suffix.
                    string field = match.Groups[1].Value;
                    string name = char.ToLowerInvariant(field[0]) + field.Substring(1);
                    bool several = body.Any(l => Slice.Matches(l).Cast<Match>().Any(m => m.Groups[1].Value == field && m.Value != match.Value));
                    locals[match.Value] = several ? name + match.Groups[2].Value.Split('.').Last() : name;
                }
            }
        }

        if (locals.Count == 0)
        {
            return body;
        }

        // Declarations go after the method's leading constants (DeepLIFT's and ablation's batch of two).
        int constants = 0;
        while (constants < body.Count && body[constants].TrimStart().StartsWith("const ", System.StringComparison.Ordinal))
        {
            constants++;
        }

        var result = new List<string>(body.Take(constants));
        foreach (var local in locals.OrderBy(l => l.Value, System.StringComparer.Ordinal))
        {
            result.Add($"{indent}var {local.Value} = {local.Key};");
        }

        result.Add(string.Empty);
        result.AddRange(body.Skip(constants).Select(line => Slice.Replace(line, match => locals[match.Value])));
        return result;
    }
}
