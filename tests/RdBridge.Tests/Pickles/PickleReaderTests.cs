using System.Diagnostics;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

public class PickleReaderTests
{
    private const string Stub = "class HypothesisFeedback:\n    pass\n";

    private static (int Code, string Err) Python(string workdir, string script)
    {
        var psi = new ProcessStartInfo("python3", ["-c", script])
        {
            WorkingDirectory = workdir, RedirectStandardError = true, RedirectStandardOutput = true
        };
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
        var file = Directory.EnumerateFiles(sample.Settings.LogRoot, "*.pkl", SearchOption.AllDirectories)
            .First(f => f.Contains("/feedback/feedback/"));
        using var dir = WithStubModule();
        var (code, err) = Python(dir.Path,
            $"import pickle\nf = pickle.load(open({RdBridge.Metadata.PythonNames.StringLiteral(file)}, 'rb'))\n" +
            "assert isinstance(f.decision, bool) and f.reason\n");
        Assert.True(code == 0, err);
    }

    [Fact]
    public void Code_execution_opcodes_are_refused_not_run()
    {
        // Protocol 0 "INST" is outside the subset: the reader refuses it instead of interpreting it.
        var evil = System.Text.Encoding.ASCII.GetBytes("(S'echo hi'\nios\nsystem\n.");
        // Refused at its first opcode after the MARK: protocol 0's STRING (0x53), before INST is reached.
        Assert.Equal("pickle uses opcode 0x53 at byte 1, which is outside the plain data RdBridge reads; nothing was "
            + "executed", Assert.Throws<PickleException>(() => PickleReader.Read(evil)).Message);
    }

    /// <summary>
    /// Loads the last logged feedback pickle of every loop under a log root with CPython (any class loads as a plain
    /// object, so no RD-Agent module is needed) and prints its decision and texts as JSON, one entry per trace and
    /// loop.
    /// </summary>
    private const string LoggedFeedbackScript = """
        import glob, json, os, pickle, sys
        class Plain:
            def __setstate__(self, state):
                self.__dict__.update(state if isinstance(state, dict) else state[1] or {})
        class Loader(pickle.Unpickler):
            def find_class(self, module, name):
                return Plain
        last = {}
        for f in sorted(glob.glob(os.path.join(sys.argv[1], "*", "Loop_*", "feedback", "feedback", "*", "*.pkl"))):
            parts = f.split(os.sep)
            last[(parts[-6], int(parts[-5][len("Loop_"):]))] = f
        # The loop's own hypothesis: its hypothesis-generation pickle (with or without the "r" segment).
        own = {}
        for f in sorted(glob.glob(os.path.join(sys.argv[1], "*", "Loop_*", "direct_exp_gen", "**",
                                               "hypothesis generation", "*", "*.pkl"), recursive=True)):
            parts = f.split(os.sep)
            at = max(i for i, p in enumerate(parts) if p.startswith("Loop_"))
            with open(f, "rb") as fh:
                own[(parts[at - 1], int(parts[at][len("Loop_"):]))] = Loader(fh).load().__dict__.get("hypothesis")
        out = []
        for (trace, loop), f in sorted(last.items()):
            with open(f, "rb") as fh:
                d = Loader(fh).load().__dict__
            out.append({"trace": trace, "loop": loop, **{k: d.get(k) for k in (
                "decision", "reason", "observations", "hypothesis_evaluation", "new_hypothesis")},
                "own_hypothesis": own[(trace, loop)]})
        print(json.dumps(out, ensure_ascii=False))
        """;

    [Fact]
    public void Backfill_takes_the_decision_and_texts_from_the_logged_feedback()
    {
        // One task run: the sample's first log has the Loop_N folders of RD-Agent 0.8 and later.
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        var settings = sample.Settings;

        // The expected values, per loop, from the pickles RD-Agent's log holds, read by CPython.
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(LoggedFeedbackScript);
        psi.ArgumentList.Add(settings.LogRoot);
        using var python = Process.Start(psi)!;
        var stdout = python.StandardOutput.ReadToEnd();
        var stderr = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, stderr);
        var traceOf = Db.Rows(settings.RegistryPath, "SELECT task_run_id, log_trace_path FROM task_runs")
            .ToDictionary(r => (string)r[0]!, r => ((string)r[1]!).Replace('\\', '/').Split('/')[^1]);
        var logged = System.Text.Json.Nodes.JsonNode.Parse(stdout)!.AsArray()
            .ToDictionary(e => ((string)e!["trace"]!, (long)e!["loop"]!), e => e!.AsObject());
        // Both decisions occur, so neither a constant nor an inverted decision can match every loop.
        Assert.Equal([false, true], logged.Values.Select(e => (bool)e["decision"]!).Distinct().Order());

