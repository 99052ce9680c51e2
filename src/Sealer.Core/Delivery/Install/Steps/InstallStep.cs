using Sealer.Core.Delivery.Ssh;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>Where a step runs: on each host (recorded per host in the state) or once for the cluster (on master0).</summary>
public enum StepScope
{
    Host,
    Cluster,
}

/// <summary>When a finished step runs again.</summary>
public enum StepRerun
{
    /// <summary>Never: a re-run skips it (a host new to the Clusterfile still gets it).</summary>
    Once,

    /// <summary>When its fingerprint (a hash of what it reads) differs from the one recorded when it last ran.</summary>
    WhenChanged,

    /// <summary>On every run (it checks what is there and changes only what differs).</summary>
    EveryRun,
}

/// <summary>A step as <c>sealer run --plan</c> prints it.</summary>
public sealed record StepInfo(string Name, StepScope Scope, StepRerun Rerun, string Does, string Reads, string? Fingerprint, string? When);

/// <summary>
/// One named step of a flow (<see cref="InstallPipeline"/>). Steps hold no state: they read and write the
/// <see cref="InstallContext"/>; the <see cref="StepRunner"/> decides which hosts still need them, records them and
/// reports failures. Derive from <see cref="HostStep"/> or <see cref="ClusterStep"/>; derive from this class directly only
/// for steps that batch hosts (distribute), run per platform (registry+os/arch) or are not recorded (certificates, lvscare).
/// </summary>
internal abstract class InstallStep
{
    /// <summary>The name recorded in the state and printed in status lines and errors.</summary>
    public abstract string Name { get; }

    public abstract StepScope Scope { get; }

    public virtual StepRerun Rerun => Fingerprint is null ? StepRerun.Once : StepRerun.WhenChanged;

    /// <summary>What it does, in one line.</summary>
    public abstract string Does { get; }

    /// <summary>What it reads (Clusterfile fields, image files, state).</summary>
    public abstract string Reads { get; }

    /// <summary>What its fingerprint covers (null: none, the step runs once).</summary>
    public virtual string? Fingerprint => null;

    /// <summary>When it applies (null: always).</summary>
    public virtual string? When => null;

    /// <summary>
    /// Whether a finished step whose state has no fingerprint (a state written before the step had one) runs again;
    /// false: what is there counts as made from the current inputs, and their fingerprint is recorded.
    /// </summary>
    public virtual bool RerunWhenFingerprintUnknown => true;

    public StepInfo Info => new(Name, Scope, Rerun, Does, Reads, Fingerprint, When);

    /// <summary>Whether the step applies to this run (<see cref="When"/>); a step that does not apply is not mentioned.</summary>
    public virtual bool AppliesTo(InstallContext ctx) => true;

    public abstract Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken);

    protected static string Q(string s) => SshHost.ShellQuote(s);
}

/// <summary>A step on each host (in parallel), recorded per host: a re-run does it only on the hosts that have not.</summary>
internal abstract class HostStep : InstallStep
{
    public override StepScope Scope => StepScope.Host;

    /// <summary>The hosts the step runs on (default: every host).</summary>
    public virtual IReadOnlyList<InstallHost> HostsOf(InstallContext ctx) => ctx.Hosts;

    /// <summary>Whether a finished host whose fingerprint changed does the step again (false: the fingerprint is only recorded, for a later flow to compare).</summary>
    public virtual bool RerunOnChange => true;

    /// <summary>The hash of what the step reads on this host (null when it has no <see cref="InstallStep.Fingerprint"/>).</summary>
    public virtual string? FingerprintOf(InstallContext ctx, InstallHost host) => null;

    public abstract Task RunOnAsync(InstallContext ctx, InstallHost host, CancellationToken cancellationToken);

    public override Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken) => runner.HostStepAsync(this, HostsOf(ctx), cancellationToken);
}

/// <summary>A step once for the cluster, on master0, recorded in the cluster steps.</summary>
internal abstract class ClusterStep : InstallStep
{
    public override StepScope Scope => StepScope.Cluster;

    /// <summary>The hash of what the step reads (null when it has no <see cref="InstallStep.Fingerprint"/>).</summary>
    public virtual string? FingerprintOf(InstallContext ctx) => null;

    /// <summary>A status line when the step runs again because its fingerprint changed (null: none).</summary>
    public virtual string? RerunNote => null;

    public abstract Task RunOnceAsync(InstallContext ctx, InstallHost master0, CancellationToken cancellationToken);

    public override Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken) => runner.ClusterStepAsync(this, cancellationToken);
}
