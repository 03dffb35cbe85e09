namespace RdBridge.Configuration;

/// <summary>
/// Which <c>rdbridge.json</c> a command uses when <c>--config</c> does not say: the current folder's, else the
/// nearest parent's (as git finds its repository), else <c>RDBRIDGE_CONFIG</c>, else the demo's beside the current
/// folder (so <c>rdbridge serve</c> right after <c>rdbridge demo</c> shows the demo).
/// </summary>
/// <param name="Path">the file, or null when there is none (settings may still come from the environment)</param>
/// <param name="Why">how it was found, for the line that says which file is used</param>
public sealed record ConfigLocation(string? Path, string Why)
{
    public const string EnvironmentVariable = "RDBRIDGE_CONFIG";
    public const string DemoFolder = "demo";

    /// <summary>True when the file is not <c>./rdbridge.json</c>: the command then says which one it uses.</summary>
    public bool IsElsewhere { get; init; }

    /// <summary>The line a command prints (on stderr) when it uses a file other than ./rdbridge.json.</summary>
    public string? Note => IsElsewhere && Path is not null ? $"using {Path} ({Why})" : null;

    public static ConfigLocation Find(string? explicitPath, string currentDirectory, string? environmentValue)
    {
        if (explicitPath is not null) return new ConfigLocation(System.IO.Path.GetFullPath(explicitPath), "--config");
        var here = System.IO.Path.Combine(currentDirectory, SettingsLoader.DefaultFileName);
        if (File.Exists(here)) return new ConfigLocation(here, "current folder");
        for (var dir = Directory.GetParent(currentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, SettingsLoader.DefaultFileName);
            if (File.Exists(candidate))
                return new ConfigLocation(candidate, "found in a parent folder") { IsElsewhere = true };
        }
        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            var fromEnvironment = System.IO.Path.GetFullPath(environmentValue, currentDirectory);
            if (!File.Exists(fromEnvironment))
            {
                throw new ConfigurationException($"{EnvironmentVariable} names '{fromEnvironment}', which does not " +
                    $"exist; point it at an rdbridge.json, or unset it");
            }
            return new ConfigLocation(fromEnvironment, EnvironmentVariable) { IsElsewhere = true };
        }
        var demo = System.IO.Path.Combine(currentDirectory, DemoFolder, SettingsLoader.DefaultFileName);
        if (File.Exists(demo))
        {
            return new ConfigLocation(demo, "the demo's: no rdbridge.json here or above; 'rdbridge setup' writes " +
                "one for your own folders") { IsElsewhere = true };
        }
        return new ConfigLocation(null, "none found");
    }

    /// <summary>From where the process stands, with its environment.</summary>
    public static ConfigLocation Find(string? explicitPath) => Find(explicitPath, Environment.CurrentDirectory,
        Environment.GetEnvironmentVariable(EnvironmentVariable));
}
