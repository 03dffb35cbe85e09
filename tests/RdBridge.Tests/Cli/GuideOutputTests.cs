using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RdBridge.Catalogs;

namespace RdBridge.Tests.Cli;

/// <summary>
/// Issue 26, point 19: what init's verbs print agrees with what they did. The expected figures come from the files on
/// disk before and after (their SHA-256), not from RdBridge's own report.
/// </summary>
public sealed class GuideOutputTests
{
    private static Dictionary<string, string> Snapshot(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => f,
            f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>The files a command created or changed, the registry database (rows, not files) aside.</summary>
    private static SortedSet<string> Written(Sample s, Dictionary<string, string> before)
    {
        var after = Snapshot(s.Dir.Path);
        return new SortedSet<string>(after.Where(f => before.GetValueOrDefault(f.Key) != f.Value
                && !f.Key.StartsWith(s.Settings.RegistryPath, StringComparison.Ordinal))
            .Select(f => f.Key), StringComparer.Ordinal);
    }

    private static SortedSet<string> Listed(string output, string stage) => new(output.Split('\n')
        .Where(l => l.StartsWith($"[{stage}] wrote ", StringComparison.Ordinal))
        .Select(l => l[$"[{stage}] wrote ".Length..].TrimEnd('\r')), StringComparer.Ordinal);

    [Fact]
    public void Backfill_and_export_verbose_list_each_file_they_write()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var before = Snapshot(sample.Dir.Path);
        var (code, output, _) = sample.Cli("backfill", "--verbose");
        Assert.Equal(0, code);
        var written = Written(sample, before);
        // A guard (both sides empty would pass the comparison): the metadata files of each loop with results.
        Assert.NotEmpty(written);
        Assert.Equal(written, Listed(output, "backfill"));

        before = Snapshot(sample.Dir.Path);
        (code, output, _) = sample.Cli("bundle");
        Assert.Equal(0, code);
        before = Snapshot(sample.Dir.Path);
        (code, output, _) = sample.Cli("export", "--verbose");
        Assert.Equal(0, code);
        written = Written(sample, before);
        // What step 3 of the guide writes: the four catalogs and the factor provenance beside them, and the
        // strategies library (its package file and the generated module).
        var settings = sample.Settings;
        var library = Path.Combine(settings.StrategiesLibRoot, "rd_strategies_lib");
        Assert.Equal(new SortedSet<string>(new[] { "factor_catalog.json", "model_catalog.json", "strategy_catalog.json",
                "loop_catalog.json", "factor_provenance.json" }.Select(f => Path.Combine(settings.CatalogDirectory, f))
            .Concat([Path.Combine(library, "__init__.py"), Path.Combine(library, "generated.py")]),
            StringComparer.Ordinal), written);
        Assert.Equal(written, Listed(output, "export"));

        // Without --verbose, one summary line per stage, as before.
        (_, output, _) = sample.Cli("export");
        Assert.Empty(Listed(output, "export"));
    }

    [Fact]
    public void The_first_sync_on_a_tree_set_up_verb_by_verb_says_what_it_changed_or_that_nothing_changed()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        foreach (var verb in new[] { "discover", "backfill", "bundle", "export", "import", "sync-assets" })
            Assert.Equal(0, sample.Cli(verb).Code);
        var before = Snapshot(sample.Dir.Path);

        var (code, output, _) = sample.Cli("sync");

