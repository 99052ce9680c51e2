namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>
/// Which image store a Docker Engine host runs, and what that means for mirroring: the containerd image store reads
/// hosts.toml from /etc/docker/certs.d (every domain mirrored, as with containerd), the classic store (graph drivers
/// such as overlay2) reads no hosts.toml and mirrors docker.io only, through daemon.json's <c>registry-mirrors</c>.
/// </summary>
public static class DockerImageStore
{
    /// <summary>Docker Engine's classic image store (graph drivers such as overlay2).</summary>
    public const string Classic = "classic";

    /// <summary>Docker Engine's containerd image store (containerd snapshotters).</summary>
    public const string Containerd = "containerd";

    /// <summary>What <c>docker info --format</c> is given for <see cref="Of"/>.</summary>
    public const string InfoFormat = "{{json .DriverStatus}}";

    /// <summary>The one domain the classic store mirrors (through registry-mirrors).</summary>
    public const string MirroredDomain = "docker.io";

    /// <summary>
    /// The store from <c>docker info --format '{{json .DriverStatus}}'</c>: the containerd image store says
    /// <c>["driver-type","io.containerd.snapshotter.v1"]</c> there (what Docker's documentation checks for), the classic
    /// store its graph driver's status (overlay2: backing filesystem, d_type, …).
    /// </summary>
    public static string Of(string driverStatus)
        => driverStatus.Contains("io.containerd.snapshotter", StringComparison.Ordinal) ? Containerd : Classic;

    /// <summary>What to do about a classic store that leaves domains unmirrored, for the warning and the air-gap check.</summary>
    /// <summary>Why Docker's classic store cannot pull through a registry mirror that asks for credentials (moby/moby#30880).</summary>
    public const string MirrorGetsNoCredentials = "Docker sends a registry mirror no credentials";

    public const string Remedy = "Turn on Docker's containerd image store (\"features\": {\"containerd-snapshotter\": true} in /etc/docker/daemon.json, restart docker; it pulls its images again), or run the cluster on containerd.";
}
