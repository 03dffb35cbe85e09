using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Configuration;
using RdBridge.IO;

namespace RdBridge.Verify;

/// <summary>
/// The checklist's last result and when it ran, kept in the AIstock root so the web page shows it on open, whoever ran
/// it: <c>rdbridge verify</c>, the end of <c>init</c> or <c>sync</c> (the live sync's too), or the page's button. The
/// one owner of that file: each of those keeps its result here, the server reads it.
/// </summary>
public static class LastChecklistRun
{
    public static string FileOf(RdBridgeSettings settings) =>
        Path.Combine(settings.AistockRoot, ".rdbridge", "last-verify.json");

    // A checklist result is a few kilobytes; anything far larger is not one.
    private const long MaxBytes = 16L * 1024 * 1024;

    /// <summary>
    /// Keeps <paramref name="report"/> as the last run, saying which command ran it (<c>verify</c>, <c>init</c>,
    /// <c>sync</c>, <c>page</c>) and, for a sync, its run id. Returns why it could not be kept, or null: the result
    /// itself stands either way, only the page's memory of it is lost.
    /// </summary>
    public static string? Keep(RdBridgeSettings settings, VerifyReport report, string ranBy, long? syncRunId = null)
    {
        var kept = new JsonObject
        {
            ["ran_at_utc"] = UtcText.Now(), ["ran_by"] = ranBy, ["sync_run_id"] = syncRunId,
            ["result"] = report.ToJson(),
        };
        try
        {
            var file = FileOf(settings);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            AtomicFile.WriteBytes(file, JsonSerializer.SerializeToUtf8Bytes(kept, CanonicalJson.FileOptions));
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    /// <summary>The kept run (<c>ran_at_utc</c>, <c>ran_by</c>, <c>sync_run_id</c>, <c>result</c>); null when no run
    /// was kept yet.</summary>
    /// <exception cref="InvalidDataException">The file is there but holds no checklist result; the message names it
    /// and says to run the checklist again.</exception>
    public static JsonObject? Read(RdBridgeSettings settings)
    {
        var file = FileOf(settings);
        if (!RegularFile.Exists(file)) return null;
        JsonNode? read;
        try
        {
            read = JsonNode.Parse(RegularFile.ReadAllBytes(file, MaxBytes));
        }
        catch (Exception e) when (e is JsonException or IOException or FileRefusedException)
        {
            throw new InvalidDataException($"'{file}' cannot be read ({e.Message}); run the checklist again", e);
        }
        return read is JsonObject o && o["result"] is JsonObject
            ? o
            : throw new InvalidDataException($"'{file}' does not hold a checklist result; run the checklist again");
    }
}
