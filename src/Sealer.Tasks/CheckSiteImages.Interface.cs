using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>
/// Completeness before launch, on the build machine (<c>-p:SealerSiteValues=site-values.yaml</c>): the built cluster
/// image's apps rendered with a site's values (a Clusterfile, or only its Application and Config documents), one error
/// per image the cluster image does not carry, at the line of the value in the site file that produced it.
/// </summary>
public sealed partial class CheckSiteImages
{
    /// <summary>The built cluster image (its OCI layout directory).</summary>
    [Required] public string Image { get; set; } = "";

    /// <summary>The site's values: a Clusterfile, or Application/Config documents as a Clusterfile holds them.</summary>
    [Required] public string SiteValues { get; set; } = "";

    /// <summary>Warnings instead of errors (SealerAllowMissingImages).</summary>
    public bool AllowMissing { get; set; }

    /// <summary>How many images the apps name that the cluster image does not carry.</summary>
    [Output] public int MissingImages { get; set; }
}
