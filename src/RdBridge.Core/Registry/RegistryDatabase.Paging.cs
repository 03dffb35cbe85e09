using Microsoft.Data.Sqlite;

namespace RdBridge.Registry;

// Long walks of the registry, read a page at a time. A stage walks the loops (and discovery's memory beside them)
// while it writes the registry loop by loop; a SELECT kept open across those writes holds a read transaction whose
// snapshot SQLite's checkpoint may not pass, so the WAL could never restart and grew by every write of the stage.
public sealed partial class RegistryDatabase
{
    /// <summary>Rows per page: few enough that a page is read in an instant, enough that pages are few.</summary>
    internal const int PageRows = 256;

    /// <summary>
    /// The rows of <paramref name="table"/> (as <paramref name="alias"/>) that <paramref name="where"/> selects, in
    /// the order of <paramref name="key"/> and then the row's own identity, a page at a time: each page is its own
    /// statement, finished before any row of it is handed on, so no read is open while the caller writes. Each page
    /// starts after the last row of the one before (keyset), in the same ORDER BY, so none is skipped or repeated
    /// even where the key is not unique. <paramref name="project"/> turns a row into what is kept of it.
    /// </summary>
    private IEnumerable<T> Paged<T>(string select, string table, string alias, string where,
        IReadOnlyList<string> key, IReadOnlyList<(string Name, object Value)> parameters,
        Func<SqliteDataReader, T> project)
    {
        var order = key.Select(c => $"{alias}.{c}").Concat(Identity(table, alias, key)).ToList();
        var by = string.Join(", ", order);
        object[]? last = null;
        while (true)
        {
            var page = new List<T>(PageRows);
            using (var cmd = _connection.CreateCommand())
            {
                var after = last is null ? "" : $" AND {After(cmd, order, last)}";
                cmd.CommandText = $"""
                    SELECT {select}, {by}
                    FROM {table} {alias}
                    WHERE ({where}){after}
                    ORDER BY {by} LIMIT {PageRows}
                    """;
                foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
                using var r = cmd.ExecuteReader();
                var at = r.FieldCount - order.Count;
                while (r.Read())
                {
                    page.Add(project(r));
                    last = new object[order.Count];
                    for (var i = 0; i < order.Count; i++) last[i] = r.GetValue(at + i);
                }
            }
            foreach (var row in page) yield return row;
            if (page.Count < PageRows) yield break;
        }
    }

    /// <summary>
    /// What orders rows of one key among themselves, so the page order is total: the rowid (under a name no column
    /// of the table hides), or, in a table WITHOUT ROWID, its primary key, which SQLite holds unique and not NULL.
    /// </summary>
    private IEnumerable<string> Identity(string table, string alias, IReadOnlyList<string> key)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = $t";
        cmd.Parameters.AddWithValue("$t", table);
        if (cmd.ExecuteScalar() is long withoutRowid && withoutRowid != 0)
        {
            using var pk = _connection.CreateCommand();
            pk.CommandText = "SELECT name FROM pragma_table_info($t) WHERE pk > 0 ORDER BY pk";
            pk.Parameters.AddWithValue("$t", table);
            using var r = pk.ExecuteReader();
            var names = new List<string>();
            while (r.Read()) names.Add(r.GetString(0));
            return names.Where(n => !key.Contains(n, StringComparer.OrdinalIgnoreCase))
                .Select(n => $"{alias}.\"{n.Replace("\"", "\"\"")}\"").ToList();
        }
        var columns = ColumnsOf(table);
        return [$"{alias}.{new[] { "rowid", "_rowid_", "oid" }.First(n => !columns.Contains(n))}"];
    }

    /// <summary>
    /// The condition "after <paramref name="last"/>" in the order of <paramref name="order"/>, as ORDER BY sorts:
    /// NULL before any value, and each value compared as SQLite compares it (its type and the column's collation),
    /// by binding the very value read. A NULL is written as IS NULL / IS NOT NULL, since a comparison with NULL is
    /// never true.
    /// </summary>
    private static string After(SqliteCommand cmd, IReadOnlyList<string> order, object[] last)
    {
        string? tail = null;
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var column = order[i];
            string greater, equal;
            if (last[i] is DBNull)
            {
                (greater, equal) = ($"{column} IS NOT NULL", $"{column} IS NULL");
            }
            else
            {
                var name = $"$after{i}";
                cmd.Parameters.AddWithValue(name, last[i]);
                (greater, equal) = ($"{column} > {name}", $"{column} = {name}");
            }
            tail = tail is null ? greater : $"({greater} OR ({equal} AND {tail}))";
        }
        // Redundant, but lets SQLite start the page in the key's index rather than walk it from the start.
        return last[0] is DBNull ? tail! : $"{order[0]} >= $after0 AND {tail}";
    }
}
