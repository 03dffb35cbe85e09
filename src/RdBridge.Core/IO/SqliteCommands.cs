using Microsoft.Data.Sqlite;

namespace RdBridge.IO;

/// <summary>
/// SQLite statements run one to a command, for PRAGMAs above all. Most PRAGMAs answer a row (journal_mode its mode,
/// busy_timeout its value), and in a command of several statements Microsoft.Data.Sqlite runs the ones after a first
/// row only when the reader is disposed, where their errors are dropped: a file that is not a database or is held by
/// another program would be opened without a word, and a scratch table that could not be made would be missed only at
/// its first use.
/// </summary>
public static class SqliteCommands
{
    public static void RunEach(SqliteConnection connection, params string[] statements)
    {
        foreach (var statement in statements)
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = statement;
            cmd.ExecuteScalar();
        }
    }
}
