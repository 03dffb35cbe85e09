using RdBridge.Configuration;

namespace RdBridge.Watch;

/// <summary>
/// The operating system's file events (inotify, ReadDirectoryChangesW, FSEvents) on the log tree, recursively, and on
/// the registry's folder. A log tree that does not exist yet is a reason to scan (its events cannot be watched).
/// </summary>
public sealed class FileChangeWatch : IChangeWatch
{
    private readonly List<FileSystemWatcher> _watchers = [];

    public event Action<ChangeKind, string>? Changed;
    public event Action<string>? Lost;
    public string? Unreliable { get; }

    public FileChangeWatch(RdBridgeSettings settings)
    {
        var registryFolder = Path.GetDirectoryName(settings.RegistryPath)!;
        Unreliable = MountKind.Unreliable(settings.LogRoot) ?? MountKind.Unreliable(registryFolder);
        if (!Directory.Exists(settings.LogRoot))
        {
            Unreliable ??= $"the log folder {settings.LogRoot} does not exist yet";
        }
        else
        {
            Watch(settings.LogRoot, "*", recursive: true, ChangeKind.Log);
        }
        if (Directory.Exists(registryFolder))
        {
            // The registry and its -wal / -journal companions.
            Watch(registryFolder, Path.GetFileName(settings.RegistryPath) + "*", recursive: false, ChangeKind.Registry);
        }
        else
        {
            Unreliable ??= $"the registry's folder {registryFolder} does not exist yet";
        }
    }

    private void Watch(string folder, string filter, bool recursive, ChangeKind kind)
    {
        var w = new FileSystemWatcher(folder, filter)
        {
            IncludeSubdirectories = recursive,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite
                | NotifyFilters.Size,
            // The most a watcher may ask for; a burst beyond it is an overflow, reported as lost events.
            InternalBufferSize = 64 * 1024,
        };
        w.Created += (_, e) => Changed?.Invoke(kind, e.FullPath);
        w.Changed += (_, e) => Changed?.Invoke(kind, e.FullPath);
        w.Deleted += (_, e) => Changed?.Invoke(kind, e.FullPath);
        w.Renamed += (_, e) => Changed?.Invoke(kind, e.FullPath);
        w.Error += (_, e) => Lost?.Invoke($"watching {folder}: {e.GetException().Message}");
        w.EnableRaisingEvents = true;
        _watchers.Add(w);
    }

    public void Dispose()
    {
        foreach (var w in _watchers) w.Dispose();
    }
}

/// <summary>Which file systems deliver no change events for writes made elsewhere.</summary>
public static class MountKind
{
    private static readonly HashSet<string> Remote = new(StringComparer.Ordinal)
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "drvfs", "fuse.sshfs", "virtiofs", "vboxsf", "afs", "ceph",
        "glusterfs", "fuse.rclone",
    };

    /// <summary>Why events under <paramref name="path"/> may be lost, or null.</summary>
    public static string? Unreliable(string path)
    {
        var full = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows())
        {
            if (full.StartsWith(@"\\", StringComparison.Ordinal)) return $"{full} is on a network share";
            var root = Path.GetPathRoot(full);
            return root is not null && new DriveInfo(root).DriveType == DriveType.Network
                ? $"{full} is on a network drive" : null;
        }
        if (!File.Exists("/proc/self/mounts")) return null;
        // The longest mount point that holds the path decides its file system.
        string? type = null;
        var best = -1;
        foreach (var line in File.ReadLines("/proc/self/mounts"))
        {
            var f = line.Split(' ');
            if (f.Length < 3) continue;
            var point = f[1].Replace("\\040", " ");
            var holds = full == point || full.StartsWith(point.TrimEnd('/') + "/", StringComparison.Ordinal);
            if (holds && point.Length > best) { best = point.Length; type = f[2]; }
        }
        return type is not null && Remote.Contains(type)
            ? $"{full} is on a {type} file system (a network or WSL drive), whose writes from elsewhere raise no events"
            : null;
    }
}
