using System.Text;
using RdBridge.Backfill;
using RdBridge.IO;

namespace RdBridge.Tests.Safety;

/// <summary>
/// Issue 13 #11: every parser has a size cap and limits depth and alias expansion; its failure is the item's.
/// </summary>
public class ParserLimitTests
{
    private static long Allocated(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_yaml_alias_bomb_is_refused_within_bounded_memory()
    {
        var yaml = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i <= 9; i++)
            yaml.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        yaml.Append("task: *a9\n"); // ten billion values once expanded
        FormatException? e = null;
        var bytes = Allocated(() => e = Assert.Throws<FormatException>(() =>
            WorkflowConfig.Parse(yaml.ToString(), "conf.yaml")));
        Assert.Equal("conf.yaml expands to more than 100,000 values once its aliases are followed", e!.Message);
        // A bound by nature: the runtime's and the YAML parser's allocations are theirs. Expanded, the aliases would
        // take hundreds of gigabytes; refused, a small multiple of the 100,000 values allowed.
        Assert.True(bytes < 200L * 1024 * 1024, $"allocated {bytes:N0} bytes");
    }

    // The file and the line where the YAML breaks (after it: the YAML parser's own words, not RdBridge's); an alias
    // inside its own anchor never ends, so it is refused by depth.
    [Theory]
    [InlineData("task:\n  model: {class: LGBModel, kwargs: {loss: mse\n", "is not valid YAML (line 3): ")]
    [InlineData("task:\n  model: [1, 2\n", "is not valid YAML (line 3): ")]
    [InlineData("task: \"never closed\n", "is not valid YAML (line 1): ")]
    [InlineData("task: *nowhere\n", "is not valid YAML (line 1): ")]
    [InlineData("a: &x\n  b: *x\n", "nests deeper than 64 levels")]
    public void A_yaml_that_is_not_closed_or_refers_nowhere_is_a_format_problem_of_that_file(string yaml, string what)
    {
        var e = Assert.Throws<FormatException>(() => WorkflowConfig.Parse(yaml, "conf_broken.yaml"));
        Assert.StartsWith($"conf_broken.yaml {what}", e.Message);
        if (!what.EndsWith(": ", StringComparison.Ordinal)) Assert.Equal($"conf_broken.yaml {what}", e.Message);
    }

    [Fact]
    public void A_yaml_nested_a_million_levels_deep_is_refused_without_recursing()
    {
        var yaml = "task: " + new string('[', 1_000_000);
        var e = Assert.Throws<FormatException>(() => WorkflowConfig.Parse(yaml, "deep.yaml"));
        Assert.Equal("deep.yaml nests deeper than 64 levels", e.Message);
    }

    [Fact]
    public void Template_tags_that_never_close_take_bounded_time()
    {
        // 200,000 '{% if %}' with no endif: searching each one's endif to the end of the file is about 10^11 steps,
        // far more than any machine does within the rendering's time limit. The time is bounded when that limit
        // stops the rendering, which the file's own problem says; without the limit this test would not end.
        var yaml = "task: 1\n" + string.Concat(Enumerable.Repeat("{% if a %} x ", 200_000));
        var e = Assert.Throws<FormatException>(() => WorkflowConfig.Parse(yaml, "jinja.yaml"));
        Assert.Equal("jinja.yaml holds template tags that take too long to render; it is not a workflow YAML",
            e.Message);
    }

