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
        var json = new Option<bool>("--json") { Description = "Print the full record as JSON" };
        var cmd = new Command("show",
            "One loop, factor, model, strategy or bundle with all its links resolved and checked (关联查询)")
            { kind, keys, json };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var settings = Settings(p);
            var q = new ShowQuery(settings);
            var k = p.GetValue(kind)!;
            var key = p.GetValue(keys)!;
            JsonObject result;
            if (k == "loop")
            {
                if (key.Length != 2 || !long.TryParse(key[1], out var loopId))
                {
                    throw new ArgumentException(
                        "show loop needs TASK_RUN_ID LOOP_ID, e.g. rdbridge show loop 3f2a 1 (any unique start of " +
                        "the id)");
                }
                result = q.Loop(TaskRunPrefix.Resolve(settings, key[0]), loopId);
            }
            else
            {
                result = q.Record(k, string.Join(' ', key));
            }

            if (p.GetValue(json)) io.Out.WriteLine(result.ToJsonString(CanonicalJson.FileOptions));
            else ShowSummary.Write(io.Out, result);
            // A loop shown with problems (a missing workspace, a broken link) is an item failure, as in every verb.
            return result[ShowQuery.ProblemsField] is JsonArray { Count: > 0 } ? ItemFailures : Ok;
        }));
        return cmd;
    }
}
