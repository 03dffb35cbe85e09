using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RdBridge.IO;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace RdBridge.Backfill;

/// <summary>
/// A Qlib workflow YAML as found in a workspace. RD-Agent leaves its templates un-rendered (Jinja <c>{{ }}</c> and
/// <c>{% %}</c>); they are rendered here the way <c>qrun</c> would with no variables set: each placeholder takes its
/// <c>default(…)</c>, the base feature lists take RD-Agent's default Alpha20 set, anything else becomes null.
/// </summary>
public sealed partial class WorkflowConfig
{
    public string FileName { get; }
    public JsonObject Root { get; }
    /// <summary>Jinja placeholders that were filled with a default rather than a real value.</summary>
    public IReadOnlyList<string> Defaulted { get; }

    private WorkflowConfig(string fileName, JsonObject root, IReadOnlyList<string> defaulted)
    {
        FileName = fileName;
        Root = root;
        Defaulted = defaulted;
    }

    /// <summary>Reads a regular file of at most <see cref="ReadLimits.WorkflowYaml"/> bytes and parses it.</summary>
    public static WorkflowConfig Load(string path) =>
        Parse(RegularFile.ReadAllText(path, ReadLimits.WorkflowYaml), Path.GetFileName(path));

    /// <summary>
    /// Parses within <see cref="ReadLimits"/>: size, nesting depth, and the number of values once aliases are expanded
    /// (a few lines of nested aliases can stand for billions). Whatever goes wrong is a <see cref="FormatException"/>
    /// naming the file, the caller's problem with this one item.
    /// </summary>
    public static WorkflowConfig Parse(string text, string fileName)
    {
        if (text.Length > ReadLimits.WorkflowYaml)
        {
            throw new FormatException($"{fileName} holds {text.Length:N0} characters, more than the " +
                $"{ReadLimits.WorkflowYaml:N0} a workflow YAML may have");
        }

        var defaulted = new List<string>();
        var stream = new YamlStream();
        try
        {
            var rendered = Render(text, defaulted);
            CheckNesting(rendered, fileName);
            stream.Load(new StringReader(rendered));
        }
        catch (YamlException e)
        {
            throw new FormatException($"{fileName} is not valid YAML (line {e.Start.Line}): {e.Message}");
        }
        catch (RegexMatchTimeoutException)
        {
            throw new FormatException($"{fileName} holds template tags that take too long to render; it is not " +
                $"a workflow YAML");
        }
        catch (Exception e) when (e is not (FormatException or OutOfMemoryException or OperationCanceledException))
        {
            throw new FormatException($"{fileName} cannot be parsed as YAML: {e.Message}");
        }
        var budget = ReadLimits.YamlNodes;
        if (stream.Documents.Count == 0
            || ToJson(stream.Documents[0].RootNode, 0, ref budget, fileName) is not JsonObject root)
        {
            throw new FormatException($"{fileName} does not hold a YAML mapping");
        }

        return new WorkflowConfig(fileName, root, defaulted);
    }

