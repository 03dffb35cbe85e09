using RdBridge.Configuration;
using RdBridge.Listing;
using RdBridge.Store;

namespace RdBridge.Cli;

/// <summary>A task run id as the user typed it — any unique start — made whole from the AIstock loop catalog.</summary>
internal static class TaskRunPrefix
{
    /// <summary>The full id; the text as given when the catalog is not there yet or knows no such id (the verb then
    /// reports the id it cannot find); an error when the start fits several ids.</summary>
    public static string Resolve(RdBridgeSettings settings, string typed)
    {
        if (!settings.AistockDatabaseIsPostgres && !File.Exists(settings.AistockDatabase)) return typed;
        using var store = AistockStores.Open(settings, migrate: false);
        return TaskRunIds.Complete(store, typed);
    }
}
