using RdBridge.Runs;

namespace RdBridge.Tests.EndToEnd;

public class SyncLockTests
{
    [Fact]
    public void A_second_sync_refuses_when_its_wait_ends_with_the_first_still_holding_the_lock()
    {
        using var dir = new TempDir();
        var path = dir[".rdbridge-sync.lock"];
        using (SyncLock.Acquire(path, TimeSpan.FromSeconds(1)))
        {
            var e = Assert.Throws<SyncBusyException>(() => SyncLock.Acquire(path, TimeSpan.FromMilliseconds(600)));
            Assert.Equal(BusyMessage(path), e.Message);
        }
        using (SyncLock.Acquire(path, TimeSpan.FromMilliseconds(100))) { } // free again once the first is done
    }

    /// <summary>
    /// Another process holding the lock (flock, as .NET takes it for FileShare.None) until it sees someone else's
    /// attempt on the file end (inotify's close event: the refused open closes its descriptor), then letting go.
    /// </summary>
    private const string Holder = """
        import ctypes, fcntl, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        events = libc.inotify_init()
        lock = open(sys.argv[1], 'a+')
        fcntl.flock(lock, fcntl.LOCK_EX)
        libc.inotify_add_watch(events, sys.argv[1].encode(), 0x08 | 0x10)  # IN_CLOSE_WRITE | IN_CLOSE_NOWRITE
        print('held', flush=True)
        os.read(events, 4096)
        lock.close()
        print('let go after a refused attempt', flush=True)
        """;

