// One room on purpose (over ~400 lines): the reader is one stack machine. Its opcode switch and the helpers it
// calls share the stack, the MARK fence, the memo and the limits' counters, and each opcode's checks only make sense
// next to the others; split into partial files, the invariants they keep together would be read in pieces. The
// values it builds and its limits live in PickledValues.cs.

using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Dict = System.Collections.Generic.Dictionary<object, object?>;

namespace RdBridge.Pickles;

/// <summary>
/// Reads Python's pickle format, protocols 2 to 5, as plain data: strings, numbers, booleans, bytes, lists, tuples
/// (<c>object?[]</c>), dicts, sets, named globals (<see cref="PickledGlobal"/>) and calls recorded as
/// <see cref="PickledObject"/>. Nothing is ever imported, called or executed, whatever the pickle names: a reducer
/// naming <c>os.system</c> becomes a data node like any other. The reader never recurses, so no nesting depth can
/// exhaust the call stack; open MARKs, objects and memo entries are capped.
/// An input that ends early throws <see cref="TruncatedPickleException"/>; anything else unreadable throws
/// <see cref="PickleException"/>.
/// </summary>
public static class PickleReader
{
    public const int HighestProtocol = 5;

    public static object? Read(byte[] data) => Read(data, PickleLimits.For(data.Length));

    public static object? Read(byte[] data, PickleLimits limits)
    {
        try
        {
            return new Machine(data, limits).Run();
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or OverflowException)
        {
            // Each opcode checks what it pops; this is the last line against a combination nobody foresaw.
            throw new PickleException($"pickle is corrupt ({e.Message})");
        }
    }

    private sealed class Machine(byte[] data, PickleLimits limits)
    {
        private readonly List<object?> _stack = [];
        private readonly Stack<int> _marks = new();
        private readonly Dictionary<long, object?> _memo = [];
        private int _pos;
        private int _fence;   // the stack index the innermost MARK set: nothing below it may be popped
        private int _objects;
        private int _protocol;
        private readonly Dictionary<object, int> _depth = new(ReferenceEqualityComparer.Instance);

