using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using RdBridge.Configuration;
using RdBridge.Runs;
using RdBridge.Server;
using RdBridge.Watch;

namespace RdBridge.Tests.Serve;

/// <summary>
/// <c>serve</c> syncing by itself: real samples, real files moved into RD-Agent's log and rows written into its
/// registry the way a finishing loop writes them, real servers on loopback. Every wait is on an event the server
/// raises (a run finished, a scan done, a log line), never on a clock; the timeouts only stop a broken build.
/// </summary>
public class LiveSyncTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <summary>Fast enough for tests; the debounce's contract does not depend on the figures.</summary>
    private static readonly LiveOptions Fast = new(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2),
        TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(200));

    [Fact]
    public void A_loop_finished_while_a_sync_runs_is_picked_up_by_the_next_run()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var s = sample.Settings;
        HeldLoop.HoldBack(s);
        var held = HeldKeys(s);
        var bundlesInCache = new ConcurrentDictionary<int, string[]>();
        using var server = new LiveServer(s, ServeRole.Consumer, Fast);
        // The loop finishes after the first run has chosen what to examine (its select stage), before it bundles.
        server.Service.Stage += (run, stage) =>
        {
            if (run == 1 && stage.Stage == "select") HeldLoop.Release(s, DateTime.UtcNow.ToString("o"));
        };
        server.AtEnd = r => bundlesInCache[r.Number] = Bundles(s.AssetCacheDirectory);
        server.Start();

        var first = server.NextRun();
        Assert.Equal(1, first.Run.Number);
        var heldBundles = held.Select(k => $"bundle_{k.TaskRun}_{k.Loop}.tar.gz").ToArray();
        Assert.Empty(bundlesInCache[1].Intersect(heldBundles));
        // The loop's files and rows arrived during run 1: run 2 takes it (run 1 did not record it as synced).
        var second = server.NextRun();
        Assert.Equal(2, second.Run.Number);
        Assert.Subset(bundlesInCache[2].ToHashSet(), heldBundles.ToHashSet());
        Assert.Subset(server.LoopKeys(), held.ToHashSet<(string, long)>());
        Assert.Equal(RegistryLoops(s), server.LoopKeys());
    }

    [Fact]
    public void A_hundred_loops_finishing_at_once_are_one_run()
    {
        using var sample = new Sample(taskRuns: 4, loops: 25);
        var s = sample.Settings;
        Db.Exec(s.RegistryPath, "CREATE TABLE held_loops AS SELECT * FROM loops; DELETE FROM loops;");
        var aside = Path.Combine(s.RdAgentRoot, "held-log");
        Directory.Move(s.LogRoot, aside);
        Directory.CreateDirectory(s.LogRoot);
        var seen = new BlockingCollection<(ChangeKind Kind, string Path)>();
        using var server = new LiveServer(s, ServeRole.Consumer, Fast with
        {
            Watch = settings => new ObservedWatch(new FileChangeWatch(settings), seen),
        });
        server.Start();
        Assert.Equal(1, server.NextRun().Run.Number);
        Assert.Empty(server.LoopKeys());

        // 100 loops finish while a sync (cron's, say) holds the lock: every write lands before a run can start.
        using (SyncLock.Acquire(Path.Combine(s.AistockRoot, ".rdbridge-sync.lock"), TimeSpan.Zero))
        {
            Db.Exec(s.RegistryPath, "INSERT INTO loops SELECT * FROM held_loops;");
            var taskRuns = Directory.GetDirectories(aside).Order(StringComparer.Ordinal).ToArray();
            foreach (var dir in taskRuns) Directory.Move(dir, Path.Combine(s.LogRoot, Path.GetFileName(dir)));
            Assert.Equal(100, Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops"));
            // The watch has reported the registry write and the last folder moved in (its events come in order),
            // and a run was then tried and refused: nothing of the burst is still on its way.
            var last = Path.Combine(s.LogRoot, Path.GetFileName(taskRuns[^1]));
            bool registry = false, log = false;
            while (!(registry && log))
            {
                Assert.True(seen.TryTake(out var e, Patience), "the watch reported no event for the burst");
                registry |= e.Kind == ChangeKind.Registry;
                log |= e.Kind == ChangeKind.Log && e.Path == last;
            }
            var refused = server.NextAttempt();
            Assert.Equal(LiveOutcome.Busy, refused.Outcome);
        }
        var burst = server.NextRun();
        // Every loop with results is listed: the ones the registry marks, and every one a bundle was built for.
        var listed = server.LoopKeys(withResults: true);
        Assert.Subset(listed, ResultLoops(s));
        Assert.Equal(Bundles(s.BundleDirectory).Select(b => b["bundle_".Length..^".tar.gz".Length])
            .Select(k => (k[..k.LastIndexOf('_')], long.Parse(k[(k.LastIndexOf('_') + 1)..]))).ToHashSet(), listed);

        // The bound: one run for the whole burst. The run's own registry writes start none; the next run there is
        // is the one a later write asks for.
        var marker = DateTime.UtcNow;
        Db.Exec(s.RegistryPath, "PRAGMA user_version = 7");
        var next = server.NextRun();
        Assert.Equal(burst.Run.Number + 1, next.Run.Number);
        // A clock reading, so only its order is known: the run began after the write that asked for it.
        Assert.True(next.StartedAt >= marker);
    }

    [Fact]
    public void A_watch_that_loses_its_events_finds_the_loop_by_its_stat_scan()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var s = sample.Settings;
        HeldLoop.HoldBack(s);
        var held = HeldKeys(s);
        var scans = new BlockingCollection<(int Number, bool Found)>();
        var lastScan = 0;
        using var server = new LiveServer(s, ServeRole.Consumer, Fast with { Watch = _ => new DeafWatch() });
        server.Live.Scanned += (n, found) =>
        {
            Volatile.Write(ref lastScan, n);
            scans.Add((n, found));
        };
        server.Start();
        Assert.Equal(1, server.NextRun().Run.Number);
        // The server says how it watches.
        var status = JsonNode.Parse(RunningServer.Text(server.Get("api/rdagent/live")))!;
        Assert.Equal("stat scan every 0.3 s", status["mode"]!.GetValue<string>());
        Assert.Empty(server.LoopKeys().Intersect(held.Select(k => (k.TaskRun, k.Loop))));

        // Scanning goes on; then the loop finishes between two known scan numbers.
        Assert.True(scans.TryTake(out _, Patience));
        var before = Volatile.Read(ref lastScan);
        HeldLoop.Release(s, DateTime.UtcNow.ToString("o"));
        var after = Volatile.Read(ref lastScan);
        var run = server.NextRun();
        // Found by a scan after the last one done before the write, and no later than the first one that began after
        // it (the one after the scan that may have been under way when the write ended).
        Assert.NotNull(run.Run.FoundByScan); // a guard for the exact range just below
        // A range by nature: which scan sees the write races with the scanning thread.
        Assert.InRange(run.Run.FoundByScan!.Value, before + 1, after + 2);
        Assert.Subset(server.LoopKeys(), held.ToHashSet<(string, long)>());
        Assert.Equal(RegistryLoops(s), server.LoopKeys());
    }

    [Fact]
    public async Task A_server_killed_mid_sync_converges_when_it_starts_again()
    {
        using var sample = new Sample(taskRuns: 2, loops: 4);
        var s = sample.Settings;
        var port = TwoMachineTests.FreePort();
        var url = $"http://127.0.0.1:{port}";
        using (var first = Safety.Cli.Start(sample.Config, null, "serve", "--urls", url))
        {
            // Killed as soon as the first run's backfill is done, while it bundles.
            try
            {
                // Waits on the server's log line as it is written (an event, not a time).
                Assert.True(WaitForLine(first, l => l.Contains("Live run 1 stage backfill")),
                    "the first run never reached its backfill");
            }
            finally
            {
                first.Kill(entireProcessTree: true);
                first.WaitForExit();
            }
        }
        using var second = Safety.Cli.Start(sample.Config, null, "serve", "--urls", url);
        try
        {
            // The logger adds its own prefix; the run's line is "Live run 1: sync <id> succeeded…".
            Assert.True(WaitForLine(second, l => l.Contains("Live run 1: sync") && l.Contains("succeeded")),
                "the restarted server's first run did not succeed");
            using var http = new HttpClient { BaseAddress = new Uri(url + "/") };
            var loops = JsonNode.Parse(await http.GetStringAsync("api/rdagent/loops?page_size=500"))!["items"]!
                .AsArray().Select(i => (i!["task_run_id"]!.GetValue<string>(), i["loop_id"]!.GetValue<long>()))
                .ToHashSet();
            Assert.Equal(RegistryLoops(s), loops);
            // Every bundle the publisher side built is in the cache, byte for byte.
            var built = Bundles(s.BundleDirectory);
            Assert.NotEmpty(built); // a precondition: the equality below is not of two empty folders
            Assert.Equal(built, Bundles(s.AssetCacheDirectory));
            foreach (var b in built)
            {
                Assert.Equal(File.ReadAllBytes(Path.Combine(s.BundleDirectory, b)),
                    File.ReadAllBytes(Path.Combine(s.AssetCacheDirectory, b)));
            }
            var status = JsonNode.Parse(await http.GetStringAsync("api/rdagent/sync-runs?limit=10"))!;
            var statuses = status["runs"]!.AsArray().Select(r => r!["status"]!.GetValue<string>()).ToList();
            // Newest first: the restarted server's run, and the killed server's, found unfinished and marked so.
            Assert.Equal(["succeeded", "abandoned"], statuses);
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            second.WaitForExit();
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_loop_finished_at_the_publisher_reaches_the_consumer_over_http(string store)
    {
        using var publisher = new Sample(taskRuns: 1, loops: 3);
        var ps = publisher.Settings;
        HeldLoop.HoldBack(ps);
        var held = HeldKeys(ps);
        using var pub = new LiveServer(ps, ServeRole.Publisher, Fast);
        pub.Start();
        Assert.Equal(1, pub.NextRun().Run.Number);

        using var consumerDir = new TempDir();
        using var db = TestStore.Create(store, consumerDir);
        var config = new JsonObject
        {
            ["aistock"] = new JsonObject
            {
                ["root"] = "AIstock",
                ["database"] = db.IsPostgres ? db.Setting : consumerDir["AIstock/aistock.db"],
            },
            ["sources"] = new JsonArray(new JsonObject { ["name"] = "gpu1", ["url"] = pub.Url.ToString() }),
        };
        File.WriteAllText(consumerDir["rdbridge.json"], config.ToJsonString());
        var cs = SettingsLoader.Load(consumerDir["rdbridge.json"]);
        using var consumer = new LiveServer(cs, ServeRole.Consumer, Fast);
        consumer.Start();
        Assert.Equal(1, consumer.NextRun().Run.Number);
        // Every loop the publisher's registry holds, and so none of the held-back ones.
        Assert.Equal(RegistryLoops(ps), consumer.LoopKeys());
        Assert.Empty(RegistryLoops(ps).Intersect(held.Select(k => (k.TaskRun, k.Loop))));

        // RD-Agent finishes the loop: the publisher's watch publishes it, its feed's long poll tells the consumer,
        // whose next run pulls it.
        HeldLoop.Release(ps, DateTime.UtcNow.AddSeconds(1).ToString("o"));
        Assert.Equal(2, pub.NextRun().Run.Number);
        var run = consumer.NextRun();
        Assert.Equal("publisher gpu1 changed", run.Run.Reason);
        Assert.Equal(RegistryLoops(ps), consumer.LoopKeys());
        var bundle = $"bundle_{held[0].TaskRun}_{held[0].Loop}.tar.gz";
        Assert.Equal(File.ReadAllBytes(Path.Combine(ps.BundleDirectory, bundle)),
            File.ReadAllBytes(Path.Combine(cs.AssetCacheDirectory, bundle)));
    }

    private static bool WaitForLine(Process p, Func<string, bool> match)
    {
        var found = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Read(StreamReader reader) => Task.Run(() =>
        {
            while (reader.ReadLine() is { } line)
                if (match(line)) found.TrySetResult(true);
            found.TrySetResult(false);
        });
        Read(p.StandardOutput);
        return found.Task.Wait(Patience) && found.Task.Result;
    }

    private static List<(string TaskRun, long Loop)> HeldKeys(RdBridgeSettings s) =>
        [.. Db.Rows(s.RegistryPath, "SELECT task_run_id, loop_id FROM held_loops")
            .Select(r => ((string)r[0]!, Convert.ToInt64(r[1])))];

    private static HashSet<(string, long)> RegistryLoops(RdBridgeSettings s) =>
        [.. Db.Rows(s.RegistryPath, "SELECT task_run_id, loop_id FROM loops")
            .Select(r => ((string)r[0]!, Convert.ToInt64(r[1])))];

    private static HashSet<(string, long)> ResultLoops(RdBridgeSettings s) =>
        [.. Db.Rows(s.RegistryPath, "SELECT task_run_id, loop_id FROM loops WHERE has_result = 1")
            .Select(r => ((string)r[0]!, Convert.ToInt64(r[1])))];

    private static string[] Bundles(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.tar.gz").Select(f => Path.GetFileName(f)).Order().ToArray()
            : [];
}

/// <summary>A watch on a folder whose events never arrive (a network drive): it says so and reports nothing.</summary>
internal sealed class DeafWatch : IChangeWatch
{
    public event Action<ChangeKind, string>? Changed { add { } remove { } }
    public event Action<string>? Lost { add { } remove { } }
    public string? Unreliable => "events on this folder are lost (test)";
    public void Dispose() { }
}

/// <summary>The real watch, with every event it raises also handed to the test.</summary>
internal sealed class ObservedWatch(IChangeWatch inner, BlockingCollection<(ChangeKind, string)> seen) : IChangeWatch
{
    public event Action<ChangeKind, string>? Changed
    {
        add => inner.Changed += Wrap(value);
        remove { }
    }

    private Action<ChangeKind, string> Wrap(Action<ChangeKind, string>? handler) => (kind, path) =>
    {
        handler?.Invoke(kind, path);
        seen.Add((kind, path));
    };

    public event Action<string>? Lost { add => inner.Lost += value; remove => inner.Lost -= value; }
    public string? Unreliable => inner.Unreliable;
    public void Dispose() => inner.Dispose();
}

/// <summary>A live server on 127.0.0.1 whose runs the test waits for, one by one.</summary>
internal sealed class LiveServer : IDisposable
{
    private readonly WebApplication _app;
    private readonly BlockingCollection<LiveAttempt> _attempts = [];
    private readonly ConcurrentDictionary<int, DateTime> _started = new();
    public LiveService Service { get; }
    public LiveSync Live { get; }

    /// <summary>Called as each run ends, before the test hears of it (a snapshot of that moment).</summary>
    public Action<LiveRun>? AtEnd { get; set; }
    public Uri Url { get; private set; } = null!;
    private HttpClient? _client;

    public sealed record LiveAttempt(LiveRun Run, LiveOutcome Outcome, DateTime StartedAt);

    public LiveServer(RdBridgeSettings settings, ServeRole role, LiveOptions options)
    {
        _app = RdBridgeServer.Build(settings, role, ["http://127.0.0.1:0"], logging: _ => { }, live: options);
        Service = _app.Services.GetRequiredService<LiveService>();
        // The live sync exists before the host starts it, so a test subscribes before its first run.
        Live = Service.Prepare();
        Live.Starting += r => _started[r.Number] = DateTime.UtcNow;
        Live.Finished += (r, o) =>
        {
            AtEnd?.Invoke(r);
            _attempts.Add(new(r, o, _started[r.Number]));
        };
    }

    public void Start()
    {
        _app.Start();
        Url = new Uri(_app.Urls.First().TrimEnd('/') + "/");
        _client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The next run that was tried, refused ones included.</summary>
    public LiveAttempt NextAttempt()
    {
        Assert.True(_attempts.TryTake(out var a, TimeSpan.FromMinutes(3)), "no live run within 3 minutes");
        return a;
    }

    /// <summary>The next run that ran (refused attempts are passed over).</summary>
    public LiveAttempt NextRun()
    {
        while (true)
        {
            var a = NextAttempt();
            if (a.Outcome == LiveOutcome.Done) return a;
        }
    }

    public HttpResponseMessage Get(string path) => _client!.Send(new HttpRequestMessage(HttpMethod.Get, path));

    /// <summary>The loops the consumer's API lists (every loop, or only those with results: the ones with a
    /// bundle).</summary>
    public HashSet<(string, long)> LoopKeys(bool withResults = false)
    {
        using var doc = JsonDocument.Parse(RunningServer.Text(Get("api/rdagent/loops?page_size=500")));
        return [.. doc.RootElement.GetProperty("items").EnumerateArray()
            .Where(i => !withResults
                || (i.TryGetProperty("has_result", out var r) && r.ValueKind == JsonValueKind.True))
            .Select(i => (i.GetProperty("task_run_id").GetString()!, i.GetProperty("loop_id").GetInt64()))];
    }

    public void Dispose()
    {
        _client?.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }
}
