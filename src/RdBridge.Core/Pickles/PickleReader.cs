using System.Buffers.Binary;
using System.Text;

namespace RdBridge.Pickles;

/// <summary>An object from a pickle: its class and the state that BUILD gave it (or the arguments it was made from).</summary>
public sealed record PickledObject(string ClassName, object? State, IReadOnlyList<object?> Arguments)
{
    public object? this[string key] => State is Dictionary<object, object?> d && d.TryGetValue(key, out var v) ? v : null;
}

/// <summary>
/// Reads the plain-data subset of Python's pickle format (protocols 2–5) that RD-Agent's log objects use: strings,
/// numbers, booleans, lists, tuples, dicts and objects as class name + state. Nothing is ever executed or imported;
/// an opcode outside the subset is a <see cref="FormatException"/>.
/// </summary>
public static class PickleReader
{
    private sealed class Mark;
    private static readonly Mark MarkObject = new();

    public static object? Read(byte[] data)
    {
        var stack = new List<object?>();
        var memo = new Dictionary<long, object?>();
        var pos = 0;
        int U8() => data[pos++];
        ReadOnlySpan<byte> Take(long n) { var s = data.AsSpan(pos, checked((int)n)); pos += (int)n; return s; }
        object? Pop() { var v = stack[^1]; stack.RemoveAt(stack.Count - 1); return v; }
        List<object?> PopMark()
        {
            var i = stack.FindLastIndex(o => ReferenceEquals(o, MarkObject));
            if (i < 0) throw new FormatException("pickle MARK missing");
            var items = stack.GetRange(i + 1, stack.Count - i - 1);
            stack.RemoveRange(i, stack.Count - i);
            return items;
        }
        while (pos < data.Length)
        {
            var op = U8();
            switch (op)
            {
                case 0x80: pos++; break;                                   // PROTO
                case 0x95: pos += 8; break;                                // FRAME
                case 0x8c: stack.Add(Encoding.UTF8.GetString(Take(U8()))); break;   // SHORT_BINUNICODE
                case (byte)'X': stack.Add(Encoding.UTF8.GetString(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                case 0x8d: stack.Add(Encoding.UTF8.GetString(Take((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))); break;
                case (byte)'C': stack.Add(Take(U8()).ToArray()); break;   // SHORT_BINBYTES
                case (byte)'B': stack.Add(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))).ToArray()); break;
                case 0x94: memo[memo.Count] = stack[^1]; break;            // MEMOIZE
                case (byte)'q': memo[U8()] = stack[^1]; break;
                case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = stack[^1]; break;
                case (byte)'h': stack.Add(memo[U8()]); break;
                case (byte)'j': stack.Add(memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))]); break;
                case 0x93: { var name = (string)Pop()!; var module = (string)Pop()!; stack.Add(new PickledObject($"{module}.{name}", null, [])); break; }
                case (byte)'c':
                {
                    var end1 = Array.IndexOf(data, (byte)'\n', pos); var module = Encoding.ASCII.GetString(data, pos, end1 - pos); pos = end1 + 1;
                    var end2 = Array.IndexOf(data, (byte)'\n', pos); var name = Encoding.ASCII.GetString(data, pos, end2 - pos); pos = end2 + 1;
                    stack.Add(new PickledObject($"{module}.{name}", null, []));
                    break;
                }
                case (byte)')': stack.Add(Array.Empty<object?>()); break;
                case (byte)'}': stack.Add(new Dictionary<object, object?>()); break;
                case (byte)']': stack.Add(new List<object?>()); break;
                case (byte)'(': stack.Add(MarkObject); break;
                case (byte)'s': { var v = Pop(); var k = Pop()!; ((Dictionary<object, object?>)stack[^1]!)[k] = v; break; }
                case (byte)'u':
                {
                    var items = PopMark();
                    var d = (Dictionary<object, object?>)stack[^1]!;
                    for (var i = 0; i + 1 < items.Count; i += 2) d[items[i]!] = items[i + 1];
                    break;
                }
                case (byte)'a': { var v = Pop(); ((List<object?>)stack[^1]!).Add(v); break; }
                case (byte)'e': { var items = PopMark(); ((List<object?>)stack[^1]!).AddRange(items); break; }
                case (byte)'t': stack.Add(PopMark().ToArray()); break;
                case 0x85: stack.Add(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); stack.Add(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); stack.Add(new[] { a, b, c }); break; }
                case 0x81: case (byte)'R':                                 // NEWOBJ, REDUCE: record, never call
                {
                    var args = Pop() as object?[] ?? [];
                    var cls = Pop() as PickledObject ?? throw new FormatException("pickle NEWOBJ/REDUCE without a class");
                    stack.Add(cls with { Arguments = args });
                    break;
                }
                case (byte)'b': { var state = Pop(); var obj = (PickledObject)stack[^1]!; stack[^1] = obj with { State = state }; break; }
                case (byte)'N': stack.Add(null); break;
                case 0x88: stack.Add(true); break;
                case 0x89: stack.Add(false); break;
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': stack.Add((long)U8()); break;
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: { var n = U8(); var bytes = Take(n).ToArray(); stack.Add(n == 0 ? 0L : (long)new System.Numerics.BigInteger(bytes)); break; }
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'.': return stack.Count > 0 ? stack[^1] : null;
                default: throw new FormatException($"pickle opcode 0x{op:x2} at byte {pos - 1} is outside the plain-data subset RdBridge reads");
            }
        }
        throw new FormatException("pickle ends without STOP");
    }
}
