using System.Collections.Generic;
using System.Text;

namespace NigGen.Generator.Emit;

/// <summary>
/// Keeps generated lines within <see cref="Width"/> characters, as a person would format them: a long statement breaks
/// after an argument's comma (never inside a string literal) and continues four spaces deeper; a long doc comment
/// breaks between words. Runs of blank lines are collapsed.
/// </summary>
internal static class LineWrapping
{
    public const int Width = 150;

    public static string Apply(string source)
    {
        var output = new StringBuilder(source.Length + source.Length / 20);
        var lines = source.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            // One blank line at most between two lines, and none before a closing brace (the emitters separate every
            // layer's block by a blank line, whatever precedes or follows it).
            if (lines[i].Length == 0 && i > 0 && i + 1 < lines.Length && (lines[i - 1].Length == 0 || lines[i + 1].TrimStart() == "}" || lines[i + 1].TrimStart() == "};"))
            {
                continue;
            }

            foreach (string line in Wrap(lines[i]))
            {
                output.Append(line);
                if (i < lines.Length - 1)
                {
                    output.Append('\n');
                }
            }
        }

        return output.ToString();
    }

    private static IEnumerable<string> Wrap(string line)
    {
        if (line.Length <= Width)
        {
            return [line];
        }

        string trimmed = line.TrimStart();
        string indent = line.Substring(0, line.Length - trimmed.Length);
        return trimmed.StartsWith("///", System.StringComparison.Ordinal)
            ? WrapWords(trimmed.Substring(3).TrimStart(), indent + "/// ")
            : WrapArguments(line, indent + "    ");
    }

    // Lines of a doc comment: words joined up to the width, each line with the comment's prefix.
    private static IEnumerable<string> WrapWords(string text, string prefix)
    {
        var result = new List<string>();
        var current = new StringBuilder(prefix);
        foreach (string word in text.Split(' '))
        {
            if (current.Length > prefix.Length && current.Length + 1 + word.Length > Width)
            {
                result.Add(current.ToString());
                current.Clear().Append(prefix);
            }

            if (current.Length > prefix.Length)
            {
                current.Append(' ');
            }

            current.Append(word);
        }

        result.Add(current.ToString());
        return result;
    }

    // A statement broken after the last ", " outside string literals that keeps each piece within the width.
    private static IEnumerable<string> WrapArguments(string line, string continuation)
    {
        var result = new List<string>();
        string rest = line;
        while (rest.Length > Width)
        {
            int split = -1;
            bool inString = false;
            for (int i = 0; i < rest.Length - 1 && i < Width; i++)
            {
                char c = rest[i];
                if (c == '"' && (i == 0 || rest[i - 1] != '\\'))
                {
                    inString = !inString;
                }
                else if (!inString && c == ',' && rest[i + 1] == ' ' && i > continuation.Length)
                {
                    split = i + 1;
                }
            }

            if (split < 0)
            {
                break;
            }

            result.Add(rest.Substring(0, split));
            rest = continuation + rest.Substring(split + 1);
        }

        result.Add(rest);
        return result;
    }
}
