using System.IO;
using System.Linq;
using NigGen.Sample.Genomics;
using Xunit;

namespace NigGen.Sample.Tests;

public sealed class FastaTests
{
    private static FastaRecord[] Read(string text) => Fasta.Read(new StringReader(text)).ToArray();

    [Fact]
    public void ReadsWrappedLowercaseRecordsWithBlankLinesAndCrlf()
    {
        var records = Read(">one first record\r\nACGT\r\nacgn\r\n\r\n>two\nTT GG\n\tCC\n");
        Assert.Equal(2, records.Length);
        Assert.Equal(new FastaRecord("one", "first record", "ACGTACGN", 1), records[0]);
        Assert.Equal(new FastaRecord("two", "", "TTGGCC", 5), records[1]);
    }

    [Fact]
    public void AByteOrderMarkBeforeTheFirstHeaderIsIgnored()
    {
        // Console.In keeps a UTF-8 BOM that File.OpenText drops; both must read the same records.
        Assert.Equal(new FastaRecord("one", "", "ACGT", 1), Assert.Single(Read("\uFEFF>one\nACGT\n")));
    }

    [Theory]
    [InlineData(200, 5, 5)]    // the model's length: unchanged
    [InlineData(40, 5, 85)]    // padded by 80 on the left
    [InlineData(240, 25, 5)]   // cropped by 20 on the left
    [InlineData(240, 5, -1)]   // cropped away
    public void PlantedPositionsFollowTheCentring(int recordLength, int plantedAt, int expected)
    {
        var instances = SimulatedGenomics.ParseInstances($"labels=gata motifs=GATA:+:{plantedAt}", recordLength);
        Assert.NotNull(instances);
        if (expected < 0)
        {
            Assert.Empty(instances);
        }
        else
        {
            Assert.Equal(expected, Assert.Single(instances).Start);
        }
    }

    [Fact]
    public void WriteThenReadGivesTheSameRecords()
    {
        var sequences = SimulatedGenomics.Generate(9, Split.Test, 5);
        var text = new StringWriter();
        Sample.Workflows.WriteFasta(sequences, text);
        Assert.All(text.ToString().Split('\n').Where(l => l.Length > 0 && l[0] != '>'), line => Assert.True(line.Length <= 60));

        var records = Read(text.ToString());
        Assert.Equal(sequences.Select(s => s.Id), records.Select(r => r.Id));
        Assert.Equal(sequences.Select(s => s.Bases), records.Select(r => r.Bases));
        Assert.Equal(sequences.Select(s => s.Instances), records.Select(r => SimulatedGenomics.ParseInstances(r.Description)));
    }

    [Fact]
    public void AnInvalidCharacterNamesTheRecordLineAndColumn()
    {
        var error = Assert.Throws<FastaFormatException>(() => Read(">ok\nACGT\n>bad one\nACGT\nACUT\n"));
        Assert.Equal("bad", error.RecordId);
        Assert.Equal(5, error.Line);
        Assert.Equal("record 'bad', line 5, column 3: 'U' is not a base (A, C, G, T or N).", error.Message);
    }

    [Fact]
    public void ADataLineBeforeAnyHeaderIsAnError()
    {
        var error = Assert.Throws<FastaFormatException>(() => Read("ACGT\n>x\nACGT\n"));
        Assert.Null(error.RecordId);
        Assert.Equal(1, error.Line);
        Assert.Contains("before the first '>' header", error.Message);
    }

    [Fact]
    public void AHeaderWithoutIdAndARecordWithoutBasesAreErrors()
    {
        Assert.Contains("line 3: the header has no id", Assert.Throws<FastaFormatException>(() => Read(">a\nAC\n> \nACGT\n")).Message);
        var empty = Assert.Throws<FastaFormatException>(() => Read(">a\nACGT\n>empty\n\n>c\nAC\n"));
        Assert.Equal("record 'empty' (line 3) has no bases.", empty.Message);
        Assert.Equal("empty", empty.RecordId);
    }

    [Fact]
    public void ControlCharactersAreNamedByCodePoint()
    {
        var error = Assert.Throws<FastaFormatException>(() => Read(">a\nAC\u0001T\n"));
        Assert.Contains("U+0001 is not a base", error.Message);
    }

    [Fact]
    public void StrictLengthModeRejectsOtherLengthsNamingTheRecord()
    {
        var record = new FastaRecord("short", "", new string('A', 150), 12);
        var error = Assert.Throws<FastaFormatException>(() => Fasta.Fit(record, 200, LengthMode.Strict));
        Assert.Equal("record 'short' (line 12) has 150 bases; the model reads exactly 200 (pass --length-mode center to crop or pad).", error.Message);
        Assert.Equal(12, error.Line);
    }

    [Fact]
    public void CenterLengthModeCropsTheMiddleAndPadsWithN()
    {
        string longer = new string('A', 10) + new string('C', 200) + new string('G', 11);
        Assert.Equal(new string('C', 200), Fasta.Fit(new FastaRecord("l", "", longer, 1), 200, LengthMode.Center));
        string padded = Fasta.Fit(new FastaRecord("s", "", new string('T', 195), 1), 200, LengthMode.Center);
        Assert.Equal("NN" + new string('T', 195) + "NNN", padded);
        string exact = new string('G', 200);
        Assert.Same(exact, Fasta.Fit(new FastaRecord("e", "", exact, 1), 200, LengthMode.Strict));
    }
}
