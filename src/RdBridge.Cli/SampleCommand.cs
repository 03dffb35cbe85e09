using System.CommandLine;
using RdBridge.IO;
using RdBridge.Sample;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>Writes a realistic RD-Agent output tree to try RdBridge on.</summary>
internal static class SampleCommand
{
    public static Command Create(Io io)
    {
        var outOpt = new Option<string>("--out") { Description = "Folder to write the sample into", Required = true };
        var taskRuns = new Option<int>("--task-runs")
        {
            Description = "Number of task runs", DefaultValueFactory = _ => 2,
        }.Within(1, 1000);
        var loops = new Option<int>("--loops") { Description = "Loops per task run", DefaultValueFactory = _ => 4 }
            .Within(1, 1000);
        var seed = new Option<int>("--seed")
        {
            Description = "Random seed; the same seed gives the same sample", DefaultValueFactory = _ => 42,
        }.Within(0, int.MaxValue);
        var kb = new Option<int>("--file-kb")
        {
            Description = "Size of each generated binary result file in KiB", DefaultValueFactory = _ => 8,
        }.Within(1, 1024 * 1024);
        var flavor = new Option<string>("--flavor")
        {
            Description = "Workspace shapes: upstream (RD-Agent HEAD), v0.8 (pip release), fork (AIstock's) or mixed",
            DefaultValueFactory = _ => "mixed",
        };
        var generation = new Option<string?>("--log-generation")
        {
            Description = "RD-Agent log layout of every task run: v0.3 (flat, no Loop_N folders), v0.5 (r/d/ef "
                + "segments), v0.8 or head (default: by flavor; mixed rotates all four)",
        };
        var noRegistry = new Option<bool>("--no-registry")
        {
            Description = "Write no registry, as upstream RD-Agent leaves none: init builds it from the log",
        };
        var cmd = new Command("sample",
            "Write a realistic RD-Agent output tree, an empty AIstock root and an rdbridge.json for them")
        {
            outOpt, taskRuns, loops, seed, kb, flavor, generation, noRegistry,
        };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var g = p.GetValue(generation);
            var o = new SampleOptions(Path.GetFullPath(p.GetValue(outOpt)!), p.GetValue(taskRuns), p.GetValue(loops),
                p.GetValue(seed), p.GetValue(kb), SampleFlavors.Parse(p.GetValue(flavor)!),
                g is null ? null : SampleLog.Parse(g), p.GetValue(noRegistry));
            if (o.TaskRuns < 1 || o.LoopsPerTaskRun < 1)
                throw new ArgumentException("--task-runs and --loops must be at least 1");
            new SampleGenerator(o).Generate();
            io.Out.WriteLine($"sample written to {o.OutDirectory}: {Counted.Of(o.TaskRuns, "task run")} × " +
                $"{Counted.Of(o.LoopsPerTaskRun, "loop")}; config {Path.Combine(o.OutDirectory, "rdbridge.json")}");
            return Ok;
        }));
        return cmd;
    }
}
