using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Tests.Pickles;

namespace RdBridge.Tests.Backfill;

/// <summary>
/// Backfill turns each result loop's backtest curve (<c>ret.pkl</c>) into <c>backtest_report.json</c> beside the other
/// metadata; the bundle carries it and the loop catalog sums it up.
/// </summary>
public class BacktestCurveBackfillTests
{
    private static List<(string TaskRunId, long LoopId, string WorkspaceId, string? BundleId, string Folder)>
        ResultLoops(Sample sample) => Db.Rows(sample.Settings.RegistryPath,
            "SELECT l.task_run_id, l.loop_id, w.workspace_id, l.asset_bundle_id FROM loops l " +
            "JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id " +
            "AND w.workspace_role = 'experiment_workspace' WHERE l.has_result = 1 ORDER BY 1, 2")
        .Select(r => ((string)r[0]!, Convert.ToInt64(r[1]), (string)r[2]!, r[3] as string,
            Path.Combine(sample.Settings.WorkspaceRoot, (string)r[2]!)))
        .ToList();

    // The digest computed here, not by RdBridge's hashing.
    private static string Sha256(string path) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));

    private static byte[]? BundleEntry(string bundle, string suffix) => BundleArchive.Entries(bundle)
        .Where(e => e.Name.EndsWith(suffix, StringComparison.Ordinal)).Select(e => e.Data).FirstOrDefault();

    /// <summary>What pandas reads from a report pickle, computed the way Qlib's risk analysis does.</summary>
    private static JsonElement PandasSummary(string workdir, string pickle) => JsonDocument.Parse(RealPandas.Run(
        workdir, $$"""
        import json, pandas as pd
        df = pd.read_pickle({{RealPandas.Py(pickle)}})
        without = (df["return"] - df["bench"]).cumsum()
        withc = (df["return"] - df["bench"] - df["cost"]).cumsum()
        print(json.dumps({"first": df.index[0].strftime("%Y-%m-%d"), "last": df.index[-1].strftime("%Y-%m-%d"),
                          "days": len(df), "without": float(without.iloc[-1]), "with": float(withc.iloc[-1]),
                          "mdd": float((withc - withc.cummax()).min())}))
        """)).RootElement;

    [Fact]
    public void Init_gives_every_result_loop_a_backtest_report_in_its_workspace_bundle_and_catalog()
    {
        using var sample = new Sample(taskRuns: 2, loops: 3, store: "sqlite");
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        Assert.DoesNotContain("differs from", output + err);
        var catalog = JsonNode.Parse(File.ReadAllText(
            Path.Combine(sample.Settings.CatalogDirectory, "loop_catalog.json")))!["loops"]!.AsArray();
        var loops = ResultLoops(sample);
        // The loops checked are exactly the experiment workspaces that hold a ret.pkl on disk (none left out).
        var experiments = Db.Rows(sample.Settings.RegistryPath,
                "SELECT workspace_id FROM workspaces WHERE workspace_role = 'experiment_workspace'")
            .Select(r => (string)r[0]!).ToHashSet();
        var withCurve = Directory.EnumerateDirectories(sample.Settings.WorkspaceRoot)
            .Where(d => experiments.Contains(Path.GetFileName(d)) && File.Exists(Path.Combine(d, "ret.pkl")))
            .Order(StringComparer.Ordinal).ToList();
        // A premise: which loops have results is the seeded generator's choice; the exact set is compared below.
        Assert.NotEmpty(withCurve);
        Assert.Equal(withCurve, loops.Select(l => l.Folder).Order(StringComparer.Ordinal));
        foreach (var loop in loops)
        {
            var path = Path.Combine(loop.Folder, "backtest_report.json");
            Assert.True(File.Exists(path), path);
            var bytes = File.ReadAllBytes(path);
            var json = JsonNode.Parse(bytes)!.AsObject();
            Assert.Equal("ret.pkl", (string?)json["source"]);
            var retPkl = Path.Combine(loop.Folder, "ret.pkl");
            Assert.Equal(Sha256(retPkl), (string?)json["source_sha256"]);

            var pandas = PandasSummary(loop.Folder, retPkl);
            var dates = json["dates"]!.AsArray();
            Assert.Equal(pandas.GetProperty("days").GetInt32(), dates.Count);
            Assert.Equal(pandas.GetProperty("first").GetString(), (string?)dates[0]);
            Assert.Equal(pandas.GetProperty("last").GetString(), (string?)dates[^1]);
            var summary = json["summary"]!;
            Assert.Equal(pandas.GetProperty("without").GetDouble(),
                (double)summary["final_excess_return_without_cost"]!, 12);
            Assert.Equal(pandas.GetProperty("with").GetDouble(), (double)summary["final_excess_return_with_cost"]!, 12);
            Assert.Equal(pandas.GetProperty("mdd").GetDouble(), (double)summary["max_drawdown"]!, 12);

            // A guard: the id (RdBridge's, a content hash) names the bundle whose entry is compared byte for byte.
            Assert.NotNull(loop.BundleId);
            var inBundle = BundleEntry(Path.Combine(sample.Settings.BundleDirectory, loop.BundleId + ".tar.gz"),
                $"{loop.WorkspaceId}/backtest_report.json");
            Assert.True(inBundle is not null, $"bundle {loop.BundleId} has no backtest_report.json");
            Assert.Equal(bytes, inBundle);

            var record = catalog.Single(l => (string?)l!["task_run_id"] == loop.TaskRunId
                && (long)l!["loop_id"]! == loop.LoopId)!;
            var backtest = record["backtest"]!;
            Assert.Equal((string?)dates[0], (string?)backtest["first_day"]);
            Assert.Equal((string?)dates[^1], (string?)backtest["last_day"]);
            Assert.Equal(dates.Count, (int)backtest["trading_days"]!);
            Assert.Equal((double)summary["final_excess_return_with_cost"]!,
                (double)backtest["final_excess_return_with_cost"]!);
            Assert.Equal((double)summary["final_excess_return_without_cost"]!,
                (double)backtest["final_excess_return_without_cost"]!);
            Assert.Equal((double)summary["max_drawdown"]!, (double)backtest["max_drawdown"]!);
            Assert.True((bool)backtest["max_drawdown_matches_qlib"]!);
            Assert.Equal("ret.pkl", (string?)backtest["source"]);
        }
        // A second run changes nothing: the report's bytes are the same.
        var before = loops.Select(l => File.GetLastWriteTimeUtc(Path.Combine(l.Folder, "backtest_report.json")))
            .ToList();
        Assert.Equal(0, sample.Cli("backfill", "--all-task-runs", "--overwrite-json").Code);
        Assert.Equal(before, loops.Select(l =>
            File.GetLastWriteTimeUtc(Path.Combine(l.Folder, "backtest_report.json"))).ToList());
    }

    [Fact]
    public void A_ret_pkl_that_is_no_data_frame_is_that_loops_problem_and_the_run_goes_on()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, store: "sqlite");
        var loops = ResultLoops(sample);
        Assert.True(loops.Count >= 2, "the sample has too few result loops"); // a precondition: one broken, one not
        var bad = Path.Combine(loops[0].Folder, "ret.pkl");
        RealPandas.Run(loops[0].Folder, $"import pandas as pd; pd.Series([1.0, 2.0]).to_pickle({RealPandas.Py(bad)})");
        var (_, output, err) = sample.Cli("backfill", "--all-task-runs");
        // The loop, what is wrong with its ret.pkl (the Series written above) and the workspace folder.
        Assert.Contains($"  ✗ {loops[0].TaskRunId}/{loops[0].LoopId}: the backtest curve cannot be read, so no "
            + $"backtest_report.json is written: '{bad}' is not a backtest report: it holds a pandas Series, not a "
            + $"DataFrame [{loops[0].Folder}]", output.Split('\n'));
        Assert.False(File.Exists(Path.Combine(loops[0].Folder, "backtest_report.json")));
        Assert.True(File.Exists(Path.Combine(loops[0].Folder, "factor_meta.json")));
        foreach (var other in loops.Skip(1))
            Assert.True(File.Exists(Path.Combine(other.Folder, "backtest_report.json")), other.Folder);
    }

    [Fact]
    public void Without_a_ret_pkl_the_chosen_mlflow_run_s_report_is_the_curve()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, store: "sqlite");
        var loop = ResultLoops(sample)[0];
        File.Delete(Path.Combine(loop.Folder, "ret.pkl"));
        // The chosen run, read from the files: the one MLflow run folder that logged the record param (the sample's
        // FINISHED run; its FAILED sibling has none).
        var run = Directory.EnumerateDirectories(Path.Combine(loop.Folder, "mlruns"))
            .SelectMany(Directory.EnumerateDirectories)
            .Single(d => File.Exists(Path.Combine(d, "params", "record")));
        var report = Path.Combine(run, "artifacts", "portfolio_analysis", "report_normal_1day.pkl");
        var pandas = PandasSummary(loop.Folder, report);
        var (code, output, err) = sample.Cli("backfill", "--all-task-runs");
        Assert.True(code == 0, output + err);
        var json = JsonNode.Parse(File.ReadAllBytes(Path.Combine(loop.Folder, "backtest_report.json")))!;
        Assert.Equal($"mlflow:{Path.GetFileName(run)}", (string?)json["source"]);
        Assert.Equal(Sha256(report), (string?)json["source_sha256"]);
        Assert.Equal(pandas.GetProperty("days").GetInt32(), json["dates"]!.AsArray().Count);
        Assert.Equal(pandas.GetProperty("with").GetDouble(),
            (double)json["summary"]!["final_excess_return_with_cost"]!, 12);
        Assert.Equal(pandas.GetProperty("mdd").GetDouble(), (double)json["summary"]!["max_drawdown"]!, 12);
    }

    [Fact]
    public void A_max_drawdown_unlike_qlib_res_is_noted_with_the_loop_and_both_numbers()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, store: "sqlite");
        var loop = ResultLoops(sample)[0];
        var csv = Path.Combine(loop.Folder, "qlib_res.csv");
        const string metric = "1day.excess_return_with_cost.max_drawdown";
        File.WriteAllLines(csv, File.ReadAllLines(csv)
            .Select(l => l.StartsWith(metric + ",", StringComparison.Ordinal) ? $"{metric},-0.75" : l));
        var (_, output, err) = sample.Cli("backfill", "--all-task-runs");
        var text = output + err;
        using var report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(loop.Folder, "backtest_report.json")));
        var mine = report.RootElement.GetProperty("summary").GetProperty("max_drawdown").GetDouble();
        // The note names the loop, the workspace, the curve's drawdown (as its report holds it) and the csv's -0.75.
        Assert.Contains($"  · {loop.TaskRunId}/{loop.LoopId}: ret.pkl in workspace {Path.GetFileName(loop.Folder)}: "
            + $"the curve's max drawdown {mine.ToString("R", CultureInfo.InvariantCulture)} differs from {metric} "
            + "-0.75 by more than 1E-06", text.Split('\n'));
    }
}