        using var doc = System.Text.Json.JsonDocument.Parse(
            File.ReadAllBytes(Path.Combine(settings.CatalogDirectory, "loop_catalog.json")));
        var loops = doc.RootElement.GetProperty("loops").EnumerateArray().ToList();
        Assert.Equal(logged.Count, loops.Count);
        foreach (var loop in loops)
        {
            var tr = loop.GetProperty("task_run_id").GetString()!;
            var id = loop.GetProperty("loop_id").GetInt64();
            var expected = logged[(traceOf[tr], id)];
            var where = $"the decision of loop {tr}/{id} differs from its logged feedback";
            Assert.True((bool)expected["decision"]! == loop.GetProperty("decision").GetBoolean(), where);
            var texts = loop.GetProperty("summary_texts");
            Assert.Equal((string?)expected["observations"], texts.GetProperty("execution").GetString());
            Assert.Equal((string?)expected["hypothesis_evaluation"], texts.GetProperty("value_feedback").GetString());
            Assert.Equal((string?)expected["reason"], texts.GetProperty("shape_feedback").GetString());

            var workspace = settings.PathMap.Map(loop.GetProperty("workspace_path").GetString()).Local!;
            var feedback = System.Text.Json.Nodes.JsonNode.Parse(
                File.ReadAllText(Path.Combine(workspace, "feedback.json")))!;
            Assert.Equal("log", (string?)feedback["source"]);
            Assert.True((bool)expected["decision"]! == (bool)feedback["decision"]!, where);
            // The feedback's suggestion for the next loop has its own name; "hypothesis" is the loop's own.
            Assert.Equal((string?)expected["new_hypothesis"], (string?)feedback["new_hypothesis"]);
            Assert.Equal((string?)expected["own_hypothesis"], (string?)feedback["hypothesis"]);
            Assert.NotEqual((string?)expected["new_hypothesis"], (string?)expected["own_hypothesis"]); // a premise
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Plain_data_of_every_protocol_reads_as_cpython_wrote_it(int protocol)
    {
        using var dir = new TempDir();
        // Sets, bytes, big integers, a shared list and an object built by NEWOBJ_EX (keyword arguments, protocol 4+).
        var script = $$"""
            import pickle
            class Point:
                def __new__(cls, *a, **k):
                    return object.__new__(cls)
                def __getnewargs_ex__(self):
                    return ((1,), {"y": 2})
            shared = ["x"]
            data = {"s": "收益", "b": b"\x00\xff" * 300, "ba": bytearray(b"ab"), "i": -5, "i2": 70000, "i4": -2**31,
                    "big": 2**70, "neg": -2**63, "f": 1.5, "n": None, "t": True, "set": {1, 2}, "fs": frozenset({"a"}),
                    "tuple": (1, "2", 3.0), "shared": [shared, shared], "long": "x" * 70000}
            if {{protocol}} >= 4:
                data["p"] = Point()  # protocols 2 and 3 write keyword arguments as a functools.partial call
            open("d.pkl", "wb").write(pickle.dumps(data, protocol={{protocol}}))
            """;
        var (code, err) = Python(dir.Path, script);
        Assert.True(code == 0, err);
        var d = Assert.IsType<Dictionary<object, object?>>(PickleReader.Read(File.ReadAllBytes(dir["d.pkl"])));
        Assert.Equal("收益", d["s"]);
        Assert.Equal(Enumerable.Range(0, 300).SelectMany(_ => new byte[] { 0, 255 }), Assert.IsType<byte[]>(d["b"]));
        Assert.Equal("ab"u8.ToArray(), Assert.IsType<byte[]>(d["ba"]));
        Assert.Equal(-5L, d["i"]);
        Assert.Equal(70000L, d["i2"]);
        Assert.Equal(-2147483648L, d["i4"]);
        Assert.Equal(System.Numerics.BigInteger.Pow(2, 70), d["big"]);
        Assert.Equal(long.MinValue, d["neg"]);
        Assert.Equal(1.5, d["f"]);
        Assert.Null(d["n"]);
        Assert.Equal(true, d["t"]);
        Assert.Equal([1L, 2L], Assert.IsType<PickledSet>(d["set"]).Items.Order());
        Assert.False(((PickledSet)d["set"]!).Frozen);
        var frozen = Assert.IsType<PickledSet>(d["fs"]);
        Assert.Equal(["a"], frozen.Items);
        Assert.True(frozen.Frozen);
        Assert.Equal(new object?[] { 1L, "2", 3.0 }, Assert.IsType<object?[]>(d["tuple"]));
        var pair = Assert.IsType<List<object?>>(d["shared"]);
        Assert.Same(pair[0], pair[1]);
        if (protocol >= 4)
        {
            var point = Assert.IsType<PickledObject>(d["p"]);
            Assert.Equal("__main__.Point", point.ClassName);
            Assert.Equal([1L], point.Arguments);
            Assert.Equal(2L, point.Keywords!["y"]);
        }
        Assert.Equal(70000, Assert.IsType<string>(d["long"]).Length);
    }
}
