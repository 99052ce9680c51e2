using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>Installs (or brings up to date) the cluster a Clusterfile describes with the cluster image this project just
/// built: <c>dotnet publish app.kubeproj -t:DeliverCluster</c>. The Clusterfile's <c>spec.image</c> is replaced by
/// <see cref="Image"/>. SSH passwords come only from the Clusterfile or the environment, never from project properties.</summary>
public sealed partial class DeliverCluster
{
    /// <summary>The Clusterfile (SealerClusterfile).</summary>
    [Required] public string Clusterfile { get; set; } = "";

    /// <summary>The built cluster image: OCI layout dir (ClusterImageLayout) or archive.</summary>
    [Required] public string Image { get; set; } = "";

    /// <summary>known_hosts to verify host keys against (SealerKnownHosts; default ~/.ssh/known_hosts).</summary>
    public string? KnownHosts { get; set; }

    /// <summary>Accept and record keys of hosts not in known_hosts (SealerTrustOnFirstUse); a changed key is always refused.</summary>
    public bool TrustOnFirstUse { get; set; }

    /// <summary>SSH private key for every host, overriding the Clusterfile's <c>pk</c> (SealerSshPrivateKey).</summary>
    public string? PrivateKey { get; set; }

    /// <summary>SSH user for every host, overriding the Clusterfile (SealerSshUser).</summary>
    public string? User { get; set; }

    /// <summary>Masters replacing the Clusterfile's hosts (SealerMasters; comma list, ranges like 10.0.0.2-10.0.0.4), as
    /// <c>sealer run -m</c>. With only <see cref="Nodes"/>, the Clusterfile's masters stay.</summary>
    public string? Masters { get; set; }

    /// <summary>Nodes replacing the Clusterfile's (SealerNodes), as <c>sealer run -n</c>.</summary>
    public string? Nodes { get; set; }

    /// <summary>Cluster env set over the Clusterfile's <c>spec.env</c> (@(SealerClusterEnv): Include = name, Value), as
    /// <c>sealer run -e</c>; host env still wins. Never put secrets here: use the environment.</summary>
    public ITaskItem[] ClusterEnv { get; set; } = [];

    /// <summary>Name of the environment variable holding the SSH password used where the Clusterfile sets none and no key
    /// is given (SealerSshPasswordVariable, default SEALER_SSH_PASSWORD).</summary>
    public string? PasswordVariable { get; set; }

    /// <summary>Hosts this machine sends to at once (SealerDeliverParallelism).</summary>
    public int Parallelism { get; set; } = 3;

    /// <summary>False: no host-to-host copies (SealerDeliverRelay).</summary>
    public bool Relay { get; set; } = true;

    /// <summary>Compute and log the upgrade plan only, changing nothing (SealerDeliverPlanOnly).</summary>
    public bool PlanOnly { get; set; }

    /// <summary>In an upgrade, remove the apps the new image drops (SealerPruneApps).</summary>
    public bool PruneApps { get; set; }

    /// <summary>The sealer executable installed on registry hosts (SealerBinary).</summary>
    public string? SealerBinary { get; set; }

    /// <summary>Local state root (SealerStateDir; default ~/.sealer).</summary>
    public string? StateDirectory { get; set; }

    public string? CacheDirectory { get; set; }

    /// <summary>SSH connect timeout in seconds.</summary>
    public int ConnectTimeout { get; set; } = 10;

    /// <summary>Per-step timeout in minutes.</summary>
    public int StepTimeout { get; set; } = 30;

    /// <summary>Steps run, as <c>host:step</c>.</summary>
    [Output] public string[] StepsRun { get; set; } = [];

    [Output] public string[] StepsSkipped { get; set; } = [];

    /// <summary>Bytes sent from this machine to all hosts.</summary>
    [Output] public long BytesSent { get; set; }

    /// <summary>Bytes hosts copied from each other.</summary>
    [Output] public long BytesRelayed { get; set; }
}
