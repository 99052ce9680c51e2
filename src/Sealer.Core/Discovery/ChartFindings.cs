using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Charts;
using Sealer.Core.IO;

namespace Sealer.Core.Discovery;

/// <summary>One image a chart's render showed: the value as written, its line in the template's output, whether a bad
/// value is an error (<see cref="Strict"/>), the template file and what found it.</summary>
public sealed record ChartFinding(string Value, int Line, bool Strict, string File, string Detail);

/// <summary>What one chart contributed to a discovery: every image its render showed (before normalization and
/// exclusions, in render order) and every file the render read.</summary>
public sealed record ChartFindings(IReadOnlyList<ChartFinding> Images, IReadOnlyList<string> InputFiles);

/// <summary>
/// Where <see cref="ImageDiscovery.Discover"/> keeps each chart's <see cref="ChartFindings"/> between runs, by
/// <see cref="ChartFindingsKey"/>: a chart whose key is known is not rendered again, so a rebuild after one chart
/// changed renders that chart only. Implementations write atomically and may forget entries (a miss renders).
/// </summary>
public interface IChartFindingsCache
{
    ChartFindings? TryGet(string key);

    void Put(string key, ChartFindings findings);

    /// <summary>Called once after a discovery succeeded with every key it used: the others may be dropped (and
    /// <see cref="FileHashes"/> saved).</summary>
    void Retain(IReadOnlySet<string> keys);

    /// <summary>Where the keys' file hashes are remembered between runs (null: every chart file is read for its key).</summary>
    FileHashMemo? FileHashes => null;
}

/// <summary>
/// The key of a chart's findings: SHA-256 over everything a render reads — the bytes of every chart file (after
/// .helmignore, as the loader sees them), of its added dependencies, values files and <c>--set-file</c> files, the
/// values given on the command line, release name, namespace, Kubernetes and API versions, the display names sources
/// show, and the identity of this engine (so a different Sealer never reuses another's results). Content, not time
/// stamps: a checkout that touches files without changing them still hits; any changed byte misses. With a
/// <see cref="FileHashMemo"/>, a file's hash is taken from it while the file's size and time are those it was hashed at
/// (the key is the same either way: a chart edit reads that chart's files, not every chart's).
/// </summary>
public static class ChartFindingsKey
{
    private const string Format = "sealer-chart-findings/1";

    private static readonly Lazy<string> Engine = new(() =>
    {
        var assembly = typeof(ChartFindingsKey).Assembly;
        string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        string module;
        try
        {
            module = assembly.ManifestModule.ModuleVersionId.ToString("N");
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException)
        {
            module = ""; // NativeAOT: the version says which build it is
        }
        return version + "|" + module;
    });

    public static string Compute(ChartInput chart, string? kubeVersion, IReadOnlyList<string> apiVersions, FileHashMemo? hashes = null)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(s);
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }
        void Texts(string what, IEnumerable<string> items)
        {
            var list = items.ToList();
            Text(what + "#" + list.Count);
            foreach (var i in list) Text(i);
        }
        (long Length, byte[] Sha256)? HashOf(string path) // a full path (Files below)
        {
            if (hashes is not null) return hashes.Hash(path);
            if (!File.Exists(path)) return null;
            byte[] data = File.ReadAllBytes(path);
            return (data.Length, SHA256.HashData(data));
        }
        void Files(string what, IEnumerable<string> paths)
        {
            var list = paths.Select(Path.GetFullPath).ToList();
            Text(what + "#" + list.Count);
            foreach (var p in list)
            {
                Text(p);
                if (HashOf(p) is not var (length, sha))
                {
                    Text("(absent)");
                    continue;
                }
                Text(length.ToString(System.Globalization.CultureInfo.InvariantCulture));
                hash.AppendData(sha);
            }
        }

        Text(Format);
        Text(Engine.Value);
        Text(Path.GetFullPath(chart.Path));
        Text(chart.ReleaseName ?? "\0");
        Text(chart.Namespace ?? "\0");
        Text(kubeVersion ?? "\0");
        Texts("api", apiVersions);
        Texts("set", chart.SetValues);
        Texts("set-string", chart.SetStringValues);
        Texts("set-file", chart.SetFileValues);
        Texts("names", chart.DisplayNames.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "\0" + kv.Value));
        Files("chart", ChartLoader.EnumerateInputFiles(chart.Path));
        Texts("deps", chart.AdditionalDependencies.Select(Path.GetFullPath));
        foreach (var dep in chart.AdditionalDependencies) Files("dep", ChartLoader.EnumerateInputFiles(dep));
        Files("values", chart.ValuesFiles);
        // --set-file key=path: the file's bytes are values too (parsed as the render will; a malformed expression throws
        // here as it would there, and a failed render caches nothing).
        var setFiles = new List<string>();
        foreach (var s in chart.SetFileValues) StrVals.ParseIntoFile(s, new Dictionary<string, object?>(StringComparer.Ordinal), p => { setFiles.Add(p); return ""; });
        Files("set-file-data", setFiles);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
