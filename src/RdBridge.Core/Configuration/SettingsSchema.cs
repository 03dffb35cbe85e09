using Microsoft.Extensions.Configuration;

namespace RdBridge.Configuration;

/// <summary>
/// The keys rdbridge.json may hold and the shape of each, checked before any is used: a typo
/// (<c>aistock.databse</c>) or a wrong type (<c>"sources": "http://…"</c>) is a usage error naming the key and the
/// nearest known one, never a setting silently left at its default.
/// </summary>
internal static class SettingsSchema
{
    private enum Shape { Text, TextOrList, List }

    private static readonly Dictionary<string, Dictionary<string, Shape>> Sections =
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["rdagent"] = Keys(("root", Shape.Text), ("logRoot", Shape.Text), ("registry", Shape.Text),
                ("workspaceRoot", Shape.TextOrList), ("bundles", Shape.Text), ("catalogs", Shape.Text),
                ("strategiesLib", Shape.Text), ("backups", Shape.Text)),
            ["aistock"] = Keys(("root", Shape.Text), ("database", Shape.Text), ("catalogs", Shape.Text),
                ("assets", Shape.Text)),
            ["server"] = Keys(("urls", Shape.Text), ("token", Shape.Text), ("publishInterval", Shape.Text)),
        };

    private static readonly string[] SourceKeys = ["name", "url", "token"];

    private static Dictionary<string, Shape> Keys(params (string Key, Shape Shape)[] keys) =>
        keys.ToDictionary(k => k.Key, k => k.Shape, StringComparer.OrdinalIgnoreCase);

    public static void Check(IConfiguration config, string configPath)
    {
        foreach (var (name, keys) in Sections)
        {
            var section = config.GetSection(name);
            if (section.Value is not null)
                throw Wrong(name, "an object of settings", configPath, $"\"{name}\": {{ \"root\": \"…\" }}");
            foreach (var child in section.GetChildren())
            {
                var key = $"{name}.{child.Key}";
                if (!keys.TryGetValue(child.Key, out var shape))
                {
                    throw new ConfigurationException($"unknown setting '{key}' in {configPath}" +
                        Nearest(child.Key, keys.Keys, name) + $"; the keys of '{name}' are " +
                        string.Join(", ", keys.Keys));
                }

                var isList = child.Value is null && child.GetChildren().Any();
                if (isList && (shape == Shape.Text || !IsList(child)))
                    throw Wrong(key, "a text", configPath, $"\"{child.Key}\": \"…\"");
            }
        }

        var sources = config.GetSection("sources");
        if (sources.Value is not null || (sources.GetChildren().Any() && !IsList(sources)))
        {
            throw Wrong("sources", "a list", configPath,
                "\"sources\": [\"http://rdagent-host:8787\"] or [{ \"name\": \"gpu1\", \"url\": \"http://…\" }]");
        }

        foreach (var item in sources.GetChildren())
        {
            foreach (var field in item.GetChildren())
            {
                if (!SourceKeys.Contains(field.Key, StringComparer.OrdinalIgnoreCase))
                {
                    throw new ConfigurationException($"unknown setting 'sources[{item.Key}].{field.Key}' in " +
                        $"{configPath}" + Nearest(field.Key, SourceKeys, null) + "; a source has name, url and token");
                }
            }
        }

        var pathMap = config.GetSection("pathMap");
        if (pathMap.Value is not null)
            throw Wrong("pathMap", "an object", configPath, "\"pathMap\": { \"F:/Dev/RD-Agent\": \"/home/me/…\" }");
    }

    /// <summary>Whether a section's children are a JSON array's (0, 1, 2, …), as the configuration system keys them.
    /// </summary>
    private static bool IsList(IConfigurationSection section) =>
        section.GetChildren().Select((c, i) => c.Key == i.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .All(x => x);

    private static ConfigurationException Wrong(string key, string expected, string configPath, string example) =>
        new($"setting '{key}' in {configPath} must be {expected}; write it as {example}");

    /// <summary>"; did you mean 'aistock.database'?" when a known key is within two edits of the typo.</summary>
    private static string Nearest(string typo, IEnumerable<string> known, string? section)
    {
        var best = known.Select(k => (Key: k, Distance: Distance(typo.ToLowerInvariant(), k.ToLowerInvariant())))
            .OrderBy(x => x.Distance).First();
        var limit = Math.Max(2, typo.Length / 3);
        return best.Distance <= limit ? $"; did you mean '{(section is null ? "" : section + ".")}{best.Key}'?" : "";
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }

        return row[b.Length];
    }
}
