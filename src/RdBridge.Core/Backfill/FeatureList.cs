using System.Text.Json.Nodes;

namespace RdBridge.Backfill;

/// <summary>
/// The base features a workflow's model receives, as far as the config tells: the expressions its data loaders list
/// (Qlib's, RD-Agent's nested loader, the AIstock fork's combined loaders), or the fixed set of a handler class Qlib
/// defines (<c>Alpha158</c>, <c>Alpha360</c>), then cut down by a <c>FilterCol</c> processor. Where the config does
/// not say (a handler or loader whose features live in its code), <see cref="Complete"/> is false and
/// <see cref="Reason"/> says why: an unknown shape never reads as "no features".
/// </summary>
public sealed record FeatureList(
    IReadOnlyList<(string Name, string? Expression)> Features, bool LoadsGeneratedFactors, bool Complete,
    string? Reason)
{
    public static FeatureList Of(WorkflowConfig config)
    {
        var features = new List<(string Name, string? Expression)>();
        var unknown = new List<string>();
        var loadsGenerated = false;
        var loaders = config.Loaders().ToList();
        var handler = WorkflowConfig.Text(config.Handler?["class"]);
        if (loaders.Count == 0)
        {
            var fixedSet = HandlerFeatures(handler);
            if (fixedSet is not null)
            {
                features.AddRange(fixedSet.Select(f => (f.Name, (string?)f.Expression)));
            }
            else if (config.Handler is not null)
            {
                unknown.Add($"handler '{handler ?? "(no class)"}' computes its features in code "
                    + "and lists none in the config");
            }
        }
        foreach (var loader in loaders)
        {
            var cls = WorkflowConfig.Text(loader["class"]) ?? "(no class)";
            var kwargs = loader["kwargs"] as JsonObject;
            var listed = Listed(WorkflowConfig.Get(kwargs, "config.feature"))
                ?? Listed(WorkflowConfig.Get(kwargs, "alpha158_config.feature"));
            var generated = cls.EndsWith("StaticDataLoader", StringComparison.Ordinal)
                || kwargs?["dynamic_path"] is not null || kwargs?["static_path"] is not null;
            loadsGenerated |= generated;
            if (listed is not null) features.AddRange(listed);
            else if (!generated) unknown.Add($"data loader '{cls}' lists no features the config shows");
        }
        var filter = FilterColumns(config);
        if (filter is not null) features = ApplyFilter(features, filter, unknown);
        var reason = unknown.Count == 0 ? null : string.Join("; ", unknown);
        return new FeatureList(features, loadsGenerated, unknown.Count == 0, reason);
    }

    private static IReadOnlyList<(string Name, string Expression)>? HandlerFeatures(string? handler) => handler switch
    {
        "Alpha158" or "qlib.contrib.data.handler.Alpha158" => Alpha158.Factors,
        "Alpha360" or "qlib.contrib.data.handler.Alpha360" => Alpha360.Factors,
        _ => null,
    };

    /// <summary><c>[[expressions], [names]]</c>, or a plain list of expressions that are their own names.</summary>
    private static List<(string, string?)>? Listed(JsonNode? feature)
    {
        if (feature is JsonArray { Count: 2 } pair && pair[0] is JsonArray exprs && pair[1] is JsonArray names
            && exprs.Count == names.Count)
        {
            var list = new List<(string, string?)>();
            for (var i = 0; i < names.Count; i++)
                if (WorkflowConfig.Text(names[i]) is { } n) list.Add((n, WorkflowConfig.Text(exprs[i])));
            return list;
        }
        if (feature is JsonArray plain && plain.All(e => e is JsonValue))
            return plain.Select(WorkflowConfig.Text).OfType<string>().Select(e => (e, (string?)e)).ToList();
        return null;
    }

    /// <summary>
    /// The <c>col_list</c> of a <c>FilterCol</c> on the feature group (infer processors run on all data).
    /// </summary>
    private static IReadOnlyList<string>? FilterColumns(WorkflowConfig config)
    {
        var kwargs = config.HandlerKwargs;
        foreach (var group in new[] { "infer_processors", "learn_processors" })
        {
            foreach (var p in (kwargs?[group] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (WorkflowConfig.Text(p["class"]) is not ("FilterCol" or "qlib.data.dataset.processor.FilterCol"))
                    continue;
                var fieldsGroup = WorkflowConfig.Text(p["kwargs"]?["fields_group"]);
                if (fieldsGroup is not (null or "feature")) continue;
                if (p["kwargs"]?["col_list"] is JsonArray cols)
                    return cols.Select(WorkflowConfig.Text).OfType<string>().ToList();
            }
        }

        return null;
    }

    /// <summary>Qlib's FilterCol keeps the listed columns in the data's own order.</summary>
    private static List<(string Name, string? Expression)> ApplyFilter(
        List<(string Name, string? Expression)> features, IReadOnlyList<string> columns, List<string> unknown)
    {
        var keep = columns.ToHashSet(StringComparer.Ordinal);
        var kept = features.Where(f => keep.Contains(f.Name)).ToList();
        var found = kept.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var missing = columns.Where(c => !found.Contains(c)).ToList();
        if (missing.Count == 0) return kept;
        if (unknown.Count == 0)
        {
            unknown.Add($"FilterCol lists {missing.Count} column(s) the loaders do not show "
                + $"({string.Join(", ", missing.Take(5))}); they come from generated factors or the data");
        }
        else
        {
            kept.AddRange(missing.Select(m => (m, (string?)null)));
        }
        return kept;
    }
}
