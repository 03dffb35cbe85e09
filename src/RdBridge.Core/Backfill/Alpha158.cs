namespace RdBridge.Backfill;

/// <summary>
/// The 158 features of Qlib's <c>Alpha158</c> handler with its default configuration (9 candle shapes, 4 prices
/// relative to the close, 29 rolling operators × windows 5/10/20/30/60), generated from their definitions. A workflow
/// whose handler is <c>class: Alpha158</c> lists no features in its YAML; these are the ones it trains on.
/// </summary>
public static class Alpha158
{
    private static readonly int[] Windows = [5, 10, 20, 30, 60];

    private const string Range = "($high-$low+1e-12)";
    private const string Up = "Greater($close-Ref($close, 1), 0)";
    private const string Down = "Greater(Ref($close, 1)-$close, 0)";
    private const string Move = "Abs($close-Ref($close, 1))";
    private const string VUp = "Greater($volume-Ref($volume, 1), 0)";
    private const string VDown = "Greater(Ref($volume, 1)-$volume, 0)";
    private const string VMove = "Abs($volume-Ref($volume, 1))";

    // Each rolling operator as a template over the window d.
    private static readonly (string Name, Func<int, string> Expression)[] Rolling =
    [
        ("ROC", d => $"Ref($close, {d})/$close"),
        ("MA", d => $"Mean($close, {d})/$close"),
        ("STD", d => $"Std($close, {d})/$close"),
        ("BETA", d => $"Slope($close, {d})/$close"),
        ("RSQR", d => $"Rsquare($close, {d})"),
        ("RESI", d => $"Resi($close, {d})/$close"),
        ("MAX", d => $"Max($high, {d})/$close"),
        ("MIN", d => $"Min($low, {d})/$close"),
        ("QTLU", d => $"Quantile($close, {d}, 0.8)/$close"),
        ("QTLD", d => $"Quantile($close, {d}, 0.2)/$close"),
        ("RANK", d => $"Rank($close, {d})"),
        ("RSV", d => $"($close-Min($low, {d}))/(Max($high, {d})-Min($low, {d})+1e-12)"),
        ("IMAX", d => $"IdxMax($high, {d})/{d}"),
        ("IMIN", d => $"IdxMin($low, {d})/{d}"),
        ("IMXD", d => $"(IdxMax($high, {d})-IdxMin($low, {d}))/{d}"),
        ("CORR", d => $"Corr($close, Log($volume+1), {d})"),
        ("CORD", d => $"Corr($close/Ref($close,1), Log($volume/Ref($volume, 1)+1), {d})"),
        ("CNTP", d => $"Mean($close>Ref($close, 1), {d})"),
        ("CNTN", d => $"Mean($close<Ref($close, 1), {d})"),
        ("CNTD", d => $"Mean($close>Ref($close, 1), {d})-Mean($close<Ref($close, 1), {d})"),
        ("SUMP", d => $"Sum({Up}, {d})/(Sum({Move}, {d})+1e-12)"),
        ("SUMN", d => $"Sum({Down}, {d})/(Sum({Move}, {d})+1e-12)"),
        ("SUMD", d => $"(Sum({Up}, {d})-Sum({Down}, {d}))/(Sum({Move}, {d})+1e-12)"),
        ("VMA", d => $"Mean($volume, {d})/($volume+1e-12)"),
        ("VSTD", d => $"Std($volume, {d})/($volume+1e-12)"),
        ("WVMA", d => $"Std(Abs($close/Ref($close, 1)-1)*$volume, {d})/" +
            $"(Mean(Abs($close/Ref($close, 1)-1)*$volume, {d})+1e-12)"),
        ("VSUMP", d => $"Sum({VUp}, {d})/(Sum({VMove}, {d})+1e-12)"),
        ("VSUMN", d => $"Sum({VDown}, {d})/(Sum({VMove}, {d})+1e-12)"),
        ("VSUMD", d => $"(Sum({VUp}, {d})-Sum({VDown}, {d}))/(Sum({VMove}, {d})+1e-12)"),
    ];

    public static readonly IReadOnlyList<(string Name, string Expression)> Factors = Build();

    private static List<(string, string)> Build()
    {
        var list = new List<(string, string)>
        {
            ("KMID", "($close-$open)/$open"),
            ("KLEN", "($high-$low)/$open"),
            ("KMID2", $"($close-$open)/{Range}"),
            ("KUP", "($high-Greater($open, $close))/$open"),
            ("KUP2", $"($high-Greater($open, $close))/{Range}"),
            ("KLOW", "(Less($open, $close)-$low)/$open"),
            ("KLOW2", $"(Less($open, $close)-$low)/{Range}"),
            ("KSFT", "(2*$close-$high-$low)/$open"),
            ("KSFT2", $"(2*$close-$high-$low)/{Range}"),
        };
        foreach (var field in new[] { "open", "high", "low", "vwap" })
            list.Add((field.ToUpperInvariant() + "0", $"${field}/$close"));
        foreach (var (name, expression) in Rolling)
        {
            foreach (var d in Windows)
                list.Add(($"{name}{d}", expression(d)));
        }

        return list;
    }
}
