using RdBridge.Layout;

namespace RdBridge.Configuration;

/// <summary>Every location RdBridge works with, resolved to absolute paths once, at start-up.</summary>
public sealed record RdBridgeSettings
{
    public required string ConfigPath { get; init; }
    public required string RdAgentRoot { get; init; }
    public required string RegistryPath { get; init; }
    public required string LogRoot { get; init; }
    public required string WorkspaceRoot { get; init; }
    /// <summary>
    /// Every folder workspaces may live in (<c>rdagent.workspaceRoot</c>, one or a list); the first is
    /// <see cref="WorkspaceRoot"/>.
    /// </summary>
    public IReadOnlyList<string> WorkspaceRoots { get; init; } = [];
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

    /// <summary>
    /// Publishers (RdBridge serving the RD-Agent side on other machines) that <c>sync</c> pulls from.
    /// </summary>
    public IReadOnlyList<SourceSettings> Sources { get; init; } = [];
    /// <summary>Where <c>serve</c> listens; 127.0.0.1 unless configured otherwise.</summary>
    public IReadOnlyList<string> ServerUrls { get; init; } = ["http://127.0.0.1:8787"];
    /// <summary>The bearer token state-changing endpoints require (mandatory when bound beyond loopback).</summary>
    public string? ServerToken { get; init; }
    /// <summary>How often <c>serve --role publisher</c> publishes what RD-Agent changed; zero turns it off.</summary>
    public TimeSpan PublishInterval { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>False for a consumer-only configuration (no <c>rdagent.root</c>, only <c>sources</c>).</summary>
    public bool HasRdAgent { get; init; } = true;

    /// <summary>The RD-Agent side's bundle folder (<c>production_bundles/</c>).</summary>
    public BundleFolder Bundles => new(BundleDirectory);

    /// <summary>The AIstock side's asset cache (<c>rdagent_assets/bundles/</c>).</summary>
    public AssetCache AssetCache => new(AssetCacheDirectory);

    public string StrategiesLibFile => Path.Combine(StrategiesLibRoot, "rd_strategies_lib", "generated.py");
    public bool AistockDatabaseIsPostgres => SettingsLoader.LooksLikeConnectionString(AistockDatabase);
}

/// <summary>
/// One publisher to pull from: a name (part of every record's provenance), its base URL and optional token.
/// </summary>
public sealed record SourceSettings(string Name, Uri Url, string? Token);

/// <summary>A configuration problem: the message says what to change. Exit code 2.</summary>
public sealed class ConfigurationException(string message) : RdBridgeException(message, ExitCodes.UsageError);
