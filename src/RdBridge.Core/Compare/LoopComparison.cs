using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RdBridge.Backfill;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Show;
using RdBridge.Store;

namespace RdBridge.Compare;

/// <summary>A loop named as <c>TASK_RUN_ID:LOOP_ID</c>, the way the compare verb and page take it.</summary>
public sealed record LoopRef(string TaskRunId, long LoopId)
{
    public static LoopRef Parse(string text)
    {
        text ??= "";
        var colon = text.LastIndexOf(':');
        var number = colon > 0 ? text[(colon + 1)..] : "";
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var loop))
        {
            throw new CompareUsageException(
                $"'{text}' does not name a loop; write TASK_RUN_ID:LOOP_ID, e.g. 17ba96ae:3");
        }

        return new LoopRef(text[..colon], loop);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{TaskRunId}:{LoopId}");
}

/// <summary>A loop given to compare is not written as TASK_RUN_ID:LOOP_ID.</summary>
public sealed class CompareUsageException(string message) : RdBridgeException(message, ExitCodes.UsageError);

/// <summary>
/// What changed from one loop to another, from the AIstock database and the asset cache alone (so it works on a
/// consumer, across task runs and across publishers): metric deltas, the workflow config key by key, the factor
/// sets by fingerprint, a unified diff of the code and config files, and both backtest curves.
/// </summary>
public sealed partial class LoopComparison(RdBridgeSettings settings, IAistockStore store)
{
    /// <summary>The code a researcher reads: Python and the workflow YAMLs.</summary>
    private static readonly string[] CodeExtensions = [".py", ".yaml", ".yml"];

    public JsonObject Compare(LoopRef a, LoopRef b, bool fullCurves = false)
    {
        var linkage = new LinkageQuery(settings, store);
        var la = linkage.Lineage(a.TaskRunId, a.LoopId) ?? throw Missing(a);
        var lb = linkage.Lineage(b.TaskRunId, b.LoopId) ?? throw Missing(b);
        var rowA = la.Loop ?? new LoopRecord();
        var rowB = lb.Loop ?? new LoopRecord();
        var notes = new JsonArray();
        var bundleA = OpenBundle(a, rowA, notes);
        var bundleB = OpenBundle(b, rowB, notes);

        return new JsonObject
        {
            ["a"] = Side(a, rowA, bundleA),
            ["b"] = Side(b, rowB, bundleB),
            ["metrics"] = Metrics(rowA, rowB),
            ["config"] = Config(bundleA, bundleB, notes),
            ["factors"] = Factors(la.Factors, lb.Factors),
            ["code"] = Code(bundleA, bundleB),
            ["curves"] = new JsonObject
            {
                ["a"] = Curve(bundleA, fullCurves, notes, a),
                ["b"] = Curve(bundleB, fullCurves, notes, b),
            },
            ["notes"] = notes,
        };
    }

    /// <summary>
    /// One side's cached bundle; a bundle that is not extracted or whose manifest cannot be read is a note on that
    /// side, and the comparison goes on with the loop's records.
    /// </summary>
    private CachedBundle? OpenBundle(LoopRef r, LoopRecord row, JsonArray notes)
    {
        try
        {
            if (CachedBundle.Open(settings.AssetCache, row.AssetBundleId) is { } bundle) return bundle;
            Note(notes, $"loop {r}: bundle {row.AssetBundleId ?? "(none)"} is not extracted in the " +
                "asset cache; its config, code and curve are left out (run sync)");
        }
        catch (CompareException e)
        {
            Note(notes, $"loop {r}: {e.Message}; its config, code and curve are left out");
        }
        return null;
    }

    /// <summary>A note as a JSON string: <c>JsonArray.Add&lt;T&gt;</c> would reflect over the value's type.</summary>
    private static void Note(JsonArray notes, string text) => notes.Add((JsonNode)text);

    private static CompareException Missing(LoopRef r) =>
        new($"AIstock has no loop {r.TaskRunId}/{r.LoopId}; sync, or check the ids (the loops page lists them)");

