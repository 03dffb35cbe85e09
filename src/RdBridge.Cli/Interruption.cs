using System.Runtime.InteropServices;

namespace RdBridge.Cli;

/// <summary>
/// SIGINT (Ctrl+C) and SIGTERM ask a run to stop instead of ending the process where it stands: the stages stop at
/// the next item, what they had half-written is removed, a sync run is recorded as interrupted, and the process
/// exits 130 (SIGINT) or 143 (SIGTERM), the shells' codes for those signals. A second signal ends it at once.
/// </summary>
internal sealed class Interruption : IDisposable
{
    public const int SigIntExit = 130, SigTermExit = 143;

    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration?[] _registrations;
    private int _signal;

    public Interruption() =>
        _registrations = [Register(PosixSignal.SIGINT, SigIntExit), Register(PosixSignal.SIGTERM, SigTermExit)];

    public CancellationToken Token => _stop.Token;

    /// <summary>The exit code of the signal received (null: none).</summary>
    public int? ExitCode => Volatile.Read(ref _signal) is var s and > 0 ? s : null;

    public string Name => ExitCode == SigIntExit ? "SIGINT" : "SIGTERM";

    private PosixSignalRegistration? Register(PosixSignal signal, int exit)
    {
        try
        {
            return PosixSignalRegistration.Create(signal, context =>
            {
                // The first signal asks; a second one takes the default action (the process ends).
                if (Interlocked.CompareExchange(ref _signal, exit, 0) != 0) return;
                context.Cancel = true;
                _stop.Cancel();
            });
        }
        // A platform without that signal keeps its default behaviour for it.
        catch (PlatformNotSupportedException) { return null; }
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r?.Dispose();
        _stop.Dispose();
    }
}