    [Fact]
    public void A_yaml_over_its_cap_is_not_read()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["conf.yaml"], "task:\n  x: " + new string('y', (int)ReadLimits.WorkflowYaml) + "\n");
        var e = Assert.Throws<FileRefusedException>(() => WorkflowConfig.Load(dir["conf.yaml"]));
        Assert.Equal($"'{dir["conf.yaml"]}' holds {new FileInfo(dir["conf.yaml"]).Length:N0} bytes, more than the "
            + $"{ReadLimits.WorkflowYaml:N0} such a file may have; it was not read", e.Message);
    }

    [Fact]
    public void A_qlib_res_csv_with_a_40_MB_line_is_a_problem_of_its_loop_not_a_memory_spike()
    {
        using var dir = new TempDir();
        using (var w = new StreamWriter(dir["qlib_res.csv"]))
        {
            w.Write(",0\nIC,");
            w.Write(new string('9', 40 * 1024 * 1024));
            w.Write('\n');
        }
        QlibMetrics? m = null;
        var bytes = Allocated(() => m = QlibResults.Read(dir["qlib_res.csv"]));
        Assert.True(m!.IsEmpty);
        Assert.Equal($"qlib_res.csv holds {new FileInfo(dir["qlib_res.csv"]).Length:N0} bytes, more than the "
            + "1,048,576 such a file may have; its metrics were not read", Assert.Single(m.Problems));
        // A bound by nature (the runtime's allocations are its own): far below the 40 MB the value would take read.
        Assert.True(bytes < 8L * 1024 * 1024, $"allocated {bytes:N0} bytes");
    }

    [Fact]
    public void A_parquet_file_announcing_a_huge_footer_is_refused_before_reading_it()
    {
        using var dir = new TempDir();
        var bytes = new byte[64];
        "PAR1"u8.CopyTo(bytes);
        BitConverter.GetBytes(int.MaxValue).CopyTo(bytes, 56);
        "PAR1"u8.CopyTo(bytes.AsSpan(60));
        File.WriteAllBytes(dir[CombinedFactors.FileName], bytes);
        var e = Assert.Throws<FormatException>(() => CombinedFactors.Names(dir[CombinedFactors.FileName]));
        Assert.Equal($"{CombinedFactors.FileName} announces a {int.MaxValue:N0}-byte footer, more than the file or "
            + "the 16,777,216 bytes a schema may take", e.Message);
    }

    [Fact]
    public void A_catalog_with_a_100_MB_field_is_refused_at_the_record_cap()
    {
        using var dir = new TempDir();
        using (var w = new StreamWriter(dir["loop_catalog.json"]))
        {
            w.Write("{\"loops\": [{\"task_run_id\": \"t\", \"loop_id\": 1, \"note\": \"");
            for (var i = 0; i < 100; i++) w.Write(new string('x', 1024 * 1024));
            w.Write("\"}]}");
        }
        FormatException? e = null;
        var bytes = Allocated(() => e = Assert.Throws<FormatException>(() =>
            RdBridge.Catalogs.CatalogReader.ReadRecords(dir["loop_catalog.json"], RdBridge.Catalogs.CatalogKind.Loop)
                .ToList()));
        // The record starts after '{"loops": [', at byte 11.
        Assert.Equal($"{dir["loop_catalog.json"]} holds a record or value of more than {ReadLimits.CatalogRecord:N0} "
            + "bytes near byte 11; it is not read", e!.Message);
        // A bound by nature (the runtime's allocations are its own): about the cap, not the 100 MB field.
        Assert.True(bytes < 3 * ReadLimits.CatalogRecord, $"allocated {bytes:N0} bytes");
    }

    [Fact]
    public void A_truncated_logged_pickle_is_a_problem_of_its_loop_and_the_run_goes_on()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var logs = Directory.EnumerateFiles(sample.Settings.LogRoot, "*.pkl", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}feedback{Path.DirectorySeparatorChar}",
                StringComparison.Ordinal)).ToList();
        foreach (var pkl in logs)
        {
            var bytes = File.ReadAllBytes(pkl);
            File.WriteAllBytes(pkl, bytes[..(bytes.Length / 2)]); // RD-Agent was still writing it
        }
        var (code, output, error) = sample.Cli("init");
        Assert.DoesNotContain("failed unexpectedly", output + error);
        // Every loop of the registry has its feedback pickles cut (in its Loop_<id> folder): discovery leaves the loop
        // to the next sync, and backfill names one of them as its loop's problem, with the loop's workspace (it was
        // written a moment ago: RD-Agent may still be at it). One line a loop, in the registry's order.
        var step = $"{Path.DirectorySeparatorChar}feedback{Path.DirectorySeparatorChar}";
        var loops = Db.Rows(sample.Settings.RegistryPath,
            "SELECT task_run_id, loop_id, workspace_path FROM loops ORDER BY task_run_id, loop_id");
        var lines = OutputLines.Of(output).ToList();
        var waiting = loops.Select(l =>
            $"  · {l[0]}/{l[1]}: RD-Agent is writing its log right now; read on the next sync");
        Assert.Equal(waiting, lines.Where(l => l.StartsWith("  · ", StringComparison.Ordinal)
            && l.EndsWith("read on the next sync", StringComparison.Ordinal)));
        var problems = lines.Where(l => l.StartsWith("  ✗ ", StringComparison.Ordinal)).ToList();
        Assert.Equal(loops.Count, problems.Count);
        foreach (var (l, problem) in loops.Zip(problems))
        {
            var workspace = sample.Settings.PathMap.Map((string)l[2]!).Local;
            var candidates = logs
                .Where(p => Path.GetFileName(p[..p.IndexOf(step, StringComparison.Ordinal)]) == $"Loop_{l[1]}")
                .Select(p => $"  ✗ {l[0]}/{l[1]}: the log pickle '{p}' is still being written; its texts are left "
                    + $"out [{workspace}]").ToList();
            Assert.True(candidates.Contains(problem), $"{problem}\nis none of\n{string.Join("\n", candidates)}");
        }
        Assert.Equal(1, code);
        var bundles = Directory.EnumerateFiles(sample.Settings.BundleDirectory, "*.tar.gz").Count();
        Assert.Equal(Db.Rows(sample.Settings.RegistryPath, "SELECT 1 FROM loops WHERE has_result = 1").Count, bundles);
    }
}