    [Fact]
    public void A_second_sync_waits_for_the_lock_and_takes_it_once_the_first_lets_go()
    {
        // The order is what the test observes, not the time: the holder lets go only after the second run's first
        // attempt was refused, so that run gets the lock only if it kept trying (a run that refused at once fails).
        using var dir = new TempDir();
        var path = dir[".rdbridge-sync.lock"];
        var psi = new System.Diagnostics.ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in new[] { "-c", Holder, path }) psi.ArgumentList.Add(a);
        using var holder = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Assert.Equal("held", holder.StandardOutput.ReadLine());
            using var second = SyncLock.Acquire(path, TimeSpan.FromMinutes(5));
            // It holds the lock now: a third run is refused.
            var e = Assert.Throws<SyncBusyException>(() => SyncLock.Acquire(path, TimeSpan.Zero));
            Assert.Equal(BusyMessage(path).Replace("more than 1 s", "more than 0 s"), e.Message);
            Assert.Equal("let go after a refused attempt", holder.StandardOutput.ReadLine());
            holder.WaitForExit();
            Assert.True(holder.ExitCode == 0, holder.StandardError.ReadToEnd());
        }
        finally
        {
            if (!holder.HasExited) holder.Kill();
        }
    }

    /// <summary>The refusal: whose lock, how long it was waited for (whole seconds, as --wait takes them), what to
    /// do.</summary>
    private static string BusyMessage(string path) =>
        $"another init/sync is running on this AIstock root (lock '{path}' held for more than 1 s); wait for it to "
        + "finish, or check 'rdbridge sync-status'";

    [Fact]
    public void Init_refuses_with_exit_1_while_another_run_holds_the_lock()
    {
        using var sample = new Sample(taskRuns: 1, loops: 1);
        using (SyncLock.Acquire(Path.Combine(sample.Settings.AistockRoot, ".rdbridge-sync.lock"),
            TimeSpan.FromSeconds(1)))
        {
            var (code, _, err) = sample.Cli("init", "--wait", "1");
            Assert.Equal(1, code);
            Assert.Equal($"error: {BusyMessage(Path.Combine(sample.Settings.AistockRoot, ".rdbridge-sync.lock"))}\n",
                err);
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
        var s = sample.Settings;
        var expected = Db.Rows(s.RegistryPath, "SELECT task_run_id, loop_id FROM loops WHERE has_result = 1")
            .Select(r => $"bundle_{r[0]}_{r[1]}").Order().ToList();
        Assert.NotEmpty(expected); // a guard on the sample: the bundles are compared with this list exactly below
        Directory.CreateDirectory(s.Bundles.Root);
        // The bundler puts a batch's archives and sidecars in place before any registry row names them, and writes
        // the next batch only after that; so once a sidecar is there, its next step is the registry write, which
        // RD-Agent's lock holds up.
        var firstSidecar = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(s.Bundles.Root) { EnableRaisingEvents = true };
        void Check(object? _, FileSystemEventArgs __)
        {
            if (expected.Any(id => File.Exists(s.Bundles.Sidecar(id)))) firstSidecar.TrySetResult();
        }
        watcher.Created += Check;
        watcher.Renamed += Check;

        using var rdAgent = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={s.RegistryPath};Pooling=False");
        rdAgent.Open();
        var tx = rdAgent.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: RD-Agent is writing
        var run = Task.Run(() => sample.Cli("bundle"));
        Check(null, null!);
        if (await Task.WhenAny(firstSidecar.Task, run) == run)
        {
            var early = await run;
            Assert.Fail($"bundle ended before a bundle was in place: {early.Out}{early.Err}");
        }

        // Its registry write cannot have happened yet: the run is still waiting for the lock.
        Assert.False(run.IsCompleted, "bundle finished while another writer held the registry lock");
        Assert.Empty(Db.Rows(s.RegistryPath, "SELECT asset_bundle_id FROM loops WHERE asset_bundle_id IS NOT NULL"));
        tx.Commit();
        tx.Dispose();

        var (code, output, err) = await run;
        Assert.True(code == 0, output + err);
        var n = expected.Count;
        Assert.Contains($"[bundle] {Words.N(n, "loop", "loops")}, {n} built, "
            + $"{Words.N(n, "registry row written", "registry rows written")}", OutputLines.Of(output));
        Assert.Equal(expected, Db.Rows(s.RegistryPath,
            "SELECT asset_bundle_id FROM loops WHERE has_result = 1").Select(r => (string)r[0]!).Order());
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
        // One strategy a loop with results (the registry's count): all of them share that one fingerprint.
        Assert.Equal(Db.Scalar(a.Settings.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1"),
            a.Aistock.Scalar("SELECT count(*) FROM aistock_strategy_catalog"));
    }

    [Fact]
    public void Strategy_configurations_that_differ_in_the_strategy_or_the_backtest_get_different_fingerprints()
    {
        // Four loops of one template: all share one fingerprint until their configuration files are edited.
        using var sample = new Sample(taskRuns: 1, loops: 4, flavor: RdBridge.Sample.SampleFlavor.Upstream);
        Assert.Equal(0, sample.Cli("init").Code);
        var settings = sample.Settings;
        var workspaces = Db.Rows(settings.RegistryPath, "SELECT loop_id, workspace_path FROM loops")
            .ToDictionary(r => (long)r[0]!, r => settings.PathMap.Map((string)r[1]!).Local!);
        // Loop 1 holds 30 stocks instead of 50 (the strategy's kwargs); loop 2 starts with half the capital (the
        // backtest's account); loops 0 and 3 keep the template. Every workflow file of the workspace is edited, so
        // the result does not depend on which one RdBridge reads.
        void Edit(long loop, string from, string to)
        {
            var edited = 0;
            foreach (var yaml in Directory.GetFiles(workspaces[loop], "conf*.yaml"))
            {
                var text = File.ReadAllText(yaml);
                if (!text.Contains(from)) continue;
                File.WriteAllText(yaml, text.Replace(from, to));
                edited++;
            }

            // A guard on the input: the edit must land for the comparison below to mean anything.
            Assert.True(edited > 0, $"no workflow file of loop {loop} holds '{from}'");
        }

        Edit(1, "topk: 50", "topk: 30");
        Edit(2, "account: 100000000", "account: 50000000");
        foreach (var verb in new[] { "backfill --overwrite-json", "export", "import" })
        {
            var (code, output, err) = sample.Cli(verb.Split(' '));
            Assert.True(code == 0, $"{verb}: {output}{err}");
        }

        var fingerprints = sample.Aistock
            .Rows("SELECT loop_id, config_fingerprint FROM aistock_strategy_catalog")
            .ToDictionary(r => Convert.ToInt64(r[0]), r => (string)r[1]!);
        Assert.Equal(4, fingerprints.Count);
        Assert.Equal(fingerprints[0], fingerprints[3]);
        Assert.Equal(3, new[] { fingerprints[0], fingerprints[1], fingerprints[2] }.Distinct().Count());
    }
}
