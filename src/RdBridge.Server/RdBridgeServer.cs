using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RdBridge.Configuration;
using RdBridge.Feed;
using RdBridge.Store;
using RdBridge.Watch;

namespace RdBridge.Server;

[Flags]
public enum ServeRole { Publisher = 1, Consumer = 2, Both = Publisher | Consumer }

/// <summary>
/// <c>rdbridge serve</c>: one ASP.NET Core process that serves the publisher API (the RD-Agent side, read-only), the
/// consumer API and web UI (the AIstock side), or both. Errors are RFC 7807 problem details. It listens on 127.0.0.1
/// unless told otherwise; bound to any other address it refuses to start without a token, and with a token configured
/// every state-changing request must carry it.
/// </summary>
public static class RdBridgeServer
{
    /// <param name="live">
    /// How the live sync watches and waits (<see cref="LiveService"/>); null serves without it (tests that drive every
    /// sync themselves, <c>serve --no-live</c>).
    /// </param>
    public static WebApplication Build(RdBridgeSettings settings, ServeRole role, IReadOnlyList<string>? urls = null,
        Action<ILoggingBuilder>? logging = null, LiveOptions? live = null)
    {
        urls ??= settings.ServerUrls;
        var open = urls.Where(u => !IsLoopback(u)).ToList();
        if (open.Count > 0 && string.IsNullOrEmpty(settings.ServerToken))
        {
            throw new ConfigurationException($"serve is asked to listen on {string.Join(", ", open)}, beyond this "
                + $"machine, but no token is configured; set server.token in rdbridge.json "
                + $"(or RDBRIDGE_SERVER__TOKEN), or listen on http://127.0.0.1:PORT");
        }

        if (role.HasFlag(ServeRole.Publisher) && !settings.HasRdAgent)
        {
            throw new ConfigurationException("the publisher role serves this machine's RD-Agent output, but the "
                + "configuration has no rdagent.root; set it, or serve --role consumer");
        }

        // The catalog and linkage handlers call the database synchronously, holding a pool thread each while it
        // answers. The pool starts with one thread per core and adds more only about twice a second, so on a 2-core
        // machine a third and fourth concurrent request waited for a new thread: that was most of the p99 latency.
        // Enough threads up front for the connections a UI and a few syncs make.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "rdbridge" });
        builder.WebHost.UseUrls([.. urls]);
        // Bundles are tens of megabytes: a larger response buffer lets Kestrel keep the socket busy while the file is
        // read.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxResponseBufferSize = 1024 * 1024);
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            // RdBridge's own lines (a sync run's start, stages and end) at Information, the framework's from Warning.
            .AddFilter("RdBridge", LogLevel.Information)
            // A failed start is reported by the command in one line; the host's own stack trace adds nothing.
            .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<DatabaseLockedHandler>();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(new ServerInfo(role));
        if (role.HasFlag(ServeRole.Consumer))
        {
            builder.Services.AddSingleton<SyncRunner>();
            builder.Services.AddSingleton<MatchCounts>();
        }
        if (role.HasFlag(ServeRole.Publisher))
        {
            builder.Services.AddSingleton<PublishGate>();
            builder.Services.AddHostedService<PublishRefresher>();
        }
        builder.Services.AddSingleton<FeedSignal>();
        if (live is not null)
        {
            builder.Services.AddSingleton(live);
            builder.Services.AddSingleton<LiveService>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<LiveService>());
        }

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            // Browsers must not sniff or frame anything served here; catalog text is data, never markup.
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.XFrameOptions = "DENY";
            await next(context);
        });
        app.MapOpenApi();
        app.MapGet("/api/health", (ServerInfo info) =>
                Results.Json(new { status = "ok", roles = info.Roles, version = ServerInfo.Version }))
            .WithName("health");
        if (role.HasFlag(ServeRole.Publisher))
        {
            PublisherApi.Map(app);
            LiveApi.MapPublisher(app);
        }
        if (role.HasFlag(ServeRole.Consumer))
        {
            ConsumerApi.Map(app);
            TaskRunRoutes.Map(app);
            FactorPageRoutes.Map(app);
            LiveApi.MapConsumer(app);
            WebUi.Map(app);
        }
        return app;
    }

    public static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url.Replace("*", "0.0.0.0").Replace("+", "0.0.0.0"), UriKind.Absolute, out var u))
            return false;
        if (u.Host == "localhost") return true;
        return IPAddress.TryParse(u.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>Requires the configured bearer token (compared in constant time); no token configured, no
    /// check.</summary>
    internal static IResult? Authorize(HttpContext context, RdBridgeSettings settings)
    {
        if (string.IsNullOrEmpty(settings.ServerToken)) return null;
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        var given = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : "";
        if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given),
                Encoding.UTF8.GetBytes(settings.ServerToken)))
        {
            return null;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(statusCode: 401, title: "token required",
            detail: "this request changes state; send the server's token as 'Authorization: Bearer <token>' "
                + "(server.token in rdbridge.json)");
    }

    internal static IResult Problem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);
}

public sealed record ServerInfo(ServeRole Role)
{
    public static string Version => typeof(ServerInfo).Assembly.GetName().Version?.ToString() ?? "0";
    public string[] Roles =>
    [
        .. new[] { ServeRole.Publisher, ServeRole.Consumer }.Where(r => Role.HasFlag(r))
            .Select(r => r.ToString().ToLowerInvariant()),
    ];
}
