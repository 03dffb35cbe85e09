using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Assets;
using RdBridge.Backfill;
using RdBridge.Backup;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.Registry;
using RdBridge.Store;
using RdBridge.Verify;

namespace RdBridge.Pipeline;

public sealed record PipelineResult(IReadOnlyList<StageReport> Stages, VerifyReport? Verify, long SyncRunId)
{
    public bool Failed => Stages.Any(s => s.Failed || s.Aborted is not null) || Verify is { Passed: false };

    private static readonly string[] ChangeWords = ["written", "built", "rebuilt", "inserted", "updated", "copied", "extracted", "marked"];

    /// <summary>Whether any stage wrote anything (so a second run on unchanged input can say it changed nothing).</summary>
    public bool ChangedAnything => Stages.Any(s => s.Counts.Any(c => c.Value > 0 && ChangeWords.Any(w => c.Key.Contains(w, StringComparison.Ordinal))));
}

/// <summary>
/// <c>init</c> (完整初始化) and <c>sync</c> (增量补充): doctor's schema check → backup (taken just before the first change)
/// → backfill → bundle → export → import → sync-assets → verify, recorded as one sync run.
/// </summary>
public sealed class SyncPipeline(RunContext context, TimeSpan? lockWait = null)
{
    /// <summary>How long a second init/sync waits for the first before it refuses.</summary>
    public TimeSpan LockWait { get; } = lockWait ?? TimeSpan.FromSeconds(30);

    public PipelineResult Run(string mode, DateTimeOffset? since, Action<StageReport>? onStage = null)
    {
        using var syncLock = SyncLock.Acquire(Path.Combine(context.Settings.AistockRoot, ".rdbridge-sync.lock"), LockWait);
        return RunLocked(mode, since, onStage);
    }

    private PipelineResult RunLocked(string mode, DateTimeOffset? since, Action<StageReport>? onStage)
    {
        var settings = context.Settings;
        var stages = new List<StageReport>();
        void Done(StageReport r) { stages.Add(r); onStage?.Invoke(r); }

        var doctor = new StageReport("doctor");
        foreach (var finding in RdBridge.Doctor.Doctor.Run(settings, fix: false))
        {
            doctor.Add(finding.Ok ? "checks passed" : "checks failed");
            if (!finding.Ok) doctor.Problem(finding.Item, null, finding.Fix is null ? finding.Detail : $"{finding.Detail}; {finding.Fix}");
        }
        Done(doctor);
        using (var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false)) registry.RequireWritableSchema();
        using var store = AistockStores.Open(settings);
        using var storeLock = store.AcquireSyncLock(LockWait);
        if (mode == "sync" && since is null && store.LastSyncRun(successfulOnly: true) is { } last
            && DateTimeOffset.TryParse(last.StartedAt, out var lastStart))
            since = lastStart;
        var runId = store.StartSyncRun(mode, since?.ToString("o"));

        var backup = new StageReport("backup");
        var backedUp = false;
        context.OnFirstChange(() =>
        {
            backedUp = true;
            var r = new BackupStage(settings).Run();
            foreach (var c in r.Counts) backup.Add(c.Key, c.Value);
            foreach (var n in r.Notes) backup.Note($"{n} (taken just before the first change of this run)");
        });

        var selection = new LoopSelection { ChangedSince = since };
        try
        {
            store.UpdateSyncRun(runId, "backfill");
            Done(new BackfillStage(context).Run(new BackfillOptions(BackfillMode.Backfill, selection, OverwriteJson: true, DryRun: false)));
            store.UpdateSyncRun(runId, "bundle");
            Done(new BundleStage(context).Run(selection));
            store.UpdateSyncRun(runId, "export");
            Done(new CatalogExporter(context).Run());
            store.UpdateSyncRun(runId, "import");
            Done(new ImportStage(context).Run().Report);
            store.UpdateSyncRun(runId, "sync-assets");
            Done(new AssetSyncStage(context).Run());
            if (!backedUp) backup.Note("not needed: nothing was about to change");
            stages.Insert(1, backup);
            store.UpdateSyncRun(runId, "verify");
            var verify = new Checklist(settings, deep: false).Run();
            var result = new PipelineResult(stages, verify, runId);
            store.FinishSyncRun(runId, result.Failed ? "failed" : "succeeded", Counts(stages), Errors(stages, verify));
            return result;
        }
        catch (Exception e)
        {
            store.FinishSyncRun(runId, "failed", Counts(stages), JsonSerializer.Serialize(new[] { e.Message }));
            throw;
        }
    }

    private static string Counts(IEnumerable<StageReport> stages) =>
        new JsonObject(stages.Select(s => new KeyValuePair<string, JsonNode?>(s.Stage,
            new JsonObject(s.Counts.Select(c => new KeyValuePair<string, JsonNode?>(c.Key, c.Value)))))).ToJsonString();

    private static string Errors(IEnumerable<StageReport> stages, VerifyReport verify) =>
        new JsonArray(stages.SelectMany(s => s.Problems).Select(p => (JsonNode?)JsonValue.Create($"[{p.Stage}] {p}"))
            .Concat(verify.Checks.Where(c => !c.Passed).Select(c => (JsonNode?)JsonValue.Create($"[verify] {c.Id}: {c.Detail}"))).ToArray()).ToJsonString();
}
