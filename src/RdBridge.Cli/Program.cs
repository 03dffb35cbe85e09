using System.CommandLine;

namespace RdBridge.Cli;

/// <summary>The <c>rdbridge</c> command line: one verb per pipeline stage, plus init, sync, show, sample and
/// demo. Each verb lives in its own <c>*Command.cs</c>; what they share is in <c>Verb.cs</c>.</summary>
public static class Program
{
    public const int Ok = ExitCodes.Ok, ItemFailures = ExitCodes.ItemFailures, UsageError = ExitCodes.UsageError;

    public static int Main(string[] args)
    {
        Console.OutputEncoding = System.Text.Encoding.UTF8;
        // A live progress bar only where a person watches: a terminal, not a pipe, a file or CI.
        var live = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null
                && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb")
            ? new TerminalProgress(Console.Out) : null;
        using var interrupt = new Interruption();
        return Run(args, Console.Out, Console.Error, live, interrupt);
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Run(args, stdout, stderr, null, null);

    private static int Run(string[] args, TextWriter stdout, TextWriter stderr, TerminalProgress? live,
        Interruption? interrupt)
    {
        var root = new RootCommand("RdBridge: links RD-Agent research output (loops, workspaces, factors, models, " +
            "strategies) to AIstock with verified asset bundles.");
        root.Options.Add(Verb.ConfigOption);
        root.Options.Add(Verb.SetOption);
        var io = new Io(stdout, stderr, live) { Interrupt = interrupt };

        root.Subcommands.Add(SampleCommand.Create(io));
        root.Subcommands.Add(DemoCommand.Create(io));
        root.Subcommands.Add(SetupCommand.Create(io));
        root.Subcommands.Add(RestoreCommand.Create(io));
        root.Subcommands.Add(ListCommand.Create(io));
        root.Subcommands.Add(DiscoverCommand.Create(io));
        root.Subcommands.Add(DoctorCommand.Create(io));
        root.Subcommands.Add(BackupCommand.Create(io));
        root.Subcommands.Add(BackfillCommand.Create(io));
        root.Subcommands.Add(BundleCommand.Create(io));
        root.Subcommands.Add(ExportCommand.Create(io));
        root.Subcommands.Add(ImportCommand.Create(io));
        root.Subcommands.Add(SyncAssetsCommand.Create(io));
        root.Subcommands.Add(VerifyCommand.Create(io));
        root.Subcommands.Add(PipelineCommand.Create(io, "init",
            "Full initialisation (完整初始化): doctor, backup, backfill, bundle, export, import, sync-assets, verify"));
        root.Subcommands.Add(PipelineCommand.Create(io, "sync", "Incremental update (增量补充): the same, for loops "
            + "whose registry rows or files changed since the last successful sync, or --since"));
        root.Subcommands.Add(SyncStatusCommand.Create(io));
        root.Subcommands.Add(PublishCommand.Create(io));
        root.Subcommands.Add(ServeCommand.Create(io));
        root.Subcommands.Add(ShowCommand.Create(io));
        root.Subcommands.Add(CompareCommand.Create(io));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine("Run 'rdbridge --help' (or 'rdbridge <verb> --help') for the options.");
            return UsageError;
        }
        return parse.Invoke(new InvocationConfiguration
        {
            Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false,
            // Interruption handles SIGINT and SIGTERM itself (the run stops at the next item, cleanly).
            ProcessTerminationTimeout = null,
        });
    }
}
