using System.Diagnostics;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// Schema version 9: on SQLite the catalog tables' JSON columns are computed from the payload when read, not stored a
/// second time. Every reader (the guide's SQL, AIstock, the <c>sqlite3</c> tool) still finds in each column the value
/// the catalog gives, in a new database and in one migrated from version 8; PostgreSQL keeps its columns as they were.
/// </summary>
public class PayloadColumnsTests
{
    /// <summary>Every JSON column, named here rather than taken from RdBridge's table definitions.</summary>
    private static readonly (string Table, string[] Key, string[] Json)[] Tables =
    [
        ("aistock_factor_catalog", ["factor_id"], ["input_schema", "tags", "performance_metrics", "provenance"]),
        ("aistock_model_catalog", ["model_id"],
            ["model_config", "dataset_config", "preprocess_config", "feature_schema", "model_artifacts", "metrics"]),
        ("aistock_strategy_catalog", ["strategy_id"],
            ["portfolio_config", "backtest_config", "feature_list", "python_implementation", "metrics"]),
        ("aistock_loop_catalog", ["task_run_id", "loop_id"], ["factor_names", "metrics", "summary_texts", "paths"]),
    ];

    /// <summary>
    /// Factors whose JSON fields are what the generator never writes: a JSON null, a missing field, a string, an empty
    /// object and array, escapes, Chinese, numbers written unusually.
    /// </summary>
    private const string OddFactors = """
        {"factor_id": "factor_odd_null", "name": "Odd_null", "source": "rdagent_generated", "tags": null,
         "input_schema": {"说明": "中文 \u00e9 \"quoted\" \\ back\nline", "n": 1.50, "e": 1e-5,
           "big": 12345678901234567890, "nested": [[], {}, [null, true, false]]}, "performance_metrics": {}},
        {"factor_id": "factor_odd_text", "name": "Odd_text", "source": "rdagent_generated", "tags": "single",
         "input_schema": [], "performance_metrics": {"ic": -0.0, "icir": 2E+3}},
        {"factor_id": "factor_odd_missing", "name": "Odd_missing", "source": "rdagent_generated"}
        """;

    /// <summary>The four catalogs of the benchmarks' generator (format v1, provenance inline), and the odd
    /// factors.</summary>
    private static string Catalogs(TempDir dir, int factors, int loops)
    {
        var folder = dir["catalogs"];
        using (var p = Process.Start(new ProcessStartInfo("python3",
            [Path.Combine(Paths.RepoRoot, "bench", "gen_catalogs.py"), "--v1", folder, $"{factors}", $"{loops}"]))!)
        {
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }
        var path = Path.Combine(folder, "factor_catalog.json");
        var text = File.ReadAllText(path);
        Assert.EndsWith("\n  ]\n}\n", text);
        File.WriteAllText(path, text[..^"\n  ]\n}\n".Length] + ",\n" + OddFactors + "\n  ]\n}\n");
        return folder;
    }

    private static void ImportAll(IAistockStore store, string folder)
    {
        foreach (var (kind, file) in new[]
        {
            (CatalogKind.Factor, "factor_catalog.json"), (CatalogKind.Model, "model_catalog.json"),
            (CatalogKind.Strategy, "strategy_catalog.json"), (CatalogKind.Loop, "loop_catalog.json"),
        })
        {
            var summary = StoreTests.Import(store, kind, Path.Combine(folder, file));
            Assert.Equal(0, summary.Failed);
            Assert.Equal(0, summary.Skipped);
        }
    }

