using Microsoft.AspNetCore.Http;

namespace RdBridge.Server;

/// <summary>
/// Query parameters a route does not know are refused, never ignored: a misspelt filter that is silently dropped
/// answers a different question than the one asked.
/// </summary>
internal static class QueryParameters
{
    /// <summary>A 400 naming every unknown parameter and the ones the route takes; null when all are known.</summary>
    public static IResult? Unknown(IQueryCollection query, params string[] known) =>
        Unknown(query, known, static _ => false);

    /// <param name="pattern">Accepts further names by shape (min_/max_ ranges).</param>
    public static IResult? Unknown(IQueryCollection query, IReadOnlyCollection<string> known,
        Func<string, bool> pattern)
    {
        var unknown = query.Keys.Where(k => !known.Contains(k) && !pattern(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count == 0) return null;
        return RdBridgeServer.Problem(400, "unknown query parameter",
            $"{(unknown.Count == 1 ? "parameter" : "parameters")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} " +
            $"{(unknown.Count == 1 ? "is" : "are")} not known here; " +
            (known.Count == 0 ? "this address takes none" : $"use {string.Join(", ", known)}"));
    }
}
