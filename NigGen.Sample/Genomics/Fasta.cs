using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace NigGen.Sample.Genomics;

/// <summary>One FASTA record: the header's first word (id), the rest of the header, the bases, and where it started.</summary>
public sealed record FastaRecord(string Id, string Description, string Bases, int Line);

/// <summary>A FASTA file that cannot be read, or a record the model cannot take; the message names the record and line.</summary>
public sealed class FastaFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="recordId"/> (null before the first header) at <paramref name="line"/> (1-based).</summary>
    public FastaFormatException(string message, string? recordId, int line)
        : base(message)
    {
        RecordId = recordId;
        Line = line;
    }

    /// <summary>The record's id, or null when the problem comes before any header.</summary>
    public string? RecordId { get; }

    /// <summary>The 1-based line of the problem (for a whole record, its header's line).</summary>
    public int Line { get; }
}

/// <summary>How a record whose length is not 200 bases becomes the model's input.</summary>
public enum LengthMode
{
    /// <summary>Any other length is an error (the default: the model was trained on 200-base windows).</summary>
    Strict,

    /// <summary>The central 200 bases of a longer record; a shorter one is centred and padded with N on both sides (N is the background, which adds no attribution).</summary>
    Center,
}

/// <summary>
/// FASTA reading and writing. Reading streams record by record (so that stdin can be scored as it arrives): a header
/// line starts with '>'; sequence lines may wrap; blank lines, spaces and tabs are ignored; bases are A, C, G, T and
/// N in either case. Anything else is a <see cref="FastaFormatException"/> naming the record, the line and the column.
/// </summary>
public static class Fasta
{
    /// <summary>Reads the records of <paramref name="reader"/> one by one.</summary>
    /// <exception cref="FastaFormatException">A line before the first header, a header without an id, a record without bases, or a character that is not a base.</exception>
    public static IEnumerable<FastaRecord> Read(TextReader reader)
    {
        string? id = null;
        string description = "";
        int headerLine = 0;
        var bases = new StringBuilder();
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (lineNumber == 1 && line.StartsWith('\uFEFF'))
            {
                line = line[1..]; // a byte-order mark a reader kept (Console.In does)
            }

            if (line.StartsWith('>'))
            {
                if (id is not null)
                {
                    yield return Complete(id, description, bases, headerLine);
                }

                string header = line[1..].Trim();
                int space = header.IndexOfAny([' ', '\t']);
                id = space < 0 ? header : header[..space];
                description = space < 0 ? "" : header[(space + 1)..].Trim();
                headerLine = lineNumber;
                bases.Clear();
                if (id.Length == 0)
                {
                    throw new FastaFormatException($"line {lineNumber}: the header has no id ('>' must be followed by a name).", null, lineNumber);
                }

                continue;
            }

            for (int column = 0; column < line.Length; column++)
            {
                char c = line[column];
                if (c is ' ' or '\t' or '\r')
                {
                    continue;
                }

                if (id is null)
                {
                    throw new FastaFormatException($"line {lineNumber}: sequence data before the first '>' header.", null, lineNumber);
                }

                if (Dna.Channel(c) < 0 && c is not ('N' or 'n'))
                {
                    throw new FastaFormatException(
                        $"record '{id}', line {lineNumber}, column {column + 1}: {Describe(c)} is not a base (A, C, G, T or N).", id, lineNumber);
                }

                bases.Append(char.ToUpperInvariant(c));
            }
        }

        if (id is not null)
        {
            yield return Complete(id, description, bases, headerLine);
        }
    }

    /// <summary>
    /// The record's bases as exactly <paramref name="length"/> bases, following <paramref name="mode"/>.
    /// </summary>
    /// <exception cref="FastaFormatException">In <see cref="LengthMode.Strict"/>, the record is not <paramref name="length"/> bases long.</exception>
    public static string Fit(FastaRecord record, int length, LengthMode mode)
    {
        int actual = record.Bases.Length;
        if (actual == length)
        {
            return record.Bases;
        }

        if (mode == LengthMode.Strict)
        {
            throw new FastaFormatException(
                $"record '{record.Id}' (line {record.Line}) has {actual} bases; the model reads exactly {length} (pass --length-mode center to crop or pad).",
                record.Id, record.Line);
        }

        if (actual > length)
        {
            return record.Bases.Substring((actual - length) / 2, length);
        }

        int left = (length - actual) / 2;
        return new string('N', left) + record.Bases + new string('N', length - actual - left);
    }

    /// <summary>Writes one record, 60 bases a line.</summary>
    public static void Write(TextWriter writer, string id, string description, string bases)
    {
        writer.Write('>');
        writer.Write(id);
        if (description.Length > 0)
        {
            writer.Write(' ');
            writer.Write(description);
        }

        writer.Write('\n');
        for (int start = 0; start < bases.Length; start += 60)
        {
            writer.Write(bases.AsSpan(start, Math.Min(60, bases.Length - start)));
            writer.Write('\n');
        }
    }

    private static FastaRecord Complete(string id, string description, StringBuilder bases, int headerLine)
    {
        if (bases.Length == 0)
        {
            throw new FastaFormatException($"record '{id}' (line {headerLine}) has no bases.", id, headerLine);
        }

        return new FastaRecord(id, description, bases.ToString(), headerLine);
    }

    private static string Describe(char c) => char.IsControl(c) || char.IsWhiteSpace(c)
        ? $"U+{((int)c).ToString("X4", CultureInfo.InvariantCulture)}"
        : $"'{c}'";
}
