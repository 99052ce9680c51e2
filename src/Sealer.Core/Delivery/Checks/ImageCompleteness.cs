using System.Text;
using Sealer.Core.Charts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;
using Sealer.Core.Discovery;
using Sealer.Core.References;
using YamlDotNet.RepresentationModel;

namespace Sealer.Core.Delivery.Checks;

/// <summary>A value that produced (part of) an image reference: its key, its value and where it was set.</summary>
public sealed record ValueOrigin(string Key, string Value, string File, int Line)
{
    public override string ToString() => $"{Key}={Value} ({File}{(Line > 0 ? $":{Line}" : "")})";
}

/// <summary>An image an app will be launched with that the cluster image's registry does not serve.</summary>
public sealed record MissingImage(string Reference, string App, string File, int Line, string? Detail, IReadOnlyList<ValueOrigin> Values, string? Hint)
{
    /// <summary>Where to fix it: the value that produced the image when one was found, else where the image is.</summary>
    public (string File, int Line) FixAt => Values.Count > 0 ? (Values[^1].File, Values[^1].Line) : (File, Line);

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Reference).Append("  app ").Append(App).Append("  ").Append(File);
        if (Line > 0) sb.Append(':').Append(Line);
        if (Detail is not null) sb.Append(" [").Append(Detail).Append(']');
        if (Values.Count > 0) sb.Append("  from ").Append(string.Join(", ", Values));
        if (Hint is not null) sb.Append("  (").Append(Hint).Append(')');
        return sb.ToString();
    }
}

/// <summary>What the check did with one app: how it is launched and how many images it names (or why it could not be checked).</summary>
public sealed record CheckedApp(string App, string Kind, int Images, string? NotChecked = null);

/// <summary>The result of <see cref="ImageCompleteness"/>: every app checked, the images missing from the registry.</summary>
public sealed class CompletenessReport
{
    public required string Image { get; init; }

    /// <summary>How many image references the built-in registry serves.</summary>
    public required int Served { get; init; }

    public required IReadOnlyList<CheckedApp> Apps { get; init; }

    public required IReadOnlyList<MissingImage> Missing { get; init; }

    public bool Complete => Missing.Count == 0;

    /// <summary>The missing images as lines (image, app, file:line, the value that produced it).</summary>
    public string MissingText() => string.Join("\n", Missing.Select(m => "  " + m));

    /// <summary>SEA4150, pointing at the first value (or file) to fix.</summary>
    public SealerException Failure()
    {
        var (file, line) = Missing[0].FixAt;
        int images = Missing.Select(m => m.Reference).Distinct(StringComparer.Ordinal).Count();
        return new SealerException(ErrorCodes.ImagesMissingFromClusterImage,
            $"The apps would be launched with {images} image(s) the cluster image {Image} does not carry (its registry serves {Served}); at an air-gapped site their pods would never start:\n{MissingText()}\n" +
            "Fix the values that name them, or add the images to the cluster image and build it again; --allow-missing-images (SealerAllowMissingImages) launches anyway.",
            file, line);
    }
}

/// <summary>
/// Completeness before launch: every app rendered as the apps step will launch it — the rootfs after the render step
/// (<see cref="RootfsRender"/>: <c>*.tmpl</c>, Application config <c>files</c>), charts with their values,
/// <c>launch.helm</c> valueFiles and values (<c>--set</c>), manifests as <c>kubectl apply</c> reads them — with the engine
/// the build discovers images with (<see cref="ImageDiscovery"/>); then each image looked up in the registry the cluster
/// image carries (<see cref="ServedImages"/>). Reads only the image on this machine: no host is contacted.
/// </summary>
public static class ImageCompleteness
{
    private const string AppsRoot = "application/apps/";

