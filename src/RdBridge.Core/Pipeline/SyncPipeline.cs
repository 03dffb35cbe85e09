using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Assets;
using RdBridge.Backfill;
using RdBridge.Backup;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.Discovery;
using RdBridge.IO;
using RdBridge.Registry;
using RdBridge.Runs;
using RdBridge.Store;
using RdBridge.Verify;
using RdBridge.Workspaces;

namespace RdBridge.Pipeline;

public sealed record PipelineResult(IReadOnlyList<StageReport> Stages, VerifyReport? Verify, long SyncRunId)
{
    public bool Failed => Stages.Any(s => s.Failed || s.Aborted is not null) || Verify is { Passed: false };

    /// <summary>
    /// Whether any stage wrote anything (so a second run on unchanged input can say it changed nothing). The backup is
    /// a copy taken because a change was about to happen, not a change of its own: a run whose stages all found their
    /// work done changed nothing, backup or not.
    /// </summary>
    public bool ChangedAnything => Changes.Any();

    /// <summary>What each stage that changed something changed, e.g. "export: 1 catalog file written".</summary>
    public IEnumerable<string> Changes => Stages.Where(s => s.Stage != "backup" && s.Changed).Select(s =>
        $"{s.Stage}: " + string.Join(", ", s.Counts.Where(c => c.Key.IsChange && c.Value > 0)
            .Select(c => c.Key.Of(c.Value))));
}

/// <summary>
/// <c>init</c> (完整初始化) and <c>sync</c> (增量补充): doctor's schema check → backup
/// (taken just before the first change) → backfill → bundle → export → import → sync-assets → verify,
/// recorded as one sync run.
/// </summary>
public sealed class SyncPipeline(RunContext context, TimeSpan? lockWait = null)
{
    private static readonly Counter ChecksPassed = Counter.Tally("checks passed", "check passed");
    private static readonly Counter ChecksFailed = Counter.Tally("checks failed", "check failed");
    private static readonly Counter SchemaAdded = Counter.Change("tables and columns added", "table or column added");
    private static readonly Counter LoopsToExamine = Counter.Tally("loops to examine", "loop to examine");
    private static readonly Counter LoopsUnchanged = Counter.Tally("loops unchanged since the last successful run",
        "loop unchanged since the last successful run");

    /// <summary>How long a second init/sync waits for the first before it refuses.</summary>
    public TimeSpan LockWait { get; } = lockWait ?? TimeSpan.FromSeconds(30);

    public PipelineResult Run(string mode, DateTimeOffset? since, Action<StageReport>? onStage = null)
    {
        // Before the lock file, the store's migrations and the backup: a run that cannot succeed writes nothing.
        Preflight.RunPreflight.Require(context.Settings);
        using var syncLock =
            SyncLock.Acquire(Path.Combine(context.Settings.AistockRoot, ".rdbridge-sync.lock"), LockWait);
        return RunLocked(mode, since, onStage);
    }

