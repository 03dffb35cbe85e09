using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using RdBridge.IO;

namespace RdBridge.Catalogs;

/// <summary>The four catalogs and the name of each one's record list, as the guide and AIstock expect them.</summary>
public enum CatalogKind { Factor, Model, Strategy, Loop }

public static partial class CatalogFile
{
    public const string Version = "v1";
    public const string Source = "rdbridge";

    /// <summary>
    /// The envelope's <c>version</c> of each catalog: the factor catalog is v2 since its records no longer carry their
    /// provenance (it is in <see cref="ProvenanceFile"/>); the other three are unchanged since v1.
    /// </summary>
    public static string VersionOf(CatalogKind kind) => kind == CatalogKind.Factor ? ProvenanceFile.Version : Version;

    public static string FileName(CatalogKind kind) => kind switch
    {
        CatalogKind.Factor => "factor_catalog.json",
        CatalogKind.Model => "model_catalog.json",
        CatalogKind.Strategy => "strategy_catalog.json",
        _ => "loop_catalog.json",
    };

    public static string ListName(CatalogKind kind) => kind switch
    {
        CatalogKind.Factor => FactorCatalog.List,
        CatalogKind.Model => ModelCatalog.List,
        CatalogKind.Strategy => StrategyCatalog.List,
        _ => LoopCatalog.List,
    };

    public static readonly CatalogKind[] All =
        [CatalogKind.Factor, CatalogKind.Model, CatalogKind.Strategy, CatalogKind.Loop];

    /// <summary>
    /// Fixed width, so a catalog can be written once with the previous timestamp and patched in place.
    /// </summary>
    public static string Timestamp(DateTimeOffset t) => UtcText.FormatMicroseconds(t);

    /// <summary>
    /// Streams a catalog to <paramref name="target"/>. When the records are the same as the file already there, the
    /// file is left untouched (its <c>generated_at_utc</c> included), so an export of unchanged input changes nothing.
    /// </summary>
    public static bool Write(string target, CatalogKind kind, Action<Utf8JsonWriter> writeRecords) =>
        Write(target, ListName(kind), VersionOf(kind), writeRecords);

    /// <summary>Streams a catalog-shaped file (the catalogs' envelope, one list of records) to
    /// <paramref name="target"/>; see <see cref="Write(string, CatalogKind, Action{Utf8JsonWriter})"/>.</summary>
    public static bool Write(string target, string listName, string version, Action<Utf8JsonWriter> writeRecords)
    {
        var previous = ReadTimestamp(target);
        var stamp = previous ?? Timestamp(DateTimeOffset.UtcNow);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = AtomicFile.TempPathFor(target);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
                       128 * 1024))
            {
                using (var writer = new Utf8JsonWriter(stream, CanonicalJson.FileWriterOptions))
                {
                    writer.WriteStartObject();
                    var header = new CatalogHeader { GeneratedAtUtc = stamp, Version = version, Source = Source };
                    foreach (var (name, value) in CatalogJson.ToNode(header))
                    {
                        writer.WritePropertyName(name);
                        value!.WriteTo(writer);
                    }

                    writer.WriteStartArray(listName);
                    writeRecords(writer);
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
                stream.WriteByte((byte)'\n');
                stream.Flush();
                if (previous is not null && FileContent.Same(stream, target))
                {
                    stream.Dispose();
                    AtomicFile.TryDelete(temp);
                    return false;
                }
                if (previous is not null)
                {
                    // Same width: overwrite the old timestamp with now.
                    var now = Encoding.ASCII.GetBytes(Timestamp(DateTimeOffset.UtcNow));
                    stream.Position = 0;
                    var head = new byte[256];
                    var n = stream.Read(head, 0, head.Length);
                    var at = Encoding.ASCII.GetString(head, 0, n).IndexOf(previous, StringComparison.Ordinal);
                    stream.Position = at;
                    stream.Write(now);
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
            return true;
        }
        catch
        {
            AtomicFile.TryDelete(temp);
            throw;
        }
    }

    public static string? ReadTimestamp(string path)
    {
        if (!RegularFile.Exists(path)) return null;
        using var s = RegularFile.OpenRead(path);
        var head = new byte[256];
        var n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var m = StampRegex().Match(Encoding.UTF8.GetString(head, 0, n));
        return m.Success ? m.Groups[1].Value : null;
    }

    [GeneratedRegex(@"^\{\s*""" + CatalogHeader.GeneratedAtField
        + @""":\s*""(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)""")]
    private static partial Regex StampRegex();
}