    /// <summary>
    /// The offline check (<c>sealer check --images</c>, the SDK's <c>SealerSiteValues</c>): the Clusterfile's master0
    /// with the env the run gives it (image ENV, spec.env, the host's env, derived values), on the image's first platform
    /// that master0 could run (or <paramref name="platform"/>).
    /// </summary>
    public static CompletenessReport CheckOffline(ClusterImageSource image, ClusterfileDocument doc, ClusterImagePlatform? platform = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(doc);
        platform ??= image.Platforms[0];
        var master0 = doc.Cluster.Masters.FirstOrDefault() ?? doc.Cluster.Hosts.FirstOrDefault()
            ?? new HostSpec { Ip = "127.0.0.1", Roles = ["master"], Ssh = doc.Cluster.Ssh, Env = [] };
        var registryIps = doc.Cluster.Registry.External is not null ? []
            : doc.Cluster.Registry.Local.Ha ? doc.Cluster.Masters.Select(m => m.Ip).ToList() : [master0.Ip];
        var env = DeliveryEnv.For(doc.Cluster, master0, platform.Env, doc.Cluster.ContainerRuntime ?? platform.ContainerRuntime, registryIps);
        return Check(image, platform, doc, env, master0.Ip, null, cancellationToken);
    }

    /// <summary>The check for a run: master0's platform and env, the apps the apps step launches (<paramref name="onlyApps"/>: an upgrade's).</summary>
    internal static CompletenessReport Check(ClusterImageSource image, ClusterImagePlatform platform, ClusterfileDocument doc,
        IReadOnlyList<KeyValuePair<string, string>> hostEnv, string hostIp, IReadOnlyCollection<string>? onlyApps, CancellationToken cancellationToken = default)
    {
        var ext = image.Extension(platform);
        var plan = LaunchPlanner.Plan(doc, ext);
        var served = ServedImages.Of(image);
        var apps = new List<CheckedApp>();
        var missing = new List<MissingImage>();
        var report = () => new CompletenessReport { Image = image.Reference, Served = served.Count, Apps = apps, Missing = missing };
        if (plan.Cmds is not null)
        {
            apps.Add(new CheckedApp("(commands)", "cmds", 0, $"{plan.Source} launches raw commands; what they start cannot be rendered"));
            return report();
        }
        var launched = plan.Apps.Where(a => onlyApps is null || onlyApps.Contains(a)).ToList();
        if (launched.Count == 0) return report();
        var rootfs = RootfsRender.Compute(image, platform, doc, plan, hostEnv, app => LaunchPlanner.AppEnv(hostEnv, ext, app, LaunchPlanner.ConfigOf(doc, plan, app)),
            hostIp, kube: false, masters: [], vip: "", only: p => launched.Any(a => p.StartsWith(AppsRoot + a + "/", StringComparison.Ordinal)), cancellationToken);
        string temp = Path.Combine(Path.GetTempPath(), "sealer-images-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)));
        try
        {
            foreach (var path in rootfs.Found.Keys.Concat(rootfs.Written.Keys).Distinct(StringComparer.Ordinal))
            {
                string full = Path.Combine(temp, path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.WriteAllBytes(full, rootfs.Current(path)!);
            }
            string? kubeVersion = platform.Labels.TryGetValue(ClusterImageLabels.ClusterRuntimeVersion, out var v) && v.Length > 0 ? v
                : platform.Labels.TryGetValue(ClusterImageLabels.KubeVersion, out var k) && k.Length > 0 ? k : null;
            foreach (var app in launched)
            {
                cancellationToken.ThrowIfCancellationRequested();
                new AppCheck(app, doc, plan, ext, rootfs, served, temp, kubeVersion, apps, missing).Run(cancellationToken);
            }
        }
        finally
        {
            try
            {
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            }
            catch (IOException)
            {
                // a leftover temp directory is harmless
            }
        }
        return report();
    }

    /// <summary>One app: its launch decided as the apps step decides it, each chart or manifest directory rendered and its images looked up.</summary>
    private sealed class AppCheck(string app, ClusterfileDocument doc, LaunchPlan plan, SealerImageExtension ext, RenderedRootfs rootfs, ServedImages served,
        string temp, string? kubeVersion, List<CheckedApp> apps, List<MissingImage> missing)
    {
        private readonly string _dir = AppsRoot + app;

        public void Run(CancellationToken ct)
        {
            var config = LaunchPlanner.ConfigOf(doc, plan, app);
            if (config is { Cmds.Count: > 0 })
            {
                apps.Add(new CheckedApp(app, "cmds", 0, "launched by its Application launch cmds; what they start cannot be rendered"));
                return;
            }
            if (config?.Helm is null && ext.Apps.FirstOrDefault(a => a.Name == app) is { Cmds.Count: > 0 })
            {
                apps.Add(new CheckedApp(app, "cmds", 0, "launched by its APPCMDS; what they start cannot be rendered"));
                return;
            }
            var files = rootfs.Found.Keys.Concat(rootfs.Written.Keys).Where(p => p.StartsWith(_dir + "/", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
            if (files.Count == 0)
            {
                apps.Add(new CheckedApp(app, "none", 0, $"the cluster image has no {_dir}/"));
                return;
            }
            // the apps step's choice: a chart, shell scripts, manifests, else each leaf directory the same way
            if (!Unit(_dir, files, config?.Helm, top: true, ct))
            {
                foreach (var leaf in files.Select(f => f[(_dir.Length + 1)..]).Where(r => r.Contains('/')).Select(r => r[..r.IndexOf('/')]).Distinct().Order(StringComparer.Ordinal))
                {
                    Unit($"{_dir}/{leaf}", files, config?.Helm, top: false, ct);
                }
            }
        }

        private static bool Direct(string dir, string f) => f.StartsWith(dir + "/", StringComparison.Ordinal) && !f.AsSpan(dir.Length + 1).Contains('/');

        /// <summary>Checks <paramref name="dir"/> when it is a chart, scripts or manifests; false when it is none (look in its leaf directories).</summary>
        private bool Unit(string dir, HashSet<string> files, HelmLaunch? helm, bool top, CancellationToken ct)
        {
            if (files.Contains(dir + "/Chart.yaml"))
            {
                Chart(dir, helm ?? new HelmLaunch(), ct);
                return true;
            }
            var direct = files.Where(f => Direct(dir, f)).ToList();
            if (direct.Any(f => f.EndsWith(".sh", StringComparison.Ordinal)))
            {
                apps.Add(new CheckedApp(app, "shell", 0, $"{dir}/*.sh run with bash; what they start cannot be rendered"));
                return true;
            }
            if (direct.Any(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)))
            {
                // kubectl apply -f DIR: the .yaml, .yml and .json files directly in it
                var manifests = direct.Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
                    .Order(StringComparer.Ordinal).ToList();
                var result = ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = manifests.Select(Temp).ToList() }, ct);
                Evaluate(result, "kube", dir, []);
                return true;
            }
            if (!top) apps.Add(new CheckedApp(app, "none", 0, $"{dir}/ holds no chart, script or manifest the apps step launches"));
            return false;
        }

        private string Temp(string rootfsPath) => Path.Combine(temp, rootfsPath);

        private void Chart(string dir, HelmLaunch helm, CancellationToken ct)
        {
            var valueFiles = new List<string>();
            var layers = new List<ValueLayer>();
            layers.AddRange(Layers(dir + "/values.yaml"));
            foreach (var f in helm.ValueFiles)
            {
                // as the apps step resolves them: relative to the chart, else to the app's directory; absolute paths are the host's
                string? rel = f.StartsWith('/') ? null : new[] { $"{dir}/{f}", $"{_dir}/{f}" }.FirstOrDefault(p => rootfs.Current(p) is not null);
                if (rel is null)
                {
                    var at = LaunchPlanner.ConfigOf(doc, plan, app)?.Location ?? default;
                    throw new SealerException(ErrorCodes.LaunchValuesFileMissing,
                        f.StartsWith('/')
                            ? $"App '{app}': launch.helm.valueFiles names '{f}', a path on the host, which cannot be checked before launch. Ship the file in the app's directory and name it relative to it."
                            : $"App '{app}': launch.helm.valueFiles names '{f}', which is not in the cluster image (neither {dir}/{f} nor {_dir}/{f}); the launch would fail. Fix the name, or add the file with the Application config files.",
                        at.File, at.Line, at.Column);
                }
                valueFiles.Add(Temp(rel));
                layers.AddRange(Layers(rel));
            }
            for (int i = 0; i < helm.Values.Count; i++)
            {
                var loc = i < helm.ValueLocations.Count ? helm.ValueLocations[i] : default;
                string s = helm.Values[i];
                int eq = s.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0) layers.Add(new ValueLayer([(s[..eq], s[(eq + 1)..], loc.Line)], loc.File ?? "launch.helm.values", 0));
            }
            var input = new ChartInput
            {
                Path = Temp(dir),
                ValuesFiles = valueFiles,
                SetValues = helm.Values.ToList(),
                ReleaseName = helm.Name ?? app,
                Namespace = helm.Namespace ?? app,
            };
            input.DisplayNames[Path.Combine(temp, "application")] = "application";
            var result = ImageDiscovery.Discover(new DiscoveryInput { Charts = [input], KubeVersion = kubeVersion }, ct);
            Evaluate(result, "helm", dir, layers);
        }

        /// <summary>The value layers a file of the rootfs contributes: the image's file, and the Application config file written over or merged into it.</summary>
        private IEnumerable<ValueLayer> Layers(string path)
        {
            rootfs.WrittenByAppFile.TryGetValue(path, out var byApp);
            if (byApp is null || byApp.File.Strategy == "merge")
            {
                if (rootfs.Found.TryGetValue(path, out var img) || rootfs.Found.TryGetValue(path + ".tmpl", out img))
                {
                    bool rendered = !rootfs.Found.ContainsKey(path);
                    var text = rendered && rootfs.Written.TryGetValue(path, out var w) ? w.Data : img.Data;
                    yield return new ValueLayer(ValueLayer.Leaves(Encoding.UTF8.GetString(text)), path, 0);
                }
            }
            if (byApp is not null)
            {
                var loc = byApp.File.Location;
                yield return new ValueLayer(ValueLayer.Leaves(byApp.File.Data), loc.File ?? "Clusterfile", byApp.File.DataFirstLine > 0 ? byApp.File.DataFirstLine - 1 : 0);
            }
        }

        private void Evaluate(DiscoveryResult result, string kind, string dir, List<ValueLayer> layers)
        {
            apps.Add(new CheckedApp(app, kind, result.Images.Count));
            foreach (var img in result.Images)
            {
                var r = ImageReference.Parse(img.Reference);
                if (served.Serves(r)) continue;
                var values = Origins(r, layers);
                foreach (var s in img.Sources)
                {
                    var (file, line, detail) = Locate(s);
                    missing.Add(new MissingImage(img.Reference, app, file, line, detail, values, served.Nearest(r)));
                }
            }
        }

        /// <summary>Where an image was found, back in terms the user knows: the rootfs path, or the Clusterfile when an Application config file wrote it.</summary>
        private (string File, int Line, string? Detail) Locate(ImageSource s)
        {
            string file = s.File;
            string prefix = temp + Path.DirectorySeparatorChar;
            if (file.StartsWith(prefix, StringComparison.Ordinal)) file = file[prefix.Length..].Replace('\\', '/');
            if (rootfs.WrittenByAppFile.TryGetValue(file, out var a))
            {
                var loc = a.File.Location;
                return a.File.Strategy == "overwrite" && a.File.DataFirstLine > 0
                    ? (loc.File ?? "Clusterfile", a.File.DataFirstLine + s.Line - 1, $"{file} written by the Application config of '{app}'{(s.Detail is null ? "" : "; " + s.Detail)}")
                    : (loc.File ?? "Clusterfile", loc.Line, $"{file} line {s.Line} after the Application config of '{app}' merged into it{(s.Detail is null ? "" : "; " + s.Detail)}");
            }
            if (!rootfs.Found.ContainsKey(file) && rootfs.Found.ContainsKey(file + ".tmpl")) return (file, s.Line, $"rendered from {Path.GetFileName(file)}.tmpl{(s.Detail is null ? "" : "; " + s.Detail)}");
            return (file, s.Line, s.Detail);
        }
    }

