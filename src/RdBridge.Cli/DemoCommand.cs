using System.CommandLine;
using RdBridge.Configuration;
using RdBridge.Runs;
using RdBridge.Sample;
using static RdBridge.Cli.Verb;
using static RdBridge.Cli.PipelineCommand;

namespace RdBridge.Cli;

/// <summary>A sample plus init on it, for a first look.</summary>
internal static class DemoCommand
{
    public static Command Create(Io io)
    {
        var outOpt = new Option<string>("--out")
        {
            Description = "Folder for the demo (default ./demo)", DefaultValueFactory = _ => "demo",
        };
        var taskRuns = new Option<int>("--task-runs")
        {
            DefaultValueFactory = _ => 2, Description = "Number of task runs",
        }.Within(1, 1000);
        var loops = new Option<int>("--loops") { DefaultValueFactory = _ => 4, Description = "Loops per task run" }
            .Within(1, 1000);
        var cmd = new Command("demo",
            "Write a sample into ./demo (or --out), run init on it and print the verification")
            { outOpt, taskRuns, loops };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var dir = Path.GetFullPath(p.GetValue(outOpt)!);
            var config = Path.Combine(dir, "rdbridge.json");
            if (!File.Exists(config))
            {
                new SampleGenerator(new SampleOptions(dir, p.GetValue(taskRuns), p.GetValue(loops))).Generate();
                io.Out.WriteLine($"sample written to {dir}");
            }
            else
            {
                io.Out.WriteLine($"using the existing sample in {dir}");
            }

            var context = new RunContext(SettingsLoader.Load(config), line => io.Out.WriteLine(line));
            var code = RunPipeline(io, context, "init", null, json: false);
            // serve finds ./demo/rdbridge.json by itself when nothing else is configured here; elsewhere, say which.
            var found = ConfigLocation.Find(null).Path == config;
            io.Out.WriteLine($"open the UI on the demo: rdbridge serve{(found ? "" : $" --config {config}")}, then " +
                $"{context.Settings.ServerUrls[0].TrimEnd('/')}/rdagent/factors in a browser");
            io.Out.WriteLine("for your own folders: rdbridge setup --rdagent DIR --aistock DIR, then rdbridge init");
            return code;
        }));
        return cmd;
    }
}
