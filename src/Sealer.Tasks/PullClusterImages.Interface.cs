using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>Obtains the base image (FROM) first, then pulls every resolved image the base does not already carry into the
/// image cache for the wanted platforms, pinned by images.lock.json: locked images are not re-resolved (no network when the
/// cache has them) unless Refresh is set. Images the base carries (same full ref, and the digest the lock pins) are taken
/// from the base: no registry request, <c>"from": "&lt;base&gt;"</c> in the lock and in pulled.json.</summary>
public sealed partial class PullClusterImages
{
    /// <summary>images.json written by ResolveClusterImages.</summary>
    [Required] public string ImagesFile { get; set; } = "";

    /// <summary>images.lock.json (read if present, written when it changes).</summary>
    [Required] public string LockFile { get; set; } = "";

    [Required] public string CacheDirectory { get; set; } = "";

    /// <summary><c>linux/amd64;linux/arm64</c>.</summary>
    public string[] Platforms { get; set; } = [];

    /// <summary>SealerBaseImage; <c>scratch</c> or empty for none.</summary>
    public string? BaseImage { get; set; }

    /// <summary>The local cluster image store (SealerImagesDir); empty for the default. A FROM it names is not pulled.</summary>
    public string? StoreDirectory { get; set; }

    /// <summary>Re-resolve tags even when locked (-p:SealerRefresh=true).</summary>
    public bool Refresh { get; set; }

    /// <summary>SealerRegistryMirror items: ItemSpec = source domain (<c>docker.io</c>, or <c>*</c>), metadata <c>Mirrors</c> (;-list of
    /// endpoints, e.g. <c>http://127.0.0.1:5000</c>), optional <c>Insecure</c>=true and <c>FallbackToSource</c>=false.</summary>
    public ITaskItem[] Mirrors { get; set; } = [];

    public int MaxConcurrentBlobs { get; set; } = 6;

    /// <summary>The User-Agent sent to registries (SealerUserAgent); empty for the client's default.</summary>
    public string? UserAgent { get; set; }

    /// <summary>False: never ask a source registry when its mirrors fail or lack an image (SealerRegistryFallbackToSource).</summary>
    public bool FallbackToSource { get; set; } = true;

    /// <summary>Relative <c>oci:</c>/<c>oci-archive:</c> FROM paths are relative to this (the project directory).</summary>
    public string? ProjectDirectory { get; set; }

    /// <summary>The project file (errors about SealerBaseImage point at its line there).</summary>
    public string? ProjectFile { get; set; }

    /// <summary>pulled.json for AssembleClusterImage.</summary>
    [Required] public string OutputFile { get; set; } = "";

    [Output] public int NetworkRequests { get; set; }

    [Output] public long BytesDownloaded { get; set; }
}
