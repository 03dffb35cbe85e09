using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RdBridge.Configuration;
using RdBridge.Tests.Pickles;
using RdBridge.Verify;

namespace RdBridge.Tests.Verify;

/// <summary>
/// The parts of verify that hold no sample: how a check that cannot run is reported, the report's JSON and coverage
/// percentages, the problem list's count and kept examples, and the file that keeps the last run for the page. Written
/// for the mutants of <c>bench/mutation.sh VerifyReport</c> (the checklist's own tests build a whole synced sample,
/// hours of a mutation run); every expected text is written out here from what the test set up.
/// </summary>
public sealed class VerifyReportMutantTests
{
    /// <summary>Settings whose every folder is under <paramref name="dir"/>, none of them created.</summary>
    private static RdBridgeSettings Settings(TempDir dir, string? database = null) => new()
    {
        ConfigPath = dir["rdbridge.json"],
        RdAgentRoot = dir["rdagent"],
        RegistryPath = dir["rdagent/RDagentDB/registry.sqlite"],
        LogRoot = dir["rdagent/log"],
        WorkspaceRoot = dir["rdagent/workspace"],
        PathMap = new PathMap([], dir.Path),
        BundleDirectory = dir["rdagent/production_bundles"],
        CatalogDirectory = dir["rdagent/catalogs"],
        StrategiesLibRoot = dir["aistock/lib"],
        BackupDirectory = dir["aistock/backups"],
        AistockRoot = dir["aistock"],
        AistockDatabase = database ?? dir["aistock/aistock.sqlite"],
        AistockCatalogDirectory = dir["aistock/rdagent_data"],
        AssetCacheDirectory = dir["aistock/rdagent_assets/bundles"],
    };

    private static Check Custom(string id, CheckNeeds needs, Func<VerifyContext, (bool, string)> run,
        string? titleEn = "custom") => new(id, CheckGroup.Function, "自定义", titleEn, needs, run);

    [Fact]
    public void A_check_title_is_the_guide_s_words_then_the_english_ones_when_there_are_any()
    {
        Assert.Equal("自定义 / custom", Custom("a", CheckNeeds.Files, _ => (true, "")).Title);
        Assert.Equal("自定义", Custom("a", CheckNeeds.Files, _ => (true, ""), titleEn: null).Title);
    }

