using RdBridge.Verify;

namespace RdBridge.Tests.Verify;

/// <summary>
/// Every check's detail is escaped where the checklist makes its result: ids and paths come from the input (a bundle id
/// out of a catalog file), and a check that forgot to escape one would put the input's control characters on the
/// reviewer's terminal and into the report file.
/// </summary>
public sealed partial class VerifyDetailTests
{
    [Fact]
    public void No_check_s_detail_holds_a_control_character_or_a_direction_override_from_the_input()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var bundle = "";
        // The first loop record's bundle id, followed by an escape sequence that would recolour the terminal, a
        // right-to-left override and a line feed.
        copy.EditExported(RdBridge.Catalogs.CatalogKind.Loop, r =>
        {
            bundle = (string)r["asset_bundle_id"]!;
            r["asset_bundle_id"] = bundle + "\u001b[31m\u202e\n/..";
        });

        var report = new Checklist(copy.Settings, deep: false).Run(Checks.All);

        Assert.Equal($"1 bad: {bundle}\\x1b[31m\\u202e\\x0a/..: unsafe id",
            report.Checks.Single(c => c.Id == "ai.bundle_cache").Detail);
        Assert.Equal([], report.Checks
            .Where(c => c.Detail.Any(ch => char.IsControl(ch) || ch is '\u202e' or '\u202d' or '\u2066' or '\u2067'))
            .Select(c => c.Id));
    }
}
