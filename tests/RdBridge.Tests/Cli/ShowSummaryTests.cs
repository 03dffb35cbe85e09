using System.Text.Json.Nodes;
using RdBridge.Cli;

namespace RdBridge.Tests.Cli;

/// <summary><c>show</c>'s summary counts a list in the right number.</summary>
public class ShowSummaryTests
{
    [Fact]
    public void A_list_of_one_is_one_item_and_a_list_of_two_is_two_items()
    {
        var record = new JsonObject
        {
            ["factors"] = new JsonArray("alpha"),
            ["models"] = new JsonArray("m1", "m2"),
            ["files"] = new JsonObject { ["workspace"] = new JsonArray(new JsonObject(), new JsonObject()) },
        };
        var w = new StringWriter();

        ShowSummary.Write(w, record);

        Assert.Equal(["factors: 1 item", "  - alpha", "models: 2 items", "  - m1", "  - m2", "files:",
            $"  {"workspace",-24} 2 items", "problems: none — every link checked", ""], w.ToString().Split('\n'));
    }
}
