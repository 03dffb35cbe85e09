using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;

namespace RdBridge.Tests.Verify;

/// <summary>
/// The failure texts of the linkage checks that <see cref="A_check_that_fails_names_what_is_broken_and_counts_it"/>
/// does not reach: provenance carried in the factor records or in <c>factor_provenance.json</c>, a loop without a
/// workspace path, cached archives that are absent, hold no manifest or hold a file their manifest does not list, two
/// problems at once, and a loop catalog without loops. The mutants of <c>bench/mutation.sh Verify</c> at 5913db9 that
/// lived in <c>LinkageChecks.cs</c> changed only these.
/// </summary>
public sealed partial class VerifyDetailTests
{
    [Theory]
    [InlineData("provenance in the records")]
    [InlineData("provenance file entries")]
    [InlineData("provenance file missing")]
    public void A_factor_whose_provenance_names_a_loop_outside_the_loop_catalog_is_a_broken_link(string broken)
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var provenancePath = Path.Combine(s.CatalogDirectory, "factor_provenance.json");
        string expected;
        switch (broken)
        {
            case "provenance in the records":
                // The first record names a loop the catalog lacks; the second holds a provenance that is no list,
                // which is not read as links.
                var path = Path.Combine(s.CatalogDirectory, "factor_catalog.json");
                var root = JsonNode.Parse(File.ReadAllText(path))!;
                var records = root["factors"]!.AsArray();
                var tr = (string)records[0]!["task_run_id"]!;
                records[0]!["provenance"] = new JsonArray(new JsonObject
                {
                    ["task_run_id"] = tr, ["loop_id"] = 999, ["asset_bundle_id"] = $"bundle_{tr}_999",
                });
                records[1]!["provenance"] = null;
                File.WriteAllText(path, root.ToJsonString());
                expected = $"1 broken link, e.g. {records[0]!["factor_id"]} → {tr}/999";
                break;
            case "provenance file entries":
                copy.EditProvenance(p => p["loop_id"] = 999);
                // Each factor's entries now name the same missing loop: one link per factor, in the file's order.
                var links = JsonNode.Parse(File.ReadAllText(provenancePath))!["provenance"]!.AsArray()
                    .Select(p => $"{p!["factor_id"]} → {p["task_run_id"]}/999").Distinct().ToList();
                expected = $"{Words.N(links.Count, "broken link", "broken links")}, e.g. "
                    + $"{string.Join("; ", links.Take(3))}";
                break;
            case "provenance file missing":
                File.Delete(provenancePath);
                expected = $"1 broken link, e.g. {provenancePath} missing; run 'rdbridge export'";
                break;
            default: throw new ArgumentException($"no break written for {broken}");
        }

