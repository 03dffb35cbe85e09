using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RdBridge.Configuration;
using RdBridge.Feed;
using RdBridge.Pipeline;
using RdBridge.Runs;
using RdBridge.Watch;

namespace RdBridge.Server;

/// <summary>
/// <c>serve</c>'s live sync as a hosted service: it watches what RD-Agent writes (on a machine with RD-Agent) and
/// long-polls each publisher's change feed (on a consumer with sources), and runs the same incremental sync a cron job
/// or the sync button runs (a consumer's <see cref="SyncPipeline"/>; a publisher's <see cref="PublishPipeline"/>),
/// debounced by <see cref="LiveSync"/>. A publish or sync that changed something moves the feed's token, which
/// answers the consumers waiting on it.
/// </summary>
public sealed class LiveService(RdBridgeSettings settings, ServerInfo info, LiveOptions options, FeedSignal feed,
    ILogger<LiveService> log, PublishGate? gate = null) : BackgroundService
{
    private LiveSync? _live;

    /// <summary>The running live sync (null before start); tests and the status route read it.</summary>
    public LiveSync? Live => _live;

    /// <summary>Each stage of each live run as it ends, with the run's number.</summary>
    public event Action<int, StageReport>? Stage;

    /// <summary>The live sync, made once; before the host starts it, so that observers miss nothing.</summary>
    public LiveSync Prepare()
    {
        lock (options)
        {
            if (_live is not null) return _live;
            var live = new LiveSync(settings, options, Run);
            live.Said += line => log.LogInformation("Live: {Line}", line);
            live.Starting += r => log.LogInformation("Live run {Number}: {Reason}", r.Number, r.Reason);
            Stage += (number, s) => log.LogInformation("Live run {Number} stage {Stage}: {Counts}", number, s.Stage,
                string.Join(", ", s.Counts.Where(c => c.Value != 0).Select(c => $"{c.Key.Name} {c.Value}")));
            return _live = live;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var live = Prepare();
        var pollers = settings.Sources.Where(_ => info.Role.HasFlag(ServeRole.Consumer))
            .Select(s => Task.Run(() => FollowPublisher(s, live, stoppingToken), stoppingToken)).ToList();
        await live.RunAsync(watchLocal: settings.HasRdAgent, stoppingToken);
        try { await Task.WhenAll(pollers); } catch (OperationCanceledException) { }
    }

    private LiveOutcome Run(CancellationToken stop)
    {
        var number = (_live?.Runs ?? 0) + 1;
        try
        {
            bool changed;
            if (info.Role.HasFlag(ServeRole.Consumer))
            {
                // Both roles: the consumer's sync does the publisher's half too (bundle, export) before it imports.
                var result = InGate(() => new SyncPipeline(new RunContext(settings) { Cancellation = stop },
                    lockWait: TimeSpan.Zero).Run("sync", null, s => Stage?.Invoke(number, s)));
                changed = result.ChangedAnything;
                log.Log(result.Failed ? LogLevel.Warning : LogLevel.Information,
                    "Live run {Number}: sync {RunId} {Outcome}{Change}", number, result.SyncRunId,
                    result.Failed ? "failed" : "succeeded", changed ? "" : ", nothing changed");
            }
            else
            {
                var stages = InGate(() => new PublishPipeline(new RunContext(settings) { Cancellation = stop })
                    .Run(lockWait: TimeSpan.Zero));
                foreach (var s in stages) Stage?.Invoke(number, s);
                foreach (var p in stages.SelectMany(s => s.Problems))
                    log.LogWarning("publish: {Problem}", p.ToString());
                changed = stages.Any(s => s.Changed);
            }
            if (changed) feed.Moved();
            return LiveOutcome.Done;
        }
        catch (SyncBusyException)
        {
            return LiveOutcome.Busy;
        }
        catch (Exception e) when (e is RdBridgeException or IOException or System.Data.Common.DbException
            or UnauthorizedAccessException)
        {
            // The next write tries again; the sync has recorded its failure where sync-status shows it.
            log.LogError("Live run {Number} failed: {Message}", number, e.Message);
            return LiveOutcome.Done;
        }
    }

    private T InGate<T>(Func<T> action) => gate is null ? action() : gate.Write(action);

    /// <summary>
    /// Waits on a publisher's change feed and marks a sync due each time its token moves. A publisher without the
    /// feed (an older RdBridge) is synced from every minute instead; one that cannot be reached is asked again after a
    /// pause, and a sync is due once it answers (it may have changed meanwhile).
    /// </summary>
    private async Task FollowPublisher(SourceSettings source, LiveSync live, CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(90) };
        string? token = null;
        var down = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var url = new Uri(source.Url, "api/rdagent/feed/changes?wait=30"
                    + (token is null ? "" : "&after=" + Uri.EscapeDataString(token)));
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (!string.IsNullOrEmpty(source.Token))
                    request.Headers.Authorization = new("Bearer", source.Token);
                using var response = await http.SendAsync(request, stop);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    log.LogWarning("Live: publisher {Name} has no change feed (an older RdBridge); syncing from it "
                        + "every 60 s", source.Name);
                    await Task.Delay(TimeSpan.FromSeconds(60), stop);
                    live.Signal($"publisher {source.Name}: minute clock");
                    continue;
                }
                response.EnsureSuccessStatusCode();
                var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(stop))!;
                var now = body["token"]!.GetValue<string>();
                if (down) log.LogInformation("Live: publisher {Name} answers again", source.Name);
                if ((token is not null && now != token) || down) live.Signal($"publisher {source.Name} changed");
                token = now;
                down = false;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException
                or InvalidOperationException or NullReferenceException)
            {
                if (!down)
                {
                    log.LogWarning("Live: publisher {Name} unreachable ({Message}); asking again every 10 s",
                        source.Name, e.Message);
                }
                down = true;
                try { await Task.Delay(TimeSpan.FromSeconds(10), stop); } catch (OperationCanceledException) { return; }
            }
        }
    }
}
