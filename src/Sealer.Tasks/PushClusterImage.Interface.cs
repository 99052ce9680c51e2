using Microsoft.Build.Framework;
using Sealer.Core.Artifacts;

namespace Sealer.Tasks;

/// <summary>Pushes the built cluster image (every platform: the index and its manifests) from its OCI layout directory
/// (or archive) to a registry with <c>RegistryPusher</c>: blobs the registry has are skipped, FROM layers mounted.
/// Credentials come only from the environment, ~/.docker/config.json and credential helpers (never the project).</summary>
public sealed partial class PushClusterImage
{
    /// <summary>The cluster image layout directory (bin/&lt;Configuration&gt;/&lt;name&gt;/) or OCI archive.</summary>
    [Required] public string Source { get; set; } = "";

    /// <summary><c>name:tag</c> of the image in <see cref="Source"/> (its index.json ref name).</summary>
    public string? RefName { get; set; }

    /// <summary>Full destination reference, <c>registry.example.com/team/app:1.0</c>.</summary>
    [Required] public string Destination { get; set; } = "";

    /// <summary>Extra tags of the same image (SealerPushAdditionalTags).</summary>
    public string[] AdditionalTags { get; set; } = [];

    /// <summary>Repositories on the destination registry to mount blobs from (<c>team/base</c>; SealerPushMountFrom), besides the
    /// FROM image's own repository, which is tried without asking.</summary>
    public string[] MountFrom { get; set; } = [];

    /// <summary>Force plain HTTP for the destination registry (loopback registries get it without asking).</summary>
    public bool PlainHttp { get; set; }

    public int MaxConcurrentBlobs { get; set; } = 4;

    /// <summary>PEM private key to sign the pushed image with (SealerSigningKey; cosign's encrypted format reads its password
    /// from COSIGN_PASSWORD). Empty: not signed.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Attach the SPDX 2.3 SBOM (SealerPushSbom, default true) as a referrer of the pushed image.</summary>
    public bool Sbom { get; set; } = true;

    /// <summary>The pushed root digest (index or manifest).</summary>
    [Output] public string Digest { get; set; } = "";

    /// <summary><c>registry/name:tag@sha256:…</c>.</summary>
    [Output] public string PushedReference { get; set; } = "";

    [Output] public int BlobsUploaded { get; set; }

    [Output] public int BlobsSkipped { get; set; }

    [Output] public long BytesUploaded { get; set; }
}
