using System.Formats.Tar;
using System.Globalization;
using System.IO.Enumeration;
using System.IO.Compression;
using System.Text;
using Sealer.Core.Diagnostics;
using Sealer.Core.Yaml;
using Sealer.Core.IO;

namespace Sealer.Core.Charts;

/// <summary>
/// Loads charts like helm's pkg/chart/loader: a chart directory (honouring its <c>.helmignore</c> plus the default
/// <c>templates/.?*</c>) or a <c>.tgz</c> archive (no .helmignore, as helm), Chart.yaml v1/v2, requirements.yaml,
/// and every vendored subchart under <c>charts/</c> (directories and archives, names starting with '_' or '.' skipped).
/// </summary>
public static class ChartLoader
{
    /// <summary>Largest uncompressed chart archive accepted (helm's default MaxDecompressedChartSize).</summary>
    public const long MaxDecompressedSize = 100L * 1024 * 1024;

    /// <summary>Loads a chart directory or archive.</summary>
    public static Chart Load(string path, CancellationToken cancellationToken = default)
    {
        string full = Path.GetFullPath(path);
        if (System.IO.Directory.Exists(full)) return LoadDirectory(full, cancellationToken);
        if (File.Exists(full))
        {
            using var stream = File.OpenRead(full);
            return LoadArchive(stream, full, cancellationToken);
        }
        throw new SealerException(ErrorCodes.ChartNotFound,
            $"chart '{path}' does not exist. Give a chart directory (holding Chart.yaml) or a packaged chart (.tgz).");
    }

    /// <summary>Every file a chart load reads (for incremental builds): the chart's files not ignored by .helmignore.</summary>
    public static IEnumerable<string> EnumerateInputFiles(string path)
    {
        string full = Path.GetFullPath(path);
        if (File.Exists(full)) return [full];
        if (!System.IO.Directory.Exists(full)) return [];
        var rules = ReadRules(full);
        return WalkDirectory(full, rules, CancellationToken.None).Select(f => f.FullPath).ToList();
    }