    /// <summary>The values (leaves of the value layers, the last layer setting a key winning) whose value is the image or a part of it.</summary>
    internal static List<ValueOrigin> Origins(ImageReference image, IReadOnlyList<ValueLayer> layers)
    {
        var winner = new Dictionary<string, ValueOrigin>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var layer in layers)
        {
            foreach (var (key, value, line) in layer.Values)
            {
                if (!Produces(image, key, value)) continue;
                if (!winner.ContainsKey(key)) order.Add(key);
                winner[key] = new ValueOrigin(key, value, layer.File, line + layer.LineOffset);
            }
            // a later layer that sets the key to something else overrides an earlier match
            foreach (var (key, value, _) in layer.Values)
            {
                if (winner.TryGetValue(key, out var w) && w.Value != value && !Produces(image, key, value)) winner.Remove(key);
            }
        }
        return order.Where(winner.ContainsKey).Select(k => winner[k]).OrderBy(o => o.File == layers.LastOrDefault()?.File ? 1 : 0).ToList();
    }

    private static readonly string[] ImageKeyWords = ["image", "repo", "registry", "tag", "digest", "version"];

    /// <summary>Whether a value is the image, its repository, or (under an image-like key) its tag, digest or registry.</summary>
    internal static bool Produces(ImageReference image, string key, string value)
    {
        value = value.Trim();
        if (value.Length < 2) return false;
        if (ImageReference.TryParse(value, out var v, out _) && v.Name == image.Name && (v.Tag is null || v.Tag == image.Tag) && (v.Digest is null || v.Digest == image.Digest)
            && (value.Contains('/') || value.Contains(':') || value.Contains('@'))) return true;
        string lastKey = key[(key.LastIndexOf('.') + 1)..];
        if (!ImageKeyWords.Any(w => key.Contains(w, StringComparison.OrdinalIgnoreCase))) return false;
        return value == image.Tag || value == image.Digest || value == image.Domain && lastKey.Contains("registry", StringComparison.OrdinalIgnoreCase)
            || image.Repository == value || image.Repository.EndsWith("/" + value, StringComparison.Ordinal) || image.Name == value;
    }
}

