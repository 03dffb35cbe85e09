using System.Text.Json;
using RdBridge.IO;

namespace RdBridge.Catalogs;

/// <summary>
/// Reads the records of a catalog file one at a time, however large the file: only the current record and a read
/// buffer are in memory. Accepts RdBridge's catalogs and the Python tools' ones (another list name, or a bare array).
/// </summary>
public static class CatalogReader
{
    private enum Phase { Start, Properties, Items, Skip, Done }

    private static readonly string[] AlternateListNames = ["factors", "models", "strategies", "loops", "meta", "items"];

    /// <param name="refused">
    /// Told of each record of the list that is refused while the rest are read: one larger than
    /// <see cref="ReadLimits.CatalogRecord"/> (skipped byte by byte, never held) or one that is not a JSON object.
    /// Without it such a record ends the read (too large) or is passed over (not an object), as before.
    /// </param>
    public static IEnumerable<JsonElement> ReadRecords(
        string path, CatalogKind kind, IDictionary<string, string>? header = null, bool strictList = false,
        Action<RefusedRecord>? refused = null)
    {
        using var stream = RegularFile.OpenRead(path, 64 * 1024);
        foreach (var e in ReadRecords(stream, CatalogFile.ListName(kind), header, path, strictList, refused))
            yield return e;
    }

