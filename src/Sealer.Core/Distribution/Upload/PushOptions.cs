namespace Sealer.Core.Distribution.Upload;

/// <summary>Progress of a push: bytes sent so far (all blobs), blobs finished of the total.</summary>
public readonly record struct PushProgress(long BytesUploaded, long BytesTotal, int BlobsDone, int BlobsTotal);

/// <summary>Options for <see cref="RegistryPusher"/>. Setters check their range.</summary>
public sealed class PushOptions
{
    private int _concurrency = 4;
    private long _chunkSize = 64L * 1024 * 1024;
    private long _monolithicThreshold = 16L * 1024 * 1024;
    private int _maxRetries = 5;

    /// <summary>Blobs uploaded at once (1–32; default 4).</summary>
    public int Concurrency
    {
        get => _concurrency;
        set => _concurrency = value is >= 1 and <= 32 ? value : throw new ArgumentOutOfRangeException(nameof(Concurrency), value, "1..32");
    }

    /// <summary>PATCH size for chunked uploads (1 MiB–1 GiB; default 64 MiB). An interrupted upload resends at most one chunk.</summary>
    public long ChunkSize
    {
        get => _chunkSize;
        set => _chunkSize = value is >= 1024 * 1024 and <= 1L << 30 ? value : throw new ArgumentOutOfRangeException(nameof(ChunkSize), value, "1 MiB..1 GiB");
    }

    /// <summary>Blobs up to this size go in one PUT (POST + PUT); larger ones are chunked (POST + PATCH… + PUT). Default 16 MiB.</summary>
    public long MonolithicThreshold
    {
        get => _monolithicThreshold;
        set => _monolithicThreshold = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MonolithicThreshold), value, ">= 0");
    }

    /// <summary>Attempts per blob after an interruption (resumed from the registry's Range). Default 5.</summary>
    public int MaxRetries
    {
        get => _maxRetries;
        set => _maxRetries = value is >= 0 and <= 100 ? value : throw new ArgumentOutOfRangeException(nameof(MaxRetries), value, "0..100");
    }

    /// <summary>Repositories on the same registry to mount blobs from (<c>?mount=&amp;from=</c>) before uploading them.
    /// The base image's repository (<c>org.opencontainers.image.base.name</c>) is tried automatically.</summary>
    public IList<string> MountFrom { get; } = new List<string>();

    /// <summary>Extra tags to point at the pushed image.</summary>
    public IList<string> AdditionalTags { get; } = new List<string>();

    /// <summary>Also push referrers (signatures, SBOMs) stored next to the image. Default true.</summary>
    public bool PushReferrers { get; set; } = true;

    /// <summary>
    /// Sign the image before pushing (cosign's format, the destination repository as identity): the signature is written
    /// beside the image in its layout and pushed as a referrer and as the <c>sha256-&lt;hex&gt;.sig</c> tag. Null: no signing.
    /// </summary>
    public System.Security.Cryptography.ECDsa? SigningKey { get; set; }

    /// <summary>Attach the image's SPDX 2.3 SBOM (its app images and apps) as a referrer before pushing, unless one is attached already.</summary>
    public bool AttachSbom { get; set; }

    /// <summary>Treat the destination as an insecure registry (plain http; default: only loopback registries use http).</summary>
    public bool PlainHttp { get; set; }

    /// <summary>Credentials to use instead of the environment and Docker config (see <see cref="RegistryTransport.StaticCredentials"/>).</summary>
    public Auth.ICredentialProvider? Credentials { get; set; }

    /// <summary>The registry client to push with (share the build's: same options and token cache); else one is made.</summary>
    public RegistryClient? Client { get; set; }

    public IProgress<PushProgress>? Progress { get; set; }

}
