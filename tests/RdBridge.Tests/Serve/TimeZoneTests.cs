using System.Globalization;
using System.Text.Json;
using RdBridge.IO;
using RdBridge.Server;

namespace RdBridge.Tests.Serve;

/// <summary>
/// Times are compared as instants wherever RdBridge compares them, whatever offset they are written with.
/// </summary>
public sealed class TimeZoneTests
{
    [Theory]
    [InlineData("2026-01-01T20:42:37+08:00", "2026-01-01T12:42:37.000Z")]
    [InlineData("2026-01-01T12:42:37Z", "2026-01-01T12:42:37.000Z")]
    [InlineData("2026-01-01T12:42:37.123456Z", "2026-01-01T12:42:37.123Z")]
    [InlineData("2026-01-01T07:42:37.5-05:00", "2026-01-01T12:42:37.500Z")]
    [InlineData("2026-01-01 12:42:37", "2026-01-01T12:42:37.000Z")]
    [InlineData("2026-01-01T12:42:37", "2026-01-01T12:42:37.000Z")]
    [InlineData("2026-01-01", "2026-01-01T00:00:00.000Z")]
    public void An_ISO_8601_time_is_read_as_the_instant_it_names(string text, string utc)
    {
        Assert.True(UtcText.TryParse(text, out var t));
        Assert.Equal(utc, UtcText.Format(t));
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("01/02/2026")]
    [InlineData("2026-01-01T25:00:00Z")]
    [InlineData("1700000000")]
    public void A_text_that_is_not_an_ISO_8601_time_is_refused(string text)
    {
        Assert.False(UtcText.TryParse(text, out _));
        var e = Assert.Throws<TimeFormatException>(() => UtcText.Parse(text, "--since"));
        Assert.Equal(ExitCodes.UsageError, e.ExitCode);
        Assert.Equal($"--since '{text}' is not an ISO-8601 time; write it as 2026-01-01T00:00:00Z or with an offset, "
            + "2026-01-01T08:00:00+08:00", e.Message);
    }

    [Fact]
    public void The_feed_lists_the_same_bundles_for_one_instant_written_in_UTC_or_UTC_plus_8()
    {
        using var sample = new Sample(taskRuns: 2, loops: 3);
        Assert.Equal(0, sample.Cli("publish").Code);
        // Give the bundles distinct build times an hour apart, written as the registry's writers write them.
        var ids = Db.Rows(sample.Settings.RegistryPath, "SELECT bundle_id FROM production_bundles ORDER BY bundle_id")
            .Select(r => (string)r[0]!).ToList();
        // A precondition on the sample: the cut at 12:00Z below leaves out the first two and keeps the rest.
        Assert.True(ids.Count >= 3, $"the sample has {ids.Count} bundles");
        var start = new DateTime(2026, 1, 1, 10, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < ids.Count; i++)
        {
            var at = start.AddHours(i).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            Db.Exec(sample.Settings.RegistryPath,
                $"UPDATE production_bundles SET updated_at = '{at}' WHERE bundle_id = '{ids[i]}'");
        }
        using var server = new RunningServer(sample.Settings, ServeRole.Publisher);
        List<string> Listed(string since)
        {
            using var response = server.Get("api/rdagent/feed?since=" + Uri.EscapeDataString(since));
            var body = RunningServer.Text(response);
            Assert.True(response.IsSuccessStatusCode, body);
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.GetProperty("bundles").EnumerateArray()
                .Select(b => b.GetProperty("asset_bundle_id").GetString()!).ToList();
        }
        // 12:00Z is 20:00 in UTC+8: the bundles built at 12:00Z and later, whichever way it is written.
        var expected = ids.Skip(2).ToList();
        Assert.Equal(expected, Listed("2026-01-01T12:00:00Z"));
        Assert.Equal(expected, Listed("2026-01-01T20:00:00+08:00"));
        Assert.Equal(expected, Listed("2026-01-01T20:00:00.000000+08:00"));
        Assert.Equal(ids, Listed("2026-01-01T17:59:59+08:00"));
    }

    [Fact]
    public void A_malformed_since_is_a_400_naming_the_value_not_an_empty_feed()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        Assert.Equal(0, sample.Cli("publish").Code);
        using var server = new RunningServer(sample.Settings, ServeRole.Publisher);
        using var response = server.Get("api/rdagent/feed?since=last-tuesday");
        Assert.Equal(400, (int)response.StatusCode);
        using var problem = JsonDocument.Parse(RunningServer.Text(response));
        Assert.Equal("bad since", problem.RootElement.GetProperty("title").GetString());
        Assert.Equal("'last-tuesday' is not an ISO-8601 time; use e.g. 2026-01-01T00:00:00Z or "
            + "2026-01-01T08:00:00+08:00", problem.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public void A_malformed_sync_since_is_exit_2_naming_the_option()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var (code, _, error) = sample.Cli("sync", "--since", "last-tuesday");
        Assert.Equal(2, code);
        Assert.Equal("error: --since 'last-tuesday' is not an ISO-8601 time; write it as 2026-01-01T00:00:00Z or with "
            + "an offset, 2026-01-01T08:00:00+08:00", error.TrimEnd('\n'));
    }

    [Fact]
    public void A_malformed_backfill_date_is_exit_2_naming_the_option()
    {
        using var sample = new Sample(taskRuns: 1, loops: 1);
        var (code, _, error) = sample.Cli("backfill", "--all-task-runs", "--start-date", "01/07/2025");
        Assert.Equal(2, code);
        Assert.Equal("error: --start-date '01/07/2025' is not an ISO-8601 time; write it as 2026-01-01T00:00:00Z or "
            + "with an offset, 2026-01-01T08:00:00+08:00", error.TrimEnd('\n'));
    }
}
