using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Parquet;
using Parquet.Schema;
using RdBridge.IO;

namespace RdBridge.Backfill;

/// <summary>
/// The factor names in <c>combined_factors_df.parquet</c>, read from the file's schema only (no data is loaded).
/// pandas stores its two-level columns as <c>('feature', 'Name')</c>; the index levels appear as plain columns.
/// </summary>
public static partial class CombinedFactors
{
    public const string FileName = "combined_factors_df.parquet";
    private static readonly HashSet<string> IndexColumns = new(StringComparer.Ordinal)
    {
        "datetime", "instrument", "index", "level_0", "level_1", "__index_level_0__"
    };

    public static IReadOnlyList<string> Names(string path)
    {
        using var stream = RegularFile.OpenRead(path);
        CheckFooter(stream);
        ParquetSchema schema;
        try { schema = ParquetReader.ReadSchemaAsync(stream).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not IOException and not UnauthorizedAccessException and not OutOfMemoryException)
        {
            throw new FormatException($"{FileName} is not a readable Parquet file: {e.Message}");
        }
        var names = new List<string>();
        foreach (var field in schema.GetDataFields())
        {
            var m = TupleColumn().Match(field.Name);
            var name = m.Success ? m.Groups["name"].Value : field.Name;
            if (!IndexColumns.Contains(name) && (!m.Success || m.Groups["group"].Value == "feature")) names.Add(name);
        }
        return names;
    }

    /// <summary>
    /// A Parquet file ends with its footer's length and <c>PAR1</c>; the footer (the schema) is read only when that
    /// length is plausible, so a damaged length never makes the reader allocate gigabytes.
    /// </summary>
    private static void CheckFooter(Stream stream)
    {
        var length = stream.Length;
        if (length < 12)
        {
            throw new FormatException($"{FileName} is {IO.Counted.Of(length, "byte")}, too short to be a Parquet file");
        }
        Span<byte> tail = stackalloc byte[8];
        stream.Seek(-8, SeekOrigin.End);
        stream.ReadExactly(tail);
        if (!tail[4..].SequenceEqual("PAR1"u8))
            throw new FormatException($"{FileName} does not end with the Parquet mark");
        var footer = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        if (footer > ReadLimits.ParquetFooter || footer > length - 12)
        {
            throw new FormatException($"{FileName} announces a {footer:N0}-byte footer, more than the file or the " +
                                      $"{ReadLimits.ParquetFooter:N0} bytes a schema may take");
        }

        stream.Seek(0, SeekOrigin.Begin);
    }

    /// <summary>Writes a schema-faithful file with a few rows (used by the sample generator).</summary>
    public static void Write(string path, IReadOnlyList<string> factorNames, int rows, Random rng)
    {
        var instrument = new DataField<string>("instrument");
        var datetime = new DataField<string>("datetime");
        var fields = factorNames.Select(n => new DataField<double>($"('feature', '{n}')")).ToList();
        var schema = new ParquetSchema([datetime, instrument, .. fields]);
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(schema, stream).GetAwaiter().GetResult();
        using (var group = writer.CreateRowGroup())
        {
            group.WriteAsync(datetime, Enumerable.Range(0, rows)
                .Select(i => new DateTime(2020, 1, 2).AddDays(i / 2).ToString("yyyy-MM-dd")).ToArray(), null)
                .GetAwaiter().GetResult();
            group.WriteAsync(instrument, Enumerable.Range(0, rows)
                .Select(i => i % 2 == 0 ? "SH600000" : "SZ000001").ToArray(), null).GetAwaiter().GetResult();
            foreach (var field in fields)
            {
                group.WriteAsync<double>(field, Enumerable.Range(0, rows)
                    .Select(_ => Math.Round(rng.NextDouble() - 0.5, 6)).ToArray(), null, null, default)
                    .GetAwaiter().GetResult();
            }
        }
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [GeneratedRegex(@"^\(\s*'(?<group>[^']*)'\s*,\s*'(?<name>[^']*)'\s*\)$")]
    private static partial Regex TupleColumn();
}
