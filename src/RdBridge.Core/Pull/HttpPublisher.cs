using System.Net;
using System.Net.Http.Headers;
using RdBridge.Configuration;
using RdBridge.IO;

namespace RdBridge.Pull;

/// <summary>A publisher as the consumer sees it: a feed to fetch and bundles to download.</summary>
public interface IPublisher
{
    string Name { get; }
    string Describe { get; }
    /// <summary>
    /// Writes the feed of everything changed at or after <paramref name="since"/> to <paramref name="destination"/>.
    /// </summary>
    void FetchFeed(string? since, string destination, CancellationToken cancel);
    /// <summary>
    /// Completes <paramref name="partial"/> into the whole bundle: bytes already there are kept and only the rest is
    /// asked for. Returns the number of bytes received in this call. The download stops at the size the feed announced
    /// (<paramref name="expectedSize"/>, when known) and at the response's Content-Length: a peer that sends more is
    /// refused and the partial file removed.
    /// </summary>
    long DownloadBundle(string id, string expectedSha256, string partial, CancellationToken cancel,
        long expectedSize = -1);
}

/// <summary>A publisher could not be reached or answered with an error; the message names it.</summary>
public sealed class PublisherException(string message, Exception? inner = null)
    : RdBridgeException(message, ExitCodes.ItemFailures, inner);

