using System.Buffers.Binary;
using System.Text;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// The file modes git records for a work tree (its index, <c>.git/index</c>, versions 2 to 4, SHA-1 or SHA-256
/// repositories, linked work trees through a <c>.git</c> file). A checkout on Windows has no executable bits and
/// <c>core.fileMode=false</c>, but the index still says <c>100755</c> for a script committed executable on Linux: that is
/// where a script's executable bit comes from when the item does not say, so every OS builds the same image.
/// </summary>
public sealed class GitIndex
{
    private const int ModeExecutable = 0b001_001_001;
    private readonly Dictionary<string, int> _modes;

    private GitIndex(string workTree, Dictionary<string, int> modes)
    {
        WorkTree = workTree;
        _modes = modes;
    }

    /// <summary>The work tree's root (the folder holding <c>.git</c>).</summary>
    public string WorkTree { get; }

    public int Count => _modes.Count;

    /// <summary>The git mode of a file (<c>0x81ED</c> = 100755, <c>0x81A4</c> = 100644), or null when git does not track it.</summary>
    public int? ModeOf(string fullPath, FilePlatform? platform = null)
    {
        string rel = PortablePath.RelativeTo(WorkTree, fullPath, platform);
        return rel.StartsWith("../", StringComparison.Ordinal) ? null : _modes.TryGetValue(rel, out int m) ? m : null;
    }

    /// <summary>True/false for a tracked regular file (executable when git records 100755), null when not tracked.</summary>
    public bool? IsExecutable(string fullPath, FilePlatform? platform = null)
        => ModeOf(fullPath, platform) is { } m && (m >> 12) == 0b1000 ? (m & ModeExecutable) != 0 : null;

    /// <summary>The index of the work tree holding <paramref name="path"/>, or null when it is in none (or the work tree has
    /// no index yet). A damaged index is SEA1313.</summary>
    public static GitIndex? ForPath(string path, FilePlatform? platform = null)
        => Locate(path) is { } at ? Read(at.IndexFile, at.WorkTree, at.HashLength, platform) : null;

