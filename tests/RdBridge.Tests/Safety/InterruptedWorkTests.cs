using System.Diagnostics;
using RdBridge.Store;

namespace RdBridge.Tests.Safety;

/// <summary>
/// Issue 13 #14 and the fault-injection test: a run killed at any point leaves nothing the next run does not remove
/// and report, its history row is marked abandoned, and the next run converges to what a clean run gives.
/// </summary>
public class InterruptedWorkTests
{
    /// <summary>
    /// What a finished run leaves that must not depend on interruptions: bundles and the imported catalogs.
    /// </summary>
    private static SortedDictionary<string, string> Result(Sample sample)
    {
        var s = sample.Settings;
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(s.BundleDirectory, "*.sha256"))
            result["bundle " + Path.GetFileName(f)] = File.ReadAllText(f);
        foreach (var f in Directory.EnumerateFiles(s.AssetCacheDirectory, "*.sha256"))
            result["cache " + Path.GetFileName(f)] = File.ReadAllText(f);
        foreach (var d in Directory.EnumerateDirectories(s.AssetCacheDirectory)
            .Where(d => !Path.GetFileName(d).StartsWith('.')))
        {
            result["extracted " + Path.GetFileName(d)] = File.ReadAllText(Path.Combine(d, "manifest.json"));
        }

        foreach (var name in new[]
        {
            "factor_catalog.json", "model_catalog.json", "strategy_catalog.json", "loop_catalog.json",
        })
        {
            result["catalog " + name] = string.Join("\n",
                File.ReadAllLines(Path.Combine(s.AistockCatalogDirectory, name))
                    .Where(l => !l.Contains("generated_at_utc")));
        }

