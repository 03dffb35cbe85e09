using RdBridge.Runs;

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
        using (SyncLock.Acquire(Path.Combine(sample.Settings.AistockRoot, ".rdbridge-sync.lock"),
            TimeSpan.FromSeconds(1)))
        {
            var (code, _, err) = sample.Cli("init", "--wait", "1");
            Assert.Equal(1, code);
            Assert.Contains("another init/sync is running", err);
        }
        Assert.Equal(0, sample.Cli("init").Code);
    }
}

public class RegistryConcurrencyTests
{
    [Fact]
    public async Task Bundling_waits_for_rd_agent_holding_the_registry_write_lock_instead_of_failing()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        Assert.Equal(0, sample.Cli("backfill").Code);
        using var rdAgent = new Microsoft.Data.Sqlite.SqliteConnection(
            $"Data Source={sample.Settings.RegistryPath};Pooling=False");
        rdAgent.Open();
        using var tx = rdAgent.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: RD-Agent is writing
        var run = Task.Run(() => sample.Cli("bundle"));
        await Task.Delay(1500);
        Assert.False(run.IsCompleted, "bundle finished while another writer held the registry lock");
        tx.Commit();
        var (code, output, err) = await run;
        Assert.True(code == 0, output + err);
        Assert.Contains("built", output);
    }
}

public class StrategyFingerprintTests
{
    [Fact]
    public void Identical_strategy_configurations_share_one_fingerprint_across_loops_and_runs()
    {
        // One family's templates: the mixed sample's fork workspaces run another strategy
        // (EnhancedTopkDropoutStrategy).
        using var a = new Sample(taskRuns: 2, loops: 3, seed: 5, flavor: RdBridge.Sample.SampleFlavor.Upstream);
        using var b = new Sample(taskRuns: 2, loops: 3, seed: 6, flavor: RdBridge.Sample.SampleFlavor.Upstream);
        Assert.Equal(0, a.Cli("init").Code);
        Assert.Equal(0, b.Cli("init").Code);
        string[] Fingerprints(Sample s) => s.Aistock
            .Rows("SELECT DISTINCT config_fingerprint FROM aistock_strategy_catalog")
            .Select(r => (string)r[0]!).ToArray();
        var fa = Assert.Single(Fingerprints(a));
        Assert.Equal(fa, Assert.Single(Fingerprints(b)));
        Assert.True(a.Aistock.Scalar("SELECT count(*) FROM aistock_strategy_catalog") > 1);
    }
}
