using System.Text;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// Runs the steps of a flow in order and keeps the state: it loads the state (master0's copy wins over the local one),
/// skips what is done (per host or for the cluster), runs a step again when its fingerprint changed, records each step
/// after it succeeds and saves the state after every step (locally and on master0), so a failed run resumes where it
/// stopped. A host step failing on one host lets the other hosts finish that step; the failure is SEA4012 naming host,
/// step, command and output.
/// </summary>
internal sealed class StepRunner(InstallContext ctx)
{
    private readonly SemaphoreSlim _stateLock = new(1, 1);

    public InstallContext Context => ctx;

    /// <summary>Runs every step that applies to this run, in order.</summary>
    public async Task RunAsync(IReadOnlyList<InstallStep> steps, CancellationToken cancellationToken = default)
    {
        foreach (var step in steps)
        {
            if (step.AppliesTo(ctx)) await step.RunAsync(ctx, this, cancellationToken).ConfigureAwait(false);
        }
    }

    // ---------------------------------------------------------------- state

    /// <summary>The state on master0 (it wins: a run from another machine sees the truth of the cluster), else the local one, else a new one.</summary>
    public async Task<ClusterState> LoadStateAsync(InstallHost? master0, CancellationToken cancellationToken = default)
    {
        ClusterState? remote = null;
        if (master0 is not null)
        {
            var r = await master0.Ssh.RunAsync($"cat {SshHost.ShellQuote(ctx.ClusterDir + "/state.json")} 2>/dev/null || true", new CommandOptions { Description = "read the cluster state" }, cancellationToken).ConfigureAwait(false);
            remote = ClusterState.FromJson(Encoding.UTF8.GetBytes(r.Stdout), $"on {master0.Ip}");
        }
        var state = remote ?? ClusterState.LoadLocal(ctx.LocalStatePath) ?? new ClusterState { Cluster = ctx.Cluster.Name };
        if (state.Cluster.Length > 0 && state.Cluster != ctx.Cluster.Name)
        {
            throw new SealerException(ErrorCodes.BadClusterState, $"The state found belongs to cluster '{state.Cluster}', not '{ctx.Cluster.Name}'.");
        }
        return state;
    }

    public Task SaveStateAsync(CancellationToken cancellationToken = default) => SaveStateAsync(ctx.Master0, cancellationToken);

