using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Sealer.Charts.Tests.Support;

/// <summary>Writes small charts into a temporary directory for tests.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sealer-charts-" + Guid.NewGuid().ToString("N")[..12]);

    public TempDir() => Directory.CreateDirectory(Path);

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

/// <summary>Canonical text of template values / parsed YAML, for structural comparison (numbers compared as double).</summary>
public static class Canon
{
    public static string Of(object? v)
    {
        var sb = new StringBuilder();
        Write(sb, v);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case string s: sb.Append('"').Append(s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")).Append('"'); break;
            case long l: sb.Append(((double)l).ToString("R", CultureInfo.InvariantCulture)); break;
            case int i: sb.Append(((double)i).ToString("R", CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(d.ToString("R", CultureInfo.InvariantCulture)); break;
            case Dictionary<string, object?> m:
                sb.Append('{');
                bool first = true;
                foreach (var (k, val) in m.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    Write(sb, k);
                    sb.Append(':');
                    Write(sb, val);
                }
                sb.Append('}');
                break;
            case List<object?> l:
                sb.Append('[');
                for (int i = 0; i < l.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(sb, l[i]);
                }
                sb.Append(']');
                break;
            default: sb.Append('?').Append(v); break;
        }
    }
}