    /// <summary>
    /// Python's sqlite3 (the system's SQLite, not the one RdBridge ships) reads every JSON column of every row and
    /// Python's json the catalog files: each column is the record's field (SQL NULL when it is missing or null).
    /// Returns how many non-null values were compared.
    /// </summary>
    private static long PythonChecksEveryJsonColumn(string database, string folder)
    {
        var tables = string.Join(",\n", Tables.Select(t =>
            $"    (\"{t.Table}\", [{string.Join(", ", t.Key.Select(k => $"\"{k}\""))}], " +
            $"[{string.Join(", ", t.Json.Select(c => $"\"{c}\""))}])"));
        var script = $$"""
            import json, os, sqlite3, sys
            db, folder = sys.argv[1], sys.argv[2]
            TABLES = [
            {{tables}}
            ]
            FILES = {"aistock_factor_catalog": ("factor_catalog.json", "factors"),
                     "aistock_model_catalog": ("model_catalog.json", "models"),
                     "aistock_strategy_catalog": ("strategy_catalog.json", "strategies"),
                     "aistock_loop_catalog": ("loop_catalog.json", "loops")}
            c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            compared = 0
            for table, key, cols in TABLES:
                file, name = FILES[table]
                with open(os.path.join(folder, file), encoding="utf-8") as f:
                    records = {tuple(r[k] for k in key): r for r in json.load(f)[name]}
                rows = c.execute(f"SELECT {', '.join(key + cols)} FROM {table}").fetchall()
                assert len(rows) == len(records), (table, len(rows), len(records))
                for row in rows:
                    record = records[tuple(row[:len(key)])]
                    for col, text in zip(cols, row[len(key):]):
                        want = record.get(col)
                        got = None if text is None else json.loads(text)
                        assert got == want and (text is None or isinstance(text, str)), (table, row[0], col, text)
                        compared += want is not None
            print(compared)
            """;
        using var p = Process.Start(new ProcessStartInfo("python3", ["-c", script, database, folder])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, error);
        return long.Parse(output.Trim());
    }

    /// <summary>Each column's kind in SQLite's own words: 2 is a virtual generated column, 0 a stored
    /// one.</summary>
    private static Dictionary<string, long> Hidden(string database, string table) =>
        Db.Rows(database, $"PRAGMA table_xinfo({table})").ToDictionary(r => (string)r[1]!, r => (long)r[6]!);

    [Fact]
    public void A_new_database_computes_every_json_column_from_the_payload_and_holds_the_catalog_values()
    {
        using var dir = new TempDir();
        var folder = Catalogs(dir, 300, 12);
        using var db = TestStore.Create("sqlite", dir);
        using (var store = db.Open())
        {
            store.Migrate();
            ImportAll(store, folder);
        }
        // 300 + 3 factors (four columns, one of them null in each odd factor), 12 loops (six model, five strategy and
        // four loop columns).
        Assert.Equal(300 * 4 + 5 + 12 * (6 + 5 + 4), PythonChecksEveryJsonColumn(db.Setting, folder));
        foreach (var (table, _, json) in Tables)
        {
            var hidden = Hidden(db.Setting, table);
            // A loop's metrics stay stored: the column holds RdBridge's metric names where a catalog of the Python
            // tools uses Qlib's, so it is not the payload's field.
            foreach (var c in json)
                Assert.True(hidden[c] == (table == "aistock_loop_catalog" && c == "metrics" ? 0 : 2), $"{table}.{c}");
        }
        Assert.Equal(["[\"rdagent\",\"generated\"]"], db.Rows(
            "SELECT DISTINCT tags FROM aistock_factor_catalog WHERE factor_id NOT LIKE 'factor_odd_%'")
            .Select(r => (string)r[0]!));

        // A changed record changes its column: nothing is written there, the payload is the only copy.
        var path = Path.Combine(folder, "factor_catalog.json");
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace("\"tags\": \"single\"", "\"tags\": [\"changed\", 1]"));
        using (var store = db.Open())
            Assert.Equal(1, StoreTests.Import(store, CatalogKind.Factor, path).Updated);
        Assert.Equal("[\"changed\",1]", db.Rows(
            "SELECT tags FROM aistock_factor_catalog WHERE factor_id = 'factor_odd_text'")[0][0]);
        Assert.Equal(300 * 4 + 5 + 12 * (6 + 5 + 4), PythonChecksEveryJsonColumn(db.Setting, folder));
    }

    /// <summary>Every column of every catalog row, by name, as the database's driver returns it.</summary>
    private static Dictionary<string, Dictionary<string, object?>> Snapshot(TestStore db, string table, string[] key)
    {
        var columns = key.Concat(CatalogTable.All.Single(t => t.Name == table).Columns.Select(c => c.Name))
            .Concat(["payload", "content_hash", "imported_at", "updated_at"]).Distinct().ToList();
        return db.Rows($"SELECT {string.Join(", ", columns)} FROM {table}").ToDictionary(
            r => string.Join("/", r.Take(key.Length)),
            r => columns.Select((c, i) => (c, r[i])).ToDictionary(x => x.c, x => x.Item2));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Migrating_a_version_8_database_keeps_every_value_of_every_row(string kind)
    {
        using var dir = new TempDir();
        var folder = Catalogs(dir, 400, 20);
        using var db = TestStore.Create(kind, dir);
        using (var old = db.Open())
        {
            old.Migrate(upTo: CatalogTable.PayloadColumnsVersion - 1);
            ImportAll(old, folder);
        }
        var before = Tables.ToDictionary(t => t.Table, t => Snapshot(db, t.Table, t.Key));
        var pages = kind == "sqlite" ? db.Scalar("PRAGMA page_count") : 0;
        using (var store = db.Open())
            Assert.Equal([CatalogTable.PayloadColumnsVersion], store.Migrate());

        foreach (var (table, key, json) in Tables)
        {
            var after = Snapshot(db, table, key);
            Assert.Equal(before[table].Keys.Order(), after.Keys.Order());
            foreach (var (id, row) in before[table])
            {
                foreach (var (column, value) in row)
                {
                    var now = after[id][column];
                    if (kind == "sqlite" && json.Contains(column) && value is string was)
                    {
                        // The same JSON value; its text is now the payload's compact writing of it.
                        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(was), JsonNode.Parse((string)now!)),
                            $"{table} {id} {column}: {was} became {now}");
                    }
                    else
                    {
                        Assert.True(Equals(value, now), $"{table} {id} {column}: {value} became {now}");
                    }
                }
            }
        }
        if (kind != "sqlite") return;
        Assert.Equal(400 * 4 + 5 + 20 * (6 + 5 + 4), PythonChecksEveryJsonColumn(db.Setting, folder));
        Assert.Equal(2, Hidden(db.Setting, "aistock_factor_catalog")["performance_metrics"]);
        // The second copies are gone from the file, not only from the rows (the VACUUM after the migration).
        Assert.Equal(0, db.Scalar("PRAGMA freelist_count"));
        // How many pages the copies filled depends on SQLite's packing of the rows: only that the file shrank is known.
        Assert.True(db.Scalar("PRAGMA page_count") < pages, $"{pages} pages before");
        // The search index still points at the right rows.
        db.Exec("INSERT INTO aistock_factor_search(aistock_factor_search) VALUES ('integrity-check')");
        using (var store = db.Open())
        {
            var found = CatalogQuery.Run(store, new CatalogPageRequest(CatalogKind.Factor, Search: "Odd_nu"));
            Assert.Equal(["factor_odd_null"],
                found.Items.Select(i => (string)JsonNode.Parse(i.Payload)!["factor_id"]!));
        }
        // A record changed after the migration: its columns follow its payload.
        var path = Path.Combine(folder, "factor_catalog.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"input_schema\": []", "\"input_schema\": {\"a\": 1}"));
        using (var store = db.Open())
            Assert.Equal(1, StoreTests.Import(store, CatalogKind.Factor, path).Updated);
        Assert.Equal(400 * 4 + 5 + 20 * (6 + 5 + 4), PythonChecksEveryJsonColumn(db.Setting, folder));
    }
}
