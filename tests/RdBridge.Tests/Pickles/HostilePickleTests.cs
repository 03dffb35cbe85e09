using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

/// <summary>Pickles made to run code, exhaust memory or crash the reader: each is reported, none is executed.</summary>
public class HostilePickleTests
{
    private static byte[] Bytes(params object[] parts)
    {
        var b = new List<byte>();
        foreach (var p in parts)
        {
            switch (p)
            {
                case byte x: b.Add(x); break;
                case char c: b.Add((byte)c); break;
                case string s: b.AddRange(Encoding.UTF8.GetBytes(s)); break;
                case byte[] raw: b.AddRange(raw); break;
                default: throw new ArgumentException(p.ToString());
            }
        }

        return [.. b];
    }

    private static byte[] ShortText(string s) =>
        [0x8c, (byte)Encoding.UTF8.GetByteCount(s), .. Encoding.UTF8.GetBytes(s)];

    /// <summary>module.name(command) by protocol 2's GLOBAL or protocol 4's STACK_GLOBAL.</summary>
    private static byte[] Reducer(string module, string name, string argument, int protocol) => protocol == 2
        ? Bytes((byte)0x80, (byte)2, 'c', module, '\n', name, '\n', 'X',
            BitConverter.GetBytes(Encoding.UTF8.GetByteCount(argument)), argument, (byte)0x85, 'R', '.')
        : Bytes((byte)0x80, (byte)4, ShortText(module), ShortText(name), (byte)0x93, ShortText(argument), (byte)0x85,
            'R', '.');

    public static TheoryData<string, string, int> Reducers() => new()
    {
        { "os", "system", 2 }, { "os", "system", 4 }, { "posix", "system", 4 }, { "builtins", "eval", 4 },
        { "builtins", "exec", 2 }, { "subprocess", "getoutput", 4 },
    };

    [Theory]
    [MemberData(nameof(Reducers))]
    public void A_reducer_naming_a_command_runner_is_data_and_never_runs(string module, string name, int protocol)
    {
        using var dir = new TempDir();
        var marker = dir["pwned"];
        var command = name is "eval" or "exec"
            ? $"__import__('os').system('touch {marker}')"
            : $"touch {marker}";
        var pickle = Reducer(module, name, command, protocol);

        var read = Assert.IsType<PickledObject>(PickleReader.Read(pickle));
        Assert.Equal($"{module}.{name}", read.ClassName);
        Assert.Equal([command], read.Arguments);
        var e = Assert.Throws<PickleException>(() => Pandas.Read(pickle, dir["evil.pkl"]));
        Assert.Equal($"'{dir["evil.pkl"]}' is not a pandas DataFrame or Series RdBridge reads: the pickle holds a "
            + $"{module}.{name} object", e.Message);
        Assert.False(File.Exists(marker), "RdBridge ran the pickle's command");

        // The same bytes do run the command in CPython: the test pickles are real attacks.
        File.WriteAllBytes(dir["evil.pkl"], pickle);
        var load = $"import pickle; pickle.load(open('{dir["evil.pkl"]}', 'rb'))";
        var psi = new ProcessStartInfo("python3", ["-c", load]);
        using (var p = Process.Start(psi)!) p.WaitForExit();
        Assert.True(File.Exists(marker), "the test pickle is not a working attack");
    }