        foreach (var table in new[]
        {
            CatalogTable.Factor, CatalogTable.Model, CatalogTable.Strategy, CatalogTable.Loop,
        })
        {
            var rows = sample.Aistock.Rows(
                $"SELECT {string.Join(", ", table.Columns.Select(c => c.Name))} FROM {table.Name} " +
                $"ORDER BY {string.Join(", ", table.Key)}");
            result["rows " + table.Name] = string.Join("\n", rows.Select(r => string.Join("|",
                r.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))));
        }
        return result;
    }

    private static void ForgetRecordedState(string registry)
    {
        var tables = Db.Rows(registry, "SELECT name FROM sqlite_master WHERE name LIKE 'rdbridge_%_state'");
        foreach (var t in tables) Db.Exec(registry, $"DELETE FROM {t[0]}");
    }

    /// <summary>
    /// Whatever an interrupted run could leave: staging folders, temporaries, partial downloads, runs still
    /// "running".
    /// </summary>
    private static List<string> LeftBehind(Sample sample)
    {
        var s = sample.Settings;
        var left = new List<string>();
        foreach (var root in new[]
        {
            s.BundleDirectory, s.AssetCacheDirectory, s.CatalogDirectory, s.AistockCatalogDirectory,
            s.StrategiesLibRoot,
        })
        {
            if (!Directory.Exists(root)) continue;
            left.AddRange(Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Where(p =>
            {
                var n = Path.GetFileName(p);
                return n.EndsWith(".tmp", StringComparison.Ordinal) || n.EndsWith(".part", StringComparison.Ordinal)
                    || n.Contains(".extracting-", StringComparison.Ordinal)
                    || n.Contains(".old-", StringComparison.Ordinal);
            }));
        }
        left.AddRange(s.WorkspaceRoots.SelectMany(Directory.EnumerateDirectories)
            .SelectMany(w => Directory.EnumerateFiles(w, ".*.tmp")));
        using var store = AistockStores.Open(s);
        left.AddRange(store.SyncRuns(1000).Where(r => r.Status == "running")
            .Select(r => $"sync run #{r.Id} still running"));
        return left;
    }

    [Fact]
    public void The_next_sync_removes_what_a_killed_run_left_says_so_and_marks_the_run_abandoned()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        var cache = sample.Settings.AssetCacheDirectory;
        var id = Path.GetFileName(Directory.EnumerateFiles(cache, "*.tar.gz").First())[..^".tar.gz".Length];
        var staging = Path.Combine(cache, $".{id}.extracting-{Guid.NewGuid():N}");
        var retired = Path.Combine(cache, $".{id}.old-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(staging, "workspaces"));
        File.WriteAllText(Path.Combine(staging, "workspaces", "half.py"), "print(");
        Directory.CreateDirectory(retired);
        // pid 99999999 is above Linux's pid_max: that process is certainly gone.
        var temp = Path.Combine(sample.Settings.AistockCatalogDirectory,
            $".loop_catalog.json.99999999.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temp, "{\"loops\": [");
        long dead;
        using (var store = AistockStores.Open(sample.Settings)) dead = store.StartSyncRun("sync", null);

        var (code, output, error) = sample.Cli("sync");

        Assert.True(code == 0, output + error);
        Assert.False(Directory.Exists(staging));
        Assert.False(Directory.Exists(retired));
        Assert.False(File.Exists(temp));
        Assert.Contains(staging, output);
        Assert.Contains(temp, output);
        Assert.Contains($"sync run #{dead} never finished", output);
        using (var store = AistockStores.Open(sample.Settings))
            Assert.Equal("abandoned", store.SyncRuns(100).Single(r => r.Id == dead).Status);
        Assert.Empty(LeftBehind(sample));
    }

    [Fact]
    public void Init_sync_and_a_server_started_sync_killed_at_random_points_converge_to_a_clean_runs_result()
    {
        using var clean = new Sample(taskRuns: 2, loops: 4, seed: 5);
        // How long a whole init takes on this machine, start-up included: the kills fall inside that span, so they hit
        // the middle of the work on a fast machine and a slow one alike.
        var timed = Stopwatch.StartNew();
        Assert.Equal(0, Cli.Run(clean.Config, null, "init").Code);
        var span = timed.Elapsed.TotalMilliseconds;
        var expected = Result(clean);

        using var victim = new Sample(taskRuns: 2, loops: 4, seed: 5);
        var rng = new Random(20261201); // fixed: the same kills every time
        var port = Serve.TwoMachineTests.FreePort();
        // Not a timing check: a cap so that a slow machine runs fewer kills instead of running for ever.
        var deadline = Stopwatch.StartNew();
        var kills = new List<string>();
        for (var i = 0; i < 10 && deadline.Elapsed < TimeSpan.FromMinutes(4); i++)
        {
            var which = rng.Next(3);
            var delay = TimeSpan.FromMilliseconds(Math.Round(150 + rng.NextDouble() * 0.85 * span));
            Process process;
            if (which == 2)
            {
                process = Cli.Start(victim.Config, null, "serve", "--urls", $"http://127.0.0.1:{port}");
                StartSyncThroughApi(process, port);
            }
            else
            {
                // A sync with nothing to examine ends at once; forgetting what the last run recorded makes it examine
                // every loop again, so it is killed in the middle of real work (its result is a clean run's all the
                // same).
                if (which == 1) ForgetRecordedState(victim.Settings.RegistryPath);
                process = Cli.Start(victim.Config, null, which == 0 ? "init" : "sync");
            }
            var exited = process.WaitForExit(delay);
            Kill(process);
            kills.Add($"{(which == 2 ? "server sync" : which == 0 ? "init" : "sync")} " +
                $"after {delay.TotalMilliseconds} ms{(exited ? " (had finished)" : "")}");
        }
        // At least, not exactly: whether a kill lands before the process ends depends on this machine's speed.
        Assert.True(kills.Count(k => !k.Contains("finished")) >= 5, string.Join("; ", kills));

        var (code, output, error) = victim.Cli("sync");

        Assert.True(code == 0, $"{string.Join("; ", kills)}\n{output}{error}");
        Assert.Empty(LeftBehind(victim));
        var got = Result(victim);
        var differing = expected.Keys.Union(got.Keys)
            .Where(k => expected.GetValueOrDefault(k) != got.GetValueOrDefault(k)).ToList();
        Assert.True(differing.Count == 0, $"after {string.Join("; ", kills)} these differ from a clean run: " +
            string.Join("\n", differing.Select(k =>
                $"{k}:\n  clean: {expected.GetValueOrDefault(k)}\n  after: {got.GetValueOrDefault(k)}")));
    }

    private static void Kill(Process process)
    {
        if (!process.HasExited) process.Kill(); // SIGKILL: no handler, no finally, as a crash or kill -9
        process.WaitForExit();
        process.Dispose();
    }

    /// <summary>Waits for the server's own line saying it listens, then asks it for a sync as the UI's button
    /// does.</summary>
    private static void StartSyncThroughApi(Process server, int port)
    {
        var address = $"http://127.0.0.1:{port}";
        var ready = $"rdbridge serve (consumer) listening on {address} — UI at {address}/rdagent/factors";
        var seen = new List<string>();
        var listening = Task.Run(() =>
        {
            while (server.StandardOutput.ReadLine() is { } line)
            {
                if (line == ready) return true;
                seen.Add(line);
            }
            return false;
        });
        // The wait is on the line; the minute only turns a server that never starts into a failure.
        Assert.True(listening.Wait(TimeSpan.FromMinutes(1)) && listening.Result,
            $"the server never said it listens:\n{string.Join('\n', seen)}");
        using var http = new HttpClient();
        using var response = http.PostAsync($"{address}/api/rdagent/catalog/sync?mode=full", null)
            .GetAwaiter().GetResult();
        // Either way a sync is under way when the kill comes: this one, or the one the live watch began at start-up.
        Assert.Contains(response.StatusCode, new[] { System.Net.HttpStatusCode.Accepted,
            System.Net.HttpStatusCode.Conflict });
    }
}
