using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sealer.RegistryServer;

/// <summary>What `sealer registry serve` runs with. Everything has a safe default: read-only, offline, no auth, blobs verified.</summary>
public sealed class RegistryServerOptions
{
    /// <summary>OCI image layouts to serve read-only, in priority order (the first one holding a reference wins).
    /// A directory holding <c>registry/oci-layout</c> (an unpacked cluster image rootfs) is accepted too.</summary>
    public List<string> Layouts { get; } = [];

    /// <summary>Address to listen on (default: all IPv4 addresses).</summary>
    public IPAddress ListenAddress { get; set; } = IPAddress.Any;

    /// <summary>TCP port (default 5000; 0 picks a free one, see <see cref="RegistryHost.Port"/>).</summary>
    public int Port
    {
        get => _port;
        set => _port = value is >= 0 and <= 65535 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a TCP port is 0..65535");
    }
    private int _port = 5000;

    /// <summary>PEM server certificate (its chain may follow) and key; both or neither. Serve HTTPS when set.</summary>
    public string? TlsCertificateFile { get; set; }
    public string? TlsKeyFile { get; set; }

    /// <summary>htpasswd file (bcrypt entries, <c>htpasswd -B</c>); when set every /v2/ request needs basic auth.</summary>
    public string? HtpasswdFile { get; set; }

    /// <summary>The domain a name belongs to when a request has no <c>ns</c> query and its path does not start with a domain.</summary>
    public string DefaultDomain { get; set; } = "docker.io";

    /// <summary>Accept pushes (blob uploads and manifest PUT) into <see cref="WritableLayout"/>. Off by default.</summary>
    public bool AllowPush { get; set; }

    /// <summary>Layout that pushes (and pull-through fetches) are written to; it is served too, after <see cref="Layouts"/>.</summary>
    public string? WritableLayout { get; set; }

    /// <summary>Pull-through upstreams (need <see cref="WritableLayout"/> as the cache). Empty: fully offline.</summary>
    public List<UpstreamRegistry> Upstreams { get; } = [];

    /// <summary>Re-hash each blob the first time it is served (then remember it); a corrupt blob is never sent. On by default.</summary>
    public bool VerifyBlobs { get; set; } = true;

    /// <summary>Access log destination: null for none, "-" for stdout, else a file path (appended).</summary>
    public string? AccessLog { get; set; }

    /// <summary>How long in-flight requests may take to finish on shutdown.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Diagnostics (warnings about layouts, errors). Never receives secrets.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;
}