    [Fact]
    public void A_huge_declared_length_is_refused_without_allocating_it()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var (op, kind) in new[] { ((byte)0x8d, "string"), ((byte)0x8e, "bytes"), ((byte)0x96, "bytearray") })
        {
            var huge = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(huge, 1UL << 62);
            var e = Assert.Throws<PickleException>(() => PickleReader.Read(Bytes((byte)0x80, (byte)5, op, huge, '.')));
            // Its data would start at byte 11 (after the 2-byte header, the opcode and the 8-byte length).
            Assert.Equal($"pickle declares a {kind} of {1UL << 62} bytes at byte 11, more than the {Array.MaxLength} "
                + "a pickle read here may hold; the file is corrupt or not a pickle", e.Message);
        }
        // Plausible but longer than the file: a file still being written (its 10 bytes: header, BINUNICODE, the
        // 4-byte length, then 3 of the million bytes it announces from byte 7).
        var million = BitConverter.GetBytes(1_000_000);
        Assert.Equal("pickle ends after 10 bytes, inside an item that needs 1000000 more from byte 7; the file may "
            + "still be being written", Assert.Throws<TruncatedPickleException>(
            () => PickleReader.Read(Bytes((byte)0x80, (byte)4, 'X', million, "abc"))).Message);
        // A ceiling, not a value: the reader's own bookkeeping is the runtime's to size; a declared length allocated
        // would be 2^62 bytes (or a million), far above it.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000, "a declared length was allocated");
    }

    [Fact]
    public void A_numpy_array_whose_shape_does_not_match_its_bytes_is_refused()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, """
            import numpy as np, pickle, pickletools
            data = pickle.dumps(np.arange(3, dtype="float64"), protocol=4)
            # Declare a billion-by-billion array around the same 24 bytes, and a 1000-item one.
            big = data.replace(b"K\x03\x85", b"J\x00\xca\x9a\x3bJ\x00\xca\x9a\x3b\x86", 1)
            small = data.replace(b"K\x03\x85", b"M\xe8\x03\x85", 1)
            assert big != data and small != data
            open("big.pkl", "wb").write(pickletools.optimize(big))
            open("small.pkl", "wb").write(pickletools.optimize(small))
            """);
        var before = GC.GetAllocatedBytesForCurrentThread();
        // From the script: 10^9 × 10^9 items is past what an array may hold; 1000 float64 items need 8000 bytes, and
        // np.arange(3) gave 24.
        foreach (var (file, why) in new[]
        {
            ("big.pkl", $"big.pkl declares a numpy array of more than {Array.MaxLength} items"),
            ("small.pkl", "small.pkl holds 24 bytes for a float64 array of shape (1000), which needs 8000; the file "
                + "is corrupt"),
        })
        {
            var root = PickleReader.Read(File.ReadAllBytes(dir[file]));
            var e = Assert.Throws<PickleException>(() => NumpyArray.From(root, file));
            Assert.Equal(why, e.Message);
        }
        // A ceiling, as above: a billion-by-billion or 1000-item array allocated would be far above it.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000, "the declared shape was allocated");
    }

    [Fact]
    public void Deep_nesting_neither_overflows_the_stack_nor_goes_unbounded()
    {
        // 200,000 lists each inside the next: the reader never recurses, and refuses the nesting past its depth limit
        // (issue 26: what a pickle builds is bounded, not only its bytes).
        const int depth = 200_000;
        var nested = Bytes((byte)0x80, (byte)4, Enumerable.Repeat((byte)']', depth).ToArray(),
            Enumerable.Repeat((byte)'a', depth - 1).ToArray(), '.');
        // The 1000th APPEND (after the header and the 200,000 lists) is one level too deep.
        var tooDeep = $"pickle nests objects more than 1000 deep at byte {2 + depth + 999} (or adds a "
            + "container to itself that many times); the file is corrupt or hostile";
        Assert.Equal(tooDeep, Assert.Throws<PickleException>(() => PickleReader.Read(nested)).Message);
        Assert.Equal($"'nested.pkl': {tooDeep}",
            Assert.Throws<PickleException>(() => Pandas.Read(nested, "nested.pkl")).Message);

        // 100,000 open MARKs are refused.
        var marks = Bytes((byte)0x80, (byte)4, Enumerable.Repeat((byte)'(', 100_000).ToArray(), '.');
        var e = Assert.Throws<PickleException>(() => PickleReader.Read(marks));
        Assert.Equal("pickle is corrupt at byte 514: more than 512 nested MARKs", e.Message); // the 513th MARK
    }

    [Fact]
    public void Memo_abuse_is_bounded_and_reported()
    {
        // A far memo index costs one entry, not four billion.
        var far = Bytes((byte)0x80, (byte)4, 'N', 'r', (byte)0xff, (byte)0xff, (byte)0xff, (byte)0xff, '0',
            'j', (byte)0xff, (byte)0xff, (byte)0xff, (byte)0xff, '.');
        Assert.Null(PickleReader.Read(far));
        // Reading an entry never written.
        var e = Assert.Throws<PickleException>(() => PickleReader.Read(Bytes((byte)0x80, (byte)4, 'h', (byte)7, '.')));
        Assert.Equal("pickle is corrupt at byte 2: memo entry 7 is read before it is written", e.Message);
        // One object memoized a million times and pushed a million times stays within its limits.
        var flood = Bytes((byte)0x80, (byte)4, ']', Enumerable.Repeat((byte)0x94, 1_000_000).ToArray(), '.');
        Assert.Empty(Assert.IsType<List<object?>>(PickleReader.Read(flood))); // the empty list, memoized
        var limited = new PickleLimits(1000, MaxObjects: 1000, MaxMemo: 10, MaxOpenMarks: 8);
        Assert.Equal("pickle memoizes more than 10 objects; the file is corrupt or hostile",
            Assert.Throws<PickleException>(() => PickleReader.Read(flood, limited)).Message);
        var pushes = Bytes((byte)0x80, (byte)4, 'N', Enumerable.Repeat((byte)'2', 5000).ToArray(), '.');
        Assert.Equal("pickle makes more than 1000 objects; the file is corrupt or hostile",
            Assert.Throws<PickleException>(() => PickleReader.Read(pushes, limited)).Message);
    }

    [Fact]
    public void Stack_tricks_are_corrupt_not_crashes()
    {
        // Each names the opcode's byte (the 2-byte header counts) and what is wrong there; none is "truncated".
        const string corrupt = "pickle is corrupt at byte ";
        const string outside = ", which is outside the plain data RdBridge reads; nothing was executed";
        foreach (var (bad, expected) in new[]
                 {
                     (Bytes((byte)0x80, (byte)4, 'a', '.'), corrupt + "2: stack underflow"), // APPEND, empty stack
                     (Bytes((byte)0x80, (byte)4, '(', 'a', '.'), corrupt + "3: stack underflow"), // across a MARK
                     (Bytes((byte)0x80, (byte)4, 'N', 'N', 's', '.'), corrupt + "4: stack underflow"), // SETITEM, None
                     (Bytes((byte)0x80, (byte)4, '}', 'N', 'N', 's', '.'),
                         "pickle uses a dict key None at byte 5" + outside),
                     (Bytes((byte)0x80, (byte)4, 'N', ')', 'R', '.'),
                         "pickle uses REDUCE of None instead of a named class or function at byte 4" + outside),
                     (Bytes((byte)0x80, (byte)4, 'K', (byte)1, 'N', 'b', '.'),
                         corrupt + "5: BUILD applied to an integer"),
                     (Bytes((byte)0x80, (byte)4, 'e', '.'), corrupt + "2: an opcode that needs a MARK found none"),
                     (Bytes((byte)0x80, (byte)4, 'K', (byte)1, 'K', (byte)2, (byte)0x93, '.'),
                         corrupt + "6: STACK_GLOBAL without a name string"),
                     (Bytes((byte)0x80, (byte)6, 'N', '.'), "pickle uses pickle protocol 6 at byte 0" + outside),
                     (Bytes((byte)0x80, (byte)5, (byte)0x97, '.'), // NEXT_BUFFER
                         "pickle uses an out-of-band buffer (the data is not in the file) at byte 2" + outside),
                     (Bytes((byte)0x80, (byte)2, (byte)0x82, (byte)1, '.'), // EXT1
                         "pickle uses an extension-registry code at byte 2" + outside),
                     (Bytes((byte)0x80, (byte)2, 'Q', '.'), // BINPERSID
                         "pickle uses a persistent id (an object stored outside the pickle) at byte 2" + outside),
                     (Bytes((byte)0x80, (byte)4, '(', '.'), corrupt + "3: STOP with an unbalanced stack"), // in a MARK
                     (Bytes((byte)0x80, (byte)4, '.'), corrupt + "2: STOP with an unbalanced stack"), // STOP, nothing
                 })
        {
            var e = Assert.ThrowsAny<PickleException>(() => PickleReader.Read(bad));
            Assert.IsNotType<TruncatedPickleException>(e);
            Assert.Equal(expected, e.Message);
        }
    }

    [Fact]
    public void Truncation_at_every_byte_is_reported_as_truncated()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, """
            import pandas as pd, numpy as np
            df = pd.DataFrame({"return": [0.01, np.nan], "bench": [0.0, 0.5]},
                              index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"], name="datetime"))
            df.to_pickle("p5.pkl", protocol=5)
            df.to_pickle("p2.pkl", protocol=2)
            df["return"].to_pickle("s4.pkl", protocol=4)
            """);
        foreach (var file in new[] { "p5.pkl", "p2.pkl", "s4.pkl" })
        {
            var whole = File.ReadAllBytes(dir[file]);
            // A premise: the whole file reads (its values are PandasPickleTests' concern); what is tested is every cut.
            Assert.NotNull(Pandas.Read(whole, file));
            for (var n = 0; n < whole.Length; n++)
            {
                var prefix = whole[..n];
                var e = Record.Exception(() => Pandas.Read(prefix, file));
                Assert.True(e is TruncatedPickleException,
                    $"{file} cut at byte {n} gave {e?.GetType().Name}: {e?.Message}");
                // The file and the n bytes it was cut to; then either the missing STOP or the item the cut fell in
                // (which item, and how much of it is missing, is pandas' layout of the file).
                Assert.Matches($"^'{Regex.Escape(file)}': pickle ends after {Words.N(n, "byte", "bytes")}"
                    + @"( without its STOP opcode|, inside an item that needs \d+ more from byte \d+; the file may "
                    + "still be being written)$", e!.Message);
            }
        }
    }

    [Fact]
    public void Random_damage_to_a_real_pickle_is_reported_never_a_crash()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, """
            import pandas as pd, numpy as np
            df = pd.DataFrame({"return": [0.01, np.nan, 0.2], "n": [1, 2, 3], "s": ["a", "b", None]},
                              index=pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"], name="datetime"))
            df.to_pickle("p5.pkl", protocol=5)
            df.to_pickle("p2.pkl", protocol=2)
            """);
        var random = new Random(20261201);
        foreach (var file in new[] { "p5.pkl", "p2.pkl" })
        {
            var whole = File.ReadAllBytes(dir[file]);
            for (var round = 0; round < 3000; round++)
            {
                var damaged = (byte[])whole.Clone();
                for (var k = random.Next(1, 4); k > 0; k--)
                    damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
                var e = Record.Exception(() => Pandas.Read(damaged, file));
                Assert.True(e is null or PickleException, $"{file} round {round}: {e?.GetType().Name}: {e?.Message}");
            }
        }
    }

    [Fact]
    public void A_file_larger_than_its_kind_allows_is_refused_before_it_is_read()
    {
        using var dir = new TempDir();
        using (var f = File.Create(dir["ret.pkl"])) f.SetLength(PickleKind.BacktestReport.MaxBytes + 1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<PickleException>(() => RdBridge.Backtests.BacktestReport.Read(dir["ret.pkl"]));
        var max = PickleKind.BacktestReport.MaxBytes;
        Assert.Equal($"'{dir["ret.pkl"]}' is too large for a backtest report pickle (holds {max + 1:N0} bytes, more "
            + $"than the {max:N0} such a file may have); it is not one, or it is damaged, or longer than RdBridge "
            + "reads (RDBRIDGE_CURVE_PICKLE_MB raises that)", e.Message);
        // A ceiling, as above: reading the file (its size past the kind's maximum) would allocate far more.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
        File.WriteAllBytes(dir["empty.pkl"], []);
        Assert.Equal($"'{dir["empty.pkl"]}': pickle ends after 0 bytes without its STOP opcode",
            Assert.Throws<TruncatedPickleException>(
                () => Pandas.ReadFile(dir["empty.pkl"], PickleKind.LoggedObject)).Message);
    }
}
