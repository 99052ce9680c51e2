namespace Sealer.Core.Diagnostics;

/// <summary>SEA4150–4199: image completeness before launch and the air-gap leak check (<c>Delivery/Checks</c>).</summary>
public static partial class ErrorCodes
{
    /// <summary>The apps, rendered with the site's values, would be launched with images the cluster image's registry does not serve (listed with app, file, line and the value that produced each).</summary>
    public const string ImagesMissingFromClusterImage = "SEA4150";

    /// <summary>An app's launch.helm.valueFiles names a file that is not in the cluster image (or a host path the check cannot read).</summary>
    public const string LaunchValuesFileMissing = "SEA4151";

    /// <summary>Air-gap check: a domain a running pod pulls from has no mirror in the runtime's certs.d on a host (containerd's, or Docker's on Docker hosts; docker.io's registry-mirrors with Docker's classic image store, which mirrors no other domain), or the mirror does not point at the cluster's registry, or containerd's CRI does not read certs.d at all (its registry config_path).</summary>
    public const string AirgapMirrorMissing = "SEA4152";

    /// <summary>Air-gap check: a running pod's (or a node's) image is not one the built-in registry serves: it came from somewhere else.</summary>
    public const string AirgapImageNotServed = "SEA4153";
}
