using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Verify;

namespace RdBridge.Tests.Verify;

/// <summary>
/// Every item of the checklist can fail: for each check, on each workspace layout RdBridge supports and with each
/// AIstock store (SQLite and PostgreSQL), the test breaks exactly what the check is about in a copy of a synced sample
/// and sees that check fail with a reason (not with "could not run"). A check that cannot fail checks nothing.
/// </summary>
public sealed class ChecklistTests
{
    /// <summary>
    /// RD-Agent's own <c>git_ignore_folder/RD-Agent_workspace/&lt;32 hex&gt;/</c>, and the guide's
    /// <c>log/&lt;task_run_id&gt;/workspace_&lt;id&gt;/</c>.
    /// </summary>
    private static readonly string[] LayoutNames = ["rdagent", "guide"];
    /// <summary>
    /// The pass's own store: ./test.sh runs the suite once per store, so every check is made to fail on SQLite in one
    /// pass and on PostgreSQL in the other, without running the 100 cases of both stores twice.
    /// </summary>
    private static readonly string[] StoreNames = [TestStore.Default];

    public static TheoryData<string, string> Layouts()
    {
        var data = new TheoryData<string, string>();
        foreach (var store in StoreNames)
            foreach (var layout in LayoutNames) data.Add(store, layout);
        return data;
    }

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var store in StoreNames)
        {
            foreach (var layout in LayoutNames)
                foreach (var check in Checks.All) data.Add(store, layout, check.Id);
        }
        return data;
    }

    [Fact, RealData]
    public void The_checklist_is_the_guide_s_25_items_in_four_groups_each_id_once()
    {
        Assert.Equal(25, Checks.All.Count);
        Assert.Equal(Checks.All.Count, Checks.All.Select(c => c.Id).Distinct().Count());
        Assert.Equal([8, 5, 7, 5], new[] { CheckGroup.RdAgent, CheckGroup.Aistock, CheckGroup.Linkage,
            CheckGroup.Function }
            .Select(g => Checks.All.Count(c => c.Group == g)));
        // The guide's own words lead every title (its 验证检查清单 in seed/).
        var guide = File.ReadAllText(Directory.GetFiles(Path.Combine(Paths.Shared, "seed"), "*.md")
            .Single(f => File.ReadAllText(f).Contains("验证检查清单")));
        foreach (var c in Checks.All.Where(c => c.Group == CheckGroup.RdAgent))
            Assert.Contains(c.TitleCn.Split(' ')[0], guide);
    }

    [Theory, MemberData(nameof(Layouts))]
    public void A_synced_sample_passes_every_check(string store, string layout)
    {
        using var copy = SyncedSample.Copy(layout, store);
        var report = new Checklist(copy.Settings, deep: true).Run();
        Assert.All(report.Checks, c => Assert.True(c.Passed, $"{c.Id}: {c.Detail}"));
        Assert.Equal(25, report.Checks.Count);
    }

    [Fact]
    public void Show_loop_exits_1_when_it_reports_a_problem_and_0_when_it_reports_none()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var loop = copy.FirstLoop;
        string[] args = ["show", "loop", (string)loop["task_run_id"]!, ((long)loop["loop_id"]!).ToString(), "--config",
            copy.Config];
        Assert.Equal(0, RdBridge.Cli.Program.Run(args, new StringWriter(), new StringWriter()));
        var workspace = copy.Settings.PathMap.Map((string?)loop["workspace_path"]).Local!;
        Directory.Move(workspace, workspace + ".moved");
        var output = new StringWriter();
        Assert.Equal(1, RdBridge.Cli.Program.Run(args, output, new StringWriter()));
        // The problem line names the loop and its workspace; the path after it is cut to the terminal's width.
        Assert.Contains(output.ToString().Split('\n'), l => l.StartsWith($"  ✗ loop {loop["task_run_id"]}/"
            + $"{loop["loop_id"]} workspace {Path.GetFileName(workspace)} is missing: '", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Cases))]
    public void Each_check_fails_when_what_it_checks_is_broken(string store, string layout, string id)
    {
        using var copy = SyncedSample.Copy(layout, store);
        var check = Checks.All.Single(c => c.Id == id);
        Assert.True(new Checklist(copy.Settings, deep: false).Run([check]).Checks[0].Passed,
            $"{id} must pass before the break");

        Break(id, copy);

        var result = new Checklist(copy.Settings, deep: false).Run([check]).Checks.Single();
        Assert.False(result.Passed,
            $"{id} passed after its break on the {layout} layout with {store}: {result.Detail}");
        Assert.DoesNotContain("could not run", result.Detail);
    }

    [Fact]
    public void A_check_counts_every_broken_loop_while_it_shows_only_a_few()
    {
        using var copy = new Sample(taskRuns: 2, loops: 8);
        var (code, output, _) = copy.Cli("init");
        Assert.True(code == 0, output);
        var bundles = Db.Rows(copy.Settings.RegistryPath,
            "SELECT asset_bundle_id FROM loops WHERE has_result = 1").Select(r => (string)r[0]!).ToList();
        // A guard on the sample, not a result: the exact count is used below.
        Assert.True(bundles.Count > 8,
            $"the sample needs more loops with results than a check keeps ({bundles.Count})");
        foreach (var id in bundles) File.Delete(copy.Settings.Bundles.Sidecar(id));

        var check = Checks.All.Single(c => c.Id == "rd.bundle_files");
        var result = new Checklist(copy.Settings, deep: false).Run([check]).Checks.Single();

        Assert.False(result.Passed);
        Assert.StartsWith($"{bundles.Count} missing: ", result.Detail);
        // Five of them shown, each a bundle whose sidecar the test deleted, none twice.
        var shown = result.Detail[(result.Detail.IndexOf(':') + 2)..].Split(", ");
        Assert.Equal(5, shown.Distinct().Count());
        Assert.Subset(bundles.ToHashSet(), shown.ToHashSet());
    }

    /// <summary>Breaks exactly what one check is about, for the first loop of the sample's loop catalog.</summary>
    private static void Break(string id, SyncedSample s)
    {
        var loop = s.FirstLoop;
        var tr = (string)loop["task_run_id"]!;
        var l = (long)loop["loop_id"]!;
        var bundle = (string)loop["asset_bundle_id"]!;
        var workspace = s.Settings.PathMap.Map((string?)loop["workspace_path"]).Local!;
        var where = $"task_run_id = '{tr}' AND loop_id = {l}";
        switch (id)
        {
            case "rd.registry_loops": s.Registry($"DELETE FROM workspaces WHERE {where}"); break;
            case "rd.workspace_metadata": File.Delete(Path.Combine(workspace, "feedback.json")); break;
            case "rd.model_meta_preprocess": File.WriteAllText(Path.Combine(workspace, "model_meta.json"),
                "{\"model_type\":\"LGBModel\"}"); break;
            case "rd.factor_meta_input_schema": File.WriteAllText(Path.Combine(workspace, "factor_meta.json"),
                "{\"factors\":[{\"name\":\"f\"}]}"); break;
            case "rd.strategy_meta_portfolio": File.WriteAllText(Path.Combine(workspace, "strategy_meta.json"),
                "{\"strategy_id\":\"s\"}"); break;
            case "rd.bundle_files": File.Delete(s.Settings.Bundles.Sidecar(bundle)); break;
            case "rd.bundle_rows": s.Registry($"UPDATE loops SET asset_bundle_id = NULL WHERE {where}"); break;
            case "rd.catalog_bundle_ids": s.EditExported(CatalogKind.Loop, r => r.Remove("asset_bundle_id")); break;
            case "ai.catalog_files": File.Delete(Path.Combine(s.Settings.AistockCatalogDirectory,
                CatalogFile.FileName(CatalogKind.Strategy))); break;
            case "ai.bundle_cache": File.Delete(s.Settings.AssetCache.Archive(bundle)); break;
            case "ai.db_records": s.Aistock($"DELETE FROM aistock_loop_catalog WHERE {where}"); break;
            case "ai.db_bundle_ids":
                s.Aistock(
                    $"UPDATE aistock_strategy_catalog SET asset_bundle_id = 'bundle_{new string('0', 32)}_0' " +
                    $"WHERE {where}"); break;
            case "ai.coverage": s.Aistock($"UPDATE aistock_loop_catalog SET asset_bundle_id = NULL WHERE {where}");
                break;
            case "link.loop_workspace": s.EditExported(CatalogKind.Loop, r => r["workspace_id"] = new string('0',
                32)); break;
            case "link.loop_bundle":
                s.EditExported(CatalogKind.Loop, r => r["asset_bundle_id"] = $"bundle_{tr}_{l + 900}");
                break;
            case "link.factor_loop": s.EditExported(CatalogKind.Factor, r => r["loop_id"] = 999); break;
            case "link.model_loop": s.EditExported(CatalogKind.Model, r => r["loop_id"] = 999); break;
            case "link.strategy_loop": s.EditExported(CatalogKind.Strategy, r => r["loop_id"] = 999); break;
            case "link.workspace_files": Directory.Move(workspace, workspace + ".moved"); break;
            case "link.bundle_extractable": File.Delete(s.Settings.AssetCache.ExtractedManifest(bundle)); break;
            case "fn.query_by_loop":
                s.Aistock(
                    $"DELETE FROM aistock_strategy_catalog WHERE strategy_id = '{(string)loop["strategy_id"]!}'");
                break;
            case "fn.bundle_by_id": File.Delete(s.Settings.AssetCache.ExtractedManifest(bundle)); break;
            // The issue's example: the guide's layout passed this one after qlib_res.csv was deleted.
            case "fn.workspace_access": File.Delete(Path.Combine(workspace, "qlib_res.csv")); break;
            case "fn.incremental_sync": s.Aistock("UPDATE aistock_factor_catalog SET content_hash = 'stale'"); break;
            case "fn.no_duplicates":
                File.Copy(s.Settings.Bundles.Archive(bundle),
                    s.Settings.Bundles.Archive($"bundle_{new string('0', 32)}_7"));
                break;
            default: throw new ArgumentException($"no break written for {id}");
        }
    }
}

