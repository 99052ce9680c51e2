using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>
/// Gets the charts a project names from repositories and registries — HelmChart items <c>oci://host/ns/chart</c> or a chart
/// name with Repository="https://..." (Version: a version or a constraint, as helm pull --version), and the unvendored
/// dependencies of local charts (like helm dependency build) — into the chart cache, pinned in charts.lock.json. A locked
/// chart whose archive is cached costs no network request. Returns the HelmChart items with remote ones pointing at their
/// cached archive and local ones carrying their resolved dependencies.
/// </summary>
public sealed partial class ResolveHelmCharts
{
    /// <summary>HelmChart items. Metadata for remote ones: Repository, Version, CaFile, InsecureSkipTlsVerify.</summary>
    public ITaskItem[] Charts { get; set; } = [];

    /// <summary>charts.lock.json (read if present, written when it changes).</summary>
    [Required] public string LockFile { get; set; } = "";

    [Required] public string CacheDirectory { get; set; } = "";

    /// <summary>Resolve again even when locked (-p:SealerRefresh=true).</summary>
    public bool Refresh { get; set; }

    /// <summary>SealerRegistryMirror items (OCI charts go through the same registry client as images).</summary>
    public ITaskItem[] Mirrors { get; set; } = [];

    public bool FallbackToSource { get; set; } = true;

    public string? UserAgent { get; set; }

    /// <summary>helm's repositories.yaml for <c>@name</c> dependency repositories; empty: helm's default location.</summary>
    public string? RepositoryConfig { get; set; }

    public string? ProjectDirectory { get; set; }

    public string? ProjectFile { get; set; }

    /// <summary>The HelmChart items as later steps use them: <c>SealerInclude</c> (the original Include), for remote charts the
    /// cached archive as ItemSpec and <c>Destination</c> <c>charts/&lt;name&gt;-&lt;version&gt;.tgz</c> unless given;
    /// <c>SealerDependencies</c> (<c>path|name;...</c>) and <c>SealerDisplayNames</c> (<c>path=display;...</c>).</summary>
    [Output] public ITaskItem[] ResolvedCharts { get; set; } = [];

    /// <summary>Requests sent to repositories and registries.</summary>
    [Output] public int NetworkRequests { get; set; }

    /// <summary>An MSBuild file the task writes (atomically) for the next build, which imports it: <see cref="ResolvedCharts"/> as
    /// <c>_SealerCachedHelmChart</c> items (every metadata, and <c>SealerDefiningProject</c>: the project that defined the
    /// HelmChart, for errors at its line), and as <c>_SealerCachedChartsInput</c> the files outside the charts they came
    /// from (cached chart archives, <c>file://</c> dependencies, helm's repositories file). The SDK's target is skipped while
    /// its inputs are older than this file, and then hands on these items instead of running the task.</summary>
    public string? ItemsFile { get; set; }
}
