using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>Writes the site bundle of the cluster image this project built — the same file as <c>sealer bundle</c>:
/// <c>dotnet publish app.kubeproj -t:BundleCluster</c>. The embedded sealer is <see cref="SealerCliPath"/>, else the one the
/// SDK package carries for <see cref="Platform"/> under <c>tools/sealer/RID/sealer</c>.</summary>
public sealed partial class BundleCluster
{
    /// <summary>The built cluster image as a plain OCI archive (ClusterImageArchive).</summary>
    [Required] public string Archive { get; set; } = "";

    /// <summary>The bundle to write (SealerBundleOutput); empty: <c>&lt;OutputDirectory&gt;/&lt;name&gt;-&lt;tag&gt;-&lt;os&gt;-&lt;arch&gt;.run</c>.</summary>
    public string? Output { get; set; }

    /// <summary>Where the default <see cref="Output"/> goes (ClusterImageOutputDir).</summary>
    public string? OutputDirectory { get; set; }

    /// <summary>The platform of the machine the site runs the bundle on (SealerBundlePlatform: <c>linux/amd64</c>, <c>linux/arm64</c>); empty: the first of <see cref="Platforms"/>.</summary>
    public string? Platform { get; set; }

    /// <summary>The image's platforms (SealerPlatforms), for the default <see cref="Platform"/>.</summary>
    public string? Platforms { get; set; }

    /// <summary>The NativeAOT sealer to embed (SealerCliPath); empty: the SDK's for <see cref="Platform"/>.</summary>
    public string? SealerCliPath { get; set; }

    /// <summary>The SDK package's <c>tools/sealer</c> directory (one <c>RID/sealer</c> per platform it carries).</summary>
    public string? SdkSealerDirectory { get; set; }

    /// <summary>A Clusterfile template to carry (SealerBundleClusterfileTemplate), printed by <c>BUNDLE clusterfile</c>.</summary>
    public string? ClusterfileTemplate { get; set; }

    /// <summary>No bundle file larger than this (SealerBundleSplitSize: bytes, 4G, 4700MB, or <c>fat32</c>): the archive goes
    /// into part files beside the bundle; empty: one file.</summary>
    public string? SplitSize { get; set; }

    /// <summary>The SDK's version, recorded as the embedded sealer's.</summary>
    public string? SealerVersion { get; set; }

    /// <summary>The bundle written.</summary>
    [Output] public string Bundle { get; set; } = "";

    /// <summary>The part files beside <see cref="Bundle"/> when it was split (none otherwise).</summary>
    [Output] public ITaskItem[] BundleParts { get; set; } = [];
}
