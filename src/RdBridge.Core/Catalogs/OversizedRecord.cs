using System.Text;
using System.Text.Json;
using RdBridge.IO;

namespace RdBridge.Catalogs;

/// <summary>
/// Passes over one record of a catalog's list that is larger than <see cref="ReadLimits.CatalogRecord"/>, looking only
/// at its bytes (strings, escapes and nesting), so the records after it are still read and the large one is never held.
/// What the record gave before the limit (its ids, the field being read) is taken from the first buffer, to name it.
/// </summary>
internal sealed class OversizedRecord
{
    private enum Step { Before, Value, After, Done }

    private readonly long _index;
    private readonly long _at;
    private readonly string? _ids;
    private readonly string? _field;
    private Step _step = Step.Before;
    private bool _leadingComma;
    private int _depth;
    private bool _inString;
    private bool _escaped;

    /// <param name="head">The unread bytes, from the end of the previous item to the end of the full buffer.</param>
    public OversizedRecord(ReadOnlySpan<byte> head, long index, long at)
    {
        _index = index;
        _at = at;
        (_ids, _field) = Glimpse(head);
    }

    public bool Done => _step == Step.Done;

    public RefusedRecord Refusal(long end) => new(_index, _ids, _field,
        $"it is {end - _at:N0} bytes or more from byte {_at:N0}, more than the {ReadLimits.CatalogRecord:N0} a " +
        "record may take; it was not imported (the records around it were)");

    /// <summary>
    /// Consumes what belongs to the record: before it a separating comma when one follows the previous item, after it
    /// the separating comma when it was the list's first item — so the JSON reader resumes where an item may follow.
    /// </summary>
    public int Skip(ReadOnlySpan<byte> data, bool isFinal)
    {
        var i = 0;
        while (i < data.Length && _step != Step.Done)
        {
            var b = data[i];
            if (_step == Step.Before)
            {
                if (b == (byte)',')
                {
                    _leadingComma = true;
                }
                else if (!IsSpace(b))
                {
                    _step = Step.Value;
                    continue;
                }
            }
            else if (_step == Step.Value)
            {
                ScanValue(b);
            }
            else if (_leadingComma || !IsSpace(b))
            {
                // After the record: stop before what follows, taking the separating comma only for a first item.
                _step = Step.Done;
                if (!_leadingComma && b == (byte)',') i++;
                continue;
            }
            i++;
        }
        if (isFinal && _step == Step.After) _step = Step.Done;
        return i;
    }

    private void ScanValue(byte b)
    {
        if (_inString)
        {
            if (_escaped) { _escaped = false; return; }
            if (b == (byte)'\\') { _escaped = true; return; }
            if (b != (byte)'"') return;
            _inString = false;
            if (_depth == 0) _step = Step.After;
            return;
        }
        if (b == (byte)'"') { _inString = true; return; }
        if (b is (byte)'{' or (byte)'[') { _depth++; return; }
        if (b is (byte)'}' or (byte)']' && --_depth <= 0) _step = Step.After;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>The record's short top-level texts and numbers whose names end in <c>_id</c>, and the top-level
    /// field the buffer ended in.</summary>
    private static (string? Ids, string? Field) Glimpse(ReadOnlySpan<byte> head)
    {
        var ids = new List<string>();
        string? field = null;
        try
        {
            // The comma before the record, if any, is not JSON the reader takes first: start at the record itself.
            var skip = 0;
            while (skip < head.Length && (IsSpace(head[skip]) || head[skip] == (byte)',')) skip++;
            var reader = new Utf8JsonReader(head[skip..], isFinalBlock: false, default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return (null, null);
            while (reader.Read())
            {
                if (reader.CurrentDepth != 1 || reader.TokenType != JsonTokenType.PropertyName) continue;
                field = reader.GetString();
                if (!reader.Read()) break;
                var shortValue = reader.TokenType is JsonTokenType.String or JsonTokenType.Number
                    && reader.ValueSpan.Length <= 200;
                if (field is not null && field.EndsWith("_id", StringComparison.Ordinal) && ids.Count < 4 && shortValue)
                {
                    var value = reader.TokenType == JsonTokenType.String
                        ? reader.GetString() : Encoding.UTF8.GetString(reader.ValueSpan);
                    ids.Add($"{field} {Visible.Text(value)}");
                }
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                    break;
            }
        }
        catch (JsonException) { }
        return (ids.Count > 0 ? string.Join(", ", ids) : null, field is null ? null : Visible.Text(field));
    }
}
