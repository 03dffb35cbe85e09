using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using RdBridge.Assets;
using RdBridge.Backfill;
using RdBridge.Backup;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.Compare;
using RdBridge.Configuration;
using RdBridge.Discovery;
using RdBridge.IO;
using RdBridge.Pipeline;
using RdBridge.Registry;
using RdBridge.Runs;
using RdBridge.Sample;
using RdBridge.Show;
using RdBridge.Store;
using RdBridge.Verify;

namespace RdBridge.Cli;

/// <summary>The <c>rdbridge</c> command line: one verb per pipeline stage, plus init, sync, show, sample and
/// demo.</summary>
public static class Program
{
    public const int Ok = ExitCodes.Ok, ItemFailures = ExitCodes.ItemFailures, UsageError = ExitCodes.UsageError;

    private static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = "Path of rdbridge.json (default: ./rdbridge.json)", Recursive = true,
    };
    private static readonly Option<string[]> SetOption = new("--set")
    {
        Description = "Override a setting, e.g. --set aistock:database=/tmp/a.db (repeatable)", Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    public static int Main(string[] args)
    {
        Console.OutputEncoding = System.Text.Encoding.UTF8;
        // A live progress bar only where a person watches: a terminal, not a pipe, a file or CI.
        var live = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null
                && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb")
            ? new TerminalProgress(Console.Out) : null;
        return Run(args, Console.Out, Console.Error, live);
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, null);

    private static int Run(string[] args, TextWriter stdout, TextWriter stderr, TerminalProgress? live)
    {
        var root = new RootCommand("RdBridge: links RD-Agent research output (loops, workspaces, factors, models, " +
            "strategies) to AIstock with verified asset bundles.");
        root.Options.Add(ConfigOption);
        root.Options.Add(SetOption);
        var io = new Io(stdout, stderr, live);

        root.Subcommands.Add(SampleCommand(io));
        root.Subcommands.Add(DemoCommand(io));
        root.Subcommands.Add(DiscoverCommand(io));
        root.Subcommands.Add(DoctorCommand(io));
        root.Subcommands.Add(BackupCommand(io));
        root.Subcommands.Add(BackfillCommand(io));
        root.Subcommands.Add(BundleCommand(io));
        root.Subcommands.Add(ExportCommand(io));
        root.Subcommands.Add(ImportCommand(io));
        root.Subcommands.Add(SyncAssetsCommand(io));
        root.Subcommands.Add(VerifyCommand(io));
        root.Subcommands.Add(PipelineCommand(io, "init",
            "Full initialisation (完整初始化): doctor, backup, backfill, bundle, export, import, sync-assets, verify"));
        root.Subcommands.Add(PipelineCommand(io, "sync", "Incremental update (增量补充): the same, for loops whose "
            + "registry rows or files changed since the last successful sync, or --since"));
        root.Subcommands.Add(SyncStatusCommand(io));
        root.Subcommands.Add(PublishCommand(io));
        root.Subcommands.Add(ServeCommand(io));
        root.Subcommands.Add(ShowCommand(io));
        root.Subcommands.Add(CompareCommand(io));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine("Run 'rdbridge --help' (or 'rdbridge <verb> --help') for the options.");
            return UsageError;
        }
        return parse.Invoke(new InvocationConfiguration
        {
            Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false,
        });
    }

    private sealed record Io(TextWriter Out, TextWriter Err, TerminalProgress? Live);

    /// <summary>Runs a verb, turning configuration and usage problems into exit code 2 with the message that says
    /// what to change.</summary>
    private static int Guarded(Io io, Func<int> body)
    {
        try { return body(); }
        catch (RdBridgeException e)
        {
            io.Err.WriteLine($"error: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException)
        {
            io.Err.WriteLine($"error: {e.Message}");
            return e is KeyNotFoundException ? ItemFailures : UsageError;
        }
        catch (IOException e)
        {
            io.Err.WriteLine($"error: {e.Message}");
            return ItemFailures;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("RDBRIDGE_DEBUG") is null)
        {
            // A defect in RdBridge, not in the input: say so plainly; RDBRIDGE_DEBUG=1 shows the stack trace.
            io.Err.WriteLine($"error: RdBridge failed unexpectedly ({e.GetType().Name}: {e.Message}); please " +
                "report it. Set RDBRIDGE_DEBUG=1 for the stack trace.");
            return ItemFailures;
        }
    }

    private static RdBridgeSettings Settings(ParseResult p, bool rdAgentOptional = false)
    {
        var overrides = new List<KeyValuePair<string, string?>>();
        foreach (var item in p.GetValue(SetOption) ?? [])
        {
            var eq = item.IndexOf('=');
            if (eq <= 0)
            {
                throw new ConfigurationException(
                    $"--set '{item}' is not KEY=VALUE; write it like --set aistock:database=/path/aistock.db");
            }

            overrides.Add(new(item[..eq].Replace('.', ':'), item[(eq + 1)..]));
        }
        return SettingsLoader.Load(p.GetValue(ConfigOption), overrides, rdAgentOptional);
    }

    private static RunContext Context(ParseResult p, Io io) =>
        new(Settings(p), line => io.Out.WriteLine(line), io.Live);

    private static int Print(Io io, StageReport report)
    {
        io.Live?.Clear();
        io.Out.WriteLine($"[{report.Stage}] {report.Summary()}");
        foreach (var note in report.Notes.Where(n => n.Length > 0).Take(20)) io.Out.WriteLine($"  · {note}");
        if (report.Notes.Count > 20) io.Out.WriteLine($"  · … and {report.Notes.Count - 20} more notes");
        foreach (var p in report.Problems) io.Out.WriteLine($"  ✗ {p}");
        return report.Failed || report.Aborted is not null ? ItemFailures : Ok;
    }

    private static Command SampleCommand(Io io)
    {
        var outOpt = new Option<string>("--out") { Description = "Folder to write the sample into", Required = true };
        var taskRuns = new Option<int>("--task-runs")
        {
            Description = "Number of task runs", DefaultValueFactory = _ => 2,
        };
        var loops = new Option<int>("--loops") { Description = "Loops per task run", DefaultValueFactory = _ => 4 };
        var seed = new Option<int>("--seed")
        {
            Description = "Random seed; the same seed gives the same sample", DefaultValueFactory = _ => 42,
        };
        var kb = new Option<int>("--file-kb")
        {
            Description = "Size of each generated binary result file in KiB", DefaultValueFactory = _ => 8,
        };
        var flavor = new Option<string>("--flavor")
        {
            Description = "Workspace shapes: upstream (RD-Agent HEAD), v0.8 (pip release), fork (AIstock's) or mixed",
            DefaultValueFactory = _ => "mixed",
        };
        var generation = new Option<string?>("--log-generation")
        {
            Description = "RD-Agent log layout of every task run: v0.3 (flat, no Loop_N folders), v0.5 (r/d/ef "
                + "segments), v0.8 or head (default: by flavor; mixed rotates all four)",
        };
        var noRegistry = new Option<bool>("--no-registry")
        {
            Description = "Write no registry, as upstream RD-Agent leaves none: init builds it from the log",
        };
        var cmd = new Command("sample",
            "Write a realistic RD-Agent output tree, an empty AIstock root and an rdbridge.json for them")
        {
            outOpt, taskRuns, loops, seed, kb, flavor, generation, noRegistry,
        };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var g = p.GetValue(generation);
            var o = new SampleOptions(Path.GetFullPath(p.GetValue(outOpt)!), p.GetValue(taskRuns), p.GetValue(loops),
                p.GetValue(seed), p.GetValue(kb), SampleFlavors.Parse(p.GetValue(flavor)!),
                g is null ? null : SampleLog.Parse(g), p.GetValue(noRegistry));
            if (o.TaskRuns < 1 || o.LoopsPerTaskRun < 1)
                throw new ArgumentException("--task-runs and --loops must be at least 1");
            new SampleGenerator(o).Generate();
            io.Out.WriteLine($"sample written to {o.OutDirectory}: {o.TaskRuns} task runs × {o.LoopsPerTaskRun} " +
                $"loops; config {Path.Combine(o.OutDirectory, "rdbridge.json")}");
            return Ok;
        }));
        return cmd;
    }

    private static Command DemoCommand(Io io)
    {
        var outOpt = new Option<string>("--out")
        {
            Description = "Folder for the demo (default ./demo)", DefaultValueFactory = _ => "demo",
        };
        var taskRuns = new Option<int>("--task-runs")
        {
            DefaultValueFactory = _ => 2, Description = "Number of task runs",
        };
        var loops = new Option<int>("--loops") { DefaultValueFactory = _ => 4, Description = "Loops per task run" };
        var cmd = new Command("demo",
            "Write a sample into ./demo (or --out), run init on it and print the verification")
            { outOpt, taskRuns, loops };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var dir = Path.GetFullPath(p.GetValue(outOpt)!);
            var config = Path.Combine(dir, "rdbridge.json");
            if (!File.Exists(config))
            {
                new SampleGenerator(new SampleOptions(dir, p.GetValue(taskRuns), p.GetValue(loops))).Generate();
                io.Out.WriteLine($"sample written to {dir}");
            }
            else
            {
                io.Out.WriteLine($"using the existing sample in {dir}");
            }

            var context = new RunContext(SettingsLoader.Load(config), line => io.Out.WriteLine(line));
            return RunPipeline(io, context, "init", null, json: false);
        }));
        return cmd;
    }

    private static Command DiscoverCommand(Io io)
    {
        var cmd = new Command("discover",
            "Bring the registry up to date from RD-Agent's log (creates it when there is none): task runs, loops, " +
            "workspaces");
        cmd.SetAction(p => Guarded(io, () => Print(io, new DiscoverStage(Context(p, io)).Run())));
        return cmd;
    }

    private static Command DoctorCommand(Io io)
    {
        var fix = new Option<bool>("--fix")
        {
            Description = "Add the tables and columns an older registry lacks (never drops anything)",
        };
        var cmd = new Command("doctor",
            "Check directories, the registry schema, path mapping and the AIstock database (前置条件检查)") { fix };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var findings = RdBridge.Doctor.Doctor.Run(Settings(p), p.GetValue(fix));
            foreach (var f in findings)
            {
                io.Out.WriteLine($"{(!f.Ok ? "✗" : f.Warning ? "!" : "✓")} {f.Item,-18} {f.Detail}");
                if (!f.Ok && f.Fix is not null) io.Out.WriteLine($"  → {f.Fix}");
            }
            return findings.All(f => f.Ok) ? Ok : ItemFailures;
        }));
        return cmd;
    }

    private static Command BackupCommand(Io io)
    {
        var cmd = new Command("backup", "Snapshot the registry, the bundle folder and the strategies library (步骤 1.1)");
        cmd.SetAction(p => Guarded(io, () => Print(io, new BackupStage(Settings(p)).Run())));
        return cmd;
    }

    private static LoopSelection Selection(ParseResult p, Option<string?> tr, Option<long?> loop, Option<string?> start,
        Option<string?> end, Option<int?> max) => new()
    {
        TaskRunId = p.GetValue(tr),
        LoopId = p.GetValue(loop),
        // Read as instants (a date alone is midnight UTC), whatever the machine's time zone.
        StartDate = p.GetValue(start) is { } from ? UtcText.Parse(from, "--start-date") : null,
        EndDate = p.GetValue(end) is { } to ? UtcText.Parse(to, "--end-date") : null,
        MaxLoops = p.GetValue(max),
    };

    private static Command BackfillCommand(Io io)
    {
        var mode = new Option<string>("--mode")
        {
            Description = "backfill | materialize-pending | solidify-all | check",
            DefaultValueFactory = _ => "backfill",
        };
        mode.AcceptOnlyFromAmong("backfill", "materialize-pending", "solidify-all", "check");
        var all = new Option<bool>("--all-task-runs")
        {
            Description = "Every task run (the default when no --task-run-id is given)",
        };
        var tr = new Option<string?>("--task-run-id") { Description = "Only this task run" };
        var loop = new Option<long?>("--loop-id") { Description = "Only this loop (with --task-run-id)" };
        var start = new Option<string?>("--start-date")
        {
            Description = "Loops started on or after this ISO-8601 date or time",
        };
        var end = new Option<string?>("--end-date") { Description = "Loops started on or before this ISO-8601 date" };
        var overwrite = new Option<bool>("--overwrite-json")
        {
            Description = "Rewrite metadata files that exist and differ",
        };
        var dry = new Option<bool>("--dry-run") { Description = "Report what would change; write nothing" };
        var max = new Option<int?>("--max-loops") { Description = "At most this many loops" };
        var cmd = new Command("backfill",
            "Derive factor_meta/factor_perf/feedback/model_meta/strategy_meta.json per loop and register artifacts " +
            "(步骤 1.2)")
            { mode, all, tr, loop, start, end, overwrite, dry, max };
        cmd.SetAction(p => Guarded(io, () =>
        {
            if (p.GetValue(all) && p.GetValue(tr) is not null)
                throw new ArgumentException("--all-task-runs and --task-run-id exclude each other; give one");
            if (p.GetValue(loop) is not null && p.GetValue(tr) is null)
                throw new ArgumentException("--loop-id needs --task-run-id");
            var m = p.GetValue(mode) switch
            {
                "materialize-pending" => BackfillMode.MaterializePending,
                "solidify-all" => BackfillMode.SolidifyAll,
                "check" => BackfillMode.Check,
                _ => BackfillMode.Backfill,
            };
            var context = Context(p, io);
            var selection = Selection(p, tr, loop, start, end, max);
            var code = Print(io, new BackfillStage(context).Run(
                new BackfillOptions(m, selection, p.GetValue(overwrite), p.GetValue(dry))));
            if (m == BackfillMode.SolidifyAll && !p.GetValue(dry))
                code = Math.Max(code, Print(io, new BundleStage(context).Run(selection)));
            return code;
        }));
        return cmd;
    }

    private static Command BundleCommand(Io io)
    {
        var tr = new Option<string?>("--task-run-id") { Description = "Only this task run" };
        var loop = new Option<long?>("--loop-id") { Description = "Only this loop" };
        var cmd = new Command("bundle",
            "Pack each loop with results into production_bundles/bundle_<task_run_id>_<loop_id>.tar.gz (步骤 2)")
            { tr, loop };
        var ids = new Argument<string[]>("ids")
        {
            Description = "Bundle ids to verify (default: all)", Arity = ArgumentArity.ZeroOrMore,
        };
        var verify = new Command("verify", "Re-hash bundles against their .sha256 and manifests") { ids };
        verify.SetAction(p => Guarded(io, () =>
            Print(io, BundleVerify.Run(Settings(p).Bundles, p.GetValue(ids) ?? []))));
        cmd.Subcommands.Add(verify);
        cmd.SetAction(p => Guarded(io, () => Print(io, new BundleStage(Context(p, io)).Run(
            new LoopSelection { TaskRunId = p.GetValue(tr), LoopId = p.GetValue(loop) }))));
        return cmd;
    }

    private static Command ExportCommand(Io io)
    {
        var cmd = new Command("export",
            "Write rdagent_data/{factor,model,strategy,loop}_catalog.json and rd_strategies_lib/generated.py (步骤 3)");
        cmd.SetAction(p => Guarded(io, () => Print(io, new CatalogExporter(Context(p, io)).Run())));
        return cmd;
    }

    private static Command ImportCommand(Io io)
    {
        var catalogs = new Option<string?>("--catalogs")
        {
            Description = "Folder holding the catalog JSON files (default: the exported rdagent_data)",
        };
        var cmd = new Command("import",
            "Copy the catalogs to AIstock/rdagent_data and upsert them into the AIstock database (步骤 4)") { catalogs };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var dir = p.GetValue(catalogs);
            if (dir is not null && !Directory.Exists(dir))
                throw new ArgumentException($"--catalogs '{dir}' is not a folder");
            // Catalogs copied to an AIstock-only machine need no RD-Agent directory there.
            var context = new RunContext(Settings(p, rdAgentOptional: dir is not null), line => io.Out.WriteLine(line),
                io.Live);
            var (report, summaries) = new ImportStage(context).Run(dir is null ? null : Path.GetFullPath(dir));
            foreach (var s in summaries)
            {
                io.Out.WriteLine($"  {CatalogFile.ListName(s.Kind),-10} inserted {s.Inserted}, updated {s.Updated}, " +
                    $"unchanged {s.Unchanged}, skipped {s.Skipped}, failed {s.Failed}");
            }

            return Print(io, report);
        }));
        return cmd;
    }

    private static Command SyncAssetsCommand(Io io)
    {
        var cmd = new Command("sync-assets",
            "Copy bundles into AIstock/rdagent_assets/bundles, verify their digests and extract them (步骤 5)");
        cmd.SetAction(p => Guarded(io, () => Print(io, new AssetSyncStage(Context(p, io)).Run())));
        return cmd;
    }

    private static Command VerifyCommand(Io io)
    {
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var deep = new Option<bool>("--deep") { Description = "Re-hash every cached bundle and every extracted file" };
        var cmd = new Command("verify",
            "Run the guide's checklist (验证检查清单) and report asset_bundle_id coverage (步骤 6)") { json, deep };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var report = new Checklist(Settings(p), p.GetValue(deep)).Run();
            if (p.GetValue(json)) io.Out.WriteLine(report.ToJson().ToJsonString(CanonicalJson.FileOptions));
            else PrintVerify(io, report);
            return report.Passed ? Ok : ItemFailures;
        }));
        return cmd;
    }

    private static void PrintVerify(Io io, VerifyReport report)
    {
        string? group = null;
        foreach (var c in report.Checks)
        {
            if (c.Group != group)
            {
                group = c.Group;
                io.Out.WriteLine(group switch
                {
                    "rdagent" => "RD-Agent 侧 / RD-Agent side",
                    "aistock" => "AIstock 侧 / AIstock side",
                    "linkage" => "关联关系 / linkage",
                    _ => "功能 / function",
                });
            }
            io.Out.WriteLine($"  {(c.Passed ? "✓" : "✗")} {c.Id,-26} {c.Title}");
            io.Out.WriteLine($"    {c.Detail}");
        }
        io.Out.WriteLine("asset_bundle_id coverage:");
        io.Out.WriteLine($"  {"catalog",-10} {"total",8} {"with_id",8} {"pct",7}");
        foreach (var (k, v) in report.Coverage)
            io.Out.WriteLine($"  {k,-10} {v.Total,8} {v.WithBundleId,8} {v.CoveragePct,6:0.0}%");
        var failed = report.Checks.Count(c => !c.Passed);
        io.Out.WriteLine(report.Passed
            ? $"verification passed: {report.Checks.Count} of {report.Checks.Count} checks"
            : $"verification FAILED: {failed} of {report.Checks.Count} checks failed");
    }

    private static Command PipelineCommand(Io io, string mode, string description)
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
        };
        var cmd = new Command(mode, description) { json, wait };
        if (mode == "sync") cmd.Options.Add(since);
        cmd.SetAction(p => Guarded(io, () => RunPipeline(io, Context(p, io), mode, mode == "sync" && p.GetValue(since)
            is { } text ? UtcText.Parse(text, "--since") : null, p.GetValue(json), TimeSpan.FromSeconds(Math.Max(0,
                p.GetValue(wait))))));
        return cmd;
    }

    private static int RunPipeline(Io io, RunContext context, string mode, DateTimeOffset? since, bool json,
        TimeSpan? wait = null)
    {
        var result = new SyncPipeline(context, wait).Run(mode, since, r => Print(io, r));
        if (result.Stages.FirstOrDefault(s => s.Stage == "backup") is { } backup) Print(io, backup);
        if (result.Verify is { } v)
        {
            if (json) io.Out.WriteLine(v.ToJson().ToJsonString(CanonicalJson.FileOptions));
            else PrintVerify(io, v);
        }
        io.Out.WriteLine(result.ChangedAnything
            ? $"{mode} run #{result.SyncRunId}: changes written"
            : $"{mode} run #{result.SyncRunId}: nothing changed — every file, bundle and row was already up to date");
        return result.Failed ? ItemFailures : Ok;
    }

    private static Command PublishCommand(Io io)
    {
        var all = new Option<bool>("--all")
        {
            Description = "Look at every loop, not only those whose rows or files changed since the last publish",
        };
        var cmd = new Command("publish",
            "The RD-Agent half of a sync for a publisher machine: backfill, bundle and export what changed, ready " +
            "for 'serve --role publisher'") { all };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var stages = new PublishPipeline(Context(p, io)).Run(everything: p.GetValue(all));
            var failed = false;
            foreach (var r in stages) { Print(io, r); failed |= r.Failed || r.Aborted is not null; }
            return failed ? ItemFailures : Ok;
        }));
        return cmd;
    }

    private static Command ServeCommand(Io io)
    {
        var role = new Option<string>("--role")
        {
            Description = "publisher (the RD-Agent side), consumer (the AIstock side and web UI) or both",
            DefaultValueFactory = _ => "consumer",
        };
        role.AcceptOnlyFromAmong("publisher", "consumer", "both");
        var urls = new Option<string[]>("--urls")
        {
            Description = "Where to listen (default server.urls, or http://127.0.0.1:8787)",
            AllowMultipleArgumentsPerToken = true,
        };
        var cmd = new Command("serve",
            "HTTP API and web UI: the publisher's feed and bundle downloads, the consumer's sync API, catalog " +
            "queries and /rdagent/ pages") { role, urls };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var settings = Settings(p);
            var r = p.GetValue(role) switch
            {
                "publisher" => Server.ServeRole.Publisher,
                "both" => Server.ServeRole.Both,
                _ => Server.ServeRole.Consumer,
            };
            var listen = p.GetValue(urls) is { Length: > 0 } u ? u : null;
            if (r.HasFlag(Server.ServeRole.Consumer))
                using (var store = AistockStores.Open(settings)) { }   // migrate once, before the first request
            var app = Server.RdBridgeServer.Build(settings, r, listen);
            app.Start();
            foreach (var address in app.Urls)
            {
                io.Out.WriteLine($"rdbridge serve ({p.GetValue(role)}) listening on {address}" +
                    (r.HasFlag(Server.ServeRole.Consumer) ? $" — UI at {address.TrimEnd('/')}/rdagent/factors" : ""));
            }

            app.WaitForShutdown();
            return Ok;
        }));
        return cmd;
    }

    private static Command SyncStatusCommand(Io io)
    {
        var cmd = new Command("sync-status",
            "Show the running or last init/sync run with its stage, counts and errors");
        cmd.SetAction(p => Guarded(io, () =>
        {
            using var store = AistockStores.Open(Settings(p));
            var o = SyncRunView.ToJson(store.LastSyncRun(successfulOnly: false), store.Sources());
            io.Out.WriteLine(o.ToJsonString(CanonicalJson.FileOptions));
            return Ok;
        }));
        return cmd;
    }

    private static Command ShowCommand(Io io)
    {
        var kind = new Argument<string>("kind") { Description = "loop | factor | model | strategy | bundle" };
        kind.AcceptOnlyFromAmong("loop", "factor", "model", "strategy", "bundle");
        var keys = new Argument<string[]>("key")
        {
            Description = "loop: TASK_RUN_ID LOOP_ID; others: name or id", Arity = ArgumentArity.OneOrMore,
        };
        var cmd = new Command("show",
            "One loop, factor, model, strategy or bundle with all its links resolved and checked (关联查询)")
            { kind, keys };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var q = new ShowQuery(Settings(p));
            var k = p.GetValue(kind)!;
            var key = p.GetValue(keys)!;
            JsonObject result;
            if (k == "loop")
            {
                if (key.Length != 2 || !long.TryParse(key[1], out var loopId))
                    throw new ArgumentException("show loop needs TASK_RUN_ID LOOP_ID, e.g. rdbridge show loop 3f2a… 1");
                result = q.Loop(key[0], loopId);
            }
            else
            {
                result = q.Record(k, string.Join(' ', key));
            }

            io.Out.WriteLine(result.ToJsonString(CanonicalJson.FileOptions));
            // A loop shown with problems (a missing workspace, a broken link) is an item failure, as in every verb.
            return result["problems"] is JsonArray { Count: > 0 } ? ItemFailures : Ok;
        }));
        return cmd;
    }

    private static Command CompareCommand(Io io)
    {
        var a = new Argument<string>("a") { Description = "The first loop, TASK_RUN_ID:LOOP_ID" };
        var b = new Argument<string>("b") { Description = "The second loop, TASK_RUN_ID:LOOP_ID" };
        var json = new Option<bool>("--json")
        {
            Description = "Print the comparison as JSON (as GET /api/rdagent/compare returns it)",
        };
        var cmd = new Command("compare", "What changed from loop a to loop b: metrics, workflow config, factors, " +
            "code and backtest curves (对比两个循环), from the AIstock database and the asset cache") { a, b, json };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var s = Settings(p);
            using var store = AistockStores.Open(s, migrate: false);
            var (ra, rb) = (LoopRef.Parse(p.GetValue(a)!), LoopRef.Parse(p.GetValue(b)!));
            var result = new LoopComparison(s, store).Compare(ra, rb);
            io.Out.Write(p.GetValue(json)
                ? result.ToJsonString(CanonicalJson.FileOptions) + "\n"
                : LoopComparison.ToText(result));
            return Ok;
        }));
        return cmd;
    }
}
