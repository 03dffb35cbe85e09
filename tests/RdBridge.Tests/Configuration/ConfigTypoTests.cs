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

    [Fact]
    public void Config_typo_aistock_databse_is_exit_2_naming_the_nearest_key()
    {
        var (code, _, err, db) = Run(c => c["aistock"]!["databse"] = "Host=db;Database=aistock");
        Assert.Equal(2, code);
        Assert.Contains("unknown setting 'aistock.databse'", err);
        Assert.Contains("did you mean 'aistock.database'", err);
        Assert.False(File.Exists(db), "the local SQLite file was used instead");

        (code, _, err, _) = Run(c => c["rdagent"]!["logroot"] = "log");   // case only: the same key
        Assert.DoesNotContain("unknown setting", err);
        (code, _, err, _) = Run(c => c["rdagent"]!["strategyLib"] = "lib");
        Assert.Equal(2, code);
        Assert.Contains("did you mean 'rdagent.strategiesLib'", err);
        (code, _, err, _) = Run(c => c["server"] = new JsonObject { ["url"] = "http://127.0.0.1:1" });
        Assert.Equal(2, code);
        Assert.Contains("did you mean 'server.urls'", err);
    }

    [Fact]
    public void Config_typo_wrong_types_are_exit_2_sources_as_a_string_first()
    {
        var (code, _, err, _) = Run(c => c["sources"] = "http://gpu1:8787");
        Assert.Equal(2, code);
        Assert.Contains("setting 'sources'", err);
        Assert.Contains("must be a list", err);

        (code, _, err, _) = Run(c => c["aistock"]!["database"] = new JsonObject { ["host"] = "db" });
        Assert.Equal(2, code);
        Assert.Contains("'aistock.database'", err);
        Assert.Contains("must be a text", err);

        (code, _, err, _) = Run(c => c["sources"] = new JsonArray(new JsonObject { ["uri"] = "http://gpu1:8787" }));
        Assert.Equal(2, code);
        Assert.Contains("'sources[0].uri'", err);
        Assert.Contains("did you mean 'url'", err);
    }
}
