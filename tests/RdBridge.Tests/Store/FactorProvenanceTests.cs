using System.Diagnostics;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Runs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// Which loops found each factor lives in <c>factor_provenance.json</c> and the <c>aistock_factor_provenance</c> table
/// (catalog format v2, schema version 7), not in the factor record: the entries are what the workspaces say, a factor
/// every loop uses keeps a record of constant size, an old catalog (provenance inline) still imports whole, and a
/// database made by schema version 6 keeps every entry when it is migrated.
/// </summary>
public class FactorProvenanceTests
{
    /// <summary>(factor name, task run, loop) for every factor each loop with results names in its experiment
    /// workspace's factor_meta.json, read by Python's sqlite3 and json from the registry and the workspaces.</summary>
    private static HashSet<string> NamedByWorkspaces(Sample sample)
    {
        var s = sample.Settings;
        const string script = """
            import json, os, sqlite3, sys
            registry, root = sys.argv[1], sys.argv[2]
            rows = sqlite3.connect(registry).execute(
                "SELECT l.task_run_id, l.loop_id, w.workspace_id FROM loops l JOIN workspaces w"
                " ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id"
                " AND w.workspace_role = 'experiment_workspace' WHERE l.has_result = 1")
            for tr, loop, ws in rows:
                meta = os.path.join(root, ws, "factor_meta.json")
                if os.path.exists(meta):
                    for f in json.load(open(meta, encoding="utf-8"))["factors"]:
                        print(f"{f['name']}|{tr}|{loop}")
            """;
        var psi = new ProcessStartInfo("python3", ["-c", script, s.RegistryPath, s.WorkspaceRoot])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, error);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
    }

    private static JsonArray Records(string path, string list) =>
        JsonNode.Parse(File.ReadAllText(path))![list]!.AsArray();

    [Fact]
    public void The_provenance_file_lists_exactly_the_loops_whose_workspaces_name_each_factor()
    {
        using var sample = new Sample(taskRuns: 2, loops: 4, seed: 7, store: "sqlite");
        Assert.Equal(0, sample.Cli("init").Code);
        var dir = sample.Settings.CatalogDirectory;
        var factors = Records(Path.Combine(dir, "factor_catalog.json"), "factors");
        var names = factors.ToDictionary(f => (string)f!["factor_id"]!, f => (string)f!["name"]!);
        var entries = Records(Path.Combine(dir, "factor_provenance.json"), "provenance");

        var listed = entries.Select(e => $"{names[(string)e!["factor_id"]!]}|{e["task_run_id"]}|{e["loop_id"]}")
            .ToList();
        Assert.Equal(NamedByWorkspaces(sample).Order(), listed.Distinct().Order());
        // One entry per factor and loop, each naming its loop's bundle.
        Assert.Equal(listed.Count, entries.Select(e => $"{e!["factor_id"]}|{e["task_run_id"]}|{e["loop_id"]}")
            .Distinct().Count());
        Assert.All(entries, e => Assert.Equal($"bundle_{e!["task_run_id"]}_{e["loop_id"]}",
            (string?)e["asset_bundle_id"]));
        // Records carry no provenance, count their loops, and name their first loop; the envelope says v2.
        Assert.Equal("v2", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "factor_catalog.json")))![
            "version"]);
        foreach (var f in factors)
        {
            Assert.Null(f!["provenance"]);
            var mine = entries.Where(e => (string?)e!["factor_id"] == (string?)f["factor_id"]).ToList();
            Assert.Equal(mine.Count, (long)f["occurrences"]!);
            Assert.Equal($"{f["task_run_id"]}/{f["loop_id"]}", $"{mine[0]!["task_run_id"]}/{mine[0]!["loop_id"]}");
        }

        // The AIstock side has the same rows in its table, and a copy of the file beside its catalogs.
        var table = sample.Aistock.Rows(
                "SELECT factor_id, task_run_id, loop_id, asset_bundle_id, loaded_from FROM aistock_factor_provenance")
            .Select(r => string.Join("|", r)).Order();
        Assert.Equal(entries.Select(e => string.Join("|", e!["factor_id"], e["task_run_id"], e["loop_id"],
            e["asset_bundle_id"], (string?)e["loaded_from"])).Order(), table);
        Assert.True(File.Exists(Path.Combine(sample.Settings.AistockCatalogDirectory, "factor_provenance.json")));
    }

    [Fact]
    public void A_factor_every_loop_uses_has_a_record_of_the_same_size_however_many_loops_use_it()
    {
        string Resi5(int loops, out long occurrences)
        {
            using var sample = new Sample(taskRuns: 1, loops: loops, seed: 11, store: "sqlite");
            Assert.Equal(0, sample.Cli("init").Code);
            var dir = sample.Settings.CatalogDirectory;
            var record = Records(Path.Combine(dir, "factor_catalog.json"), "factors")
                .Single(f => (string?)f!["name"] == "RESI5")!.AsObject();
            occurrences = (long)record["occurrences"]!;
            Assert.Equal(occurrences, Records(Path.Combine(dir, "factor_provenance.json"), "provenance")
                .Count(e => (string?)e!["factor_id"] == (string?)record["factor_id"]));
            record.Remove("occurrences");
            return record.ToJsonString();
        }

        var few = Resi5(2, out var fewLoops);
        var many = Resi5(12, out var manyLoops);
        // A premise on the generated samples, not the check: the longer run has many more loops after the first one.
        Assert.True(manyLoops >= fewLoops + 5, $"{fewLoops} and {manyLoops} loops");
        // The same first loop gives the same record, whatever the number of loops after it.
        Assert.Equal(few.Length, many.Length);
    }

    private static string Generate(TempDir dir, int factors, int loops)
    {
        var folder = dir["old"];
        using var p = Process.Start(new ProcessStartInfo("python3",
            [Path.Combine(Paths.RepoRoot, "bench", "gen_catalogs.py"), "--v1", folder, $"{factors}", $"{loops}"]))!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return folder;
    }

    /// <summary>The inline entries of an old (v1) factor catalog, as "factor|task run|loop|bundle", one per factor and
    /// loop (the first of a repeated one).</summary>
    private static List<string> Inline(string folder) => [.. Records(
            Path.Combine(folder, "factor_catalog.json"), "factors")
        .SelectMany(f => f!["provenance"]!.AsArray().Select(p =>
            $"{f["factor_id"]}|{p!["task_run_id"]}|{p["loop_id"]}|{p["asset_bundle_id"]}"))
        .Distinct().Order()];

    private static List<string> Table(TestStore db) => [.. db.Rows(
            "SELECT factor_id, task_run_id, loop_id, asset_bundle_id FROM aistock_factor_provenance")
        .Select(r => string.Join("|", r)).Order()];

    private static void ImportFolder(IAistockStore store, string folder, StageReport report)
    {
        using var session = store.BeginImport();
        session.Savepoint();
        CatalogImport.Run(session, CatalogKind.Factor, Path.Combine(folder, "factor_catalog.json"));
        session.ReleaseSavepoint();
        ProvenanceImport.FromDirectory(session, folder, report);
        session.Commit();
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void An_old_catalog_with_inline_provenance_imports_into_the_table(string kind)
    {
        using var dir = new TempDir();
        // Enough entries for several full batches of the upsert (400 rows a statement) and a partial last one: a
        // reused batch statement once lost whole batches on PostgreSQL.
        var folder = Generate(dir, 1500, 60);
        var expected = Inline(folder);
        // A premise about the generated input (several batches), not a result: the table is compared whole below.
        Assert.True(expected.Count > 3 * 400, $"{expected.Count} entries: too few for several batches");
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate();
        var report = new StageReport("import");
        ImportFolder(store, folder, report);
        Assert.Empty(report.Problems);
        Assert.Equal(expected, Table(db));

        // The same file again is not read; rows removed behind its back are written again.
        db.Exec("DELETE FROM aistock_factor_provenance WHERE loop_id = 0");
        ImportFolder(store, folder, new StageReport("import"));
        Assert.Equal(expected, Table(db));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Migrating_a_schema_6_database_moves_every_provenance_entry_into_the_table(string kind)
    {
        using var dir = new TempDir();
        var folder = Generate(dir, 300, 40);
        var catalog = Path.Combine(folder, "factor_catalog.json");
        var expected = Inline(folder);
        using var db = TestStore.Create(kind, dir);
        using (var old = db.Open())
        {
            old.Migrate(upTo: ProvenanceTable.Version - 1);
            Assert.Equal(300, StoreTests.Import(old, CatalogKind.Factor, catalog).Inserted);
            Assert.Equal(300, db.Scalar("SELECT count(*) FROM aistock_factor_catalog WHERE provenance IS NOT NULL"));
        }
        using var store = db.Open();
        // Version 7 and every later one (a later version's own migration is not this test's subject).
        Assert.Equal(StoreSchema.Migrations.Select(m => m.Version).Where(v => v >= ProvenanceTable.Version),
            store.Migrate());
        Assert.Equal(expected, Table(db));
        // Moved, not copied: the factor rows no longer hold them.
        Assert.Equal(0, db.Scalar("SELECT count(*) FROM aistock_factor_catalog WHERE provenance IS NOT NULL"));
        Assert.All(db.Rows("SELECT payload FROM aistock_factor_catalog"),
            r => Assert.Null(JsonNode.Parse(r[0]!.ToString()!)!["provenance"]));

        // The factors of a loop and the loops of a factor are read from the table.
        var factors = Records(catalog, "factors");
        var loop = expected[0].Split('|');
        var named = factors.Where(f => f!["provenance"]!.AsArray().Any(p =>
                (string?)p!["task_run_id"] == loop[1] && (long?)p["loop_id"] == long.Parse(loop[2])))
            .Select(f => (string)f!["factor_id"]!).Order();
        Assert.Equal(named, store.FactorsOfLoop(loop[1], long.Parse(loop[2])).Select(f => f.FactorId!).Order());
        var busiest = factors.MaxBy(f => f!["provenance"]!.AsArray().Count)!;
        var itsLoops = busiest["provenance"]!.AsArray()
            .Select(p => ((string)p!["task_run_id"]!, (long)p["loop_id"]!)).Distinct()
            .OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2).ToList();
        var found = store.FoundIn((string)busiest["factor_id"]!, 1);
        Assert.Equal(itsLoops.Count, found.Total);
        Assert.Equal(itsLoops[0], (found.First.Single().TaskRunId!, found.First.Single().LoopId!.Value));
    }
}
