using RdBridge.Sample;

namespace RdBridge.Tests.Discovery;

public class SampleLogTests
{
    [Fact]
    public void A_sample_log_is_one_CPython_unpickles_and_discovery_reads_loop_by_loop()
    {
        using var dir = new TempDir();
        var root = dir["RD-Agent-main"];
        var start = new DateTimeOffset(2025, 7, 1, 8, 30, 12, TimeSpan.Zero).AddTicks(1234560);
        // A workspace folder name of 32 characters: the kind's letter, then one digit repeated.
        static string Id(char kind, int n) => kind + new string((char)('0' + n), 31);
        string Ws(string id) => $"{UpstreamRdAgent.StoredRoot}/git_ignore_folder/RD-Agent_workspace/{id}";
        SampleLogLoop Loop(long id, string outcome, string action, string? exp, params string[] subs) => new(
            id, action, outcome, $"hypothesis {id}", id % 2 == 0, exp is null ? null : Ws(exp),
            subs.Select(Ws).ToList(), start.AddHours(id), start.AddHours(id).AddMinutes(48));
        var loops = new[]
        {
            Loop(0, SampleLogLoop.Result, "factor", Id('e', 0), Id('s', 0), Id('t', 0)),
            Loop(1, SampleLogLoop.Failed, "model", Id('e', 1), Id('s', 1)),
            Loop(2, SampleLogLoop.Running, "factor", Id('e', 2), Id('s', 2)),
        };
        var trace = new SampleLog(Path.Combine(root, "log")).WriteRun(start, "fin_quant", loops);
        Assert.Equal("2025-07-01_08-30-12-123456", Path.GetFileName(trace));
        File.WriteAllText(dir["rdbridge.json"], $$"""
            { "rdagent": { "root": "RD-Agent-main" }, "pathMap": { "{{UpstreamRdAgent.StoredRoot}}": "RD-Agent-main" },
              "aistock": { "root": "AIstock" } }
            """);

        // CPython itself reads every file back, with RD-Agent's classes at their module paths (from write_log.py).
        var count = UpstreamRdAgent.RunPython(["-c", """
            import glob, os, pickle, sys
            sys.dont_write_bytecode = True
            sys.path.insert(0, os.path.dirname(sys.argv[1]))
            import write_log
            files = glob.glob(sys.argv[2] + "/**/*.pkl", recursive=True)
            for f in files:
                obj = pickle.load(open(f, "rb"))
            exp = pickle.load(open(glob.glob(sys.argv[2] + "/Loop_0/running/runner result/*/*.pkl")[0], "rb"))
            path = str(exp.experiment_workspace.workspace_path)
            assert path.endswith("/e0000000000000000000000000000000"), path
            t = pickle.load(open(glob.glob(sys.argv[2] + "/Loop_0/feedback/time_info/*/*.pkl")[0], "rb"))
            assert t["start_time"].tzinfo is not None
            print(len(files))
            """, UpstreamRdAgent.Script, trace]);
        // CPython loaded every pickle the folder holds.
        Assert.Equal(Directory.EnumerateFiles(trace, "*.pkl", SearchOption.AllDirectories).Count(),
            int.Parse(count.Trim(), System.Globalization.CultureInfo.InvariantCulture));

        var o = new StringWriter();
        var code = RdBridge.Cli.Program.Run(["discover", "--config", dir["rdbridge.json"]], o, new StringWriter());
        Assert.True(code == 0, o.ToString());
        var registry = Path.Combine(root, "RDagentDB", "registry.sqlite");
        var rows = Db.Rows(registry, "SELECT loop_id, status, action FROM loops ORDER BY loop_id");
        Assert.Equal([0L, "success", "factor"], rows[0]);
        Assert.Equal([1L, "failed", "model"], rows[1]);
        Assert.Equal([2L, "running", "factor"], rows[2]);
        var workspaces = Db.Rows(registry,
                "SELECT loop_id, workspace_role, workspace_id FROM workspaces ORDER BY workspace_id")
            .Select(r => $"{r[0]} {r[1]} {r[2]}").ToList();
        // The running loop's too: fin_quant's coder logs the whole experiment, its workspaces named.
        Assert.Equal(
        [
            $"0 experiment_workspace {Id('e', 0)}", $"1 experiment_workspace {Id('e', 1)}",
            $"2 experiment_workspace {Id('e', 2)}", $"0 sub_workspace {Id('s', 0)}", $"1 sub_workspace {Id('s', 1)}",
            $"2 sub_workspace {Id('s', 2)}", $"0 sub_workspace {Id('t', 0)}",
        ], workspaces);
    }
}
