namespace RdBridge.Store;

// What the versions could not make when they ran: PostgreSQL's trigram indexes, which need pg_trgm.
public static partial class StoreSchema
{
    /// <summary>
    /// PostgreSQL's trigram indexes that a version could not make because pg_trgm was missing when it ran (an
    /// administrator may install it later): each open that migrates a store at the latest version makes the missing
    /// ones, under the names the versions give them (version 3 named the description's index without "_cn"). A
    /// second process making the same index at the same moment is not an error.
    /// </summary>
    internal static string MissingTrigramIndexes
    {
        get
        {
            var creates = SearchIndexesOf6.Concat(SearchIndexesOf8)
                .SelectMany(i => i.Columns.Select(c => (i.Table, Column: c)))
                .Select(x => (Name: $"idx_{x.Table}_{(x.Column == "description_cn" ? "description" : x.Column)}_trgm",
                    x.Table, x.Column))
                .Select(x => $"""
                      IF to_regclass('{x.Name}') IS NULL THEN
                        BEGIN
                          CREATE INDEX IF NOT EXISTS {x.Name} ON {x.Table} USING gin ({x.Column} gin_trgm_ops);
                        EXCEPTION WHEN duplicate_table OR unique_violation THEN NULL;
                        END;
                      END IF;
                    """);
            return $"""
                DO $do$
                BEGIN
                  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                    BEGIN
                      CREATE EXTENSION IF NOT EXISTS pg_trgm;
                    EXCEPTION WHEN OTHERS THEN
                      RETURN;
                    END;
                  END IF;
                {string.Join("\n", creates)}
                END
                $do$
                """;
        }
    }
}
