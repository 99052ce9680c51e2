using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sealer.Core.Delivery.Ssh;

namespace Sealer.Core.Delivery;

/// <summary>How <c>sealer run</c>/<c>join</c>/<c>check</c>/<c>delete</c> reach and change the hosts (<c>Install.ClusterInstaller</c>).</summary>
public sealed record RunOptions
{
    public SshOptions Ssh { get; init; } = new();

    /// <summary>The cluster image (layout dir, archive or cached name); null: the Clusterfile's spec.image.</summary>
    public string? Image { get; init; }

    public string? CacheDir { get; init; }

    /// <summary>The local image store a name is looked up in first, and a delta archive (--image DELTA.tar) is loaded into (default: SEALER_IMAGES_DIR, else ~/.sealer/images).</summary>
    public string? StoreDir { get; init; }

    /// <summary>Where local state lives (default ~/.sealer).</summary>
    public string? StateRoot { get; init; }

    public int Parallelism { get; init; } = 3;

    public bool Relay { get; init; } = true;

    /// <summary>The <c>sealer</c> executable to install on registry hosts (default: this process when it is the native sealer).</summary>
    public string? SealerBinary { get; init; }

    public IProgress<TransferProgress>? TransferProgress { get; init; }

    /// <summary>Every remote output line, prefixed with host and step.</summary>
    public Action<string>? Output { get; init; }

    /// <summary>One line per step as it starts and ends (hosts, duration, skipped hosts).</summary>
    public Action<string>? Status { get; init; }

    /// <summary>Each step on each host as it starts, ends, is skipped or fails (a cluster step on master0): what a live view shows.</summary>
    public IProgress<StepEvent>? Steps { get; init; }

    public ILogger Logger { get; init; } = NullLogger.Instance;

    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>In an upgrade, remove the apps the new image drops (helm uninstall, kubectl delete); default: leave them running.</summary>
    public bool PruneApps { get; init; }

    /// <summary>Launch the apps even when they name images the cluster image does not carry (the images step then warns, listing them).</summary>
    public bool AllowMissingImages { get; init; }

    /// <summary>With an externalRegistry: do not push the app images into it (they are there: <c>sealer mirror</c> was run from a machine that reaches it).</summary>
    public bool NoMirror { get; init; }

    /// <summary>After an upgrade or rollback, how many images the registry hosts keep serving and storing: the current one and the ones before it (default 2: the current and the previous one). Blobs only older images reach are removed.</summary>
    public int KeepImages { get; init; } = 2;

    /// <summary>Compute the upgrade plan (reading the hosts, changing nothing) and return it without running a step.</summary>
    public bool PlanOnly { get; init; }

    /// <summary>
    /// A PEM public key (cosign.pub): the cluster image must carry a cosign signature by it, checked before any host is
    /// contacted (overrides the Clusterfile's <c>spec.imageVerifyKey</c>). Null: the Clusterfile's, else no check.
    /// </summary>
    public string? VerifyKey { get; init; }

    /// <summary>Test hook for distribution.</summary>
    internal Action<string, Oci.Descriptor>? AfterBlob { get; init; }
}

public enum StepEventKind
{
    Started,
    Done,
    Skipped,
    Failed,
}

/// <summary>A step on a host: started, done, done before (skipped) or failed (<paramref name="Detail"/>: the error).</summary>
public sealed record StepEvent(string Step, string Host, StepEventKind Kind, string? Detail = null);

public sealed record RunResult(IReadOnlyList<string> StepsRun, IReadOnlyList<string> StepsSkipped, IReadOnlyList<HostTransfer> Transfers, IReadOnlyList<HostFacts> Facts)
{
    /// <summary>The upgrade (or rollback) plan this run carried out, or computed only (<see cref="RunOptions.PlanOnly"/>); null: no upgrade.</summary>
    public UpgradePlan? Plan { get; init; }

    /// <summary>The image the cluster runs now (from the state), and whether the run only planned.</summary>
    public string? Image { get; init; }

    /// <summary>What the registry garbage collection after an upgrade or rollback removed, per host (null: none ran).</summary>
    public IReadOnlyList<RegistryGcHost>? Collected { get; init; }
}

public sealed record CheckResult(IReadOnlyList<string> Ok, IReadOnlyList<PreflightProblem> Problems);
