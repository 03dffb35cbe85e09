using System.Diagnostics;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// A first import of a large catalog into an empty SQLite table builds the table's indexes and search index after the
/// rows are in: the database it leaves is the one the row-by-row import leaves (rows, schema, table versions, search
/// answers), and a failed one leaves the indexes as they were. The search answers are computed from the catalog file.
/// </summary>
public class SqliteBulkImportTests
{
    private static readonly string[] Texts = ["name", "expression", "description_cn", "formula_hint"];
    // The registry views a commit adds aside.
    private const string Schema =
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type <> 'view' ORDER BY name";

    [Fact]
    public void A_bulk_first_import_stores_what_the_row_by_row_import_stores_and_a_failed_one_keeps_the_indexes()
    {
        using var dir = new TempDir();
        var gen = dir["gen"];
        Generate(gen, 300, 12);
        var bulkDb = TestStore.Create("sqlite", dir);
        var plainDb = new TestStore { Setting = dir["plain/aistock.db"] };
        using var bulk = new SqliteAistockStore(bulkDb.Setting) { BulkLoadBytes = 0 };
        using var plain = new SqliteAistockStore(plainDb.Setting) { BulkLoadBytes = long.MaxValue };
        bulk.Migrate();
        plain.Migrate();
        var before = Rows(bulkDb, Schema);
        Assert.Contains(before, r => r.Contains("idx_aistock_factor_catalog_ic|"));
        Assert.Contains(before, r => r.StartsWith("trigger|trg_aistock_factor_search_insert|"));

        // A catalog that breaks part-way: its savepoint rolls back, and every index and trigger is back.
        var factors = Path.Combine(gen, "factor_catalog.json");
        var text = File.ReadAllText(factors);
        Directory.CreateDirectory(dir["broken"]);
        File.WriteAllText(dir["broken/factor_catalog.json"], text[..(text.Length * 2 / 3)]);
        using (var session = bulk.BeginImport())
        {
            session.Savepoint();
            // The file's own length: where the cut left it.
            var broken = dir["broken/factor_catalog.json"];
            Assert.Equal($"{broken} ends at byte {new FileInfo(broken).Length} in the middle of a value; the file is "
                + "truncated — export it again", Assert.Throws<FormatException>(() =>
                CatalogImport.Run(session, CatalogKind.Factor, broken)).Message);
            session.RollbackToSavepoint();
            session.Commit();
        }
        Assert.Equal(before, Rows(bulkDb, Schema));
        Assert.Equal(0, bulkDb.Scalar("SELECT count(*) FROM aistock_factor_catalog"));

        // The whole catalogs: the same rows, schema and table versions as the row-by-row path writes.
        foreach (var kind in CatalogFile.All)
        {
            var path = Path.Combine(gen, CatalogFile.FileName(kind));
            var b = StoreTests.Import(bulk, kind, path);
            var p = StoreTests.Import(plain, kind, path);
            Assert.Equal((p.Inserted, 0L, 0L), (b.Inserted, b.Skipped, b.Failed));
            // Every record of the file, read with JsonNode (a loop counted once, however many records name it).
            var inFile = JsonNode.Parse(File.ReadAllText(path))!.AsObject().Single(p => p.Value is JsonArray).Value!
                .AsArray().Count;
            Assert.Equal(kind == CatalogKind.Loop ? StoreTests.LoopsIn(path) : inFile, b.Inserted);
            var table = CatalogTable.For(kind).Name;
            var columns = bulkDb.Rows($"SELECT name FROM pragma_table_info('{table}') " +
                "WHERE name NOT IN ('imported_at', 'updated_at') ORDER BY cid").Select(r => (string)r[0]!);
            var rows = $"SELECT rowid, {string.Join(", ", columns)} FROM {table} ORDER BY rowid";
            Assert.Equal(Rows(plainDb, rows), Rows(bulkDb, rows));
        }
        Assert.Equal(before, Rows(bulkDb, Schema));
        Assert.Equal(Rows(plainDb, "SELECT * FROM rdbridge_table_versions ORDER BY 1"),
            Rows(bulkDb, "SELECT * FROM rdbridge_table_versions ORDER BY 1"));
        Assert.Equal(["ok"], Rows(bulkDb, "PRAGMA integrity_check"));
        bulkDb.Exec("INSERT INTO aistock_factor_search(aistock_factor_search, rank) VALUES ('integrity-check', 1)");

        // The search index holds every row: each query finds exactly the factors whose texts hold it.
        var records = JsonNode.Parse(text)!["factors"]!.AsArray().Select(f => f!).ToList();
        var first = (string)records[0]["name"]!;
        string[] queries = [first, first[^9..], "MEAN($CLOSE/$LOW", "价量关系因子 #1", "_00001", "zz-not-there"];
        foreach (var q in queries) Assert.Equal(Expected(records, q), Found(bulk, q));

        // The trigger is back: a later import's change is found by its new text.
        var doc = JsonNode.Parse(text)!;
        doc["factors"]![5]!["description_cn"] = "季节性换手率因子";
        File.WriteAllText(factors, doc.ToJsonString());
        Assert.Equal(1, StoreTests.Import(bulk, CatalogKind.Factor, factors).Updated);
        Assert.Equal([(string)doc["factors"]![5]!["factor_id"]!], Found(bulk, "季节性"));
    }

    private static List<string> Rows(TestStore db, string sql) =>
        [.. db.Rows(sql).Select(r => string.Join("|", r.Select(v => v switch
        {
            double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            _ => v?.ToString() ?? "∅",
        })))];

    private static void Generate(string folder, int factors, int loops)
    {
        using var p = Process.Start(new ProcessStartInfo("python3",
            [Path.Combine(Paths.RepoRoot, "bench", "gen_catalogs.py"), folder, $"{factors}", $"{loops}"]))!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>The ids of every factor holding the text (ASCII case aside), sorted.</summary>
    private static List<string> Expected(List<JsonNode> factors, string q) => [.. factors
        .Where(f => Texts.Any(t => f[t] is JsonValue v && v.GetValue<string>().Contains(q,
            StringComparison.OrdinalIgnoreCase)))
        .Select(f => (string)f["factor_id"]!).Order(StringComparer.Ordinal)];

    private static List<string> Found(IAistockStore store, string q)
    {
        var page = CatalogQuery.Run(store, new CatalogPageRequest(CatalogKind.Factor, Search: q,
            PageSize: CatalogQuery.MaxPageSize));
        Assert.Equal(page.Total, page.Items.Count);
        return [.. page.Items.Select(i => (string)JsonNode.Parse(i.Payload)!["factor_id"]!)
            .Order(StringComparer.Ordinal)];
    }
}
