using System.CommandLine;
using RdBridge.IO;
using RdBridge.Pipeline;
using RdBridge.Runs;
using static RdBridge.Cli.Verb;
using static RdBridge.Cli.VerifyCommand;

namespace RdBridge.Cli;

/// <summary>Init and sync: every stage in order, under one lock, recorded as a sync run.</summary>
internal static class PipelineCommand
{
    public static Command Create(Io io, string mode, string description)
    {
        var json = new Option<bool>("--json") { Description = "Print the verification as JSON at the end" };
        var since = new Option<string?>("--since")
        {
            Description = "Only loops whose times are after this ISO-8601 time, e.g. 2026-01-01T08:00:00+08:00 (sync "
                + "only; default: every loop that changed on disk or in the registry since the last successful sync)",
        };
        var wait = new Option<int>("--wait")
        {
            Description = "Seconds to wait for another running init/sync before refusing",
            DefaultValueFactory = _ => 30,
        }.Within(0, 86400);
        var cmd = new Command(mode, description) { json, wait };
        if (mode == "sync") cmd.Options.Add(since);
        cmd.SetAction(p => Guarded(io, () => RunPipeline(io, Context(p, Lines(io, p.GetValue(json))), mode,
            mode == "sync" && p.GetValue(since) is { } text ? UtcText.Parse(text, "--since") : null, p.GetValue(json),
            TimeSpan.FromSeconds(Math.Max(0, p.GetValue(wait))))));
        return cmd;
    }

    internal static int RunPipeline(Io io, RunContext context, string mode, DateTimeOffset? since, bool json,
        TimeSpan? wait = null)
    {
        var lines = Lines(io, json);
        var result = new SyncPipeline(context, wait).Run(mode, since, r => Print(lines, r));
        if (result.Stages.FirstOrDefault(s => s.Stage == "backup") is { } backup) Print(lines, backup);
        if (result.Verify is { } v)
        {
            if (json) io.Out.WriteLine(v.ToJson().ToJsonString(CanonicalJson.FileOptions));
            else PrintVerify(io, v);
        }
        lines.Out.WriteLine(result.ChangedAnything
            ? $"{mode} run #{result.SyncRunId}: changes written — {string.Join("; ", result.Changes)}"
            : $"{mode} run #{result.SyncRunId}: nothing changed — every file, bundle and row was already up to date");
        return result.Failed ? ItemFailures : Ok;
    }

    /// <summary>Where stage lines go: with --json, stdout holds the JSON alone, so they go to stderr.</summary>
    private static Io Lines(Io io, bool json) => json ? io with { Out = io.Err } : io;
}
