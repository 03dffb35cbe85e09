using RdBridge.Backfill;

namespace RdBridge.Tests.Backfill;

public class QlibResultsTests
{
    [Fact]
    public void Reads_metric_value_rows_in_any_order_with_canonical_names()
    {
        var m = QlibResults.Parse(new StringReader(",0\n1day.excess_return_with_cost.max_drawdown,-0.1038\n" +
            "IC,0.0448\n1day.excess_return_with_cost.information_ratio,1.0164\nRank IC,0.0469\n" +
            "1day.excess_return_with_cost.annualized_return,0.0901\n"));
        Assert.Empty(m.Problems);
        Assert.Equal(0.0448, m["ic"]);
        Assert.Equal(0.0469, m["rank_ic"]);
        Assert.Equal(0.0901, m["annualized_return"]);
        Assert.Equal(1.0164, m["information_ratio"]);
        Assert.Equal(-0.1038, m["max_drawdown"]);
        Assert.DoesNotContain(m.Canonical(), kv => kv.Key.Contains("sharpe"));
    }

    [Fact]
    public void A_broken_line_is_reported_and_the_rest_is_kept()
    {
        var m = QlibResults.Parse(new StringReader(",0\nIC,not-a-number\nICIR,0.36\ngarbage line\n"));
        Assert.Equal(0.36, m["icir"]);
        Assert.Null(m["ic"]);
        // Each broken line by its number in the text above, with what is wrong with it.
        Assert.Equal(["qlib_res.csv line 2: value 'not-a-number' of metric 'IC' is not a number",
            "qlib_res.csv line 4 has no comma: 'garbage line'"], m.Problems);
    }

    [Fact]
    public void Nan_values_are_kept_as_missing()
    {
        var m = QlibResults.Parse(new StringReader(",0\nIC,nan\n"));
        Assert.Equal(["IC"], m.Raw.Keys);
        Assert.Null(m.Raw["IC"]);
        Assert.Null(m["ic"]);
        Assert.Empty(m.Problems);
    }
}
