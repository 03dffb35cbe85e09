using System.Text.Json.Nodes;

namespace RdBridge.Tests.Configuration;

/// <summary>
/// Issue 26, class 8: a pathMap giving one stored path in several spellings with different local folders is
/// refused when the configuration is loaded — exit 2 naming both keys and both targets — instead of one mapping
/// silently winning.
/// </summary>
public class AmbiguousPathMapTests
{
    private static (int Code, string Err) Doctor(TempDir dir, JsonObject pathMap)
    {
        Directory.CreateDirectory(dir["AIstock"]);
        Directory.CreateDirectory(dir["RD-Agent-main"]);
        var config = new JsonObject
        {
            ["rdagent"] = new JsonObject { ["root"] = "RD-Agent-main" },
            ["aistock"] = new JsonObject { ["root"] = "AIstock" },
            ["pathMap"] = pathMap,
        };
        File.WriteAllText(dir["rdbridge.json"], config.ToJsonString());
        var e = new StringWriter();
        var code = RdBridge.Cli.Program.Run(["doctor", "--config", dir["rdbridge.json"]], new StringWriter(), e);
        return (code, e.ToString());
    }

    [Fact]
    public void Ambiguous_config_one_path_in_three_spellings_to_different_folders_is_exit_2_naming_both()
    {
        using var dir = new TempDir();
        var (code, err) = Doctor(dir, new JsonObject
        {
            [@"F:\Dev\X"] = dir["a"],
            ["F:/Dev/X"] = dir["a"],
            ["/mnt/f/Dev/X"] = dir["b"],
        });
        Assert.Equal(2, code);
        // Each key that disagrees with another, both targets, the one stored path they share (as the path map
        // compares it: drive in lower case, forward slashes), and the file to fix. The two keys with the same
        // target are no conflict with each other.
        string Conflict(string other) => $"pathMap keys '/mnt/f/Dev/X' → '{dir["b"]}' and '{other}' → '{dir["a"]}' "
            + "are the same stored path 'f:/Dev/X' mapped to different local folders";
        Assert.Equal($"error: {Conflict("F:/Dev/X")}; {Conflict(@"F:\Dev\X")} — keep one target per stored path in "
            + $"{dir["rdbridge.json"]}\n", err);
        Assert.False(File.Exists(dir["AIstock/aistock.db"]), "the run went on with one mapping picked");
    }

    [Fact]
    public void Ambiguous_config_trailing_slash_counts_and_the_same_target_twice_is_accepted()
    {
        using (var dir = new TempDir())
        {
            // A trailing slash and a WSL spelling are still the same stored prefix.
            var (code, err) = Doctor(dir, new JsonObject
            {
                ["G:/Data/"] = dir["one"], ["/mnt/g/Data"] = dir["two"],
            });
            Assert.Equal(2, code);
            Assert.Equal($"error: pathMap keys '/mnt/g/Data' → '{dir["two"]}' and 'G:/Data/' → '{dir["one"]}' are the "
                + "same stored path 'g:/Data' mapped to different local folders — keep one target per stored path in "
                + $"{dir["rdbridge.json"]}\n", err);
        }

        using (var dir = new TempDir())
        {
            // Same prefix, same folder (one with a trailing slash): not ambiguous; a different path is no conflict.
            var (_, err) = Doctor(dir, new JsonObject
            {
                [@"F:\Dev\X"] = dir["a"], ["/mnt/f/Dev/X"] = dir["a"] + "/", ["F:/Dev/Y"] = dir["b"],
            });
            Assert.DoesNotContain("different local folders", err);
        }
    }
}
