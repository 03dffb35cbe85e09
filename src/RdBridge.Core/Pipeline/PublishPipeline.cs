using RdBridge.Backfill;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.Discovery;
using RdBridge.IO;
using RdBridge.Registry;
using RdBridge.Runs;

namespace RdBridge.Pipeline;

/// <summary>
/// The RD-Agent half of a sync, for a machine that publishes to AIstocks elsewhere: backfill → bundle → export for the
/// loops RD-Agent changed since the last publish (all of them the first time). What it produces is what the publisher's
/// feed and bundle downloads serve. One publish at a time per RD-Agent root (a lock file beside the registry).
/// </summary>
public sealed class PublishPipeline(RunContext context)
{
    private string StateFile => Path.Combine(context.Settings.BundleDirectory, ".rdbridge-last-publish");

    public IReadOnlyList<StageReport> Run(bool everything = false, TimeSpan? lockWait = null)
    {
        var settings = context.Settings;
        if (!settings.HasRdAgent)
            throw new Configuration.ConfigurationException("this configuration has no rdagent.root, so there is nothing to publish; run publish on the RD-Agent machine");
        using var gate = SyncLock.Acquire(Path.Combine(Path.GetDirectoryName(settings.RegistryPath)!, ".rdbridge-publish.lock"), lockWait ?? TimeSpan.FromSeconds(60));
        var discovery = new DiscoverStage(context).Run();
        using (var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false)) registry.RequireWritableSchema();
        var started = DateTimeOffset.UtcNow;
        DateTimeOffset? since = null;
        if (!everything && File.Exists(StateFile) && DateTimeOffset.TryParse(File.ReadAllText(StateFile).Trim(), out var last))
            since = last;
        var selection = new LoopSelection { ChangedSince = since };
        var stages = new List<StageReport>
        {
            discovery,
            new BackfillStage(context).Run(new BackfillOptions(BackfillMode.Backfill, selection, OverwriteJson: true, DryRun: false)),
            new BundleStage(context).Run(selection),
            new CatalogExporter(context).Run(),
        };
        // The next publish looks at what changed after this one started, so nothing that changed meanwhile is missed.
        if (!stages.Any(s => s.Aborted is not null))
            AtomicFile.WriteBytes(StateFile, System.Text.Encoding.ASCII.GetBytes(started.ToString("o") + "\n"));
        return stages;
    }
}
