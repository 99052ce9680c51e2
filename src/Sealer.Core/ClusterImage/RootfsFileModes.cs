using Sealer.Core.IO;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// Where a rootfs file's executable bit comes from, the same on every build machine: the item's <c>Executable</c>
/// metadata, else the mode git records for the file (<see cref="GitIndex"/>: 100755 or 100644), else — for a file git
/// does not track — the file's own Unix mode where the OS has one (never asked on Windows, where it is not executable).
/// </summary>
public sealed class RootfsFileModes(FilePlatform? platform = null)
{
    private readonly FilePlatform _platform = platform ?? FilePlatform.Current;
    private readonly Dictionary<string, GitIndex?> _indexByDir = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GitIndex> _indexByFile = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string WorkTree, string IndexFile, int HashLength)?> _workTreeByDir = new(StringComparer.Ordinal);

    /// <param name="statMode">The file's mode when the caller has stat'ed it already (not stat'ed again); ignored where the
    /// platform has no Unix modes.</param>
    public bool IsExecutable(RootfsEntry entry, UnixFileMode? statMode = null)
    {
        if (entry.Executable is { } given) return given;
        if (entry.SourcePath is not { } source) return false;
        if (IndexFor(source)?.IsExecutable(source, _platform) is { } tracked) return tracked;
        var mode = _platform.HasUnixFileModes ? statMode ?? _platform.UnixFileMode(source) : null;
        return mode is { } m && (m & UnixFileMode.UserExecute) != 0;
    }

    private GitIndex? IndexFor(string source)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(source))!;
        if (_indexByDir.TryGetValue(dir, out var index)) return index;
        if (GitIndex.Locate(source, _workTreeByDir) is { } at)
        {
            if (!_indexByFile.TryGetValue(at.IndexFile, out var found)) _indexByFile[at.IndexFile] = found = GitIndex.Read(at.IndexFile, at.WorkTree, at.HashLength, _platform);
            index = found;
        }
        return _indexByDir[dir] = index;
    }
}

/// <summary>Shell scripts with CRLF line endings: bash on the hosts fails on them (<c>$'\r': command not found</c>).</summary>
public static class ScriptLineEndings
{
    /// <summary>Scripts are files ending in <c>.sh</c>/<c>.bash</c>, or starting with <c>#!</c>.</summary>
    public static bool IsScript(string destination, ReadOnlySpan<byte> head)
        => IsScriptName(destination) || (head.Length >= 2 && head[0] == (byte)'#' && head[1] == (byte)'!');

    /// <summary>A script by its name alone (<c>.sh</c>/<c>.bash</c>): what can be told without reading the file.</summary>
    public static bool IsScriptName(string destination)
        => destination.EndsWith(".sh", StringComparison.OrdinalIgnoreCase) || destination.EndsWith(".bash", StringComparison.OrdinalIgnoreCase);

    /// <summary>The 1-based line of the first CRLF in <paramref name="content"/>, or 0 when it has none.</summary>
    public static int FirstCrlfLine(ReadOnlySpan<byte> content)
    {
        int line = 1;
        for (int i = 0; i < content.Length; i++)
        {
            if (content[i] == (byte)'\n') line++;
            else if (content[i] == (byte)'\r' && i + 1 < content.Length && content[i + 1] == (byte)'\n') return line;
        }
        return 0;
    }

    /// <summary>How much of a file <see cref="Check"/> reads (1 MiB).</summary>
    public const int CheckedBytes = 1 << 20;

    /// <summary>The first CRLF line of a script going to <paramref name="destination"/> (the first 1 MiB is read), or 0.</summary>
    public static int Check(RootfsEntry entry)
    {
        ReadOnlySpan<byte> bytes;
        if (entry.Content is not null)
        {
            bytes = entry.Content;
        }
        else if (entry.SourcePath is not null && File.Exists(entry.SourcePath))
        {
            using var fs = new FileStream(entry.SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read);
            var buffer = new byte[(int)Math.Min(fs.Length, CheckedBytes)];
            fs.ReadExactly(buffer);
            bytes = buffer;
        }
        else
        {
            return 0;
        }
        return Check(entry.Destination, bytes);
    }

    /// <summary>The first CRLF line of <paramref name="head"/> (a file's first <see cref="CheckedBytes"/>, or all of it) when
    /// it is a script going to <paramref name="destination"/>, else 0.</summary>
    public static int Check(string destination, ReadOnlySpan<byte> head) => IsScript(destination, head) ? FirstCrlfLine(head) : 0;
}
