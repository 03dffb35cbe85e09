using System.Text.Json.Nodes;

namespace RdBridge.Tests.Verify;

/// <summary>
/// The verify page shows the checklist's last run on open, whoever ran it: the end of <c>init</c> and <c>sync</c> and
/// <c>rdbridge verify</c> keep their result where the page's button keeps its own (the page used to show only runs
/// of its button, so after a sync it showed an older result than the one the sync had just printed).
/// </summary>
public sealed class LastChecklistRunTests
{
    private static JsonObject Kept(Sample sample) => JsonNode.Parse(File.ReadAllText(
        Path.Combine(sample.Settings.AistockRoot, ".rdbridge", "last-verify.json")))!.AsObject();

    /// <summary>Each check's id and outcome, as printed by <c>rdbridge verify --json</c> or kept.</summary>
    private static List<string> Outcomes(JsonNode result) =>
        [.. result["checks"]!.AsArray().Select(c => $"{(string)c!["id"]!}={(bool)c["passed"]!}")];

    /// <summary>Runs <paramref name="args"/> and checks the kept result was written during that run: its
    /// <c>ran_at_utc</c> lies between the test's own clock readings before and after (milliseconds, as kept).</summary>
    private static (int Code, string Out, string Err, JsonObject Kept) KeptBy(Sample sample, params string[] args)
    {
        var before = DateTimeOffset.UtcNow;
        before = before.AddTicks(-(before.Ticks % TimeSpan.TicksPerMillisecond));
        var (code, output, err) = sample.Cli(args);
        var after = DateTimeOffset.UtcNow;
        var kept = Kept(sample);
        var at = DateTimeOffset.Parse((string)kept["ran_at_utc"]!, System.Globalization.CultureInfo.InvariantCulture);
        // A clock reading: only its place between the test's own two readings can be known.
        Assert.True(before <= at && at <= after,
            $"{string.Join(' ', args)}: kept at {at:O}, ran {before:O}–{after:O}");
        return (code, output, err, kept);
    }

    [Fact]
    public void Init_sync_and_verify_each_keep_their_checklist_result_for_the_page_with_who_ran_it()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var (code, output, err, afterInit) = KeptBy(sample, "init");
        Assert.True(code == 0, output + err);

        Assert.Equal("init", (string)afterInit["ran_by"]!);
        Assert.Equal(sample.Aistock.Scalar("SELECT max(id) FROM rdbridge_sync_runs WHERE mode = 'init'"),
            (long)afterInit["sync_run_id"]!);
        // What init kept is the checklist's answer on that state: the same checks, the same outcomes, as verify.
        var (vcode, json, verr, afterVerify) = KeptBy(sample, "verify", "--json");
        Assert.True(vcode == 0, json + verr);
        Assert.Equal(Outcomes(JsonNode.Parse(json)!), Outcomes(afterInit["result"]!));

        Assert.Equal("verify", (string)afterVerify["ran_by"]!);
        Assert.Null(afterVerify["sync_run_id"]);
        Assert.Equal(JsonNode.Parse(json)!.ToJsonString(), afterVerify["result"]!.ToJsonString());

        // A sync that finds nothing changed runs no checklist (nothing it checks changed): verify's run stands.
        var (ncode, nout, nerr) = sample.Cli("sync");
        Assert.True(ncode == 0, nout + nerr);
        Assert.Equal(afterVerify.ToJsonString(), Kept(sample).ToJsonString());

        // One that examines loops ends with the checklist, and keeps it.
        var (scode, sout, serr, afterSync) = KeptBy(sample, "sync", "--since", "2000-01-01T00:00:00Z");
        Assert.True(scode == 0, sout + serr);
        Assert.Equal("sync", (string)afterSync["ran_by"]!);
        Assert.Equal(sample.Aistock.Scalar("SELECT max(id) FROM rdbridge_sync_runs"), (long)afterSync["sync_run_id"]!);
    }

    [Fact]
    public void A_checklist_that_fails_is_kept_as_failed_so_the_page_does_not_show_an_older_pass()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        // A bundle gone from the assets folder: the linkage checks fail, and verify says so (exit 1).
        var bundle = Directory.EnumerateFiles(sample.Settings.BundleDirectory, "*.tar.gz").Order().First();
        File.Delete(bundle);
        var (code, json, err) = sample.Cli("verify", "--json");
        Assert.True(code == 1, json + err);

        var kept = Kept(sample);
        Assert.False((bool)kept["result"]!["passed"]!);
        Assert.Equal(Outcomes(JsonNode.Parse(json)!), Outcomes(kept["result"]!));
        // The one check of the RD-Agent side's bundle files fails, naming the bundle the test deleted.
        var failed = kept["result"]!["checks"]!.AsArray().Where(c => !(bool)c!["passed"]!)
            .Select(c => $"{(string)c!["id"]!}: {(string)c["detail"]!}");
        Assert.Equal([$"rd.bundle_files: 1 missing: {Path.GetFileName(bundle)[..^".tar.gz".Length]}"], failed);
    }
}
