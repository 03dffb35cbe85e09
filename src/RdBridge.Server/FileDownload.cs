using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace RdBridge.Server;

/// <summary>
/// Sends a bundle (or one of its files) the way a resumable download needs it: the sha256 as strong ETag,
/// <c>If-None-Match</c> → 304, one <c>Range</c> (with <c>If-Range</c>) → 206, an unsatisfiable range → 416. The
/// bytes are read in 1 MB blocks straight into the response pipe's own memory, so a large bundle costs one copy per
/// block and a few system calls, not one per 64 KB.
/// </summary>
internal sealed class FileDownload(string path, string contentType, string downloadName, string sha256) : IResult
{
    private const int Block = 1024 * 1024;

    public async Task ExecuteAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var etag = $"\"{sha256}\"";
        response.Headers.ETag = etag;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.ContentDisposition =
            new ContentDispositionHeaderValue("attachment") { FileNameStar = downloadName }.ToString();
        if (request.Headers.IfNoneMatch.Any(v =>
                v is not null && v.Split(',').Any(t => t.Trim() == etag || t.Trim() == "*")))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        var length = file.Length;
        long from = 0, to = length - 1;
        var ifRange = request.Headers.IfRange.ToString();
        var rangeApplies = request.Headers.Range.Count == 1 && (ifRange.Length == 0 || ifRange == etag);
        if (rangeApplies && TryRange(request.Headers.Range.ToString(), length, out var range))
        {
            if (range is null)
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{length}";
                return;
            }
            (from, to) = range.Value;
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {from}-{to}/{length}";
        }
        response.ContentType = contentType;
        response.ContentLength = to - from + 1;
        if (HttpMethods.IsHead(request.Method)) return;

        var writer = response.BodyWriter;
        var position = from;
        var end = to + 1;
        var cancel = context.RequestAborted;
        while (position < end)
        {
            var memory = writer.GetMemory(Block);
            var want = (int)Math.Min(memory.Length, end - position);
            var read = await RandomAccess.ReadAsync(file.SafeFileHandle, memory[..want], position, cancel);
            if (read == 0) throw new IOException($"{path} ended early (truncated while being sent)");
            writer.Advance(read);
            position += read;
            var flushed = await writer.FlushAsync(cancel);
            if (flushed.IsCanceled || flushed.IsCompleted) return;
        }
    }

    /// <summary>One byte range; false when the header is not one we understand (then the whole file is sent).</summary>
    private static bool TryRange(string header, long length, out (long From, long To)? range)
    {
        range = null;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(',')) return false;
        var spec = header[6..].Trim();
        var dash = spec.IndexOf('-');
        if (dash < 0) return false;
        var a = spec[..dash].Trim();
        var b = spec[(dash + 1)..].Trim();
        if (a.Length == 0)
        {
            // The last N bytes.
            if (!long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix)) return false;
            if (suffix > 0 && length > 0) range = (Math.Max(0, length - suffix), length - 1);
            return true;
        }
        if (!long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var from)) return false;
        var to = length - 1;
        if (b.Length > 0 && (!long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out to) || to < from))
            return false;
        if (from < length) range = (from, Math.Min(to, length - 1));
        return true;
    }
}
