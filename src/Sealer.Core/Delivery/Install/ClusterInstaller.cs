using Microsoft.Extensions.Logging;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Install.Steps;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

using Sealer.Core.Signing;

namespace Sealer.Core.Delivery.Install;

/// <summary>
/// Installs, extends, checks and removes a cluster described by a Clusterfile, in Sealer's order (docs in
/// /work/shared/sealer-compat.md). <see cref="RunAsync"/>: preflight on every host (nothing changes unless all pass),
/// then the steps of <see cref="InstallPipeline"/>, run by a <see cref="StepRunner"/> that records each one (locally and on
/// master0), so a re-run resumes; a failure names the host, the step, the command and its last output lines.
/// <see cref="CheckAsync"/> is <see cref="ClusterChecker"/>, <see cref="DeleteAsync"/> is <see cref="ClusterDeleter"/>.
/// </summary>
public sealed class ClusterInstaller
{
    private readonly InstallContext _ctx;

    /// <param name="doc">the Clusterfile</param>
    /// <param name="options">how to reach the hosts and report</param>
    /// <param name="clusterfileText">the Clusterfile to save on master0 (default: the file the document was read from)</param>
    public ClusterInstaller(ClusterfileDocument doc, RunOptions? options = null, string? clusterfileText = null)
    {
        _ctx = new InstallContext(doc, options ?? new RunOptions(), clusterfileText ?? (doc.File is not null && File.Exists(doc.File) ? File.ReadAllText(doc.File) : null));
    }

    /// <summary>
    /// <c>sealer run</c>: install, or reconcile (resume a partial run, join hosts added to the Clusterfile); on a cluster
    /// installed from another image, an upgrade (<see cref="UpgradePipeline"/>): the plan first (<see cref="RunResult.Plan"/>;
    /// with <see cref="RunOptions.PlanOnly"/> nothing else), then its steps.
    /// </summary>
    public Task<RunResult> RunAsync(CancellationToken cancellationToken = default) => RunCoreAsync(rollback: false, cancellationToken);

    /// <summary>
    /// <c>sealer rollback</c>: back to the image the cluster ran before the current one (its history in the state): the apps
    /// get that image's charts and values again; Kubernetes is never downgraded (the plan says what is not undone).
    /// </summary>
    public Task<RunResult> RollbackAsync(CancellationToken cancellationToken = default) => RunCoreAsync(rollback: true, cancellationToken);

    private async Task<RunResult> RunCoreAsync(bool rollback, CancellationToken cancellationToken)
    {
        try
        {
            var result = await RunStepsAsync(rollback, cancellationToken).ConfigureAwait(false);
            if (!_ctx.Options.PlanOnly) RunRecord.ClearFailure(_ctx.LocalStatePath);
            return result;
        }
        catch (SealerException ex) when (ex.Code != ErrorCodes.Cancelled)
        {
            // a failure before any step (connecting, preflight, the plan): what the step runner did not record
            _ctx.RecordFailure(null, [], ex);
            throw;
        }
    }

