using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>Finds every image the cluster image must carry, without a cluster and without network: rendered charts,
/// manifests, image lists and ContainerImage items, minus ExcludeImage. Writes the list (with where each came from).</summary>
public sealed partial class ResolveClusterImages
{
    /// <summary>HelmChart items: ItemSpec = chart dir or .tgz; metadata ValuesFiles, SetValues, SetStringValues (;-lists), ReleaseName, Namespace.</summary>
    public ITaskItem[] Charts { get; set; } = [];

    /// <summary>KubeManifest items (YAML files).</summary>
    public ITaskItem[] Manifests { get; set; } = [];

    /// <summary>Kustomization items: directories holding kustomization.yaml, built offline (like kubectl kustomize).</summary>
    public ITaskItem[] Kustomizations { get; set; } = [];

    /// <summary>Where to write every file the kustomizations read (one path a line): the inputs of the next incremental build.</summary>
    public string? KustomizeInputsFile { get; set; }

    /// <summary>ImageList items: files with one reference a line, '#' comments.</summary>
    public ITaskItem[] ImageLists { get; set; } = [];

    /// <summary>ContainerImage items: ItemSpec = reference.</summary>
    public ITaskItem[] Images { get; set; } = [];

    /// <summary>ExcludeImage items: a reference, or a pattern with '*' (e.g. <c>docker.io/library/busybox:*</c>).</summary>
    public ITaskItem[] Excludes { get; set; } = [];

    public string? KubeVersion { get; set; }

    /// <summary>SealerScanRootfs: also scan the rootfs that <see cref="Files"/> and <see cref="Apps"/> make, as Sealer's lite build
    /// does (manifests/, manifests/imageList, chart directories, apps).</summary>
    public bool ScanRootfs { get; set; }

    /// <summary>SealerFile items (read only with <see cref="ScanRootfs"/>).</summary>
    public ITaskItem[] Files { get; set; } = [];

    /// <summary>SealerApp items (read only with <see cref="ScanRootfs"/>).</summary>
    public ITaskItem[] Apps { get; set; } = [];

    public string? ProjectDirectory { get; set; }

    /// <summary>Where each chart's findings are kept between builds (obj/sealer/charts): only charts whose files or values
    /// changed are rendered again. Empty: every chart is rendered.</summary>
    public string? ChartCacheDirectory { get; set; }

    /// <summary>Where to write the list (images.json under obj/); rewritten only when its content changes.</summary>
    [Required] public string OutputFile { get; set; } = "";

    /// <summary>The resolved references (full, normalized), sorted.</summary>
    [Output] public ITaskItem[] ResolvedImages { get; set; } = [];
}
