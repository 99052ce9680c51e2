using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>Writes the delta archive of the built cluster image over a base (SealerDeltaFrom) with <c>DeltaArchive</c>:
/// every manifest and config of the new image, only the layers the base lacks, and the record of the base a load checks.
/// The base is local: a name in the cluster image store, <c>oci:DIR[:REF]</c> or <c>oci-archive:FILE[:REF]</c> (never pulled).</summary>
public sealed partial class PackClusterDelta
{
    /// <summary>The built cluster image layout directory (ClusterImageLayout).</summary>
    [Required] public string Source { get; set; } = "";

    /// <summary><c>name:tag</c> of the image in <see cref="Source"/> (its index.json ref name).</summary>
    [Required] public string RefName { get; set; } = "";

    /// <summary>The base the site has (SealerDeltaFrom): <c>shop:1.4.0</c>, <c>oci:DIR[:REF]</c>, <c>oci-archive:FILE[:REF]</c>.</summary>
    [Required] public string From { get; set; } = "";

    /// <summary>The delta file (SealerDeltaOutput); empty: <c>&lt;OutputDirectory&gt;/&lt;name&gt;-&lt;base tag&gt;-to-&lt;tag&gt;.tar</c>. A name ending in <c>.zst</c> is zstd-compressed.</summary>
    public string? Output { get; set; }

    /// <summary>Where the default <see cref="Output"/> goes (ClusterImageOutputDir).</summary>
    public string? OutputDirectory { get; set; }

    /// <summary>The local cluster image store (SealerImagesDir); empty for the default.</summary>
    public string? StoreDirectory { get; set; }

    /// <summary>Relative <see cref="From"/> paths are relative to this (the project directory).</summary>
    public string? ProjectDirectory { get; set; }

    /// <summary>The delta archive written.</summary>
    [Output] public string DeltaArchive { get; set; } = "";

    /// <summary>The base's root digest the delta needs.</summary>
    [Output] public string BaseDigest { get; set; } = "";

    [Output] public int BlobsCarried { get; set; }

    [Output] public long BytesCarried { get; set; }
}
