using System.Text.Json.Nodes;

namespace RdBridge.Tests.Configuration;

/// <summary>
/// Issue 26, class 7: a typo or a wrong type in rdbridge.json is exit 2 naming the key and the nearest known one,
/// never a setting silently left at its default (the import going to the local SQLite file, no sources at all).
/// </summary>
public class ConfigTypoTests
{
    private static (int Code, string Out, string Err, string Db) Run(Action<JsonObject> edit)
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["AIstock"]);
        Directory.CreateDirectory(dir["RD-Agent-main"]);
        var config = new JsonObject
        {
            ["rdagent"] = new JsonObject { ["root"] = "RD-Agent-main" },
            ["aistock"] = new JsonObject { ["root"] = "AIstock" },
        };
        edit(config);
        File.WriteAllText(dir["rdbridge.json"], config.ToJsonString());
        var o = new StringWriter();
        var e = new StringWriter();
        var code = RdBridge.Cli.Program.Run(["doctor", "--config", dir["rdbridge.json"]], o, e);
        return (code, o.ToString(), e.ToString(), dir["AIstock/aistock.db"]);
    }

    /// <summary>The config file the run read: beside the AIstock folder whose database path it returns.</summary>
    private static string ConfigOf(string db) =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(db))!, "rdbridge.json");

    [Fact]
    public void Config_typo_aistock_databse_is_exit_2_naming_the_nearest_key()
    {
        var (code, _, err, db) = Run(c => c["aistock"]!["databse"] = "Host=db;Database=aistock");
        Assert.Equal(2, code);
        // The whole message: the key, the file, the nearest key and every key the section knows.
        Assert.Equal($"error: unknown setting 'aistock.databse' in {ConfigOf(db)}; did you mean 'aistock.database'?; "
            + "the keys of 'aistock' are root, database, catalogs, assets\n", err);
        Assert.False(File.Exists(db), "the local SQLite file was used instead");

        (code, _, err, _) = Run(c => c["rdagent"]!["logroot"] = "log");   // case only: the same key
        Assert.DoesNotContain("unknown setting", err);
        (code, _, err, db) = Run(c => c["rdagent"]!["strategyLib"] = "lib");
        Assert.Equal(2, code);
        Assert.Equal($"error: unknown setting 'rdagent.strategyLib' in {ConfigOf(db)}; did you mean "
            + "'rdagent.strategiesLib'?; the keys of 'rdagent' are root, logRoot, registry, workspaceRoot, bundles, "
            + "catalogs, strategiesLib, backups\n", err);
        (code, _, err, db) = Run(c => c["server"] = new JsonObject { ["url"] = "http://127.0.0.1:1" });
        Assert.Equal(2, code);
        Assert.Equal($"error: unknown setting 'server.url' in {ConfigOf(db)}; did you mean 'server.urls'?; the keys "
            + "of 'server' are urls, token, publishInterval\n", err);
    }

    [Fact]
    public void Config_typo_wrong_types_are_exit_2_sources_as_a_string_first()
    {
        var (code, _, err, db) = Run(c => c["sources"] = "http://gpu1:8787");
        Assert.Equal(2, code);
        Assert.Equal($"error: setting 'sources' in {ConfigOf(db)} must be a list; write it as \"sources\": "
            + "[\"http://rdagent-host:8787\"] or [{ \"name\": \"gpu1\", \"url\": \"http://…\" }]\n", err);

        (code, _, err, db) = Run(c => c["aistock"]!["database"] = new JsonObject { ["host"] = "db" });
        Assert.Equal(2, code);
        Assert.Equal($"error: setting 'aistock.database' in {ConfigOf(db)} must be a text; write it as "
            + "\"database\": \"…\"\n", err);

        (code, _, err, db) = Run(c => c["sources"] = new JsonArray(new JsonObject { ["uri"] = "http://gpu1:8787" }));
        Assert.Equal(2, code);
        Assert.Equal($"error: unknown setting 'sources[0].uri' in {ConfigOf(db)}; did you mean 'url'?; a source has "
            + "name, url and token\n", err);
    }
}
