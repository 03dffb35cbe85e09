using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Sample;
using RdBridge.Show;
using RdBridge.Store;

namespace RdBridge.Tests.Catalogs;

/// <summary>
/// The catalogs are read and written through typed records (<see cref="CatalogJson"/>). These hold that the types
/// describe the files exactly: every catalog the sample exports, read through its record type and written again, is
/// the same bytes; the fork's catalogs keep every field through the types; and a field no type knows (one the fork's
/// Python tools add) survives import and reaches the API and <c>show</c>. They compare files with files, so they keep
/// holding when a field is deliberately added to a record: the export and the rewrite both carry it.
/// </summary>
public class CatalogRecordRoundTripTests
{
    /// <summary>A catalog file read whole through its envelope type, then written by the catalogs' writer.</summary>
    private static byte[] Rewrite(string path, CatalogKind kind, string target)
    {
        var bytes = File.ReadAllBytes(path);
        CatalogHeader header = kind switch
        {
            CatalogKind.Factor => JsonSerializer.Deserialize(bytes, CatalogJson.Default.FactorCatalog)!,
            CatalogKind.Model => JsonSerializer.Deserialize(bytes, CatalogJson.Default.ModelCatalog)!,
            CatalogKind.Strategy => JsonSerializer.Deserialize(bytes, CatalogJson.Default.StrategyCatalog)!,
            _ => JsonSerializer.Deserialize(bytes, CatalogJson.Default.LoopCatalog)!,
        };
        CatalogFile.Write(target, kind, w =>
        {
            switch (header)
            {
                case FactorCatalog c: foreach (var r in c.Records) CatalogJson.Write(w, r); break;
                case ModelCatalog c: foreach (var r in c.Records) CatalogJson.Write(w, r); break;
                case StrategyCatalog c: foreach (var r in c.Records) CatalogJson.Write(w, r); break;
                case LoopCatalog c: foreach (var r in c.Records) CatalogJson.Write(w, r); break;
            }
        });
        // The one field that differs by design: when the file was written.
        var written = File.ReadAllText(target).Replace(CatalogFile.ReadTimestamp(target)!, header.GeneratedAtUtc!);
        return System.Text.Encoding.UTF8.GetBytes(written);
    }

    [Theory]
    [InlineData(SampleFlavor.Mixed)]
    [InlineData(SampleFlavor.Upstream)]
    public void Every_exported_catalog_read_through_its_record_type_and_written_again_is_the_same_bytes(
        SampleFlavor flavor)
    {
        using var sample = new Sample(taskRuns: 2, loops: 4, seed: 7, store: "sqlite", flavor: flavor);
        Assert.Equal(0, sample.Cli("init").Code);
        using var dir = new TempDir();
        foreach (var kind in CatalogFile.All)
        {
            var path = Path.Combine(sample.Settings.CatalogDirectory, CatalogFile.FileName(kind));
            // A guard that the round trip is tried on records, not an empty list; the bytes are compared next, and
            // how many records each kind has is ExportedRecordsTests' claim, not this one's.
            Assert.True(new FileInfo(path).Length > 200, $"{path} holds records");
            Assert.Equal(File.ReadAllBytes(path), Rewrite(path, kind, dir[CatalogFile.FileName(kind)]));
        }
    }