        public object? Run()
        {
            while (true)
            {
                if (_pos >= data.Length)
                {
                    throw new TruncatedPickleException(
                        $"pickle ends after {IO.Counted.Of(data.Length, "byte")} without its STOP opcode");
                }

                var at = _pos;
                var op = data[_pos++];
                switch (op)
                {
                    case 0x80: // PROTO
                        _protocol = U8();
                        if (_protocol > HighestProtocol) throw Unsupported($"pickle protocol {_protocol}", at);
                        break;
                    case 0x95: // FRAME: a length hint for buffered readers; the whole input is in memory already
                        Length64("frame");
                        break;
                    case (byte)'.': // STOP
                        if (_stack.Count == 0 || _marks.Count > 0) throw Corrupt("STOP with an unbalanced stack", at);
                        return _stack[^1];

                    case (byte)'(': // MARK
                        if (_marks.Count >= limits.MaxOpenMarks)
                            throw Corrupt($"more than {limits.MaxOpenMarks} nested MARKs", at);
                        _marks.Push(_fence);
                        _fence = _stack.Count;
                        break;
                    case (byte)'0': Pop(); break;                        // POP
                    case (byte)'1': PopMark(); break;                    // POP_MARK
                    case (byte)'2': Push(Peek()); break;                 // DUP

                    case (byte)'N': Push(null); break;
                    case 0x88: Push(true); break;                        // NEWTRUE
                    case 0x89: Push(false); break;                       // NEWFALSE
                    case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                    case (byte)'K': Push((long)U8()); break;
                    case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                    case 0x8a: Push(Integer(Take(U8()))); break;         // LONG1
                    case 0x8b: Push(Integer(Take(Length32("long")))); break;
                    case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;   // BINFLOAT

                    case 0x8c: Push(Text(Take(U8()))); break;            // SHORT_BINUNICODE
                    case (byte)'X': Push(Text(Take(LengthU32("string")))); break;
                    case 0x8d: Push(Text(Take(Length64("string")))); break;
                    // Python 2 str: bytes of unknown encoding, so they stay bytes.
                    case (byte)'U': Push(Take(U8()).ToArray()); break;   // SHORT_BINSTRING
                    case (byte)'T': Push(Take(Length32("string")).ToArray()); break;
                    case (byte)'C': Push(Take(U8()).ToArray()); break;   // SHORT_BINBYTES
                    case (byte)'B': Push(Take(LengthU32("bytes")).ToArray()); break;
                    case 0x8e: Push(Take(Length64("bytes")).ToArray()); break;
                    case 0x96: Push(Take(Length64("bytearray")).ToArray()); break;
                    case 0x97: case 0x98: // NEXT_BUFFER, READONLY_BUFFER
                        throw Unsupported("an out-of-band buffer (the data is not in the file)", at);

                    case (byte)')': Push(Array.Empty<object?>()); break;
                    case (byte)'t': { var items = PopMark(); Push(Holding(items.ToArray(), items, 0, at)); break; }
                    case 0x85: { var a = Pop(); Push(Holding(new[] { a }, [a], 0, at)); break; }
                    case 0x86: { var b = Pop(); var a = Pop(); Push(Holding(new[] { a, b }, [a, b], 0, at)); break; }
                    case 0x87:
                    {
                        var c = Pop(); var b = Pop(); var a = Pop();
                        Push(Holding(new[] { a, b, c }, [a, b, c], 0, at));
                        break;
                    }
                    case (byte)']': Push(new List<object?>()); break;
                    case (byte)'l': { var items = PopMark(); Push(Holding(items, items, 0, at)); break; } // LIST
                    case (byte)'a': // APPEND
                    {
                        var v = Pop();
                        var list = Top<List<object?>>("APPEND", at);
                        Holding(list, [v], list.Count, at).Add(v);
                        break;
                    }
                    case (byte)'e': // APPENDS
                    {
                        var items = PopMark();
                        var list = Top<List<object?>>("APPENDS", at);
                        Holding(list, items, list.Count, at).AddRange(items);
                        break;
                    }
                    case (byte)'}': Push(new Dict()); break;
                    case (byte)'d': // DICT
                    {
                        var items = PopMark();
                        var d = new Dict();
                        SetItems(d, items, at);
                        Push(d);
                        break;
                    }
                    case (byte)'s': // SETITEM
                    {
                        var v = Pop();
                        var k = Pop();
                        SetItems(Top<Dict>("SETITEM", at), [k, v], at);
                        break;
                    }
                    case (byte)'u': { var items = PopMark(); SetItems(Top<Dict>("SETITEMS", at), items, at); break; }
                    case 0x8f: Push(new PickledSet(frozen: false)); break;                 // EMPTY_SET
                    case 0x90: // ADDITEMS
                    {
                        var items = PopMark();
                        var set = Top<PickledSet>("ADDITEMS", at);
                        Holding(set, items, set.Items.Count, at).Items.AddRange(items);
                        break;
                    }
                    case 0x91: // FROZENSET
                    {
                        var items = PopMark();
                        var set = new PickledSet(frozen: true);
                        Holding(set, items, 0, at).Items.AddRange(items);
                        Push(set);
                        break;
                    }

                    case 0x94: Memoize(_memo.Count); break;          // MEMOIZE
                    case (byte)'q': Memoize(U8()); break;            // BINPUT
                    case (byte)'r': Memoize(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break;
                    case (byte)'h': Push(Recall(U8(), at)); break;       // BINGET
                    case (byte)'j': Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)), at)); break;