    [Fact, RealData]
    public void Each_check_s_title_is_the_guide_s_item_word_for_word_in_its_list_and_order()
    {
        // The guide's 验证检查清单: four lists, one "- [ ] item" a line; code spans are dropped from the titles, and
        // some drop the closing word 字段 (a title names the field, not that it is one).
        static string Field(string title) => title.EndsWith(" 字段", StringComparison.Ordinal)
            ? title[..^" 字段".Length] : title;
        var guide = File.ReadAllLines(Directory.GetFiles(Path.Combine(Paths.Shared, "seed"), "*.md")
            .Single(f => File.ReadAllText(f).Contains("## 验证检查清单")));
        var start = Array.IndexOf(guide, "## 验证检查清单");
        var groups = new Dictionary<string, string>
        {
            ["### RD-Agent 侧验证"] = CheckGroup.RdAgent, ["### AIstock 侧验证"] = CheckGroup.Aistock,
            ["### 关联关系验证"] = CheckGroup.Linkage, ["### 功能验证"] = CheckGroup.Function,
        };
        var items = new List<(string Group, string Title)>();
        string? group = null;
        var section = guide.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal));
        foreach (var line in section)
        {
            if (groups.TryGetValue(line.Trim(), out var g))
            {
                group = g;
            }
            else if (line.StartsWith("- [ ] ", StringComparison.Ordinal))
            {
                items.Add((group!, Field(line["- [ ] ".Length..].Replace("`", "").Trim())));
            }
        }
        Assert.Equal(25, items.Count);
        Assert.Equal(items, Checks.All.Select(c => (c.Group, Field(c.TitleCn))));

        // The English words are RdBridge's own: each check has its own, or none where the guide's words suffice.
        var english = Checks.All.Select(c => c.TitleEn).OfType<string>().ToList();
        Assert.All(english, e => Assert.False(string.IsNullOrWhiteSpace(e)));
        Assert.Equal(english.Count, english.Distinct().Count());
        Assert.All(Checks.All, c => Assert.Equal(c.TitleEn is null ? c.TitleCn : $"{c.TitleCn} / {c.TitleEn}",
            c.Title));
        // Ids are what verify --json names a check by: one each, led by its list's short name.
        var prefixes = new Dictionary<string, string>
        {
            [CheckGroup.RdAgent] = "rd.", [CheckGroup.Aistock] = "ai.", [CheckGroup.Linkage] = "link.",
            [CheckGroup.Function] = "fn.",
        };
        Assert.All(Checks.All, c => Assert.Matches($"^{Regex.Escape(prefixes[c.Group])}[a-z_]+$", c.Id));
        Assert.Equal(25, Checks.All.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void Without_registry_or_database_their_checks_fail_with_the_reason_and_the_file_checks_still_run()
    {
        using var dir = new TempDir();
        // The database file holds text, not SQLite: the store cannot be opened.
        Directory.CreateDirectory(dir["aistock"]);
        File.WriteAllText(dir["aistock/aistock.sqlite"], new string('x', 4096));
        var settings = Settings(dir);
        var ran = new List<string>();
        var report = new Checklist(settings, deep: false).Run(
        [
            Custom("reg", CheckNeeds.Registry, _ => { ran.Add("reg"); return (true, "ran"); }),
            Custom("db", CheckNeeds.Store, _ => { ran.Add("db"); return (true, "ran"); }),
            Custom("both", CheckNeeds.Registry | CheckNeeds.Store, _ => { ran.Add("both"); return (true, "ran"); }),
            Custom("files", CheckNeeds.Files, c => { ran.Add("files"); return (true, $"deep={c.Deep}"); }),
        ]);

        Assert.Equal(["files"], ran);
        Assert.Equal(["reg", "db", "both", "files"], report.Checks.Select(c => c.Id));
        Assert.Equal([false, false, false, true], report.Checks.Select(c => c.Passed));
        var registryError = $"registry '{settings.RegistryPath}' does not exist; set rdagent.registry in " +
            "rdbridge.json to the RD-Agent registry (RDagentDB/registry.sqlite)";
        Assert.Equal(registryError, report.Checks[0].Detail);
        // After the reason, the store's refusal: the file, SQLite's own words for a file of text, the setting.
        Assert.Equal($"needs the AIstock database: AIstock database '{settings.AistockDatabase}' cannot be opened: "
            + "SQLite Error 26: 'file is not a database'.; check aistock.database in rdbridge.json",
            report.Checks[1].Detail);
        // Needing both, the missing registry is said first.
        Assert.Equal(registryError, report.Checks[2].Detail);
        Assert.Equal("deep=False", report.Checks[3].Detail);
        Assert.Equal(("自定义 / custom", CheckGroup.Function), (report.Checks[0].Title, report.Checks[0].Group));
        // No database, no coverage to tell.
        Assert.Empty(report.Coverage);
        Assert.False(report.Passed);
    }

    [Fact]
    public void Verify_reads_the_registry_without_changing_its_journal_mode()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["rdagent/RDagentDB"]);
        var registry = dir["rdagent/RDagentDB/registry.sqlite"];
        // A registry in SQLite's default rollback-journal mode, written by Python's sqlite3.
        RealPandas.Run(dir.Path, $"import sqlite3; c = sqlite3.connect({RealPandas.Py(registry)}); " +
            "c.execute('CREATE TABLE other (x)'); c.commit(); c.close()");
        new Checklist(Settings(dir), deep: false).Run([]);
        var mode = RealPandas.Run(dir.Path, $"import sqlite3; c = sqlite3.connect({RealPandas.Py(registry)}); " +
            "print(c.execute('PRAGMA journal_mode').fetchone()[0])");
        Assert.Equal("delete", mode.Trim());
    }

    [Fact]
    public void With_the_database_open_its_checks_run_and_each_catalog_s_coverage_is_counted()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["aistock"]);
        var settings = Settings(dir);
        var report = new Checklist(settings, deep: true).Run(
        [
            Custom("db", CheckNeeds.Store, c => (true, $"deep={c.Deep}, store open={c.Store is not null}")),
        ]);
        Assert.Equal("deep=True, store open=True", report.Checks.Single().Detail);
        Assert.True(report.Passed);
        // An empty database: every catalog expects no bundle and has none.
        Assert.Equal(["loop", "factor", "model", "strategy"], report.Coverage.Keys);
        Assert.All(report.Coverage.Values, c => Assert.Equal(new Coverage(0, 0), c));
    }

    [Fact]
    public void A_check_that_throws_on_bad_input_fails_with_the_error_and_the_next_check_runs()
    {
        using var dir = new TempDir();
        var settings = Settings(dir);
        Exception[] errors =
        [
            new IOException("disk gone"), new UnauthorizedAccessException("no access"),
            new System.Text.Json.JsonException("not json"), new FormatException("bad format"),
            new InvalidOperationException("not open"), new ArgumentException("bad path"),
            new NotSupportedException("not a path"),
        ];
        var checks = errors.Select((e, i) => Custom($"c{i}", CheckNeeds.Files, _ => throw e)).ToList();
        checks.Add(Custom("last", CheckNeeds.Files, _ => (true, "still ran")));
        var report = new Checklist(settings, deep: false).Run(checks);
        Assert.Equal(errors.Select(e => $"the check could not run: {e.Message}").Append("still ran"),
            report.Checks.Select(c => c.Detail));
        Assert.Equal(errors.Select(_ => false).Append(true), report.Checks.Select(c => c.Passed));

        // A bug of the check itself is not bad input: it is not hidden as a failed check.
        Assert.Throws<NullReferenceException>(() => new Checklist(settings, deep: false)
            .Run([Custom("bug", CheckNeeds.Files, _ => throw new NullReferenceException())]));
    }

    [Theory]
    [InlineData(0, 0, 0.0)]
    [InlineData(4, 4, 100.0)]
    [InlineData(3, 2, 66.7)] // 66.666… to one decimal
    [InlineData(3, 1, 33.3)]
    [InlineData(8, 1, 12.5)]
    [InlineData(7, 0, 0.0)]
    public void Coverage_is_the_percentage_with_a_bundle_id_to_one_decimal_and_zero_of_nothing(long total, long with,
        double percent)
    {
        Assert.Equal(percent, new Coverage(total, with).CoveragePct);
    }

    [Fact]
    public void The_report_json_lists_each_check_and_each_catalog_s_coverage_and_passes_only_when_every_check_does()
    {
        var passed = new CheckResult("a.one", "rdagent", "一 / one", true, "fine");
        var failed = new CheckResult("b.two", "linkage", "二", false, "broken");
        var coverage = new Dictionary<string, Coverage> { ["loop"] = new(3, 2), ["factor"] = new(0, 0) };

        var json = new VerifyReport([passed, failed], coverage).ToJson();
        var expected = JsonNode.Parse("""
            {"passed": false,
             "checks": [{"id": "a.one", "group": "rdagent", "title": "一 / one", "passed": true, "detail": "fine"},
                        {"id": "b.two", "group": "linkage", "title": "二", "passed": false, "detail": "broken"}],
             "coverage": {"loop": {"total": 3, "with_bundle_id": 2, "coverage_pct": 66.7},
                          "factor": {"total": 0, "with_bundle_id": 0, "coverage_pct": 0}}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, json), json.ToJsonString());
        Assert.Equal(["passed", "checks", "coverage"], json.Select(p => p.Key));

        Assert.True(new VerifyReport([passed], coverage).Passed);
        Assert.True((bool)new VerifyReport([passed], coverage).ToJson()["passed"]!);
        Assert.False(new VerifyReport([failed], coverage).Passed);
        Assert.True(new VerifyReport([], coverage).Passed);
    }

    [Fact]
    public void A_problem_list_counts_every_problem_and_keeps_the_first_eight()
    {
        var list = new ProblemList();
        Assert.Equal(0L, list.Count);
        Assert.Empty(list);
        for (var i = 1; i <= 8; i++) list.Add($"p{i}");
        Assert.Equal(8L, list.Count);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => $"p{i}"), list);
        for (var i = 9; i <= 11; i++) list.Add($"p{i}");
        Assert.Equal(11L, list.Count);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => $"p{i}"), list);
        // Through the non-generic enumerator too (string.Join over an object sequence uses it).
        var seen = new List<object>();
        foreach (var o in (System.Collections.IEnumerable)list) seen.Add(o);
        Assert.Equal(8, seen.Count);
    }

    [Fact]
    public void The_last_run_is_kept_with_who_ran_it_and_read_back_and_none_is_read_before_any_run()
    {
        using var dir = new TempDir();
        var settings = Settings(dir);
        var file = Path.Combine(dir.Path, "aistock", ".rdbridge", "last-verify.json");
        Assert.Equal(file, LastChecklistRun.FileOf(settings));
        Assert.Null(LastChecklistRun.Read(settings));

        var report = new VerifyReport([new CheckResult("a", "rdagent", "一", true, "fine")],
            new Dictionary<string, Coverage> { ["loop"] = new(2, 1) });
        Assert.Null(LastChecklistRun.Keep(settings, report, "sync", syncRunId: 7));

        // The file as written, read with the JSON parser alone.
        var kept = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        Assert.Equal(["ran_at_utc", "ran_by", "sync_run_id", "result"], kept.Select(p => p.Key));
        Assert.Equal(("sync", 7L), ((string)kept["ran_by"]!, (long)kept["sync_run_id"]!));
        Assert.True(JsonNode.DeepEquals(report.ToJson(), kept["result"]));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string)kept["ran_at_utc"]!);

        Assert.True(JsonNode.DeepEquals(kept, LastChecklistRun.Read(settings)));

        Assert.Null(LastChecklistRun.Keep(settings, report, "verify"));
        Assert.Null(LastChecklistRun.Read(settings)!["sync_run_id"]);
        Assert.Equal("verify", (string)LastChecklistRun.Read(settings)!["ran_by"]!);
    }

    [Fact]
    public void A_last_run_that_cannot_be_kept_returns_why_and_the_result_stands()
    {
        using var dir = new TempDir();
        var settings = Settings(dir);
        // A file where the .rdbridge folder should be.
        Directory.CreateDirectory(dir["aistock"]);
        File.WriteAllText(dir["aistock/.rdbridge"], "not a folder");
        var why = LastChecklistRun.Keep(settings, new VerifyReport([], new Dictionary<string, Coverage>()), "page");
        Assert.False(string.IsNullOrEmpty(why));
    }

    [Fact]
    public void A_kept_file_that_holds_no_checklist_result_is_named_with_what_to_do()
    {
        using var dir = new TempDir();
        var settings = Settings(dir);
        var file = LastChecklistRun.FileOf(settings);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);

        foreach (var content in new[] { "[1, 2]", """{"ran_by": "verify"}""", """{"result": [1]}""", "3" })
        {
            File.WriteAllText(file, content);
            var e = Assert.Throws<InvalidDataException>(() => LastChecklistRun.Read(settings));
            Assert.Equal($"'{file}' does not hold a checklist result; run the checklist again", e.Message);
        }

        File.WriteAllText(file, "{\"result\": ");
        var bad = Assert.Throws<InvalidDataException>(() => LastChecklistRun.Read(settings));
        Assert.StartsWith($"'{file}' cannot be read (", bad.Message);
        Assert.EndsWith("); run the checklist again", bad.Message);
        // Between the two ends is System.Text.Json's own wording; what is RdBridge's is that it passes that error on.
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(bad.InnerException);
    }

    [Fact]
    public void A_kept_file_of_sixteen_mebibytes_is_read_and_one_byte_more_is_refused()
    {
        using var dir = new TempDir();
        var settings = Settings(dir);
        var file = LastChecklistRun.FileOf(settings);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        const int cap = 16 * 1024 * 1024;
        const string head = "{\"result\": {}, \"pad\": \"";
        var tail = "\"}";

        File.WriteAllText(file, head + new string('x', cap - head.Length - tail.Length) + tail, Encoding.ASCII);
        Assert.Equal(cap, new FileInfo(file).Length);
        var read = LastChecklistRun.Read(settings)!;
        Assert.Equal("{}", read["result"]!.ToJsonString());
        Assert.Equal(cap - head.Length - tail.Length, ((string)read["pad"]!).Length);

        File.WriteAllText(file, head + new string('x', cap + 1 - head.Length - tail.Length) + tail, Encoding.ASCII);
        var e = Assert.Throws<InvalidDataException>(() => LastChecklistRun.Read(settings));
        Assert.Equal($"'{file}' cannot be read ('{file}' holds 16,777,217 bytes, more than the 16,777,216 such a " +
            "file may have; it was not read); run the checklist again", e.Message);
    }
}