/// <summary>One layer of values: a values file (the image's or an Application config file's data), or the <c>--set</c> values.</summary>
internal sealed record ValueLayer(IReadOnlyList<(string Key, string Value, int Line)> Values, string File, int LineOffset)
{
    /// <summary>The scalar leaves of a YAML values document with their dotted keys and lines (not YAML: none).</summary>
    public static List<(string Key, string Value, int Line)> Leaves(string yaml)
    {
        var result = new List<(string, string, int)>();
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            foreach (var d in stream.Documents) Walk(d.RootNode, "", result);
        }
        catch (YamlDotNet.Core.YamlException)
        {
            // not YAML: the chart's own load reports it; no value can be traced to it
        }
        return result;
    }

    private static void Walk(YamlNode node, string key, List<(string, string, int)> result)
    {
        switch (node)
        {
            case YamlMappingNode m:
                foreach (var (k, v) in m.Children)
                {
                    if (k is YamlScalarNode ks) Walk(v, key.Length == 0 ? ks.Value ?? "" : $"{key}.{ks.Value}", result);
                }
                break;
            case YamlSequenceNode s:
                for (int i = 0; i < s.Children.Count; i++) Walk(s.Children[i], $"{key}[{i}]", result);
                break;
            case YamlScalarNode sc when sc.Value is { Length: > 0 } value:
                result.Add((key, value, (int)sc.Start.Line));
                break;
        }
    }
}
