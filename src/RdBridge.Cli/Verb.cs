using System.CommandLine;
using System.Globalization;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Runs;

namespace RdBridge.Cli;

/// <summary>Where a verb writes: standard output, standard error and, where a person watches, a live progress
/// bar.</summary>
internal sealed record Io(TextWriter Out, TextWriter Err, TerminalProgress? Live)
{
    /// <summary>Signals asking the run to stop (the process's own; none when called in-process by a test).</summary>
    public Interruption? Interrupt { get; init; }
}

/// <summary>What every verb shares: the global --config and --set options, reading the settings, exit codes for
/// problems and printing a stage's report.</summary>
internal static class Verb
{
    public const int Ok = ExitCodes.Ok, ItemFailures = ExitCodes.ItemFailures, UsageError = ExitCodes.UsageError;

    internal static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = "Path of rdbridge.json (default: ./rdbridge.json, else the nearest parent folder's, else " +
            "$RDBRIDGE_CONFIG)", Recursive = true,
    };
    internal static readonly Option<string[]> SetOption = new("--set")
    {
        Description = "Override a setting, e.g. --set aistock:database=/tmp/a.db (repeatable)", Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Runs a verb, turning configuration and usage problems into exit code 2 with the message that says
    /// what to change.</summary>
    internal static int Guarded(Io io, Func<int> body)
    {
        try
        {
            var code = body();
            // A stage asked to stop returns what it finished; the exit code still says the run was interrupted.
            return io.Interrupt?.ExitCode is not null ? Interrupted(io) : code;
        }
        catch (OperationCanceledException) when (io.Interrupt?.ExitCode is not null)
        {
            return Interrupted(io);
        }
        catch (RdBridgeException e)
        {
            io.Err.WriteLine($"error: {e.Message}");
            return e.ExitCode;
        }
        catch (Microsoft.Data.Sqlite.SqliteException e) when (DatabaseLockedException.IsBusy(e.SqliteErrorCode))
        {
            // A lock taken by another program after the verb's start: which file is not in SQLite's error, so both
            // SQLite files RdBridge writes are named.
            io.Err.WriteLine("error: an SQLite database RdBridge writes (the AIstock database, aistock.database in " +
                "rdbridge.json, or the RD-Agent registry) is locked by another program and stayed locked after " +
                $"RdBridge waited ({e.Message}); finish or close that program and run again");
            return ExitCodes.Locked;
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException)
        {
            io.Err.WriteLine($"error: {e.Message}");
            return e is KeyNotFoundException ? ItemFailures : UsageError;
        }
        catch (IOException e)
        {
            // The stack trace on request here too: an input error is named by its message, a defect by where it was.
            io.Err.WriteLine(Environment.GetEnvironmentVariable("RDBRIDGE_DEBUG") is null ? $"error: {e.Message}"
                : $"error: {e}");
            return ItemFailures;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("RDBRIDGE_DEBUG") is null)
        {
            // A defect in RdBridge, not in the input: say so plainly; RDBRIDGE_DEBUG=1 shows the stack trace.
            io.Err.WriteLine($"error: RdBridge failed unexpectedly ({e.GetType().Name}: {e.Message}); please " +
                "report it. Set RDBRIDGE_DEBUG=1 for the stack trace.");
            return ItemFailures;
        }
    }

    private static int Interrupted(Io io)
    {
        io.Live?.Clear();
        io.Err.WriteLine($"interrupted by {io.Interrupt!.Name}: stopped before the next item; nothing is left " +
            "half-written. Run the same command again to finish.");
        return io.Interrupt.ExitCode!.Value;
    }

    /// <summary>Refuses a numeric option's value outside [<paramref name="min"/>, <paramref name="max"/>] at parse
    /// time (exit 2 naming the option, the value and the range): a negative size or count would otherwise reach
    /// the stage and fail there, or silently be clamped. The one range check every verb's numbers go through.
    /// </summary>
    internal static Option<T> Within<T>(this Option<T> option, double min, double max)
    {
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                // A value that is no number at all is the type converter's error, not a range error.
                if (!double.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    continue;
                if (v >= min && v <= max) continue;
                var c = CultureInfo.InvariantCulture;
                result.AddError($"{option.Name} {token.Value} is out of range: allowed {min.ToString(c)}.." +
                    max.ToString(c));
            }
        });
        return option;
    }

    internal static RdBridgeSettings Settings(ParseResult p, bool rdAgentOptional = false) =>
        ConfigFile.Settings(p, rdAgentOptional);

    internal static RunContext Context(ParseResult p, Io io) =>
        new(Settings(p), line => io.Out.WriteLine(line), io.Live) { Cancellation = io.Interrupt?.Token ?? default };

    /// <summary>A run's context that, with <c>--verbose</c>, prints a line for each file the stage writes.</summary>
    internal static RunContext Context(ParseResult p, Io io, string stage, bool verbose) =>
        new(Settings(p), line => io.Out.WriteLine(line), io.Live)
        {
            Cancellation = io.Interrupt?.Token ?? default,
            FileWritten = verbose ? path =>
            {
                io.Live?.Clear();
                io.Out.WriteLine($"[{stage}] wrote {RdBridge.IO.Visible.Line(path)}");
            } : null,
        };

    /// <summary>The <c>--verbose</c> of the verbs that write files.</summary>
    internal static Option<bool> VerboseOption() => new("--verbose") { Description = "List each file written" };

    internal static int Print(Io io, StageReport report)
    {
        io.Live?.Clear();
        io.Out.WriteLine($"[{report.Stage}] {report.Summary()}");
        foreach (var note in report.Notes.Where(n => n.Length > 0).Take(20)) io.Out.WriteLine($"  · {note}");
        if (report.Notes.Count > 20)
            io.Out.WriteLine($"  · … and {Counted.Of(report.Notes.Count - 20, "more note")}");
        foreach (var p in report.Problems) io.Out.WriteLine($"  ✗ {p}");
        return report.Failed || report.Aborted is not null ? ItemFailures : Ok;
    }
}
