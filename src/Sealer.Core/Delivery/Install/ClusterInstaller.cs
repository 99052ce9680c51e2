using Microsoft.Extensions.Logging;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Install.Steps;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

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

    /// <summary><c>sealer run</c>: install, or reconcile (resume a partial run, join hosts added to the Clusterfile).</summary>
    public async Task<RunResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var ctx = _ctx;
        var cluster = ctx.Cluster;
        var image = ClusterImageSource.Open(ctx.Options.Image ?? cluster.Image, ctx.Options.CacheDir);
        var knownHosts = KnownHosts.Load(ctx.Options.Ssh.KnownHostsPath);
        var (hosts, problems) = await InstallHost.ConnectAllAsync(cluster.Hosts, knownHosts, ctx.Options.Ssh, cancellationToken).ConfigureAwait(false);
        var runner = new StepRunner(ctx);
        try
        {
            var master0 = hosts.FirstOrDefault(n => n.Ip == cluster.Masters.First().Ip);
            ctx.Master0 = master0;
            ctx.State = await runner.LoadStateAsync(master0, cancellationToken).ConfigureAwait(false);

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
            ctx.State.Cluster = cluster.Name;
            ctx.State.Image = image.Reference;
            foreach (var p in hosts.Select(n => n.Platform).Distinct()) ctx.State.ManifestDigests[p.Platform.ToString()] = p.ManifestDescriptor.Digest;

            await runner.RunAsync(InstallPipeline.Run, cancellationToken).ConfigureAwait(false);
            return ctx.Result(facts);
        }
        finally
        {
            foreach (var n in hosts) n.Ssh.Dispose();
        }
    }

    /// <summary><c>sealer check</c>: see <see cref="ClusterChecker"/>.</summary>
    public Task<CheckResult> CheckAsync(CancellationToken cancellationToken = default) => new ClusterChecker(_ctx).CheckAsync(cancellationToken);

    /// <summary><c>sealer delete</c> of <paramref name="hostIps"/> (all when null): see <see cref="ClusterDeleter"/>.</summary>
    public Task<IReadOnlyList<string>> DeleteAsync(IReadOnlyList<string>? hostIps = null, CancellationToken cancellationToken = default) =>
        new ClusterDeleter(_ctx).DeleteAsync(hostIps, cancellationToken);

    /// <summary>Preflight: everything checked, nothing changed; then each host's platform image, hostname and env.</summary>
    private async Task<IReadOnlyList<HostFacts>> PreflightAsync(ClusterImageSource image, List<InstallHost> hosts, List<PreflightProblem> problems, CancellationToken cancellationToken)
    {
        var ctx = _ctx;
        var cluster = ctx.Cluster;
        ctx.Status($"{"preflight",-16} {hosts.Count} host(s) connected{(problems.Count > 0 ? $", {problems.Count} could not be" : "")}");
        var platforms = image.Platforms.Select(p => (p.Platform.Os, p.Platform.Architecture)).ToList();
        var registryHosts = ctx.RegistryIps;
        // what a host will hold, twice (blob store + unpacked rootfs): a registry host the app image content of every
        // platform (it serves nodes of each) and the largest rest; any other host only the largest rest
        long rest = image.Platforms.Max(p => p.LayersFor(registryHost: false).Sum(l => l.Size));
        long content = image.Platforms.Sum(p => p.Layers.Where(ClusterImagePlatform.IsRegistryContent).Sum(l => l.Size));
        var checks = hosts.Select(n =>
        {
            bool fresh = !ctx.State.Hosts.ContainsKey(n.Ip);
            var ports = new List<int>();
            if (fresh && registryHosts.Contains(n.Ip)) ports.Add(cluster.Registry.Local.Port);
            if (fresh && n.Spec.IsMaster && image.Platforms[0].ClusterRuntime == "kubernetes" && image.Extension(image.Platforms[0]).ImageType == "kube-installer") ports.Add(6443);
            long disk = ctx.State.HostDone(n.Ip, UnpackStep.StepName) ? 0 : (rest + (registryHosts.Contains(n.Ip) ? content : 0)) * 2 + (64L << 20);
            return (n.Spec, n.Ssh, new HostRequirements(ports, disk));
        }).ToList();
        var (facts, preflightProblems) = await Preflight.CheckAsync(checks, platforms, cluster.DataRoot, cancellationToken).ConfigureAwait(false);
        problems.AddRange(preflightProblems);
        if (problems.Count > 0) throw Preflight.Failure(problems);
        foreach (var n in hosts)
        {
            var f = facts.First(x => x.Host == n.Ip);
            n.Hostname = f.Hostname.ToLowerInvariant();
            n.Platform = image.ForPlatform(f.Os, f.Architecture)!;
            n.Env = DeliveryEnv.For(cluster, n.Spec, n.Platform.Env, ctx.CriOf(n), registryHosts);
        }
        foreach (var n in hosts)
        {
            if (ctx.State.ManifestDigests.TryGetValue(n.Platform.Platform.ToString(), out var had) && had != n.Platform.ManifestDescriptor.Digest && ctx.State.Hosts.ContainsKey(n.Ip))
            {
                throw new SealerException(ErrorCodes.BadClusterState,
                    $"The cluster '{cluster.Name}' was installed from {had}, not {n.Platform.ManifestDescriptor.Digest} ({image.Reference}); upgrading in place is not supported. Run 'sealer delete' first, or use the image it was installed from.");
            }
        }
        return facts;
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