/// <summary>
/// A sample after <c>init</c>, built once per layout and store; each test works on its own copy: of the folder, and
/// with PostgreSQL of the AIstock database too (a new database made from the built one as its template).
/// </summary>
internal sealed class SyncedSample : IDisposable
{
    private static readonly Dictionary<(string Layout, string Store), Lazy<Sample>> Built = new()
    {
        [("rdagent", "sqlite")] = new(() => Build("rdagent", "sqlite")),
        [("guide", "sqlite")] = new(() => Build("guide", "sqlite")),
        [("rdagent", "postgres")] = new(() => Build("rdagent", "postgres")),
        [("guide", "postgres")] = new(() => Build("guide", "postgres")),
    };

    private readonly TempDir _dir = new();
    private string? _database;
    private string? _postgres;

    private SyncedSample() { }

    public string Config => _dir["rdbridge.json"];
    public RdBridgeSettings Settings => SettingsLoader.Load(Config);

    /// <summary>One check of the checklist on this copy, run alone, as verify runs it.</summary>
    public CheckResult Check(string id, bool deep = false) =>
        new Checklist(Settings, deep).Run([Checks.All.Single(c => c.Id == id)]).Checks.Single();

    public JsonObject FirstLoop => ReadExported(CatalogKind.Loop)[0]!.AsObject();

