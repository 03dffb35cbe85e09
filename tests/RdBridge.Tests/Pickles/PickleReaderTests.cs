using System.Diagnostics;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

public class PickleReaderTests
{
    private const string Stub = "class HypothesisFeedback:\n    pass\n";

    private static (int Code, string Err) Python(string workdir, string script)
    {
        var psi = new ProcessStartInfo("python3", ["-c", script]) { WorkingDirectory = workdir, RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err);
    }

    private static TempDir WithStubModule()
    {
        var dir = new TempDir();
        Directory.CreateDirectory(dir["rdagent/core"]);
        File.WriteAllText(dir["rdagent/__init__.py"], "");
        File.WriteAllText(dir["rdagent/core/__init__.py"], "");
        File.WriteAllText(dir["rdagent/core/proposal.py"], Stub);
        return dir;
    }

    [Fact]
    public void Reads_a_feedback_object_pickled_by_cpython()
    {
        using var dir = WithStubModule();
        var script = """
            import pickle
            from rdagent.core.proposal import HypothesisFeedback
            f = HypothesisFeedback()
            f.decision = True
            f.reason = "收益提升，回撤可控"
            f.observations = "x" * 300
            f.exception = None
            f.score = 1.5
            f.tags = ["a", ("b", 2)]
            open("fb.pkl", "wb").write(pickle.dumps(f, protocol=4))
            """;
        var (code, err) = Python(dir.Path, script);
        Assert.True(code == 0, err);
        var obj = Assert.IsType<PickledObject>(PickleReader.Read(File.ReadAllBytes(dir["fb.pkl"])));
        Assert.Equal("rdagent.core.proposal.HypothesisFeedback", obj.ClassName);
        Assert.Equal(true, obj["decision"]);
        Assert.Equal("收益提升，回撤可控", obj["reason"]);
        Assert.Equal(new string('x', 300), obj["observations"]);
        Assert.Null(obj["exception"]);
        Assert.Equal(1.5, obj["score"]);
    }

    [Fact]
    public void The_sample_writes_feedback_pickles_that_cpython_loads()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var file = Directory.EnumerateFiles(sample.Settings.LogRoot, "*.pkl", SearchOption.AllDirectories).First(f => f.Contains("/feedback/feedback/"));
        using var dir = WithStubModule();
        var (code, err) = Python(dir.Path, $"import pickle\nf = pickle.load(open({RdBridge.Catalogs.PythonNames.StringLiteral(file)}, 'rb'))\nassert isinstance(f.decision, bool) and f.reason\n");
        Assert.True(code == 0, err);
    }

    [Fact]
    public void Code_execution_opcodes_are_refused_not_run()
    {
        // Protocol 0 "INST" is outside the subset: the reader refuses it instead of interpreting it.
        var evil = System.Text.Encoding.ASCII.GetBytes("(S'echo hi'\nios\nsystem\n.");
        Assert.Throws<PickleException>(() => PickleReader.Read(evil));
    }

    [Fact]
    public void Backfill_takes_the_decision_and_texts_from_the_logged_feedback()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(sample.Settings.CatalogDirectory, "loop_catalog.json")));
        foreach (var loop in doc.RootElement.GetProperty("loops").EnumerateArray())
        {
            Assert.Contains(loop.GetProperty("decision").ValueKind, new[] { System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False });
            Assert.Contains("轮", loop.GetProperty("summary_texts").GetProperty("shape_feedback").GetString());
        }
    }
}
