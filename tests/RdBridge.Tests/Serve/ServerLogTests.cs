using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RdBridge.Server;

namespace RdBridge.Tests.Serve;

/// <summary>
/// A sync started from the API leaves its story in the server's log, as the guide's troubleshooting reads it.
/// </summary>
public sealed class ServerLogTests
{
    private sealed record Line(string Category, LogLevel Level, string Text);

    private sealed class Captured : ILoggerProvider
    {
        public ConcurrentQueue<Line> Lines { get; } = new();
        /// <summary>Each line as it is logged, so a test waits on the line itself.</summary>
        public BlockingCollection<Line> Written { get; } = new();
        public ILogger CreateLogger(string category) => new Logger(category, this);
        public void Dispose() { }

        /// <summary>Whether a line matching arrives within a minute (a bound on a hang, not a timing).</summary>
        public bool WaitFor(Func<Line, bool> match)
        {
            while (Written.TryTake(out var line, TimeSpan.FromMinutes(1)))
                if (match(line)) return true;
            return false;
        }

        private sealed class Logger(string category, Captured to) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel level) => true;
            public void Log<TState>(LogLevel level, EventId id, TState state, Exception? e, Func<TState, Exception?,
                string> format)
            {
                var line = new Line(category, level, format(state, e));
                to.Lines.Enqueue(line);
                to.Written.Add(line);
            }
        }
    }

    [Fact]
    public async Task A_server_started_sync_logs_its_start_each_stage_with_counts_its_problems_and_its_end()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        // One workspace gone: the run goes on and its problem must reach the log as a warning naming the loop.
        var workspace = Db.Rows(sample.Settings.RegistryPath,
            "SELECT workspace_path FROM workspaces WHERE workspace_role = 'experiment_workspace' AND loop_id = 0")
            [0][0] as string;
        Directory.Delete(sample.Settings.PathMap.Map(workspace).Local!, recursive: true);
        var captured = new Captured();
        var app = RdBridgeServer.Build(sample.Settings, ServeRole.Consumer, ["http://127.0.0.1:0"],
            logging: l => l.AddProvider(captured));
        await app.StartAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/") };
            var accepted = client.Send(new HttpRequestMessage(HttpMethod.Post, "api/rdagent/catalog/sync?mode=full"));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
            using var doc = JsonDocument.Parse(accepted.Content.ReadAsStream());
            var id = doc.RootElement.GetProperty("id").GetInt64();
            // The end line is written after the run's status is recorded: wait for the line itself.
            Assert.True(captured.WaitFor(l => l.Text.StartsWith($"Sync {id} finished", StringComparison.Ordinal)),
                "the sync's end line was never logged");

            var sync = captured.Lines.Where(l => l.Category == typeof(SyncRunner).FullName).ToList();
            // A full sync on a database no run wrote starts from the beginning, as init does.
            Assert.Contains(sync, l => l.Level == LogLevel.Information
                && l.Text == $"Sync {id} started: init, since the beginning");
            foreach (var stage in new[] { "backfill", "bundle", "export", "import", "sync-assets" })
            {
                Assert.Contains(sync, l => l.Level == LogLevel.Information
                    && l.Text.StartsWith($"Sync {id} stage {stage}: "));
            }

            // The import's whole line: a first import inserts every record of each catalog file the run exported
            // (factors, models, strategies, loops, in that order; a catalog with none is not named) and every entry
            // of the factor provenance file, then copies the five files to AIstock's side.
            var catalogs = sample.Settings.CatalogDirectory;
            var files = new[] { ("factor_catalog.json", "factors"), ("model_catalog.json", "models"),
                ("strategy_catalog.json", "strategies"), ("loop_catalog.json", "loops") };
            var inserted = files.Select(f => (f.Item2, Count: JsonDocument.Parse(File.ReadAllBytes(
                    Path.Combine(catalogs, f.Item1))).RootElement.GetProperty(f.Item2).GetArrayLength()))
                .Where(f => f.Count > 0).Select(f => $"{f.Item1} inserted {f.Count}");
            var provenance = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(catalogs, "factor_provenance.json")))
                .RootElement.GetProperty("provenance").GetArrayLength();
            inserted = inserted.Append($"factor provenance entries written {provenance}");
            var copies = files.Length + 1;
            var import = Assert.Single(sync, l => l.Text.StartsWith($"Sync {id} stage import: ",
                StringComparison.Ordinal) && !l.Text.Contains(" problem: ", StringComparison.Ordinal));
            Assert.Equal(LogLevel.Information, import.Level);
            Assert.Equal($"Sync {id} stage import: "
                + string.Join(", ", inserted.Append($"catalog copies written {copies}")), import.Text);
            // Issue 26, point 19: the cleanup that precedes the run is logged under the run's id, not "(null)".
            Assert.Contains(sync, l => l.Text == $"Sync {id} stage cleanup: nothing to do");
            Assert.DoesNotContain(sync, l => l.Text.Contains("(null)"));
            // The backfill's problem, whole: the loop and workspace the registry names, where the folder was looked
            // for (the sample's workspace folder) and the path as stored.
            var taskRun = (string)Db.Rows(sample.Settings.RegistryPath, "SELECT task_run_id FROM workspaces "
                + "WHERE workspace_role = 'experiment_workspace' AND loop_id = 0")[0][0]!;
            var workspaceId = workspace!.Split('/', '\\')[^1];
            var local = Path.Combine(sample.Dir["RD-Agent-main/git_ignore_folder/RD-Agent_workspace"], workspaceId);
            Assert.Contains(sync, l => l.Level == LogLevel.Warning && l.Text == $"Sync {id} stage backfill problem: "
                + $"{taskRun}/0: loop {taskRun}/0 workspace {workspaceId} is missing: '{local}' (stored as "
                + $"'{workspace}'); check the pathMap in rdbridge.json or whether the folder was deleted {local}");
            // The end: failed, with as many problems as the stages logged (the duration is the clock's).
            var problems = sync.Count(l => l.Level == LogLevel.Warning && l.Text.StartsWith($"Sync {id} stage ",
                StringComparison.Ordinal) && l.Text.Contains(" problem: ", StringComparison.Ordinal));
            Assert.Single(sync, l => l.Level == LogLevel.Warning && System.Text.RegularExpressions.Regex.IsMatch(
                l.Text, $@"^Sync {id} finished: failed in \d+(\.\d+)? s, {problems} problems$"));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
