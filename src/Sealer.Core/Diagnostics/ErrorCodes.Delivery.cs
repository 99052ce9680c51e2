namespace Sealer.Core.Diagnostics;

public static partial class ErrorCodes
{
    /// <summary>A host cannot be reached over TCP (no route, refused, timed out).</summary>
    public const string SshUnreachable = "SEA4000";

    /// <summary>SSH authentication failed (wrong password, key not authorized, wrong user).</summary>
    public const string SshAuthFailed = "SEA4001";

    /// <summary>The host presented a key different from the one in known_hosts (possible man-in-the-middle).</summary>
    public const string SshHostKeyChanged = "SEA4002";

    /// <summary>The host's key is not in known_hosts and trust-on-first-use was not enabled.</summary>
    public const string SshHostKeyUnknown = "SEA4003";

    /// <summary>A private key file is missing, unreadable, or needs a passphrase that is wrong or missing.</summary>
    public const string SshBadPrivateKey = "SEA4004";

    /// <summary>A remote command exited with a non-zero status.</summary>
    public const string RemoteCommandFailed = "SEA4005";

    /// <summary>A remote command did not finish within its timeout.</summary>
    public const string RemoteCommandTimeout = "SEA4006";

    /// <summary>The SSH connection broke during an operation.</summary>
    public const string SshConnectionLost = "SEA4007";

    /// <summary>sudo is needed (non-root user) but is missing or asks for a password.</summary>
    public const string SudoFailed = "SEA4008";

    /// <summary>Preflight found problems on one or more hosts; nothing was changed.</summary>
    public const string PreflightFailed = "SEA4009";

    /// <summary>A blob arrived on a host with the wrong digest.</summary>
    public const string TransferDigestMismatch = "SEA4010";

    /// <summary>The cluster image cannot be used for delivery (not an OCI layout, no manifest for the hosts' platform).</summary>
    public const string BadClusterImage = "SEA4011";

    /// <summary>A step of the run flow failed on a host (the message names host, phase, command and last output).</summary>
    public const string RunStepFailed = "SEA4012";

    /// <summary>The local or remote state file is unreadable or belongs to another cluster.</summary>
    public const string BadClusterState = "SEA4013";

    /// <summary>A known_hosts file could not be read or written.</summary>
    public const string KnownHostsUnusable = "SEA4014";

    /// <summary>A template (*.tmpl) in the rootfs prints an env value that is not set (Go would print &lt;no value&gt;).</summary>
    public const string TemplateEnvMissing = "SEA4015";

    /// <summary>join/delete named a host that is not (or already) part of the cluster.</summary>
    public const string HostNotInCluster = "SEA4016";

    /// <summary>A template (*.tmpl) in the rootfs does not parse (Go text/template syntax error, unknown function).</summary>
    public const string TemplateUnsupported = "SEA4017";

    /// <summary>A host's OS or architecture has no matching platform in the cluster image.</summary>
    public const string PlatformMismatch = "SEA4018";

    /// <summary>A template (*.tmpl) in the rootfs failed while rendering on a host (a function error, a wrong type).</summary>
    public const string TemplateRenderFailed = "SEA4019";

    /// <summary>The Clusterfile launches an app (appNames, Application launchApps) that the cluster image does not have.</summary>
    public const string AppNotInImage = "SEA4020";

    /// <summary>The new image's Kubernetes version cannot be reached from the running one (a downgrade, a skipped minor version, another major version): kubeadm's skew rules.</summary>
    public const string KubernetesSkew = "SEA4021";

    /// <summary>sealer rollback found no earlier image in the cluster's history, or cannot open it.</summary>
    public const string NothingToRollBack = "SEA4022";

    /// <summary>An upgrade to another image is unfinished: finish it (run with that image) or roll back first.</summary>
    public const string UpgradeInProgress = "SEA4023";

    /// <summary>Hosts are being joined (sealer join, new hosts in the Clusterfile) while an upgrade is unfinished or starting: finish or roll back the upgrade first, then join.</summary>
    public const string JoinDuringUpgrade = "SEA4024";

    /// <summary>Registry garbage collection was asked for while an upgrade is unfinished (its blobs may still be served), or with a retention that keeps no image.</summary>
    public const string RegistryGcRefused = "SEA4025";

    /// <summary>A warning: with an externalRegistry (or <c>sealer mirror</c>), tags of a Sealer base's registry tree in the rootfs (<c>registry/docker/registry/v2</c>) that cannot be pushed into that registry (a manifest not in the tree, a schema 1 manifest) or that an app image of the same path and tag shadows; each is named with the reason.</summary>
    public const string SealerFormatImagesNotMirrored = "SEA4026";

    /// <summary>A host's <c>/etc/containerd/config.toml</c> cannot take <c>config_path = "/etc/containerd/certs.d"</c> (where the registry mirrors are written) as it is: it sets the deprecated <c>registry.mirrors</c> or <c>registry.configs."HOST".tls</c>, which containerd refuses beside config_path, or a config_path naming only other folders, or a version or line sealer cannot read. The message names the host, the line and the change to make.</summary>
    public const string ContainerdConfigRefused = "SEA4027";

    /// <summary>A warning: a Docker host runs Docker Engine's classic image store, which reads none of the hosts.toml files delivery writes and mirrors docker.io only (daemon.json's registry-mirrors); the image domains it leaves to the internet are named, with the remedy (the containerd image store, or containerd as the runtime).</summary>
    public const string DockerClassicStoreUnmirrored = "SEA4028";

    /// <summary>A Docker host runs Docker Engine's classic image store and the Clusterfile's externalRegistry has a <c>prefix</c>: that store mirrors through daemon.json's <c>registry-mirrors</c> only, which take a registry's root, not a path in it, so every image would be pulled from the internet. Turn on the containerd image store, run the host on containerd, or use an externalRegistry without a prefix.</summary>
    public const string DockerPrefixedMirrorRefused = "SEA4029";

    /// <summary>A warning: a worker has no route to the API servers' VIP and none of its interfaces holds its Clusterfile address to route the VIP from (an address translated on the way, a host behind NAT): kubeadm join and kubelet cannot reach the API servers through kube-lvscare. Give the host a route to the VIP (a default route will do) or list it under the address it holds.</summary>
    public const string VipUnroutable = "SEA4030";

    /// <summary>A host cannot connect to any registry it is to pull from (the registry hosts on the registry port, or the externalRegistry): a firewall between the hosts, most often, or a name the host cannot resolve. The message names the host, the endpoints and the port to open; nothing was written on that host. When only some registry hosts do not answer, the same code is a warning (pulls go to the others).</summary>
    public const string RegistryUnreachableFromHost = "SEA4031";
}
