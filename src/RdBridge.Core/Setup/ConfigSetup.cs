using System.Text.Json.Nodes;
using RdBridge.Configuration;
using RdBridge.IO;

namespace RdBridge.Setup;

/// <summary>What the user asked <c>setup</c> for: the folders, and any path map entries they already know.</summary>
/// <param name="ConfigPath">where <c>rdbridge.json</c> goes (the current folder's, unless --config says otherwise)
/// </param>
public sealed record SetupRequest(string ConfigPath, string? RdAgent, string? Aistock, string? StrategiesLib,
    IReadOnlyList<KeyValuePair<string, string>> Maps);

/// <summary>What setup found, inferred and did, as lines for the user, and the exit code.</summary>
public sealed record SetupOutcome(int ExitCode, IReadOnlyList<string> Lines, bool Written);

/// <summary>
/// <c>rdbridge setup</c>: looks at the RD-Agent and AIstock folders, infers the path map from the stored workspace
/// paths, and writes <c>rdbridge.json</c> — only when everything it needs is known; a configured folder is shown and
/// left alone, an ambiguous or unmatched path is named with the flag that settles it.
/// </summary>
public static class ConfigSetup
{
    public static SetupOutcome Run(SetupRequest request)
    {
        var lines = new List<string>();
        var config = Path.GetFullPath(request.ConfigPath);
        if (File.Exists(config))
        {
            lines.Add($"already configured: {config} — nothing changed");
            lines.AddRange(File.ReadAllText(config).TrimEnd().Split('\n').Select(l => "  " + l.TrimEnd('\r')));
            if (request.RdAgent is not null || request.Aistock is not null)
                lines.Add("to change it, edit the file, or remove it and run setup again");
            lines.Add("next: rdbridge init");
            return new SetupOutcome(ExitCodes.Ok, lines, false);
        }
        if (request.RdAgent is null || request.Aistock is null)
        {
            return Refuse(lines, $"no {SettingsLoader.DefaultFileName} here yet; setup needs both folders: " +
                "rdbridge setup --rdagent /path/to/RD-Agent-main --aistock /path/to/AIstock");
        }
        var rdagent = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.RdAgent));
        var aistock = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.Aistock));
        if (!Directory.Exists(rdagent))
            return Refuse(lines, $"--rdagent '{rdagent}' is not a folder; give the RD-Agent-main folder");
        if (File.Exists(aistock)) return Refuse(lines, $"--aistock '{aistock}' is a file; give a folder");

        var survey = RdAgentSurvey.Of(rdagent, Path.Combine(rdagent, "RDagentDB", "registry.sqlite"),
            Path.Combine(rdagent, "log"));
        lines.Add($"RD-Agent folder {rdagent}:");
        lines.Add(survey.HasRegistry
            ? $"  registry {survey.RegistryPath} (the AIstock fork's): {Counted.Of(survey.TaskRuns, "task run")}, " +
                Counted.Of(survey.Loops, "loop")
            : survey.HasLog
                ? $"  log only (upstream RD-Agent writes no registry): {Counted.Of(survey.TaskRuns, "task run")}, " +
                    $"{Counted.Of(survey.Loops, "loop")} in log/; init creates the registry from it"
                : "  neither a registry (RDagentDB/registry.sqlite) nor a log (log/) yet: init will find nothing to " +
                    "import until RD-Agent has run here");
        foreach (var (spelling, count, example) in survey.Spellings)
            lines.Add($"  stored paths {StoredSpellings.Label(spelling),-9} {count,4}  e.g. {example}");
        lines.Add($"AIstock folder {aistock}" +
            (Directory.Exists(aistock) ? "" : " (does not exist yet: init creates it)"));

        var maps = request.Maps.ToList();
        var stored = survey.StoredWorkspacePaths.Concat(survey.StoredLogPaths.Select(l => l.Stored)).ToList();
        if (maps.Count > 0)
        {
            var map = new PathMap(maps.Select(m => new KeyValuePair<string, string>(m.Key, Path.GetFullPath(m.Value))),
                rdagent);
            var resolved = stored.Count(s => map.Map(s).Local is { } l && Path.Exists(l));
            foreach (var m in maps) lines.Add($"path map '{m.Key}' → '{Path.GetFullPath(m.Value)}' (given by --map)");
            lines.Add($"  {resolved} of {Counted.Of(stored.Count, "sampled stored path")} " +
                $"{(resolved == 1 ? "resolves" : "resolve")} with it");
            if (stored.Count > 0 && resolved == 0)
            {
                return Refuse(lines, $"none of the {Counted.Of(stored.Count, "sampled stored path")} " +
                    $"(e.g. '{stored[0]}') " +
                    "resolves with the --map given; check its two sides");
            }
        }
        else
        {
            var inference = PathMapInference.Infer(stored, rdagent);
            if (inference.IsAmbiguous)
            {
                foreach (var a in inference.Ambiguous)
                {
                    lines.Add($"  '{a.Stored}' fits more than one folder:");
                    lines.AddRange(a.Candidates.Select(c => $"    {c}"));
                }
                var options = inference.Ambiguous[0].Options;
                return Refuse(lines, "the path map is ambiguous (above): say which folder holds RD-Agent's " +
                    "workspaces with --map STORED_PREFIX=LOCAL_FOLDER, one of " +
                    string.Join(" or ", options.Select(o => $"--map \"{o.Key}={o.Value}\"")));
            }
            if (inference.NothingMatched)
            {
                return Refuse(lines, $"none of the {Counted.Of(stored.Count, "sampled stored path")} (e.g. " +
                    $"'{inference.Unmatched[0]}') ends in a folder found under {rdagent} (searched " +
                    $"{PathMapInference.SearchDepth} levels deep); if the workspaces live elsewhere, say where with " +
                    "--map STORED_PREFIX=LOCAL_FOLDER");
            }
            foreach (var e in inference.Entries)
            {
                lines.Add($"path map '{e.StoredPrefix}' → '{e.LocalPrefix}'");
                lines.Add($"  why: {Counted.Of(e.Matched, "sampled stored path")} " +
                    $"{(e.Matched == 1 ? "ends in a folder" : "end in folders")} found there, e.g. '{e.Example}' " +
                    $"is '{e.ExampleLocal}'");
                maps.Add(new(e.StoredPrefix, e.LocalPrefix));
            }
            if (inference.AlreadyLocal.Count > 0)
            {
                lines.Add($"  {Counted.Of(inference.AlreadyLocal.Count, "stored path")} " +
                    $"{(inference.AlreadyLocal.Count == 1 ? "is" : "are")} this machine's own: no entry needed");
            }
            if (inference.Entries.Count == 0 && inference.AlreadyLocal.Count == 0)
                lines.Add("path map: none needed (no stored paths to translate)");
            if (inference.Unmatched.Count > 0)
            {
                lines.Add($"  {Counted.Of(inference.Unmatched.Count, "stored path")} " +
                    $"{(inference.Unmatched.Count == 1 ? "fits" : "fit")} no folder here (e.g. " +
                    $"'{inference.Unmatched[0]}'): those workspaces are not on this machine; init names their loops");
            }
        }

        var json = new JsonObject
        {
            ["rdagent"] = new JsonObject { ["root"] = rdagent },
            ["pathMap"] = new JsonObject(maps.Select(m =>
                new KeyValuePair<string, JsonNode?>(m.Key, Path.GetFullPath(m.Value)))),
            ["aistock"] = new JsonObject { ["root"] = aistock },
        };
        if (request.StrategiesLib is { } lib) json["rdagent"]!["strategiesLib"] = Path.GetFullPath(lib);
        AtomicFile.WriteBytes(config, CanonicalJson.ToFileBytes(json));
        lines.Add($"wrote {config}");
        lines.Add("next: rdbridge init   (then 'rdbridge serve' from this folder opens the UI on this data)");
        return new SetupOutcome(ExitCodes.Ok, lines, true);
    }

    private static SetupOutcome Refuse(List<string> lines, string why)
    {
        lines.Add($"error: {why}; nothing was written");
        return new SetupOutcome(ExitCodes.UsageError, lines, false);
    }
}