    private async Task<RunResult> RunStepsAsync(bool rollback, CancellationToken cancellationToken)
    {
        var ctx = _ctx;
        var cluster = ctx.Cluster;
        string reference = ctx.Options.Image ?? cluster.Image;
        // a delta archive is loaded into the image store once the state says which image the cluster runs (DeltaRun)
        var delta = rollback ? null : await DeltaRun.ReadAsync(reference, cancellationToken).ConfigureAwait(false);
        var image = rollback || delta is not null ? null : ClusterImageSource.Open(reference, ctx.Options.CacheDir, ctx.Options.StoreDir);
        if (image is not null) VerifyImage(image);
        var knownHosts = KnownHosts.Load(ctx.Options.Ssh.KnownHostsPath);
        var (hosts, problems) = await InstallHost.ConnectAllAsync(cluster.Hosts, knownHosts, ctx.Options.Ssh, cancellationToken).ConfigureAwait(false);
        var runner = new StepRunner(ctx);
        try
        {
            var master0 = hosts.FirstOrDefault(n => n.Ip == cluster.Masters.First().Ip);
            ctx.Master0 = master0;
            ctx.State = await runner.LoadStateAsync(master0, cancellationToken).ConfigureAwait(false);
            RefuseJoinDuringUpgrade(ctx.State.Upgrade, rollback);
            if (delta is not null)
            {
                var store = Artifacts.ClusterImageStore.Open(ctx.Options.StoreDir ?? ClusterImageSource.DefaultStoreDirectory);
                reference = await DeltaRun.LoadAsync(reference, delta, store, ctx.State, cluster.Name, hosts.Select(h => h.Ssh).ToList(), ctx.Store, ctx.Status, cancellationToken).ConfigureAwait(false);
                image = ClusterImageSource.Open(reference, ctx.Options.CacheDir, store.Root);
                VerifyImage(image); // the image the delta completes: checked before any step changes a host
            }
            if (image is null) (image, reference) = OpenPrevious(ctx.State);

            // An installed host that cannot be reached does not block work on the others (adding nodes, resuming):
            // it is left out with a warning when it finished every step. master0 and unfinished hosts are always needed.
            if (master0 is not null)
            {
                problems.RemoveAll(p =>
                {
                    if (p.Host == master0.Ip || !ctx.State.HostDone(p.Host, PluginsStep.PostInstall)) return false;
                    ctx.Options.Logger.LogWarning("{Host} is installed but cannot be reached ({Problem}); continuing without it", p.Host, p.Message);
                    ctx.Skipped($"{p.Host}:unreachable");
                    return true;
                });
            }

            var facts = await PreflightAsync(image, hosts, problems, cancellationToken).ConfigureAwait(false);
            var m0 = hosts.First(n => n.Ip == cluster.Masters.First().Ip);
            ctx.Image = image;
            ctx.Hosts = hosts;
            ctx.Extension = image.Extension(m0.Platform);
            ctx.Kube = ctx.Extension.ImageType == "kube-installer" && m0.Platform.ClusterRuntime == "kubernetes";
            ValidateLaunch(image, m0.Platform);
            var record = ImageRecords.Of(image, hosts.Select(n => n.Platform).Distinct(), m0.Platform, ctx.Doc, reference);
            bool upgrading = await PlanUpgradeAsync(record, rollback, cancellationToken).ConfigureAwait(false);
            if (ctx.Options.PlanOnly) return ctx.Result(facts);
            if (upgrading)
            {
                await runner.RunAsync(UpgradePipeline.Run, cancellationToken).ConfigureAwait(false);
                FinishUpgrade(image);
            }
            else
            {
                ctx.State.Cluster = cluster.Name;
                ctx.State.Image = image.Reference;
                foreach (var p in hosts.Select(n => n.Platform).Distinct()) ctx.State.ManifestDigests[p.Platform.ToString()] = p.ManifestDescriptor.Digest;
                await runner.RunAsync(InstallPipeline.Run, cancellationToken).ConfigureAwait(false);
                Record(record);
            }
            await runner.SaveStateAsync(cancellationToken).ConfigureAwait(false);
            if (upgrading) await CollectAfterUpgradeAsync(cancellationToken).ConfigureAwait(false);
            return ctx.Result(facts);
        }
        finally
        {
            foreach (var n in hosts) n.Ssh.Dispose();
        }
    }

    /// <summary>
    /// After a finished upgrade or rollback (state saved, no upgrade in progress): blobs only images older than
    /// --keep-images reached are removed (<see cref="RegistryGc"/>). A failure here leaves the cluster as it is, upgraded:
    /// a warning says to run 'sealer registry gc'.
    /// </summary>
    private async Task CollectAfterUpgradeAsync(CancellationToken cancellationToken)
    {
        var ctx = _ctx;
        try
        {
            var removed = await RegistryGc.RunAsync(ctx, ctx.Hosts, Math.Max(1, ctx.Options.KeepImages), dryRun: false, cancellationToken).ConfigureAwait(false);
            ctx.Collected = removed;
            ctx.Status($"{"registry-gc",-16} kept {ctx.Options.KeepImages} image(s); removed {removed.Sum(r => r.RegistryBlobs.Count + r.StoreBlobs.Count)} blob(s), {Bytes.Format(removed.Sum(r => r.BytesFreed))} freed on {removed.Count(r => r.BytesFreed > 0)} host(s)");
        }
        catch (SealerException ex)
        {
            ctx.Options.Logger.LogWarning("The registry garbage collection after the upgrade failed ({Code}: {Message}); the cluster is upgraded. Run 'sealer registry gc' to collect again", ex.Code, ex.Message);
        }
    }

