using System.CommandLine;
using RdBridge.IO;
using RdBridge.Verify;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>The guide's checklist, printed for a person or as JSON.</summary>
internal static class VerifyCommand
{
    public static Command Create(Io io)
    {
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var deep = new Option<bool>("--deep") { Description = "Re-hash every cached bundle and every extracted file" };
        var cmd = new Command("verify",
            "Run the guide's checklist (验证检查清单) and report asset_bundle_id coverage (步骤 6)") { json, deep };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var settings = Settings(p);
            var report = new Checklist(settings, p.GetValue(deep)).Run();
            // The web page shows the last run on open, whoever ran it; not keeping it changes nothing else.
            if (LastChecklistRun.Keep(settings, report, p.GetValue(deep) ? "verify --deep" : "verify") is { } why)
                io.Err.WriteLine($"warning: the result is not kept for the web page's verify view: {why}");
            if (p.GetValue(json)) io.Out.WriteLine(report.ToJson().ToJsonString(CanonicalJson.FileOptions));
            else PrintVerify(io, report);
            return report.Passed ? Ok : ItemFailures;
        }));
        return cmd;
    }

    internal static void PrintVerify(Io io, VerifyReport report)
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
            ? $"verification passed: {report.Checks.Count} of {Counted.Of(report.Checks.Count, "check")}"
            : $"verification FAILED: {failed} of {Counted.Of(report.Checks.Count, "check")} failed");
    }
}
