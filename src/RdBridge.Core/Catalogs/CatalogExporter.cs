// Over 400 lines: the four record builders share one LoopExport and read best side by side.
using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Backtests;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Metadata;
using RdBridge.Registry;
using RdBridge.Runs;
using RdBridge.Workspaces;
using LogListings = RdBridge.Discovery.LogListings;
using LoopTexts = RdBridge.Discovery.LoopTexts;

namespace RdBridge.Catalogs;

/// <summary>
/// Step 3 of the guide: <c>rdagent_data/{factor,model,strategy,loop}_catalog.json</c> from the registry and the
/// metadata files backfill wrote, plus <c>factor_provenance.json</c> (which loops found each factor, see
/// <see cref="ProvenanceFile"/>) and <c>rd_strategies_lib/generated.py</c>. Every record carries task_run_id,
/// loop_id, workspace_id, workspace_path and asset_bundle_id. Output is in a fixed order, so unchanged input rewrites
/// nothing.
/// </summary>
public sealed class CatalogExporter(RunContext context)
{
    private static readonly Counter Factors = Counter.Tally("factors", "factor");
    private static readonly Counter FactorLoops = Counter.Tally("factor provenance entries (factor × loop)",
        "factor provenance entry (factor × loop)");
    private static readonly Counter FilesWritten = Counter.Change("catalog files written", "catalog file written");
    private static readonly Counter FilesUnchanged = Counter.Tally("catalog files unchanged", "catalog file unchanged");
    private static readonly Counter Strategies = Counter.Tally("strategies", "strategy");
    private static readonly Counter Models = Counter.Tally("models", "model");
    private static readonly Counter Loops = Counter.Tally("loops", "loop");
    private static readonly Counter LoopsWithoutResult = Counter.Tally("loops without results (failed, running)",
        "loop without results (failed, running)");

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
                    // Every loop is in the loop catalog: one without results (failed, still running) with its
                    // status, the step it reached and its error, and nothing else (no bundle, factors or model).
                    using var logged = registry.ReadLoopMemory();
                    var listings = new LogListings();
                    foreach (var loop in registry.ReadLoops(LoopSelection.All))
                    {
                        var rows = registry.ReadWorkspaces(loop.TaskRunId, loop.LoopId);
                        var lw = LoopWorkspaces.Resolve(rows, settings.PathMap, loop);
                        var memory = logged.For(loop.TaskRunId, loop.LoopId);
                        if (loop.HasResult)
                            ExportLoop(lw, rows, memory, loops, models, strategyWriter, factors, library, report);
                        else ExportLoopWithoutResult(lw, rows, memory, settings.PathMap, listings, loops, report);
                        Drain(loops, models, strategyWriter);
                    }
                }))))));

        Track(CatalogKind.Factor, CatalogFile.Write(Path.Combine(dir, CatalogFile.FileName(CatalogKind.Factor)),
            CatalogKind.Factor, w =>
        {
            report.Add(Factors, factors.WriteFactors(w, () => Drain(w)));
        }));
        var provenance = Path.Combine(dir, ProvenanceFile.FileName);
        if (CatalogFile.Write(provenance, ProvenanceFile.List, ProvenanceFile.Version,
                w => report.Add(FactorLoops, factors.WriteProvenance(w, () => Drain(w)))))
        {
            changed.Add(ProvenanceFile.FileName);
        }

        // A registry row the reading skipped (a loop given twice, a row without a key) is named here too: export is
        // often run alone, and the catalogs it writes lack that row.
        foreach (var bad in registry.BadRows) report.Problem(bad.Item, null, bad.Message);
        library.Finish(context, report);
        report.Add(FilesWritten, changed.Count);
        foreach (var name in changed) context.Wrote(Path.Combine(dir, name));
        report.Add(FilesUnchanged, CatalogFile.All.Length + 1 - changed.Count);
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

    /// <summary>The five links of every record this loop gives, on an empty record of kind <typeparamref name="T"/>.
    /// </summary>
    private static T Linked<T>(LoopWorkspaces lw) where T : LoopLinks, new() => new()
    {
        TaskRunId = lw.Loop.TaskRunId,
        LoopId = lw.Loop.LoopId,
        WorkspaceId = lw.Primary?.Row.WorkspaceId,
        WorkspacePath = lw.Primary?.Row.WorkspacePath,
        AssetBundleId = lw.Loop.AssetBundleId,
    };

    /// <summary>
    /// What export knows of one loop: its workspaces (resolved, and every row the registry has), metadata files,
    /// metrics, and what discovery read of it in RD-Agent's log (null where the registry was not discovered).
    /// </summary>
    private sealed record LoopExport(LoopWorkspaces Lw, IReadOnlyList<WorkspaceRow> Rows, DiscoveryMemory? Logged,
        WorkspaceMetadata Meta, JsonObject Metrics)
    {
        /// <summary>What RD-Agent's log says of a loop without feedback.json (read only for such a loop).</summary>
        public LoopTexts LogTexts { get; init; } = LoopTexts.Empty;
        public LoopRow Loop => Lw.Loop;
        public double? Metric(string key) => Meta.FactorPerf?.Metric(key);
        public string ModelId => $"model_{Loop.TaskRunId}_{Loop.LoopId}";
        public string? StrategyId => Meta.StrategyMeta?.StrategyId ?? Loop.StrategyId;
    }

    private void ExportLoop(LoopWorkspaces lw, IReadOnlyList<WorkspaceRow> rows, DiscoveryMemory? logged,
        Utf8JsonWriter loops, Utf8JsonWriter models, Utf8JsonWriter strategyWriter, FactorAggregation factors,
        StrategyLibraryWriter library, StageReport report)
    {
        var loop = lw.Loop;
        foreach (var p in lw.Problems) report.Problem(loop.Key, lw.Primary?.Local, p);
        if (loop.AssetBundleId is null)
        {
            report.Problem(loop.Key, null,
                $"loop {loop.Key} has results but no asset bundle; run 'rdbridge bundle' first");
        }

        var meta = Metadata(lw, report);
        if (lw.IsUsable && meta.FactorMeta is null && meta.ModelMeta is null)
        {
            report.Problem(loop.Key, lw.Primary!.Local, "no metadata files in the workspace; run 'rdbridge backfill " +
                $"--task-run-id {loop.TaskRunId} --loop-id {loop.LoopId}'");
        }

        var x = new LoopExport(lw, rows, logged, meta, meta.FactorPerf?.MetricsJson() ?? new JsonObject());
        var factorNames = AddFactors(x, factors);
        if (StrategyOf(x, factorNames) is { } strategy)
        {
            CatalogJson.Write(strategyWriter, strategy);
            library.Add(strategy.StrategyId!, strategy.PortfolioConfig);
            report.Add(Strategies);
        }

        // Model: every loop with results trained one (a factor loop its template's baseline model), and AIstock must
        // be able to deploy any strategy it imports, so each loop's model has a record its strategy links to.
        if (ModelOf(x) is { } model)
        {
            CatalogJson.Write(models, model);
            report.Add(Models);
        }

        CatalogJson.Write(loops, LoopOf(x, factorNames, report) with { WorkspaceLocalPath = LocalPath(x) });
        report.Add(Loops);
    }

    /// <summary>
    /// A loop without results: its record only, from the registry, what discovery read of the log and any
    /// feedback.json backfill wrote. Its missing experiment workspace is no problem: RD-Agent had not made one yet,
    /// or the loop failed before it ran.
    /// </summary>
    private static void ExportLoopWithoutResult(LoopWorkspaces lw, IReadOnlyList<WorkspaceRow> rows,
        DiscoveryMemory? logged, PathMap map, LogListings listings, Utf8JsonWriter loops, StageReport report)
    {
        var meta = Metadata(lw, report);
        // Backfill writes feedback.json only for a loop with results: a failed or running loop's texts are in the log
        // alone. A pickle that does not read (one being written) leaves its texts out this time: a note, no problem.
        var (loop, unread) = (lw.Loop, new List<string>());
        var texts = meta.Feedback is not null ? LoopTexts.Empty
            : LoopTexts.OfLoop(loop.LogTracePath ?? loop.LogDir, loop.LoopId, map, unread, listings);
        foreach (var u in unread) report.Note($"loop {loop.Key}: {u}");
        var x = new LoopExport(lw, rows, logged, meta with { FactorPerf = null }, new JsonObject())
        {
            LogTexts = texts,
        };
        CatalogJson.Write(loops, LoopOf(x, [], report));
        report.Add(Loops);
        report.Add(LoopsWithoutResult);
    }

    /// <summary>The metadata files in the loop's experiment workspace; a malformed one is the loop's problem.</summary>
    private static WorkspaceMetadata Metadata(LoopWorkspaces lw, StageReport report)
    {
        var loop = lw.Loop;
        return lw.Primary?.Local is { } dir && Directory.Exists(dir)
            ? WorkspaceMetadata.Read(dir, (name, path, message) => report.Problem(loop.Key, path,
                $"{name} is malformed ({message}); run 'rdbridge backfill --overwrite-json "
                + $"--task-run-id {loop.TaskRunId} --loop-id {loop.LoopId}'"))
            : WorkspaceMetadata.None;
    }

    /// <summary>Adds each factor the loop names to the aggregation; returns their names in the loop's order.</summary>
    private static List<string> AddFactors(LoopExport x, FactorAggregation factors)
    {
        var (lw, loop) = (x.Lw, x.Loop);
        var names = new List<string>();
        foreach (var f in x.Meta.FactorMeta?.Factors ?? [])
        {
            var name = f.Name;
            names.Add(name);
            var source = f.Source ?? FactorEntry.GeneratedSource;
            var expression = f.Expression;
            var fingerprint = FactorIdentity.Fingerprint(source, expression, f.CodeFingerprint, name);
            if (f.HasCode) factors.Wrote(loop.TaskRunId, name, fingerprint);
            // A SOTA factor this loop only loaded (a column of the combined factors file, no code of its own) is the
            // factor an earlier loop of the same task run wrote: this loop is provenance of that record.
            var loadedOnly = false;
            if (!f.HasCode && expression is null && f.FoundIn is not null
                && factors.WrittenBy(loop.TaskRunId, name) is { } writer)
            {
                fingerprint = writer;
                loadedOnly = true;
            }
            // An occurrence names its loop; that loop's metrics are in the loop catalog, once. (A copy here made a
            // factor every loop uses, such as Alpha158's, grow by its metrics with each loop: 7 MB a record at 10,000.)
            var occurrence = Linked<FactorOccurrence>(lw) with { LoadedFrom = loadedOnly ? f.FoundIn : null };
            factors.Add(fingerprint, name, source, () => Linked<FactorRecord>(lw) with
            {
                FactorId = FactorIdentity.FactorId(fingerprint),
                Name = name,
                Source = source,
                Expression = expression,
                DescriptionCn = f.DescriptionCn,
                Fingerprint = fingerprint,
                FormulaHint = f.FormulaHint,
                Variables = f.Variables?.DeepClone(),
                CoderFeedback = f.CoderFeedback?.ToJson(),
                InputSchema = f.InputSchema,
                Tags = f.Tags,
                CodePath = f.CodePath,
                PerformanceMetrics = x.Metrics,
            }, occurrence);
        }
        return names;
    }

    private static StrategyRecord? StrategyOf(LoopExport x, IReadOnlyList<string> factorNames)
    {
        if (x.Meta.StrategyMeta is not { } strategy) return null;
        var model = x.Meta.ModelMeta;
        return Linked<StrategyRecord>(x.Lw) with
        {
            StrategyId = x.StrategyId,
            ConfigFingerprint = strategy.ConfigFingerprint,
            Action = x.Lw.Kind,
            PortfolioConfig = strategy.PortfolioConfig,
            BacktestConfig = strategy.BacktestConfig,
            ModelType = model?.ModelType,
            ModelId = model is null ? null : x.ModelId,
            RunId = strategy.RunId,
            FeatureList = factorNames,
            PythonImplementation = strategy.PythonImplementation?.ToJson(),
            Metrics = x.Metrics,
        };
    }

    private static ModelRecord? ModelOf(LoopExport x)
    {
        if (x.Meta.ModelMeta is not { } model) return null;
        return Linked<ModelRecord>(x.Lw) with
        {
            ModelId = x.ModelId,
            LogDir = x.Loop.LogDir,
            Role = model.Role ?? (x.Lw.Kind == "model" ? ModelMetaFile.Proposed : ModelMetaFile.Baseline),
            RunId = model.RunId,
            ConfigFile = model.ConfigFile,
            ConfigSource = model.ConfigSource,
            ModelType = model.ModelType,
            RdAgentModelType = model.RdAgentModelType,
            ModelModule = model.ModelModule,
            NetworkClass = model.NetworkClass,
            ModelConfig = model.ModelConfig,
            DatasetConfig = model.DatasetConfig?.ToJson(),
            PreprocessConfig = model.PreprocessConfig?.ToJson(),
            FeatureSchema = model.FeatureSchema?.ToJson(),
            ModelArtifacts = model.ModelArtifacts?.ToJson(),
            ParamsApplied = model.ParamsApplied,
            Metrics = x.Metrics,
            ModelTask = model.ModelTask is { } task ? new ModelTaskRecord
            {
                Name = task.Name,
                Description = task.Description,
                Formulation = task.Formulation,
                Architecture = task.Architecture,
                Variables = task.Variables?.DeepClone(),
                Hyperparameters = task.Hyperparameters?.DeepClone(),
                TrainingHyperparameters = task.TrainingHyperparameters?.DeepClone(),
                ModelType = task.ModelType,
                CoderFeedback = task.CoderFeedback?.ToJson(),
            } : null,
        };
    }

    /// <summary>
    /// Where the loop's workspace is on this machine, relative to the AIstock root: the guide's step 6.3 check runs
    /// there, and a relative path keeps the catalog the same wherever the two folders sit side by side. Written with
    /// '/' on every OS, so the catalog is the same bytes whichever OS exported it (Windows and Python read '/').
    /// </summary>
    private string? LocalPath(LoopExport x) => x.Lw.Primary is { Exists: true } local
        ? PortablePath.Relative(Path.GetFullPath(context.Settings.AistockRoot), Path.GetFullPath(local.Local!))
        : null;

    private static LoopRecord LoopOf(LoopExport x, IReadOnlyList<string> factorNames, StageReport report)
    {
        var (loop, meta) = (x.Loop, x.Meta);
        var feedback = meta.Feedback;
        // The one place that decides where a loop's texts come from: feedback.json in its experiment workspace (what
        // its bundle carries), else RD-Agent's log (a loop without results), else discovery's memory of it.
        var texts = feedback?.Texts ?? x.LogTexts.Research();
        return Linked<LoopRecord>(x.Lw) with
        {
            LogDir = loop.LogDir ?? loop.LogTracePath,
            Scenario = loop.Scenario,
            Action = x.Lw.Kind,
            Status = loop.Status,
            StepName = x.Logged?.Step,
            ErrorType = loop.ErrorType,
            ErrorMessage = loop.ErrorMessage,
            HasResult = loop.HasResult,
            IsSolidified = loop.IsSolidified,
            StartedAtUtc = loop.StartedAtUtc,
            EndedAtUtc = loop.EndedAtUtc,
            // A loop without results has no strategy record to name.
            StrategyId = loop.HasResult ? x.StrategyId : meta.StrategyMeta?.StrategyId,
            ConfigFingerprint = meta.StrategyMeta?.ConfigFingerprint,
            ModelType = meta.ModelMeta?.ModelType,
            FactorNames = factorNames,
            AnnualizedReturn = x.Metric("annualized_return"),
            MaxDrawdown = x.Metric("max_drawdown"),
            InformationRatio = x.Metric("information_ratio"),
            Ic = x.Metric("ic"),
            IcIr = x.Metric("icir"),
            RankIc = x.Metric("rank_ic"),
            Metrics = x.Metrics,
            Backtest = loop.HasResult ? BacktestSummary(x.Lw, x.Metric("max_drawdown"), report) : null,
            Decision = feedback?.Decision ?? x.LogTexts.Feedback?.Decision ?? x.Logged?.Decision,
            SummaryTexts = feedback?.Summary?.ToJson(),
            Hypothesis = feedback?.Hypothesis ?? x.LogTexts.Hypothesis?.Text ?? x.Logged?.Hypothesis,
            HypothesisReason = texts.HypothesisReason,
            ConciseReason = texts.ConciseReason,
            ConciseObservation = texts.ConciseObservation,
            ConciseJustification = texts.ConciseJustification,
            ConciseKnowledge = texts.ConciseKnowledge,
            Observations = texts.Observations,
            HypothesisEvaluation = texts.HypothesisEvaluation,
            DecisionReason = texts.DecisionReason,
            NewHypothesis = texts.NewHypothesis,
            CodeChangeSummary = texts.CodeChangeSummary,
            Exception = texts.Exception,
            Tasks = feedback is null && x.LogTexts.Tasks.Count > 0
                ? new JsonArray(x.LogTexts.Tasks.Select(t => (JsonNode?)t.ToJson()).ToArray()) : null,
            Paths = new LoopPaths
            {
                FactorMeta = meta.FactorMeta is null ? null : WorkspaceFiles.FactorMeta,
                FactorPerf = meta.FactorPerf is null ? null : WorkspaceFiles.FactorPerf,
                Feedback = meta.Feedback is null ? null : WorkspaceFiles.Feedback,
                ModelMeta = meta.ModelMeta is null ? null : WorkspaceFiles.ModelMeta,
                StrategyMeta = meta.StrategyMeta is null ? null : WorkspaceFiles.StrategyMeta,
                Mlruns = meta.ModelMeta?.ModelArtifacts?.MlRuns,
                ModelFiles = meta.ModelMeta?.ModelArtifacts?.ModelFiles ?? [],
            },
            Workspaces = Workspaces(x.Rows),
        };
    }

    /// <summary>
    /// Every workspace the registry has for the loop, its experiment workspace first: a running loop's are its
    /// coder's, and its links name none yet. Null for a loop RD-Agent recorded no workspace of.
    /// </summary>
    private static IReadOnlyList<LoopWorkspace>? Workspaces(IReadOnlyList<WorkspaceRow> rows) => rows.Count == 0
        ? null
        : rows.OrderBy(r => r.IsExperiment ? 0 : 1).Select(r => new LoopWorkspace
        {
            WorkspaceId = r.WorkspaceId, WorkspacePath = r.WorkspacePath, WorkspaceRole = r.Role,
        }).ToList();

    /// <summary>
    /// The loop's backtest curve in a few numbers (<see cref="BacktestSummaryRecord"/>), where it came from, and
    /// whether its max drawdown matches <c>qlib_res.csv</c>'s; null when the loop has no curve.
    /// </summary>
    private static LoopBacktestSummary? BacktestSummary(LoopWorkspaces lw, double? qlibMaxDrawdown, StageReport report)
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
        return BacktestSummaryRecord.From<LoopBacktestSummary>(curve.Summary) with
        {
            Source = file.Source,
            QlibMaxDrawdown = check.Reported,
            MaxDrawdownMatchesQlib = check.Reported is null ? null : check.Agrees,
        };
    }
}