    private PipelineResult RunLocked(string mode, DateTimeOffset? since, Action<StageReport>? onStage)
    {
        var settings = context.Settings;
        var stages = new List<StageReport>();
        void Done(StageReport r)
        {
            stages.Add(r);
            onStage?.Invoke(r);
            // A stage asked to stop (SIGINT, SIGTERM, the server stopping) returns at an item's edge: no later stage
            // starts.
            context.Cancellation.ThrowIfCancellationRequested();
            StageMemory.Release();
        }

        using var store = AistockStores.Open(settings);
        using var storeLock = store.AcquireSyncLock(LockWait);
        // Holding both locks, nothing else of this AIstock root runs: whatever is still "running" or half-written died.
        var cleanup = LeftoverSweep.Run(settings);
        foreach (var abandoned in store.AbandonUnfinishedSyncRuns())
            cleanup.Note($"sync run #{abandoned} never finished (its process is gone); marked abandoned");
        var explicitSince = since;
        var runId = store.StartSyncRun(mode, since is { } asked ? UtcText.FormatMicroseconds(asked) : null);
        RunStarted?.Invoke(runId);
        // Reported once the run has its id, so that the server's log names the run its cleanup belongs to.
        stages.Add(cleanup);
        onStage?.Invoke(cleanup);

        var backup = new StageReport("backup");
        var backedUp = false;
        context.OnFirstChange(() =>
        {
            backedUp = true;
            var r = new BackupStage(settings).Run();
            foreach (var c in r.Counts) backup.Add(c.Key, c.Value);
            foreach (var n in r.Notes) backup.Note($"{n} (taken just before the first change of this run)");
        });

        try
        {
            if (settings.HasRdAgent)
            {
                // An older registry is brought up to date first, after the run's backup, so discovery and every later
                // stage write the schema they know (the stage verbs ask for doctor --fix instead).
                IReadOnlyList<SchemaGap> gaps = [];
                if (File.Exists(settings.RegistryPath))
                {
                    using var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false);
                    gaps = registry.AuditSchema();
                }
                if (gaps.Count > 0) Done(Migrate());
                // Then the log: it may create the registry (upstream RD-Agent writes none) or add loops it lacks.
                Done(new DiscoverStage(context).Run());
                Done(Doctor());
            }
            // Which loops to examine: --since asks by the loops' clocks; otherwise what differs on disk or in the
            // registry from what the last successful run recorded (init: every loop).
            var selection = LoopSelection.All;
            var quiet = false;
            LoopChanges? start = null;
            if (settings.HasRdAgent && mode == "sync")
            {
                if (explicitSince is { } s)
                {
                    selection = new LoopSelection { ChangedSince = s };
                }
                else
                {
                    Done(Select(out var changes));
                    selection = new LoopSelection { Keys = changes.Changed };
                    quiet = changes.Quiet;
                    start = changes;
                }
            }
            // The loops as this run found them, so that one RD-Agent finishes meanwhile is left for the next run.
            if (settings.HasRdAgent && start is null)
                start = LoopFingerprints.Compare(settings, LoopFingerprints.SyncPipeline);
            VerifyReport? verify = null;
            // The local half (this machine's own RD-Agent) and then every publisher share the progress bar.
            var localShare = settings.HasRdAgent ? (settings.Sources.Count > 0 ? 0.5 : 1.0) : 0.0;
            void Stage(string name, double fraction) => store.UpdateSyncRun(runId, name, fraction);
            if (settings.HasRdAgent && !quiet)
            {
                Stage("backfill", 0.02 * localShare);
                Done(new BackfillStage(context).Run(
                    new BackfillOptions(BackfillMode.Backfill, selection, OverwriteJson: true, DryRun: false)));
                Stage("bundle", 0.15 * localShare);
                Done(new BundleStage(context).Run(selection));
                Stage("export", 0.5 * localShare);
                Done(new CatalogExporter(context).Run());
                Stage("import", 0.6 * localShare);
                Done(new ImportStage(context).Run().Report);
                Stage("sync-assets", 0.7 * localShare);
                Done(new AssetSyncStage(context).Run());
            }
            if (settings.Sources.Count > 0)
            {
                using var http = new HttpClient(new SocketsHttpHandler
                {
                    ConnectTimeout = TimeSpan.FromSeconds(10),
                    AutomaticDecompression = System.Net.DecompressionMethods.None
                })
                // Up to the headers; a body's reads each have the same bound (HttpPublisher).
                { Timeout = TimeSpan.FromSeconds(IO.ReadLimits.NetworkIdleSeconds) };
                var share = (1.0 - localShare) / settings.Sources.Count;
                for (var i = 0; i < settings.Sources.Count; i++)
                {
                    var source = settings.Sources[i];
                    var offset = localShare + i * share;
                    // init pulls everything again; sync asks each publisher from where it left off (or from --since).
                    var publisher = new Pull.HttpPublisher(source, http, attempts: PullAttempts);
                    Done(new Pull.PullStage(context, store, publisher, source)
                    {
                        Since = mode == "init"
                            ? Pull.PullStage.Everything
                            : (explicitSince is { } s ? UtcText.Format(s) : null),
                    }.Run((what, f) => Stage($"pull {source.Name}: {what}", offset + share * f)));
                }
            }
            if (!backedUp) backup.Note("not needed: nothing was about to change");
            if (settings.HasRdAgent) stages.Insert(0, backup);
            if (settings.HasRdAgent && !quiet)
            {
                Stage("verify", 0.9 * localShare + (1 - localShare));
                verify = new Checklist(settings, deep: false, runId).Run();
                // The web page shows it on open; failing to keep it is no reason to fail the run, whose own record
                // (sync history) holds the checks' failures.
                LastChecklistRun.Keep(settings, verify, mode, runId);
            }
            var result = new PipelineResult(stages, verify, runId);
            if (settings.HasRdAgent && !result.Failed && !quiet)
            {
                LoopFingerprints.Record(settings, LoopFingerprints.SyncPipeline, start: start,
                    examinedAll: mode != "sync" || explicitSince is not null);
            }
            store.FinishSyncRun(runId, result.Failed ? "failed" : "succeeded", Counts(stages), Errors(stages, verify));
            return result;
        }
        catch (OperationCanceledException) when (context.Cancellation.IsCancellationRequested)
        {
            store.FinishSyncRun(runId, "interrupted", Counts(stages),
                JsonSerializer.Serialize(new[] { "interrupted: stopped before the next item; run again to finish" }));
            throw;
        }
        catch (Exception e)
        {
            store.FinishSyncRun(runId, "failed", Counts(stages), JsonSerializer.Serialize(new[] { e.Message }));
            throw;
        }
    }

    /// <summary>doctor's checks as a stage of the run: each failed check is a problem with its fix.</summary>
    private StageReport Doctor()
    {
        var doctor = new StageReport("doctor");
        foreach (var finding in RdBridge.Doctor.Doctor.Run(context.Settings, fix: false))
        {
            doctor.Add(finding.Ok ? ChecksPassed : ChecksFailed);
            if (!finding.Ok)
            {
                doctor.Problem(
                    finding.Item, null, finding.Fix is null ? finding.Detail : $"{finding.Detail}; {finding.Fix}");
            }
        }
        return doctor;
    }

    /// <summary>Adds what an older registry lacks, after the backup the first change takes; says what.</summary>
    private StageReport Migrate()
    {
        var report = new StageReport("migrate");
        context.BeforeChange();
        using var registry = RegistryDatabase.Open(context.Settings.RegistryPath, writable: true);
        foreach (var gap in registry.Migrate())
        {
            report.Add(SchemaAdded);
            report.Note(gap.Column is null ? $"added table {gap.Table}" : $"added column {gap.Table}.{gap.Column}");
        }
        return report;
    }

    /// <summary>Which loops differ from what the last successful sync recorded, as a report of its own.</summary>
    private StageReport Select(out LoopChanges changes)
    {
        var report = new StageReport("select");
        changes = LoopFingerprints.Compare(context.Settings, LoopFingerprints.SyncPipeline);
        report.Add(LoopsToExamine, changes.Changed.Count);
        report.Add(LoopsUnchanged, changes.Unchanged);
        foreach (var note in changes.Notes()) report.Note(note);
        return report;
    }

    /// <summary>Called with the sync run's id as soon as it is recorded (the API returns it to the caller).</summary>
    public Action<long>? RunStarted { get; init; }

    /// <summary>How many times a publisher request is tried before the source is reported down.</summary>
    public int PullAttempts { get; init; } = 4;

    private static string Counts(IEnumerable<StageReport> stages) =>
        new JsonObject(stages.Select(s => new KeyValuePair<string, JsonNode?>(s.Stage,
            new JsonObject(s.Counts.Select(c => new KeyValuePair<string, JsonNode?>(c.Key.Name, c.Value))))))
            .ToJsonString();

    private static string Errors(IEnumerable<StageReport> stages, VerifyReport? verify) =>
        new JsonArray(stages.SelectMany(s => s.Problems).Select(p => (JsonNode?)JsonValue.Create($"[{p.Stage}] {p}"))
            .Concat((verify?.Checks ?? []).Where(c => !c.Passed)
                .Select(c => (JsonNode?)JsonValue.Create($"[verify] {c.Id}: {c.Detail}")))
            .ToArray()).ToJsonString();
}
