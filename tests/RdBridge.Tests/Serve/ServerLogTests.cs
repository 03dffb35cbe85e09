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
        public ILogger CreateLogger(string category) => new Logger(category, Lines);
        public void Dispose() { }

        private sealed class Logger(string category, ConcurrentQueue<Line> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel level) => true;
            public void Log<TState>(LogLevel level, EventId id, TState state, Exception? e, Func<TState, Exception?,
                string> format) =>
                lines.Enqueue(new Line(category, level, format(state, e)));
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
            ApiTests.WaitForSync(client, id);
            // The end line is written after the run's status is recorded: give it a moment.
            for (var i = 0; i < 100 && !captured.Lines.Any(l => l.Text.StartsWith($"Sync {id} finished")); i++)
                Thread.Sleep(50);

            var sync = captured.Lines.Where(l => l.Category == typeof(SyncRunner).FullName).ToList();
            Assert.Contains(sync, l => l.Level == LogLevel.Information
                && l.Text.StartsWith($"Sync {id} started: init"));
            foreach (var stage in new[] { "backfill", "bundle", "export", "import", "sync-assets" })
            {
                Assert.Contains(sync, l => l.Level == LogLevel.Information
                    && l.Text.StartsWith($"Sync {id} stage {stage}: "));
            }

            Assert.Contains(sync, l => l.Text.StartsWith($"Sync {id} stage import: ") && l.Text.Contains("inserted"));
            // Issue 26, point 19: the cleanup that precedes the run is logged under the run's id, not "(null)".
            Assert.Contains(sync, l => l.Text == $"Sync {id} stage cleanup: nothing to do");
            Assert.DoesNotContain(sync, l => l.Text.Contains("(null)"));
            Assert.Contains(sync, l => l.Level == LogLevel.Warning && l.Text.Contains("problem:")
                && l.Text.Contains("is missing"));
            Assert.Contains(sync, l => l.Level == LogLevel.Warning && l.Text.StartsWith($"Sync {id} finished: failed"));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
