using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Backtests;
using RdBridge.Metadata;
using RdBridge.Registry;
using RdBridge.Runs;
using RdBridge.Workspaces;

namespace RdBridge.Catalogs;

/// <summary>
/// Step 3 of the guide: <c>rdagent_data/{factor,model,strategy,loop}_catalog.json</c> from the registry and the
/// metadata files backfill wrote, plus <c>rd_strategies_lib/generated.py</c>. Every record carries task_run_id,
/// loop_id, workspace_id, workspace_path and asset_bundle_id. Output is in a fixed order, so unchanged input rewrites
/// nothing.
/// </summary>
public sealed class CatalogExporter(RunContext context)
{
    private static readonly Counter Factors = Counter.Tally("factors");
    private static readonly Counter FilesWritten = Counter.Change("catalog files written");
    private static readonly Counter FilesUnchanged = Counter.Tally("catalog files unchanged");
    private static readonly Counter Strategies = Counter.Tally("strategies");
    private static readonly Counter Models = Counter.Tally("models");
    private static readonly Counter Loops = Counter.Tally("loops");

    public StageReport Run()
    {
        var report = new StageReport("export");
        var settings = context.Settings;
        using var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false);
        using var factors = new FactorAggregation();
        using var library = new StrategyLibraryWriter(context.Settings.StrategiesLibFile);

        var dir = settings.CatalogDirectory;
        var changed = new List<string>();
        void Track(CatalogKind kind, bool wrote) { if (wrote) changed.Add(CatalogFile.FileName(kind)); }

        Track(CatalogKind.Loop, CatalogFile.Write(Path.Combine(dir, CatalogFile.FileName(CatalogKind.Loop)),
            CatalogKind.Loop, loops =>
            Track(CatalogKind.Model, CatalogFile.Write(Path.Combine(dir, CatalogFile.FileName(CatalogKind.Model)),
                CatalogKind.Model, models =>
                Track(CatalogKind.Strategy, CatalogFile.Write(
                    Path.Combine(dir, CatalogFile.FileName(CatalogKind.Strategy)), CatalogKind.Strategy,
                    strategyWriter =>
                {
                    foreach (var loop in registry.ReadLoops(LoopSelection.All))
                    {
                        if (!loop.HasResult) continue;
                        var lw = LoopWorkspaces.Resolve(registry, settings.PathMap, loop);
                        ExportLoop(lw, loops, models, strategyWriter, factors, library, report);
                        Drain(loops, models, strategyWriter);
                    }
                }))))));

        Track(CatalogKind.Factor, CatalogFile.Write(Path.Combine(dir, CatalogFile.FileName(CatalogKind.Factor)),
            CatalogKind.Factor, w =>
        {
            report.Add(Factors, factors.WriteFactors(w, () => Drain(w)));
        }));

