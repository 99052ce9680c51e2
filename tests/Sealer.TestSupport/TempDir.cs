using System.Formats.Tar;
using System.IO.Compression;

namespace Sealer.TestSupport;

/// <summary>A fresh directory under the system temp dir, removed at dispose; tests write their inputs (charts, projects, stores) into it.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sealer-tests", Guid.NewGuid().ToString("N")[..12]);

    public TempDir() => Directory.CreateDirectory(Path);

    /// <summary>A path inside the directory (not created).</summary>
    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="content"/> to <paramref name="relative"/>, creating its directories; returns the full path.</summary>
    public string Write(string relative, string content)
    {
        string full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Packs directory <paramref name="chartDir"/> as a helm package (tgz with the chart's directory as first path component).</summary>
    public static void PackTgz(string chartDir, string tgzPath, string? topName = null)
    {
        topName ??= System.IO.Path.GetFileName(chartDir.TrimEnd('/'));
        using var fs = File.Create(tgzPath);
        using var gz = new GZipStream(fs, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Pax);
        foreach (var f in Directory.EnumerateFiles(chartDir, "*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
        {
            string rel = System.IO.Path.GetRelativePath(chartDir, f).Replace('\\', '/');
            tar.WriteEntry(f, topName + "/" + rel);
        }
    }
}
