using Mono.Cecil;

namespace RdBridge.Tests.Architecture;

/// <summary>
/// The folders of RdBridge.Core (one namespace each) must depend on each other in one direction only: shared run types
/// and file layouts at the bottom, stages above them, the orchestration on top. The graph is read from the compiled
/// code (signatures, bodies, attributes), so a fully qualified name or a <c>using static</c> counts as much as a
/// <c>using</c>.
/// </summary>
public class FolderDependencyTests
{
    [Fact]
    public void Core_folders_form_no_dependency_cycle()
    {
        var graph = CoreFolderGraph.Read();
        var cycles = graph.StronglyConnectedFolders().Where(c => c.Count > 1).ToList();
        var explanation = string.Join("\n", cycles.Select(c =>
            $"cycle through {string.Join(", ", c)}:\n" + string.Join("\n",
                graph.Edges.Where(e => c.Contains(e.Key.From) && c.Contains(e.Key.To))
                    .Select(e => $"  {e.Key.From} -> {e.Key.To} (e.g. {e.Value})"))));
        Assert.True(cycles.Count == 0, explanation);
    }

    [Fact]
    public void Each_core_source_file_is_in_the_namespace_of_its_folder()
    {
        var core = Path.Combine(Paths.RepoRoot, "src", "RdBridge.Core");
        var wrong = new List<string>();
        foreach (var file in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(core, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal)
                || relative.StartsWith("bin", StringComparison.Ordinal))
            {
                continue;
            }
            // A file at the top holds what every folder shares (the exception base): the root namespace.
            var folder = Path.GetDirectoryName(relative)!.Replace(Path.DirectorySeparatorChar, '.');
            var expected = folder.Length == 0 ? "namespace RdBridge" : $"namespace RdBridge.{folder}";
            var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("namespace ", StringComparison.Ordinal));
            if (line?.TrimEnd(';') != expected) wrong.Add($"{relative}: {line}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void The_readme_draws_the_folder_graph_as_it_is()
    {
        // The Layout section of the README holds the drawing between two markers; a change of the graph fails here
        // with the drawing to paste.
        var readme = File.ReadAllText(Path.Combine(Paths.RepoRoot, "README.md"));
        const string start = "<!-- folder graph: tests/RdBridge.Tests/Architecture/FolderDependencyTests.cs -->";
        const string end = "<!-- end of folder graph -->";
        var from = readme.IndexOf(start, StringComparison.Ordinal);
        var to = readme.IndexOf(end, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, $"README.md has no folder graph between '{start}' and '{end}'");
        var drawn = readme[(from + start.Length)..to].Trim().ReplaceLineEndings("\n");
        var actual = CoreFolderGraph.Read().Drawing();
        Assert.True(drawn == actual,
            $"README.md's folder graph is out of date; put this between the markers:\n{actual}");
    }

    [Fact]
    public void The_cycle_check_sees_dependencies_through_bodies_and_signatures()
    {
        // The check is only worth something if it sees the edges: these exist for sure in the pipeline's own code.
        var graph = CoreFolderGraph.Read();
        Assert.Contains(("Pipeline", "Bundles"), graph.Edges.Keys);
        Assert.Contains(("Bundles", "IO"), graph.Edges.Keys);
        Assert.DoesNotContain(graph.Edges.Keys, e => e.From == e.To);
    }
}

/// <summary>The folder graph of RdBridge.Core, read from its compiled assembly with Mono.Cecil.</summary>
public sealed class CoreFolderGraph
{
    /// <summary>Each edge with one example reference that makes it, for the failure message.</summary>
    public Dictionary<(string From, string To), string> Edges { get; } = [];

    public static CoreFolderGraph Read()
    {
        var graph = new CoreFolderGraph();
        var path = typeof(RdBridge.Configuration.PathMap).Assembly.Location;
        using var module = ModuleDefinition.ReadModule(path);
        foreach (var type in module.GetTypes())
        {
            var from = FolderOf(type);
            if (from is null) continue;
            foreach (var (target, via) in References(type))
            {
                if (target.Module != module && target.Scope != module) continue;
                var to = FolderOf(target);
                if (to is null || to == from) continue;
                graph.Edges.TryAdd((from, to), $"{type.FullName} uses {target.FullName} in {via}");
            }
        }
        return graph;
    }

