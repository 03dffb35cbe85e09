namespace RdBridge.Sample;

/// <summary>
/// The task texts a sample log's loops carry, as RD-Agent's proposal writes them (Chinese and English, LaTeX
/// formulations), deterministic in the loop and task number.
/// </summary>
internal static class SampleTaskTexts
{
    /// <summary>The FactorTask of a factor the sample's code computes: the deviation of a field from its rolling
    /// mean.</summary>
    public static Action<PickleText> Factor(string factorTask, SampleFactorTask f)
    {
        var symbol = f.Field.TrimStart('$');
        return w => w.Object(factorTask,
        [
            ("name", x => x.Str(f.Name)), ("version", x => x.Int(1)),
            ("description", x => x.Str($"[{f.Label}] 过去 {f.Window} 日{f.Label}：{f.Field} 相对其 {f.Window} 日均值的"
                + "偏离，刻画短期的量价异动")),
            ("user_instructions", x => x.None()), ("factor_name", x => x.Str(f.Name)),
            ("factor_formulation", x => x.Str($"\\frac{{{symbol}_t}}{{\\frac{{1}}{{{f.Window}}}"
                + $"\\sum_{{k=0}}^{{{f.Window - 1}}} {symbol}_{{t-k}}}} - 1")),
            ("variables", x => x.Dict(
            [
                ($"{symbol}_t", y => y.Str($"第 t 日的 {f.Field}")),
                ("k", y => y.Str($"回看的交易日，0 到 {f.Window - 1}")),
            ])),
            ("factor_resources", x => x.None()), ("factor_implementation", x => x.Bool(false)),
        ]);
    }

    public static Action<PickleText> Factor(string factorTask, long loopId, int i)
    {
        var window = 5 * (i + 1) + (int)(loopId % 3) * 5;
        var name = $"task_{loopId}_{i}";
        return w => w.Object(factorTask,
        [
            ("name", x => x.Str(name)), ("version", x => x.Int(1)),
            ("description", x => x.Str($"[量价因子] 过去 {window} 日成交量加权收益率与换手率之比，衡量放量上涨的持续性"
                + $"（loop {loopId}）")),
            ("user_instructions", x => x.None()), ("factor_name", x => x.Str(name)),
            ("factor_formulation", x => x.Str($"\\frac{{\\sum_{{k=0}}^{{{window - 1}}} v_{{t-k}} r_{{t-k}}}}"
                + $"{{\\sum_{{k=0}}^{{{window - 1}}} v_{{t-k}}}} \\Big/ \\mathrm{{turnover}}_t")),
            ("variables", x => x.Dict(
            [
                ("v_t", y => y.Str("第 t 日成交量 ($volume)")),
                ("r_t", y => y.Str("第 t 日收益率 ($close / Ref($close, 1) - 1)")),
                ("turnover_t", y => y.Str($"过去 {window} 日平均换手率")),
            ])),
            ("factor_resources", x => x.None()), ("factor_implementation", x => x.Bool(false)),
        ]);
    }

    public static Action<PickleText> Model(string modelTask, long loopId, int i)
    {
        var hidden = 32 << (int)((loopId + i) % 3);
        return w => w.Object(modelTask,
        [
            ("name", x => x.Str($"task_{loopId}_{i}")), ("version", x => x.Int(1)),
            ("description", x => x.Str($"GRU over the last 20 trading days with {hidden} hidden units and a "
                + $"linear head (loop {loopId})")),
            ("user_instructions", x => x.None()),
            ("formulation", x => x.Str("h_t = \\mathrm{GRU}(x_t, h_{t-1}),\\ \\hat{y} = W h_T + b")),
            ("architecture", x => x.Str($"2-layer GRU (hidden {hidden}, dropout 0.1) + Linear({hidden}, 1)")),
            ("variables", x => x.Dict(
            [
                ("x_t", y => y.Str("第 t 日的特征向量")), ("h_t", y => y.Str("GRU 的隐状态")),
            ])),
            ("hyperparameters", x => x.Dict(
            [
                ("hidden_size", y => y.Str(hidden.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                ("num_layers", y => y.Str("2")), ("dropout", y => y.Str("0.1")),
            ])),
            ("training_hyperparameters", x => x.Dict(
            [
                ("n_epochs", y => y.Str("100")), ("lr", y => y.Str("0.0005")), ("early_stop", y => y.Str("10")),
                ("batch_size", y => y.Str("256")),
            ])),
            ("model_type", x => x.Str("TimeSeries")),
        ]);
    }
}
