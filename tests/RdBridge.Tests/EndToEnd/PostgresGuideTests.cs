using System.Diagnostics;

namespace RdBridge.Tests.EndToEnd;

/// <summary>
/// The guide's own checks (步骤 4.3 and 6.2), run unchanged against a PostgreSQL AIstock database filled by
/// <c>rdbridge init</c>: through Npgsql for exact assertions, and through <c>psql</c> the way the guide runs them.
/// </summary>
public class PostgresGuideTests
{
    private const string Counts = """
        SELECT 'Factor Catalog' as catalog_type, COUNT(*) as count FROM aistock_factor_catalog
        UNION ALL
        SELECT 'Model Catalog', COUNT(*) FROM aistock_model_catalog
        UNION ALL
        SELECT 'Strategy Catalog', COUNT(*) FROM aistock_strategy_catalog
        UNION ALL
        SELECT 'Loop Catalog', COUNT(*) FROM aistock_loop_catalog;
        """;

    private const string Coverage = """
        SELECT 
            'Loop Catalog' as catalog_type,
            COUNT(*) as total,
            COUNT(asset_bundle_id) as with_bundle_id,
            ROUND(COUNT(asset_bundle_id)::numeric / COUNT(*) * 100, 1) as coverage_pct
        FROM aistock_loop_catalog
        UNION ALL
        SELECT 
            'Factor Catalog',
            COUNT(*),
            COUNT(asset_bundle_id),
            ROUND(COUNT(asset_bundle_id)::numeric / COUNT(*) * 100, 1)
        FROM aistock_factor_catalog
        UNION ALL
        SELECT 
            'Model Catalog',
            COUNT(*),
            COUNT(asset_bundle_id),
            ROUND(COUNT(asset_bundle_id)::numeric / COUNT(*) * 100, 1)
        FROM aistock_model_catalog
        UNION ALL
        SELECT 
            'Strategy Catalog',
            COUNT(*),
            COUNT(asset_bundle_id),
            ROUND(COUNT(asset_bundle_id)::numeric / COUNT(*) * 100, 1)
        FROM aistock_strategy_catalog;
        """;

    private const string Linkage = """
        SELECT 
            lc.task_run_id,
            lc.loop_id,
            lc.workspace_id,
            lc.workspace_path,
            lc.asset_bundle_id,
            fc.count as factor_count,
            mc.count as model_count
        FROM aistock_loop_catalog lc
        LEFT JOIN LATERAL (
            SELECT COUNT(*) as count
            FROM aistock_factor_catalog fc
            WHERE fc.task_run_id = lc.task_run_id AND fc.loop_id = lc.loop_id
        ) fc ON true
        LEFT JOIN LATERAL (
            SELECT COUNT(*) as count
            FROM aistock_model_catalog mc
            WHERE mc.task_run_id = lc.task_run_id AND mc.loop_id = lc.loop_id
        ) mc ON true
        WHERE lc.has_result = true
        LIMIT 10;
        """;

