using System.CommandLine;
using System.Text.Json.Nodes;
using RdBridge.IO;
using RdBridge.Show;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>One record with its links resolved and checked.</summary>
internal static class ShowCommand
{
    public static Command Create(Io io)
    {
        var kind = new Argument<string>("kind") { Description = "loop | factor | model | strategy | bundle" };
        kind.AcceptOnlyFromAmong("loop", "factor", "model", "strategy", "bundle");
        var keys = new Argument<string[]>("key")
        {
            Description = "loop: TASK_RUN_ID LOOP_ID; others: name or id", Arity = ArgumentArity.OneOrMore,
        };
        var cmd = new Command("show",
            "One loop, factor, model, strategy or bundle with all its links resolved and checked (关联查询)")
            { kind, keys };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var q = new ShowQuery(Settings(p));
            var k = p.GetValue(kind)!;
            var key = p.GetValue(keys)!;
            JsonObject result;
            if (k == "loop")
            {
                if (key.Length != 2 || !long.TryParse(key[1], out var loopId))
                    throw new ArgumentException("show loop needs TASK_RUN_ID LOOP_ID, e.g. rdbridge show loop 3f2a… 1");
                result = q.Loop(key[0], loopId);
            }
            else
            {
                result = q.Record(k, string.Join(' ', key));
            }

            io.Out.WriteLine(result.ToJsonString(CanonicalJson.FileOptions));
            // A loop shown with problems (a missing workspace, a broken link) is an item failure, as in every verb.
            return result["problems"] is JsonArray { Count: > 0 } ? ItemFailures : Ok;
        }));
        return cmd;
    }
}
