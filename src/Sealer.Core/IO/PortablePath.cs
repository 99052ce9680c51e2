namespace Sealer.Core.IO;

/// <summary>
/// Paths the way every build machine must agree on them. A path written in a project (item metadata such as
/// <c>ValuesFiles="values\prod.yaml"</c> or <c>Destination="etc\"</c>, a Kubefile) may use <c>\</c> or <c>/</c>; a path
/// recorded in the cluster image or a lock file always uses <c>/</c> and is relative to the project, so the image does
/// not depend on where, or on which OS, the project was checked out. Windows paths (drive letters in either case,
/// UNC <c>\\server\share</c>, the <c>\\?\</c> long-path prefix, mixed separators, names compared without case) are
/// handled by rule, not by the running OS, so tests check them on Linux with <see cref="FilePlatform.Windows"/>.
/// </summary>
public static class PortablePath
{
    /// <summary>A path from a project as this machine opens it: <c>\</c> becomes <c>/</c> where <c>\</c> does not separate
    /// (Unix; MSBuild does the same to item specs there), unchanged on Windows.</summary>
    public static string FromProject(string path, FilePlatform? platform = null)
        => (platform ?? FilePlatform.Current).BackslashSeparates ? path : path.Replace('\\', '/');

    /// <summary>A relative path as the image records it: forward slashes only.</summary>
    public static string ToImage(string path) => path.Replace('\\', '/');

    /// <summary>True when <paramref name="path"/> is absolute by <paramref name="platform"/>'s rules (<c>/x</c> on Unix;
    /// <c>C:\x</c>, <c>C:/x</c>, <c>\\server\share</c>, <c>//server/share</c>, <c>\\?\C:\x</c>, or a rooted <c>\x</c> on Windows).</summary>
    public static bool IsRooted(string path, FilePlatform platform) => Split(path, platform).Root.Length > 0;

    /// <summary>
    /// <paramref name="path"/> relative to <paramref name="baseDir"/>, with <c>/</c>, as recorded in the image and lock files:
    /// both are normalised first (separators, <c>.</c> and <c>..</c>, the <c>\\?\</c> prefix), roots and names compare by
    /// <paramref name="platform"/>'s rules (case-insensitive on Windows and macOS), and the path keeps its own spelling.
    /// A path that is not rooted is only normalised. A path on another drive or share stays absolute (with <c>/</c>).
    /// </summary>
    public static string RelativeTo(string baseDir, string path, FilePlatform? platform = null)
    {
        platform ??= FilePlatform.Current;
        var target = Split(path, platform);
        if (target.Root.Length == 0) return string.Join('/', target.Segments);
        var home = Split(baseDir, platform);
        var rootComparer = platform.BackslashSeparates ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        if (!rootComparer.Equals(home.Root, target.Root)) return target.Root + string.Join('/', target.Segments);
        int common = 0;
        while (common < home.Segments.Count && common < target.Segments.Count && platform.NameComparer.Equals(home.Segments[common], target.Segments[common])) common++;
        var parts = Enumerable.Repeat("..", home.Segments.Count - common).Concat(target.Segments.Skip(common)).ToList();
        return parts.Count == 0 ? "." : string.Join('/', parts);
    }

    /// <summary>The root (<c>/</c>, <c>c:/</c> as written, <c>//server/share/</c>, or empty) and the normalised segments.</summary>
    internal static (string Root, List<string> Segments) Split(string path, FilePlatform platform)
    {
        string p = platform.BackslashSeparates ? path.Replace('\\', '/') : path;
        string root = "";
        if (platform.BackslashSeparates)
        {
            if (p.StartsWith("//?/UNC/", StringComparison.OrdinalIgnoreCase)) p = "//" + p[8..];
            else if (p.StartsWith("//?/", StringComparison.Ordinal) || p.StartsWith("//./", StringComparison.Ordinal)) p = p[4..];
            if (p.Length >= 2 && char.IsAsciiLetter(p[0]) && p[1] == ':')
            {
                root = p[..2].ToUpperInvariant() + "/";
                p = p[2..];
            }
            else if (p.StartsWith("//", StringComparison.Ordinal))
            {
                var unc = p[2..].Split('/', 3);
                root = "//" + string.Join('/', unc.Take(2)) + "/";
                p = unc.Length > 2 ? unc[2] : "";
            }
            else if (p.StartsWith('/'))
            {
                root = "/";
            }
        }
        else if (p.StartsWith('/'))
        {
            root = "/";
        }
        var segments = new List<string>();
        foreach (var s in p.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (s == ".") continue;
            if (s == ".." && segments.Count > 0 && segments[^1] != "..") segments.RemoveAt(segments.Count - 1);
            else if (s == ".." && root.Length > 0) continue; // above the root is the root
            else segments.Add(s);
        }
        return (root, segments);
    }

    /// <summary>
    /// Pairs of paths (with <c>/</c>) that are different names on a case-sensitive file system but one file or folder on a
    /// case-insensitive one (<c>charts/Web/values.yaml</c> and <c>charts/web/Chart.yaml</c> clash at <c>charts/Web</c> vs
    /// <c>charts/web</c>): each clash once, as (first seen, other), in input order.
    /// </summary>
    public static IReadOnlyList<(string First, string Other)> CaseClashes(IEnumerable<string> paths)
    {
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var clashes = new List<(string, string)>();
        var reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var path in paths)
        {
            int at = 0;
            while (at >= 0)
            {
                int slash = path.IndexOf('/', at);
                string prefix = slash < 0 ? path : path[..slash];
                if (seen.TryGetValue(prefix, out var first))
                {
                    if (!string.Equals(first, prefix, StringComparison.Ordinal))
                    {
                        if (reported.Add(prefix)) clashes.Add((first, prefix));
                        break; // what is below a clashing folder clashes too: named once
                    }
                }
                else
                {
                    seen[prefix] = prefix;
                }
                at = slash < 0 ? -1 : slash + 1;
            }
        }
        return clashes;
    }
}