    [Fact]
    public void The_guides_sql_checks_run_unchanged_after_init_on_postgresql()
    {
        using var sample = new Sample(taskRuns: 2, loops: 4, store: "postgres");
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        var db = sample.Aistock;
        var s = sample.Settings;

        long InCatalog(string file, string list) =>
            System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(s.CatalogDirectory, file))).RootElement
                .GetProperty(list).GetArrayLength();
        var counts = db.Rows(Counts).ToDictionary(r => (string)r[0]!, r => (long)r[1]!);
        Assert.Equal(InCatalog("factor_catalog.json", "factors"), counts["Factor Catalog"]);
        Assert.Equal(InCatalog("model_catalog.json", "models"), counts["Model Catalog"]);
        Assert.Equal(InCatalog("strategy_catalog.json", "strategies"), counts["Strategy Catalog"]);
        Assert.Equal(
            Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1"), counts["Loop Catalog"]);

        foreach (var row in db.Rows(Coverage))
        {
            Assert.Equal(row[1], row[2]);
            Assert.Equal(100.0m, (decimal)row[3]!);
        }

        var linkage = db.Rows(Linkage);
        Assert.Equal(Math.Min(10, counts["Loop Catalog"]), linkage.Count);
        foreach (var r in linkage)
        {
            Assert.Equal($"bundle_{r[0]}_{r[1]}", r[4]);
            Assert.Equal(1L, Db.Scalar(s.RegistryPath,
                $"SELECT count(*) FROM workspaces WHERE task_run_id = '{r[0]}' AND loop_id = {r[1]} " +
                $"AND workspace_id = '{r[2]}' AND workspace_role = 'experiment_workspace'"));
        }
        // The LATERAL counts are the records the catalog files name for that loop (read here with System.Text.Json);
        // every loop found factors or trained a model.
        long InLoop(string file, string list, object? run, object? loop) =>
            System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(s.CatalogDirectory, file))).RootElement
                .GetProperty(list).EnumerateArray()
                .LongCount(e => e.GetProperty("task_run_id").GetString() == (string)run!
                    && e.GetProperty("loop_id").GetInt64() == (long)loop!);
        foreach (var r in linkage)
        {
            Assert.Equal(InLoop("factor_catalog.json", "factors", r[0], r[1]), (long)r[5]!);
            Assert.Equal(InLoop("model_catalog.json", "models", r[0], r[1]), (long)r[6]!);
        }
        foreach (var r in linkage)
        {
            // The counts are compared exactly above; this is the sample's own promise on top: no loop is empty.
            Assert.True((long)r[5]! + (long)r[6]! > 0, $"loop {r[0]}/{r[1]} has no factor and no model");
        }

        // And through psql, as the guide runs it.
        var psql = Process.Start(new ProcessStartInfo("psql",
            ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db.DatabaseName!, "-c", Coverage])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            Environment = { ["PGHOST"] = db.Host, ["PGPORT"] = db.Port.ToString(), ["PGUSER"] = "postgres" },
        })!;
        var text = psql.StandardOutput.ReadToEnd() + psql.StandardError.ReadToEnd();
        psql.WaitForExit();
        Assert.Equal(0, psql.ExitCode);
        Assert.Equal(4, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.EndsWith("|100.0")));
    }

    [Fact]
    public void Sync_status_and_verify_read_the_postgresql_store()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, store: "postgres");
        Assert.Equal(0, sample.Cli("init").Code);
        var (code, output, _) = sample.Cli("verify", "--json");
        Assert.True(code == 0, output);
        // Every item of the checklist, in its order, passed.
        var report = System.Text.Json.Nodes.JsonNode.Parse(output)!;
        Assert.True((bool)report["passed"]!);
        Assert.Equal(RdBridge.Verify.Checks.All.Select(c => (c.Id, true)),
            report["checks"]!.AsArray().Select(c => ((string)c!["id"]!, (bool)c["passed"]!)));
        (code, output, _) = sample.Cli("sync-status");
        Assert.Equal(0, code);
        // The one run so far: init, succeeded and finished.
        var status = System.Text.Json.Nodes.JsonNode.Parse(output)!;
        Assert.Equal((1L, "init", "succeeded", "finished"), ((long)status["id"]!, (string)status["mode"]!,
            (string)status["status"]!, (string)status["stage"]!));
        Assert.Equal(1, sample.Aistock.Scalar("SELECT count(*) FROM rdbridge_sync_runs WHERE status = 'succeeded'"));
    }
}

public class CatalogIntegrityTests
{
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Verify_names_a_catalog_row_whose_loop_is_missing_from_the_loop_catalog(string store)
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, store: store);
        Assert.Equal(0, sample.Cli("init").Code);
        var (tr, loop) = (sample.Aistock.Rows("SELECT task_run_id, loop_id FROM aistock_model_catalog ORDER BY 1, 2")[0]
            is var r ? ((string)r[0]!, (long)r[1]!) : default);
        sample.Aistock.Exec($"DELETE FROM aistock_loop_catalog WHERE task_run_id = '{tr}' AND loop_id = {loop}");
        var (code, output, _) = sample.Cli("verify");
        Assert.Equal(1, code);
        Assert.Contains(
            $"aistock_model_catalog: rows whose loop is not in aistock_loop_catalog, e.g. model_{tr}_{loop} " +
            $"→ loop {tr}/{loop}", output);
    }
}
