using System.CommandLine;
using RdBridge.Configuration;
using RdBridge.Setup;

namespace RdBridge.Cli;

/// <summary>
/// <c>rdbridge setup</c>: writes <c>rdbridge.json</c> from the user's two folders, as <c>git init</c> or <c>restic
/// init --repo</c> create their configuration where the user stands. Named <c>setup</c>, not <c>init</c>, because
/// <c>init</c> is the guide's 完整初始化 (the first full run), which comes next.
/// </summary>
internal static class SetupCommand
{
    public static Command Create(Io io)
    {
        var rdagent = new Option<string?>("--rdagent") { Description = "The RD-Agent folder (RD-Agent-main)" };
        var aistock = new Option<string?>("--aistock")
        {
            Description = "The AIstock folder (created by init when it does not exist)",
        };
        var strategies = new Option<string?>("--strategies")
        {
            Description = "The strategies library (default: rd-strategies-lib beside the RD-Agent folder)",
        };
        var map = new Option<string[]>("--map")
        {
            Description = "A path map entry STORED_PREFIX=LOCAL_FOLDER, when the inference cannot tell (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var cmd = new Command("setup",
            "Look at your RD-Agent and AIstock folders, infer the path map, write ./rdbridge.json (or --config) and " +
            "say what to run next; on a configured folder, show its configuration and change nothing")
            { rdagent, aistock, strategies, map };
        cmd.SetAction(p => Verb.Guarded(io, () =>
        {
            var maps = new List<KeyValuePair<string, string>>();
            foreach (var item in p.GetValue(map) ?? [])
            {
                var eq = item.LastIndexOf('=');
                if (eq <= 0 || eq == item.Length - 1)
                {
                    throw new ArgumentException($"--map '{item}' is not STORED_PREFIX=LOCAL_FOLDER; write it like " +
                        "--map \"F:/Dev/RD-Agent-main=/home/me/RD-Agent-main\"");
                }
                maps.Add(new(item[..eq], item[(eq + 1)..]));
            }
            // Where the user stands (or --config), never a parent's: setup writes this folder's configuration.
            var config = p.GetValue(Verb.ConfigOption) ?? SettingsLoader.DefaultFileName;
            var outcome = ConfigSetup.Run(new SetupRequest(config, p.GetValue(rdagent), p.GetValue(aistock),
                p.GetValue(strategies), maps));
            foreach (var line in outcome.Lines)
                (line.StartsWith("error:", StringComparison.Ordinal) ? io.Err : io.Out).WriteLine(line);
            return outcome.ExitCode;
        }));
        return cmd;
    }
}