/// <summary>
/// An RdBridge publisher over HTTP. Transient failures (connection refused or reset, timeouts, 5xx, a body cut short)
/// are retried with exponential back-off, and a download resumes from the bytes it already has (HTTP Range, guarded by
/// If-Range with the bundle's digest so a changed bundle restarts from zero). Every read of a body has a timeout
/// (<see cref="ReadLimits.NetworkIdleSeconds"/>: a peer that sends headers and then nothing is named, not waited on
/// forever), and a bundle is bounded (<see cref="ReadLimits.BundleDownload"/>) whether or not the peer announced its
/// size.
/// </summary>
public sealed class HttpPublisher(
    SourceSettings source, HttpClient http, int attempts = 4, TimeSpan? firstBackoff = null,
    TimeSpan? idleTimeout = null, long? maxBundleBytes = null) : IPublisher
{
    private readonly TimeSpan _backoff = firstBackoff ?? TimeSpan.FromMilliseconds(500);
    private readonly TimeSpan _idle = idleTimeout ?? TimeSpan.FromSeconds(ReadLimits.NetworkIdleSeconds);
    private readonly long _maxBundle = maxBundleBytes ?? ReadLimits.BundleDownload;

    public string Name => source.Name;
    public string Describe => $"source '{source.Name}' ({source.Url})";

    public void FetchFeed(string? since, string destination, CancellationToken cancel)
    {
        var url = new Uri(source.Url,
            "api/rdagent/feed" + (since is null ? "" : "?since=" + Uri.EscapeDataString(since)));
        Retry($"feed of {Describe}", cancel, () =>
        {
            using var response = Send(new HttpRequestMessage(HttpMethod.Get, url), cancel);
            Require(response, url);
            if (response.Content.Headers.ContentLength > ReadLimits.Feed)
            {
                throw new PublisherException($"{url} announces a feed of " +
                    $"{response.Content.Headers.ContentLength:N0} bytes, more than {ReadLimits.Feed:N0}");
            }

            AtomicFile.Write(destination, s => CopyAtMost(response.Content.ReadAsStream(cancel), s, ReadLimits.Feed,
                () => new PublisherException($"{url} sent a feed of more than {ReadLimits.Feed:N0} bytes; it " +
                    $"was not used"), url, cancel));
            return 0;
        });
    }

    public long DownloadBundle(string id, string expectedSha256, string partial, CancellationToken cancel,
        long expectedSize = -1)
    {
        var url = new Uri(source.Url, "api/rdagent/bundles/" + Uri.EscapeDataString(id));
        long received = 0;
        Retry($"bundle {id} from {Describe}", cancel, () =>
        {
            var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            if (expectedSize >= 0 && have > expectedSize)
            {
                // Longer than the bundle can be: not a prefix of it, so nothing of it can be kept.
                AtomicFile.TryDelete(partial);
                have = 0;
            }
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (have > 0)
            {
                request.Headers.Range = new RangeHeaderValue(have, null);
                request.Headers.IfRange =
                    new RangeConditionHeaderValue(new EntityTagHeaderValue($"\"{expectedSha256}\""));
            }
            using var response = Send(request, cancel);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The partial file is already whole (or longer than the bundle): let the digest decide.
                return 0;
            }
            Require(response, url);
            var append = response.StatusCode == HttpStatusCode.PartialContent
                && response.Content.Headers.ContentRange?.From == have;
            var start = append ? have : 0;
            // What this response may hold: the rest of the announced size, and never more than it says it holds; with
            // no size announced, the rest of the most a bundle may be (a peer's silence is not a licence).
            var room = expectedSize >= 0 ? expectedSize - start : _maxBundle - start;
            var announced = expectedSize >= 0 ? "its feed announced"
                : $"a bundle may have (its feed announced no size; RDBRIDGE_BUNDLE_MB raises the limit)";
            if (response.Content.Headers.ContentLength is { } length)
            {
                if (length > room)
                {
                    AtomicFile.TryDelete(partial);
                    throw new PublisherException($"{url} announces {length:N0} bytes for bundle {id}, more than " +
                        $"the {room:N0} {announced}; nothing was kept");
                }
                room = length;
            }
            using var input = response.Content.ReadAsStream(cancel);
            var mode = append ? FileMode.Append : FileMode.Create;
            using (var output = new FileStream(partial, mode, FileAccess.Write, FileShare.None, 128 * 1024))
            {
                try
                {
                    received += CopyAtMost(input, output, room, () => new PublisherException(
                        $"{url} sent more than the {room:N0} bytes {announced} for bundle {id}; the download was " +
                            $"stopped and removed"), url, cancel);
                }
                catch (PublisherException)
                {
                    output.Dispose();
                    AtomicFile.TryDelete(partial);
                    throw;
                }
                output.Flush(flushToDisk: true);
            }
            return 0;
        });
        return received;
    }

    /// <summary>
    /// Copies at most <paramref name="limit"/> bytes; one more throws what <paramref name="tooMuch"/> makes. Each read
    /// waits at most the idle timeout: a peer that stops sending is a <see cref="StalledException"/>, retried and then
    /// named like any other transient failure.
    /// </summary>
    private long CopyAtMost(Stream input, Stream output, long limit, Func<Exception> tooMuch, Uri url,
        CancellationToken cancel)
    {
        var buffer = new byte[128 * 1024];
        long copied = 0;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        while (true)
        {
            idle.CancelAfter(_idle);
            int n;
            try
            {
                n = input.ReadAsync(buffer, idle.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new StalledException($"{Describe} stalled: {url} sent nothing for " +
                    $"{_idle.TotalSeconds:0.#} s after {copied:N0} bytes (RDBRIDGE_NETWORK_IDLE_SECONDS)");
            }

            if (n == 0) return copied;
            if (n > limit - copied) throw tooMuch();
            output.Write(buffer, 0, n);
            copied += n;
        }
    }

    /// <summary>A peer that stopped sending in the middle of a body.</summary>
    private sealed class StalledException(string message) : IOException(message);

    private HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancel)
    {
        if (source.Token is { Length: > 0 } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.Send(request, HttpCompletionOption.ResponseHeadersRead, cancel);
    }

    private static void Require(HttpResponseMessage response, Uri url)
    {
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        var detail = "";
        try { detail = response.Content.ReadAsStringAsync().GetAwaiter().GetResult(); } catch (HttpRequestException) { }
        if (detail.Length > 300) detail = detail[..300] + "…";
        if (status >= 500 || status == 429)
            throw new TransientException($"{url} answered {status} {response.ReasonPhrase}");
        throw new PublisherException(
            $"{url} answered {status} {response.ReasonPhrase}{(detail.Length > 0 ? $": {detail}" : "")}");
    }

    private sealed class TransientException(string message) : Exception(message);

    private void Retry(string what, CancellationToken cancel, Func<int> action)
    {
        var delay = _backoff;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                action();
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TransientException or IOException
                                      or TaskCanceledException { InnerException: TimeoutException })
            {
                if (attempt >= attempts)
                {
                    throw new PublisherException($"{what} failed after {Counted.Of(attempts, "attempt")}: "
                        + $"{e.Message}; " +
                        "check that the publisher runs ('rdbridge serve --role publisher') and is reachable", e);
                }

                cancel.WaitHandle.WaitOne(delay);
                cancel.ThrowIfCancellationRequested();
                delay *= 2;
            }
        }
    }
}
