using System.Text;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>What the render step writes on a host, and which Application config file (if any) wrote each path.</summary>
internal sealed record RenderedRootfs(
    IReadOnlyDictionary<string, (byte[] Data, UnixFileMode Mode)> Written,
    IReadOnlyDictionary<string, (byte[] Data, UnixFileMode Mode)> Found,
    IReadOnlyDictionary<string, AppFileOverride> WrittenByAppFile)
{
    /// <summary>A file as it is on the host after the render step: written, else as the image has it (null: neither).</summary>
    public byte[]? Current(string path) => Written.TryGetValue(path, out var w) ? w.Data : Found.TryGetValue(path, out var f) ? f.Data : null;
}

/// <summary>
/// The files the render step writes on a host, computed without the host (pure over the image's files): every <c>*.tmpl</c>
/// Sealer renders (<see cref="IsTemplate"/>) with the host's env, then Config documents, kubeadm documents (and the API
/// server endpoint) and Application config files. The render step writes them; the image completeness check renders
/// the apps from them, so both see the same files.
/// </summary>
internal static class RootfsRender
{
    /// <summary>
    /// The templates Sealer renders: <c>*.tmpl</c> under <c>etc/</c>, <c>charts/</c>, <c>manifests/</c> (imagedistributor
    /// renderRootfs) and the apps' directories (pkg/application envRender). Elsewhere a <c>.tmpl</c> is left alone, as in
    /// Sealer, so an image that ships raw templates (for its own scripts) installs as it does there.
    /// </summary>
    public static bool IsTemplate(string path) => path.EndsWith(".tmpl", StringComparison.Ordinal)
        && (path.StartsWith("etc/", StringComparison.Ordinal) || path.StartsWith("charts/", StringComparison.Ordinal)
            || path.StartsWith("manifests/", StringComparison.Ordinal) || path.StartsWith("application/apps/", StringComparison.Ordinal));

    /// <param name="image">the cluster image</param>
    /// <param name="platform">the host's platform image</param>
    /// <param name="doc">the Clusterfile</param>
    /// <param name="plan">the launch plan (whose apps' config files apply)</param>
    /// <param name="hostEnv">the host's env (<see cref="DeliveryEnv.For"/>)</param>
    /// <param name="appEnv">an app's env from the host's env</param>
    /// <param name="ip">the host (for template errors)</param>
    /// <param name="kube">a Kubernetes cluster: the kubeadm config gets the API server endpoint</param>
    /// <param name="masters">the masters' IPs</param>
    /// <param name="vip">the API server VIP</param>
    /// <param name="only">limits the files read to these (null: every file the render step reads)</param>
    public static RenderedRootfs Compute(ClusterImageSource image, ClusterImagePlatform platform, ClusterfileDocument doc, LaunchPlan? plan,
        IReadOnlyList<KeyValuePair<string, string>> hostEnv, Func<string, IReadOnlyList<KeyValuePair<string, string>>> appEnv,
        string ip, bool kube, IReadOnlyList<string> masters, string vip, Func<string, bool>? only = null, CancellationToken cancellationToken = default)
    {
        var files = new Dictionary<string, (byte[] Data, UnixFileMode Mode)>(StringComparer.Ordinal);
        var byAppFile = new Dictionary<string, AppFileOverride>(StringComparer.Ordinal);
        var configPaths = doc.Configs.Select(c => c.Path).ToHashSet(StringComparer.Ordinal);
        var appFiles = AppFileMerger.Overrides(doc, plan);
        var found = image.ReadFileEntries(platform, p => (only is null || only(p)) && (IsTemplate(p) || configPaths.Contains(p) || p == KubeadmConfigPatch.Path || appFiles.Any(a => a.Matches(p)) || only is not null));
        foreach (var (path, (bytes, mode)) in found.Where(f => IsTemplate(f.Key)).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var env = LaunchPlanner.AppOf(path) is { } app ? appEnv(app) : hostEnv;
            files[path[..^5]] = (Encoding.UTF8.GetBytes(DeliveryEnv.Render(Encoding.UTF8.GetString(bytes), env, path, ip, cancellationToken)), mode);
        }
        string? Current(string path) => files.TryGetValue(path, out var r) ? Encoding.UTF8.GetString(r.Data)
            : found.TryGetValue(path, out var raw) ? Encoding.UTF8.GetString(raw.Data) : null;
        UnixFileMode ModeOf(string path) => files.TryGetValue(path, out var r) ? r.Mode : found.TryGetValue(path, out var raw) ? raw.Mode
            : path.EndsWith(".sh", StringComparison.Ordinal) ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100;
        foreach (var config in doc.Configs)
        {
            if (only is not null && !only(config.Path)) continue;
            files[config.Path] = (Encoding.UTF8.GetBytes(ConfigMerge.Apply(config, Current(config.Path))), ModeOf(config.Path));
        }
        if (only is null && doc.KubeadmDocuments.Count > 0)
        {
            files[KubeadmConfigPatch.Path] = (Encoding.UTF8.GetBytes(KubeadmConfigPatch.AppendDocuments(Current(KubeadmConfigPatch.Path), doc.KubeadmDocuments)), ModeOf(KubeadmConfigPatch.Path));
        }
        if (only is null && kube && Current(KubeadmConfigPatch.Path) is { } kubeadmYaml)
        {
            files[KubeadmConfigPatch.Path] = (Encoding.UTF8.GetBytes(KubeadmConfigPatch.WithApiServerEndpoint(kubeadmYaml, masters, vip, KubeadmConfigPatch.SetsAdvertiseAddress(doc.KubeadmDocuments))), ModeOf(KubeadmConfigPatch.Path));
        }
        foreach (var a in appFiles)
        {
            foreach (var path in a.Targets(found.Keys.Concat(files.Keys).Distinct().ToList()))
            {
                files[path] = (Encoding.UTF8.GetBytes(AppFileMerger.Apply(a, Current(path), path)), ModeOf(path));
                byAppFile[path] = a;
            }
        }
        return new RenderedRootfs(files, found, byAppFile);
    }
}
