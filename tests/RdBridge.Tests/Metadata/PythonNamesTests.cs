using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Metadata;

namespace RdBridge.Tests.Metadata;

/// <summary>
/// The Python names and literals RdBridge writes into generated code, checked by CPython itself: a literal must read
/// back as the value it was made from, in the form Python's own <c>ascii()</c> gives; an identifier must be one Python
/// accepts, and follow the documented rule, computed here again in Python.
/// </summary>
public class PythonNamesTests
{
    /// <summary>Runs <paramref name="script"/> with CPython, the JSON file <c>in.json</c> beside it, and returns what
    /// it printed.</summary>
    private static string Python(JsonNode input, string script)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["in.json"], input.ToJsonString());
        File.WriteAllText(dir["check.py"], script);
        var psi = new ProcessStartInfo("python3", ["check.py"])
        {
            WorkingDirectory = dir.Path, RedirectStandardError = true, RedirectStandardOutput = true,
        };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
        return output.Result;
    }

    // Every branch of the escaping: backslash, newline, carriage return, tab, the other control characters, DEL, the
    // edges of Latin-1, of the basic plane and beyond it.
    private static readonly string[] Texts =
    [
        "plain text", "back\\slash", "line\nbreak", "cr\rlf", "tab\there", "nul\0bell\a", "\u001f\u0020\u007e",
        "del\u007f", "\u0080\u00e9\u00ff", "\u0100中文\uffff", "emoji \U0001F600 and \U0010FFFF", "",
    ];

    [Fact]
    public void A_string_literal_is_the_one_python_s_ascii_gives_and_reads_back_as_the_text()
    {
        var literals = Texts.Select(PythonNames.StringLiteral).ToList();
        // Every character printable ASCII, so no editor or encoding can change the file (the exact literals are
        // compared with Python's just below).
        Assert.All(literals.SelectMany(l => l), c => Assert.InRange(c, ' ', '~'));
        var expected = Python(new JsonArray([.. Texts.Select(t => (JsonNode?)t)]), """
            import json
            # ascii() quotes with ' when the text has no quote in it: the same escapes between the quotes.
            print(json.dumps(['"' + ascii(t)[1:-1] + '"' for t in json.load(open('in.json'))]))
            """);
        Assert.Equal(JsonSerializer.Deserialize<string[]>(expected), literals);
    }

    [Fact]
    public void Quotes_and_backslashes_in_a_string_literal_cannot_end_it_early()
    {
        string[] texts = ["say \"hi\"", "\\\"", "end\\", "'single'", "\"\"\""];
        var literals = new JsonArray([.. texts.Select(t => (JsonNode?)PythonNames.StringLiteral(t))]);
        var read = Python(new JsonObject { ["texts"] = new JsonArray([.. texts.Select(t => (JsonNode?)t)]),
            ["literals"] = literals }, """
            import ast, json
            d = json.load(open('in.json'))
            print(json.dumps([ast.literal_eval(l) == t for l, t in zip(d['literals'], d['texts'])]))
            """);
        Assert.Equal(Enumerable.Repeat(true, texts.Length), JsonSerializer.Deserialize<bool[]>(read));
    }

    [Fact]
    public void An_identifier_keeps_a_valid_python_name_and_marks_any_other_with_a_digest_of_the_id()
    {
        string[] ids = ["strat_1a2b", "_x", "Top50", "1abc", "", "a-b", "a.b", "a b", "é", "策略", "9"];
        var identifiers = ids.Select(PythonNames.Identifier).ToList();
        var expected = Python(new JsonArray([.. ids.Select(i => (JsonNode?)i)]), """
            import hashlib, json, re
            out = []
            for i in json.load(open('in.json')):
                s = re.sub('[^A-Za-z0-9_]', '_', i)
                if s == '' or s[0].isdigit():
                    s = '_' + s
                if s != i:
                    s += '_' + hashlib.sha256(i.encode('utf-8')).hexdigest()[:8]
                assert s.isidentifier(), s
                out.append(s)
            print(json.dumps(out))
            """);
        Assert.Equal(JsonSerializer.Deserialize<string[]>(expected), identifiers);
        Assert.Equal("strat_1a2b", identifiers[0]);
        // What the digest is for: "a-b" and "a.b" both clean to a_b, yet stay two names (each exact above).
        Assert.NotEqual(identifiers[5], identifiers[6]);
        Assert.Equal("get_Top50_config", PythonNames.StrategyFunction("Top50"));
    }

    [Fact]
    public void A_json_value_becomes_a_python_literal_of_the_same_value_one_dict_key_a_line()
    {
        var json = JsonNode.Parse("""
            {"class": "TopkDropoutStrategy", "kwargs": {"topk": 50, "n_drop": 5.5, "only_tradable": true,
             "hold": false, "signal": null, "empty": {}, "list": [1, "a\"b", [], {"k": "中"}]}}
            """)!;
        var literal = PythonNames.Literal(json, 1);
        Assert.Equal("""
            {
                    "class": "TopkDropoutStrategy",
                    "kwargs": {
                        "topk": 50,
                        "n_drop": 5.5,
                        "only_tradable": True,
                        "hold": False,
                        "signal": None,
                        "empty": {},
                        "list": [1, "a\"b", [], {
                                "k": "\u4e2d",
                            }],
                    },
                }
            """, literal);
        var same = Python(new JsonObject { ["json"] = json.DeepClone(), ["literal"] = literal }, """
            import ast, json
            d = json.load(open('in.json'))
            print(ast.literal_eval(d['literal']) == d['json'])
            """);
        Assert.Equal("True", same.Trim());
        Assert.Equal("None", PythonNames.Literal(null, 0));
    }
}