    /// <summary>
    /// Walks the parser's events (which keep no stack of their own) to refuse nesting deeper than the limit before
    /// the document model, which recurses once per level, is built: a million '[' would otherwise end the process.
    /// </summary>
    private static void CheckNesting(string rendered, string fileName)
    {
        var parser = new Parser(new StringReader(rendered));
        var depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case MappingStart or SequenceStart when ++depth > ReadLimits.YamlDepth:
                    throw new FormatException($"{fileName} nests deeper than {ReadLimits.YamlDepth} levels");
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
        }
    }

    internal static string Render(string text, List<string> defaulted)
    {
        text = IfBlock().Replace(text, m => { defaulted.Add(m.Groups[1].Value); return ""; });
        text = OtherTag().Replace(text, "");
        return Placeholder().Replace(text, m =>
        {
            var name = m.Groups["name"].Value;
            defaulted.Add(name);
            if (m.Groups["default"].Success)
            {
                var d = m.Groups["default"].Value.Trim();
                return d is "null" or "None" ? "null" : d.Trim('"', '\'');
            }
            return name switch
            {
                "feature_names" => "[" + string.Join(", ", Alpha20.Factors.Select(f => Quote(f.Name))) + "]",
                "feature_expressions" =>
                    "[" + string.Join(", ", Alpha20.Factors.Select(f => Quote(f.Expression))) + "]",
                _ => "null",
            };
        });
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>
    /// The document as JSON. An alias is a reference to the anchored node, so expanding it copies that node again:
    /// <paramref name="budget"/> counts every value written and stops an alias bomb long before memory runs out.
    /// </summary>
    private static JsonNode? ToJson(YamlNode node, int depth, ref int budget, string fileName)
    {
        if (depth > ReadLimits.YamlDepth)
            throw new FormatException($"{fileName} nests deeper than {ReadLimits.YamlDepth} levels");
        if (--budget < 0)
        {
            throw new FormatException($"{fileName} expands to more than {ReadLimits.YamlNodes:N0} values once " +
                $"its aliases are followed");
        }

        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    var key = k is YamlScalarNode ks ? ks.Value ?? "" : k.ToString();
                    obj[key] = ToJson(v, depth + 1, ref budget, fileName);
                }
                return obj;
            case YamlSequenceNode seq:
                var arr = new JsonArray();
                foreach (var item in seq.Children) arr.Add(ToJson(item, depth + 1, ref budget, fileName));
                return arr;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                return null;
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var v = scalar.Value;
        if (scalar.Style is not ScalarStyle.Plain) return JsonValue.Create(v);
        if (v is null or "" or "~" or "null" or "Null" or "NULL") return null;
        if (v is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (v is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return JsonValue.Create(l);
        if (FloatLike().IsMatch(v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            return JsonValue.Create(d);
        return JsonValue.Create(v);
    }

    public JsonNode? Get(string dottedPath) => Get(Root, dottedPath);

    public static JsonNode? Get(JsonNode? node, string dottedPath)
    {
        foreach (var part in dottedPath.Split('.'))
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(part, out node)) return null;
        }
        return node;
    }

    public static string? Text(JsonNode? node) => node is JsonValue v ? v.ToString() : null;

    public JsonObject? Model => Get("task.model") as JsonObject;
    public JsonObject? Dataset => Get("task.dataset") as JsonObject;
    public JsonObject? Handler => Get("task.dataset.kwargs.handler") as JsonObject;
    public JsonObject? HandlerKwargs =>
        Get("task.dataset.kwargs.handler.kwargs") as JsonObject ?? Get("data_handler_config") as JsonObject;

    /// <summary>The portfolio strategy: <c>port_analysis_config.strategy</c>, else the
    /// <c>PortAnaRecord</c>'s.</summary>
    public JsonObject? Strategy =>
        Get("port_analysis_config.strategy") as JsonObject ?? PortAnaConfig?["strategy"] as JsonObject;
    public JsonObject? Backtest =>
        Get("port_analysis_config.backtest") as JsonObject ?? PortAnaConfig?["backtest"] as JsonObject;

    private JsonObject? PortAnaConfig =>
        (Get("task.record") as JsonArray)?.OfType<JsonObject>()
            .FirstOrDefault(r => Text(r["class"]) == "PortAnaRecord")?["kwargs"]?["config"] as JsonObject;

    /// <summary>The base features the model receives, with whether the config told all of them.</summary>
    public FeatureList Features() => FeatureList.Of(this);

    /// <summary>The base features whose expression the config gives (see <see cref="Features"/>).</summary>
    public IReadOnlyList<(string Name, string Expression)> BaseFeatures() =>
        Features().Features.Where(f => f.Expression is not null).Select(f => (f.Name, f.Expression!)).ToList();

    /// <summary>Whether the run loads RD-Agent's generated factors (<c>combined_factors_df.parquet</c>).</summary>
    public bool LoadsGeneratedFactors => Features().LoadsGeneratedFactors;

    internal IEnumerable<JsonObject> Loaders()
    {
        var kwargs = HandlerKwargs;
        var dataLoader = kwargs?["data_loader"] as JsonObject;
        if (dataLoader is null) yield break;
        if (Get(dataLoader, "kwargs.dataloader_l") is JsonArray list)
        {
            foreach (var l in list.OfType<JsonObject>()) yield return l;
        }
        else
        {
            yield return dataLoader;
        }
    }

    [GeneratedRegex(@"\{%-?\s*if\s+(\w+)[^%]*%\}.*?\{%-?\s*endif\s*-?%\}", RegexOptions.Singleline,
        ReadLimits.PatternMilliseconds)]
    private static partial Regex IfBlock();
    [GeneratedRegex(@"\{%.*?%\}", RegexOptions.Singleline, ReadLimits.PatternMilliseconds)]
    private static partial Regex OtherTag();
    [GeneratedRegex(
        @"\{\{\s*(?<name>\w+)\s*(?:\|\s*default\(\s*" +
        @"(?<default>""[^""]*""|'[^']*'|[^,)]+?)\s*(?:,\s*\w+\s*)?\))?\s*\}\}",
        RegexOptions.None, ReadLimits.PatternMilliseconds)]
    private static partial Regex Placeholder();
    [GeneratedRegex(@"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")] private static partial Regex FloatLike();
}
