namespace Sealer.Delivery.Tests;

/// <summary>
/// The Clusterfiles published in Sealer's repositories and docs (corpus/clusterfiles, sources in SOURCES), as the reader's
/// and the schema's tests both read them. Plugin-only files (docs that show one document) are given to the reader after a
/// Cluster document naming the hosts their data mentions.
/// </summary>
internal static class ClusterfileCorpus
{
    public static readonly string Root = Path.Combine(AppContext.BaseDirectory, "corpus", "clusterfiles");

    private const string HostsForPluginDocs = """
        kind: Cluster
        spec:
          image: kubernetes:v1.19.8
          hosts:
            - ips: [192.168.0.2-192.168.0.4, 172.20.126.8]
              roles: [master]
            - ips: [192.168.0.5-192.168.0.7]
              roles: [node]
        ---

        """;

    /// <summary>Every corpus file as a path relative to <see cref="Root"/> (with '/'), in ordinal order.</summary>
    public static List<string> Files() => Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
        .Where(f => Path.GetFileName(f) != "SOURCES").Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();

    /// <summary>The file's own text.</summary>
    public static string Read(string rel) => File.ReadAllText(Path.Combine(Root, rel));

    /// <summary>
    /// What the reader is given for <paramref name="text"/>: a plugin-only file after the hosts' Cluster document, and how
    /// many lines that document adds before the file's first line.
    /// </summary>
    public static (string Text, int LineOffset) ForReader(string text)
    {
        bool pluginOnly = !System.Text.RegularExpressions.Regex.IsMatch(text, @"^kind:\s*Cluster\s*$", System.Text.RegularExpressions.RegexOptions.Multiline);
        return pluginOnly ? (HostsForPluginDocs + text, HostsForPluginDocs.Split('\n').Length - 1) : (text, 0);
    }
}