    /// <summary>Saves the state locally and (when given) on <paramref name="master0"/>, atomically on both.</summary>
    public async Task SaveStateAsync(InstallHost? master0, CancellationToken cancellationToken = default)
    {
        await _stateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ctx.State.SaveLocal(ctx.LocalStatePath);
            if (master0 is not null)
            {
                var json = ctx.State.ToJson();
                string dir = SshHost.ShellQuote(ctx.ClusterDir), tmp = SshHost.ShellQuote(ctx.ClusterDir + "/state.json.tmp"), final = SshHost.ShellQuote(ctx.ClusterDir + "/state.json");
                await master0.Ssh.RunWithInputAsync($"mkdir -p {dir} && cat > {tmp} && mv -f {tmp} {final}",
                    (s, c) => s.WriteAsync(json, c).AsTask(), new CommandOptions { Description = "save the cluster state" }, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _stateLock.Release();
        }
    }

    // ---------------------------------------------------------------- host steps

    /// <summary>A <see cref="HostStep"/> on <paramref name="hosts"/>: first every finished host whose fingerprint changed is marked to do it again.</summary>
    public async Task HostStepAsync(HostStep step, IReadOnlyList<InstallHost> hosts, CancellationToken cancellationToken = default, Func<InstallHost, Task>? runOn = null)
    {
        var fingerprints = new Dictionary<string, string>(StringComparer.Ordinal);
        // a step without a described fingerprint may still record one (RerunOnChange false: for a later flow to compare)
        if (step.Fingerprint is not null || !step.RerunOnChange)
        {
            foreach (var h in hosts)
            {
                if (step.FingerprintOf(ctx, h) is not { } fp) continue;
                fingerprints[h.Ip] = fp;
                if (!ctx.State.HostDone(h.Ip, step.Name) || !step.RerunOnChange) continue;
                var before = ctx.State.HostFingerprint(h.Ip, step.Name);
                if (before is null && !step.RerunWhenFingerprintUnknown) ctx.State.SetHostFingerprint(h.Ip, step.Name, fp);
                else if (before != fp) ctx.State.UnmarkHost(h.Ip, step.Name);
            }
        }
        await EachHostAsync(step.Name, hosts, async h =>
        {
            await (runOn is null ? step.RunOnAsync(ctx, h, cancellationToken) : runOn(h)).ConfigureAwait(false);
            if (fingerprints.TryGetValue(h.Ip, out var fp)) ctx.State.SetHostFingerprint(h.Ip, step.Name, fp);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a per-host step on every host that has not done it, in parallel; one host's failure does not stop the others' step.</summary>
    public async Task EachHostAsync(string step, IReadOnlyList<InstallHost> hosts, Func<InstallHost, Task> action, CancellationToken cancellationToken = default)
    {
        var todo = hosts.Where(h => !ctx.State.HostDone(h.Ip, step)).ToList();
        foreach (var h in hosts.Except(todo))
        {
            ctx.Skipped($"{h.Ip}:{step}");
            ctx.Step(step, h.Ip, StepEventKind.Skipped);
        }
        if (todo.Count == 0)
        {
            if (hosts.Count > 0) ctx.Status($"{step,-16} done before on {hosts.Count} host(s)");
            return;
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        ctx.Status($"{step,-16} {todo.Count} host(s): {string.Join(", ", todo.Select(h => h.Ip))}{(todo.Count < hosts.Count ? $" ({hosts.Count - todo.Count} done before)" : "")}");
        var failures = new List<SealerException>();
        var failed = new List<string>();
        await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(4, ctx.Options.Parallelism * 2), CancellationToken = cancellationToken }, async (h, c) =>
        {
            try
            {
                ctx.Step(step, h.Ip, StepEventKind.Started);
                await action(h).ConfigureAwait(false);
                ctx.State.MarkHost(h.Ip, h.Spec.Roles, step);
                ctx.Ran($"{h.Ip}:{step}");
                await SaveStateAsync(cancellationToken).ConfigureAwait(false);
                ctx.Step(step, h.Ip, StepEventKind.Done);
            }
            catch (SealerException ex)
            {
                ctx.Step(step, h.Ip, StepEventKind.Failed, ex.Message);
                lock (failures)
                {
                    failures.Add(ex.Code == ErrorCodes.RunStepFailed ? ex : StepFailure(step, ex, h.Ip));
                    failed.Add(h.Ip);
                }
            }
        }).ConfigureAwait(false);
        ctx.Status($"{step,-16} {(failures.Count == 0 ? "ok" : $"FAILED on {failures.Count} host(s)")} in {sw.Elapsed.TotalSeconds:0.0} s");
        if (failures.Count == 0) return;
        var failure = failures.Count == 1 ? failures[0]
            : new SealerException(ErrorCodes.RunStepFailed, $"Step '{step}' failed on {failures.Count} hosts:\n" + string.Join("\n", failures.Select(f => f.Message)) + "\nFix the cause and run again: finished steps are skipped.");
        ctx.RecordFailure(step, failed.Order(StringComparer.Ordinal), failure);
        throw failure;
    }

    // ---------------------------------------------------------------- cluster steps

    /// <summary>A <see cref="ClusterStep"/> on master0: run again when its fingerprint changed, recorded with its fingerprint.</summary>
    public async Task ClusterStepAsync(ClusterStep step, CancellationToken cancellationToken = default)
    {
        var master0 = ctx.Master0 ?? throw new InvalidOperationException("master0 is not connected");
        string? fp = step.Fingerprint is null ? null : step.FingerprintOf(ctx);
        if (fp is not null && ctx.State.ClusterDone(step.Name)
            && (ctx.State.ClusterFingerprint(step.Name) is { } before ? before != fp : step.RerunWhenFingerprintUnknown))
        {
            if (step.RerunNote is { } note) ctx.Status($"{step.Name,-16} {note}");
            ctx.State.UnmarkCluster(step.Name);
        }
        await ClusterStepAsync(step.Name, master0, async () =>
        {
            await step.RunOnceAsync(ctx, master0, cancellationToken).ConfigureAwait(false);
            if (fp is not null) ctx.State.SetClusterFingerprint(step.Name, fp);
        }, cancellationToken, always: step.Rerun == StepRerun.EveryRun).ConfigureAwait(false);
        // a state written before the step had a fingerprint (RerunWhenFingerprintUnknown false): what is there counts as made from these inputs
        if (fp is not null && ctx.State.ClusterFingerprint(step.Name) is null) ctx.State.SetClusterFingerprint(step.Name, fp);
    }

    /// <summary>Runs a cluster step on master0 unless it is done (<paramref name="always"/>: on every run), then records it.</summary>
    public async Task ClusterStepAsync(string step, InstallHost master0, Func<Task> action, CancellationToken cancellationToken = default, bool always = false)
    {
        if (!always && ctx.State.ClusterDone(step))
        {
            ctx.Skipped(step);
            ctx.Step(step, master0.Ip, StepEventKind.Skipped);
            ctx.Status($"{step,-16} done before");
            return;
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        ctx.Status($"{step,-16} on {master0.Ip}");
        ctx.Step(step, master0.Ip, StepEventKind.Started);
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (SealerException ex)
        {
            ctx.Step(step, master0.Ip, StepEventKind.Failed, ex.Message);
            if (ex.Code == ErrorCodes.RunStepFailed) throw;
            ctx.Status($"{step,-16} FAILED in {sw.Elapsed.TotalSeconds:0.0} s");
            var failure = StepFailure(step, ex, master0.Ip);
            ctx.RecordFailure(step, [master0.Ip], failure);
            throw failure;
        }
        ctx.Status($"{step,-16} ok in {sw.Elapsed.TotalSeconds:0.0} s");
        ctx.Step(step, master0.Ip, StepEventKind.Done);
        ctx.State.MarkCluster(step);
        ctx.Ran(step);
        await SaveStateAsync(master0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SEA4012: which step failed where, with the cause, and that a re-run resumes.</summary>
    public static SealerException StepFailure(string step, SealerException ex, string? host = null) =>
        new(ErrorCodes.RunStepFailed, $"Step '{step}'{(host is null ? "" : $" on {host}")} failed ({ex.Code}): {ex.Message}\nFix the cause and run again: finished steps are skipped.", inner: ex);
}
