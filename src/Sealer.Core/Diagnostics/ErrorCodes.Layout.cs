namespace Sealer.Core.Diagnostics;

public static partial class ErrorCodes
{
    /// <summary>A digest string is malformed.</summary>
    public const string InvalidDigest = "SEA1500";

    /// <summary>Content did not match its expected digest (corrupt download or tampered file).</summary>
    public const string DigestMismatch = "SEA1501";

    /// <summary>Content did not match its expected size.</summary>
    public const string SizeMismatch = "SEA1502";

    /// <summary>A manifest, index, config or index.json is not valid JSON of the expected shape.</summary>
    public const string InvalidOciJson = "SEA1503";

    /// <summary>A directory is not an OCI image layout (no oci-layout file, or an unsupported version).</summary>
    public const string NotAnOciLayout = "SEA1504";

    /// <summary>A blob the layout should hold is missing.</summary>
    public const string BlobNotFound = "SEA1505";

    /// <summary>The disk is full or not writable while writing the cache or the output. A full disk stops a pull at once: the images it had not downloaded yet are one error listing them, and the next run resumes.</summary>
    public const string DiskWriteFailed = "SEA1506";

    /// <summary>A platform string is malformed.</summary>
    public const string InvalidPlatform = "SEA1507";

    // Cluster image assembly and reading (SEA1600-1699).

    /// <summary>An image the build needs (from the lock) is not in the image cache: it was deleted or never pulled.</summary>
    public const string ImageNotInCache = "SEA1600";

    /// <summary>An image has no manifest for a platform the cluster image is built for.</summary>
    public const string ImagePlatformMissing = "SEA1601";

    /// <summary>A layout or archive is not a cluster image (no manifest, or not one Sealer.Sdk or Sealer can read).</summary>
    public const string NotAClusterImage = "SEA1602";

    /// <summary>The base (FROM) image has no manifest for a platform being built.</summary>
    public const string BaseImagePlatformMissing = "SEA1603";

    /// <summary>The output could not be replaced (another process holds it, or permissions).</summary>
    public const string OutputReplaceFailed = "SEA1604";

    /// <summary>A manifest's <c>sealer.image.extension</c> annotation is not Sealer's image extension (not JSON, or members of the wrong shape).
    /// The one code for a bad extension: reading for build (FROM), inspect and delivery all report it.</summary>
    public const string BadImageExtension = "SEA1605";
}
