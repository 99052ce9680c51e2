using Sealer.Core.Oci;

namespace Sealer.Core.Build;

/// <summary>
/// One cluster image build, as plain values: what a .kubeproj's items and properties say (the MSBuild tasks fill it from
/// <c>ITaskItem</c>s) and what a Kubefile says (<c>Sealer.Core.Kubefile.KubefileBuild</c> fills it). Both then run the same
/// steps — <see cref="ClusterBuild.ResolveChartsAsync"/> → <see cref="ClusterBuild.Resolve"/> → <see cref="ClusterBuild.PullAsync"/>
/// → <see cref="ClusterBuild.AssembleAsync"/> — so the same inputs give the same cluster image (same digest), whichever file
/// described them.
/// </summary>
public sealed record ClusterBuildInputs
{
    /// <summary>The directory relative paths are taken from (the project's, or the Kubefile's build context).</summary>
    public required string ProjectDirectory { get; init; }

    /// <summary>The .kubeproj or Kubefile.</summary>
    public required string ProjectFile { get; init; }

    /// <summary>Where the FROM was written (errors about it point there); null: the project's SealerBaseImage line.</summary>
    public BaseImageOrigin? BaseImageOrigin { get; init; }

    /// <summary><c>name:tag</c> written into the output layout.</summary>
    public string RefName { get; init; } = "";

    /// <summary>HelmChart: local chart directories or .tgz files (after <see cref="ClusterBuild.ResolveChartsAsync"/>, remote ones
    /// point at their cached archive).</summary>
    public IReadOnlyList<ChartItem> Charts { get; init; } = [];

    /// <summary>KubeManifest: scanned for images and carried under <c>manifests/</c>.</summary>
    public IReadOnlyList<FileItem> Manifests { get; init; } = [];

    /// <summary>Kustomization: directories holding kustomization.yaml, rendered offline.</summary>
    public IReadOnlyList<KustomizationItem> Kustomizations { get; init; } = [];

    public IReadOnlyList<FileItem> ImageLists { get; init; } = [];

    /// <summary>ContainerImage items, with where they were written.</summary>
    public IReadOnlyList<ImageItem> Images { get; init; } = [];

    public IReadOnlyList<string> Excludes { get; init; } = [];

    /// <summary>SealerFile (COPY): files into the rootfs.</summary>
    public IReadOnlyList<FileItem> Files { get; init; } = [];

    public IReadOnlyList<AppItem> Apps { get; init; } = [];

    /// <summary>
    /// Sealer's lite-build rule (<c>SealerScanRootfs</c>; always on for a Kubefile): the rootfs this build writes is also
    /// scanned for images (<see cref="RootfsScan"/>).
    /// </summary>
    public bool ScanRootfs { get; init; }

    public string? KubeVersion { get; init; }

    /// <summary>Where each chart's findings are kept between builds (<see cref="ChartFindingsDirectory"/>; the SDK uses
    /// obj/sealer/charts/): a rebuild renders only the charts whose inputs changed. Null: every chart is rendered.</summary>
    public string? ChartCacheDirectory { get; init; }

    public IReadOnlyList<Platform> Platforms { get; init; } = [Platform.Parse("linux/amd64")];

    /// <summary>FROM: <c>scratch</c>, a registry reference, <c>oci:</c>, <c>oci-archive:</c>, a path or a store name.</summary>
    public string BaseImage { get; init; } = "scratch";

    /// <summary>The local cluster image store (FROM by store name); null = the default.</summary>
    public string? StoreDirectory { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];

    public IReadOnlyList<string> Launch { get; init; } = [];

    public IReadOnlyList<string> Cmds { get; init; } = [];

    public string? ImageType { get; init; }

    public long SourceDateEpoch { get; init; }

    public string BuilderVersion { get; init; } = "0.1.0";

    /// <summary>The platforms to build (linux/amd64 when none is given), each once.</summary>
    public IReadOnlyList<Platform> EffectivePlatforms => Platforms.Count == 0 ? [Platform.Parse("linux/amd64")] : Platforms.DistinctBy(p => p.ToString()).ToList();

    /// <summary>Where errors about the FROM point.</summary>
    public BaseImageOrigin FromOrigin => BaseImageOrigin ?? FromSource.Line(ProjectFile);
}

/// <summary>
/// A file item, as MSBuild hands it over: the full path, the part of the path a <c>**</c> wildcard matched
/// (<paramref name="RecursiveDir"/>, MSBuild's <c>%(RecursiveDir)</c>), the Destination metadata, and (SealerFile only) the
/// platform it is for (<c>linux/arm64</c>; empty = every platform).
/// </summary>
public sealed record FileItem(string FullPath, string Destination = "", string RecursiveDir = "", string Platform = "")
{
    /// <summary>SealerFile's <c>Executable</c> metadata: the file's mode in the image (0755 or 0644); null = git's mode for
    /// the file, else its own (see <c>ClusterImage.RootfsFileModes</c>).</summary>
    public bool? Executable { get; init; }

