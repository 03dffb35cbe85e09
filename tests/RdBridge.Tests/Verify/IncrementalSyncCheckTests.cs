using RdBridge.Verify;

namespace RdBridge.Tests.Verify;

/// <summary>
/// Issue 26, point 17: the checklist's "增量同步能够正确添加新数据" cannot pass on a database no sync ever wrote, nor
/// while the registry has a loop with results that no sync brought over.
/// </summary>
public sealed class IncrementalSyncCheckTests
{
    private static CheckResult Run(SyncedSample s) =>
        new Checklist(s.Settings, deep: false).Run([Checks.All.Single(c => c.Id == "fn.incremental_sync")])
            .Checks.Single();

    [Fact]
    public void Incremental_sync_check_fails_when_no_sync_has_ever_run()
    {
        using var copy = SyncedSample.Copy("rdagent", TestStore.Default);
        Assert.True(Run(copy).Passed, "the synced sample must pass first");
        // What a tree set up verb by verb (backfill, bundle, export, import) looks like: catalogs imported, no run.
        copy.Aistock("DELETE FROM rdbridge_sync_runs");

        var result = Run(copy);

        Assert.False(result.Passed, result.Detail);
        Assert.Equal("every exported record is in the database, current; no sync run recorded yet " +
            "(run rdbridge init or sync)", result.Detail);
    }

    [Fact]
    public void Incremental_sync_check_fails_when_a_registry_loop_with_results_was_never_synced()
    {
        using var copy = SyncedSample.Copy("rdagent", TestStore.Default);
        var tr = (string)copy.FirstLoop["task_run_id"]!;
        // RD-Agent finished one more loop after the last sync: the registry has it, the catalogs and AIstock do not.
        copy.Registry(
            $"INSERT INTO loops (task_run_id, loop_id, status, has_result) VALUES ('{tr}', 77, 'success', 1)");

        var result = Run(copy);

        Assert.False(result.Passed, result.Detail);
        // The whole detail: the one loop added above, and the last run as the AIstock database records it.
        var last = copy.AistockRows("SELECT id, mode, status FROM rdbridge_sync_runs ORDER BY id DESC")[0];
        Assert.Equal($"1 registry loop with results never synced, e.g. {tr}/77 (run rdbridge sync); " +
            $"last run #{Convert.ToInt64(last[0])} ({last[1]}) {last[2]}", result.Detail);
    }
}
