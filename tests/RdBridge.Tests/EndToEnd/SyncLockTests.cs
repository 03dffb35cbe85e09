using RdBridge.Pipeline;

namespace RdBridge.Tests.EndToEnd;

public class SyncLockTests
{
    [Fact]
    public void A_second_sync_waits_then_refuses_while_the_first_holds_the_lock()
    {
        using var dir = new TempDir();
        var path = dir[".rdbridge-sync.lock"];
        using (SyncLock.Acquire(path, TimeSpan.FromSeconds(1)))
        {
            var started = DateTime.UtcNow;
            var e = Assert.Throws<SyncBusyException>(() => SyncLock.Acquire(path, TimeSpan.FromMilliseconds(600)));
            Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(500));
            Assert.Contains("another init/sync is running", e.Message);
        }
        using (SyncLock.Acquire(path, TimeSpan.FromMilliseconds(100))) { } // free again once the first is done
    }

    [Fact]
    public void Init_refuses_with_exit_1_while_another_run_holds_the_lock()
    {
        using var sample = new Sample(taskRuns: 1, loops: 1);
        using (SyncLock.Acquire(Path.Combine(sample.Settings.AistockRoot, ".rdbridge-sync.lock"), TimeSpan.FromSeconds(1)))
        {
            var (code, _, err) = sample.Cli("init", "--wait", "1");
            Assert.Equal(1, code);
            Assert.Contains("another init/sync is running", err);
        }
        Assert.Equal(0, sample.Cli("init").Code);
    }
}
