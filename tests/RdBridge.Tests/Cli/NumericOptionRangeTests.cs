namespace RdBridge.Tests.Cli;

/// <summary>
/// Issue 26, class 12: every numeric option checks its range when the command line is parsed — exit 2 naming the
/// option, the value and the allowed range — instead of a negative size or count reaching the stage.
/// </summary>
public class NumericOptionRangeTests
{
    private const string Help = "Run 'rdbridge --help' (or 'rdbridge <verb> --help') for the options.\n";

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = RdBridge.Cli.Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Numeric_option_range_sample_file_kb_minus_5_is_exit_2_and_writes_nothing()
    {
        using var dir = new TempDir();
        var (code, _, err) = Run("sample", "--out", dir["s"], "--file-kb", "-5");
        Assert.Equal(2, code);
        // The whole message, the option, its value and the range, and nothing else on stderr.
        Assert.Equal("error: --file-kb -5 is out of range: allowed 1..1048576\n" + Help, err);
        Assert.False(Directory.Exists(dir["s"]), "the sample was written despite the bad size");
    }

    [Fact]
    public void Numeric_option_range_is_checked_on_every_verb_and_the_bounds_are_accepted()
    {
        var (code, _, err) = Run("list", "--limit", "0");
        Assert.Equal(2, code);
        Assert.Equal("error: --limit 0 is out of range: allowed 1..1000000\n" + Help, err);

        (code, _, err) = Run("serve", "--scan-seconds", "0.1");
        Assert.Equal(2, code);
        Assert.Equal("error: --scan-seconds 0.1 is out of range: allowed 0.2..3600\n" + Help, err);

        (code, _, err) = Run("sync", "--wait", "-1");
        Assert.Equal(2, code);
        Assert.Equal("error: --wait -1 is out of range: allowed 0..86400\n" + Help, err);

        (code, _, err) = Run("demo", "--loops", "0");
        Assert.Equal(2, code);
        Assert.Equal("error: --loops 0 is out of range: allowed 1..1000\n" + Help, err);

        // The smallest allowed values pass the check and the verb runs.
        using var dir = new TempDir();
        (code, _, err) = Run("sample", "--out", dir["s"], "--file-kb", "1", "--task-runs", "1", "--loops", "1");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("out of range", err);
        Assert.True(File.Exists(dir["s/rdbridge.json"]));
    }
}