    /// <summary>
    /// The graph in layers, top first: a folder sits one layer above the highest folder it uses, so every arrow points
    /// down. Each line names a folder and what it uses.
    /// </summary>
    public string Drawing()
    {
        var folders = Edges.Keys.SelectMany(e => new[] { e.From, e.To }).Distinct()
            .Order(StringComparer.Ordinal).ToList();
        var uses = folders.ToDictionary(f => f, f => Edges.Keys.Where(e => e.From == f).Select(e => e.To)
            .Order(StringComparer.Ordinal).ToList());
        var layer = new Dictionary<string, int>();
        int Layer(string f) =>
            layer.TryGetValue(f, out var l) ? l : layer[f] = uses[f].Select(Layer).DefaultIfEmpty(-1).Max() + 1;
        var lines = new List<string> { "```text" };
        foreach (var group in folders.GroupBy(Layer).OrderByDescending(g => g.Key))
        {
            foreach (var f in group)
            {
                // Wrapped so the drawing fits the README's 120 columns.
                var line = $"{group.Key,2}  {f,-14}";
                for (var i = 0; i < uses[f].Count; i++)
                {
                    var item = (i == 0 ? " -> " : " ") + uses[f][i] + (i < uses[f].Count - 1 ? "," : "");
                    if (line.Length + item.Length > 100)
                    {
                        lines.Add(line);
                        line = new string(' ', 20);
                        item = item.TrimStart();
                    }
                    line += item;
                }
                lines.Add(line.TrimEnd());
            }
        }
        lines.Add("```");
        return string.Join("\n", lines);
    }

    /// <summary>Tarjan's algorithm: the sets of folders that reach each other.</summary>
    public List<List<string>> StronglyConnectedFolders()
    {
        var nodes = Edges.Keys.SelectMany(e => new[] { e.From, e.To }).Distinct()
            .Order(StringComparer.Ordinal).ToList();
        var next = nodes.ToDictionary(n => n, n => Edges.Keys.Where(e => e.From == n).Select(e => e.To).ToList());
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var result = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            foreach (var w in next[v])
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (stack.Contains(w))
                {
                    low[v] = Math.Min(low[v], index[w]);
                }
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string u;
            do { u = stack.Pop(); component.Add(u); } while (u != v);
            result.Add(component);
        }
        foreach (var n in nodes) if (!index.ContainsKey(n)) Visit(n);
        return result;
    }

    private static string? FolderOf(TypeReference type)
    {
        while (type.IsNested) type = type.DeclaringType;
        const string root = "RdBridge.";
        return type.Namespace.StartsWith(root, StringComparison.Ordinal) ? type.Namespace[root.Length..] : null;
    }

    private static IEnumerable<(TypeReference Target, string Via)> References(TypeDefinition type)
    {
        var found = new List<(TypeReference, string)>();
        void Add(TypeReference? t, string via)
        {
            switch (t)
            {
                case null: return;
                case GenericInstanceType g:
                    Add(g.ElementType, via);
                    foreach (var a in g.GenericArguments) Add(a, via);
                    return;
                case TypeSpecification s: Add(s.ElementType, via); return;
                case GenericParameter: return;
                default: found.Add((t, via)); return;
            }
        }
        void AddAttributes(Mono.Collections.Generic.Collection<CustomAttribute> attributes, string via)
        {
            foreach (var a in attributes) Add(a.AttributeType, via);
        }
        void AddMethod(MethodReference m, string via)
        {
            Add(m.DeclaringType, via);
            Add(m.ReturnType, via);
            foreach (var p in m.Parameters) Add(p.ParameterType, via);
            if (m is GenericInstanceMethod gm) foreach (var a in gm.GenericArguments) Add(a, via);
        }

        Add(type.BaseType, "its base type");
        foreach (var i in type.Interfaces) Add(i.InterfaceType, "its interfaces");
        AddAttributes(type.CustomAttributes, "an attribute");
        foreach (var f in type.Fields) Add(f.FieldType, $"field {f.Name}");
        foreach (var p in type.Properties) Add(p.PropertyType, $"property {p.Name}");
        foreach (var m in type.Methods)
        {
            var via = $"method {m.Name}";
            AddMethod(m, via);
            AddAttributes(m.CustomAttributes, via);
            if (!m.HasBody) continue;
            foreach (var v in m.Body.Variables) Add(v.VariableType, via);
            foreach (var instruction in m.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t: Add(t, via); break;
                    case MethodReference r: AddMethod(r, via); break;
                    case FieldReference f: Add(f.DeclaringType, via); Add(f.FieldType, via); break;
                }
            }
            foreach (var h in m.Body.ExceptionHandlers) Add(h.CatchType, via);
        }
        return found;
    }
}
