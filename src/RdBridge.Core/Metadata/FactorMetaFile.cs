using System.Text.Json.Nodes;

namespace RdBridge.Metadata;

/// <summary>
/// One factor of <c>factor_meta.json</c>. A base feature has its expression; a factor RD-Agent wrote has the code's
/// fingerprint, description and path; one only found as a column of the combined factors file says where.
/// </summary>
public sealed record FactorEntry(
    string Name, string? Source, string? Expression, string? DescriptionCn, string? CodeFingerprint,
    string? WorkspaceId, string? CodePath, string? FoundIn, JsonNode? InputSchema, IReadOnlyList<string> Tags)
{
    public const string BaseSource = "qlib_alpha158";
    public const string GeneratedSource = "rdagent_generated";

    /// <summary>RD-Agent's <c>FactorTask.factor_formulation</c> (often LaTeX), as the fork's
    /// <c>formula_hint</c>.</summary>
    public string? FormulaHint { get; init; }
    /// <summary>RD-Agent's <c>FactorTask.variables</c>: each symbol of the formulation and what it means.</summary>
    public JsonNode? Variables { get; init; }
    /// <summary>CoSTEER's last word on the factor's code (its <c>evolving feedback</c>); null where the log has none.
    /// </summary>
    public CoderFeedback? CoderFeedback { get; init; }

    /// <summary>Whether the loop's code wrote this factor (a <c>factor.py</c> of its own).</summary>
    public bool HasCode => CodeFingerprint is not null;

    public JsonObject ToJson()
    {
        var o = new JsonObject { ["name"] = Name, ["source"] = Source };
        if (Expression is not null) o["expression"] = Expression;
        if (HasCode)
        {
            o["description_cn"] = DescriptionCn;
            o["code_fingerprint"] = CodeFingerprint;
        }
        o["workspace_id"] = WorkspaceId;
        if (HasCode) o["code_path"] = CodePath;
        if (FormulaHint is not null) o["formula_hint"] = FormulaHint;
        if (Variables is not null) o["variables"] = MetadataJson.Copy(Variables);
        if (CoderFeedback is not null) o["coder_feedback"] = CoderFeedback.ToJson();
        if (FoundIn is not null) o["found_in"] = FoundIn;
        o["input_schema"] = MetadataJson.Copy(InputSchema);
        o["tags"] = MetadataJson.TextArray(Tags);
        return o;
    }

    /// <summary>The entry, or null when it has no name (nothing can refer to it).</summary>
    public static FactorEntry? From(JsonNode? node)
    {
        if (node is not JsonObject o || MetadataJson.Text(o["name"]) is not { } name) return null;
        return new FactorEntry(name, MetadataJson.Text(o["source"]), MetadataJson.Text(o["expression"]),
            MetadataJson.Text(o["description_cn"]), MetadataJson.Text(o["code_fingerprint"]),
            MetadataJson.Text(o["workspace_id"]), MetadataJson.Text(o["code_path"]), MetadataJson.Text(o["found_in"]),
            MetadataJson.Copy(o["input_schema"]), MetadataJson.Texts(o["tags"]))
        {
            FormulaHint = MetadataJson.Text(o["formula_hint"]),
            Variables = MetadataJson.Copy(o["variables"]),
            CoderFeedback = CoderFeedback.From(o["coder_feedback"]),
        };
    }
}

/// <summary><c>factor_meta.json</c>: every factor the loop's model received, base features first.</summary>
public sealed record FactorMetaFile(MetadataOrigin Origin, string? ConfigFile, IReadOnlyList<FactorEntry> Factors)
{
    public const string FileName = "factor_meta.json";

    /// <summary>The rule that chose <see cref="ConfigFile"/>.</summary>
    public string? ConfigSource { get; init; }

    public JsonObject ToJson()
    {
        var o = Origin.NewObject();
        o["config_file"] = ConfigFile;
        o["config_source"] = ConfigSource;
        o["factors"] = new JsonArray(Factors.Select(f => (JsonNode?)f.ToJson()).ToArray());
        return o;
    }

    public static FactorMetaFile From(JsonObject o) => new(MetadataOrigin.From(o), MetadataJson.Text(o["config_file"]),
        o["factors"] is JsonArray a ? a.Select(FactorEntry.From).OfType<FactorEntry>().ToList() : [])
    {
        ConfigSource = MetadataJson.Text(o["config_source"]),
    };

    public static FactorMetaFile Read(string path) => From(MetadataJson.ReadObject(path));
}
