namespace RdBridge.Configuration;

/// <summary>Every location RdBridge works with, resolved to absolute paths once, at start-up.</summary>
public sealed record RdBridgeSettings
{
    public required string ConfigPath { get; init; }
    public required string RdAgentRoot { get; init; }
    public required string RegistryPath { get; init; }
    public required string LogRoot { get; init; }
    public required string WorkspaceRoot { get; init; }
    public required PathMap PathMap { get; init; }
    public required string BundleDirectory { get; init; }
    public required string CatalogDirectory { get; init; }
    public required string StrategiesLibRoot { get; init; }
    public required string BackupDirectory { get; init; }
    public required string AistockRoot { get; init; }
    /// <summary>A SQLite file path, or a PostgreSQL connection string.</summary>
    public required string AistockDatabase { get; init; }
    public required string AistockCatalogDirectory { get; init; }
    public required string AssetCacheDirectory { get; init; }

    public string StrategiesLibFile => Path.Combine(StrategiesLibRoot, "rd_strategies_lib", "generated.py");
    public bool AistockDatabaseIsPostgres => SettingsLoader.LooksLikeConnectionString(AistockDatabase);
}

/// <summary>A configuration problem: the message says what to change. Exit code 2.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
