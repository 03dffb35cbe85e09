using System.CommandLine;
using RdBridge.Configuration;

namespace RdBridge.Cli;

/// <summary>
/// The settings of a verb: the rdbridge.json found where the user stands (<see cref="ConfigLocation"/>), then the
/// environment, then <c>--set</c>. A file other than ./rdbridge.json is named on stderr, so stdout stays the verb's.
/// </summary>
internal static class ConfigFile
{
    public static RdBridgeSettings Settings(ParseResult p, bool rdAgentOptional = false)
    {
        var overrides = new List<KeyValuePair<string, string?>>();
        foreach (var item in p.GetValue(Verb.SetOption) ?? [])
        {
            var eq = item.IndexOf('=');
            if (eq <= 0)
            {
                throw new ConfigurationException(
                    $"--set '{item}' is not KEY=VALUE; write it like --set aistock:database=/path/aistock.db");
            }

            overrides.Add(new(item[..eq].Replace('.', ':'), item[(eq + 1)..]));
        }
        var location = ConfigLocation.Find(p.GetValue(Verb.ConfigOption));
        if (location.Note is { } note) p.InvocationConfiguration.Error.WriteLine(note);
        try
        {
            return SettingsLoader.Load(location.Path, overrides, rdAgentOptional);
        }
        catch (ConfigurationException e) when (location.Path is null)
        {
            // No file anywhere: the first thing to do is to write one.
            throw new ConfigurationException($"{e.Message}. No {SettingsLoader.DefaultFileName} here, in a parent " +
                $"folder or in {ConfigLocation.EnvironmentVariable}: run " +
                "'rdbridge setup --rdagent DIR --aistock DIR' " +
                "to write one");
        }
    }
}
