using System.Text.Json.Nodes;
using RdBridge.Discovery;
using RdBridge.Sample;
using Loop = RdBridge.Tests.Discovery.LoopReaderTests.Loop;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// <see cref="LoopTexts"/> on pickles written here (protocol 4, as CPython pickles a plain class), for the mutants
/// <c>bench/mutation.sh Discovery</c> left alive (issue 24): which field wins when a task or a coder's feedback has
/// both RD-Agent generations' names, how a task is told to be a factor, the catalog JSON of a task, and a loop folder
/// gone between listing and reading. Every expected value is one the test put in a pickle or a record.
/// </summary>
public class LoopTextsMutantTests
{
    private static readonly DateTime Now = new(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc);

    private static Action<PickleText> S(string s) => p => p.Str(s);

    /// <summary>JSON written with single quotes, for reading.</summary>
    private static string Quoted(string json) => json.Replace('\'', '"');

    [Fact]
    public void A_task_s_json_has_every_field_by_its_name_and_only_a_model_task_has_the_model_fields()
    {
        var factor = new LoggedTask(LoggedTask.Factor, "Mom5", "five-day momentum", "r_5",
            JsonNode.Parse("""{"r":"return"}"""), "ignored arch", JsonNode.Parse("""{"lr":1}"""), null, "ignored",
            "ws_a");
        Assert.Equal(Quoted("{'kind':'factor','name':'Mom5','description':'five-day momentum','formulation':'r_5',"
            + "'variables':{'r':'return'},'workspace_id':'ws_a','coder_feedback':null}"),
            factor.ToJson().ToJsonString());

        var model = new LoggedTask(LoggedTask.Model, "GRU", "a GRU", "h_t", null, "2 layers",
            JsonNode.Parse("""{"lr":3}"""), JsonNode.Parse("""{"epochs":5}"""), "TimeSeries", null);
        Assert.Equal(Quoted("{'kind':'model','name':'GRU','description':'a GRU','formulation':'h_t','variables':null,"
            + "'architecture':'2 layers','hyperparameters':{'lr':3},'training_hyperparameters':{'epochs':5},"
            + "'model_type':'TimeSeries','workspace_id':null,'coder_feedback':null}"),
            model.ToJson().ToJsonString());
    }

    [Fact]
    public void A_task_is_a_factor_by_its_factor_name_its_formulation_or_its_class_and_the_factor_fields_win()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        const string Plain = "rdagent.core.experiment.Task";
        loop.Add("direct_exp_gen", LogTree.Tasks, PickleText.Of(p => p.List(
        [
            // Both generations' names: factor_name over name, description over factor_description.
            q => q.Object(Plain, [("factor_name", S("Mom5")), ("name", S("task one")), ("description", S("d new")),
                ("factor_description", S("d old")), ("variables", r => r.Dict([("r", S("return"))]))]),
            // Only the formulation says factor; only the older names are there.
            q => q.Object(Plain, [("factor_formulation", S("std_20")), ("name", S("Vol20")),
                ("factor_description", S("twenty-day volatility"))]),
            // Only the class says factor.
            q => q.Object("rdagent.components.coder.factor_coder.factor.FactorTask", [("name", S("Gap")),
                ("description", S("overnight gap"))]),
            q => q.Object("rdagent.components.coder.model_coder.model.ModelTask", [("name", S("GRU")),
                ("formulation", S("h_t")), ("variables", r => r.Dict([("h", S("hidden state"))]))]),
        ])));

        var tasks = LoopTexts.Read(loop.Files, Now, []).Tasks;
        Assert.Equal(
            [("factor", "Mom5", "d new", null), ("factor", "Vol20", "twenty-day volatility", "std_20"),
             ("factor", "Gap", "overnight gap", null), ("model", "GRU", null, "h_t")],
            tasks.Select(t => (t.Kind, t.Name, t.Description, t.Formulation)));
        Assert.Equal(["""{"r":"return"}""", null, null, """{"h":"hidden state"}"""],
            tasks.Select(t => t.Variables?.ToJsonString()));
    }

    [Fact]
    public void The_coder_s_feedback_takes_the_newer_names_execution_feedback_and_code_feedback_over_the_older()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        const string Single = "rdagent.components.coder.CoSTEER.evaluators.CoSTEERSingleFeedback";
        loop.Add("direct_exp_gen", LogTree.Tasks, PickleText.Of(p => p.List(
        [
            q => q.Object("rdagent.components.coder.factor_coder.factor.FactorTask", [("factor_name", S("A"))]),
            q => q.Object("rdagent.components.coder.factor_coder.factor.FactorTask", [("factor_name", S("B"))]),
        ])));
        loop.Add("coding", LogTree.EvolvingFeedback, PickleText.Of(p => p.Object(
            "rdagent.components.coder.CoSTEER.evaluators.CoSTEERMultiFeedback", [("feedback_list", q => q.List(
            [
                r => r.Object(Single, [("execution_feedback", S("ran, new name")), ("execution", S("ran, old name")),
                    ("code_feedback", S("code, new name")), ("code", S("code, old name"))]),
                r => r.Object(Single, [("execution_feedback", S("B ran")), ("code_feedback", S("B's code"))]),
            ]))])), 0);

        var tasks = LoopTexts.Read(loop.Files, Now, []).Tasks;
        Assert.Equal([("A", "ran, new name", "code, new name"), ("B", "B ran", "B's code")],
            tasks.Select(t => (t.Name, t.Coder!.Execution, t.Coder.Code)));
    }

    [Fact]
    public void A_loop_without_a_hypothesis_has_none_and_an_exception_without_arguments_is_its_class()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        // builtins.StopIteration(): the class by STACK_GLOBAL, an empty tuple, REDUCE.
        byte[] stop = [0x80, 4, 0x8c, 8, .. "builtins"u8, 0x8c, 13, .. "StopIteration"u8, 0x93, (byte)')',
            (byte)'R', (byte)'.'];
        loop.Add("feedback", LogTree.Feedback, PickleText.Of(p => p.Object("rdagent.core.proposal.HypothesisFeedback",
            [("decision", q => q.Bool(false)), ("exception", q => q.Raw(stop))])));

        var texts = LoopTexts.Read(loop.Files, Now, []);
        Assert.Null(texts.Hypothesis);
        Assert.Equal(((bool?)false, "StopIteration"), (texts.Feedback!.Decision, texts.Feedback.Exception));
    }

    [Fact]
    public void A_loop_folder_gone_after_the_log_was_listed_is_a_problem_naming_the_log_and_its_texts_are_empty()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir, 2);
        loop.Add("direct_exp_gen", LogTree.Hypothesis, PickleText.Of(p => p.Object("rdagent.core.proposal.Hypothesis",
            [("hypothesis", S("momentum persists"))])));
        var map = new RdBridge.Configuration.PathMap([], dir.Path);
        var listings = new LogListings();
        var problems = new List<string>();
        Assert.Equal("momentum persists", LoopTexts.OfLoop(dir.Path, 2, map, problems, listings).Hypothesis!.Text);

        // The listing is kept for the task run's other loops; the loop folder is deleted in between.
        Directory.Delete(loop.Path, recursive: true);
        Assert.Same(LoopTexts.Empty, LoopTexts.OfLoop(dir.Path, 2, map, problems, listings));
        var problem = Assert.Single(problems);
        Assert.StartsWith($"the log '{dir.Path}' cannot be listed (", problem);
        Assert.EndsWith("); the loop's logged texts are left out", problem);
    }
}