    /// <summary>
    /// <c>sealer registry gc</c>: the garbage collection of every host's registry and content store by hand
    /// (<paramref name="dryRun"/>: what would go, nothing removed). Refused while an upgrade is unfinished.
    /// </summary>
    public async Task<IReadOnlyList<RegistryGcHost>> RegistryGcAsync(int keepImages, bool dryRun, CancellationToken cancellationToken = default)
    {
        var ctx = _ctx;
        var knownHosts = KnownHosts.Load(ctx.Options.Ssh.KnownHostsPath);
        var (hosts, problems) = await InstallHost.ConnectAllAsync(ctx.Cluster.Hosts, knownHosts, ctx.Options.Ssh, cancellationToken).ConfigureAwait(false);
        try
        {
            if (problems.Count > 0) throw Preflight.Failure(problems);
            ctx.Master0 = hosts.First(n => n.Ip == ctx.Cluster.Masters.First().Ip);
            ctx.Hosts = hosts;
            ctx.State = await new StepRunner(ctx).LoadStateAsync(ctx.Master0, cancellationToken).ConfigureAwait(false);
            return await RegistryGc.RunAsync(ctx, hosts, keepImages, dryRun, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var n in hosts) n.Ssh.Dispose();
        }
    }

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> name another manifest for a platform both have.</summary>
    private static bool Differs(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        b.Any(kv => a.TryGetValue(kv.Key, out var v) && v != kv.Value);

    /// <summary>rollback: the image before the current one in the state's history, opened again.</summary>
    private (ClusterImageSource Image, string Reference) OpenPrevious(ClusterState state)
    {
        var history = state.History ?? [];
        if (state.Upgrade is { } unfinished) return (OpenRecorded(unfinished.From), unfinished.From.Image);
        if (history.Count < 2)
        {
            throw new SealerException(ErrorCodes.NothingToRollBack,
                $"The cluster '{state.Cluster}' has no earlier image to roll back to (its history: {(history.Count == 0 ? "not recorded" : history[0].Image)}). 'sealer rollback' goes back after an upgrade; run 'sealer run --image OLD' to install another image.");
        }
        var previous = history[^2];
        return (OpenRecorded(previous), previous.Image);
    }

    /// <summary>With a verify key (<see cref="RunOptions.VerifyKey"/>, else <c>spec.imageVerifyKey</c>), the image must carry its signature: checked before any host is contacted.</summary>
    private void VerifyImage(ClusterImageSource image)
    {
        string? keyFile = _ctx.Options.VerifyKey;
        if (keyFile is null && _ctx.Cluster.ImageVerifyKey is { } fromClusterfile)
        {
            keyFile = Path.IsPathRooted(fromClusterfile) || _ctx.Doc.File is null ? fromClusterfile : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_ctx.Doc.File))!, fromClusterfile);
        }
        if (keyFile is null) return;
        using var key = SigningKeys.LoadPublicKey(keyFile);
        var verified = image.VerifySignature(key, keyFile);
        _ctx.Options.Logger.LogInformation("{Image} ({Digest}) is signed by {Key} as {Identity}", image.Reference, verified.ImageDigest, keyFile, verified.DockerReference);
    }

    private ClusterImageSource OpenRecorded(ImageRecord r)
    {
        try
        {
            var image = ClusterImageSource.Open(r.Image, _ctx.Options.CacheDir, _ctx.Options.StoreDir);
            if (image.Platforms.Any(p => r.ManifestDigests.TryGetValue(p.Platform.ToString(), out var d) && d != p.ManifestDescriptor.Digest))
            {
                throw new SealerException(ErrorCodes.NothingToRollBack, $"'{r.Image}' is no longer the image the cluster ran ({string.Join(", ", r.ManifestDigests.Values)}): it was rebuilt or replaced. Load that image again, then roll back.");
            }
            return image;
        }
        catch (SealerException ex) when (ex.Code != ErrorCodes.NothingToRollBack)
        {
            throw new SealerException(ErrorCodes.NothingToRollBack, $"The previous image '{r.Image}' cannot be opened ({ex.Code}: {ex.Message}). Put it back where it was (or in the image cache), then roll back.", inner: ex);
        }
    }

    /// <summary>
    /// On an installed cluster whose recorded image differs from this one (or whose upgrade is unfinished): the plan, from
    /// the recorded image to this one, with the bytes each host lacks (read, nothing changed); Kubernetes' skew checked.
    /// Unless only planning, the upgrade is recorded as started and the once-steps that read the image unmarked.
    /// </summary>
    private async Task<bool> PlanUpgradeAsync(ImageRecord record, bool rollback, CancellationToken cancellationToken)
    {
        var ctx = _ctx;
        var state = ctx.State;
        UpgradeRecord? start = null;
        UpgradeRecord? current = null;
        if (state.Upgrade is { } unfinished)
        {
            if (!Differs(unfinished.To.ManifestDigests, record.ManifestDigests)) current = unfinished; // resume
            else if (!Differs(unfinished.From.ManifestDigests, record.ManifestDigests))
            {
                start = new UpgradeRecord { From = unfinished.To, To = record, Rollback = true, PruneApps = ctx.Options.PruneApps }; // back from an unfinished upgrade
            }
            else
            {
                throw new SealerException(ErrorCodes.UpgradeInProgress,
                    $"The cluster '{ctx.Cluster.Name}' is being upgraded from {unfinished.From.Image} to {unfinished.To.Image} (started {unfinished.Started}), not to {record.Image}. Finish it (sealer run --image {unfinished.To.Image}) or go back (sealer rollback), then upgrade.");
            }
        }
        else if (state.Hosts.Count > 0 && Differs(state.ManifestDigests, record.ManifestDigests))
        {
            var from = state.Current is { } c && !Differs(c.ManifestDigests, state.ManifestDigests) ? c : OldRecord(state);
            bool back = rollback || (state.History ?? []).SkipLast(1).Any(h => !Differs(h.ManifestDigests, record.ManifestDigests) && h.ManifestDigests.Count > 0);
            start = new UpgradeRecord { From = from ?? new ImageRecord { Image = state.Image, ManifestDigests = new(state.ManifestDigests, StringComparer.Ordinal), Apps = [] }, To = record, Rollback = back, PruneApps = ctx.Options.PruneApps };
            start.FromUnknown = from is null;
        }
        var up = current ?? start;
        if (up is null) return false;
        RefuseJoinDuringUpgrade(up, rollback);

        // the bytes each host lacks: the distribute step's inventory, read only
        var distributor = DistributeStep.NewDistributor(ctx);
        var bytes = await Task.WhenAll(ctx.Hosts.Select(async n =>
        {
            var (b, count) = await distributor.MissingAsync(n.Ssh, DistributeStep.LayersOf(ctx, n), cancellationToken).ConfigureAwait(false);
            return new HostBytes(n.Ip, b, count);
        })).ConfigureAwait(false);
        var plan = UpgradePlanner.Plan(up.FromUnknown ? null : up.From, up.To, up.PruneApps || ctx.Options.PruneApps, up.Rollback, bytes);
        var scripts = UpgradePipeline.Scripts
            .SelectMany(step => ctx.Hosts.Where(n => step.WillRun(ctx, n)).Select(n => (step.Name, Script: step.ScriptOf(ctx, n), n.Ip)))
            .GroupBy(x => (x.Name, x.Script)).Select(g => new ScriptRun(g.Key.Name, g.Key.Script, g.Select(x => x.Ip).ToList())).ToList();
        plan = plan with { Scripts = scripts };
        ctx.Upgrade = plan;
        ctx.Status(plan.ToText().TrimEnd('\n'));
        if (ctx.Options.PlanOnly) return true;

        if (start is not null)
        {
            start.KubeTo = plan.Kubernetes.Kind is KubeChangeKind.Patch or KubeChangeKind.Minor ? record.KubeVersion : null;
            start.Started = DateTimeOffset.UtcNow.ToString("O");
            state.Upgrade = start;
            foreach (var (ip, h) in state.Hosts)
            {
                foreach (var step in h.Steps.Where(s => UpgradePipeline.Redo.Contains(s) || s.StartsWith(RegistryStep.StepName + "+", StringComparison.Ordinal)).ToList()) state.UnmarkHost(ip, step);
            }
            foreach (var step in UpgradePipeline.RedoCluster) state.UnmarkCluster(step);
            await new StepRunner(ctx).SaveStateAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (ctx.Options.PruneApps)
        {
            up.PruneApps = true;
        }
        return true;
    }

    /// <summary>
    /// SEA4024: hosts the state does not know (sealer join, hosts added to the Clusterfile) while an upgrade is unfinished
    /// or about to start: the upgrade's steps do not install hosts, and a host joined half-way would get a mix of both
    /// images. Checked before anything changes.
    /// </summary>
    private void RefuseJoinDuringUpgrade(UpgradeRecord? upgrade, bool rollback)
    {
        var ctx = _ctx;
        if (upgrade is null || ctx.State.Hosts.Count == 0) return;
        var fresh = ctx.Cluster.Hosts.Where(h => !ctx.State.Hosts.ContainsKey(h.Ip)).ToList();
        if (fresh.Count == 0) return;
        var loc = fresh[0].Location;
        string what = upgrade.Started.Length > 0
            ? $"an {(upgrade.Rollback ? "unfinished rollback" : "unfinished upgrade")} from {upgrade.From.Image} to {upgrade.To.Image} (started {upgrade.Started})"
            : $"{(rollback || upgrade.Rollback ? "a rollback" : "an upgrade")} from {upgrade.From.Image} to {upgrade.To.Image}";
        throw new SealerException(ErrorCodes.JoinDuringUpgrade,
            $"Cannot join {string.Join(", ", fresh)} to cluster '{ctx.Cluster.Name}' during {what}: its hosts would get a mix of both images. " +
            $"Finish it first (run 'sealer run --image {upgrade.To.Image}' with the Clusterfile without the new hosts) or roll back ('sealer rollback'), then join. Nothing was changed.",
            loc.File, loc.Line, loc.Column);
    }

    /// <summary>The record of the installed image when the state predates image history: the image opened again, when it still can be.</summary>
    private ImageRecord? OldRecord(ClusterState state)
    {
        try
        {
            var old = ClusterImageSource.Open(state.Image, _ctx.Options.CacheDir, _ctx.Options.StoreDir);
            var platforms = old.Platforms.Where(p => state.ManifestDigests.TryGetValue(p.Platform.ToString(), out var d) && d == p.ManifestDescriptor.Digest).ToList();
            if (platforms.Count == 0) return null;
            return ImageRecords.Of(old, platforms, platforms[0], _ctx.Doc, state.Image);
        }
        catch (SealerException)
        {
            return null; // not on this machine: the plan says the previous launch is not recorded
        }
    }

    /// <summary>After the upgrade's steps: the new image is the cluster's; the history gets it (apps left running are kept in it).</summary>
    private void FinishUpgrade(ClusterImageSource image)
    {
        var ctx = _ctx;
        var state = ctx.State;
        var up = state.Upgrade!;
        var to = up.To;
        var plan = ctx.Upgrade!;
        var before = up.From.Apps.Concat(up.From.Kept ?? []).ToDictionary(a => a.Name, StringComparer.Ordinal);
        foreach (var a in to.Apps)
        {
            if (plan.Apps.Any(c => c.Name == a.Name && c.Change == "unchanged") && before.TryGetValue(a.Name, out var o)) a.From = o.From ?? up.From.Image;
        }
        var kept = plan.Apps.Where(c => c.Change == "keep" && before.ContainsKey(c.Name)).Select(c => before[c.Name]).ToList();
        to.Kept = kept.Count > 0 ? kept : null;
        to.At = DateTimeOffset.UtcNow.ToString("O");
        if (plan.Kubernetes.Kind == KubeChangeKind.Kept) to.KubeVersion = up.From.KubeVersion; // the version the cluster runs, not the image's
        state.History ??= [];
        if (state.History.Count == 0 && up.From.ManifestDigests.Count > 0) state.History.Add(up.From);
        state.History.Add(to);
        state.Image = image.Reference;
        state.ManifestDigests = new Dictionary<string, string>(to.ManifestDigests, StringComparer.Ordinal);
        state.Upgrade = null;
        ctx.Status($"{(up.Rollback ? "rollback" : "upgrade"),-16} done: {up.From.Image} -> {to.Image}");
    }

    /// <summary>After an install or a re-run: the image is the history's current one (a Clusterfile change re-recorded in place).</summary>
    private void Record(ImageRecord record)
    {
        var state = _ctx.State;
        state.History ??= [];
        if (state.Current is { } c && !Differs(c.ManifestDigests, record.ManifestDigests))
        {
            foreach (var a in record.Apps)
            {
                var o = c.Apps.FirstOrDefault(x => x.Name == a.Name);
                if (o is not null && UpgradePlanner.Differences(o, a).Count == 0) a.From = o.From;
            }
            record.Kept = c.Kept;
            record.At = c.At;
            state.History[^1] = record;
        }
        else state.History.Add(record);
    }

    /// <summary><c>sealer check</c>: see <see cref="ClusterChecker"/>.</summary>
    public Task<CheckResult> CheckAsync(CancellationToken cancellationToken = default) => new ClusterChecker(_ctx).CheckAsync(cancellationToken);

    /// <summary><c>sealer check --airgap</c>: see <see cref="ClusterChecker.CheckAirgapAsync"/>.</summary>
    public Task<CheckResult> CheckAirgapAsync(CancellationToken cancellationToken = default) => new ClusterChecker(_ctx).CheckAirgapAsync(cancellationToken);

    /// <summary><c>sealer delete</c> of <paramref name="hostIps"/> (all when null): see <see cref="ClusterDeleter"/>.</summary>
    public Task<IReadOnlyList<string>> DeleteAsync(IReadOnlyList<string>? hostIps = null, CancellationToken cancellationToken = default) =>
        new ClusterDeleter(_ctx).DeleteAsync(hostIps, cancellationToken);

    /// <summary>
    /// The preflight of <see cref="RunAsync"/> alone (<c>sealer run --preflight-only</c>, the guided run): every host
    /// connected at once and checked, nothing changed; the report says what passed and each problem with what to do.
    /// </summary>
    public async Task<PreflightReport> PreflightAsync(CancellationToken cancellationToken = default)
    {
        var ctx = _ctx;
        var cluster = ctx.Cluster;
        var image = ClusterImageSource.Open(ctx.Options.Image ?? cluster.Image, ctx.Options.CacheDir, ctx.Options.StoreDir);
        var knownHosts = KnownHosts.Load(ctx.Options.Ssh.KnownHostsPath);
        var (hosts, problems) = await InstallHost.ConnectAllAsync(cluster.Hosts, knownHosts, ctx.Options.Ssh, cancellationToken).ConfigureAwait(false);
        try
        {
            var master0 = hosts.FirstOrDefault(n => n.Ip == cluster.Masters.First().Ip);
            ctx.Master0 = master0;
            ctx.State = await new StepRunner(ctx).LoadStateAsync(master0, cancellationToken).ConfigureAwait(false);
            var (facts, needs) = await CheckHostsAsync(image, hosts, problems, cancellationToken).ConfigureAwait(false);
            return new PreflightReport(cluster.Hosts.Select(h => h.Ip).ToList(), facts, needs, problems,
                image.Platforms.Select(p => p.Platform.Os + "/" + p.Platform.Architecture).Distinct().ToList(), cluster.DataRoot);
        }
        finally
        {
            foreach (var n in hosts) n.Ssh.Dispose();
        }
    }

    /// <summary>Preflight: everything checked, nothing changed; then each host's platform image, hostname and env.</summary>
    private async Task<IReadOnlyList<HostFacts>> PreflightAsync(ClusterImageSource image, List<InstallHost> hosts, List<PreflightProblem> problems, CancellationToken cancellationToken)
    {
        var ctx = _ctx;
        var cluster = ctx.Cluster;
        var (facts, _) = await CheckHostsAsync(image, hosts, problems, cancellationToken).ConfigureAwait(false);
        if (problems.Count > 0) throw Preflight.Failure(problems);
        var registryHosts = ctx.RegistryIps;
        foreach (var n in hosts)
        {
            var f = facts.First(x => x.Host == n.Ip);
            n.Hostname = f.Hostname.ToLowerInvariant();
            n.Platform = image.ForPlatform(f.Os, f.Architecture)!;
            n.Env = DeliveryEnv.For(cluster, n.Spec, n.Platform.Env, ctx.CriOf(n), registryHosts);
        }
        return facts;
    }

    /// <summary>Every check on every connected host; the problems are added to <paramref name="problems"/>.</summary>
    private async Task<(IReadOnlyList<HostFacts> Facts, IReadOnlyDictionary<string, HostRequirements> Needs)> CheckHostsAsync(ClusterImageSource image, List<InstallHost> hosts, List<PreflightProblem> problems, CancellationToken cancellationToken)
    {
        var ctx = _ctx;
        var cluster = ctx.Cluster;
        ctx.Status($"{"preflight",-16} {hosts.Count} host(s) connected{(problems.Count > 0 ? $", {problems.Count} could not be" : "")}");
        var platforms = image.Platforms.Select(p => (p.Platform.Os, p.Platform.Architecture)).ToList();
        var registryHosts = ctx.RegistryIps;
        // what a host will hold, twice (blob store + unpacked rootfs): a registry host the app image content of every
        // platform (it serves nodes of each) and the largest rest; any other host only the largest rest. The app image
        // blobs the built-in registry serves from the store (links: UnpackStep.AppendImageBlobs) count once.
        long rest = image.Platforms.Max(p => p.LayersFor(registryHost: false).Sum(l => l.Size));
        bool linked = RegistryStep.SealerBinary(ctx) is not null;
        var content = image.Platforms.SelectMany(p => p.Layers.Where(ClusterImagePlatform.IsRegistryContent)).ToList();
        long contentOnce = content.Where(l => linked && ClusterImageFormat.ImageBlobOf(l) is not null).Sum(l => l.Size);
        long contentTwice = content.Sum(l => l.Size) - contentOnce;
        var checks = hosts.Select(n =>
        {
            bool fresh = !ctx.State.Hosts.ContainsKey(n.Ip);
            var ports = new List<int>();
            if (fresh && registryHosts.Contains(n.Ip)) ports.Add(cluster.Registry.Local.Port);
            if (fresh && n.Spec.IsMaster && image.Platforms[0].ClusterRuntime == "kubernetes" && image.Extension(image.Platforms[0]).ImageType == "kube-installer") ports.Add(6443);
            bool registry = registryHosts.Contains(n.Ip);
            long disk = ctx.State.HostDone(n.Ip, UnpackStep.StepName) ? 0 : (rest + (registry ? contentTwice : 0)) * 2 + (registry ? contentOnce : 0) + (64L << 20);
            return (n.Spec, n.Ssh, new HostRequirements(ports, disk));
        }).ToList();
        var (facts, preflightProblems) = await Preflight.CheckAsync(checks, platforms, cluster.DataRoot, cancellationToken).ConfigureAwait(false);
        problems.AddRange(preflightProblems);
        return (facts, checks.ToDictionary(c => c.Spec.Ip, c => c.Item3, StringComparer.Ordinal));
    }

    /// <summary>Before anything changes: every app to launch exists in the image; configs of apps not launched are reported.</summary>
    private void ValidateLaunch(ClusterImageSource image, ClusterImagePlatform platform)
    {
        var ctx = _ctx;
        var ext = image.Extension(platform);
        var plan = ctx.LaunchPlan = LaunchPlanner.Plan(ctx.Doc, ext);
        var unknown = LaunchPlanner.NotInExtension(plan, ext);
        if (unknown.Count > 0)
        {
            // images without an applications list: look for the app's directory in the rootfs
            var dirs = image.ReadFileEntries(platform, p => unknown.Any(a => p.StartsWith($"application/apps/{a}/", StringComparison.Ordinal)))
                .Keys.Select(LaunchPlanner.AppOf).OfType<string>().ToHashSet(StringComparer.Ordinal);
            unknown.RemoveAll(dirs.Contains);
        }
        var appDoc = ctx.Doc.Applications.LastOrDefault();
        if (unknown.Count > 0)
        {
            var loc = plan.Source == "spec.appNames" || appDoc is null ? ctx.Cluster.Location : appDoc.LaunchAppsLocation;
            var known = ext.Apps.Select(a => a.Name).Concat(ext.LaunchApps).ToHashSet(StringComparer.Ordinal);
            known.UnionWith(image.ReadFileEntries(platform, p => p.StartsWith("application/apps/", StringComparison.Ordinal)).Keys.Select(LaunchPlanner.AppOf).OfType<string>());
            throw new SealerException(ErrorCodes.AppNotInImage,
                $"{plan.Source} names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which the cluster image {image.Reference} does not have (its apps: {(known.Count == 0 ? "none" : string.Join(", ", known.Order(StringComparer.Ordinal)))}). Fix the name, or build the image with that app.",
                loc.File, loc.Line, loc.Column);
        }
        foreach (var c in appDoc?.Configs ?? [])
        {
            if (!plan.Apps.Contains(c.Name))
            {
                ctx.Options.Logger.LogWarning("{Location}: app '{App}' is configured but not launched ({Source} launches {Apps}); its config is ignored, as in Sealer", c.Location, c.Name, plan.Source, plan.Cmds is null ? string.Join(", ", plan.Apps) : "commands");
            }
        }
    }
}
