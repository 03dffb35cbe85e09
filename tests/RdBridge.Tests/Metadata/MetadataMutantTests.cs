using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Metadata;

namespace RdBridge.Tests.Metadata;

/// <summary>
/// Mutants of <c>Metadata/</c> that the other metadata tests leave alive, found by reading the folder for the
/// <c>bench/mutation.sh Metadata</c> run. The identifier rule at each edge of its character ranges: the first and last
/// letter of each case and digit are kept, their neighbours in ASCII are not. CPython computes the rule again.
/// </summary>
public class MetadataMutantTests
{
    [Fact]
    public void An_identifier_keeps_a_z_A_Z_0_9_and_underscore_and_replaces_their_ascii_neighbours()
    {
        // Each range's first and last character, and the character just outside it on each side.
        string[] ids = ["az", "AZ", "a09", "_", "`", "{", "@", "[", "/", ":", "^", "zZ9"];
        var identifiers = ids.Select(PythonNames.Identifier).ToList();
        using var dir = new TempDir();
        File.WriteAllText(dir["in.json"], new JsonArray([.. ids.Select(i => (JsonNode?)i)]).ToJsonString());
        File.WriteAllText(dir["check.py"], """
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
        Assert.Equal(JsonSerializer.Deserialize<string[]>(Run(dir)), identifiers);
        // The valid ones are kept as they are.
        Assert.Equal(["az", "AZ", "zZ9"], new[] { identifiers[0], identifiers[1], identifiers[11] });
    }

    [Fact]
    public void A_metadata_file_that_is_json_but_not_an_object_is_reported_as_not_a_json_object()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir[FactorMetaFile.FileName], "[1, 2]");
        var reported = new List<(string, string, string)>();
        var read = WorkspaceMetadata.Read(dir.Path, (name, path, why) => reported.Add((name, path, why)));
        Assert.Null(read.FactorMeta);
        Assert.Equal([(FactorMetaFile.FileName, dir[FactorMetaFile.FileName], "not a JSON object")], reported);
    }

    [Fact, RealData]
    public void Each_metric_is_a_row_qlib_writes_named_by_its_last_part_and_whether_it_is_without_cost()
    {
        // A real loop's qlib_res.csv, as Qlib wrote it: one "name,value" row per metric.
        var rows = File.ReadAllLines(Paths.Fixture("public/derived/Vicki257__rdagent-qlib-cloud/EXP-0004/qlib_res.csv"))
            .Skip(1).Select(l => l[..l.LastIndexOf(',')]).ToList();
        // RdBridge names the IC rows and the three risk figures of each excess return; the mean and std (what the
        // ratio is made of), the trade statistics (ffr, pa, pos) and the training losses (l2.*) are left to metrics.
        string[] left = ["mean", "std", "ffr", "pa", "pos", "train", "valid"];
        var named = rows.Where(r => !left.Contains(r[(r.LastIndexOf('.') + 1)..])).Order(StringComparer.Ordinal);
        Assert.Equal(named, MetricNames.Canonical.Select(m => m.QlibName).Order(StringComparer.Ordinal));
        foreach (var (canonical, qlib) in MetricNames.Canonical)
        {
            var expected = qlib.Contains('.')
                ? qlib[(qlib.LastIndexOf('.') + 1)..] + (qlib.Contains("without_cost") ? "_without_cost" : "")
                : qlib.ToLowerInvariant().Replace(' ', '_');
            Assert.Equal(expected, canonical);
        }
    }

    /// <summary>Runs <c>check.py</c> in <paramref name="dir"/> with CPython and returns what it printed.</summary>
    private static string Run(TempDir dir)
    {
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
}
