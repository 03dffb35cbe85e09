using System.Text.Json.Nodes;
using RdBridge.Compare;
using RdBridge.IO;
using RdBridge.Tests.Discovery;

namespace RdBridge.Tests.IO;

/// <summary>
/// Issue 26, class 14: text from input reaches the terminal and the logs escaped, through the one function
/// <see cref="Visible.Text"/>: a folder name or a file's bytes cannot recolour, clear or hide what RdBridge prints.
/// </summary>
public class TerminalEscapingTests
{
    private static void NoRawControls(string printed)
    {
        foreach (var c in printed)
            Assert.False(c is '\x1b' or '\0' or '\r' or '\x9b' or '\u202e', $"raw U+{(int)c:X4} reached the output");
    }

    [Fact]
    public void Terminal_escaping_a_log_folder_name_with_escape_sequences_is_printed_visibly()
    {
        const string run = "2025-07-01_08-30-12-123456";
        using var rd = new UpstreamRdAgent([$"head:fin_factor:2:{run}"]);
        // Clears the screen and prints a reassuring green line, were it passed through raw.
        var hostile = Path.Combine(rd.LogFolder(run), "Loop_\x1b[2J\x1b[32mall fine\x1b[0m\r");
        Directory.CreateDirectory(hostile);

        var (code, output, err) = rd.Cli("discover");
        Assert.Equal(1, code);
        NoRawControls(output + err);
        // The whole problem line, the folder's name with each control character spelled out.
        Assert.Contains($"  ✗ {run}: not read: it is not a loop folder: RD-Agent names them Loop_<number>; move it out "
            + $"of the log [{rd.LogFolder(run)}/Loop_\\x1b[2J\\x1b[32mall fine\\x1b[0m\\x0d]", output.Split('\n'));
    }

    [Fact]
    public void Terminal_escaping_ansi_nul_and_esc_bytes_in_compared_files_are_made_visible()
    {
        var side = new JsonObject { ["task_run_id"] = "r", ["loop_id"] = 1L, ["action"] = "factor" };
        var comparison = new JsonObject
        {
            ["a"] = side.DeepClone(), ["b"] = side.DeepClone(), ["metrics"] = new JsonArray(),
            ["config"] = new JsonObject { ["changes"] = new JsonArray() },
            ["factors"] = new JsonObject { ["added"] = new JsonArray(), ["removed"] = new JsonArray(),
                ["kept"] = new JsonArray() },
            ["code"] = new JsonArray(new JsonObject
            {
                ["file"] = "factor.py\x1b]0;title\x07", ["status"] = "changed", ["a_path"] = "factor.py",
                ["b_path"] = "factor.py",
                ["hunks"] = new JsonArray(new JsonObject
                {
                    ["header"] = "@@ -1 +1 @@",
                    // A removed line that moves the cursor up and overwrites itself, and a NUL-laden added line.
                    ["lines"] = new JsonArray(new JsonArray("-", "os.system('rm -rf ~')\x1b[1A\x1b[2K"),
                        new JsonArray("+", "x = 1\0\u202e# safe"), new JsonArray(" ", "\tkept\u009b31m")),
                }),
            }),
            ["curves"] = new JsonObject(), ["notes"] = new JsonArray("note with \x1b[8mhidden"),
        };

        var text = LoopComparison.ToText(comparison);
        NoRawControls(text);
        // Each line that carried a control character, whole: the file's name, the hunk's three lines, the note.
        // Each once, in the order the comparison holds them.
        string[] escaped =
        [
            "  factor.py\\x1b]0;title\\x07: changed", "-os.system('rm -rf ~')\\x1b[1A\\x1b[2K",
            "+x = 1\\x00\\u202e# safe", " \tkept\\x9b31m", "note: note with \\x1b[8mhidden",
        ];
        Assert.Equal(escaped, text.Split('\n').Where(escaped.Contains));
    }

    [Fact]
    public void Terminal_escaping_keeps_printable_text_as_it_is()
    {
        foreach (var plain in new[] { @"F:\Dev\RD-Agent-main\log", "因子 α/β — 0.5%", "emoji 📈 stays", "" })
            Assert.Same(plain, Visible.Text(plain));
        Assert.Equal("lone \\ud800 surrogate", Visible.Text("lone \ud800 surrogate"));
    }
}
