using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RdBridge.Server;

/// <summary>
/// The web UI under <c>/rdagent/</c>: static files compiled into the assembly (no build step, no npm, nothing to
/// install), one page that routes on the client. Every page gets its data from the consumer API.
/// </summary>
internal static class WebUi
{
    private static readonly Assembly Self = typeof(WebUi).Assembly;

    public static void Map(WebApplication app)
    {
        app.MapGet("/", () => Results.Redirect("/rdagent/factors")).ExcludeFromDescription();
        app.MapGet("/rdagent", () => Results.Redirect("/rdagent/factors")).ExcludeFromDescription();
        // Browsers ask for /favicon.ico whatever the page says; the icon is a small SVG either way.
        app.MapGet("/favicon.ico", () => Resource("assets/favicon.svg") is { } icon
            ? Results.Stream(icon, "image/svg+xml")
            : Results.NotFound()).ExcludeFromDescription();
        app.MapGet("/rdagent/{**path}", (string? path) =>
        {
            // Assets by name; every other path is a page of the one-page app.
            if (path is not null && path.StartsWith("assets/", StringComparison.Ordinal) && Resource(path) is { } asset)
                return Results.Stream(asset, ContentType(path));
            return Resource("index.html") is { } index
                ? Results.Stream(index, "text/html; charset=utf-8")
                : Results.NotFound();
        }).ExcludeFromDescription();
    }

    private static Stream? Resource(string path) =>
        path.Contains("..", StringComparison.Ordinal) ? null : Self.GetManifestResourceStream("wwwroot/" + path);

    private static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    };
}
