using System.Diagnostics;
using System.Net.Sockets;

namespace RdBridge.Tests.Safety;

/// <summary>Makes the entries a hostile or damaged workspace can hold, with the system's own tools.</summary>
internal static class Hostile
{
    public static void Fifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>
    /// A Unix socket bound at <paramref name="path"/> (bound under a short name, as socket addresses are limited to
    /// 108 bytes, then renamed into place); dispose it after the test.
    /// </summary>
    public static Socket UnixSocket(string path)
    {
        var shortName = System.IO.Path.Combine("/tmp", $"s{Guid.NewGuid():N}"[..12]);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(shortName));
        File.Move(shortName, path);
        return socket;
    }

    /// <summary>
    /// Runs <paramref name="action"/>, failing the test if it has not finished within <paramref name="seconds"/>.
    /// </summary>
    public static T Within<T>(int seconds, Func<T> action, Action? unblock = null)
    {
        var task = Task.Run(action);
        if (!task.Wait(TimeSpan.FromSeconds(seconds)))
        {
            unblock?.Invoke();
            Assert.Fail($"did not finish within {seconds} s: something blocked");
        }
        return task.Result;
    }

    /// <summary>Total bytes of the files under <paramref name="dir"/>.</summary>
    public static long BytesUnder(string dir) =>
        Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length)
            : 0;
}

/// <summary>The built CLI as a child process: what a user runs, with an environment of the test's choosing.</summary>
internal static class Cli
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "rdbridge.dll");

    public static Process Start(string config, Dictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", [Dll, .. args, "--config", config])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (var (k, v) in environment ?? []) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    public static (int Code, string Out, string Err) Run(
        string config, Dictionary<string, string>? environment, params string[] args)
    {
        using var p = Start(config, environment, args);
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"rdbridge {string.Join(' ', args)} did not finish within 3 minutes");
        }
        return (p.ExitCode, output.Result, error.Result);
    }
}
