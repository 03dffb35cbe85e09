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
}
