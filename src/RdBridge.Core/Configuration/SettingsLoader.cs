using Microsoft.Extensions.Configuration;

namespace RdBridge.Configuration;

/// <summary>
/// Reads <c>rdbridge.json</c>, then <c>RDBRIDGE_*</c> environment variables, then command-line overrides, in that
/// order of precedence (the .NET configuration conventions). Relative paths resolve against the config file's folder.
/// </summary>
public static class SettingsLoader
{
    public const string DefaultFileName = "rdbridge.json";
    public const string EnvironmentPrefix = "RDBRIDGE_";

    private static readonly HashSet<string> KnownSections = new(StringComparer.OrdinalIgnoreCase)
    { "rdagent", "pathMap", "aistock", "sources", "server" };

    /// <param name="rdAgentOptional">
    /// The command works on the AIstock side alone (<c>import --catalogs DIR</c> on a machine that only has catalog
    /// files copied to it), so a missing <c>rdagent.root</c> is no error there.
    /// </param>
    public static RdBridgeSettings Load(string? configPath, IEnumerable<KeyValuePair<string,
        string?>>? overrides = null,
        bool rdAgentOptional = false)
    {
        var explicitPath = configPath is not null;
        var path = Path.GetFullPath(configPath ?? DefaultFileName);
        var builder = new ConfigurationBuilder();
        if (File.Exists(path))
        {
            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }
        else if (explicitPath)
        {
            throw new ConfigurationException($"config file '{path}' does not exist; pass --config with an existing "
                + $"file, or run 'rdbridge sample --out DIR' to create one");
        }

        builder.AddInMemoryCollection(SettingsFromEnvironment(Environment.GetEnvironmentVariables()));
        if (overrides is not null)
            builder.AddInMemoryCollection(overrides);

        IConfigurationRoot config;
        try { config = builder.Build(); }
        catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new ConfigurationException($"config file '{path}' is not valid JSON: "
                + $"{e.InnerException?.Message ?? e.Message}; fix the file and try again");
        }
        return FromConfiguration(config, path, rdAgentOptional);
    }

    /// <summary>
    /// The <c>RDBRIDGE_&lt;SECTION&gt;__&lt;KEY&gt;</c> variables whose section is one of rdbridge.json's, as
    /// configuration
    /// keys. Other variables with the prefix are not settings (<c>RDBRIDGE_DEBUG</c>, which the error messages tell
    /// users to set, or a tool's own variable) and are left alone rather than refused as unknown sections.
    /// </summary>
    internal static IEnumerable<KeyValuePair<string,
        string?>> SettingsFromEnvironment(System.Collections.IDictionary variables)
    {
        var settings = new List<KeyValuePair<string, string?>>();
        foreach (System.Collections.DictionaryEntry v in variables)
        {
            if (v.Key is not string name || !name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                continue;
            var parts = name[EnvironmentPrefix.Length..].Split("__");
            if (parts.Length < 2 || parts.Any(p => p.Length == 0) || !KnownSections.Contains(parts[0])) continue;
            settings.Add(new(string.Join(':', parts), v.Value as string));
        }
        // Sorted, so that two spellings of one setting resolve the same way whatever order the environment lists them
        // in.
        return settings.OrderBy(s => s.Key, StringComparer.Ordinal);
    }

    internal static RdBridgeSettings FromConfiguration(IConfiguration config, string configPath,
        bool rdAgentOptional = false)
    {
        var baseDir = Path.GetDirectoryName(configPath)!;
        foreach (var section in config.GetChildren())
        {
            if (!KnownSections.Contains(section.Key) && !section.Key.StartsWith('$'))
            {
                throw new ConfigurationException($"unknown configuration section '{section.Key}' in {configPath}; "
                    + $"known sections are {string.Join(", ", KnownSections)}");
            }
        }

        SettingsSchema.Check(config, configPath);
        var sources = ReadSources(config, configPath);
        var rdagentRootRaw = config["rdagent:root"];
        // A consumer that only pulls from publishers needs no RD-Agent directory of its own.
        var hasRdAgent = !string.IsNullOrWhiteSpace(rdagentRootRaw);
        if (!hasRdAgent && sources.Count == 0 && !rdAgentOptional)
        {
            throw new ConfigurationException($"'rdagent.root' is not set; put it in {configPath} "
                + $"(\"rdagent\": {{ \"root\": \"/path/to/RD-Agent-main\" }}) or set {EnvironmentPrefix}RDAGENT__ROOT "
                + $"— or, on a machine that only pulls from publishers, list them under \"sources\"");
        }

        var rdagentRoot = hasRdAgent ? Resolve(baseDir, rdagentRootRaw!) : Path.Combine(baseDir, ".no-rdagent-root");

        var aistockRootRaw = config["aistock:root"];
        if (string.IsNullOrWhiteSpace(aistockRootRaw))
        {
            throw new ConfigurationException($"'aistock.root' is not set; put it in {configPath} "
                + $"(\"aistock\": {{ \"root\": \"/path/to/AIstock\" }}) or set {EnvironmentPrefix}AISTOCK__ROOT");
        }

        var aistockRoot = Resolve(baseDir, aistockRootRaw);
        // A root that is a file would fail later with a bare I/O error far from the setting that caused it.
        foreach (var (setting, root) in new[] { ("aistock.root", aistockRoot), ("rdagent.root", hasRdAgent
            ? rdagentRoot : null) })
        {
            if (root is not null && File.Exists(root))
            {
                throw new ConfigurationException(
                    $"'{setting}' names a file, '{root}'; it must be a folder — fix it in {configPath}");
            }
        }

        var entries = new List<KeyValuePair<string, string>>();
        foreach (var entry in config.GetSection("pathMap").GetChildren())
        {
            // The configuration system splits keys on ':' — a key like "F:/Dev" arrives as section "F" with child
            // "/Dev".
            foreach (var (from, to) in Flatten(entry))
            {
                if (string.IsNullOrWhiteSpace(to))
                {
                    throw new ConfigurationException($"pathMap entry '{from}' has no local path; give it one, "
                        + $"e.g. \"{from}\": \"/home/me/RD-Agent-main\"");
                }

                entries.Add(new(from, Resolve(baseDir, to)));
            }
        }

        if (PathMap.Conflicts(entries) is [_, ..] conflicts)
        {
            throw new ConfigurationException(string.Join("; ", conflicts) +
                $" — keep one target per stored path in {configPath}");
        }

        var logRoot = Resolve(rdagentRoot, config["rdagent:logRoot"] ?? "log");
        var workspaceRoots = WorkspaceRoots(config, rdagentRoot);

        var database = config["aistock:database"];
        database = string.IsNullOrWhiteSpace(database)
            ? Path.Combine(aistockRoot, "aistock.db")
            : LooksLikeConnectionString(database) ? database : Resolve(aistockRoot, database);

        return new RdBridgeSettings
        {
            ConfigPath = configPath,
            RdAgentRoot = rdagentRoot,
            RegistryPath = Resolve(rdagentRoot,
                config["rdagent:registry"] ?? Path.Combine("RDagentDB", "registry.sqlite")),
            LogRoot = logRoot,
            WorkspaceRoot = workspaceRoots[0],
            WorkspaceRoots = workspaceRoots,
            PathMap = new PathMap(entries, rdagentRoot, hasRdAgent ? [rdagentRoot, logRoot, .. workspaceRoots] : null),
            BundleDirectory = Resolve(rdagentRoot, config["rdagent:bundles"] ?? "production_bundles"),
            CatalogDirectory = Resolve(rdagentRoot, config["rdagent:catalogs"] ?? "rdagent_data"),
            StrategiesLibRoot = Resolve(baseDir, config["rdagent:strategiesLib"] ?? Path.Combine(
                Path.GetDirectoryName(rdagentRoot.TrimEnd('/', '\\')) ?? rdagentRoot, "rd-strategies-lib")),
            BackupDirectory = Resolve(rdagentRoot, config["rdagent:backups"] ?? "backups"),
            AistockRoot = aistockRoot,
            AistockDatabase = database,
            AistockCatalogDirectory = Resolve(aistockRoot, config["aistock:catalogs"] ?? "rdagent_data"),
            AssetCacheDirectory = Resolve(aistockRoot,
                config["aistock:assets"] ?? Path.Combine("rdagent_assets", "bundles")),
            Sources = sources,
            ServerUrls = ReadUrls(config, configPath),
            ServerToken = string.IsNullOrWhiteSpace(config["server:token"]) ? null : config["server:token"],
            HasRdAgent = hasRdAgent,
            PublishInterval = TimeSpan.FromSeconds(ReadSeconds(config, "server:publishInterval", 60, configPath)),
        };
    }

    /// <summary><c>rdagent.workspaceRoot</c>: one folder or a list of them (workspaces on several disks).</summary>
    private static IReadOnlyList<string> WorkspaceRoots(IConfiguration config, string rdagentRoot)
    {
        var listed = config.GetSection("rdagent:workspaceRoot").GetChildren()
            .Select(c => c.Value).Where(v => !string.IsNullOrWhiteSpace(v))
            .Select(v => Resolve(rdagentRoot, v!)).ToList();
        if (listed.Count > 0) return listed;
        var single = config["rdagent:workspaceRoot"] ?? Path.Combine("git_ignore_folder", "RD-Agent_workspace");
        return [Resolve(rdagentRoot, single)];
    }

    /// <summary><c>"sources"</c>: a list of base URLs, or of objects with <c>name</c>, <c>url</c> and
    /// <c>token</c>.</summary>
    private static List<SourceSettings> ReadSources(IConfiguration config, string configPath)
    {
        var list = new List<SourceSettings>();
        foreach (var item in config.GetSection("sources").GetChildren())
        {
            var url = item.Value ?? item["url"];
            if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https"))
            {
                throw new ConfigurationException($"sources[{item.Key}] in {configPath} is not an http(s) URL "
                    + $"('{url}'); write it as \"http://rdagent-host:8787\" "
                    + $"or {{ \"name\": \"gpu1\", \"url\": \"http://…\" }}");
            }

            var name = item["name"] ?? $"{uri.Host}:{uri.Port}";
            if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')))
            {
                throw new ConfigurationException(
                    $"sources[{item.Key}] name '{name}' may only use letters, digits, '-', '_', '.' and ':'");
            }

            if (list.Any(s => s.Name == name))
            {
                throw new ConfigurationException(
                    $"two sources are named '{name}' in {configPath}; give each a distinct \"name\"");
            }

            list.Add(new SourceSettings(name, new Uri(uri.ToString().TrimEnd('/') + "/"), item["token"]));
        }
        return list;
    }

    private static double ReadSeconds(IConfiguration config, string key, double fallback, string configPath)
    {
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        if (!double.TryParse(raw, System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var v) || v < 0)
        {
            throw new ConfigurationException(
                $"{key.Replace(':', '.')} in {configPath} is '{raw}'; give a number of seconds (0 turns it off)");
        }

        return v;
    }

    private static List<string> ReadUrls(IConfiguration config, string configPath)
    {
        var raw = config["server:urls"];
        var urls = (raw ?? "http://127.0.0.1:8787")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var u in urls)
        {
            if (!Uri.TryCreate(u.Replace("*", "0.0.0.0").Replace("+", "0.0.0.0"), UriKind.Absolute, out var parsed)
                || parsed.Scheme is not ("http" or "https"))
            {
                throw new ConfigurationException($"server.urls in {configPath} holds '{u}', which is not an http(s) "
                    + $"URL; write e.g. \"http://127.0.0.1:8787\"");
            }
        }

        return urls;
    }

    private static IEnumerable<(string From, string? To)> Flatten(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            yield return (section.Path["pathMap:".Length..], section.Value);
            yield break;
        }
        foreach (var child in children)
        {
            foreach (var item in Flatten(child))
                yield return item;
        }
    }

    public static bool LooksLikeConnectionString(string value) =>
        value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || (value.Contains('=') && value.Contains("host", StringComparison.OrdinalIgnoreCase));

    private static string Resolve(string baseDir, string value) =>
        Path.GetFullPath(Path.IsPathRooted(value) ? value : Path.Combine(baseDir, value));
}
