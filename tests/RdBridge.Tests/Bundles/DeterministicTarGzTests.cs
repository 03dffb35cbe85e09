using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using RdBridge.Bundles;

namespace RdBridge.Tests.Bundles;

public class DeterministicTarGzTests
{
    private static byte[] Build(params (string Name, string Content)[] entries)
    {
        using var ms = new MemoryStream();
        using (var tar = new DeterministicTarGz(ms))
        {
            foreach (var (name, content) in entries)
            {
                var bytes = Encoding.UTF8.GetBytes(content);
                tar.AddStream(name, new MemoryStream(bytes), bytes.Length);
            }
            tar.Finish();
        }
        return ms.ToArray();
    }

    private static readonly (string, string)[] Entries =
    [
        ("manifest.json", "{}"),
        ("workspaces/a/" + new string('x', 120) + "/long.txt", "long name"),
        (MlrunsPath, "split into the ustar prefix"),
        ("workspaces/a/" + new string('y', 120), "last part longer than 100 bytes"),
        ("workspaces/" + string.Join('/', Enumerable.Repeat(new string('z', 50), 5)) + "/f.txt",
            "longer than 256 bytes"),
        ("workspaces/a/因子说明.md", "中文"),
        ("workspaces/a/mlruns/1/2/metrics/IC", "1751362200000 0.04 0\n"),
    ];

    /// <summary>A 150-byte path as RD-Agent workspaces hold them
    /// (mlruns/&lt;experiment&gt;/&lt;run&gt;/artifacts/…).</summary>
    private const string MlrunsPath = "workspaces/f8b73a5026f704f089d523273a57e3d7/mlruns/748356884509658945/"
        + "48e99f8ab6df365c048f86726bf79136/artifacts/label.pkl";

    [Fact]
    public void The_same_entries_give_the_same_bytes()
    {
        Assert.Equal(Build(Entries), Build(Entries));
    }

    [Fact]
    public void Gzip_header_has_no_name_no_time_and_a_fixed_os()
    {
        var bytes = Build(Entries);
        Assert.Equal(new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff }, bytes[..10]);
    }

    [Fact]
    public void Long_and_non_ascii_names_round_trip_through_a_standard_reader()
    {
        using var gz = new GZipStream(new MemoryStream(Build(Entries)), CompressionMode.Decompress);
        using var reader = new TarReader(gz);
        var names = new List<string>();
        while (reader.GetNextEntry() is { } e)
        {
            names.Add(e.Name);
            Assert.Equal(DeterministicTarGz.FixedMtime, e.ModificationTime.ToUnixTimeSeconds());
            Assert.Equal(0, e.Uid);
        }
        Assert.Equal(Entries.Select(e => e.Item1), names);
    }

    [Fact]
    public void Only_names_the_ustar_fields_cannot_hold_get_a_pax_record()
    {
        using var gz = new GZipStream(new MemoryStream(Build(Entries)), CompressionMode.Decompress);
        var tar = new MemoryStream();
        gz.CopyTo(tar);
        var bytes = tar.ToArray();
        var paxFor = new List<string>();
        var headers = 0;
        for (var at = 0; at + 512 <= bytes.Length && bytes[at] != 0; )
        {
            var size = Convert.ToInt64(Encoding.ASCII.GetString(bytes, at + 124, 11), 8);
            if (bytes[at + 156] == (byte)'x')
            {
                var record = Encoding.UTF8.GetString(bytes, at + 512, (int)size);
                paxFor.Add(record[(record.IndexOf("path=", StringComparison.Ordinal) + 5)..].TrimEnd('\n'));
            }
            else
            {
                headers++;
            }

            at += 512 + (int)((size + 511) / 512 * 512);
        }
        Assert.Equal(Entries.Length, headers);
        Assert.Equal(new[] { Entries[3].Item1, Entries[4].Item1, Entries[5].Item1 }, paxFor);
    }

    [Fact]
    public void Python_tarfile_reads_every_name()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["b.tar.gz"], Build(Entries));
        var psi = new ProcessStartInfo("python3",
            ["-c", "import sys, tarfile; print('\\n'.join(m.name for m in tarfile.open(sys.argv[1])))",
                dir["b.tar.gz"]])
            { RedirectStandardOutput = true, RedirectStandardError = true, StandardOutputEncoding = Encoding.UTF8 };
        psi.Environment["PYTHONIOENCODING"] = "utf-8";
        using var p = Process.Start(psi)!;
        var listing = p.StandardOutput.ReadToEnd();
        var errors = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, errors);
        Assert.Equal(Entries.Select(e => e.Item1), listing.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Gnu_tar_lists_the_archive()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["b.tar.gz"], Build(Entries));
        var psi = new ProcessStartInfo("tar", ["-tzf", dir["b.tar.gz"]])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var listing = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        // Every entry by its whole name (the long ones through the ustar prefix or a PAX header), nothing more.
        Assert.Equal(Entries.Select(e => e.Item1).Order(StringComparer.Ordinal),
            listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_file_that_changes_size_while_packed_is_refused()
    {
        using var ms = new MemoryStream();
        using var tar = new DeterministicTarGz(ms);
        Assert.Equal("'x' became shorter while it was being packed (expected 20 bytes)",
            Assert.Throws<IOException>(() => tar.AddStream("x", new MemoryStream(new byte[10]), 20)).Message);
    }

    [Fact]
    public void The_bytes_do_not_depend_on_how_an_entry_is_split_into_writes()
    {
        var big = new byte[700_000];
        new Random(3).NextBytes(big.AsSpan(0, 200_000)); // partly random, partly zeros: both kinds of deflate block
        byte[] Pack(Action<DeterministicTarGz> add)
        {
            using var ms = new MemoryStream();
            using (var tar = new DeterministicTarGz(ms))
            {
                tar.AddBytes("manifest.json", "{}"u8);
                add(tar);
                tar.Finish();
            }
            return ms.ToArray();
        }
        var whole = Pack(t => t.AddBytes("workspaces/a/model.pkl", big));
        var streamed = Pack(t => t.AddStream("workspaces/a/model.pkl", new TrickleStream(big, 7_777), big.Length));
        Assert.Equal(whole, streamed);
    }

    /// <summary>Returns at most <c>chunk</c> bytes per read, as a pipe or a network share might.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) =>
            base.Read(buffer, offset, Math.Min(count, chunk));
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);
    }
}
