using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>Writes the cluster image (OCI layout directory + OCI archive) from the project's rootfs files and the pulled images.</summary>
public sealed partial class AssembleClusterImage
{
    /// <summary><c>name:tag</c> written as the layout's ref name.</summary>
    [Required] public string RefName { get; set; } = "";

    [Required] public string OutputLayout { get; set; } = "";

    /// <summary>The OCI archive (.tar); empty to skip it.</summary>
    public string? OutputArchive { get; set; }

    /// <summary>State for incremental rebuilds (which layer holds which cache blob).</summary>
    public string? LayerMapFile { get; set; }

    /// <summary>The image cache (OCI layout).</summary>
    [Required] public string CacheDirectory { get; set; } = "";

    /// <summary>HelmChart items (chart directory or .tgz); optional <c>Destination</c>.</summary>
    public ITaskItem[] Charts { get; set; } = [];

    /// <summary>KubeManifest items; they keep their path under <c>manifests/</c> (or <c>Destination</c>).</summary>
    public ITaskItem[] Manifests { get; set; } = [];

    /// <summary>Kustomization items (a directory holding kustomization.yaml): rendered offline and carried as
    /// <c>manifests/&lt;Name&gt;.yaml</c> (or <c>Destination</c>), what <c>kubectl apply -k</c> would apply.</summary>
    public ITaskItem[] Kustomizations { get; set; } = [];

    /// <summary>Kubernetes version for charts that kustomizations render (helmCharts:).</summary>
    public string? KubeVersion { get; set; }

    /// <summary>SealerFile items (COPY): file or directory, <c>Destination</c> in the rootfs (ending in '/' keeps the file name).</summary>
    public ITaskItem[] Files { get; set; } = [];

    /// <summary>images.lock.json, carried in the rootfs.</summary>
    public string? LockFile { get; set; }

    /// <summary>The project directory: manifests below it keep their relative path.</summary>
    public string? ProjectDirectory { get; set; }

    /// <summary>pulled.json from PullClusterImages: every image (full ref, digest and media type from the lock) and the base image.</summary>
    public string? PulledFile { get; set; }

    /// <summary><c>linux/amd64;linux/arm64</c>.</summary>
    public string[] Platforms { get; set; } = [];

    /// <summary>Labels: ItemSpec = key, metadata <c>Value</c>.</summary>
    public ITaskItem[] Labels { get; set; } = [];

    /// <summary>ENV: ItemSpec = key, metadata <c>Value</c>.</summary>
    public ITaskItem[] Env { get; set; } = [];

    /// <summary>SealerApp items: ItemSpec = name; metadata <c>Type</c> (helm|kube|shell, detected when empty), <c>Source</c> (;-list of
    /// chart dirs, YAML files or scripts), <c>Version</c>, <c>Cmds</c> (;-list, APPCMDS), <c>Env</c> (k=v;..., APPENV).</summary>
    public ITaskItem[] Apps { get; set; } = [];

    /// <summary>LAUNCH: app names in order.</summary>
    public string[] Launch { get; set; } = [];

    /// <summary>CMDS.</summary>
    public string[] Cmds { get; set; } = [];

    /// <summary>kube-installer / app-installer; empty derives it.</summary>
    public string? ImageType { get; set; }

    /// <summary>FROM image (SealerBaseImage); <c>scratch</c> or empty for none. Its digest comes from <see cref="PulledFile"/>.</summary>
    public string? BaseImage { get; set; }

    /// <summary>The project file (errors about SealerBaseImage point at its line).</summary>
    public string? ProjectFile { get; set; }

    /// <summary>The local cluster image store (SealerImagesDir); empty for the default.</summary>
    public string? StoreDirectory { get; set; }

    /// <summary>mtime of every tar entry (SOURCE_DATE_EPOCH).</summary>
    public string? SourceDateEpoch { get; set; }

    public string? SdkVersion { get; set; }

    [Output] public string? ManifestDigest { get; set; }

    [Output] public string? MediaType { get; set; }
}