    /// <param name="strictList">Only the list named <paramref name="listName"/> (a feed holds several); otherwise the
    /// Python tools' other list names are accepted too.</param>
    public static IEnumerable<JsonElement> ReadRecords(
        Stream stream, string listName, IDictionary<string, string>? header, string source, bool strictList = false,
        Action<RefusedRecord>? refused = null)
    {
        var buffer = new byte[64 * 1024];
        int start = 0, length = 0;
        var isFinal = false;
        var state = new JsonReaderState(
            new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var phase = Phase.Start;
        var skipDepth = 0;
        var batch = new List<JsonElement>();
        long offset = 0;
        // Lines ended in the bytes already let go, and where the line after them starts: a JSON error is reported by
        // line and position in it, and the true byte offset needs both.
        long linesPassed = 0, lineStart = 0;
        long items = 0;
        var sawList = false;
        var keys = new List<string>();
        OversizedRecord? oversized = null;
        while (true)
        {
            if (oversized is not null)
            {
                // Passing over a record too large to hold: only its bytes are looked at, a buffer at a time.
                start += oversized.Skip(buffer.AsSpan(start, length - start), isFinal);
                if (oversized.Done)
                {
                    refused!(oversized.Refusal(offset + start));
                    oversized = null;
                }
                else if (isFinal)
                {
                    throw new FormatException($"{source} ends inside its record #{items}; the file is truncated — " +
                        "export it again");
                }
            }
            if (!isFinal)
            {
                if (start > 0)
                {
                    CountLines(buffer.AsSpan(0, start), offset, ref linesPassed, ref lineStart, long.MaxValue);
                    Buffer.BlockCopy(buffer, start, buffer, 0, length - start);
                    length -= start;
                    offset += start;
                    start = 0;
                }
                if (length == buffer.Length)
                {
                    // One record (or one value) must fit in the buffer: a 100 MB field would otherwise take gigabytes.
                    if (buffer.Length >= ReadLimits.CatalogRecord && oversized is null && phase == Phase.Items
                        && refused is not null)
                    {
                        oversized = new OversizedRecord(buffer.AsSpan(start, length - start), ++items, offset + start);
                        continue;
                    }
                    if (buffer.Length >= ReadLimits.CatalogRecord)
                    {
                        throw new FormatException($"{source} holds a record or value of more than " +
                            $"{ReadLimits.CatalogRecord:N0} bytes near byte {offset}; it is not read");
                    }

                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                var read = stream.Read(buffer, length, buffer.Length - length);
                if (read == 0) isFinal = true;
                length += read;
            }
            if (oversized is not null) continue;
            int consumed;
            try
            {
                consumed = Process(buffer.AsSpan(start, length - start), isFinal, ref state, ref phase, ref skipDepth,
                    listName, header, batch, strictList, ref items, refused, ref sawList, keys);
            }
            catch (ShapeException e)
            {
                throw new FormatException($"{source} is valid JSON but not a catalog of the shape expected: " +
                    $"{e.Message}; a catalog is {{\"{listName}\": [{{…}}, …]}} (or a bare list of records)");
            }
            catch (JsonException e)
            {
                var line = e.LineNumber ?? 0;
                CountLines(buffer.AsSpan(0, length), offset, ref linesPassed, ref lineStart, line);
                var at = lineStart + (e.BytePositionInLine ?? 0);
                // The reader stops at the end of the data when a value there is incomplete: the file was cut.
                if (isFinal && at >= offset + length)
                {
                    // Nothing but white space before the end: an empty file, not a cut one.
                    if (phase == Phase.Start) throw new FormatException($"{source} is empty or not a JSON catalog");
                    throw new FormatException($"{source} ends at byte {offset + length} in the middle of a value; " +
                        "the file is truncated — export it again");
                }
                if (PythonWordAt(buffer.AsSpan(0, length), at - offset) is var (word, back) && word is not null)
                {
                    throw new FormatException($"{source} holds {word} at byte {at - back} (line {line + 1}), as "
                        + "Python's json writes a float that is not a number, but JSON has no such value and no JSON "
                        + "reader takes it; write null where a value is unknown (Python's "
                        + "json.dump(…, allow_nan=False) finds every one), then import again");
                }
                throw new FormatException($"{source} is not valid JSON near byte {at} (line {line + 1}): {e.Message}");
            }
            start += consumed;
            foreach (var item in batch) yield return item;
            batch.Clear();
            if (phase == Phase.Done)
            {
                // A file with no list of records at all (a single record, the list under a name no tool uses) is a
                // catalog of the wrong shape, not an empty one: said, never read as zero records.
                if (!sawList && !strictList)
                {
                    throw new FormatException($"{source} is valid JSON but not a catalog of the shape expected: it " +
                        $"has no '{listName}' list of records (its top-level fields: " +
                        $"{(keys.Count == 0 ? "none" : string.Join(", ", keys.Select(k => $"'{Visible.Text(k)}'")))})" +
                        $"; a catalog is {{\"{listName}\": [{{…}}, …]}} (or a bare list of records)");
                }
                yield break;
            }
            if (isFinal)
            {
                throw new FormatException(phase == Phase.Start
                    ? $"{source} is empty or not a JSON catalog"
                    : $"{source} ends before its '{listName}' list is complete; " +
                        "the file is truncated — export it again");
            }
        }
    }

    /// <summary>Python's words for floats that are not numbers, where the JSON reader stopped (at the word, or at
    /// the minus sign before it).</summary>
    private static (string? Word, int Back) PythonWordAt(ReadOnlySpan<byte> buffer, long at)
    {
        if (at < 0 || at >= buffer.Length) return (null, 0);
        var rest = buffer[(int)at..];
        if (rest.StartsWith("NaN"u8)) return ("NaN", 0);
        if (rest.StartsWith("-Infinity"u8)) return ("-Infinity", 0);
        if (rest.StartsWith("Infinity"u8))
            return at > 0 && buffer[(int)at - 1] == '-' ? ("-Infinity", 1) : ("Infinity", 0);
        return (null, 0);
    }

    /// <summary>Counts the line feeds of <paramref name="data"/> (at <paramref name="at"/> in the file) up to
    /// <paramref name="upTo"/> lines in all, moving <paramref name="lineStart"/> to the start of the last line
    /// reached.</summary>
    private static void CountLines(ReadOnlySpan<byte> data, long at, ref long lines, ref long lineStart, long upTo)
    {
        for (var i = 0; i < data.Length && lines < upTo; i++)
        {
            if (data[i] != (byte)'\n') continue;
            lines++;
            lineStart = at + i + 1;
        }
    }

    private static int Process(ReadOnlySpan<byte> data, bool isFinal, ref JsonReaderState state, ref Phase phase,
        ref int skipDepth, string listName, IDictionary<string, string>? header, List<JsonElement> batch,
        bool strictList, ref long items, Action<RefusedRecord>? refused, ref bool sawList, List<string> keys)
    {
        var reader = new Utf8JsonReader(data, isFinal, state);
        while (true)
        {
            var checkpoint = reader.CurrentState;
            var before = (int)reader.BytesConsumed;
            if (!reader.Read()) { state = checkpoint; return before; }
            switch (phase)
            {
                case Phase.Start:
                    if (reader.TokenType == JsonTokenType.StartObject) phase = Phase.Properties;
                    else if (reader.TokenType == JsonTokenType.StartArray) (phase, sawList) = (Phase.Items, true);
                    else throw new ShapeException($"it is {KindName(reader.TokenType)}, not a JSON object or list");
                    break;
                case Phase.Properties:
                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        phase = Phase.Done;
                        state = reader.CurrentState;
                        return (int)reader.BytesConsumed;
                    }
                    var name = reader.GetString()!;
                    if (!reader.Read()) { state = checkpoint; return before; }
                    if (keys.Count < 8 && !keys.Contains(name)) keys.Add(name);
                    if (reader.TokenType == JsonTokenType.StartArray
                        && (name == listName || !strictList && AlternateListNames.Contains(name)))
                    {
                        (phase, sawList) = (Phase.Items, true);
                        break;
                    }
                    // {"loops": 42} or {"strategies": {…}} is a catalog of the wrong shape, not an empty one.
                    if (name == listName && reader.TokenType != JsonTokenType.StartArray)
                    {
                        throw new ShapeException(
                            $"'{name}' must be a list of records, not {KindName(reader.TokenType)}");
                    }

                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        // Skipped token by token, so another large list (a feed holds four) never has to fit in the
                        // buffer.
                        skipDepth = reader.CurrentDepth;
                        phase = Phase.Skip;
                    }
                    else if (header is not null)
                    {
                        header[name] = reader.TokenType == JsonTokenType.String
                            ? reader.GetString()!
                            : System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
                    }

                    break;
                case Phase.Items:
                    if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        phase = reader.CurrentDepth == 0 ? Phase.Done : Phase.Properties;
                        if (phase == Phase.Done) { state = reader.CurrentState; return (int)reader.BytesConsumed; }
                        break;
                    }
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        if (!JsonDocument.TryParseValue(ref reader, out var doc)) { state = checkpoint; return before; }
                        items++;
                        using (doc) batch.Add(doc.RootElement.Clone());
                    }
                    else
                    {
                        var kind = reader.TokenType;
                        if (!reader.TrySkip()) { state = checkpoint; return before; }
                        items++;
                        refused?.Invoke(new RefusedRecord(items, null, null,
                            $"it is {KindName(kind)}, not a record (a JSON object)"));
                    }
                    break;
                case Phase.Skip:
                    if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray
                        && reader.CurrentDepth == skipDepth)
                    {
                        phase = Phase.Properties;
                    }

                    break;
                default:
                    state = reader.CurrentState;
                    return (int)reader.BytesConsumed;
            }
        }
    }

    /// <summary>Valid JSON of the wrong shape: said as such, never as a syntax error at some byte.</summary>
    private sealed class ShapeException(string message) : JsonException(message);

    private static string KindName(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        JsonTokenType.String => "a text",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => "null",
    };
}

/// <summary>
/// A record of a catalog's list that was not read, and why: its place in the list (1 for the first), the ids it gave
/// before the point where it was refused, and the field that made it too large, when those could be seen.
/// </summary>
public sealed record RefusedRecord(long Index, string? Ids, string? Field, string Reason)
{
    public string Describe() => $"record #{Index}{(Ids is null ? "" : $" ({Ids})")}" +
        $"{(Field is null ? "" : $", field '{Field}'")}: {Reason}";
}
