using RdBridge.Backfill;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.Discovery;
using RdBridge.Registry;
using RdBridge.Runs;
using RdBridge.Workspaces;

namespace RdBridge.Pipeline;

/// <summary>
/// The RD-Agent half of a sync, for a machine that publishes to AIstocks elsewhere: backfill → bundle → export for
/// the loops whose registry rows or files changed since the last successful publish (all of them the first time).
/// What it produces is what the publisher's feed and bundle downloads serve. One publish at a time per RD-Agent root
/// (a lock file beside the registry).
/// </summary>
public sealed class PublishPipeline(RunContext context)
{
    private static readonly Counter LoopsToExamine = Counter.Tally("loops to examine", "loop to examine");
    private static readonly Counter LoopsUnchanged = Counter.Tally("loops unchanged since the last successful publish",
        "loop unchanged since the last successful publish");

    public IReadOnlyList<StageReport> Run(bool everything = false, TimeSpan? lockWait = null)
    {
        var settings = context.Settings;
        if (!settings.HasRdAgent)
        {
            throw new Configuration.ConfigurationException("this configuration has no rdagent.root, so there is "
                + "nothing to publish; run publish on the RD-Agent machine");
        }

        using var gate = SyncLock.Acquire(
            Path.Combine(Path.GetDirectoryName(settings.RegistryPath)!, ".rdbridge-publish.lock"),
            lockWait ?? TimeSpan.FromSeconds(60));
        var discovery = new DiscoverStage(context).Run();
        using (var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false))
            registry.RequireWritableSchema();
        // The loops whose rows or files differ from what the last successful publish recorded (--all: every loop).
        var select = new StageReport("select");
        var changes = LoopFingerprints.Compare(settings, LoopFingerprints.PublishPipeline);
        select.Add(LoopsToExamine, everything ? changes.Changed.Count + changes.Unchanged : changes.Changed.Count);
        if (!everything)
        {
            select.Add(LoopsUnchanged, changes.Unchanged);
            foreach (var note in changes.Notes()) select.Note(note);
        }
        var stages = new List<StageReport> { discovery, select };
        if (!everything && changes.Quiet) return stages;
        var selection = everything ? LoopSelection.All : new LoopSelection { Keys = changes.Changed };
        var backfill = new BackfillOptions(BackfillMode.Backfill, selection, OverwriteJson: true, DryRun: false);
        stages.Add(new BackfillStage(context).Run(backfill));
        stages.Add(new BundleStage(context).Run(selection));
        stages.Add(new CatalogExporter(context).Run());
        // A publisher runs every minute: a loop with a problem is left out of the record, so it alone is examined
        // again, and the rest are not examined every time because of it. A stage that could not run records nothing.
        if (!stages.Any(s => s.Aborted is not null))
        {
            LoopFingerprints.Record(settings, LoopFingerprints.PublishPipeline,
                stages.SelectMany(s => s.Problems).Select(p => p.Item).ToHashSet(StringComparer.Ordinal), changes,
                examinedAll: everything);
        }

        return stages;
    }
}
