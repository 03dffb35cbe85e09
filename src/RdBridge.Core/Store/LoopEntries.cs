using System.Text.Json;
using RdBridge.Catalogs;

namespace RdBridge.Store;

/// <summary>
/// The entries of a loop catalog grouped by loop, from one pass over the file. The fork's Python tools list a loop once
/// per workspace (30 entries for 8 loops in its real catalog): that is one loop with several workspaces, not several
/// records. For each loop listed more than once this keeps the entry on its experiment workspace — the one that says
/// so (<c>workspace_role</c>), else the one carrying the loop's results (metrics, then metadata paths), else the first
/// — and every workspace in input order. An entry naming a workspace the loop already listed is a true repeat,
/// reported as a skipped record. A loop listed once costs no entry (<see cref="Of"/> is null for it); entries are only
/// built for loops listed again.
/// </summary>
internal sealed class LoopEntries
{
    internal sealed class Loop(int ordinal, int score, LoopWorkspace workspace)
    {
        public int Chosen { get; private set; } = ordinal;
        public int Score { get; private set; } = score;
        public string? WorkspaceId => ChosenWorkspace.WorkspaceId;
        public LoopWorkspace ChosenWorkspace { get; private set; } = workspace;
        public List<LoopWorkspace> Workspaces { get; } = [workspace];
        /// <summary>Entries that repeat a workspace the loop already listed.</summary>
        public HashSet<int> Repeated { get; } = [];

        public void Add(int ordinal, int score, LoopWorkspace workspace)
        {
            if (Workspaces.Any(w => w.WorkspaceId == workspace.WorkspaceId)) { Repeated.Add(ordinal); return; }
            Workspaces.Add(workspace);
            if (score > Score) (Chosen, Score, ChosenWorkspace) = (ordinal, score, workspace);
        }
    }

    private readonly Dictionary<UInt128, Loop> _loops = [];

    public Loop? Of(UInt128 key) => _loops.GetValueOrDefault(key);

    public static LoopEntries Read(string path, CatalogTable table, string? origin, bool strictList)
    {
        // First which loops are listed more than once; only those get an entry, in a second pass. RdBridge's own
        // catalogs list each loop once, so the second pass never runs for them, and 10,000 loops no longer hold 10,000
        // entries with their workspaces' texts while the catalog is imported.
        var repeated = new HashSet<UInt128>();
        using (var once = new IdSpool())
        {
            foreach (var (_, id, _) in Keyed(path, table, origin, strictList))
            {
                if (!once.TryAdd(id, 0)) repeated.Add(id);
            }
        }
        var entries = new LoopEntries();
        if (repeated.Count == 0) return entries;
        foreach (var (ordinal, id, record) in Keyed(path, table, origin, strictList))
        {
            if (!repeated.Contains(id)) continue;
            var entry = CatalogJson.Read<LoopRecord>(record) ?? new LoopRecord();
            var workspace = new LoopWorkspace
            {
                WorkspaceId = entry.WorkspaceId, WorkspacePath = entry.WorkspacePath,
                WorkspaceRole = entry.WorkspaceRole,
            };
            var score = ExperimentScore(entry);
            if (entries._loops.TryGetValue(id, out var loop)) loop.Add(ordinal, score, workspace);
            else entries._loops[id] = new Loop(ordinal, score, workspace);
        }
        return entries;
    }

    /// <summary>The valid records with their place among the records the reader gives and their key's id.</summary>
    private static IEnumerable<(int Ordinal, UInt128 Id, JsonElement Record)> Keyed(
        string path, CatalogTable table, string? origin, bool strictList)
    {
        var ordinal = -1;
        // Records the reader refuses are refused by the import too (it reports them); skipping them here as well keeps
        // the two readings' ordinals the same.
        foreach (var record in CatalogReader.ReadRecords(path, CatalogKind.Loop, strictList: strictList,
            refused: _ => { }))
        {
            ordinal++;
            var row = table.Map(record, origin);
            if (row.Error is null) yield return (ordinal, CatalogImport.KeyId(row.Key), record);
        }
    }

    private static int ExperimentScore(LoopRecord entry)
    {
        if (entry.WorkspaceRole is { } role) return role == LoopWorkspace.ExperimentRole ? 3 : 0;
        return entry.Metrics is { Count: > 0 } ? 2 : entry.Paths is { } p && Filled(p) ? 1 : 0;
    }

    private static bool Filled(LoopPaths p) => p.Unknown is { Count: > 0 } || p.FactorMeta is not null
        || p.FactorPerf is not null || p.Feedback is not null || p.ModelMeta is not null || p.StrategyMeta is not null
        || p.Mlruns is not null || p.ModelFiles is { Count: > 0 };

    /// <summary>
    /// The entry kept for a loop, with the loop's workspaces added (unless the entry already lists its own). Its other
    /// fields, their order and their number text are as the file has them.
    /// </summary>
    public static JsonElement WithWorkspaces(JsonElement record, IReadOnlyList<LoopWorkspace> workspaces)
    {
        if (record.TryGetProperty(LoopRecord.WorkspacesField, out _)) return record;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            // Each value as the file wrote it, so the columns taken from it hold the same text as without the list.
            foreach (var p in record.EnumerateObject())
            {
                w.WritePropertyName(p.Name);
                w.WriteRawValue(p.Value.GetRawText(), skipInputValidation: true);
            }

            w.WritePropertyName(LoopRecord.WorkspacesField);
            CatalogJson.Write(w, workspaces);
            w.WriteEndObject();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }
}
