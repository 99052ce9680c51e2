using Microsoft.Extensions.Logging;
using Sealer.Core.Charts;
using Sealer.Core.Charts.Remote;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Discovery;
using Sealer.Core.Distribution;
using Sealer.Core.Images;
using Sealer.Core.IO;
using Sealer.Core.Kustomize;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Build;

/// <summary>
/// The build steps a .kubeproj (through the SDK's targets) and a Kubefile (<c>sealer build</c>) both run:
/// charts (remote charts and unvendored dependencies into the chart cache, <c>charts.lock.json</c>) → resolve (which images,
/// offline) → pull (image cache + <c>images.lock.json</c>) → assemble (OCI layout + archive). The MSBuild tasks are thin
/// wrappers over these, so both front ends share the caches, the locks and the output format.
/// </summary>
public static class ClusterBuild
{
    /// <summary>Registry options of a build (images and OCI charts alike): mirrors, fallback to the source, User-Agent.
    /// Credentials come from the Docker config the registry client reads.</summary>
    public static RegistryOptions Registry(IEnumerable<MirrorSetting> mirrors, bool fallbackToSource = true, string? userAgent = null)
    {
        var registry = new RegistryOptions();
        foreach (var m in mirrors)
        {
            if (m.Endpoints.Count == 0)
            {
                throw new SealerException(ErrorCodes.InvalidProjectValue, $"Registry mirror '{m.Domain}' names no endpoint: write DOMAIN=http://host:port (several separated by ',').", m.OriginFile, m.OriginLine);
            }
            foreach (var endpoint in m.Endpoints)
            {
                registry.AddMirror(m.Domain, endpoint);
                if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || m.Insecure)) registry.AddInsecureRegistry(uri.Authority);
            }
            if (m.FallbackToSource == false) registry.FallbackToSource = false;
        }
        if (!fallbackToSource) registry.FallbackToSource = false;
        if (!string.IsNullOrWhiteSpace(userAgent)) registry.UserAgent = userAgent.Trim();
        return registry;
    }

    /// <summary><c>docker.io=http://a,http://b</c> as a mirror setting (the SealerRegistryMirrors property, <c>--mirror</c>).</summary>
    public static MirrorSetting ParseMirror(string text, string? originFile = null, int originLine = 0)
    {
        int eq = text.IndexOf('=');
        if (eq <= 0) throw new SealerException(ErrorCodes.InvalidProjectValue, $"Registry mirror '{text}': write DOMAIN=http://host:port (several endpoints separated by ',').", originFile, originLine);
        return new MirrorSetting(text[..eq].Trim(), text[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            OriginFile = originFile,
            OriginLine = originLine,
        };
    }

    /// <summary>Where the chart step keeps its state.</summary>
    public sealed record ChartSettings(string CacheDirectory, string LockFile)
    {
        public RegistryOptions Registry { get; init; } = new();
        public bool Refresh { get; init; }
        public string? UserAgent { get; init; }

        /// <summary>helm's repositories.yaml for <c>@name</c> dependency repositories; null: helm's default location.</summary>
        public string? RepositoryConfig { get; init; }
    }

    /// <summary>What the chart step did: the charts as later steps use them, and counts for the log.</summary>
    public sealed record ChartOutcome(IReadOnlyList<ChartItem> Charts, int RemoteCharts, long NetworkRequests, bool LockWritten);

    /// <summary>
    /// Step 0: remote charts (<c>oci://</c>, or a name with a Repository) and unvendored dependencies of local charts into the
    /// chart cache, pinned in <c>charts.lock.json</c> (written only when it changes). A locked chart whose archive is cached
    /// costs no network request. Returns the charts with remote ones pointing at their archive (Destination
    /// <c>charts/&lt;name&gt;-&lt;version&gt;.tgz</c> unless given) and local ones carrying their resolved dependencies.
    /// </summary>
    public static async Task<ChartOutcome> ResolveChartsAsync(IReadOnlyList<ChartItem> charts, string projectDirectory, string projectFile, ChartSettings settings,
        ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        string projectDir = Path.GetFullPath(projectDirectory);
        string Relative(string? file) => string.IsNullOrEmpty(file) ? "" : PortablePath.ToImage(PortablePath.RelativeTo(projectDir, file));

        var repositories = HelmRepositoriesFile.Read(string.IsNullOrWhiteSpace(settings.RepositoryConfig) ? null : settings.RepositoryConfig);
        var requests = new List<ChartRequest>();
        var remoteOf = new Dictionary<ChartItem, ChartRequest>(ReferenceEqualityComparer.Instance);
        var plans = new Dictionary<ChartItem, DependencyPlan>(ReferenceEqualityComparer.Instance);
        foreach (var item in charts)
        {
            if (item.IsRemote)
            {
                string? ca = item.CaFile is { Length: > 0 } c ? Path.GetFullPath(Path.Combine(projectDir, c)) : null;
                var request = ChartRequest.FromItem(item.Include, item.Repository ?? "", string.IsNullOrWhiteSpace(item.Version) ? null : item.Version.Trim(),
                    new ImageSource(item.OriginFile ?? projectFile, item.OriginLine, "HelmChart"), ca, item.InsecureSkipTlsVerify);
                remoteOf[item] = request;
                requests.Add(request);
                continue;
            }
            if (!Directory.Exists(item.FullPath) || !File.Exists(Path.Combine(item.FullPath, "Chart.yaml"))) continue; // .tgz, or a missing path (Resolve reports it)
            var plan = ChartDependencies.Plan(item.FullPath, repositories, cancellationToken);
            if (plan.Missing.Count == 0) continue;
            plans[item] = plan;
            requests.AddRange(plan.Missing.Where(m => m.Request is not null).Select(m => m.Request!));
        }

        IReadOnlyList<ResolvedChart> resolved = [];
        long networkRequests = 0;
        bool written = false;
        if (requests.Count > 0)
        {
            using var registry = new RegistryClient(settings.Registry, logger);
            using var http = new HttpChartRepository(new ChartRepositoryCredentials(null, repositories), settings.UserAgent, logger);
            var resolver = new ChartSourceResolver(settings.CacheDirectory, registry, http, ChartsLock.Read(settings.LockFile), settings.Refresh, logger);
            resolved = await resolver.ResolveAsync(requests, cancellationToken).ConfigureAwait(false);
            networkRequests = resolver.NetworkRequests;
            var newLock = new ChartsLock(resolved.Select(r => r.Locked with { Sources = r.Locked.Sources.Select(s => s with { File = Relative(s.File) }).ToList() }));
            written = newLock.WriteIfChanged(settings.LockFile);
        }
        var byRequest = new Dictionary<ChartRequest, ResolvedChart>(ReferenceEqualityComparer.Instance);
        foreach (var r in resolved) byRequest[r.Request] = r;

        var output = new List<ChartItem>();
        foreach (var item in charts)
        {
            if (remoteOf.TryGetValue(item, out var request))
            {
                var r = byRequest[request];
                output.Add(item with
                {
                    FullPath = r.ArchivePath,
                    Destination = string.IsNullOrEmpty(item.Destination) ? "charts/" + r.FileName : item.Destination,
                    DisplayNames = new Dictionary<string, string>(StringComparer.Ordinal) { [r.ArchivePath] = r.Locked.Url },
                    ResolvedVersion = r.Locked.Version,
                });
            }
            else if (plans.TryGetValue(item, out var plan))
            {
                var deps = new List<(string, string)>();
                var names = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var m in plan.Missing)
                {
                    if (m.Request is not null)
                    {
                        var r = byRequest[m.Request];
                        deps.Add((r.ArchivePath, r.FileName));
                        names[r.ArchivePath] = r.Locked.Url;
                    }
                    else if (m.LocalPath is not null)
                    {
                        deps.Add((m.LocalPath, Path.GetFileName(m.LocalPath.TrimEnd('/', Path.DirectorySeparatorChar))));
                    }
                }
                output.Add(item with { Dependencies = deps, DisplayNames = names });
            }
            else
            {
                output.Add(item);
            }
        }
        return new ChartOutcome(output, remoteOf.Count, networkRequests, written);
    }

    /// <summary>What resolution found, every file the kustomizations read (inputs of the next incremental build), and how
    /// many charts were rendered or taken unchanged from <see cref="ClusterBuildInputs.ChartCacheDirectory"/>.</summary>
    public sealed record ResolveOutcome(ResolvedImagesFile Images, IReadOnlyList<string> KustomizeInputs, int ChartsRendered = 0, int ChartsFromCache = 0);

    /// <summary>Step 1: every image the inputs need (charts rendered offline, manifests, kustomizations, image lists,
    /// ContainerImage items, and the rootfs when scanned), minus the excludes. No network.</summary>
    public static ResolveOutcome Resolve(ClusterBuildInputs inputs, CancellationToken cancellationToken = default)
    {
        string projectDir = Path.GetFullPath(inputs.ProjectDirectory);
        // Sources are kept relative to the project, so images.lock.json (committed, and carried in the rootfs) is the same on every machine.
        // PortablePath: the same text whatever the OS, separators or checkout path.
        string Relative(string file) => file.Length == 0 ? "" : PortablePath.ToImage(PortablePath.RelativeTo(projectDir, file));

        // ContainerImage items: checked here so an error names the item's line in the project.
        var explicitImages = new Dictionary<string, ImageSourceEntry>(StringComparer.Ordinal);
        foreach (var image in inputs.Images)
        {
            var reference = ImageReference.Parse(image.Reference, image.OriginFile, image.OriginLine);
            explicitImages.TryAdd(reference.ToString(), new ImageSourceEntry { File = Relative(image.OriginFile ?? ""), Line = image.OriginLine, Detail = "ContainerImage" });
        }
        foreach (var chart in inputs.Charts.Where(c => !File.Exists(c.FullPath) && !Directory.Exists(c.FullPath)))
        {
            throw new SealerException(ErrorCodes.InputFileMissing, $"HelmChart '{(chart.Include.Length > 0 ? chart.Include : chart.FullPath)}' does not exist: point Include at a chart directory or a .tgz.", chart.OriginFile, chart.OriginLine);
        }
        foreach (var list in inputs.ImageLists.Concat(inputs.Manifests).Where(i => !File.Exists(i.FullPath)))
        {
            throw new SealerException(ErrorCodes.InputFileMissing, $"'{list.FullPath}' does not exist. Fix the item's Include, or remove it.", list.OriginFile, list.OriginLine);
        }
        foreach (var k in inputs.Kustomizations) CheckKustomization(k);

        var input = new DiscoveryInput
        {
            Charts = inputs.Charts.Select(c => new ChartInput
            {
                Path = c.FullPath,
                ValuesFiles = c.ValuesFiles.Select(v => Path.GetFullPath(Path.Combine(projectDir, PortablePath.FromProject(v)))).ToList(),
                SetValues = c.SetValues.ToList(),
                SetStringValues = c.SetStringValues.ToList(),
                ReleaseName = c.ReleaseName,
                Namespace = c.Namespace,
                AdditionalDependencies = c.Dependencies.Select(d => d.Path).ToList(),
                DisplayNames = new Dictionary<string, string>(c.DisplayNames, StringComparer.Ordinal),
            }).ToList(),
            ManifestFiles = inputs.Manifests.Select(m => m.FullPath).ToList(),
            Kustomizations = inputs.Kustomizations.Select(k => k.FullPath.TrimEnd('/', Path.DirectorySeparatorChar)).ToList(),
            ImageListFiles = inputs.ImageLists.Select(l => l.FullPath).ToList(),
            ExtraImages = explicitImages.Keys.ToList(),
            ExcludeImages = inputs.Excludes.ToList(),
            KubeVersion = string.IsNullOrWhiteSpace(inputs.KubeVersion) ? null : inputs.KubeVersion,
            ChartCache = inputs.ChartCacheDirectory is null ? null : new ChartFindingsDirectory(inputs.ChartCacheDirectory),
        };
        if (inputs.ScanRootfs)
        {
            var scan = RootfsScan.Sources(CollectRootfs(inputs, lockFile: null, renderKustomizations: false).AllEntries);
            input.ManifestFiles.AddRange(scan.Manifests.Where(m => !input.ManifestFiles.Contains(m, StringComparer.Ordinal)));
            input.ImageListFiles.AddRange(scan.ImageLists.Where(m => !input.ImageListFiles.Contains(m, StringComparer.Ordinal)));
            input.Charts.AddRange(scan.Charts.Where(c => !input.Charts.Any(x => x.Path == c)).Select(c => new ChartInput { Path = c }));
        }

        var result = ImageDiscovery.Discover(input, cancellationToken);
        var images = new ResolvedImagesFile
        {
            Images = result.Images.Select(i => new ResolvedImageEntry
            {
                Reference = i.Reference,
                Sources = i.Sources.Select(o => o.File == "(ExtraImages)" && explicitImages.TryGetValue(i.Reference, out var item)
                    ? item
                    : new ImageSourceEntry { File = Relative(o.File), Line = o.Line, Detail = o.Detail }).ToList(),
            }).ToList(),
        };
        return new ResolveOutcome(images, inputs.Kustomizations.Count == 0 ? [] : result.InputFiles, result.ChartsRendered, result.ChartsFromCache);
    }

    private static void CheckKustomization(KustomizationItem k)
    {
        if (!Directory.Exists(k.FullPath))
        {
            throw new SealerException(ErrorCodes.InputFileMissing, $"Kustomization '{k.FullPath}' does not exist: point Include at a directory holding kustomization.yaml.", k.OriginFile, k.OriginLine);
        }
        if (Kustomizer.FindKustomizationFile(k.FullPath) is null)
        {
            throw new SealerException(ErrorCodes.KustomizationNotFound, $"Kustomization '{k.FullPath}' holds no kustomization.yaml, kustomization.yml or Kustomization.", k.OriginFile, k.OriginLine);
        }
    }

    /// <summary>Where the pull step keeps its state: the cache, the lock, the registries.</summary>
    public sealed record PullSettings(string CacheDirectory, string LockFile)
    {
        public RegistryOptions Registry { get; init; } = new();
        public bool Refresh { get; init; }
        public int MaxConcurrentBlobs { get; init; } = 6;
    }

    /// <summary>The lock's source detail of the base image (FROM / SealerBaseImage).</summary>
    public const string BaseImageSourceDetail = "base image (FROM)";

    /// <summary>What the pull did: the file assembly reads, and counts for the log.</summary>
    public sealed record PullOutcome(PulledImagesFile Pulled, int Requested, int FromBase, long NetworkRequests, long BytesDownloaded, long BlobsDownloaded, long BlobsCached, long BlobsLocal);

    /// <summary>
    /// Step 2: the base image first (what it carries is not pulled again), then every other image from the registries;
    /// writes the lock (only when it changed). <see cref="ImagePullException"/> carries one error per failed image.
    /// </summary>
    public static async Task<PullOutcome> PullAsync(ClusterBuildInputs inputs, ResolvedImagesFile resolved, PullSettings settings, ILogger? logger = null,
        IProgress<PullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var requests = resolved.Images
            .Select(i => new ImageRequest(ImageReference.Parse(i.Reference), i.Sources.Select(s => new ImageSource(s.File, s.Line, s.Detail)).ToList()))
            .ToList();
        var platforms = inputs.EffectivePlatforms.ToList();
        var existing = ImagesLock.Read(settings.LockFile);
        var options = new PullOptions
        {
            Platforms = platforms,
            Lock = existing,
            Refresh = settings.Refresh,
            MaxConcurrentBlobs = Math.Max(1, settings.MaxConcurrentBlobs),
            Registry = settings.Registry,
        };
        var cache = OciLayout.OpenOrCreate(settings.CacheDirectory);
        string projectDir = Path.GetFullPath(inputs.ProjectDirectory);
        using var client = new RegistryClient(settings.Registry, logger);
        var puller = new ImagePuller(cache, client, logger);
        var locked = new List<LockedImage>();
        long networkRequests = 0, bytesDownloaded = 0, blobsDownloaded = 0, blobsCached = 0, blobsLocal = 0;
        async Task<PullResult> Pull(IReadOnlyList<ImageRequest> what)
        {
            var r = await puller.PullAsync(what, options, progress, cancellationToken).ConfigureAwait(false);
            locked.AddRange(r.Lock.Images);
            networkRequests += r.NetworkRequests;
            bytesDownloaded += r.BytesDownloaded;
            blobsDownloaded += r.BlobsDownloaded;
            blobsCached += r.BlobsCached;
            blobsLocal += r.BlobsLocal;
            return r;
        }

        // 1. The base first: what it carries is not pulled again.
        BaseImage? baseImage = null;
        PulledImageEntry? baseEntry = null;
        if (!FromSource.IsScratch(inputs.BaseImage) && !FromSource.IsLocal(inputs.BaseImage, inputs.StoreDirectory))
        {
            var origin = inputs.FromOrigin;
            var baseRef = ImageReference.Parse(inputs.BaseImage.Trim(), origin.File, origin.Line);
            var r = await Pull([new ImageRequest(baseRef, [new ImageSource(Path.GetFileName(origin.File), origin.Line, origin.What)])]).ConfigureAwait(false);
            var d = r.Images[baseRef.ToString()];
            baseImage = new BaseImage(baseRef.ToString(), cache, d);
            baseEntry = new PulledImageEntry { Reference = baseRef.ToString(), Digest = d.Digest, MediaType = d.MediaType };
        }
        else if (!FromSource.IsScratch(inputs.BaseImage))
        {
            baseImage = await FromSource.ResolveLocalAsync(inputs.BaseImage, inputs.StoreDirectory, projectDir, inputs.FromOrigin, cancellationToken).ConfigureAwait(false);
            if (baseImage is not null)
            {
                baseEntry = new PulledImageEntry { Reference = baseImage.Reference, Digest = baseImage.Descriptor.Digest, MediaType = baseImage.Descriptor.MediaType, Layout = baseImage.Layout.Root };
            }
        }

        // 2. App images the base carries come from it: same full ref, and the digest the lock pins unless refreshing. A lock
        //    entry that itself came from a base ("from") is the base's pin, not the project's: it follows the base.
        var carried = baseImage is null ? new Dictionary<string, CarriedImage>() : BaseImageContent.CarriedImages(baseImage, platforms);
        var fromBase = new List<LockedImage>();
        var toPull = new List<ImageRequest>();
        foreach (var request in requests)
        {
            string name = request.Reference.ToString();
            var previous = existing.Find(name);
            string? pinned = request.Reference.Digest ?? (settings.Refresh || previous?.From is not null ? null : previous?.Digest);
            if (carried.TryGetValue(name, out var c) && (pinned is null || pinned == c.Top.Digest))
            {
                fromBase.Add(new LockedImage(name, c.Top.Digest, c.Top.MediaType, c.Platforms, request.Sources, From: baseImage!.Reference));
            }
            else
            {
                toPull.Add(request);
            }
        }

        // 3. The rest from the registries; blobs they share with images the base carries are read out of the base's layers.
        if (baseImage is not null) options.LocalBlobs = BaseImageContent.BlobSource(baseImage, platforms);
        if (toPull.Count > 0) await Pull(toPull).ConfigureAwait(false);

        // The base's own entry names no project file: the lock is carried in the rootfs, and a Kubefile (FROM) and the project
        // converted from it (SealerBaseImage) must write the same lock to build the same image.
        if (baseEntry is not null && baseImage!.Layout.Root == cache.Root)
        {
            for (int i = 0; i < locked.Count; i++)
            {
                if (locked[i].Reference == baseEntry.Reference) locked[i] = locked[i] with { Sources = [new ImageSource("", 0, BaseImageSourceDetail)] };
            }
        }
        var lockFile = new ImagesLock(locked.Concat(fromBase).GroupBy(l => l.Reference, StringComparer.Ordinal).Select(g => g.First()));
        string? before = File.Exists(settings.LockFile) ? File.ReadAllText(settings.LockFile) : null;
        if (before != lockFile.ToJson()) lockFile.Write(settings.LockFile);

        var byRef = lockFile.Images.ToDictionary(i => i.Reference, StringComparer.Ordinal);
        PulledImageEntry Entry(string reference)
        {
            if (!byRef.TryGetValue(reference, out var l))
            {
                throw new SealerException(ErrorCodes.ImageNotInCache, $"{reference} is missing from {settings.LockFile} after the pull.");
            }
            return new PulledImageEntry { Reference = reference, Digest = l.Digest, MediaType = l.MediaType, From = l.From };
        }
        var pulled = new PulledImagesFile { Images = resolved.Images.Select(i => Entry(i.Reference)).ToList(), BaseImage = baseEntry };
        return new PullOutcome(pulled, requests.Count, fromBase.Count, networkRequests, bytesDownloaded, blobsDownloaded, blobsCached, blobsLocal);
    }

    /// <summary>The rootfs the inputs describe: entries for every platform, extra entries per platform (arch-specific COPY), and the apps.</summary>
    public sealed record Rootfs(IReadOnlyList<RootfsEntry> Entries, IReadOnlyDictionary<string, IReadOnlyList<RootfsEntry>> PerPlatform, IReadOnlyList<ClusterApp> Apps)
    {
        public IEnumerable<RootfsEntry> AllEntries => Entries.Concat(PerPlatform.Values.SelectMany(e => e));
    }

    /// <summary>Maps charts (and their resolved dependencies), manifests, kustomizations, files and apps to rootfs paths (one rule
    /// for both front ends). <paramref name="renderKustomizations"/> false skips rendering (the rootfs scan does not need it).</summary>
    public static Rootfs CollectRootfs(ClusterBuildInputs inputs, string? lockFile, bool renderKustomizations = true, CancellationToken cancellationToken = default)
    {
        var rootfs = new RootfsCollector();
        string projectDir = Path.GetFullPath(inputs.ProjectDirectory);
        foreach (var c in inputs.Charts)
        {
            rootfs.AddChart(c.FullPath, c.Destination, c.OriginFile, c.OriginLine);
            // Unvendored dependencies go where helm dependency build puts them: the chart's charts/.
            string chartDest = c.Destination is { Length: > 0 } d ? PortablePath.ToImage(d).TrimEnd('/') : "charts/" + Path.GetFileName(c.FullPath.TrimEnd('/', Path.DirectorySeparatorChar));
            foreach (var (depPath, depName) in c.Dependencies) rootfs.AddTree(depPath, $"{chartDest}/charts/{depName}", c.OriginFile, c.OriginLine);
        }
        foreach (var m in inputs.Manifests)
        {
            string dest = PortablePath.ToImage(m.Destination);
            string leaf = Path.GetFileName(m.FullPath);
            if (string.IsNullOrEmpty(dest))
            {
                string rel = Path.GetRelativePath(projectDir, m.FullPath).Replace('\\', '/');
                dest = rel.StartsWith("manifests/", StringComparison.Ordinal) ? rel : "manifests/" + (m.RecursiveDir + leaf).Replace('\\', '/');
            }
            else if (dest.EndsWith('/'))
            {
                dest += leaf;
            }
            rootfs.AddFile(m.FullPath, dest, m.OriginFile, m.OriginLine);
        }
        if (renderKustomizations)
        {
            foreach (var k in inputs.Kustomizations)
            {
                CheckKustomization(k);
                var rendered = Kustomizer.Build(k.FullPath.TrimEnd('/', Path.DirectorySeparatorChar),
                    new KustomizeOptions { KubeVersion = string.IsNullOrWhiteSpace(inputs.KubeVersion) ? null : inputs.KubeVersion }, cancellationToken);
                rootfs.AddContent(k.Destination, System.Text.Encoding.UTF8.GetBytes(rendered.ToYaml()));
            }
        }
        var perPlatform = new Dictionary<string, RootfsCollector>(StringComparer.Ordinal);
        foreach (var f in inputs.Files)
        {
            string dest = PortablePath.ToImage(f.Destination);
            if (string.IsNullOrEmpty(dest) || dest is "." or "./") dest = "./";
            if (dest.EndsWith('/')) dest += (f.RecursiveDir + Path.GetFileName(f.FullPath)).Replace('\\', '/'); // MSBuild's %(Filename)%(Extension): empty for 'dir/'
            var target = rootfs;
            if (!string.IsNullOrWhiteSpace(f.Platform))
            {
                string key = Platform.Parse(f.Platform.Trim()).ToString();
                if (!perPlatform.TryGetValue(key, out target!)) perPlatform[key] = target = new RootfsCollector();
            }
            target.AddTree(f.FullPath, dest, f.OriginFile, f.OriginLine, f.Executable);
        }
        foreach (var a in inputs.Apps)
        {
            var sources = a.Sources.Select(s => Path.GetFullPath(Path.Combine(projectDir, PortablePath.FromProject(s.StartsWith("local://", StringComparison.Ordinal) ? s["local://".Length..] : s)))).ToList();
            rootfs.AddApp(a.Name, sources, string.IsNullOrWhiteSpace(a.Type) ? null : a.Type, a.Version, a.Cmds, a.Env, a.OriginFile, a.OriginLine);
        }
        if (!string.IsNullOrEmpty(lockFile) && File.Exists(lockFile)) rootfs.AddFile(lockFile, "images.lock.json");
        return new Rootfs(rootfs.Entries, perPlatform.ToDictionary(kv => kv.Key, kv => kv.Value.Entries, StringComparer.Ordinal), rootfs.Apps);
    }

    /// <summary>Step 3: the cluster image, from the pulled images and the rootfs, into the output layout (and archive).</summary>
    public static async Task<ClusterImageResult> AssembleAsync(ClusterBuildInputs inputs, PulledImagesFile pulled, string cacheDirectory, string? lockFile, ClusterImageOutput output,
        ILogger? logger = null, IProgress<AssemblyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var images = pulled.Images.Select(i => new ClusterImageContent(i.Reference, Digest.Parse(i.Digest), i.MediaType, FromBase: i.From is not null)).ToList();
        var cache = OciLayout.OpenOrCreate(cacheDirectory);
        BaseImage? baseImage = null;
        string baseName = inputs.BaseImage;
        if (!FromSource.IsScratch(baseName) && pulled.BaseImage is { Layout: { } layoutDir } local)
        {
            // The pull step resolved a local FROM already (an oci-archive: is loaded once, not on every assembly).
            var layout = OciLayout.Open(layoutDir);
            var digest = Digest.Parse(local.Digest);
            if (!layout.HasBlob(digest)) throw new SealerException(ErrorCodes.BaseImageNotFound, $"The base image {local.Reference} ({local.Digest}) is no longer in '{layoutDir}'. Rebuild (dotnet build --no-incremental).");
            baseImage = new BaseImage(local.Reference, layout, new Descriptor { MediaType = local.MediaType, Digest = local.Digest, Size = new FileInfo(layout.BlobPath(digest)).Length });
        }
        else if (!FromSource.IsScratch(baseName) && FromSource.IsLocal(baseName, inputs.StoreDirectory))
        {
            baseImage = await FromSource.ResolveLocalAsync(baseName, inputs.StoreDirectory, Path.GetFullPath(inputs.ProjectDirectory), inputs.FromOrigin, cancellationToken).ConfigureAwait(false);
        }
        else if (!FromSource.IsScratch(baseName))
        {
            var b = pulled.BaseImage
                ?? throw new SealerException(ErrorCodes.ImageNotInCache, $"The base image {baseName} ({inputs.FromOrigin.What}) was not pulled. Rebuild (dotnet build --no-incremental).");
            var digest = Digest.Parse(b.Digest);
            if (!cache.HasBlob(digest)) throw new SealerException(ErrorCodes.ImageNotInCache, $"The base image {b.Reference} ({b.Digest}) is not in the image cache '{cache.Root}'. Rebuild (dotnet build --no-incremental) so it is pulled.");
            baseImage = new BaseImage(b.Reference, cache, new Descriptor { MediaType = b.MediaType, Digest = b.Digest, Size = new FileInfo(cache.BlobPath(digest)).Length });
        }

        var rootfs = CollectRootfs(inputs, lockFile, renderKustomizations: true, cancellationToken);
        var spec = new ClusterImageSpec
        {
            RefName = inputs.RefName,
            RootfsFiles = rootfs.Entries,
            PlatformRootfsFiles = rootfs.PerPlatform,
            Images = images,
            ImageCache = cache,
            Platforms = inputs.EffectivePlatforms,
            Labels = inputs.Labels,
            Env = inputs.Env,
            Apps = rootfs.Apps,
            Launch = inputs.Launch.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList(),
            Cmds = inputs.Cmds.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList(),
            ImageType = string.IsNullOrWhiteSpace(inputs.ImageType) ? null : inputs.ImageType,
            BaseImage = baseImage,
            SourceDateEpoch = inputs.SourceDateEpoch,
            BuilderVersion = inputs.BuilderVersion,
        };
        return await new ClusterImageBuilder(logger).BuildAsync(spec, output, progress, cancellationToken).ConfigureAwait(false);
    }
}