    public static Chart LoadDirectory(string directory, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path.Combine(directory, "Chart.yaml")))
        {
            throw new SealerException(ErrorCodes.ChartNotFound,
                $"'{directory}' is not a chart: it has no Chart.yaml. Point at the chart's directory or its .tgz.", directory);
        }
        var rules = ReadRules(directory);
        var files = new List<(string Name, byte[] Data, string? FullPath)>();
        foreach (var (rel, fullPath) in WalkDirectory(directory, rules, cancellationToken))
        {
            files.Add((rel, File.ReadAllBytes(fullPath), fullPath));
        }
        return LoadFiles(files, directory, directory, cancellationToken);
    }

    /// <summary>
    /// The names (from Chart.yaml) of the chart directories under <c>charts/</c> that a load of <paramref name="directory"/>
    /// would vendor, read without loading the chart; null when <c>charts/</c> holds anything else (an archive, a file), where
    /// only a load tells.
    /// </summary>
    internal static HashSet<string>? VendoredChartNames(string directory)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        string charts = Path.Combine(directory, "charts");
        if (!System.IO.Directory.Exists(charts)) return names;
        var rules = ReadRules(directory);
        if (rules.Ignore("charts", true)) return names;
        foreach (var e in new DirectoryInfo(charts).GetFileSystemInfos())
        {
            string rel = "charts/" + e.Name;
            bool isDir = e is DirectoryInfo;
            if (rules.Ignore(rel, isDir) || e.Name[0] is '_' or '.') continue;
            string chartYaml = Path.Combine(e.FullName, "Chart.yaml");
            if (!isDir || e.LinkTarget is not null || !File.Exists(chartYaml) || rules.Ignore(rel + "/Chart.yaml", false)) return null;
            names.Add(ParseMetadata(File.ReadAllText(chartYaml), chartYaml).Name);
        }
        return names;
    }

    private static HelmIgnore ReadRules(string directory)
    {
        string ignoreFile = Path.Combine(directory, ".helmignore");
        var rules = File.Exists(ignoreFile) ? HelmIgnore.Parse(File.ReadAllText(ignoreFile), ignoreFile) : HelmIgnore.Empty();
        rules.AddDefaults();
        return rules;
    }

    private sealed record DirectoryEntry(string Name, string FullPath, bool IsDir);

    /// <summary>Every entry of a directory, hidden ones too, and an unreadable directory an error (as GetFileSystemInfos).</summary>
    private static readonly EnumerationOptions WholeDirectory = new() { AttributesToSkip = 0, IgnoreInaccessible = false };

    private static IEnumerable<(string Relative, string FullPath)> WalkDirectory(string root, HelmIgnore rules, CancellationToken ct)
    {
        var stack = new Stack<(string Dir, string Rel)>();
        stack.Push((root, ""));
        var result = new List<(string, string)>();
        while (stack.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var (dir, relDir) = stack.Pop();
            // Name and kind from the directory entry itself (a symbolic link to a directory is a directory, as helm's
            // sympath.Walk follows it; a broken one is a file, whose read fails): no stat or readlink per entry.
            // A class, not a tuple: generic code over a reference type is precompiled, over a value type JIT-compiled per build.
            var entries = new FileSystemEnumerable<DirectoryEntry>(dir,
                (ref FileSystemEntry e) => new DirectoryEntry(e.FileName.ToString(), e.ToFullPath(), e.IsDirectory), WholeDirectory).ToList();
            entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            var subdirs = new List<(string, string)>();
            foreach (var (name, fullPath, isDir) in entries)
            {
                string rel = relDir.Length == 0 ? name : relDir + "/" + name;
                if (rules.Ignore(rel, isDir)) continue;
                if (isDir) subdirs.Add((fullPath, rel));
                else result.Add((rel, fullPath));
            }
            for (int i = subdirs.Count - 1; i >= 0; i--) stack.Push(subdirs[i]);
        }
        return result;
    }

    /// <summary>Loads a packaged chart (<c>.tgz</c>): the first path component (the chart's directory) is stripped.</summary>
    public static Chart LoadArchive(Stream stream, string sourcePath, CancellationToken cancellationToken = default)
    {
        var files = new List<(string Name, byte[] Data, string? FullPath)>();
        long total = 0;
        try
        {
            using var gz = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)) continue;
                string name = entry.Name.Replace('\\', '/');
                if (name == "pax_global_header") continue;
                var parts = name.Split('/', 2);
                if (parts.Length < 2 || parts[1].Length == 0) continue;
                string rel = parts[1];
                if (rel.StartsWith('/') || rel.Split('/').Any(p => p == ".."))
                {
                    throw new SealerException(ErrorCodes.InvalidChartArchive, $"chart archive holds an unsafe path '{name}'. The archive is corrupt or malicious.", sourcePath);
                }
                total += entry.Length;
                if (total > MaxDecompressedSize)
                {
                    throw new SealerException(ErrorCodes.InvalidChartArchive, $"chart archive decompresses to more than {MaxDecompressedSize / (1024 * 1024)} MiB.", sourcePath);
                }
                using var ms = new MemoryStream();
                entry.DataStream?.CopyTo(ms);
                // A later entry with the same name wins, as in helm.
                files.RemoveAll(f => f.Name == rel);
                files.Add((rel, ms.ToArray(), null));
            }
        }
        catch (Exception ex) when (CorruptData.Is(ex))
        {
            throw new SealerException(ErrorCodes.InvalidChartArchive, $"'{sourcePath}' is not a valid chart archive (gzip-compressed tar): {ex.Message}", sourcePath, inner: ex);
        }
        if (files.Count == 0)
        {
            throw new SealerException(ErrorCodes.InvalidChartArchive, $"'{sourcePath}' holds no chart files.", sourcePath);
        }
        return LoadFiles(files, sourcePath, null, cancellationToken);
    }

    internal static Chart LoadFiles(List<(string Name, byte[] Data, string? FullPath)> files, string sourcePath, string? directory, CancellationToken ct)
    {
        var chartYaml = files.FirstOrDefault(f => f.Name == "Chart.yaml");
        if (chartYaml.Data is null)
        {
            throw new SealerException(ErrorCodes.InvalidChartMetadata, $"'{sourcePath}' has no Chart.yaml. Every chart (and every directory under charts/) needs one.", sourcePath);
        }
        string chartYamlPath = chartYaml.FullPath ?? sourcePath + "!Chart.yaml";
        var metadata = ParseMetadata(Decode(chartYaml.Data), chartYamlPath);
        var chart = new Chart { Metadata = metadata, SourcePath = sourcePath, Directory = directory };
        var subcharts = new Dictionary<string, List<(string, byte[], string?)>>(StringComparer.Ordinal);
        var subchartOrder = new List<string>();

        foreach (var f in files)
        {
            switch (f.Name)
            {
                case "Chart.yaml":
                case "Chart.lock":
                    continue;
                case "values.yaml":
                    chart.Values = HelmYaml.ParseValues(Decode(f.Data), f.FullPath ?? sourcePath + "!values.yaml");
                    continue;
                case "values.schema.json":
                    continue; // schemas are not validated at discovery
                case "requirements.yaml":
                {
                    var deps = ParseDependencies(Decode(f.Data), f.FullPath ?? sourcePath + "!requirements.yaml");
                    if (deps is not null) { chart.Metadata.Dependencies = deps; chart.Metadata.DependenciesDeclared = true; }
                    if (metadata.ApiVersion == "v1") chart.Files.Add(new ChartFile(f.Name, f.Data));
                    continue;
                }
                case "requirements.lock":
                    if (metadata.ApiVersion == "v1") chart.Files.Add(new ChartFile(f.Name, f.Data));
                    continue;
            }
            if (f.Name.StartsWith("templates/", StringComparison.Ordinal))
            {
                chart.Templates.Add(new ChartFile(f.Name, f.Data));
            }
            else if (f.Name.StartsWith("charts/", StringComparison.Ordinal))
            {
                if (f.Name.EndsWith(".prov", StringComparison.Ordinal)) { chart.Files.Add(new ChartFile(f.Name, f.Data)); continue; }
                string rest = f.Name["charts/".Length..];
                string cname = rest.Split('/', 2)[0];
                if (!subcharts.TryGetValue(cname, out var list))
                {
                    subcharts[cname] = list = [];
                    subchartOrder.Add(cname);
                }
                list.Add((rest, f.Data, f.FullPath));
            }
            else
            {
                chart.Files.Add(new ChartFile(f.Name, f.Data));
            }
        }

        foreach (var n in subchartOrder)
        {
            ct.ThrowIfCancellationRequested();
            if (n.Length > 0 && n[0] is '_' or '.') continue;
            var subFiles = subcharts[n];
            string subSource = directory is not null ? Path.Combine(directory, "charts", n) : sourcePath + "!charts/" + n;
            Chart sub;
            try
            {
                if (n.EndsWith(".tgz", StringComparison.Ordinal))
                {
                    var file = subFiles[0];
                    if (file.Item1 != n) throw new SealerException(ErrorCodes.InvalidChartArchive, $"expected subchart archive {n}, found {file.Item1}.", subSource);
                    using var ms = new MemoryStream(file.Item2);
                    sub = LoadArchive(ms, subSource, ct);
                }
                else
                {
                    var buff = new List<(string, byte[], string?)>();
                    foreach (var (name, data, full) in subFiles)
                    {
                        var parts = name.Split('/', 2);
                        if (parts.Length < 2) continue;
                        buff.Add((parts[1], data, full));
                    }
                    sub = LoadFiles(buff, subSource, directory is not null ? subSource : null, ct);
                }
            }
            catch (SealerException ex) when (ex.Code is not ErrorCodes.InvalidChartArchive)
            {
                throw new SealerException(ex.Code, $"error loading subchart '{n}' of chart '{metadata.Name}': {ex.Message}", ex.File ?? subSource, ex.Line, ex.Column, ex);
            }
            sub.Parent = chart;
            chart.Dependencies.Add(sub);
        }
        return chart;
    }

    private static string Decode(byte[] data)
    {
        var s = Encoding.UTF8.GetString(data);
        return s.Length > 0 && s[0] == '\uFEFF' ? s[1..] : s;
    }

    /// <summary>Parses Chart.yaml into metadata; strings typed as helm's Go struct (numbers formatted back as Go does).</summary>
    internal static ChartMetadata ParseMetadata(string text, string file)
    {
        var docs = YamlReader.ParseStream(text, file, ErrorCodes.InvalidChartMetadata);
        var root = docs.FirstOrDefault()?.Root;
        if (root is not YMap map)
        {
            throw new SealerException(ErrorCodes.InvalidChartMetadata, "Chart.yaml must be a mapping with at least 'name' and 'version'.", file, root?.Line ?? 1);
        }
        var md = new ChartMetadata();
        foreach (var (k, v) in map.Entries)
        {
            string key = YamlReader.KeyString(k);
            switch (key)
            {
                case "name": md.Name = Str(v); break;
                case "home": md.Home = Str(v); break;
                case "sources": md.Sources = StrList(v); break;
                case "version": md.Version = Str(v); break;
                case "description": md.Description = Str(v); break;
                case "keywords": md.Keywords = StrList(v); break;
                case "maintainers":
                    md.Maintainers = v is YSeq seq
                        ? seq.Items.Select(i => YamlReader.ToValue(i) as Dictionary<string, object?> ?? new(StringComparer.Ordinal)).ToList()
                        : [];
                    break;
                case "icon": md.Icon = Str(v); break;
                case "apiVersion": md.ApiVersion = Str(v); break;
                case "condition": md.Condition = Str(v); break;
                case "tags": md.Tags = Str(v); break;
                case "appVersion": md.AppVersion = Str(v); break;
                case "deprecated": md.Deprecated = YamlReader.ToValue(v) is true; break;
                case "annotations":
                    md.Annotations = new(StringComparer.Ordinal);
                    if (v is YMap am) foreach (var (ak, av) in am.Entries) md.Annotations[YamlReader.KeyString(ak)] = Str(av);
                    break;
                case "kubeVersion": md.KubeVersion = Str(v); break;
                case "dependencies":
                    md.Dependencies = ParseDependencyList(v, file);
                    md.DependenciesDeclared = v is YSeq;
                    break;
                case "type": md.Type = Str(v); break;
            }
        }
        if (md.ApiVersion.Length == 0) md.ApiVersion = "v1";
        if (md.Name.Length == 0)
        {
            throw new SealerException(ErrorCodes.InvalidChartMetadata, "Chart.yaml has no 'name'. Add 'name: <chart name>'.", file, 1);
        }
        if (md.Version.Length == 0)
        {
            throw new SealerException(ErrorCodes.InvalidChartMetadata, $"Chart.yaml of '{md.Name}' has no 'version'. Add a SemVer 2 'version:'.", file, 1);
        }
        if (md.ApiVersion is not ("v1" or "v2" or "v3"))
        {
            throw new SealerException(ErrorCodes.InvalidChartMetadata, $"Chart.yaml apiVersion '{md.ApiVersion}' is not supported; use v2 (or v1).", file, map.Get("apiVersion")?.Line ?? 1);
        }
        if (md.Type is not ("" or "application" or "library"))
        {
            throw new SealerException(ErrorCodes.InvalidChartMetadata, $"Chart.yaml type '{md.Type}' is invalid; use 'application' or 'library'.", file, map.Get("type")?.Line ?? 1);
        }
        return md;
    }

    private static List<ChartDependency>? ParseDependencies(string text, string file)
    {
        var docs = YamlReader.ParseStream(text, file, ErrorCodes.InvalidChartMetadata);
        if (docs.FirstOrDefault()?.Root is not YMap map) return null;
        var deps = map.Get("dependencies");
        return deps is YSeq ? ParseDependencyList(deps, file) : null;
    }

    private static List<ChartDependency> ParseDependencyList(YNode node, string file)
    {
        var result = new List<ChartDependency>();
        if (node is not YSeq seq) return result;
        foreach (var item in seq.Items)
        {
            if (item is not YMap m)
            {
                throw new SealerException(ErrorCodes.InvalidChartMetadata, "each dependency must be a mapping with 'name', 'version' and 'repository'.", file, item.Line, item.Column);
            }
            var dep = new ChartDependency { Name = "" };
            foreach (var (k, v) in m.Entries)
            {
                switch (YamlReader.KeyString(k))
                {
                    case "name": dep.Name = Str(v); break;
                    case "version": dep.Version = Str(v); break;
                    case "repository": dep.Repository = Str(v); break;
                    case "condition": dep.Condition = Str(v); break;
                    case "tags": dep.Tags = StrList(v); break;
                    case "enabled": dep.Enabled = YamlReader.ToValue(v) is true; break;
                    case "import-values": dep.ImportValues = YamlReader.ToValue(v) as List<object?> ?? []; break;
                    case "alias": dep.Alias = Str(v); break;
                }
            }
            result.Add(dep);
        }
        return result;
    }

    /// <summary>A scalar as sigs.k8s.io/yaml writes it into a Go string field (numbers re-formatted: 1.10 becomes "1.1").</summary>
    private static string Str(YNode node)
    {
        if (node is not YScalar s) return "";
        return YamlReader.Resolve(s) switch
        {
            null => "",
            bool b => b ? "true" : "false",
            double d => FormatGoFloat32(d),
            string str => str,
            _ => s.Value,
        };
    }

    private static string FormatGoFloat32(double d)
    {
        if (Math.Floor(d) == d && Math.Abs(d) < 1e21) return ((decimal)d).ToString(CultureInfo.InvariantCulture);
        return ((float)d).ToString("R", CultureInfo.InvariantCulture);
    }

    private static List<string> StrList(YNode node) => node is YSeq seq ? seq.Items.Select(Str).ToList() : [];
}