    /// <summary>The work tree holding <paramref name="path"/> (the nearest folder up with a <c>.git</c> folder or file), its
    /// index file and hash length; null when there is none or it has no index yet. <paramref name="byDirectory"/> (folder →
    /// answer) lets many files share the walk up: every folder passed on the way is remembered, and a remembered one ends it.</summary>
    public static (string WorkTree, string IndexFile, int HashLength)? Locate(string path, Dictionary<string, (string WorkTree, string IndexFile, int HashLength)?>? byDirectory = null)
    {
        List<string>? passed = byDirectory is null ? null : [];
        (string WorkTree, string IndexFile, int HashLength)? found = null;
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(path))!); dir is not null; dir = dir.Parent)
        {
            if (byDirectory is not null && byDirectory.TryGetValue(dir.FullName, out found)) break;
            passed?.Add(dir.FullName);
            string dotGit = Path.Combine(dir.FullName, ".git");
            // One stat for the usual answer (no .git here), a second only to tell a repository from a worktree's file.
            string? gitDir = !Path.Exists(dotGit) ? null : Directory.Exists(dotGit) ? dotGit : File.Exists(dotGit) ? GitDirOfFile(dotGit, dir.FullName) : null;
            if (gitDir is null) continue;
            string index = Path.Combine(gitDir, "index");
            found = File.Exists(index) ? (dir.FullName, index, HashLength(gitDir)) : null;
            break;
        }
        if (byDirectory is not null)
        {
            foreach (string d in passed!) byDirectory[d] = found;
        }
        return found;
    }

    /// <summary>Reads an index file; <paramref name="hashLength"/> is 20 (SHA-1) or 32 (SHA-256).</summary>
    public static GitIndex Read(string indexFile, string workTree, int hashLength = 20, FilePlatform? platform = null)
    {
        platform ??= FilePlatform.Current;
        byte[] data = File.ReadAllBytes(indexFile);
        var modes = new Dictionary<string, int>(platform.NameComparer);
        try
        {
            if (data.Length < 12 || Encoding.ASCII.GetString(data, 0, 4) != "DIRC") throw Bad(indexFile, "it does not start with DIRC");
            uint version = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4));
            if (version is < 2 or > 4) throw Bad(indexFile, $"index version {version} is not 2, 3 or 4");
            uint count = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(8));
            int at = 12;
            byte[] previous = [];
            for (uint i = 0; i < count; i++)
            {
                int start = at;
                int mode = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at + 24));
                at += 40 + hashLength;
                ushort flags = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at));
                at += 2;
                if ((flags & 0x4000) != 0)
                {
                    if (version < 3) throw Bad(indexFile, "an entry has extended flags in a version 2 index");
                    at += 2;
                }
                byte[] name;
                if (version == 4)
                {
                    // Prefix compression: drop N bytes of the previous name, then a NUL-terminated suffix.
                    long strip = ReadVarint(data, ref at);
                    if (strip > previous.Length) throw Bad(indexFile, "an entry strips more of the previous name than it has");
                    int end = Array.IndexOf(data, (byte)0, at);
                    if (end < 0) throw Bad(indexFile, "a name is not terminated");
                    name = [.. previous.AsSpan(0, previous.Length - (int)strip), .. data.AsSpan(at, end - at)];
                    at = end + 1;
                }
                else
                {
                    int end = Array.IndexOf(data, (byte)0, at);
                    if (end < 0) throw Bad(indexFile, "a name is not terminated");
                    name = data.AsSpan(at, end - at).ToArray();
                    at = start + ((end - start + 8) & ~7); // 1 to 8 NULs pad the entry to a multiple of 8
                }
                previous = name;
                modes[Encoding.UTF8.GetString(name)] = mode; // stages of a conflict share a mode in practice: the last wins
            }
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            throw Bad(indexFile, "it ends in the middle of an entry", ex);
        }
        return new GitIndex(Path.GetFullPath(workTree), modes);
    }

    private static long ReadVarint(byte[] data, ref int at)
    {
        byte c = data[at++];
        long value = c & 0x7F;
        while ((c & 0x80) != 0)
        {
            value++;
            c = data[at++];
            value = (value << 7) + (c & 0x7F);
            if (value > int.MaxValue) throw new IndexOutOfRangeException();
        }
        return value;
    }

    private static string? GitDirOfFile(string dotGitFile, string workTree)
    {
        string text = File.ReadAllText(dotGitFile).Trim();
        if (!text.StartsWith("gitdir:", StringComparison.Ordinal)) return null;
        string dir = text["gitdir:".Length..].Trim();
        return Path.GetFullPath(Path.Combine(workTree, dir));
    }

    /// <summary>32 for a repository with <c>extensions.objectFormat = sha256</c> (in the common git dir's config), else 20.</summary>
    private static int HashLength(string gitDir)
    {
        string common = gitDir;
        string commonFile = Path.Combine(gitDir, "commondir");
        if (File.Exists(commonFile)) common = Path.GetFullPath(Path.Combine(gitDir, File.ReadAllText(commonFile).Trim()));
        string config = Path.Combine(common, "config");
        if (!File.Exists(config)) return 20;
        foreach (var raw in File.ReadLines(config))
        {
            string line = raw.Replace(" ", "", StringComparison.Ordinal).Replace("\t", "", StringComparison.Ordinal);
            if (line.Equals("objectformat=sha256", StringComparison.OrdinalIgnoreCase)) return 32;
        }
        return 20;
    }

    private static SealerException Bad(string file, string why, Exception? inner = null)
        => new(ErrorCodes.GitIndexUnreadable, $"The git index '{file}' cannot be read ({why}); it was read for the executable bits of the project's files. Run 'git status' to rewrite it, or set Executable=\"true|false\" on the items.", file, 0, inner: inner);
}
