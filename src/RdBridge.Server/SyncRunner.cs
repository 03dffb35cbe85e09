using System.Globalization;
using Microsoft.Extensions.Logging;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Pipeline;
using RdBridge.Runs;

namespace RdBridge.Server;

public enum SyncStart { Started, Busy, Failed }

public sealed record SyncStartResult(SyncStart Outcome, long? RunId, string? Detail);

/// <summary>
/// Runs init/sync in the background for the API, one at a time in this process (a second request gets 409 at once);
/// across processes the sync locks decide, and a sync that finds one running elsewhere is refused the same way. It
/// says in the server's log what it does: the run's start, each stage with its counts, every problem (a warning
/// naming the item), and the end.
/// </summary>
public sealed class SyncRunner(RdBridgeSettings settings, ILogger<SyncRunner> log)
{
    private void LogStage(long? runId, StageReport stage)
    {
        var counts = string.Join(", ", stage.Counts.Where(c => c.Value != 0).Select(c => $"{c.Key.Name} {c.Value}"));
        if (stage.Aborted is not null)
        {
            log.LogWarning("Sync {RunId} stage {Stage} aborted: {Reason}", runId, stage.Stage, stage.Aborted);
        }
        else
        {
            log.LogInformation("Sync {RunId} stage {Stage}: {Counts}", runId, stage.Stage,
                counts.Length == 0 ? "nothing to do" : counts);
        }

        foreach (var p in stage.Problems)
        {
            log.LogWarning("Sync {RunId} stage {Stage} problem: {Item}: {Problem} {Path}", runId, stage.Stage, p.Item,
                p.Message, p.Path ?? "");
        }
    }

    private int _running;
    private long? _current;

    public SyncStartResult Start(string mode, DateTimeOffset? since)
    {
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            return new(SyncStart.Busy, _current,
                $"sync run {_current?.ToString(CultureInfo.InvariantCulture) ?? "(starting)"} is still running; " +
                "follow it at /api/rdagent/catalog/sync-status");
        }

        var started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(() =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                var pipeline = new SyncPipeline(new RunContext(settings), lockWait: TimeSpan.Zero)
                {
                    RunStarted = id =>
                    {
                        _current = id;
                        log.LogInformation("Sync {RunId} started: {Mode}, since {Since}", id, mode,
                            mode == "init" ? "the beginning"
                                : since is { } t ? UtcText.Format(t)
                                : "the last successful sync");
                        started.TrySetResult(id);
                    },
                };
                var result = pipeline.Run(mode, since, stage => LogStage(_current, stage));
                var level = result.Failed ? LogLevel.Warning : LogLevel.Information;
                var problems = result.Stages.Sum(s => s.Problems.Count);
                log.Log(level, "Sync {RunId} finished: {Outcome} in {Seconds:0.0} s, {Problems} problems{Change}",
                    result.SyncRunId, result.Failed ? "failed" : "succeeded", clock.Elapsed.TotalSeconds, problems,
                    result.ChangedAnything ? "" : ", nothing changed");
            }
            catch (Exception e)
            {
                if (!started.TrySetException(e)) log.LogError(e, "Sync {RunId} failed: {Message}", _current, e.Message);
            }
            finally
            {
                _current = null;
                Volatile.Write(ref _running, 0);
            }
        });
        try
        {
            return new(SyncStart.Started, started.Task.GetAwaiter().GetResult(), null);
        }
        catch (SyncBusyException e)
        {
            return new(SyncStart.Busy, null, e.Message);
        }
        catch (Exception e) when (e is RdBridgeException or IOException or System.Data.Common.DbException)
        {
            return new(SyncStart.Failed, null, e.Message);
        }
    }
}