        Assert.Equal(0, code);
        // The products (catalogs on both sides, bundles, the asset cache) are as the verbs left them.
        var s = sample.Settings;
        string[] products = [s.CatalogDirectory, s.AistockCatalogDirectory, s.BundleDirectory, s.AssetCacheDirectory];
        Assert.DoesNotContain(Written(sample, before),
            f => products.Any(p => f.StartsWith(p + Path.DirectorySeparatorChar, StringComparison.Ordinal)));
        Assert.Equal("sync run #1: nothing changed — every file, bundle and row was already up to date",
            output.TrimEnd().Split('\n')[^1]);
    }

    [Fact]
    public void A_sync_that_changed_files_names_them_by_stage()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        // No discover: the sync's own discovery reads the log and adds what the loop catalog says of each loop.
        foreach (var verb in new[] { "backfill", "bundle", "export", "import", "sync-assets" })
            Assert.Equal(0, sample.Cli(verb).Code);
        var catalogs = Snapshot(sample.Settings.CatalogDirectory);
        var records = Records(sample.Settings.CatalogDirectory);

        var (code, output, _) = sample.Cli("sync");

        Assert.Equal(0, code);
        var rewritten = Snapshot(sample.Settings.CatalogDirectory).Count(f => catalogs[f.Key] != f.Value
            && (f.Key.EndsWith("_catalog.json", StringComparison.Ordinal)
                || f.Key.EndsWith("factor_provenance.json", StringComparison.Ordinal)));
        // The records whose JSON the sync's export changed (the discovery adds to each loop what its log says), by
        // catalog in the import's order; the same keys before and after, so each is an update.
        var after = Records(sample.Settings.CatalogDirectory);
        var old = records.ToDictionary(c => c.Key, c => c.Value);
        var updated = after
            .Select(c => (c.Key, Count: c.Value.Count(r => !old[c.Key].Any(o => JsonNode.DeepEquals(o, r)))))
            .Where(c => c.Count > 0).Select(c => Words.N(c.Count, $"{Singular[c.Key]} updated", $"{c.Key} updated"));
        Assert.Equal(records.Select(c => c.Value.Count), after.Select(c => c.Value.Count));
        // The whole closing line: the catalog files rewritten on disk, the records they changed, and their copies
        // on AIstock's side; nothing else (no backup, no bundle: no workspace changed).
        Assert.Equal($"sync run #1: changes written — export: "
            + $"{Words.N(rewritten, "catalog file written", "catalog files written")}; import: "
            + string.Join(", ", updated.Append(Words.N(rewritten, "catalog copy written", "catalog copies written"))),
            output.TrimEnd().Split('\n')[^1]);
    }

    /// <summary>Each catalog file's records as JSON, by list name in the order import reads them.</summary>
    /// <summary>Each catalog's list name and its record in the singular, for a count of one.</summary>
    private static readonly Dictionary<string, string> Singular = new()
    {
        ["factors"] = "factor", ["models"] = "model", ["strategies"] = "strategy", ["loops"] = "loop",
    };

    private static List<KeyValuePair<string, List<JsonNode>>> Records(string folder) =>
        [.. new[] { ("factor_catalog.json", "factors"), ("model_catalog.json", "models"),
                ("strategy_catalog.json", "strategies"), ("loop_catalog.json", "loops") }
            .Select(f => new KeyValuePair<string, List<JsonNode>>(f.Item2, [.. JsonNode.Parse(File.ReadAllText(
                Path.Combine(folder, f.Item1)))![f.Item2]!.AsArray().Select(r => r!)]))];

    [Fact]
    public void Portfolio_config_keeps_qlib_s_shape_and_the_readme_says_where_the_guide_s_top_k_is()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        foreach (var verb in new[] { "backfill", "bundle", "export" }) Assert.Equal(0, sample.Cli(verb).Code);
        var strategy = JsonNode.Parse(File.ReadAllText(Path.Combine(sample.Settings.CatalogDirectory,
            CatalogFile.FileName(CatalogKind.Strategy))))!["strategies"]![0]!;
        var workspace = sample.Settings.PathMap.Map((string?)strategy["workspace_path"]).Local!;
        // The workflow YAML's topk, read as text.
        var topk = Directory.EnumerateFiles(workspace, "*.yaml", SearchOption.AllDirectories)
            .Select(f => Regex.Match(File.ReadAllText(f), @"\btopk:\s*(\d+)")).First(m => m.Success).Groups[1].Value;

        var portfolio = strategy["portfolio_config"]!;
        Assert.Equal(long.Parse(topk), (long)portfolio["kwargs"]!["topk"]!);
        // The strategy class the workflow YAML names under its strategy section, read as text.
        var strategyClass = Directory.EnumerateFiles(workspace, "*.yaml", SearchOption.AllDirectories)
            .Select(f => Regex.Match(File.ReadAllText(f), @"\bstrategy:\s*\n\s*class:\s*(\S+)")).First(m => m.Success)
            .Groups[1].Value;
        Assert.Equal(strategyClass, (string)portfolio["class"]!);
        Assert.Null(portfolio["signal_config"]);
        var readme = File.ReadAllText(Path.Combine(Paths.RepoRoot, "README.md"));
        // One whole sentence of a longer document: Contains is the exact check here.
        Assert.Contains("the guide's example `{\"signal_config\": {\"top_k\": 50}}` is " +
            "`portfolio_config.kwargs.topk` here", readme);
    }
}