        library.Finish(context, report);
        report.Add(FilesWritten, changed.Count);
        report.Add(FilesUnchanged, CatalogFile.All.Length - changed.Count);
        return report;
    }

    /// <summary>
    /// A Utf8JsonWriter keeps everything written in its own buffer until it is flushed: without this, each catalog was
    /// held whole in memory until its end (three at once, nested), so export's memory grew with the number of loops.
    /// </summary>
    private static void Drain(params Utf8JsonWriter[] writers)
    {
        foreach (var writer in writers)
            if (writer.BytesPending > 64 * 1024) writer.Flush();
    }

    private static JsonObject Ids(LoopWorkspaces lw) => new()
    {
        ["task_run_id"] = lw.Loop.TaskRunId,
        ["loop_id"] = lw.Loop.LoopId,
        ["workspace_id"] = lw.Primary?.Row.WorkspaceId,
        ["workspace_path"] = lw.Primary?.Row.WorkspacePath,
        ["asset_bundle_id"] = lw.Loop.AssetBundleId,
    };

    private void ExportLoop(LoopWorkspaces lw, Utf8JsonWriter loops, Utf8JsonWriter models,
        Utf8JsonWriter strategyWriter, FactorAggregation factors, StrategyLibraryWriter library, StageReport report)
    {
        var loop = lw.Loop;
        foreach (var p in lw.Problems) report.Problem(loop.Key, lw.Primary?.Local, p);
        if (loop.AssetBundleId is null)
        {
            report.Problem(loop.Key, null,
                $"loop {loop.Key} has results but no asset bundle; run 'rdbridge bundle' first");
        }

        var meta = lw.Primary?.Local is { } dir && Directory.Exists(dir)
            ? WorkspaceMetadata.Read(dir, (name, path, message) => report.Problem(loop.Key, path,
                $"{name} is malformed ({message}); run 'rdbridge backfill --overwrite-json "
                + $"--task-run-id {loop.TaskRunId} --loop-id {loop.LoopId}'"))
            : WorkspaceMetadata.None;
        var (factorMeta, perf, feedback, modelMeta, strategyMeta) =
            (meta.FactorMeta, meta.FactorPerf, meta.Feedback, meta.ModelMeta, meta.StrategyMeta);
        if (lw.IsUsable && factorMeta is null && modelMeta is null)
        {
            report.Problem(loop.Key, lw.Primary!.Local, "no metadata files in the workspace; run 'rdbridge backfill " +
                $"--task-run-id {loop.TaskRunId} --loop-id {loop.LoopId}'");
        }

        var metrics = perf?.MetricsJson() ?? new JsonObject();
        double? Metric(string key) => perf?.Metric(key);

        // Factors.
        var factorNames = new JsonArray();
        foreach (var f in factorMeta?.Factors ?? [])
        {
            var name = f.Name;
            factorNames.Add(name);
            var source = f.Source ?? FactorEntry.GeneratedSource;
            var expression = f.Expression;
            var fingerprint = FactorIdentity.Fingerprint(source, expression, f.CodeFingerprint, name);
            var written = (loop.TaskRunId, name);
            if (f.HasCode) factors.WrittenBy[written] = fingerprint;
            // A SOTA factor this loop only loaded (a column of the combined factors file, no code of its own) is the
            // factor an earlier loop of the same task run wrote: this loop is provenance of that record.
            var loadedOnly = false;
            if (!f.HasCode && expression is null && f.FoundIn is not null
                && factors.WrittenBy.TryGetValue(written, out var writer))
            {
                fingerprint = writer;
                loadedOnly = true;
            }
            // An occurrence names its loop; that loop's metrics are in the loop catalog, once. (A copy here made a
            // factor every loop uses, such as Alpha158's, grow by its metrics with each loop: 7 MB a record at 10,000.)
            var provenance = Ids(lw);
            if (loadedOnly) provenance["loaded_from"] = f.FoundIn;
            factors.Add(fingerprint, name, source, () =>
            {
                var record = new JsonObject
                {
                    ["factor_id"] = FactorIdentity.FactorId(fingerprint),
                    ["name"] = name,
                    ["source"] = source,
                    ["expression"] = expression,
                    ["description_cn"] = f.DescriptionCn,
                    ["fingerprint"] = fingerprint,
                };
                foreach (var (k, v) in Ids(lw)) record[k] = v?.DeepClone();
                record["input_schema"] = f.InputSchema?.DeepClone();
                record["tags"] = MetadataJson.TextArray(f.Tags);
                record["code_path"] = f.CodePath;
                record["performance_metrics"] = metrics.DeepClone();
                return record;
            }, provenance);
        }

        // Strategy.
        var strategyId = strategyMeta?.StrategyId ?? loop.StrategyId;
        var modelId = $"model_{loop.TaskRunId}_{loop.LoopId}";
        if (strategyMeta is not null)
        {
            var s = new JsonObject { ["strategy_id"] = strategyId };
            foreach (var (k, v) in Ids(lw)) s[k] = v?.DeepClone();
            s["config_fingerprint"] = strategyMeta.ConfigFingerprint;
            s["action"] = lw.Kind;
            s["portfolio_config"] = strategyMeta.PortfolioConfig?.DeepClone();
            s["backtest_config"] = strategyMeta.BacktestConfig?.DeepClone();
            s["model_type"] = modelMeta?.ModelType;
            s["model_id"] = modelMeta is null ? null : modelId;
            s["run_id"] = strategyMeta.RunId;
            s["feature_list"] = factorNames.DeepClone();
            s["python_implementation"] = strategyMeta.PythonImplementation?.ToJson();
            s["metrics"] = metrics.DeepClone();
            s.WriteTo(strategyWriter);
            library.Add(strategyId, s["portfolio_config"]);
            report.Add(Strategies);
        }

        // Model: every loop with results trained one (a factor loop its template's baseline model), and AIstock must
        // be able to deploy any strategy it imports, so each loop's model has a record its strategy links to.
        if (modelMeta is not null)
        {
            var m = new JsonObject { ["model_id"] = modelId };
            foreach (var (k, v) in Ids(lw)) m[k] = v?.DeepClone();
            m["log_dir"] = loop.LogDir;
            m["role"] = modelMeta.Role ?? (lw.Kind == "model" ? ModelMetaFile.Proposed : ModelMetaFile.Baseline);
            m["run_id"] = modelMeta.RunId;
            m["config_file"] = modelMeta.ConfigFile;
            m["config_source"] = modelMeta.ConfigSource;
            m["model_type"] = modelMeta.ModelType;
            m["model_module"] = modelMeta.ModelModule;
            m["network_class"] = modelMeta.NetworkClass;
            m["model_config"] = modelMeta.ModelConfig?.DeepClone();
            m["dataset_config"] = modelMeta.DatasetConfig?.ToJson();
            m["preprocess_config"] = modelMeta.PreprocessConfig?.ToJson();
            m["feature_schema"] = modelMeta.FeatureSchema?.ToJson();
            m["model_artifacts"] = modelMeta.ModelArtifacts?.ToJson();
            m["params_applied"] = MetadataJson.TextArray(modelMeta.ParamsApplied);
            m["metrics"] = metrics.DeepClone();
            m.WriteTo(models);
            report.Add(Models);
        }

        // Loop.
        var l = Ids(lw);
        l["log_dir"] = loop.LogDir ?? loop.LogTracePath;
        l["scenario"] = loop.Scenario;
        l["action"] = lw.Kind;
        l["status"] = loop.Status;
        l["has_result"] = loop.HasResult;
        l["is_solidified"] = loop.IsSolidified;
        l["started_at_utc"] = loop.StartedAtUtc;
        l["ended_at_utc"] = loop.EndedAtUtc;
        l["strategy_id"] = strategyId;
        l["config_fingerprint"] = strategyMeta?.ConfigFingerprint;
        l["model_type"] = modelMeta?.ModelType;
        l["factor_names"] = factorNames;
        l["annualized_return"] = Metric("annualized_return");
        l["max_drawdown"] = Metric("max_drawdown");
        l["information_ratio"] = Metric("information_ratio");
        l["ic"] = Metric("ic");
        l["ic_ir"] = Metric("icir");
        l["rank_ic"] = Metric("rank_ic");
        l["metrics"] = metrics.DeepClone();
        l["backtest"] = BacktestSummary(lw, Metric("max_drawdown"), report);
        l["decision"] = feedback?.Decision;
        l["summary_texts"] = feedback?.Summary?.ToJson();
        var weights = MetadataJson.TextArray(modelMeta?.ModelArtifacts?.ModelFiles ?? []);
        l["paths"] = new JsonObject
        {
            ["factor_meta"] = factorMeta is null ? null : WorkspaceFiles.FactorMeta,
            ["factor_perf"] = perf is null ? null : WorkspaceFiles.FactorPerf,
            ["feedback"] = feedback is null ? null : WorkspaceFiles.Feedback,
            ["model_meta"] = modelMeta is null ? null : WorkspaceFiles.ModelMeta,
            ["strategy_meta"] = strategyMeta is null ? null : WorkspaceFiles.StrategyMeta,
            ["mlruns"] = modelMeta?.ModelArtifacts?.MlRuns,
            ["model_files"] = weights,
        };
        l.WriteTo(loops);
        report.Add(Loops);
    }

    /// <summary>
    /// The loop's backtest curve in a few numbers (<see cref="BacktestReportJson.Summary"/>), where it came from, and
    /// whether its max drawdown matches <c>qlib_res.csv</c>'s; null when the loop has no curve.
    /// </summary>
    private static JsonObject? BacktestSummary(LoopWorkspaces lw, double? qlibMaxDrawdown, StageReport report)
    {
        if (lw.Primary?.Local is not { } dir || !Directory.Exists(dir)) return null;
        if (BacktestFile.Find(dir, MlflowRun.Chosen(dir)) is not { } file) return null;
        BacktestReport curve;
        try { curve = BacktestReport.Read(file.Path); }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException
                                      or InvalidCastException or KeyNotFoundException or ArgumentException
                                      or IndexOutOfRangeException or OverflowException)
        {
            report.Problem(lw.Loop.Key, file.Path, $"the backtest curve cannot be read: {e.Message}");
            return null;
        }
        var check = MaxDrawdownCheck.Of(curve, qlibMaxDrawdown);
        var summary = BacktestReportJson.Summary(curve.Summary);
        summary["source"] = file.Source;
        summary["qlib_max_drawdown"] = check.Reported;
        summary["max_drawdown_matches_qlib"] = check.Reported is null ? null : check.Agrees;
        return summary;
    }

    internal static string PythonLiteral(JsonNode? node, int indent)
    {
        switch (node)
        {
            case null: return "None";
            case JsonObject o:
                if (o.Count == 0) return "{}";
                var pad = new string(' ', 4 * (indent + 1));
                var items = o.Select(p =>
                    pad + PythonNames.StringLiteral(p.Key) + ": " + PythonLiteral(p.Value, indent + 1));
                return "{\n" + string.Join(",\n", items) + ",\n" + new string(' ', 4 * indent) + "}";
            case JsonArray a:
                return "[" + string.Join(", ", a.Select(i => PythonLiteral(i, indent + 1))) + "]";
            case JsonValue v:
                return v.GetValueKind() switch
                {
                    JsonValueKind.String => PythonNames.StringLiteral(v.GetValue<string>()),
                    JsonValueKind.True => "True",
                    JsonValueKind.False => "False",
                    JsonValueKind.Number => v.ToJsonString(),
                    _ => "None",
                };
            default: return "None";
        }
    }
}