    /// <summary>
    /// Set by <c>bench/mutation.sh</c> only: a folder that keeps each SQLite sample after <c>init</c> for the test
    /// hosts that follow. Stryker starts a test host per mutant, and building the sample again in each (init on a new
    /// sample, half a minute or more on a loaded machine) made a whole-folder run of Verify take many hours. The first
    /// host builds it with the product unchanged; a mutant of Verify then meets the synced state the checklist is
    /// meant to judge. The suite itself never sets it.
    /// </summary>
    public const string CacheVariable = "RDBRIDGE_TEST_SAMPLE_CACHE";

    public static SyncedSample Copy(string layout, string store)
    {
        var copy = new SyncedSample();
        var cache = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrEmpty(cache) && store == "sqlite")
        {
            var kept = Path.Combine(cache, layout);
            if (!Directory.Exists(kept))
            {
                var staging = kept + "." + Guid.NewGuid().ToString("N");
                CopyTree(Built[(layout, store)].Value.Dir.Path, staging);
                try { Directory.Move(staging, kept); }
                catch (IOException) { Directory.Delete(staging, recursive: true); } // another host kept it first
            }
            CopyTree(kept, copy._dir.Path);
            return copy;
        }
        var built = Built[(layout, store)].Value;
        CopyTree(built.Dir.Path, copy._dir.Path);
        if (built.Aistock.IsPostgres)
        {
            copy._database = "rdb_" + Guid.NewGuid().ToString("N")[..16];
            copy._postgres = $"{TestStore.PostgresServer};Database={copy._database}";
            Postgres(TestStore.PostgresServer + ";Database=postgres",
                $"CREATE DATABASE {copy._database} TEMPLATE {built.Aistock.DatabaseName}");
            var config = JsonNode.Parse(File.ReadAllText(copy.Config))!;
            config["aistock"]!["database"] = copy._postgres;
            File.WriteAllText(copy.Config, config.ToJsonString());
        }

