using Microsoft.Build.Framework;
using Sealer.Core.Build;
using Sealer.Core.Distribution;

namespace Sealer.Tasks;

/// <summary>MSBuild items → Core's <see cref="ClusterBuildInputs"/> items (with the line of the project that wrote them, for errors).</summary>
internal static class TaskInputs
{
    public static string ProjectDirectory(string? projectDirectory) => string.IsNullOrEmpty(projectDirectory) ? Directory.GetCurrentDirectory() : Path.GetFullPath(projectDirectory);

    /// <summary>HelmChart items (after ResolveHelmCharts: <c>SealerDependencies</c>, <c>SealerDisplayNames</c>, <c>SealerInclude</c>).</summary>
    public static IReadOnlyList<ChartItem> Charts(IEnumerable<ITaskItem> items) => items.Select(c =>
    {
        var (file, line) = ItemLocation.Of(c);
        return new ChartItem(c.GetMetadata("FullPath"))
        {
            Include = c.GetMetadata("SealerInclude") is { Length: > 0 } inc ? inc : c.ItemSpec,
            ValuesFiles = ItemLocation.List(c, "ValuesFiles"),
            SetValues = ItemLocation.List(c, "SetValues"),
            SetStringValues = ItemLocation.List(c, "SetStringValues"),
            ReleaseName = c.GetMetadata("ReleaseName") is { Length: > 0 } r ? r : null,
            Namespace = c.GetMetadata("Namespace") is { Length: > 0 } ns ? ns : null,
            Destination = c.GetMetadata("Destination"),
            Repository = c.GetMetadata("Repository") is { Length: > 0 } repo ? repo : null,
            Version = c.GetMetadata("Version") is { Length: > 0 } v ? v : null,
            CaFile = c.GetMetadata("CaFile") is { Length: > 0 } ca ? ca : null,
            InsecureSkipTlsVerify = string.Equals(c.GetMetadata("InsecureSkipTlsVerify"), "true", StringComparison.OrdinalIgnoreCase),
            Dependencies = Dependencies(c),
            DisplayNames = DisplayNames(c),
            OriginFile = file,
            OriginLine = line,
        };
    }).ToList();

    public static IReadOnlyList<FileItem> Files(IEnumerable<ITaskItem> items) => items.Select(f =>
    {
        var (file, line) = ItemLocation.Of(f);
        bool? executable = f.GetMetadata("Executable").Trim().ToLowerInvariant() switch
        {
            "" => null,
            "true" => true,
            "false" => false,
            var other => throw new Sealer.Core.Diagnostics.SealerException(Sealer.Core.Diagnostics.ErrorCodes.InvalidProjectValue,
                $"SealerFile '{f.ItemSpec}' has Executable=\"{other}\"; use true (mode 0755 in the image) or false (0644), or leave it out to take git's mode for the file.", file, line),
        };
        return new FileItem(f.GetMetadata("FullPath"), f.GetMetadata("Destination"), f.GetMetadata("RecursiveDir"), f.GetMetadata("Platform")) { Executable = executable, OriginFile = file, OriginLine = line };
    }).ToList();

    public static IReadOnlyList<KustomizationItem> Kustomizations(IEnumerable<ITaskItem> items, string projectDirectory) => items.Select(k =>
    {
        var (file, line) = ItemLocation.Of(k);
        string full = k.GetMetadata("FullPath").TrimEnd('/', Path.DirectorySeparatorChar);
        return new KustomizationItem(full, KustomizationItem.DestinationOf(full, k.GetMetadata("Name"), k.GetMetadata("Destination"), projectDirectory)) { OriginFile = file, OriginLine = line };
    }).ToList();

    public static IReadOnlyList<ImageItem> Images(IEnumerable<ITaskItem> items) => items.Select(i =>
    {
        var (file, line) = ItemLocation.Of(i);
        return new ImageItem(i.ItemSpec, file, line);
    }).ToList();

    public static IReadOnlyList<AppItem> Apps(IEnumerable<ITaskItem> items) => items.Select(a =>
    {
        var (file, line) = ItemLocation.Of(a);
        return new AppItem(a.ItemSpec)
        {
            Sources = ItemLocation.List(a, "Source"),
            Type = a.GetMetadata("Type") is { Length: > 0 } t ? t : null,
            Version = a.GetMetadata("Version") is { Length: > 0 } v ? v : null,
            Cmds = ItemLocation.List(a, "Cmds"),
            Env = ItemLocation.Pairs(a, "Env"),
            OriginFile = file,
            OriginLine = line,
        };
    }).ToList();

    /// <summary>SealerRegistryMirror items: <c>Include="docker.io" Mirrors="http://a;http://b"</c> (optional <c>Insecure</c>,
    /// <c>FallbackToSource</c>), or <c>docker.io=http://a,http://b</c> from the SealerRegistryMirrors property.</summary>
    public static RegistryOptions Registry(ITaskItem[] mirrors, bool fallbackToSource, string? userAgent)
        => ClusterBuild.Registry(mirrors.Select(m =>
        {
            var (file, line) = ItemLocation.Of(m);
            var setting = m.ItemSpec.Contains('=') ? ClusterBuild.ParseMirror(m.ItemSpec, file, line) : new MirrorSetting(m.ItemSpec.Trim(), []) { OriginFile = file, OriginLine = line };
            return setting with
            {
                Endpoints = [.. setting.Endpoints, .. ItemLocation.List(m, "Mirrors")],
                Insecure = string.Equals(m.GetMetadata("Insecure"), "true", StringComparison.OrdinalIgnoreCase),
                FallbackToSource = string.Equals(m.GetMetadata("FallbackToSource"), "false", StringComparison.OrdinalIgnoreCase) ? false : null,
            };
        }), fallbackToSource, userAgent);

    /// <summary>Splits <c>SealerDependencies</c> (<c>path|name;...</c>) into (path, name in charts/).</summary>
    public static List<(string Path, string Name)> Dependencies(ITaskItem item)
        => ItemLocation.List(item, "SealerDependencies").Select(d =>
        {
            int bar = d.LastIndexOf('|');
            return bar < 0 ? (d, Path.GetFileName(d)) : (d[..bar], d[(bar + 1)..]);
        }).ToList();

    /// <summary>Splits <c>SealerDisplayNames</c> (<c>path=display;...</c>) into a map.</summary>
    public static Dictionary<string, string> DisplayNames(ITaskItem item)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in ItemLocation.List(item, "SealerDisplayNames"))
        {
            int eq = p.IndexOf('=');
            if (eq > 0) map[p[..eq]] = p[(eq + 1)..];
        }
        return map;
    }
}
