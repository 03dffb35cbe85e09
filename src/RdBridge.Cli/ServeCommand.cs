using System.CommandLine;
using Microsoft.Extensions.Hosting;
using RdBridge.Store;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>The HTTP API and web UI.</summary>
internal static class ServeCommand
{
    public static Command Create(Io io)
    {
        var role = new Option<string>("--role")
        {
            Description = "publisher (the RD-Agent side), consumer (the AIstock side and web UI) or both",
            DefaultValueFactory = _ => "consumer",
        };
        role.AcceptOnlyFromAmong("publisher", "consumer", "both");
        var urls = new Option<string[]>("--urls")
        {
            Description = "Where to listen (default server.urls, or http://127.0.0.1:8787)",
            AllowMultipleArgumentsPerToken = true,
        };
        var noLive = new Option<bool>("--no-live")
        {
            Description = "Do not watch RD-Agent's log and registry (or the publishers' feeds) and sync by itself; "
                + "only cron, 'rdbridge sync' and the sync button sync",
        };
        var scan = new Option<double?>("--scan-seconds")
        {
            Description = "How often the stat scan runs where file events cannot be trusted (default 5)",
        }.Within(0.2, 3600);
        var cmd = new Command("serve",
            "HTTP API and web UI: the publisher's feed and bundle downloads, the consumer's sync API, catalog " +
            "queries and /rdagent/ pages; syncs by itself when RD-Agent writes (live)") { role, urls, noLive, scan };
        // The server's host stops it on SIGINT/SIGTERM (a finished shutdown, exit 0), not an interrupted run.
        cmd.SetAction(p => Guarded(io with { Interrupt = null }, () =>
        {
            var settings = Settings(p);
            var r = p.GetValue(role) switch
            {
                "publisher" => Server.ServeRole.Publisher,
                "both" => Server.ServeRole.Both,
                _ => Server.ServeRole.Consumer,
            };
            var listen = p.GetValue(urls) is { Length: > 0 } u ? u : null;
            if (r.HasFlag(Server.ServeRole.Consumer))
                using (var store = AistockStores.Open(settings)) { }   // migrate once, before the first request
            var live = p.GetValue(noLive) ? null : Watch.LiveOptions.Default;
            if (live is not null && p.GetValue(scan) is { } seconds)
                live = live with { ScanInterval = TimeSpan.FromSeconds(seconds) };
            var app = Server.RdBridgeServer.Build(settings, r, listen, live: live);
            app.Start();
            foreach (var address in app.Urls)
            {
                io.Out.WriteLine($"rdbridge serve ({p.GetValue(role)}) listening on {address}" +
                    (r.HasFlag(Server.ServeRole.Consumer) ? $" — UI at {address.TrimEnd('/')}/rdagent/factors" : ""));
            }

            app.WaitForShutdown();
            return Ok;
        }));
        return cmd;
    }
}