    [Theory]
    [InlineData("factor_catalog.json", CatalogKind.Factor)]
    [InlineData("strategy_catalog.json", CatalogKind.Strategy)]
    [InlineData("loop_catalog.json", CatalogKind.Loop)]
    [RealData]
    public void Every_field_of_the_forks_catalogs_survives_the_record_types_with_its_value(string file,
        CatalogKind kind)
    {
        // The fork writes its fields in its own order and leaves out what it does not know; the types keep every field
        // it wrote, with its value, known or not.
        var input = Paths.Fixture("rdagent-aistock-fork/tmp/" + file);
        using var dir = new TempDir();
        var output = JsonNode.Parse(Rewrite(input, kind, dir[file]))!;
        var original = JsonNode.Parse(File.ReadAllText(input))!;
        var list = CatalogFile.ListName(kind);
        var before = original[list]!.AsArray();
        var after = output[list]!.AsArray();
        Assert.Equal(before.Count, after.Count);
        for (var i = 0; i < before.Count; i++)
        {
            Assert.True(Keeps(before[i], after[i]),
                $"{file} record {i} was {before[i]!.ToJsonString()}, is {after[i]!.ToJsonString()}");
        }
        // RdBridge writes its own format's version: v2 for factors (their provenance apart, see ProvenanceFile).
        Assert.Equal(kind == CatalogKind.Factor ? "v2" : (string?)original["version"], (string?)output["version"]);
    }

    /// <summary>
    /// Whether <paramref name="after"/> holds every field of <paramref name="before"/>, at every depth, with the same
    /// value (it may add fields the input left out, as null).
    /// </summary>
    private static bool Keeps(JsonNode? before, JsonNode? after) => before switch
    {
        JsonObject o => after is JsonObject a && o.All(p => a.ContainsKey(p.Key) && Keeps(p.Value, a[p.Key])),
        JsonArray l => after is JsonArray a && a.Count == l.Count && l.Select((v, i) => Keeps(v, a[i])).All(k => k),
        _ => JsonNode.DeepEquals(before, after),
    };

    [Fact]
    public async Task A_field_no_record_type_knows_is_kept_from_the_catalog_to_the_database_the_api_and_show()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, seed: 7, store: "sqlite");
        Assert.Equal(0, sample.Cli("init").Code);
        // Another tool (the fork's Python exporter) adds a field of its own to one exported loop record.
        var path = Path.Combine(sample.Settings.CatalogDirectory, CatalogFile.FileName(CatalogKind.Loop));
        var catalog = JsonNode.Parse(File.ReadAllText(path))!;
        var loop = catalog["loops"]!.AsArray()[0]!.AsObject();
        var extra = new JsonObject { ["text"] = "假设：流动性异常因子与资金流交互", ["rank"] = 1.50 };
        loop["hypothesis_note"] = extra.DeepClone();
        File.WriteAllText(path, catalog.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }));
        var (taskRunId, loopId) = ((string)loop["task_run_id"]!, (long)loop["loop_id"]!);

        var (code, output, error) = sample.Cli("import");
        Assert.True(code == 0, output + error);

        // The stored payload, read with sqlite directly.
        var payload = JsonNode.Parse((string)Db.Rows(sample.Settings.AistockDatabase,
            $"SELECT payload FROM aistock_loop_catalog WHERE task_run_id = '{taskRunId}' AND loop_id = {loopId}")
            [0][0]!)!;
        Assert.True(JsonNode.DeepEquals(extra, payload["hypothesis_note"]));

        // What the API serves for the loop (its lineage) and a catalog page, and what show prints.
        using var store = AistockStores.Open(sample.Settings, migrate: false);
        var lineage = new LinkageQuery(sample.Settings, store).Loop(taskRunId, loopId)!;
        Assert.True(JsonNode.DeepEquals(extra, lineage["loop"]!["hypothesis_note"]));
        var page = new StringWriter();
        await store.Page(new CatalogPageRequest(CatalogKind.Loop, TaskRunId: taskRunId, LoopId: loopId))
            .WriteJsonAsync(page, "loops");
        Assert.True(JsonNode.DeepEquals(extra, JsonNode.Parse(page.ToString())!["items"]![0]!["hypothesis_note"]));
        var (showCode, shown, showError) = sample.Cli("show", "loop", taskRunId, loopId.ToString(), "--json");
        Assert.True(showCode == 0, shown + showError);
        Assert.True(JsonNode.DeepEquals(extra, JsonNode.Parse(shown)!["catalog"]!["hypothesis_note"]));
    }
}
