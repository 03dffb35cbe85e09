using System.Text;

namespace RdBridge.Sample;

/// <summary>
/// A protocol-4 pickle of plain data and of objects as CPython pickles a class without <c>__reduce__</c>: the class by
/// STACK_GLOBAL, NEWOBJ with no arguments, then BUILD with its <c>__dict__</c>.
/// </summary>
public sealed class PickleText
{
    private readonly List<byte> _b = [0x80, 0x04];

    public static byte[] Of(Action<PickleText> body)
    {
        var p = new PickleText();
        body(p);
        p._b.Add((byte)'.');
        return p._b.ToArray();
    }

    public void Str(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        if (utf8.Length < 256) { _b.Add(0x8c); _b.Add((byte)utf8.Length); }
        else { _b.Add((byte)'X'); _b.AddRange(BitConverter.GetBytes((uint)utf8.Length)); }
        _b.AddRange(utf8);
    }

    /// <summary>
    /// A whole protocol-4 pickle written elsewhere (a pandas object), embedded as one value: its opcodes between PROTO
    /// and STOP. Neither writer uses the memo, so nothing it refers to can clash.
    /// </summary>
    public void Raw(byte[] pickle)
    {
        if (pickle.Length < 3 || pickle[0] != 0x80 || pickle[1] != 0x04 || pickle[^1] != (byte)'.')
            throw new ArgumentException("not a whole protocol-4 pickle", nameof(pickle));
        _b.AddRange(pickle.AsSpan(2, pickle.Length - 3));
    }

    public void None() => _b.Add((byte)'N');
    public void Bool(bool v) => _b.Add(v ? (byte)0x88 : (byte)0x89);
    public void Int(int v) { _b.Add((byte)'J'); _b.AddRange(BitConverter.GetBytes(v)); }

    public void List(IEnumerable<Action<PickleText>> items)
    {
        _b.Add((byte)']');
        foreach (var item in items) { item(this); _b.Add((byte)'a'); }
    }

    public void Dict(IEnumerable<(string Key, Action<PickleText> Value)> items)
    {
        _b.Add((byte)'}');
        foreach (var (k, v) in items) { Str(k); v(this); _b.Add((byte)'s'); }
    }

    public void Object(string className, IEnumerable<(string Key, Action<PickleText> Value)> state)
    {
        Global(className);
        _b.Add((byte)')'); _b.Add(0x81);
        Dict(state);
        _b.Add((byte)'b');
    }

    /// <summary>A path as the machine that wrote it held it: <c>pathlib.WindowsPath</c> for a drive path, else
    /// PosixPath.</summary>
    public void StoredPath(string path)
    {
        if (path.Length < 3 || path[1] != ':' || !char.IsAsciiLetter(path[0])) { PosixPath(path); return; }
        var parts = path[2..].Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries).ToList();
        parts.Insert(0, path[..2] + "\\");
        Parts("pathlib.WindowsPath", parts);
    }

    /// <summary>A <c>pathlib.PosixPath</c>: its class and the tuple of its parts, by REDUCE.</summary>
    public void PosixPath(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (path.StartsWith('/')) parts.Insert(0, "/");
        Parts("pathlib.PosixPath", parts);
    }

    private void Parts(string cls, List<string> parts)
    {
        Global(cls);
        _b.Add((byte)'(');
        foreach (var part in parts) Str(part);
        _b.Add((byte)'t'); _b.Add((byte)'R');
    }

    /// <summary>A tz-aware <c>datetime.datetime</c> in UTC: its 10-byte state and
    /// <c>datetime.timezone(timedelta(0))</c>.</summary>
    public void Time(DateTimeOffset t)
    {
        var u = t.UtcDateTime;
        var us = (int)(u.Ticks % TimeSpan.TicksPerSecond / 10);
        Global("datetime.datetime");
        _b.Add((byte)'C'); _b.Add(10);
        _b.AddRange([(byte)(u.Year >> 8), (byte)u.Year, (byte)u.Month, (byte)u.Day, (byte)u.Hour, (byte)u.Minute,
            (byte)u.Second, (byte)(us >> 16), (byte)(us >> 8), (byte)us]);
        Global("datetime.timezone");
        Global("datetime.timedelta");
        _b.AddRange([(byte)'K', 0, (byte)'K', 0, (byte)'K', 0, 0x87, (byte)'R', 0x85, (byte)'R', 0x86, (byte)'R']);
    }

    private void Global(string className)
    {
        var dot = className.LastIndexOf('.');
        Str(className[..dot]);
        Str(className[(dot + 1)..]);
        _b.Add(0x93);
    }
}