    public string? OriginFile { get; init; }

    public int OriginLine { get; init; }
}

/// <summary>A ContainerImage item: a reference as written.</summary>
public sealed record ImageItem(string Reference, string? OriginFile = null, int OriginLine = 0);

/// <summary>
/// A HelmChart item. Local: <see cref="FullPath"/> is a chart directory or .tgz. Remote (<see cref="IsRemote"/>):
/// <see cref="Include"/> is <c>oci://host/ns/chart</c> or a chart name with <see cref="Repository"/>; resolving sets
/// <see cref="FullPath"/> to the cached archive.
/// </summary>
public sealed record ChartItem(string FullPath)
{
    /// <summary>The Include as written (a remote chart's name); empty = <see cref="FullPath"/>.</summary>
    public string Include { get; init; } = "";
    public IReadOnlyList<string> ValuesFiles { get; init; } = [];
    public IReadOnlyList<string> SetValues { get; init; } = [];
    public IReadOnlyList<string> SetStringValues { get; init; } = [];
    public string? ReleaseName { get; init; }
    public string? Namespace { get; init; }
    public string Destination { get; init; } = "";
    public string? Repository { get; init; }
    public string? Version { get; init; }
    public string? CaFile { get; init; }
    public bool InsecureSkipTlsVerify { get; init; }

    /// <summary>Unvendored dependencies as resolved: (archive or directory, name in the chart's <c>charts/</c>).</summary>
    public IReadOnlyList<(string Path, string Name)> Dependencies { get; init; } = [];

    /// <summary>Cached archive path → what to call it in messages (its URL).</summary>
    public IReadOnlyDictionary<string, string> DisplayNames { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The resolved version of a remote chart.</summary>
    public string? ResolvedVersion { get; init; }

    public string? OriginFile { get; init; }
    public int OriginLine { get; init; }

    public bool IsRemote => Include.StartsWith("oci://", StringComparison.Ordinal) || !string.IsNullOrWhiteSpace(Repository);
}

/// <summary>A Kustomization item: the directory, and where its rendered manifests go (<see cref="Destination"/>, relative to the rootfs).</summary>
public sealed record KustomizationItem(string FullPath, string Destination)
{
    public string? OriginFile { get; init; }
    public int OriginLine { get; init; }

    /// <summary><c>Destination</c> metadata, else <c>manifests/&lt;Name&gt;.yaml</c>; Name defaults to the directory's path relative to
    /// the project with '/' turned into '-' (<c>deploy/overlays/prod</c> → <c>manifests/deploy-overlays-prod.yaml</c>).</summary>
    public static string DestinationOf(string fullPath, string? name, string? destination, string projectDirectory)
    {
        string n = string.IsNullOrEmpty(name) ? DefaultName(fullPath, projectDirectory) : name;
        if (!string.IsNullOrEmpty(destination)) return destination.EndsWith('/') ? destination + n + ".yaml" : destination;
        return "manifests/" + n + ".yaml";
    }

    private static string DefaultName(string fullPath, string projectDirectory)
    {
        string full = fullPath.TrimEnd('/', Path.DirectorySeparatorChar);
        string rel = Path.GetRelativePath(projectDirectory, full).Replace('\\', '/');
        if (rel.StartsWith("../", StringComparison.Ordinal) || rel == "..") rel = Path.GetFileName(full);
        return rel.Trim('/').Replace('/', '-');
    }
}

/// <summary>SealerApp (APP / APPCMDS / APPENV): sources relative to the project directory (a leading <c>local://</c> is allowed).</summary>
public sealed record AppItem(string Name)
{
    public IReadOnlyList<string> Sources { get; init; } = [];
    public string? Type { get; init; }
    public string? Version { get; init; }
    public IReadOnlyList<string> Cmds { get; init; } = [];
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];
    public string? OriginFile { get; init; }
    public int OriginLine { get; init; }
}

/// <summary>A registry mirror setting: <c>docker.io=http://a,http://b</c> (SealerRegistryMirror items, <c>--mirror</c>).</summary>
public sealed record MirrorSetting(string Domain, IReadOnlyList<string> Endpoints)
{
    public bool Insecure { get; init; }

    /// <summary>False: never ask the source registry for this build.</summary>
    public bool? FallbackToSource { get; init; }

    public string? OriginFile { get; init; }
    public int OriginLine { get; init; }
}
