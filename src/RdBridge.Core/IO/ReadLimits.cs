namespace RdBridge.IO;

/// <summary>
/// How much RdBridge reads of each kind of file it parses, and how far its parsers go. A file over its cap is that
/// item's problem: it is named and skipped, never read into memory. Each cap is far above what RD-Agent, Qlib or
/// RdBridge itself writes (the figure in each comment), so only damaged or hostile input meets one.
/// </summary>
public static class ReadLimits
{
    private const long MB = 1024 * 1024;

    /// <summary>A Qlib workflow YAML (RD-Agent's templates: 2-20 KB).</summary>
    public const long WorkflowYaml = 4 * MB;

    /// <summary>Deepest nesting of a YAML document (Qlib configs: under 10).</summary>
    public const int YamlDepth = 64;

    /// <summary>Values a YAML document may expand to once its aliases are followed (Qlib configs: hundreds).</summary>
    public const int YamlNodes = 100_000;

    /// <summary>How long one pattern search of a YAML's template rendering may take before it is given up.</summary>
    public const int PatternMilliseconds = 2000;

    /// <summary><c>qlib_res.csv</c> (about 20 lines, 1 KB).</summary>
    public const long QlibResults = 1 * MB;

    /// <summary>A metadata file backfill writes (factor_meta.json and the others): thousands of factors fit.</summary>
    public const long MetadataJson = 64 * MB;

    /// <summary>Python source: factor.py, model.py (a few KB).</summary>
    public const long PythonSource = 4 * MB;

    /// <summary>An MLflow param or tag file such as <c>cmd-sys.argv</c> (one line).</summary>
    public const long MlflowValue = 64 * 1024;

    /// <summary>The footer of a Parquet file: its schema and row groups (combined_factors_df: tens of KB).</summary>
    public const long ParquetFooter = 16 * MB;

    /// <summary>
    /// One record of a catalog with all its fields (the largest, a base factor seen in 10,000 loops with its
    /// provenance, is about 4 MB; a factor's code is a few KB).
    /// </summary>
    public const long CatalogRecord = 32 * MB;

    /// <summary>A bundle's manifest.json (a 2,000-file loop: about 400 KB).</summary>
    public const long BundleManifest = 64 * MB;

    /// <summary>A publisher's feed (10,000 bundles: about 5 MB).</summary>
    public const long Feed = 256 * MB;

    /// <summary>
    /// Rows a backtest curve may have (20 years of daily bars: 5,000; a year of minute bars: 60,000). Reading one row
    /// costs about 1 KB at the peak, so this keeps a curve within the 200 MB budget. <c>RDBRIDGE_CURVE_ROWS</c>.
    /// </summary>
    public static int CurveRows => Setting("RDBRIDGE_CURVE_ROWS", 100_000);

    /// <summary>
    /// A backtest report pickle (<c>ret.pkl</c>, <c>report_normal_1day.pkl</c>): 100,000 rows of Qlib's ten columns
    /// are 9 MB. <c>RDBRIDGE_CURVE_PICKLE_MB</c>.
    /// </summary>
    public static long CurvePickle => Setting("RDBRIDGE_CURVE_PICKLE_MB", 32) * MB;

    /// <summary>
    /// Folders and files one walk of a task run's log folder lists (a 1,000-loop run: about 30,000, for the tags
    /// discovery reads). <c>RDBRIDGE_LOG_WALK_ENTRIES</c>.
    /// </summary>
    public static int LogWalkEntries => Setting("RDBRIDGE_LOG_WALK_ENTRIES", 1_000_000);

    /// <summary>
    /// Seconds a network read may wait for the next byte (a publisher's headers, a feed, a bundle) before the peer is
    /// named as stalled. <c>RDBRIDGE_NETWORK_IDLE_SECONDS</c>.
    /// </summary>
    public static int NetworkIdleSeconds => Setting("RDBRIDGE_NETWORK_IDLE_SECONDS", 60);

    /// <summary>
    /// The most one downloaded bundle may be, whether or not its feed announced a size (a 2,000-file loop: tens of
    /// MB). <c>RDBRIDGE_BUNDLE_MB</c>.
    /// </summary>
    public static long BundleDownload => Setting("RDBRIDGE_BUNDLE_MB", 4096) * MB;

    /// <summary>
    /// Seconds RdBridge waits for a lock another program holds on an SQLite database it writes (the AIstock file)
    /// before it stops with <see cref="ExitCodes.Locked"/>, naming the file. <c>RDBRIDGE_DB_BUSY_SECONDS</c>.
    /// </summary>
    public static int DatabaseBusySeconds => Setting("RDBRIDGE_DB_BUSY_SECONDS", 30);

    /// <summary>
    /// A limit the environment may raise or lower (a positive whole number); anything else is a usage error naming
    /// the variable, never silently the default.
    /// </summary>
    public static int Setting(string variable, int fallback)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (int.TryParse(text.Trim(), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0)
        {
            return v;
        }

        throw new LimitSettingException($"{variable}={Visible.Text(text)} is not a positive whole number; unset it " +
            $"for the default ({fallback}) or give one");
    }
}

/// <summary>A limit set in the environment that is not a number RdBridge can use.</summary>
public sealed class LimitSettingException(string message) : RdBridgeException(message, ExitCodes.UsageError);
