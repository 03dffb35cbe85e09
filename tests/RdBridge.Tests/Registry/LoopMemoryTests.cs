using RdBridge.Registry;

namespace RdBridge.Tests.Registry;

/// <summary>
/// Export reads discovery's memory of each loop beside the loops, in the same key order, instead of holding every
/// loop's: each loop must still get its own latest reading, whatever its task run id is spelled with.
/// </summary>
public class LoopMemoryTests
{
    [Fact]
    public void Each_loop_gets_its_own_latest_reading_beside_the_loops_in_key_order()
    {
        using var sample = new Sample(taskRuns: 2, loops: 3);
        Assert.Equal(0, sample.Cli("discover").Code);
        var db = sample.Settings.RegistryPath;
        // Task runs whose ids sort differently by case, by UTF-16 code unit and by UTF-8 byte ("Z" < "a" < "é" < "ｚ"
        // < "😀" in SQLite's BINARY order, "😀" before "ｚ" by UTF-16 code unit), a loop read twice from two folders
        // (the later reading wins), a memory row of a loop the registry does not have, and a loop without memory.
        Db.Exec(db, """
            INSERT INTO loops (task_run_id, loop_id, status) VALUES
              ('Z-run', 0, 'failed'), ('a-run', 4, 'failed'), ('é-run', 1, 'failed'), ('😀-run', 2, 'failed'),
              ('ｚ-run', 3, 'failed'), ('ｚ-run', 5, 'failed');
            INSERT INTO rdbridge_discovery (folder, task_run_id, loop_id, folder_stamp, files_stamp, status, hypothesis,
                read_at_utc) VALUES
              ('z/Loop_0', 'Z-run', 0, 's', 's', 'failed', 'Z zero', '2026-01-01T00:00:00Z'),
              ('a/Loop_3', 'a-run', 3, 's', 's', 'failed', 'not in the registry', '2026-01-01T00:00:00Z'),
              ('a/Loop_4b', 'a-run', 4, 's', 's', 'failed', 'a four, later', '2026-01-02T00:00:00Z'),
              ('a/Loop_4a', 'a-run', 4, 's', 's', 'failed', 'a four, earlier', '2026-01-01T00:00:00Z'),
              ('e/Loop_1', 'é-run', 1, 's', 's', 'failed', 'é one', '2026-01-01T00:00:00Z'),
              ('s/Loop_2', '😀-run', 2, 's', 's', 'failed', 'smile two', '2026-01-01T00:00:00Z'),
              ('w/Loop_3', 'ｚ-run', 3, 's', 's', 'failed', 'wide three', '2026-01-01T00:00:00Z');
            """);

        // What each loop's latest reading is, by SQL per loop (independent of the merge).
        var expected = Db.Rows(db, """
            SELECT l.task_run_id, l.loop_id,
                   (SELECT d.hypothesis FROM rdbridge_discovery d
                    WHERE d.task_run_id = l.task_run_id AND d.loop_id = l.loop_id
                    ORDER BY d.read_at_utc DESC, d.folder DESC LIMIT 1)
            FROM loops l ORDER BY l.task_run_id, l.loop_id
            """).Select(r => ((string)r[0]!, (long)r[1]!, r[2] as string)).ToList();
        Assert.Contains(("a-run", 4L, "a four, later"), expected);
        Assert.Contains(("ｚ-run", 5L, null), expected);

        using var registry = RegistryDatabase.Open(db, writable: false);
        using var memory = registry.ReadLoopMemory();
        var read = registry.ReadLoops(LoopSelection.All)
            .Select(l => (l.TaskRunId, l.LoopId, memory.For(l.TaskRunId, l.LoopId)?.Hypothesis)).ToList();

        Assert.Equal(expected, read);
        // The sample's own loops got their readings too.
        Assert.True(read.Count(r => r.Hypothesis is not null) > 5);
    }
}
