using System.Text.Json;
using RdBridge.Catalogs;
using RdBridge.IO;
using static RdBridge.Catalogs.CatalogFields;

namespace RdBridge.Store;

/// <summary>
/// How a catalog record's field becomes a column: plain text, a number, a boolean, or a JSON document.
/// </summary>
public enum ColumnType { Text, Integer, Real, Boolean, Json }

/// <summary>
/// One catalog record mapped onto its table: column values, natural key, compact payload, content fingerprint.
/// </summary>
public sealed record CatalogRow(
    IReadOnlyDictionary<string, object?> Values, string Key, string Payload, string ContentHash, string? Error);

/// <summary>
/// One column: its type, the record field it comes from (a dotted path reaches into a nested object), and the schema
/// version that added it, so old migrations keep creating exactly the tables they always created.
/// </summary>
public sealed record CatalogColumn(string Name, ColumnType Type, string? Field = null, int Since = 1)
{
    public string JsonField => Field ?? Name;
}

/// <summary>
/// The AIstock table of one catalog: its natural key, its columns (the ones the guide's SQL and AIstock use), and how a
/// record maps onto them. The whole record is kept as <c>payload</c>, and <c>content_hash</c> tells whether it changed.
/// </summary>
public sealed record CatalogTable(
    CatalogKind Kind, string Name, IReadOnlyList<string> Key, IReadOnlyList<CatalogColumn> Columns)
{
    /// <summary>
    /// The rows that have a bundle to name, as SQL for both stores: a loop without results (failed, still running) is
    /// in the loop table with no bundle, as it is in the catalog.
    /// </summary>
    public string Bundled => Kind == CatalogKind.Loop ? $"{HasResult} IS NOT FALSE" : "TRUE";

    /// <summary>A second natural key that must stay unique too (a model is also one per loop workspace).</summary>
    public IReadOnlyList<string> AlsoUnique { get; init; } = [];

    /// <summary>The five links every record carries, named as the records name them (<see cref="LoopLinks"/>).
    /// </summary>
    public static readonly IReadOnlyList<CatalogColumn> LinkColumns =
    [
        new(TaskRunId, ColumnType.Text), new(LoopId, ColumnType.Integer), new(WorkspaceId, ColumnType.Text),
        new(WorkspacePath, ColumnType.Text), new(AssetBundleId, ColumnType.Text),
    ];

    /// <summary>
    /// Which publisher a record came from (null: this machine's own RD-Agent). Records of two sources never overwrite
    /// each other.
    /// </summary>
    public static readonly CatalogColumn Origin =
        new(CatalogFields.Origin, ColumnType.Text, Field: "\u0000origin", Since: 3);

    /// <summary>The factor metrics AIstock sorts and filters by, as real columns (indexable) beside the JSON.</summary>
    public static readonly IReadOnlyList<string> FactorMetrics =
        ["ic", "icir", "rank_ic", "rank_icir", "annualized_return", "information_ratio", "max_drawdown"];

    /// <summary>
    /// The schema version that added the columns of RD-Agent's texts and of loops without results (a loop's
    /// hypothesis, step and error, a factor's formulation, a model's task), so a migration adds exactly these.
    /// </summary>
    public const int ResearchTextsVersion = 4;

    private static CatalogColumn Texts(string name, string? field = null) =>
        new(name, ColumnType.Text, field, Since: ResearchTextsVersion);

    private static IEnumerable<CatalogColumn> MetricColumns(string field) =>
        FactorMetrics.Select(m => new CatalogColumn(m, ColumnType.Real, $"{field}.{m}", Since: 3));

    public static readonly CatalogTable Factor = new(CatalogKind.Factor, "aistock_factor_catalog", [FactorId],
    [
        new(FactorId, ColumnType.Text), new(CatalogFields.Name, ColumnType.Text), new(Source, ColumnType.Text),
        new(Expression, ColumnType.Text), new(Fingerprint, ColumnType.Text), new(DescriptionCn, ColumnType.Text),
        .. LinkColumns, new(InputSchema, ColumnType.Json), new(Tags, ColumnType.Json),
        new(PerformanceMetrics, ColumnType.Json), new(Occurrences, ColumnType.Integer),
        new(Provenance, ColumnType.Json), .. MetricColumns(PerformanceMetrics), Origin, Texts(FormulaHint),
    ]);

    public static readonly CatalogTable Model = new(CatalogKind.Model, "aistock_model_catalog", [ModelId],
    [
        new(ModelId, ColumnType.Text), .. LinkColumns, new(LogDir, ColumnType.Text),
        new(ModelType, ColumnType.Text), new(ModelModule, ColumnType.Text), new(NetworkClass, ColumnType.Text),
        new(ModelConfig, ColumnType.Json), new(DatasetConfig, ColumnType.Json),
        new(PreprocessConfig, ColumnType.Json), new(FeatureSchema, ColumnType.Json),
        new(ModelArtifacts, ColumnType.Json), new(Metrics, ColumnType.Json), Origin,
        Texts(RdAgentModelType), Texts("model_name", $"{ModelTask}.{ModelTaskName}"),
    ]) { AlsoUnique = [TaskRunId, LoopId, WorkspaceId] };

    public static readonly CatalogTable Strategy = new(
        CatalogKind.Strategy, "aistock_strategy_catalog", [StrategyId],
    [
        new(StrategyId, ColumnType.Text), .. LinkColumns, new(ConfigFingerprint, ColumnType.Text),
        new(CatalogFields.Action, ColumnType.Text), new(ModelType, ColumnType.Text),
        new(PortfolioConfig, ColumnType.Json), new(BacktestConfig, ColumnType.Json), new(FeatureList, ColumnType.Json),
        new(PythonImplementation, ColumnType.Json), new(Metrics, ColumnType.Json), Origin,
    ]);

    public static readonly CatalogTable Loop = new(CatalogKind.Loop, "aistock_loop_catalog", [TaskRunId, LoopId],
    [
        .. LinkColumns, new(LogDir, ColumnType.Text), new(Scenario, ColumnType.Text),
        new(CatalogFields.Action, ColumnType.Text), new(Status, ColumnType.Text), new(HasResult, ColumnType.Boolean),
        new(IsSolidified, ColumnType.Boolean), new(StartedAtUtc, ColumnType.Text),
        new(EndedAtUtc, ColumnType.Text), new(StrategyId, ColumnType.Text),
        new(ConfigFingerprint, ColumnType.Text), new(ModelType, ColumnType.Text),
        new(FactorNames, ColumnType.Json), new(AnnualizedReturn, ColumnType.Real),
        new(MaxDrawdown, ColumnType.Real), new(InformationRatio, ColumnType.Real), new(Ic, ColumnType.Real),
        new(IcIr, ColumnType.Real), new(RankIc, ColumnType.Real), new(Decision, ColumnType.Boolean),
        new(Metrics, ColumnType.Json), new(SummaryTexts, ColumnType.Json), new(Paths, ColumnType.Json), Origin,
        Texts(StepName), Texts(ErrorType), Texts(Hypothesis),
    ]);

    /// <summary>
    /// The schema version from which SQLite computes the JSON columns from the payload when they are read (virtual
    /// generated columns), instead of storing every record's JSON twice: a factor row was 3.4 KB, one a 4 KB page.
    /// </summary>
    public const int PayloadColumnsVersion = 9;

    /// <summary>
    /// Whether this JSON column is the payload's field as it stands, so that SQLite can compute it from the payload.
    /// A loop's <c>metrics</c> is not: a catalog of the Python tools names them as Qlib does, and the column holds
    /// RdBridge's names (what the <c>loops</c> view's <c>metrics_json</c> and the guide's SQL read).
    /// </summary>
    public bool FromPayload(CatalogColumn c) =>
        c.Type == ColumnType.Json && !c.JsonField.Contains('.') && !(Kind == CatalogKind.Loop && c.Name == Metrics);

    /// <summary>
    /// The column as SQLite computes it from the payload: the field's JSON text, compact (the payload is written
    /// compactly), and SQL NULL for a missing field or a JSON null, as the import stored them before version 9.
    /// </summary>
    public static string PayloadExpression(CatalogColumn c) => $"NULLIF(payload -> '$.{c.JsonField}', 'null')";

    /// <summary>
    /// The most bytes a text column that an index holds (ids, names, sources, states, times) may take: PostgreSQL's
    /// index entry is at most 2,704 bytes (two such columns share one), and both stores refuse the same records.
    /// </summary>
    public const int IndexedTextBytes = 1_000;

    private static readonly HashSet<string> IndexedTexts = new(StringComparer.Ordinal)
    {
        FactorId, ModelId, StrategyId, CatalogFields.Name, Source, TaskRunId, WorkspaceId, AssetBundleId,
        CatalogFields.Origin, ModelType, Status, StepName, StartedAtUtc, EndedAtUtc,
    };

    public static CatalogTable For(CatalogKind kind) => kind switch
    {
        CatalogKind.Factor => Factor,
        CatalogKind.Model => Model,
        CatalogKind.Strategy => Strategy,
        _ => Loop,
    };

    public static readonly IReadOnlyList<CatalogTable> All = [Factor, Model, Strategy, Loop];

    /// <summary>The record's natural key as text, for messages and duplicate detection.</summary>
    public string KeyOf(IReadOnlyDictionary<string, object?> values) =>
        string.Join("/", Key.Select(k => values[k]?.ToString() ?? "∅"));

    /// <summary>
    /// Maps a record onto the columns; missing fields become null. The payload is the record written compactly (its
    /// property order and number text kept), and its SHA-256 is the content fingerprint that decides whether a stored
    /// row changed: RdBridge writes its catalogs deterministically, so the same record gives the same fingerprint.
    /// </summary>
    public CatalogRow Map(JsonElement record, string? origin = null)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var c in Columns)
            values[c.Name] = Field(record, c.JsonField) is { } v ? Convert(v, c.Type) : null;
        values[Origin.Name] = origin;
        ApplyLegacyFallbacks(record, values);
        var buffer = t_buffer ??= new System.Buffers.ArrayBufferWriter<byte>(16 * 1024);
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        record.WriteTo(writer);
        writer.Flush();
        var payload = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        var missing = Key.Where(k => values[k] is null or "").ToList();
        // A record from another source is a different record even with the same content.
        if (origin is not null)
        {
            System.Buffers.BuffersExtensions.Write(buffer, "\n@"u8);
            System.Buffers.BuffersExtensions.Write(buffer, System.Text.Encoding.UTF8.GetBytes(origin));
        }
        var errors = new List<string>();
        if (missing.Count > 0) errors.Add($"record has no {string.Join(", ", missing)}");
        if (TwiceGiven(record) is { } twice)
            errors.Add($"property '{twice}' is given twice; which value is meant is unclear — write it once");
        foreach (var c in Columns.Where(c => c.Type == ColumnType.Text && IndexedTexts.Contains(c.Name)))
        {
            if (values[c.Name] is string s && System.Text.Encoding.UTF8.GetByteCount(s) is var bytes
                && bytes > IndexedTextBytes)
            {
                errors.Add($"field '{c.JsonField}' is {bytes:N0} bytes, more than the {IndexedTextBytes:N0} an id, " +
                    "name or other indexed field may hold");
            }
        }
        if (BeyondADouble(record, "") is { } big)
        {
            errors.Add($"'{big.Path}' is {Visible.Text(Visible.Cut(big.Text, 40))}, beyond what a number can hold "
                + "here (a double: ±1.8e308); write a finite number, or null when there is none");
        }
        foreach (var c in Columns.Where(c => c.Type == ColumnType.Integer))
            if (values[c.Name] is long n && n < 0) errors.Add($"{c.Name} is {n}; an id or a count is never negative");
        return new CatalogRow(values, KeyOf(values), payload, FileDigest.Sha256OfBytes(buffer.WrittenSpan),
            errors.Count > 0 ? string.Join("; ", errors) : null);
    }

    /// <summary>
    /// The first property name a record gives twice. JSON readers keep one of the two silently (the last, here), so
    /// such a record is refused rather than stored with a value its writer may not have meant.
    /// </summary>
    private static string? TwiceGiven(JsonElement record)
    {
        if (record.ValueKind != JsonValueKind.Object) return null;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in record.EnumerateObject())
            if (!names.Add(p.Name)) return p.Name;
        return null;
    }

    /// <summary>
    /// The first number in the record, at any depth, that a double cannot hold (<c>1e400</c>). Stored, it would read
    /// back as infinity, which no JSON can carry: the API's answer for its loop or factor would fail as a whole.
    /// </summary>
    private static (string Path, string Text)? BeyondADouble(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                return e.TryGetDouble(out var d) && double.IsFinite(d) ? null : (path, e.GetRawText());
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    if (BeyondADouble(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}") is { } found)
                        return found;
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    if (BeyondADouble(item, $"{path}[{i++}]") is { } found) return found;
                }
                return null;
            default:
                return null;
        }
    }

    private static JsonElement? Field(JsonElement record, string path)
    {
        if (!path.Contains('.'))
        {
            return record.ValueKind == JsonValueKind.Object && record.TryGetProperty(path, out var direct)
                ? direct
                : null;
        }

        var current = record;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out var next)) return null;
            current = next;
        }
        return current;
    }

    // Mapping runs for every record of a 200,000-row catalog: one reusable buffer per thread instead of one per record.
    [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    // Catalogs written by the Python tools lack RdBridge's ids; derive them the way RdBridge would.
    private void ApplyLegacyFallbacks(JsonElement record, Dictionary<string, object?> values)
    {
        if (Kind == CatalogKind.Factor && values[FactorId] is null && values[CatalogFields.Name] is string name)
        {
            var source = values[Source] as string ?? "rdagent_generated";
            values[Source] = source;
            var expression = values[Expression] as string
                ?? (record.TryGetProperty(FormulaHint, out var fh) && fh.ValueKind == JsonValueKind.String
                    ? fh.GetString()
                    : null);
            var fingerprint = FactorIdentity.Fingerprint(source, expression, null, name);
            values[FactorId] = FactorIdentity.FactorId(fingerprint);
            values[Fingerprint] ??= fingerprint;
        }
        if (Kind == CatalogKind.Model && values[ModelId] is null && values[TaskRunId] is string tr
            && values[LoopId] is long l)
        {
            values[ModelId] = $"model_{tr}_{l}";
        }

        if (Kind == CatalogKind.Loop && record.TryGetProperty(Metrics, out var metrics)
            && metrics.ValueKind == JsonValueKind.Object
            && CanonicalMetrics(metrics) is { } canonical)
        {
            values[Metrics] = canonical.ToJsonString();
            foreach (var (column, key) in new[]
            {
                (AnnualizedReturn, "annualized_return"), (MaxDrawdown, "max_drawdown"),
                (InformationRatio, "information_ratio"), (Ic, "ic"), (IcIr, "icir"), (RankIc, "rank_ic"),
            })
            {
                if (values[column] is null && canonical[key] is System.Text.Json.Nodes.JsonValue v
                    && v.TryGetValue<double>(out var d))
                {
                    values[column] = d;
                }
            }
        }
        // The Python tools called the information ratio "sharpe".
        if (Kind == CatalogKind.Loop && values[InformationRatio] is null
            && record.TryGetProperty("sharpe", out var sharpe) && sharpe.ValueKind == JsonValueKind.Number)
        {
            values[InformationRatio] = sharpe.GetDouble();
        }

        if (Kind == CatalogKind.Strategy && record.TryGetProperty("workspace_example", out var ex)
            && ex.ValueKind == JsonValueKind.Object)
        {
            foreach (var link in LinkColumns)
            {
                if (values[link.Name] is null && ex.TryGetProperty(link.Name, out var v))
                    values[link.Name] = Convert(v, link.Type);
            }
        }
    }

    /// <summary>
    /// Metrics in Qlib's own names, or in the shape an older exporter produced by reading <c>qlib_res.csv</c>
    /// sideways (<c>{"Unnamed: 0": "&lt;metric&gt;", "0": value}</c>), turned into RdBridge's canonical names; null
    /// when they already are.
    /// </summary>
    internal static System.Text.Json.Nodes.JsonObject? CanonicalMetrics(JsonElement metrics)
    {
        var byQlibName = Metadata.MetricNames.Canonical.ToDictionary(c => c.QlibName, c => c.Canonical);
        var result = new System.Text.Json.Nodes.JsonObject();
        var nameProperty = metrics.TryGetProperty("Unnamed: 0", out var n) ? n
            : metrics.TryGetProperty("", out var e) ? e
            : default;
        if (nameProperty.ValueKind == JsonValueKind.String && metrics.TryGetProperty("0", out var value)
            && value.ValueKind == JsonValueKind.Number)
        {
            var name = nameProperty.GetString()!.Trim();
            result[byQlibName.GetValueOrDefault(name, name)] = value.GetDouble();
            return result;
        }
        var changed = false;
        foreach (var p in metrics.EnumerateObject())
        {
            var key = byQlibName.GetValueOrDefault(p.Name.Trim(), p.Name);
            changed |= key != p.Name;
            result[key] = System.Text.Json.Nodes.JsonNode.Parse(p.Value.GetRawText());
        }
        return changed ? result : null;
    }

    private static object? Convert(JsonElement v, ColumnType type) => v.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => type switch
        {
            ColumnType.Json => v.GetRawText(),
            ColumnType.Integer => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) ? l
                : v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), out var ls) ? ls : null,
            ColumnType.Real => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null,
            ColumnType.Boolean => v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number => v.GetDouble() != 0,
                JsonValueKind.String => v.GetString() is "1" or "true" or "True",
                _ => null,
            },
            _ => v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText(),
        },
    };
}
