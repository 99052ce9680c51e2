namespace Sealer.Core.Diagnostics;

public static partial class ErrorCodes
{
    /// <summary>No layout to serve was given, or a --layout path is not an OCI image layout (nor a rootfs holding registry/).</summary>
    public const string RegistryLayoutInvalid = "SEA1800";

    /// <summary>The listen address or port is malformed, or the port is already in use.</summary>
    public const string RegistryListenFailed = "SEA1801";

    /// <summary>The TLS certificate or key could not be read (missing, wrong format, key does not match).</summary>
    public const string RegistryTlsInvalid = "SEA1802";

    /// <summary>The htpasswd file is missing or has a line that is not <c>user:bcrypt-hash</c>.</summary>
    public const string RegistryHtpasswdInvalid = "SEA1803";

    /// <summary>An index.json entry names an image reference that cannot be parsed; the entry is skipped.</summary>
    public const string RegistryRefNameInvalid = "SEA1804";

    /// <summary>Two layouts hold different content for the same reference; the first layout given wins.</summary>
    public const string RegistryRefConflict = "SEA1805";

    /// <summary>A manifest named by a layout's index.json is missing or corrupt; that image is not served.</summary>
    public const string RegistryManifestUnreadable = "SEA1806";

    /// <summary>Certificate generation failed (bad host list or output directory not writable).</summary>
    public const string RegistryCertGenerationFailed = "SEA1807";

    /// <summary>The upstream given for pull-through is not an absolute http(s) URL.</summary>
    public const string RegistryUpstreamInvalid = "SEA1808";

    /// <summary>A mirror endpoint given to runtime config generation is malformed.</summary>
    public const string RegistryMirrorInvalid = "SEA1809";
}
