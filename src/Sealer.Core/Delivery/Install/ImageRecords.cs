using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;

namespace Sealer.Core.Delivery.Install;

/// <summary>
/// The <see cref="ImageRecord"/> of a cluster image as a Clusterfile launches it, read from the image on this machine (no
/// host): per launched app its kind (as the apps step decides it), chart version, digests of its files, values and
/// Application config, the app images its files name; the image's app images and Kubernetes version.
/// </summary>
internal static partial class ImageRecords
{
    public static ImageRecord Of(ClusterImageSource image, IEnumerable<ClusterImagePlatform> platforms, ClusterImagePlatform master0Platform, ClusterfileDocument doc, string reference)
    {
        var ext = image.Extension(master0Platform);
        var plan = LaunchPlanner.Plan(doc, ext);
        var files = image.ReadFileEntries(master0Platform, p => p.StartsWith("application/apps/", StringComparison.Ordinal));
        var registryImages = platforms.SelectMany(image.RegistryImages).Distinct().Order(StringComparer.Ordinal).ToList();
        var record = new ImageRecord
        {
            Image = reference,
            Root = image.Root.Digest,
            KubeVersion = KubeVersionOf(master0Platform),
            Images = registryImages,
            Cmds = plan.Cmds?.ToList(),
            At = DateTimeOffset.UtcNow.ToString("O"),
        };
        foreach (var p in platforms) record.ManifestDigests[p.Platform.ToString()] = p.ManifestDescriptor.Digest;
        foreach (var app in plan.Apps)
        {
            var config = LaunchPlanner.ConfigOf(doc, plan, app);
            string prefix = $"application/apps/{app}/";
            var mine = files.Where(f => f.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
            string? chart = mine.Select(f => f.Key).FirstOrDefault(k => k == prefix + "Chart.yaml")
                ?? mine.Select(f => f.Key).FirstOrDefault(k => k.EndsWith("/Chart.yaml", StringComparison.Ordinal) && k[prefix.Length..].Count(c => c == '/') == 1);
            string kind = config is { Cmds.Count: > 0 } || (config?.Helm is null && ext.Apps.FirstOrDefault(a => a.Name == app) is { Cmds.Count: > 0 }) ? "cmds"
                : chart is not null ? "helm"
                : mine.Any(f => f.Key.EndsWith(".sh", StringComparison.Ordinal)) ? "shell"
                : "kube";
            var text = string.Join("\n", mine.Select(f => Encoding.UTF8.GetString(f.Value.Data)));
            record.Apps.Add(new AppRecord
            {
                Name = app,
                Kind = kind,
                ChartVersion = chart is null ? null : ChartVersion(files[chart].Data),
                Release = kind == "helm" ? config?.Helm?.Name ?? app : null,
                Namespace = kind == "helm" ? config?.Helm?.Namespace ?? app : null,
                FilesDigest = Digest(mine.Select(f => (f.Key, f.Value.Data))),
                ValuesDigest = Digest(mine.Where(f => Path.GetFileName(f.Key).StartsWith("values", StringComparison.Ordinal) && f.Key.EndsWith(".yaml", StringComparison.Ordinal)).Select(f => (f.Key, f.Value.Data))),
                ConfigDigest = ConfigDigest(config),
                Images = registryImages.Where(i => Names(text, i)).ToList(),
                From = reference,
            });
        }
        return record;
    }

    /// <summary>The Kubernetes version an image carries: its cluster-runtime-version label, else sealer.io.kubeversion.</summary>
    public static string? KubeVersionOf(ClusterImagePlatform p) =>
        p.Labels.TryGetValue(ClusterImageLabels.ClusterRuntimeVersion, out var v) && v.Length > 0 ? v
        : p.Labels.TryGetValue(ClusterImageLabels.KubeVersion, out var k) && k.Length > 0 ? k : null;

    /// <summary>Whether an app's files name an image: its repository (with or without the domain) and its tag both appear.</summary>
    public static bool Names(string text, string image)
    {
        int at = image.IndexOf('@', StringComparison.Ordinal);
        string name = at >= 0 ? image[..at] : image;
        string tag = at >= 0 ? image[(at + 1)..] : "";
        int colon = name.LastIndexOf(':');
        if (at < 0 && colon > name.LastIndexOf('/')) { tag = name[(colon + 1)..]; name = name[..colon]; }
        int slash = name.IndexOf('/', StringComparison.Ordinal);
        string path = slash > 0 && name[..slash].Contains('.', StringComparison.Ordinal) ? name[(slash + 1)..] : name;
        bool repo = text.Contains(name, StringComparison.Ordinal) || (path.Contains('/', StringComparison.Ordinal) && text.Contains(path, StringComparison.Ordinal));
        return repo && (tag.Length == 0 || text.Contains(tag, StringComparison.Ordinal));
    }

    private static string? ChartVersion(byte[] chartYaml)
    {
        var m = ChartVersionRegex().Match(Encoding.UTF8.GetString(chartYaml));
        return m.Success ? m.Groups[1].Value.Trim().Trim('"', '\'') : null;
    }

    private static string ConfigDigest(AppConfig? c)
    {
        if (c is null) return "";
        var sb = new StringBuilder();
        foreach (var e in c.Env) sb.Append("env\0").Append(e).Append('\0');
        foreach (var e in c.Cmds) sb.Append("cmd\0").Append(e).Append('\0');
        foreach (var f in c.Files) sb.Append("file\0").Append(f.Path).Append('\0').Append(f.Strategy).Append('\0').Append(f.Data).Append('\0');
        if (c.Helm is { } h)
        {
            sb.Append("helm\0").Append(h.Name).Append('\0').Append(h.Namespace).Append('\0').Append(h.CreateNamespace).Append('\0').Append(h.Wait).Append('\0')
                .Append(h.Atomic).Append('\0').Append(h.Timeout).Append('\0').Append(h.SkipCrds).Append('\0').Append(h.DisableHooks).Append('\0');
            foreach (var v in h.Values) sb.Append("set\0").Append(v).Append('\0');
            foreach (var v in h.ValueFiles) sb.Append("f\0").Append(v).Append('\0');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    private static string Digest(IEnumerable<(string Path, byte[] Data)> files)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (p, d) in files)
        {
            h.AppendData(Encoding.UTF8.GetBytes(p + "\0" + d.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\0"));
            h.AppendData(d);
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    [GeneratedRegex(@"^version:\s*(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex ChartVersionRegex();
}
