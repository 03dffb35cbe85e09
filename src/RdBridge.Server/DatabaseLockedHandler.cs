using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using RdBridge.Configuration;

namespace RdBridge.Server;

/// <summary>
/// A request that finds the AIstock SQLite file locked by another program (AIstock itself, a sqlite3 shell) after
/// the bounded wait is answered 503 with <c>Retry-After</c> and the file named with what to do — the same words the
/// CLI's exit 3 prints — never the catch-all 500: the server is fine, and the same request succeeds once that
/// program lets go.
/// </summary>
internal sealed class DatabaseLockedHandler(IProblemDetailsService problems, RdBridgeSettings settings)
    : IExceptionHandler
{
    /// <summary>Seconds a client is told to wait: about one busy wait, so a retry usually finds the file
    /// free.</summary>
    internal const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception error, CancellationToken cancel)
    {
        var files = error switch
        {
            DatabaseLockedException locked => $"the AIstock database '{locked.DatabasePath}'",
            // A lock met after the connection opened: SQLite's error does not say which file. The routes read the
            // AIstock database; only the checklist also reads the RD-Agent registry, so that is named too.
            SqliteException e when DatabaseLockedException.IsBusy(e.SqliteErrorCode) => LockedFiles(),
            _ => null,
        };
        if (files is null) return false;
        var detail = $"{files} is locked by another program (it holds a write transaction); RdBridge waited "
            + $"{IO.ReadLimits.DatabaseBusySeconds} s and wrote nothing to it. Finish or close that program (AIstock, "
            + "a sqlite3 shell, a database browser) and ask again; RDBRIDGE_DB_BUSY_SECONDS sets how long to wait";
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter =
            RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = error,
            ProblemDetails = { Status = 503, Title = "database locked", Detail = detail },
        });
    }

    private string LockedFiles()
    {
        var aistock = settings.AistockDatabaseIsPostgres ? null : $"the AIstock database '{settings.AistockDatabase}'";
        var registry = settings.HasRdAgent ? $"the RD-Agent registry '{settings.RegistryPath}'" : null;
        return aistock is null ? registry ?? "an SQLite database"
            : registry is null ? aistock : $"{aistock} (or, for the checklist, {registry})";
    }
}
