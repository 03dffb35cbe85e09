using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The sync history (runs and sources) called on the store directly, each value read back with SQL, on the latest
/// schema and on the older schemas that have no progress column and no sources table.
/// </summary>
public class SyncHistoryStoreTests
{
    private static string Cells(object?[] row) => string.Join("|", row.Select(c => c?.ToString() ?? "null"));

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_run_records_its_mode_since_stage_progress_and_how_it_finished(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using (dir) using (db) using (store)
        {
            var first = store.StartSyncRun("init", null);
            var second = store.StartSyncRun("sync", "2026-12-01T00:00:00Z");
            Assert.Equal("init|running|starting|null|null|null|null|null",
                Cells(db.Rows("SELECT mode, status, stage, since, finished_at, counts, errors, progress "
                    + $"FROM rdbridge_sync_runs WHERE id = {first}")[0]));
            Assert.Equal("sync|2026-12-01T00:00:00Z",
                Cells(db.Rows($"SELECT mode, since FROM rdbridge_sync_runs WHERE id = {second}")[0]));

            store.UpdateSyncRun(second, "import", 0.25);
            Assert.Equal("import|0.25",
                Cells(db.Rows($"SELECT stage, progress FROM rdbridge_sync_runs WHERE id = {second}")[0]));
            // No progress given: the stage moves, the progress already recorded stays.
            store.UpdateSyncRun(second, "verify");
            Assert.Equal("verify|0.25",
                Cells(db.Rows($"SELECT stage, progress FROM rdbridge_sync_runs WHERE id = {second}")[0]));
            Assert.Equal("starting|null",
                Cells(db.Rows($"SELECT stage, progress FROM rdbridge_sync_runs WHERE id = {first}")[0]));

            store.FinishSyncRun(second, "succeeded", "{\"loops\":3}", "[]");
            Assert.Equal("succeeded|finished|{\"loops\":3}|[]|1",
                Cells(db.Rows("SELECT status, stage, counts, errors, progress "
                    + $"FROM rdbridge_sync_runs WHERE id = {second}")[0]));
            Assert.Equal(1L, db.Scalar(
                $"SELECT count(*) FROM rdbridge_sync_runs WHERE id = {second} AND finished_at IS NOT NULL"));
            Assert.Equal("running", db.Rows($"SELECT status FROM rdbridge_sync_runs WHERE id = {first}")[0][0]);

            var read = store.SyncRuns(10);
            Assert.Equal([second, first], read.Select(r => r.Id));
            var startedSecond =
                (string)db.Rows($"SELECT started_at FROM rdbridge_sync_runs WHERE id = {second}")[0][0]!;
            var finishedSecond =
                (string)db.Rows($"SELECT finished_at FROM rdbridge_sync_runs WHERE id = {second}")[0][0]!;
            Assert.Equal(new SyncRun(second, "sync", "succeeded", "finished", startedSecond, finishedSecond,
                "2026-12-01T00:00:00Z", "{\"loops\":3}", "[]") { Progress = 1 }, read[0]);
            Assert.Equal(("init", "running", "starting", (string?)null, (double?)null),
                (read[1].Mode, read[1].Status, read[1].Stage, read[1].Since, read[1].Progress));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void The_run_list_is_newest_first_cut_at_the_limit_and_never_below_one(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using (dir) using (db) using (store)
        {
            Assert.Null(store.LastSyncRun(successfulOnly: false));
            var ids = new[] { store.StartSyncRun("init", null), store.StartSyncRun("sync", null),
                store.StartSyncRun("sync", null) };
            Assert.Equal(Enumerable.Reverse(ids), db.Rows("SELECT id FROM rdbridge_sync_runs ORDER BY id DESC")
                .Select(r => Convert.ToInt64(r[0])));
            Assert.Equal([ids[2], ids[1]], store.SyncRuns(2).Select(r => r.Id));
            Assert.Equal([ids[2]], store.SyncRuns(0).Select(r => r.Id));
            Assert.Null(store.LastSyncRun(successfulOnly: true));
            store.FinishSyncRun(ids[0], "succeeded", "{}", "[]");
            store.FinishSyncRun(ids[2], "failed", "{}", "[\"boom\"]");
            Assert.Equal(ids[2], store.LastSyncRun(successfulOnly: false)!.Id);
            Assert.Equal(ids[0], store.LastSyncRun(successfulOnly: true)!.Id);
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Runs_left_running_become_abandoned_and_finished_and_are_named_once(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using (dir) using (db) using (store)
        {
            var a = store.StartSyncRun("init", null);
            var done = store.StartSyncRun("sync", null);
            store.FinishSyncRun(done, "succeeded", "{}", "[]");
            var b = store.StartSyncRun("sync", null);
            store.UpdateSyncRun(b, "import", 0.5);

            Assert.Equal([a, b], store.AbandonUnfinishedSyncRuns());
            Assert.Equal([$"{a}|abandoned|finished|1", $"{done}|succeeded|finished|1", $"{b}|abandoned|finished|1"],
                db.Rows("SELECT id, status, stage, CASE WHEN finished_at IS NULL THEN 0 ELSE 1 END "
                    + "FROM rdbridge_sync_runs ORDER BY id").Select(Cells));
            Assert.Empty(store.AbandonUnfinishedSyncRuns());
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Sources_are_recorded_updated_in_place_and_listed_by_name(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using (dir) using (db) using (store)
        {
            Assert.Empty(store.Sources());
            store.RecordSource(new SourceState("zeta", "https://z.example/feed", null, null, null, null));
            store.RecordSource(new SourceState("alpha", "https://a.example/feed", "w1", "2026-12-01T00:00:00Z",
                "ok", null));
            var updated = new SourceState("zeta", "https://z2.example/feed", "w9", "2026-12-02T00:00:00Z", "failed",
                "timeout");
            store.RecordSource(updated);
            Assert.Equal(["alpha|https://a.example/feed|w1|2026-12-01T00:00:00Z|ok|null",
                    "zeta|https://z2.example/feed|w9|2026-12-02T00:00:00Z|failed|timeout"],
                db.Rows("SELECT name, url, watermark, last_sync_at, last_status, last_error FROM rdbridge_sources "
                    + "ORDER BY name").Select(Cells));
            Assert.Equal(["alpha", "zeta"], store.Sources().Select(s => s.Name));
            Assert.Equal(updated, store.Source("zeta"));
            Assert.Equal(new SourceState("alpha", "https://a.example/feed", "w1", "2026-12-01T00:00:00Z", "ok", null),
                store.Source("alpha"));
            Assert.Null(store.Source("missing"));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_schema_2_database_keeps_runs_without_progress_and_has_no_sources(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind, upTo: 2);
        using (dir) using (db) using (store)
        {
            var id = store.StartSyncRun("sync", null);
            store.UpdateSyncRun(id, "import", 0.5);
            Assert.Equal("import", db.Rows($"SELECT stage FROM rdbridge_sync_runs WHERE id = {id}")[0][0]);
            Assert.Null(store.SyncRuns(5)[0].Progress);
            store.FinishSyncRun(id, "succeeded", "{\"loops\":1}", "[]");
            Assert.Equal("succeeded|finished|{\"loops\":1}|[]",
                Cells(db.Rows($"SELECT status, stage, counts, errors FROM rdbridge_sync_runs WHERE id = {id}")[0]));
            var run = store.LastSyncRun(successfulOnly: true)!;
            Assert.Equal((id, "succeeded", (double?)null), (run.Id, run.Status, run.Progress));
            Assert.Empty(store.Sources());
            Assert.Null(store.Source("any"));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_schema_3_database_already_records_progress(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind, upTo: 3);
        using (dir) using (db) using (store)
        {
            var id = store.StartSyncRun("sync", null);
            store.UpdateSyncRun(id, "import", 0.75);
            Assert.Equal("import|0.75",
                Cells(db.Rows($"SELECT stage, progress FROM rdbridge_sync_runs WHERE id = {id}")[0]));
            Assert.Equal(0.75, store.SyncRuns(1)[0].Progress);
        }
    }
}
