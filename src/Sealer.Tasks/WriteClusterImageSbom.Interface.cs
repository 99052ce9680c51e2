using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>
/// The built cluster image's software bill of materials (SPDX 2.3 JSON: the cluster image, every app image it carries
/// with its digests per platform, every app) written beside the archive, where CI pipelines and scanners pick it up —
/// the same document <c>sealer sbom</c> prints and <c>PushClusterImage</c> attaches as a referrer.
/// </summary>
public sealed partial class WriteClusterImageSbom
{
    /// <summary>The built cluster image (its OCI layout directory).</summary>
    [Required] public string Image { get; set; } = "";

    /// <summary>The image's name:tag in the layout (org.opencontainers.image.ref.name).</summary>
    [Required] public string RefName { get; set; } = "";

    /// <summary>Where the document goes (ClusterImageSbom; written atomically).</summary>
    [Required] public string OutputFile { get; set; } = "";

    /// <summary>SOURCE_DATE_EPOCH: when above 0, the document's creation time (reproducible output); else the time of the build.</summary>
    public string? SourceDateEpoch { get; set; }
}
