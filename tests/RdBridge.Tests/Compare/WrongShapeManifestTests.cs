using System.Net;
using System.Text.Json.Nodes;
using RdBridge.Layout;
using RdBridge.Server;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.Compare;

/// <summary>
/// Issue 26, class 5 (a crash that ended the run becomes the item's problem): a cached bundle manifest whose fields
/// have the wrong JSON type — <c>"files"</c> a text (the issue's example), a file's size a text, <c>null</c> or a
/// number where an object is expected — is named with its bundle by <c>compare</c>, which still compares the loops'
/// records, and by every endpoint that reads it (a 4xx or a per-loop reason, never a 500).
/// </summary>
public class WrongShapeManifestTests
{
    private static string ManifestOf(Sample sample, SampleLoop loop) =>
        sample.Settings.AssetCache.ExtractedManifest(BundleId.For(loop.TaskRunId, loop.LoopId));

    private static void Damage(string manifest, Action<JsonObject> change)
    {
        var o = JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        change(o);
        File.WriteAllText(manifest, o.ToJsonString());
    }

    /// <summary>What every reader of a damaged cached manifest says: the bundle, the file, the field and its type as
    /// written by the test, and what to do.</summary>
    private static string Unreadable(string id, string? manifest, string why) =>
        $"the manifest of bundle '{id}' in the asset cache{(manifest is null ? "" : $" ({manifest})")} cannot be read: "
        + $"{why}; run sync-assets to extract it again";

    private const string FilesText = "'files' is a text, not a list";
    private const string SizeText = "'files[0].size' is a text, not a number";
    private const string PrimaryNumber = "'primary_assets' is a number, not an object";
    private const string LeftOut = "; its config, code and curve are left out";

    [Fact]
    public void Wrong_shape_cached_manifest_is_named_by_compare_and_the_api_and_the_rest_goes_on()
    {
        using var sample = new Sample(taskRuns: 2, loops: 3);
        var loops = SampleBacktests.Prepare(sample);
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        var (a, b) = (SampleBacktests.A(loops), SampleBacktests.B(loops));
        var other = loops.First(l => l.Key != a.Key && l.Key != b.Key && File.Exists(l.ReportPath));
        var (idA, idB, idOther) = (BundleId.For(a.TaskRunId, a.LoopId), BundleId.For(b.TaskRunId, b.LoopId),
            BundleId.For(other.TaskRunId, other.LoopId));
        var firstFile = (string)JsonNode.Parse(File.ReadAllText(ManifestOf(sample, b)))!["files"]![0]!["path"]!;
        Damage(ManifestOf(sample, a), o => o["files"] = "workspaces");                       // the issue's example
        Damage(ManifestOf(sample, b), o => o["files"]![0]!["size"] = "12 KB");               // a size as a text
        Damage(ManifestOf(sample, other), o => o["primary_assets"] = 7);                      // a number for an object

        // compare: exit 0, both sides' bundles named with the field, the metrics still compared from the records.
        var (cc, cout, cerr) = sample.Cli("compare", a.Key, b.Key, "--json");
        Assert.True(cc == 0, cout + cerr);
        var c = JsonNode.Parse(cout)!;
        var notes = c["notes"]!.AsArray().Select(n => (string)n!).ToList();
        // Exactly the two loops compared, each whole (the third damaged bundle is no part of this comparison).
        string[] expectedNotes =
        [
            $"loop {a.Key}: {Unreadable(idA, ManifestOf(sample, a), FilesText)}{LeftOut}",
            $"loop {b.Key}: {Unreadable(idB, ManifestOf(sample, b), SizeText)}{LeftOut}",
        ];
        Assert.Equal(expectedNotes, notes);
        Assert.Contains(c["metrics"]!.AsArray(), m => (string?)m!["name"] == "annualized_return");
        Assert.DoesNotContain("Exception", cout + cerr);

        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);
        var compare = server.Get($"api/rdagent/compare?a={a.Key}&b={b.Key}");
        Assert.Equal(HttpStatusCode.OK, compare.StatusCode);
        Assert.Equal(expectedNotes,
            JsonNode.Parse(RunningServer.Text(compare))!["notes"]!.AsArray().Select(n => (string)n!));

        foreach (var (loop, id, why) in
                 new[] { (a, idA, FilesText), (b, idB, SizeText), (other, idOther, PrimaryNumber) })
        {
            var backtest = server.Get($"api/rdagent/loops/{loop.TaskRunId}/{loop.LoopId}/backtest");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, backtest.StatusCode);
            Assert.Equal(Unreadable(id, ManifestOf(sample, loop), why),
                (string?)JsonNode.Parse(RunningServer.Text(backtest))!["detail"]);
        }

        // The task run's curves: the damaged loops are named as missing with their bundle, the others still drawn.
        var curves = JsonNode.Parse(RunningServer.Text(server.Get($"api/rdagent/task-runs/{a.TaskRunId}/curves")))!;
        var missing = curves["missing"]!.AsArray();
        Assert.Equal(Unreadable(idA, ManifestOf(sample, a), FilesText),
            (string?)missing.Single(m => (long)m!["loop_id"]! == a.LoopId)!["reason"]);
        // Every loop of the task run that has a report is either drawn or named as missing, never both; and the
        // one damaged here is not drawn.
        var drawn = curves["curves"]!.AsArray().Select(k => (long)k!["loop_id"]!).ToList();
        var named = missing.Select(m => (long)m!["loop_id"]!).ToList();
        Assert.Equal(loops.Where(l => l.TaskRunId == a.TaskRunId && File.Exists(l.ReportPath)).Select(l => l.LoopId)
            .Order(), drawn.Concat(named).Order());
        Assert.DoesNotContain(a.LoopId, drawn);

        var file = server.Get($"api/aistock/bundles/{idB}/files/{firstFile}");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, file.StatusCode);
        // The file route names the bundle and the field, not the cache's path on this machine.
        Assert.Equal(Unreadable(idB, null, SizeText), (string?)JsonNode.Parse(RunningServer.Text(file))!["detail"]);
    }
}
