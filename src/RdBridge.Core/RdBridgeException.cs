namespace RdBridge;

/// <summary>The exit codes of every verb: the contract scripts and cron jobs rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The run finished, but some items had problems (each reported with its ids and path).</summary>
    public const int ItemFailures = 1;

    /// <summary>A usage or configuration problem: the message says what to change.</summary>
    public const int UsageError = 2;
}

/// <summary>
/// A problem RdBridge expected and can explain: its message says what is wrong and what to do, and it carries the exit
/// code the command line ends with. Anything else that escapes a verb is a defect in RdBridge.
/// </summary>
public abstract class RdBridgeException(string message, int exitCode, Exception? inner = null)
    : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