                    case (byte)'c': { var module = Line(); var name = Line(); Push(Global(module, name)); break; }
                    case 0x93: // STACK_GLOBAL
                    {
                        var name = Pop() as string ?? throw Corrupt("STACK_GLOBAL without a name string", at);
                        var module = Pop() as string ?? throw Corrupt("STACK_GLOBAL without a module string", at);
                        Push(Global(module, name));
                        break;
                    }
                    case (byte)'R': // REDUCE: recorded, never called
                    {
                        var args = Pop() as object?[] ?? throw Corrupt("REDUCE without an argument tuple", at);
                        Push(Holding(Call(Callable(Pop(), "REDUCE", at), args, null, at), args, 0, at));
                        break;
                    }
                    case 0x81: // NEWOBJ
                    {
                        var args = Pop() as object?[] ?? throw Corrupt("NEWOBJ without an argument tuple", at);
                        Push(Holding(Call(Callable(Pop(), "NEWOBJ", at), args, null, at), args, 0, at));
                        break;
                    }
                    case 0x92: // NEWOBJ_EX
                    {
                        var kwargs = Pop() as Dict ?? throw Corrupt("NEWOBJ_EX without keyword arguments", at);
                        var args = Pop() as object?[] ?? throw Corrupt("NEWOBJ_EX without an argument tuple", at);
                        Push(Holding(Call(Callable(Pop(), "NEWOBJ_EX", at), args, kwargs, at), [.. args, kwargs], 0,
                            at));
                        break;
                    }
                    case (byte)'b': // BUILD
                    {
                        var state = Pop();
                        var target = Top<PickledObject>("BUILD", at);
                        Holding(target, [state], 0, at);
                        target.State = target.State is Dict old && state is Dict more
                            ? Merge(old, more) : state;
                        break;
                    }
                    case (byte)'i': case (byte)'o':
                        throw Unsupported("INST/OBJ (protocol 0 and 1 object creation)", at);
                    case (byte)'P': case (byte)'Q':
                        throw Unsupported("a persistent id (an object stored outside the pickle)", at);
                    case 0x82: case 0x83: case 0x84:
                        throw Unsupported("an extension-registry code", at);
                    default:
                        throw Unsupported($"opcode 0x{op:x2}", at);
                }
            }
        }

        private int U8() => _pos < data.Length ? data[_pos++] : throw Truncated(1);

        private ReadOnlySpan<byte> Take(int n)
        {
            if (n > data.Length - _pos) throw Truncated(n);
            var span = data.AsSpan(_pos, n);
            _pos += n;
            return span;
        }

        /// <summary>
        /// A declared length: beyond any input RdBridge reads it is corrupt; beyond this input, truncated.
        /// </summary>
        private int Length(ulong declared, string what)
        {
            if (declared > (ulong)limits.MaxDeclaredLength)
            {
                throw new PickleException($"pickle declares a {what} of {declared} bytes at byte {_pos}, more than " +
                    $"the {limits.MaxDeclaredLength} a pickle read here may hold; the file is corrupt or not a pickle");
            }

            if (declared > (ulong)(data.Length - _pos)) throw Truncated((long)declared);
            return (int)declared;
        }

        private int Length32(string what) => Length(BinaryPrimitives.ReadInt32LittleEndian(Take(4)), what);
        private int LengthU32(string what) => Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)), what);
        private int Length64(string what) => Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)), what);

        private int Length(long declared, string what) =>
            declared < 0 ? throw Corrupt($"a negative {what} length", _pos) : Length((ulong)declared, what);

        private string Line()
        {
            var end = Array.IndexOf(data, (byte)'\n', _pos);
            if (end < 0) throw Truncated(1);
            var text = Encoding.UTF8.GetString(data, _pos, end - _pos);
            _pos = end + 1;
            return text;
        }

        private static string Text(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

        private static object Integer(ReadOnlySpan<byte> littleEndian)
        {
            if (littleEndian.Length == 0) return 0L;
            var value = new BigInteger(littleEndian, isUnsigned: false, isBigEndian: false);
            return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
        }

        private void Push(object? value)
        {
            if (++_objects > limits.MaxObjects)
            {
                throw new PickleException(
                    $"pickle makes more than {limits.MaxObjects} objects; the file is corrupt or hostile");
            }

            _stack.Add(value);
        }

        /// <summary>
        /// Records that <paramref name="container"/>, which already holds <paramref name="held"/> items, now also holds
        /// <paramref name="items"/>: refuses it past the limits on items and depth. Depth is what the container held
        /// when each item was added, so a container added to itself grows one level deeper every time.
        /// </summary>
        private T Holding<T>(T container, IReadOnlyList<object?> items, int held, int at) where T : class
        {
            if ((long)held + items.Count > limits.MaxContainerItems)
            {
                throw new PickleException($"pickle fills one {ContainerName(container)} with more than " +
                    $"{limits.MaxContainerItems} items at byte {at}; the file is corrupt or hostile");
            }

            var depth = DepthOf(container);
            foreach (var item in items) depth = Math.Max(depth, DepthOf(item) + 1);
            if (depth > limits.MaxDepth)
            {
                throw new PickleException($"pickle nests objects more than {limits.MaxDepth} deep at byte {at} " +
                    "(or adds a container to itself that many times); the file is corrupt or hostile");
            }

            if (depth > 1) _depth[container] = depth;
            return container;
        }

        private int DepthOf(object? value) => value switch
        {
            List<object?> or object?[] or Dict or PickledSet or PickledObject =>
                _depth.TryGetValue(value, out var d) ? d : 1,
            _ => 0,
        };

        private object? Pop()
        {
            if (_stack.Count <= _fence) throw Corrupt("stack underflow", _pos - 1);
            var v = _stack[^1];
            _stack.RemoveAt(_stack.Count - 1);
            return v;
        }

        private object? Peek() => _stack.Count > _fence ? _stack[^1] : throw Corrupt("stack underflow", _pos - 1);

        private T Top<T>(string opcode, int at) where T : class =>
            Peek() as T ?? throw Corrupt($"{opcode} applied to {Pandas.Describe(_stack[^1])}", at);

        private List<object?> PopMark()
        {
            if (_marks.Count == 0) throw Corrupt("an opcode that needs a MARK found none", _pos - 1);
            var items = _stack.GetRange(_fence, _stack.Count - _fence);
            _stack.RemoveRange(_fence, _stack.Count - _fence);
            _fence = _marks.Pop();
            return items;
        }

        private void SetItems(Dict target, List<object?> items, int at)
        {
            if (items.Count % 2 != 0) throw Corrupt("SETITEMS with an odd number of items", at);
            Holding(target, items, target.Count - items.Count / 2, at);
            for (var i = 0; i < items.Count; i += 2)
                target[items[i] ?? throw Unsupported("a dict key None", at)] = items[i + 1];
        }

        private static Dict Merge(Dict old, Dict more)
        {
            foreach (var (k, v) in more) old[k] = v;
            return old;
        }

        private void Memoize(long index)
        {
            if (_memo.Count >= limits.MaxMemo && !_memo.ContainsKey(index))
            {
                throw new PickleException(
                    $"pickle memoizes more than {limits.MaxMemo} objects; the file is corrupt or hostile");
            }

            _memo[index] = Peek();
        }

        private object? Recall(long index, int at) =>
            _memo.TryGetValue(index, out var v)
                ? v : throw Corrupt($"memo entry {index} is read before it is written", at);

        private static PickledGlobal Global(string module, string name) =>
            // Python 2's module names, as Python 3's unpickler maps them for protocol 2 files.
            new(module switch { "__builtin__" => "builtins", "copy_reg" => "copyreg", _ => module }, name);

        private PickledGlobal Callable(object? value, string opcode, int at) =>
            value as PickledGlobal
            ?? throw Unsupported($"{opcode} of {Pandas.Describe(value)} instead of a named class or function", at);

        /// <summary>
        /// A call as data. The few calls that only rebuild plain data (bytes in protocol 2, sets) become that data;
        /// everything else is recorded.
        /// </summary>
        private static object Call(PickledGlobal callable, object?[] args, Dict? kwargs, int at)
        {
            switch (callable.FullName)
            {
                case "_codecs.encode" when args is [string text, string encoding] && kwargs is null:
                    if (encoding is not ("latin1" or "latin-1"))
                        throw Unsupported($"bytes encoded as '{encoding}'", at);
                    return Latin1(text, at);
                case "builtins.bytes" or "builtins.bytearray" when args.Length == 0:
                    return Array.Empty<byte>();
                case "builtins.bytearray" when args is [string text, string]:
                    return Latin1(text, at);
                case "builtins.bytearray" when args is [byte[] bytes]:
                    return bytes;
                case "builtins.set" or "builtins.frozenset" when args is [] or [List<object?>]:
                {
                    var set = new PickledSet(callable.Name == "frozenset");
                    if (args is [List<object?> items]) set.Items.AddRange(items);
                    return set;
                }
                default:
                    return new PickledObject(callable.FullName, null, args) { Keywords = kwargs };
            }
        }

        private static byte[] Latin1(string text, int at)
        {
            var bytes = new byte[text.Length];
            for (var i = 0; i < text.Length; i++)
            {
                bytes[i] = text[i] <= 0xff
                    ? (byte)text[i] : throw Corrupt("latin-1 bytes with a character above U+00FF", at);
            }

            return bytes;
        }

        // The containers a pickle fills item by item, by their Python names.
        private static string ContainerName(object container) => container switch
        {
            object?[] => "tuple",
            List<object?> => "list",
            Dict => "dict",
            PickledSet s => s.Frozen ? "frozenset" : "set",
            _ => "container",
        };

        private TruncatedPickleException Truncated(long wanted) =>
            new($"pickle ends after {IO.Counted.Of(data.Length, "byte")}, inside an item that needs {wanted} more "
                + $"from byte {_pos}; " +
                "the file may still be being written");

        private static PickleException Corrupt(string what, int at) =>
            new($"pickle is corrupt at byte {at}: {what}");

        private static PickleException Unsupported(string what, int at) =>
            new($"pickle uses {what} at byte {at}, which is outside the plain data RdBridge reads; " +
                "nothing was executed");
    }
}