        return copy;
    }

    private static Sample Build(string layout, string store)
    {
        var sample = new Sample(taskRuns: 1, loops: 3, store: store);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => sample.Dispose();
        if (layout == "guide") ToGuideLayout(sample);
        var (code, output, error) = sample.Cli("init");
        if (code != 0)
        {
            throw new InvalidOperationException(
                $"init on the {layout} layout with {store} exited {code}: {output}{error}");
        }

        if (sample.Aistock.IsPostgres)
        {
            // A template database takes no other session while it is copied: close this process's idle connections
            // to it, and end any a pool elsewhere still holds.
            Npgsql.NpgsqlConnection.ClearAllPools();
            Postgres(TestStore.PostgresServer + ";Database=postgres",
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
                $"WHERE datname = '{sample.Aistock.DatabaseName}' AND pid <> pg_backend_pid()");
        }

        return sample;
    }

    private static void Postgres(string connection, string sql)
    {
        using var c = new Npgsql.NpgsqlConnection(connection);
        c.Open();
        using var cmd = new Npgsql.NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// Moves every workspace to the guide's <c>log/&lt;task_run_id&gt;/workspace_&lt;workspace_id&gt;/</c> and records
    /// the
    /// new place in the registry, as an RD-Agent configured that way would have.
    /// </summary>
    private static void ToGuideLayout(Sample sample)
    {
        var settings = sample.Settings;
        foreach (var row in Db.Rows(settings.RegistryPath,
            "SELECT workspace_id, task_run_id, workspace_path FROM workspaces"))
        {
            var (id, tr, stored) = ((string)row[0]!, (string)row[1]!, (string)row[2]!);
            var from = settings.PathMap.Map(stored).Local!;
            var root = stored[..stored.Replace('\\', '/').IndexOf("/git_ignore_folder/", StringComparison.Ordinal)];
            var sep = stored.Contains('\\') ? "\\" : "/";
            var guide = string.Join(sep, root, "log", tr, $"workspace_{id}");
            var to = settings.PathMap.Map(guide).Local!;
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            Directory.Move(from, to);
            Db.Exec(settings.RegistryPath,
                $"UPDATE workspaces SET workspace_path = '{guide}' WHERE workspace_id = '{id}'");
        }
    }

    private JsonArray ReadExported(CatalogKind kind) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Settings.CatalogDirectory,
            CatalogFile.FileName(kind))))![CatalogFile.ListName(kind)]!.AsArray();

    /// <summary>Edits the first record of an exported catalog (the RD-Agent side's file, which verify reads).</summary>
    public void EditExported(CatalogKind kind, Action<JsonObject> edit)
    {
        var path = Path.Combine(Settings.CatalogDirectory, CatalogFile.FileName(kind));
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        var records = root[CatalogFile.ListName(kind)]!.AsArray();
        if (records.Count == 0)
            throw new InvalidOperationException($"the sample's {CatalogFile.FileName(kind)} has no record to break");
        edit(records[0]!.AsObject());
        File.WriteAllText(path, root.ToJsonString());
    }

    /// <summary>Edits every entry of the exported <c>factor_provenance.json</c>.</summary>
    public void EditProvenance(Action<JsonObject> edit)
    {
        var path = Path.Combine(Settings.CatalogDirectory, ProvenanceFile.FileName);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        foreach (var p in root[ProvenanceFile.List]!.AsArray()) edit(p!.AsObject());
        File.WriteAllText(path, root.ToJsonString());
    }

    public void Registry(string sql) => Db.Exec(Settings.RegistryPath, sql);

    /// <summary>A query on this copy's AIstock database, read with the database's own client, not RdBridge.</summary>
    public List<object?[]> AistockRows(string sql)
    {
        if (_postgres is null) return Db.Rows(Settings.AistockDatabase, sql);
        using var c = new Npgsql.NpgsqlConnection(_postgres);
        c.Open();
        using var cmd = new Npgsql.NpgsqlCommand(sql, c);
        return Db.Rows(cmd);
    }
    public void Aistock(string sql)
    {
        if (_postgres is not null) Postgres(_postgres, sql);
        else Db.Exec(Settings.AistockDatabase, sql);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
    }

    public void Dispose()
    {
        _dir.Dispose();
        if (_database is null) return;
        Npgsql.NpgsqlConnection.ClearAllPools();
        Postgres(TestStore.PostgresServer + ";Database=postgres", $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
    }
}
