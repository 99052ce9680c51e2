namespace Sealer.Core.Diagnostics;

/// <summary>SEA1000–1499: registry client, authentication, pulling into the cache, images.lock.json.</summary>
public static partial class ErrorCodes
{
    /// <summary>The registry has no such repository, tag or digest (HTTP 404 MANIFEST_UNKNOWN / NAME_UNKNOWN).</summary>
    public const string ImageNotFound = "SEA1000";

    /// <summary>The registry refused our credentials or we have none (HTTP 401/403). The message says how to log in. Refused credentials are not sent to that host again in the same run (each refused login can count towards locking the account): its other images are one error listing them.</summary>
    public const string AuthenticationRefused = "SEA1001";

    /// <summary>The registry cannot be reached (DNS failure, connection refused or reset, network down) after retries. Once a host refused one request through all its attempts, the other requests to it fail at once for 30 s (one error per host lists the images it stopped).</summary>
    public const string RegistryUnreachable = "SEA1002";

    /// <summary>The TLS handshake failed (untrusted or invalid certificate, or the registry speaks plain HTTP). The host gets no other request in the same run: its other images are one error listing them.</summary>
    public const string TlsFailure = "SEA1003";

    /// <summary>The registry kept answering HTTP 429 (rate limited) after retries, or its limit is used up until a reset no retry can wait for (RateLimit-Remaining 0, as Docker Hub's pull limit, or a Retry-After beyond what the retries can wait, 2 min by default): that is not retried, and the host gets no other request until the reset (one error per host lists the images it stopped).</summary>
    public const string RateLimited = "SEA1004";

    /// <summary>The registry answered with an unexpected status or error (5xx after retries, or another 4xx). A host that answered 502/503/504 (unavailable) through all of one request's attempts gets no other request for 30 s (one error per host lists the images it stopped).</summary>
    public const string RegistryError = "SEA1005";

    /// <summary>The registry served a manifest we cannot use (schema 1, unknown media type, too large, malformed).</summary>
    public const string UnsupportedManifest = "SEA1006";

    /// <summary>An image is not available for a platform the build targets (missing from its index).</summary>
    public const string PlatformNotAvailable = "SEA1007";

    /// <summary>A request or a download stalled longer than its timeout, after retries. A host that gave one request no response through all its attempts gets no other request for 30 s (one error per host lists the images it stopped).</summary>
    public const string RegistryTimeout = "SEA1008";

    /// <summary>A Docker credential helper (docker-credential-*) failed or is missing.</summary>
    public const string CredentialHelperFailed = "SEA1009";

    /// <summary>~/.docker/config.json (or $DOCKER_CONFIG/config.json) is malformed.</summary>
    public const string DockerConfigInvalid = "SEA1010";

    /// <summary>Plain HTTP or an untrusted token realm was asked for a registry that is neither loopback nor marked insecure.</summary>
    public const string InsecureRegistryNotAllowed = "SEA1011";

    /// <summary>A blob named by a manifest is missing from the registry (HTTP 404 BLOB_UNKNOWN).</summary>
    public const string BlobNotFoundInRegistry = "SEA1012";

    /// <summary>images.lock.json is malformed or of an unsupported version.</summary>
    public const string ImagesLockInvalid = "SEA1013";

    /// <summary>A registry redirected too many times, or to a scheme we do not follow.</summary>
    public const string TooManyRedirects = "SEA1014";

    /// <summary>A mirror or insecure-registry setting is malformed.</summary>
    public const string RegistryConfigInvalid = "SEA1015";

    /// <summary>The registry served a manifest whose digest differs from the one asked for or announced.</summary>
    public const string ManifestDigestMismatch = "SEA1016";

    /// <summary>Pushing a blob or manifest was refused or failed.</summary>
    public const string PushFailed = "SEA1017";

    /// <summary>An offline pull (design-time build, --offline) needs content the cache does not have.</summary>
    public const string OfflineContentMissing = "SEA1018";

    /// <summary>A warning: a registry's rate limit (RateLimit-Remaining, as Docker Hub sends it) leaves fewer pulls than the images still to pull from it. Log in or configure a mirror before it runs out (SEA1004).</summary>
    public const string RateLimitLow = "SEA1019";
}