    private static JsonObject Side(LoopRef r, LoopRecord row, CachedBundle? bundle) => new()
    {
        [CatalogFields.TaskRunId] = r.TaskRunId,
        [CatalogFields.LoopId] = r.LoopId,
        [CatalogFields.Action] = row.Action,
        [CatalogFields.Decision] = row.Decision,
        [CatalogFields.Origin] = row.Origin,
        [CatalogFields.ModelType] = row.ModelType,
        [CatalogFields.AssetBundleId] = row.AssetBundleId,
        ["extracted"] = bundle is not null,
        ["config_file"] = bundle?.ConfigPath,
    };

    private static JsonArray Metrics(LoopRecord a, LoopRecord b)
    {
        var ma = a.Metrics ?? [];
        var mb = b.Metrics ?? [];
        var names = ma.Select(kv => kv.Key).Concat(mb.Select(kv => kv.Key)).Distinct().ToList();
        var result = new JsonArray();
        foreach (var name in names)
        {
            var va = Number(ma[name]);
            var vb = Number(mb[name]);
            result.Add((JsonNode)new JsonObject { ["name"] = name, ["a"] = va, ["b"] = vb, ["delta"] = vb - va });
        }
        return result;
    }

    private static double? Number(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static JsonObject Config(CachedBundle? a, CachedBundle? b, JsonArray notes)
    {
        var result = new JsonObject
        {
            ["a_file"] = a?.ConfigPath, ["b_file"] = b?.ConfigPath, ["changes"] = new JsonArray(),
        };
        var ca = LoadConfig(a, notes);
        var cb = LoadConfig(b, notes);
        if (ca is null || cb is null) return result;
        result["changes"] = new JsonArray([.. ConfigDiff.Diff(ca.Root, cb.Root).Select(c => (JsonNode?)new JsonObject
        {
            ["section"] = c.Section, ["path"] = c.Path, ["kind"] = c.Kind, ["before"] = c.Before, ["after"] = c.After,
        })]);
        return result;
    }

    private static WorkflowConfig? LoadConfig(CachedBundle? bundle, JsonArray notes)
    {
        if (bundle?.ConfigPath is not { } path) return null;
        if (bundle.Local(path) is not { } local)
        {
            Note(notes, $"bundle {bundle.Id} lists no workflow config file it holds ({path})");
            return null;
        }
        if (bundle.Size(path) > LineDiff.MaxBytes)
        {
            Note(notes, $"{bundle.Id}/{path} is too large to read as a workflow config");
            return null;
        }
        try { return WorkflowConfig.Parse(RegularFile.ReadAllText(local, LineDiff.MaxBytes), Path.GetFileName(path)); }
        catch (FormatException e)
        {
            Note(notes, $"{bundle.Id}/{path}: {e.Message}");
            return null;
        }
    }

    private static JsonObject Factors(IReadOnlyList<LineageFactor> a, IReadOnlyList<LineageFactor> b)
    {
        static Dictionary<string, LineageFactor> ById(IReadOnlyList<LineageFactor> list) => list
            .Where(f => f.FactorId is not null)
            .GroupBy(f => f.FactorId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var fa = ById(a);
        var fb = ById(b);
        JsonArray List(IEnumerable<KeyValuePair<string, LineageFactor>> items) => new([.. items
            .OrderBy(kv => kv.Value.Name, StringComparer.Ordinal)
            .ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (JsonNode?)new JsonObject
            {
                [CatalogFields.FactorId] = kv.Key, [CatalogFields.Name] = kv.Value.Name,
                [CatalogFields.Source] = kv.Value.Source,
            })]);
        return new JsonObject
        {
            ["added"] = List(fb.Where(kv => !fa.ContainsKey(kv.Key))),
            ["removed"] = List(fa.Where(kv => !fb.ContainsKey(kv.Key))),
            ["kept"] = List(fa.Where(kv => fb.ContainsKey(kv.Key))),
        };
    }

    private static JsonArray Code(CachedBundle? a, CachedBundle? b)
    {
        var result = new JsonArray();
        if (a is null || b is null) return result;
        var (fa, fb) = CodeFilePairs.Pair(CodeFiles(a), CodeFiles(b), a.Sha256, b.Sha256);
        foreach (var key in fa.Keys.Concat(fb.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            var pa = fa.GetValueOrDefault(key);
            var pb = fb.GetValueOrDefault(key);
            var entry = new JsonObject { ["file"] = key, ["a_path"] = pa, ["b_path"] = pb };
            if (pa is not null && pb is not null && a.Sha256(pa) == b.Sha256(pb) && a.Sha256(pa).Length > 0)
            {
                entry["status"] = "same";
                result.Add((JsonNode)entry);
                continue;
            }
            var ta = pa is null ? "" : ReadText(a, pa);
            var tb = pb is null ? "" : ReadText(b, pb);
            if (pa is not null && pb is not null && ta is not null && tb is not null
                && (ta == tb || LineDiff.OnlyLineEndingsDiffer(ta, tb)))
            {
                entry["status"] = ta == tb ? "same" : "line endings differ";
                if (ta != tb) entry["line_endings"] = $"a {LineDiff.LineEndings(ta)}, b {LineDiff.LineEndings(tb)}";
                result.Add(entry);
                continue;
            }
            var hunks = ta is null || tb is null ? null : LineDiff.Unified(ta, tb);
            entry["status"] = hunks is null ? "too large to diff"
                : pa is null ? "added" : pb is null ? "removed" : "changed";
            entry["hunks"] = new JsonArray([.. (hunks ?? []).Select(h => (JsonNode?)new JsonObject
            {
                ["header"] = h.Header,
                ["lines"] = new JsonArray([.. h.Lines.Select(l => (JsonNode?)new JsonArray(l.Op.ToString(), l.Text))]),
            })]);
            result.Add((JsonNode)entry);
        }
        return result;
    }

    /// <summary>
    /// A bundle's code files by the name they are matched on: the experiment workspace's files by their name; a
    /// sub-workspace's (one per generated factor) by their name and the factor its <c>calculate_…</c> function
    /// computes — RD-Agent's factor template — else by the workspace id, since sub-workspace ids differ between
    /// loops.
    /// </summary>
    private static Dictionary<string, string> CodeFiles(CachedBundle bundle)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in bundle.Files)
        {
            if (!CodeExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase))) continue;
            var parts = path.Split('/');
            if (parts.Length != 3 || parts[0] != "workspaces") continue;
            var name = parts[2];
            if (parts[1] != bundle.PrimaryWorkspaceId)
            {
                var text = bundle.Size(path) <= LineDiff.MaxBytes ? ReadText(bundle, path) : null;
                var match = text is null ? null : FactorFunction().Match(text);
                var factor = match is { Success: true } ? match.Groups[1].Value : null;
                name = $"{name} ({factor ?? parts[1]})";
            }
            files.TryAdd(name, path);
        }
        return files;
    }

    private static string? ReadText(CachedBundle bundle, string path) =>
        bundle.Size(path) > LineDiff.MaxBytes || bundle.Local(path) is not { } local
            ? null : RegularFile.ReadAllText(local, LineDiff.MaxBytes);

    private static JsonObject? Curve(CachedBundle? bundle, bool full, JsonArray notes, LoopRef r)
    {
        if (bundle is null) return null;
        try
        {
            var curve = bundle.ReadBacktest();
            if (curve is null) Note(notes, $"loop {r}: the bundle carries no {BacktestCurve.FileName}");
            return curve?.ToJson(full);
        }
        catch (CompareException e)
        {
            Note(notes, $"loop {r}: {e.Message}");
            return null;
        }
    }

    [GeneratedRegex(@"^def\s+calculate_(\w+)\s*\(", RegexOptions.Multiline)]
    private static partial Regex FactorFunction();

    /// <summary>
    /// The comparison as text for a terminal: metric deltas, config changes, factors, then the diffs.
    /// </summary>
    public static string ToText(JsonObject c)
    {
        var sb = new StringBuilder();
        static string F(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var d)
            ? d.ToString("0.######", CultureInfo.InvariantCulture) : "—";
        static string S(JsonNode? n) => (string?)n ?? "(none)";
        string Side(JsonNode? s) =>
            $"{(string?)s?[CatalogFields.TaskRunId]}:{(long?)s?[CatalogFields.LoopId]} " +
            $"({(string?)s?[CatalogFields.Action] ?? "?"}, " +
            $"{((bool?)s?[CatalogFields.Decision] switch
            {
                true => "accepted", false => "rejected", _ => "no decision",
            })})";
        sb.Append("a: ").Append(Side(c["a"])).Append('\n').Append("b: ").Append(Side(c["b"])).Append("\n\n");
        sb.Append("Metrics (b - a)\n");
        // Headed columns; returns and drawdowns in percent, as the web UI and Qlib's report show them.
        sb.Append(CultureInfo.InvariantCulture, $"  {"metric",-32} {"a",12} {"b",12} {"b - a",12}\n");
        foreach (var m in c["metrics"]!.AsArray())
        {
            var name = (string?)m!["name"] ?? "";
            var pct = name.Contains("return", StringComparison.Ordinal)
                || name.Contains("drawdown", StringComparison.Ordinal);
            string V(JsonNode? n) => pct && n is JsonValue v && v.TryGetValue<double>(out var d)
                ? (d * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%"
                : F(n);
            sb.Append(CultureInfo.InvariantCulture,
                $"  {name,-32} {V(m["a"]),12} {V(m["b"]),12} {V(m["delta"]),12}\n");
        }

        var changes = c["config"]!["changes"]!.AsArray();
        sb.Append(CultureInfo.InvariantCulture, $"\nWorkflow config: {changes.Count} change(s) " +
            $"({(string?)c["config"]!["a_file"] ?? "—"} → {(string?)c["config"]!["b_file"] ?? "—"})\n");
        foreach (var ch in changes)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"  [{(string?)ch!["section"]}] {(string?)ch["path"]}: {S(ch["before"])} → {S(ch["after"])}\n");
        }

        var factors = c["factors"]!;
        sb.Append(CultureInfo.InvariantCulture, $"\nFactors: {factors["added"]!.AsArray().Count} added, " +
            $"{factors["removed"]!.AsArray().Count} removed, {factors["kept"]!.AsArray().Count} kept\n");
        foreach (var (kind, sign) in new[] { ("added", '+'), ("removed", '-') })
        {
            foreach (var f in factors[kind]!.AsArray())
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"  {sign} {(string?)f![CatalogFields.Name]} ({(string?)f[CatalogFields.FactorId]})\n");
            }
        }

        sb.Append("\nCode\n");
        foreach (var file in c["code"]!.AsArray())
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {(string?)file!["file"]}: {(string?)file["status"]}")
                .Append(file["line_endings"] is JsonValue endings ? $" ({(string?)endings})\n" : "\n");
            if (file["hunks"] is not JsonArray { Count: > 0 } hunks) continue;
            static string Name(JsonNode? path, string side) => path is null ? "/dev/null" : side + (string?)path;
            sb.Append("--- ").Append(Name(file["a_path"], "a/")).Append('\n');
            sb.Append("+++ ").Append(Name(file["b_path"], "b/")).Append('\n');
            foreach (var h in hunks)
            {
                sb.Append((string?)h!["header"]).Append('\n');
                foreach (var l in h["lines"]!.AsArray()) sb.Append((string?)l![0]).Append((string?)l[1]).Append('\n');
            }
        }
        foreach (var side in new[] { "a", "b" })
        {
            if (c["curves"]![side] is JsonObject curve)
            {
                var summary = curve["summary"];
                sb.Append(CultureInfo.InvariantCulture, $"\nCurve {side}: {TradingDays(curve)}, ")
                    .Append(CultureInfo.InvariantCulture, $"final excess return with cost ")
                    .Append(CultureInfo.InvariantCulture, $"{F(summary?["final_excess_return_with_cost"])}, ")
                    .Append(CultureInfo.InvariantCulture, $"max drawdown {F(summary?["max_drawdown"])}");
            }
        }

        foreach (var n in c["notes"]!.AsArray()) sb.Append("\nnote: ").Append((string?)n);
        // Every line carries text from the loops' files: escaped, so no byte of them (ESC, CR, NUL) reaches the
        // terminal to hide or rewrite a diff line.
        return string.Join('\n', sb.Append('\n').ToString().Split('\n').Select(IO.Visible.Line));
    }

    /// <summary>"1 trading day", "250 trading days"; a curve without the count keeps the text it always had.</summary>
    private static string TradingDays(JsonObject curve) =>
        (int?)curve["trading_days"] is { } n ? IO.Counted.Of(n, "trading day") : " trading days";
}
