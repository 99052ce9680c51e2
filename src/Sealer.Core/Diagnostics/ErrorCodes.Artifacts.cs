namespace Sealer.Core.Diagnostics;

// Cluster images as OCI artifacts: push/upload (SEA1300–1499) and the local store and archives (SEA1700–1799).
public static partial class ErrorCodes
{
    // ---- upload / push (SEA1300–1499) ----

    /// <summary>The registry refused a blob upload (unexpected status starting, sending or finishing it).</summary>
    public const string BlobUploadFailed = "SEA1300";

    /// <summary>The registry refused a manifest or index PUT (e.g. a missing blob, an unsupported media type).</summary>
    public const string ManifestPushFailed = "SEA1301";

    /// <summary>The registry refused the credentials for a push, or they lack push permission on the repository.</summary>
    public const string PushUnauthorized = "SEA1302";

    /// <summary>The registry computed another digest for the uploaded content than we did.</summary>
    public const string PushDigestMismatch = "SEA1303";

    /// <summary>An upload was interrupted more times than the retry budget allows.</summary>
    public const string UploadRetriesExhausted = "SEA1304";

    /// <summary>The push destination is not a valid reference (e.g. it carries a digest instead of a tag).</summary>
    public const string InvalidPushDestination = "SEA1305";

    /// <summary>Two app images a cluster image carries become the same name in a mirror registry (it keeps the path, not the domain).</summary>
    public const string MirrorNameClash = "SEA1306";

    /// <summary>The mirror registry refuses an index whose platforms the cluster image does not all carry, and an app pins that index's digest.</summary>
    public const string MirrorPartialIndexRefused = "SEA1307";

    /// <summary>'sealer mirror' of a cluster image that carries no app images.</summary>
    public const string NothingToMirror = "SEA1308";

    /// <summary>'sealer mirror --check': the registry lacks app images the cluster image carries, or serves them with other content.</summary>
    public const string MirrorIncomplete = "SEA1309";

    /// <summary>The registry answered 404 to the start of an upload: it has no repository there and does not create one on
    /// push (a Harbor project that does not exist, an Artifactory or Nexus repository not set up, a wrong path).</summary>
    public const string PushRepositoryMissing = "SEA1314";

    // ---- local store and archives (SEA1700–1799) ----

    /// <summary>No cluster image with that name (or digest) is in the local store.</summary>
    public const string ImageNotInStore = "SEA1700";

    /// <summary>A name given to tag/save/load is not a usable image reference.</summary>
    public const string InvalidStoreName = "SEA1701";

    /// <summary>The archive is not an OCI archive (not a tar, or no oci-layout/index.json in it).</summary>
    public const string NotAnOciArchive = "SEA1702";

    /// <summary>A blob in the archive does not match the digest its file name claims.</summary>
    public const string ArchiveBlobCorrupt = "SEA1703";

    /// <summary>The archive's index.json references a blob the archive does not contain.</summary>
    public const string ArchiveIncomplete = "SEA1704";

    /// <summary>An archive entry has an unsafe or unexpected path (absolute, '..', a link, a device).</summary>
    public const string ArchiveUnsafeEntry = "SEA1705";

    /// <summary>An archive image has a name that is not a full reference and no --name was given.</summary>
    public const string ArchiveImageUnnamed = "SEA1706";

    /// <summary>The image's graph in the store is incomplete (a manifest or layer blob is missing).</summary>
    public const string StoreImageIncomplete = "SEA1707";

    /// <summary>The requested platform is not in the cluster image.</summary>
    public const string PlatformNotInImage = "SEA1708";

    /// <summary>A base (FROM) cluster image could not be resolved from the given source.</summary>
    public const string BaseImageNotFound = "SEA1709";

    /// <summary>A delta archive (<c>sealer save --since</c>) was loaded into a store that lacks blobs of its base image: load or pull the base first. Nothing was loaded.</summary>
    public const string DeltaBaseMissing = "SEA1710";

    /// <summary>A delta archive's record of its base (the <c>io.sealer.sdk.delta.*</c> annotations of index.json and the blob they name) is missing, corrupt or contradicts itself.</summary>
    public const string DeltaRecordInvalid = "SEA1711";
}