        var result = copy.Check("link.factor_loop");
        Assert.Equal((false, expected), (result.Passed, result.Detail));
    }

    [Theory]
    [InlineData("a loop without a workspace path")]
    [InlineData("two workspaces moved")]
    [InlineData("no loops")]
    public void The_workspace_files_check_names_each_unreachable_workspace_and_why(string broken)
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var loops = ExportedRecords(s, "loops").Where(r => (bool?)r!["has_result"] != false).ToList();
        string Key(JsonNode r) => $"{r["task_run_id"]}/{r["loop_id"]}";
        string Workspace(JsonNode r) => s.PathMap.Map((string?)r["workspace_path"]).Local!;
        string expected;
        switch (broken)
        {
            case "a loop without a workspace path":
                copy.EditExported(RdBridge.Catalogs.CatalogKind.Loop, r => r.Remove("workspace_path"));
                expected = $"1 unreachable: {Key(loops[0]!)}: the stored path is empty";
                break;
            case "two workspaces moved":
                Directory.Move(Workspace(loops[0]!), Workspace(loops[0]!) + ".moved");
                Directory.Move(Workspace(loops[1]!), Workspace(loops[1]!) + ".moved");
                expected = $"2 unreachable: {Key(loops[0]!)}: {Workspace(loops[0]!)} missing; "
                    + $"{Key(loops[1]!)}: {Workspace(loops[1]!)} missing";
                break;
            case "no loops":
                EmptyExportedLoopCatalog(s);
                expected = "0 workspaces reachable through the path map";
                break;
            default: throw new ArgumentException($"no break written for {broken}");
        }

        var result = copy.Check("link.workspace_files");
        Assert.Equal((false, expected), (result.Passed, result.Detail));
    }

    /// <summary>
    /// A workspace folder that is there but cannot be listed (mode 000) is unreachable and says so; the loops before
    /// and after it are reachable. The check runs with the folder's mode enforced even though the suite runs as root
    /// (<see cref="ThreadFileLimits.WithFileModesEnforced"/>).
    /// </summary>
    [Fact]
    [SupportedOSPlatform("linux")]
    public void A_workspace_folder_that_cannot_be_listed_is_named_not_readable_and_only_it()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var loops = ExportedRecords(s, "loops").Where(r => (bool?)r!["has_result"] != false).ToList();
        // A guard on the sample, not a result: the middle loop is the one made unreadable.
        Assert.True(loops.Count >= 3, "the sample needs a loop before and after the unreadable one");
        var loop = loops[1]!;
        var workspace = s.PathMap.Map((string?)loop["workspace_path"]).Local!;
        var mode = File.GetUnixFileMode(workspace);
        File.SetUnixFileMode(workspace, UnixFileMode.None);
        try
        {
            var result = ThreadFileLimits.WithFileModesEnforced(() => copy.Check("link.workspace_files"));
            Assert.Equal((false, $"1 unreachable: {loop["task_run_id"]}/{loop["loop_id"]}: {workspace} not readable"),
                (result.Passed, result.Detail));
        }
        finally
        {
            File.SetUnixFileMode(workspace, mode);
        }
    }

    [Theory]
    [InlineData("a cached archive deleted")]
    [InlineData("two cached archives deleted")]
    [InlineData("a cached archive without its manifest")]
    [InlineData("a cached archive with a file its manifest does not list, deep")]
    [InlineData("no loops")]
    public void The_bundle_extractable_check_names_each_bundle_that_does_not_open_and_why(string broken)
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var bundles = ExportedLoopBundles(s);
        var deep = broken.EndsWith(", deep", StringComparison.Ordinal);
        string expected;
        switch (broken)
        {
            case "a cached archive deleted":
                File.Delete(s.AssetCache.Archive(bundles[0]));
                expected = $"1 bad: {bundles[0]}: not in the cache";
                break;
            case "two cached archives deleted":
                File.Delete(s.AssetCache.Archive(bundles[0]));
                File.Delete(s.AssetCache.Archive(bundles[1]));
                expected = $"2 bad: {bundles[0]}: not in the cache; {bundles[1]}: not in the cache";
                break;
            case "a cached archive without its manifest":
                RewriteArchive(s.AssetCache.Archive(bundles[0]), files => files.Where(f => f.Name != "manifest.json"));
                expected = $"1 bad: {bundles[0]}: no manifest";
                break;
            case "a cached archive with a file its manifest does not list, deep":
                // The manifest is unchanged, so the extracted copy still matches it: only the deep walk sees the file.
                RewriteArchive(s.AssetCache.Archive(bundles[0]),
                    files => [.. files, ("unlisted.txt", "x"u8.ToArray())]);
                expected = $"1 bad: {bundles[0]}: 'unlisted.txt' is in the archive but not in its manifest";
                break;
            case "no loops":
                EmptyExportedLoopCatalog(s);
                expected = "0 bundles open and are extracted";
                break;
            default: throw new ArgumentException($"no break written for {broken}");
        }

        var result = copy.Check("link.bundle_extractable", deep);
        Assert.Equal((false, expected), (result.Passed, result.Detail));
    }

    /// <summary>
    /// Writes the archive again (tar in gzip) with the regular files <paramref name="change"/> makes of its own, in
    /// that order.
    /// </summary>
    private static void RewriteArchive(string archive,
        Func<List<(string Name, byte[] Data)>, IEnumerable<(string Name, byte[] Data)>> change)
    {
        var files = new List<(string Name, byte[] Data)>();
        using (var gz = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress))
        using (var tar = new TarReader(gz))
        {
            while (tar.GetNextEntry(copyData: true) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                using var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                files.Add((entry.Name, data.ToArray()));
            }
        }
        using var output = new GZipStream(File.Create(archive), CompressionLevel.Fastest);
        using var writer = new TarWriter(output, TarEntryFormat.Pax);
        foreach (var (name, data) in change(files))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }
    }
}
