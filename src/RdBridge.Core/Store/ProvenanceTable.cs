namespace RdBridge.Store;

/// <summary>
/// <c>aistock_factor_provenance</c>: which loops found each factor, one row per factor and loop (schema version 7).
/// Before it, a factor row held the list inline (its <c>provenance</c> column and payload), so the row of a factor
/// every loop uses grew by one entry a loop — a few MB at 10,000 loops, read whole by import, verify and the API. The
/// factors of a loop are an indexed lookup here instead of a LIKE over every factor's JSON.
/// </summary>
public static class ProvenanceTable
{
    public const int Version = 7;
    public const string Name = "aistock_factor_provenance";

    /// <summary>Every column, the key first; <c>origin</c> is the publisher the entry came from (null: this
    /// machine).</summary>
    public static readonly IReadOnlyList<string> Columns =
    [
        "factor_id", "task_run_id", "loop_id", "workspace_id", "workspace_path", "asset_bundle_id", "loaded_from",
        "origin",
    ];

    public static readonly IReadOnlyList<string> Key = ["factor_id", "task_run_id", "loop_id"];

    /// <summary>
    /// Version 7: the table and its loop index, then every factor row's inline provenance moved into it (the list's
    /// entries that name a loop; an entry repeated for the same loop once) and taken out of the row.
    /// </summary>
    internal static IEnumerable<string> Migration(SqlDialect d)
    {
        var integer = d == SqlDialect.Postgres ? "BIGINT" : "INTEGER";
        yield return $"""
            CREATE TABLE {Name} (
              factor_id TEXT NOT NULL, task_run_id TEXT NOT NULL, loop_id {integer} NOT NULL, workspace_id TEXT,
              workspace_path TEXT, asset_bundle_id TEXT, loaded_from TEXT, origin TEXT,
              PRIMARY KEY (factor_id, task_run_id, loop_id))
            """;
        yield return $"CREATE INDEX idx_{Name}_loop ON {Name}(task_run_id, loop_id)";
        var columns = string.Join(", ", Columns);
        if (d == SqlDialect.Postgres)
        {
            yield return $"""
                INSERT INTO {Name} ({columns})
                SELECT f.factor_id, p.e->>'task_run_id', (p.e->>'loop_id')::bigint, p.e->>'workspace_id',
                       p.e->>'workspace_path', p.e->>'asset_bundle_id', p.e->>'loaded_from', f.origin
                FROM aistock_factor_catalog f
                CROSS JOIN LATERAL jsonb_array_elements(f.provenance) WITH ORDINALITY AS p(e, n)
                WHERE jsonb_typeof(f.provenance) = 'array' AND jsonb_typeof(p.e) = 'object'
                  AND jsonb_typeof(p.e->'task_run_id') = 'string' AND jsonb_typeof(p.e->'loop_id') = 'number'
                  AND (p.e->>'loop_id') ~ '^-?[0-9]+$' AND length(p.e->>'loop_id') < 19
                ORDER BY f.factor_id, p.n
                ON CONFLICT DO NOTHING
                """;
            yield return "UPDATE aistock_factor_catalog SET provenance = NULL, payload = payload - 'provenance' "
                + "WHERE provenance IS NOT NULL";
        }
        else
        {
            string Field(string name) => $"json_extract(p.value, '$.{name}')";
            yield return $"""
                INSERT OR IGNORE INTO {Name} ({columns})
                SELECT f.factor_id, {Field("task_run_id")}, CAST({Field("loop_id")} AS INTEGER),
                       {Field("workspace_id")}, {Field("workspace_path")}, {Field("asset_bundle_id")},
                       {Field("loaded_from")}, f.origin
                FROM aistock_factor_catalog f, json_each(f.provenance) p
                WHERE f.provenance IS NOT NULL AND json_valid(f.provenance) AND json_type(f.provenance) = 'array'
                  AND p.type = 'object' AND json_type(p.value, '$.task_run_id') = 'text'
                  AND json_type(p.value, '$.loop_id') = 'integer'
                ORDER BY f.factor_id, p.key
                """;
            yield return "UPDATE aistock_factor_catalog SET provenance = NULL, "
                + "payload = json_remove(payload, '$.provenance') WHERE provenance IS NOT NULL";
        }
    }
}
