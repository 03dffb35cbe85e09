namespace RdBridge;

/// <summary>The exit codes of every verb: the contract scripts and cron jobs rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The run finished, but some items had problems (each reported with its ids and path).</summary>
    public const int ItemFailures = 1;

    /// <summary>A usage or configuration problem: the message says what to change.</summary>
    public const int UsageError = 2;

    /// <summary>
    /// A database RdBridge must write is locked by another program (a write transaction held past the wait): nothing
    /// is wrong with the input or the configuration; run again when that program is done.
    /// </summary>
    public const int Locked = 3;
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

/// <summary>
/// An SQLite file another program holds a write transaction on, still held after RdBridge waited
/// <c>RDBRIDGE_DB_BUSY_SECONDS</c>: named with its path and what to do, exit code <see cref="ExitCodes.Locked"/>.
/// </summary>
public sealed class DatabaseLockedException(string what, string path, int waitedSeconds)
    : RdBridgeException($"{what} '{path}' is locked by another program (it holds a write transaction); RdBridge " +
        $"waited {waitedSeconds} s and wrote nothing to it. Finish or close that program (AIstock, a sqlite3 shell, " +
        "a database browser) and run again; RDBRIDGE_DB_BUSY_SECONDS sets how long to wait", ExitCodes.Locked)
{
    public string DatabasePath { get; } = path;

    /// <summary>SQLite's SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock this one needs.</summary>
    public static bool IsBusy(int sqliteErrorCode) => sqliteErrorCode is 5 or 6;
}
