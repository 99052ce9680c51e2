using System.Formats.Tar;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.RegistryServer;
using YamlDotNet.RepresentationModel;

namespace Sealer.Core.Delivery;

public sealed record RunOptions
{
    public SshOptions Ssh { get; init; } = new();

    /// <summary>The cluster image (layout dir, archive or cached name); null: the Clusterfile's spec.image.</summary>
    public string? Image { get; init; }

    public string? CacheDir { get; init; }

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

    public ILogger Logger { get; init; } = NullLogger.Instance;

    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Test hook for distribution.</summary>
    internal Action<string, Oci.Descriptor>? AfterBlob { get; init; }
}

public sealed record RunResult(IReadOnlyList<string> StepsRun, IReadOnlyList<string> StepsSkipped, IReadOnlyList<HostTransfer> Transfers, IReadOnlyList<HostFacts> Facts);

public sealed record CheckResult(IReadOnlyList<string> Ok, IReadOnlyList<PreflightProblem> Problems);

/// <summary>
/// Installs, extends, checks and removes a cluster described by a Clusterfile, in Sealer's order (docs in
/// /work/shared/sealer-compat.md): host aliases → distribute and unpack the rootfs, render *.tmpl and Config documents →
/// pre-install → pre-init-host → scripts/${CRI}.sh → registry on the registry hosts → containerd hosts.toml on every host →
/// scripts/init-kube.sh → kubeadm init on master0 → masters join one by one, nodes in parallel → post-init-host →
/// post-install → labels and taints → launch apps → Clusterfile saved on master0.
/// Nothing changes before every host passed preflight. State is written after each step (locally and on master0), so a
/// re-run resumes; a failure names the host, the step, the command and its last output lines.
/// </summary>
public sealed partial class ClusterInstaller
{
    public const string StepAliases = "aliases", StepDistribute = "distribute", StepUnpack = "unpack", StepRender = "render",
        StepPreInstall = "pre-install", StepPreInitHost = "pre-init-host", StepRuntime = "runtime", StepRegistry = "registry",
        StepRegistryConfig = "registry-config", StepInitKube = "init-kube", StepKubeadmInit = "kubeadm-init", StepJoin = "join",
        StepPostInitHost = "post-init-host", StepPostInstall = "post-install", StepLabels = "labels", StepApps = "apps", StepClusterfile = "clusterfile";

    private readonly ClusterfileDocument _doc;
    private readonly RunOptions _options;
    private readonly ClusterSpec _cluster;
    private readonly SemaphoreSlim _stateLock = new(1, 1);
    private readonly List<string> _run = [];
    private readonly List<string> _skipped = [];
    private ClusterState _state = new();
    private string? _clusterfileText;

    /// <param name="clusterfileText">the Clusterfile to save on master0 (default: the file the document was read from)</param>
    public ClusterInstaller(ClusterfileDocument doc, RunOptions? options = null, string? clusterfileText = null)
    {
        _doc = doc;
        _cluster = doc.Cluster;
        _options = options ?? new RunOptions();
        _clusterfileText = clusterfileText ?? (doc.File is not null && File.Exists(doc.File) ? File.ReadAllText(doc.File) : null);
    }

    private string ClusterDir => $"{_cluster.DataRoot}/{_cluster.Name}";
    private string Rootfs => $"{ClusterDir}/rootfs";
    private string Store => $"{_cluster.DataRoot}/.store";
    private string LocalStatePath => ClusterState.LocalPath(_cluster.Name, _options.StateRoot);

    private sealed class Node(HostSpec spec, SshHost ssh)
    {
        public HostSpec Spec { get; } = spec;
        public SshHost Ssh { get; } = ssh;
        public string Ip => Spec.Ip;
        public ClusterImagePlatform Platform { get; set; } = null!;
        public string Hostname { get; set; } = "";
        public IReadOnlyList<KeyValuePair<string, string>> Env { get; set; } = [];
    }

    // ---------------------------------------------------------------- run

    /// <summary><c>sealer run</c>: install, or reconcile (resume a partial run, join hosts added to the Clusterfile).</summary>
    public async Task<RunResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var image = ClusterImageSource.Open(_options.Image ?? _cluster.Image, _options.CacheDir);
        var knownHosts = KnownHosts.Load(_options.Ssh.KnownHostsPath);
        var (nodes, problems) = await ConnectAllAsync(_cluster.Hosts, knownHosts, cancellationToken).ConfigureAwait(false);
        try
        {
            var master0 = nodes.FirstOrDefault(n => n.Ip == _cluster.Masters.First().Ip);
            _master0ForState = master0;
            _state = await LoadStateAsync(master0, cancellationToken).ConfigureAwait(false);

            // An installed host that cannot be reached does not block work on the others (adding nodes, resuming):
            // it is left out with a warning when it finished every step. master0 and unfinished hosts are always needed.
            if (master0 is not null)
            {
                problems.RemoveAll(p =>
                {
                    if (p.Host == master0.Ip || !_state.HostDone(p.Host, StepPostInstall)) return false;
                    _options.Logger.LogWarning("{Host} is installed but cannot be reached ({Problem}); continuing without it", p.Host, p.Message);
                    lock (_skipped) _skipped.Add($"{p.Host}:unreachable");
                    return true;
                });
            }

            // preflight: everything checked, nothing changed
            _options.Status?.Invoke($"{"preflight",-16} {nodes.Count} host(s) connected{(problems.Count > 0 ? $", {problems.Count} could not be" : "")}");
            var platforms = image.Platforms.Select(p => (p.Platform.Os, p.Platform.Architecture)).ToList();
            var registryHosts = RegistryHosts();
            // what a host will hold, twice (blob store + unpacked rootfs): a registry host the app image content of every
            // platform (it serves nodes of each) and the largest rest; any other host only the largest rest
            long rest = image.Platforms.Max(p => p.LayersFor(registryHost: false).Sum(l => l.Size));
            long content = image.Platforms.Sum(p => p.Layers.Where(ClusterImagePlatform.IsRegistryContent).Sum(l => l.Size));
            var checks = nodes.Select(n =>
            {
                bool fresh = !_state.Hosts.ContainsKey(n.Ip);
                var ports = new List<int>();
                if (fresh && registryHosts.Contains(n.Ip)) ports.Add(_cluster.Registry.Local.Port);
                if (fresh && n.Spec.IsMaster && image.Platforms[0].ClusterRuntime == "kubernetes" && image.Extension(image.Platforms[0]).ImageType == "kube-installer") ports.Add(6443);
                long disk = _state.HostDone(n.Ip, StepUnpack) ? 0 : (rest + (registryHosts.Contains(n.Ip) ? content : 0)) * 2 + (64L << 20);
                return (n.Spec, n.Ssh, new HostRequirements(ports, disk));
            }).ToList();
            var (facts, preflightProblems) = await Preflight.CheckAsync(checks, platforms, _cluster.DataRoot, cancellationToken).ConfigureAwait(false);
            problems.AddRange(preflightProblems);
            if (problems.Count > 0) throw Preflight.Failure(problems);
            foreach (var n in nodes)
            {
                var f = facts.First(x => x.Host == n.Ip);
                n.Hostname = f.Hostname.ToLowerInvariant();
                n.Platform = image.ForPlatform(f.Os, f.Architecture)!;
                n.Env = DeliveryEnv.For(_cluster, n.Spec, n.Platform.Env, CriOf(n), registryHosts);
            }
            foreach (var n in nodes)
            {
                if (_state.ManifestDigests.TryGetValue(n.Platform.Platform.ToString(), out var had) && had != n.Platform.ManifestDescriptor.Digest && _state.Hosts.ContainsKey(n.Ip))
                {
                    throw new SealerException(ErrorCodes.BadClusterState,
                        $"The cluster '{_cluster.Name}' was installed from {had}, not {n.Platform.ManifestDescriptor.Digest} ({image.Reference}); upgrading in place is not supported. Run 'sealer delete' first, or use the image it was installed from.");
                }
            }
            ValidateLaunch(image, nodes.First(n => n.Ip == _cluster.Masters.First().Ip).Platform);
            _state.Cluster = _cluster.Name;
            _state.Image = image.Reference;
            foreach (var p in nodes.Select(n => n.Platform).Distinct()) _state.ManifestDigests[p.Platform.ToString()] = p.ManifestDescriptor.Digest;

            await InstallAsync(image, nodes, cancellationToken).ConfigureAwait(false);
            return new RunResult(_run, _skipped, _transfers, facts);
        }
        finally
        {
            foreach (var n in nodes) n.Ssh.Dispose();
        }
    }

    private List<HostTransfer> _transfers = [];

    private async Task InstallAsync(ClusterImageSource image, List<Node> nodes, CancellationToken ct)
    {
        var master0 = nodes.First(n => n.Ip == _cluster.Masters.First().Ip);
        var registryIps = RegistryHosts();
        var registryNodes = nodes.Where(n => registryIps.Contains(n.Ip)).ToList();
        var ext = image.Extension(master0.Platform);
        bool kube = ext.ImageType == "kube-installer" && master0.Platform.ClusterRuntime == "kubernetes";

        _kube = kube;
        await EachHostAsync(nodes, StepAliases, n => WriteEtcHostsAsync(n, registryIps, ct), ct).ConfigureAwait(false);

        // distribute: one pass over every host that still needs it
        var needBlobs = nodes.Where(n => !_state.HostDone(n.Ip, StepDistribute)).ToList();
        foreach (var n in nodes.Except(needBlobs)) _skipped.Add($"{n.Ip}:{StepDistribute}");
        _options.Status?.Invoke(needBlobs.Count == 0 ? $"{StepDistribute,-16} done before on {nodes.Count} host(s)"
            : $"{StepDistribute,-16} {needBlobs.Count} host(s), {Preflight.FormatBytes(needBlobs.Sum(n => LayersOf(n, registryIps).Sum(l => l.Size)))} at most (hosts keep what they have)");
        if (needBlobs.Count > 0)
        {
            // one pass over every host: registry hosts get the app image content, the others only the rootfs (relays by digest)
            var distributor = new BlobDistributor(image, Store, new DistributionOptions
            {
                Parallelism = _options.Parallelism, Relay = _options.Relay, Progress = _options.TransferProgress, Logger = _options.Logger, AfterBlob = _options.AfterBlob,
            });
            try
            {
                _transfers.AddRange(await distributor.DistributeAsync(needBlobs.Select(n => new HostBlobs(n.Ssh, LayersOf(n, registryIps))).ToList(), ct).ConfigureAwait(false));
            }
            catch (SealerException ex) when (ex.Code != ErrorCodes.RunStepFailed)
            {
                throw StepFailure(StepDistribute, ex);
            }
            foreach (var n in needBlobs)
            {
                _state.MarkHost(n.Ip, n.Spec.Roles, StepDistribute);
                _run.Add($"{n.Ip}:{StepDistribute}");
            }
            await SaveStateAsync(master0, ct).ConfigureAwait(false);
        }

        await EachHostAsync(nodes, StepUnpack, n => UnpackAsync(n, ct), ct).ConfigureAwait(false);
        await RegistryPlatformsAsync(image, nodes, registryNodes, ct).ConfigureAwait(false);
        // a changed Clusterfile (env, Config, kubeadm or Application documents, masters) renders again where it matters
        foreach (var n in nodes.Where(n => _state.HostDone(n.Ip, StepRender) && _state.RenderedFrom(n.Ip) != RenderFingerprint(n)))
        {
            _state.UnmarkHost(n.Ip, StepRender);
        }
        await EachHostAsync(nodes, StepRender, async n =>
        {
            await RenderAsync(image, n, ct).ConfigureAwait(false);
            _state.SetRenderedFrom(n.Ip, RenderFingerprint(n));
        }, ct).ConfigureAwait(false);
        await EachHostAsync(nodes, StepPreInstall, n => PluginsAsync(n, PluginPhase.PreInstall, ct), ct).ConfigureAwait(false);
        await EachHostAsync(nodes, StepPreInitHost, n => PluginsAsync(n, PluginPhase.PreInitHost, ct), ct).ConfigureAwait(false);
        await EachHostAsync(nodes, StepRuntime, n => ScriptIfPresentAsync(n, StepRuntime, $"{CriOf(n)}.sh", "", ct), ct).ConfigureAwait(false);
        if (Tls && registryNodes.Count > 0) await EnsureCertificatesAsync(master0, registryNodes, ct).ConfigureAwait(false);
        await EachHostAsync(registryNodes, StepRegistry, n => StartRegistryAsync(n, ct), ct).ConfigureAwait(false);
        var domains = image.RegistryDomains(master0.Platform).Append(_cluster.Registry.Local.Domain).Distinct(StringComparer.Ordinal).ToList();
        await EachHostAsync(nodes, StepRegistryConfig, n => ConfigureRuntimeAsync(n, registryIps, domains, ct), ct).ConfigureAwait(false);
        await EachHostAsync(nodes, StepInitKube, n => ScriptIfPresentAsync(n, StepInitKube, "init-kube.sh", "", ct), ct).ConfigureAwait(false);

        if (kube)
        {
            await ClusterStepAsync(master0, StepKubeadmInit, () => KubeadmInitAsync(master0, ct), ct).ConfigureAwait(false);
            var joiners = nodes.Where(n => n != master0).ToList();
            foreach (var m in joiners.Where(n => n.Spec.IsMaster)) // one at a time, as etcd wants
            {
                await EachHostAsync([m], StepJoin, n => JoinAsync(master0, n, ct), ct).ConfigureAwait(false);
            }
            // every worker (new or joined before) balances over the current masters: written before workers join, and
            // again whenever the masters change (join --masters, delete of a master)
            await ConfigureLvscareAsync(nodes.Where(n => !n.Spec.IsMaster).ToList(), image, master0, ct).ConfigureAwait(false);
            await EachHostAsync(joiners.Where(n => !n.Spec.IsMaster).ToList(), StepJoin, n => JoinAsync(master0, n, ct), ct).ConfigureAwait(false);
        }
        await EachHostAsync(nodes, StepPostInitHost, n => PluginsAsync(n, PluginPhase.PostInitHost, ct), ct).ConfigureAwait(false);
        await EachHostAsync(nodes, StepPostInstall, n => PluginsAsync(n, PluginPhase.PostInstall, ct), ct).ConfigureAwait(false);
        if (kube && nodes.Any(n => n.Spec.Labels.Count > 0 || n.Spec.Taints.Count > 0))
        {
            await ClusterStepAsync(master0, StepLabels, () => LabelsAsync(master0, nodes, ct), ct).ConfigureAwait(false);
        }
        // a changed launch (Clusterfile cmds/appNames, Application documents, env or files the apps read) launches again:
        // helm upgrade --install and kubectl apply bring the apps to the new settings (shell apps run again)
        string launched = LaunchFingerprint(master0);
        if (_state.ClusterDone(StepApps) && _state.Launched is { } before && before != launched)
        {
            _options.Status?.Invoke($"{StepApps,-16} the apps' launch or config changed since they were launched: launching again");
            _state.UnmarkCluster(StepApps);
        }
        await ClusterStepAsync(master0, StepApps, async () =>
        {
            await LaunchAppsAsync(master0, ext, ct).ConfigureAwait(false);
            _state.Launched = launched;
        }, ct).ConfigureAwait(false);
        _state.Launched ??= launched; // a state from before launches were fingerprinted: what is there now counts as launched
        if (_clusterfileText is not null)
        {
            string text = _clusterfileText;
            await ClusterStepAsync(master0, StepClusterfile, () => SaveClusterfileAsync(master0, text, kube, ct), ct, always: true).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The Clusterfile as the cluster now is: the full file (secrets included) as <c>&lt;dataRoot&gt;/&lt;cluster&gt;/Clusterfile</c>
    /// on master0, mode 0600, root only; and, on a Kubernetes cluster, Sealer's ConfigMap kube-system/sealer-clusterfile
    /// (key <c>Clusterfile</c>, as pkg/clusterfile saveToCluster writes it) with every secret masked — Sealer stores it
    /// verbatim, passwords included, where anyone who may read ConfigMaps in kube-system reads them. Created or updated with
    /// a server-side apply (no last-applied annotation, so a large file fits); the data goes on stdin, never on a command line.
    /// </summary>
    private async Task SaveClusterfileAsync(Node master0, string text, bool kube, CancellationToken ct)
    {
        await master0.Ssh.RunWithInputAsync(
            $"umask 077; mkdir -p {Q(ClusterDir)}; cat > {Q(ClusterDir + "/Clusterfile.tmp")} && chmod 600 {Q(ClusterDir + "/Clusterfile.tmp")} && mv -f {Q(ClusterDir + "/Clusterfile.tmp")} {Q(ClusterDir + "/Clusterfile")}",
            (s, c) => s.WriteAsync(Encoding.UTF8.GetBytes(text), c).AsTask(), new CommandOptions { Description = $"{StepClusterfile}: save the Clusterfile (0600)" }, ct).ConfigureAwait(false);
        if (!kube) return;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("apiVersion", "v1");
            w.WriteString("kind", "ConfigMap");
            w.WriteStartObject("metadata");
            w.WriteString("name", ClusterfileEditor.ConfigMapName);
            w.WriteString("namespace", ClusterfileEditor.ConfigMapNamespace);
            w.WriteStartObject("labels");
            w.WriteString("app.kubernetes.io/managed-by", "sealer");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("data");
            w.WriteString(ClusterfileEditor.ConfigMapKey, ClusterfileEditor.MaskSecrets(text));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        var json = buffer.WrittenMemory;
        await master0.Ssh.RunWithInputAsync(
            $"{KubePath}; [ -f \"$HOME/.kube/config\" ] || export KUBECONFIG=/etc/kubernetes/admin.conf; kubectl apply --server-side --force-conflicts --field-manager=sealer -f -",
            (s, c) => s.WriteAsync(json, c).AsTask(),
            new CommandOptions { Description = $"{StepClusterfile}: kubectl apply ConfigMap {ClusterfileEditor.ConfigMapNamespace}/{ClusterfileEditor.ConfigMapName}", Timeout = TimeSpan.FromMinutes(2) }, ct).ConfigureAwait(false);
    }

    private static string Q(string s) => SshHost.ShellQuote(s);

    private string CriOf(Node n) => _cluster.ContainerRuntime ?? n.Platform?.ContainerRuntime ?? "containerd";

    /// <summary>The hosts that run the registry: every master when ha (Sealer's default), else master0.</summary>
    /// <summary>With an externalRegistry the cluster pulls from it and no local registry runs (as in Sealer).</summary>
    private List<string> RegistryHosts() =>
        _cluster.Registry.External is not null ? []
        : _cluster.Registry.Local.Ha ? _cluster.Masters.Select(m => m.Ip).ToList() : [_cluster.Masters.First().Ip];

    private async Task<(List<Node>, List<PreflightProblem>)> ConnectAllAsync(IReadOnlyList<HostSpec> hosts, KnownHosts knownHosts, CancellationToken ct)
    {
        var tasks = hosts.Select(h => SshHost.ConnectAsync(h.Ip, h.Ssh, _options.Ssh, knownHosts, ct)).ToList();
        var nodes = new List<Node>();
        var problems = new List<PreflightProblem>();
        for (int i = 0; i < tasks.Count; i++)
        {
            try
            {
                nodes.Add(new Node(hosts[i], await tasks[i].ConfigureAwait(false)));
            }
            catch (SealerException ex)
            {
                problems.Add(new PreflightProblem(hosts[i].Ip, "ssh", $"{ex.Code}: {ex.Message}"));
            }
        }
        ct.ThrowIfCancellationRequested();
        return (nodes, problems);
    }

    // ---------------------------------------------------------------- state

    private async Task<ClusterState> LoadStateAsync(Node? master0, CancellationToken ct)
    {
        ClusterState? remote = null;
        if (master0 is not null)
        {
            var r = await master0.Ssh.RunAsync($"cat {Q(ClusterDir + "/state.json")} 2>/dev/null || true", new CommandOptions { Description = "read the cluster state" }, ct).ConfigureAwait(false);
            remote = ClusterState.FromJson(Encoding.UTF8.GetBytes(r.Stdout), $"on {master0.Ip}");
        }
        var state = remote ?? ClusterState.LoadLocal(LocalStatePath) ?? new ClusterState { Cluster = _cluster.Name };
        if (state.Cluster.Length > 0 && state.Cluster != _cluster.Name)
        {
            throw new SealerException(ErrorCodes.BadClusterState, $"The state found belongs to cluster '{state.Cluster}', not '{_cluster.Name}'.");
        }
        return state;
    }

    private async Task SaveStateAsync(Node? master0, CancellationToken ct)
    {
        await _stateLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _state.SaveLocal(LocalStatePath);
            if (master0 is not null)
            {
                var json = _state.ToJson();
                await master0.Ssh.RunWithInputAsync($"mkdir -p {Q(ClusterDir)} && cat > {Q(ClusterDir + "/state.json.tmp")} && mv -f {Q(ClusterDir + "/state.json.tmp")} {Q(ClusterDir + "/state.json")}",
                    (s, c) => s.WriteAsync(json, c).AsTask(), new CommandOptions { Description = "save the cluster state" }, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _stateLock.Release();
        }
    }

    private Node? _master0ForState;

    /// <summary>Runs a per-host step on every host that has not done it, in parallel; one host's failure does not stop the others' step.</summary>
    private async Task EachHostAsync(IReadOnlyList<Node> nodes, string step, Func<Node, Task> action, CancellationToken ct)
    {
        var todo = nodes.Where(n => !_state.HostDone(n.Ip, step)).ToList();
        foreach (var n in nodes.Except(todo)) lock (_skipped) _skipped.Add($"{n.Ip}:{step}");
        if (todo.Count == 0)
        {
            if (nodes.Count > 0) _options.Status?.Invoke($"{step,-16} done before on {nodes.Count} host(s)");
            return;
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        _options.Status?.Invoke($"{step,-16} {todo.Count} host(s): {string.Join(", ", todo.Select(n => n.Ip))}{(todo.Count < nodes.Count ? $" ({nodes.Count - todo.Count} done before)" : "")}");
        var master0 = _master0ForState;
        var failures = new List<SealerException>();
        await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(4, _options.Parallelism * 2), CancellationToken = ct }, async (n, c) =>
        {
            try
            {
                await action(n).ConfigureAwait(false);
                _state.MarkHost(n.Ip, n.Spec.Roles, step);
                lock (_run) _run.Add($"{n.Ip}:{step}");
                await SaveStateAsync(master0, ct).ConfigureAwait(false);
            }
            catch (SealerException ex)
            {
                lock (failures) failures.Add(ex.Code == ErrorCodes.RunStepFailed ? ex : StepFailure(step, ex, n.Ip));
            }
        }).ConfigureAwait(false);
        _options.Status?.Invoke($"{step,-16} {(failures.Count == 0 ? "ok" : $"FAILED on {failures.Count} host(s)")} in {sw.Elapsed.TotalSeconds:0.0} s");
        if (failures.Count == 1) throw failures[0];
        if (failures.Count > 1)
        {
            throw new SealerException(ErrorCodes.RunStepFailed, $"Step '{step}' failed on {failures.Count} hosts:\n" + string.Join("\n", failures.Select(f => f.Message)) + "\nFix the cause and run again: finished steps are skipped.");
        }
    }

    private async Task ClusterStepAsync(Node master0, string step, Func<Task> action, CancellationToken ct, bool always = false)
    {
        if (!always && _state.ClusterDone(step))
        {
            _skipped.Add(step);
            _options.Status?.Invoke($"{step,-16} done before");
            return;
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        _options.Status?.Invoke($"{step,-16} on {master0.Ip}");
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.Code != ErrorCodes.RunStepFailed)
        {
            _options.Status?.Invoke($"{step,-16} FAILED in {sw.Elapsed.TotalSeconds:0.0} s");
            throw StepFailure(step, ex, master0.Ip);
        }
        _options.Status?.Invoke($"{step,-16} ok in {sw.Elapsed.TotalSeconds:0.0} s");
        _state.MarkCluster(step);
        _run.Add(step);
        await SaveStateAsync(master0, ct).ConfigureAwait(false);
    }

    private static SealerException StepFailure(string step, SealerException ex, string? host = null) =>
        new(ErrorCodes.RunStepFailed, $"Step '{step}'{(host is null ? "" : $" on {host}")} failed ({ex.Code}): {ex.Message}\nFix the cause and run again: finished steps are skipped.", inner: ex);

    private CommandOptions Cmd(Node n, string step, string description, TimeSpan? timeout = null) => new()
    {
        Env = n.Env,
        Description = $"{step}: {description}",
        Timeout = timeout ?? _options.StepTimeout,
        OnOutputLine = _options.Output is { } o ? line => o($"[{n.Ip}] {step}: {line}") : null,
    };

    // ---------------------------------------------------------------- steps

    private bool _kube;

    private Task WriteEtcHostsAsync(Node n, IReadOnlyList<string> registryIps, CancellationToken ct, bool joinedMaster = false)
    {
        var block = new StringBuilder();
        foreach (var a in _cluster.HostAliases) block.Append(a.Ip).Append(' ').Append(string.Join(' ', a.Hostnames)).Append('\n');
        if (_kube)
        {
            // Sealer: the API server domain is master0 on master0, master0 on a master until it joined, then the master
            // itself; on workers the local VIP that lvscare balances over every master
            string master0 = _cluster.Masters.First().Ip;
            string target = !n.Spec.IsMaster ? Vip : n.Ip == master0 || joinedMaster || _state.HostDone(n.Ip, StepJoin) ? n.Ip : master0;
            block.Append(target).Append(' ').Append(ApiServerDomain).Append('\n');
        }
        if (registryIps.Count > 0 && _cluster.Registry.External is null)
        {
            // like Sealer: the local registry domain resolves to a registry host (the host itself when it is one)
            string target = registryIps.Contains(n.Ip) ? n.Ip : registryIps[0];
            block.Append(target).Append(' ').Append(_cluster.Registry.Local.Domain).Append('\n');
        }
        string begin = $"# BEGIN sealer {_cluster.Name}", end = $"# END sealer {_cluster.Name}";
        // rewritten in place (cat >), not renamed: /etc/hosts is often a bind mount
        string script = $"t=$(mktemp); sed {Q($"/^{begin}$/,/^{end}$/d")} /etc/hosts > \"$t\"\n" +
                        $"cat >> \"$t\" <<'SEALER_HOSTS'\n{begin}\n{block}{end}\nSEALER_HOSTS\ncat \"$t\" > /etc/hosts; rm -f \"$t\"";
        return n.Ssh.RunAsync(script, Cmd(n, StepAliases, "update /etc/hosts"), ct);
    }

    /// <summary>What a host gets and unpacks: every layer on a registry host, elsewhere all but the app image content.</summary>
    private static IReadOnlyList<Oci.Descriptor> LayersOf(Node n, List<string> registryIps) => n.Platform.LayersFor(registryIps.Contains(n.Ip));

    private Task UnpackAsync(Node n, CancellationToken ct)
    {
        var sb = new StringBuilder();
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"r={Q(Rootfs)}; s={Q(Store)}; t=\"$r.new\"; rm -rf \"$t\"; mkdir -p \"$t\"\n");
        foreach (var layer in LayersOf(n, RegistryHosts()))
        {
            string z = layer.MediaType.Contains("gzip", StringComparison.Ordinal) ? "z" : "";
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"tar -x{z}f \"$s/blobs/sha256/{layer.ParsedDigest.Encoded}\" -C \"$t\" --no-same-owner\n");
            // OCI whiteouts: .wh.NAME deletes NAME from lower layers, .wh..wh..opq empties the directory
            sb.Append("find \"$t\" -name '.wh.*' 2>/dev/null | while read -r w; do b=$(basename \"$w\"); d=$(dirname \"$w\"); " +
                      "if [ \"$b\" = .wh..wh..opq ]; then :; else rm -rf \"$d/${b#.wh.}\"; fi; rm -f \"$w\"; done\n");
        }
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"echo {Q(n.Platform.ManifestDescriptor.Digest)} > \"$t/.sealer-image\"\n");
        sb.Append("rm -rf \"$r.old\"; [ -d \"$r\" ] && mv \"$r\" \"$r.old\"; mv \"$t\" \"$r\"; rm -rf \"$r.old\"\n");
        return n.Ssh.RunAsync(sb.ToString(), Cmd(n, StepUnpack, "unpack the rootfs"), ct);
    }

    /// <summary>
    /// A registry host serves every node, so when the nodes run several platforms it also holds the app image blobs of the
    /// platforms it does not run itself: their image-blob and registry layers are sent to it and their <c>registry/blobs/</c>
    /// unpacked into its rootfs. The SDK writes the same <c>registry/index.json</c> for every platform (a multi-arch image is
    /// named by its index), so the merged layout serves each node its own platform's images.
    /// </summary>
    private async Task RegistryPlatformsAsync(ClusterImageSource image, List<Node> nodes, List<Node> registryNodes, CancellationToken ct)
    {
        foreach (var p in nodes.Select(n => n.Platform).Distinct())
        {
            var need = registryNodes.Where(n => n.Platform != p).ToList();
            var layers = p.Layers.Where(ClusterImageFormat.IsRegistryContent).ToList();
            if (need.Count == 0 || layers.Count == 0) continue;
            string step = $"{StepRegistry}+{p.Platform}";
            var todo = need.Where(n => !_state.HostDone(n.Ip, step)).ToList();
            if (todo.Count > 0)
            {
                var distributor = new BlobDistributor(image, Store, new DistributionOptions
                {
                    Parallelism = _options.Parallelism, Relay = _options.Relay, Progress = _options.TransferProgress, Logger = _options.Logger, AfterBlob = _options.AfterBlob,
                });
                try
                {
                    _transfers.AddRange(await distributor.DistributeAsync(todo.Select(n => n.Ssh).ToList(), layers, ct).ConfigureAwait(false));
                }
                catch (SealerException ex) when (ex.Code != ErrorCodes.RunStepFailed)
                {
                    throw StepFailure(step, ex);
                }
            }
            var sb = new StringBuilder();
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"r={Q(Rootfs)}; s={Q(Store)}\n");
            foreach (var layer in layers)
            {
                string z = layer.MediaType.Contains("gzip", StringComparison.Ordinal) ? "z" : "";
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"tar -x{z}f \"$s/blobs/sha256/{layer.ParsedDigest.Encoded}\" -C \"$r\" --no-same-owner registry/blobs\n");
            }
            // a running registry reloads its view when index.json changes, checked at most once a second: wait that out, so
            // a node pulling right after the run gets these images
            sb.Append("touch \"$r/registry/index.json\"; sleep 1.2\n");
            await EachHostAsync(need, step, n => n.Ssh.RunAsync(sb.ToString(), Cmd(n, step, $"add the {p.Platform} app image blobs to the registry"), ct), ct).ConfigureAwait(false);
        }
    }

    /// <summary>What the apps step depends on: master0's rendered files and env (<see cref="RenderFingerprint"/>), the launch plan, each app's launch cmds and helm settings.</summary>
    private string LaunchFingerprint(Node master0)
    {
        var sb = new StringBuilder(RenderFingerprint(master0));
        if (_launchPlan is { } plan)
        {
            sb.Append("\0plan\0").Append(plan.Source);
            foreach (var c in plan.Cmds ?? []) sb.Append("\0cmd\0").Append(c);
            foreach (var app in plan.Apps)
            {
                sb.Append("\0app\0").Append(app);
                if (ConfigOf(app) is not { } config) continue;
                foreach (var c in config.Cmds) sb.Append("\0cmd\0").Append(c);
                if (config.Helm is { } h)
                {
                    sb.Append("\0helm\0").Append(h.Name).Append('\0').Append(h.Namespace).Append('\0').Append(h.CreateNamespace).Append('\0').Append(h.Wait)
                        .Append('\0').Append(h.Timeout).Append('\0').Append(h.SkipCrds).Append('\0').Append(h.DisableHooks);
                    foreach (var v in h.Values) sb.Append("\0set\0").Append(v);
                    foreach (var f in h.ValueFiles) sb.Append("\0f\0").Append(f);
                }
            }
        }
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>What a host's rendered files depend on besides the image: its env, the documents that write files, masters and VIP.</summary>
    private string RenderFingerprint(Node n)
    {
        var sb = new StringBuilder();
        sb.Append(n.Platform.ManifestDescriptor.Digest).Append('\0').Append(_kube).Append('\0').Append(Vip).Append('\0');
        foreach (var m in _cluster.Masters) sb.Append(m.Ip).Append(',');
        foreach (var (k, v) in n.Env) sb.Append('\0').Append(k).Append('=').Append(v);
        foreach (var c in _doc.Configs) sb.Append("\0config\0").Append(c.Path).Append('\0').Append(c.Strategy).Append('\0').Append(c.Data);
        foreach (var d in _doc.KubeadmDocuments) sb.Append("\0kubeadm\0").Append(d.Yaml);
        foreach (var app in _launchPlan?.Apps ?? [])
        {
            if (ConfigOf(app) is not { } c) continue;
            sb.Append("\0app\0").Append(app);
            foreach (var (k, v) in c.Env) sb.Append('\0').Append(k).Append('=').Append(v);
            foreach (var f in c.Files) sb.Append('\0').Append(f.Path).Append('\0').Append(f.Strategy).Append('\0').Append(f.Data);
        }
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>
    /// The templates Sealer renders: <c>*.tmpl</c> under <c>etc/</c>, <c>charts/</c>, <c>manifests/</c> (imagedistributor
    /// renderRootfs) and the apps' directories (pkg/application envRender). Elsewhere a <c>.tmpl</c> is left alone, as in
    /// Sealer, so an image that ships raw templates (for its own scripts) installs as it does there.
    /// </summary>
    internal static bool IsTemplate(string path) => path.EndsWith(".tmpl", StringComparison.Ordinal)
        && (path.StartsWith("etc/", StringComparison.Ordinal) || path.StartsWith("charts/", StringComparison.Ordinal)
            || path.StartsWith("manifests/", StringComparison.Ordinal) || path.StartsWith("application/apps/", StringComparison.Ordinal));

    /// <summary>
    /// Renders every <c>*.tmpl</c> Sealer renders (<see cref="IsTemplate"/>) with the host's env (cluster env &lt; host env, derived values; files under
    /// <c>application/apps/NAME/</c> also get the app's env: APPENV of the image, then the Application config's env) into the
    /// file without <c>.tmpl</c>, mode kept; then Config documents, kubeadm documents and Application config files.
    /// </summary>
    private async Task RenderAsync(ClusterImageSource image, Node n, CancellationToken ct)
    {
        var files = new Dictionary<string, (byte[] Data, UnixFileMode Mode)>(StringComparer.Ordinal);
        var configPaths = _doc.Configs.Select(c => c.Path).ToHashSet(StringComparer.Ordinal);
        var appFiles = AppFileOverrides();
        var found = image.ReadFileEntries(n.Platform, p => IsTemplate(p) || configPaths.Contains(p) || p == "etc/kubeadm.yml" || appFiles.Any(a => a.Matches(p)));
        var ext = image.Extension(n.Platform);
        foreach (var (path, (bytes, mode)) in found.Where(f => IsTemplate(f.Key)).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var env = AppOf(path) is { } app ? AppEnv(n.Env, ext, app) : n.Env;
            files[path[..^5]] = (Encoding.UTF8.GetBytes(DeliveryEnv.Render(Encoding.UTF8.GetString(bytes), env, path, n.Ip, ct)), mode);
        }
        string? Current(string path) => files.TryGetValue(path, out var r) ? Encoding.UTF8.GetString(r.Data)
            : found.TryGetValue(path, out var raw) ? Encoding.UTF8.GetString(raw.Data) : null;
        UnixFileMode ModeOf(string path) => files.TryGetValue(path, out var r) ? r.Mode : found.TryGetValue(path, out var raw) ? raw.Mode
            : path.EndsWith(".sh", StringComparison.Ordinal) ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100;
        foreach (var config in _doc.Configs)
        {
            files[config.Path] = (Encoding.UTF8.GetBytes(ApplyConfig(config, Current(config.Path))), ModeOf(config.Path));
        }
        if (_doc.KubeadmDocuments.Count > 0)
        {
            var sb = new StringBuilder((Current("etc/kubeadm.yml") ?? "").TrimEnd());
            foreach (var d in _doc.KubeadmDocuments) sb.Append("\n---\n").Append(d.Yaml.TrimEnd());
            files["etc/kubeadm.yml"] = (Encoding.UTF8.GetBytes(sb.Append('\n').ToString()), ModeOf("etc/kubeadm.yml"));
        }
        if (_kube && Current("etc/kubeadm.yml") is { } kubeadmYaml)
        {
            files["etc/kubeadm.yml"] = (Encoding.UTF8.GetBytes(KubeadmWithApiServerEndpoint(kubeadmYaml, _cluster.Masters.Select(m => m.Ip).ToList(), Vip)), ModeOf("etc/kubeadm.yml"));
        }
        foreach (var a in appFiles)
        {
            foreach (var path in a.Targets(found.Keys.Concat(files.Keys).Distinct().ToList()))
            {
                files[path] = (Encoding.UTF8.GetBytes(ApplyAppFile(a, Current(path), path)), ModeOf(path));
            }
        }
        if (files.Count == 0) return;
        using var ms = new MemoryStream();
        using (var tar = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, (bytes, mode)) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(bytes), Mode = mode });
            }
        }
        var data = ms.ToArray();
        await n.Ssh.RunWithInputAsync($"tar -x -C {Q(Rootfs)} --no-same-owner", (s, c) => s.WriteAsync(data, c).AsTask(),
            new CommandOptions { Description = $"{StepRender}: write {files.Count} rendered files", Timeout = _options.StepTimeout }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// As Sealer's kubeadm config (pkg/runtime/kubernetes/kubeadm): the ClusterConfiguration's <c>controlPlaneEndpoint</c> is
    /// <c>apiserver.cluster.local:6443</c> unless set, and <c>apiServer.certSANs</c> holds the domain, the VIP, 127.0.0.1 and
    /// every master, so workers reach the API servers through the VIP and masters through the domain with valid TLS.
    /// </summary>
    internal static string KubeadmWithApiServerEndpoint(string yaml, IReadOnlyList<string> masters, string vip)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new SealerException(ErrorCodes.BadClusterImage, $"etc/kubeadm.yml is not valid YAML ({ex.Message}): fix it in the cluster image or in the Clusterfile's kubeadm documents.", "etc/kubeadm.yml", (int)ex.Start.Line, inner: ex);
        }
        static string? Scalar(YamlMappingNode m, string key) => m.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s ? s.Value : null;
        var docs = stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
        var cc = docs.LastOrDefault(d => Scalar(d, "kind") == "ClusterConfiguration");
        if (cc is null)
        {
            string api = docs.Select(d => Scalar(d, "apiVersion")).FirstOrDefault(v => v?.StartsWith("kubeadm.k8s.io/", StringComparison.Ordinal) == true) ?? "kubeadm.k8s.io/v1beta3";
            cc = new YamlMappingNode { { "apiVersion", api }, { "kind", "ClusterConfiguration" } };
            stream.Documents.Add(new YamlDocument(cc));
        }
        if (Scalar(cc, "controlPlaneEndpoint") is not { Length: > 0 }) cc.Children[new YamlScalarNode("controlPlaneEndpoint")] = new YamlScalarNode($"{ApiServerDomain}:6443");
        if (!cc.Children.TryGetValue(new YamlScalarNode("apiServer"), out var apiNode) || apiNode is not YamlMappingNode apiServer)
        {
            apiServer = [];
            cc.Children[new YamlScalarNode("apiServer")] = apiServer;
        }
        if (!apiServer.Children.TryGetValue(new YamlScalarNode("certSANs"), out var sansNode) || sansNode is not YamlSequenceNode sans)
        {
            sans = [];
            apiServer.Children[new YamlScalarNode("certSANs")] = sans;
        }
        var have = sans.Children.OfType<YamlScalarNode>().Select(x => x.Value).ToHashSet(StringComparer.Ordinal);
        foreach (var san in new[] { "127.0.0.1", ApiServerDomain, vip }.Concat(masters))
        {
            if (have.Add(san)) sans.Add(new YamlScalarNode(san));
        }
        var w = new StringWriter();
        stream.Save(w, assignAnchors: false);
        return w.ToString().Replace("\n...\n", "\n---\n", StringComparison.Ordinal).TrimEnd('\n', '.', '-') + "\n";
    }

    /// <summary>A Config document over the image's file: override, insert (append), or merge (YAML mappings deep-merged).</summary>
    internal static string ApplyConfig(ConfigSpec config, string? existing)
    {
        if (existing is null || config.Strategy == "override") return config.Data;
        if (config.Strategy == "insert") return existing.TrimEnd('\n') + "\n" + config.Data;
        try
        {
            var baseStream = new YamlStream();
            baseStream.Load(new StringReader(existing));
            var overStream = new YamlStream();
            overStream.Load(new StringReader(config.Data));
            if (baseStream.Documents.Count == 1 && overStream.Documents.Count == 1
                && baseStream.Documents[0].RootNode is YamlMappingNode b && overStream.Documents[0].RootNode is YamlMappingNode o)
            {
                Merge(b, o);
                var w = new StringWriter();
                baseStream.Save(w, assignAnchors: false);
                string text = w.ToString();
                return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
            }
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new SealerException(ErrorCodes.ClusterfileBadConfig, $"Config '{config.Name}' cannot be merged into {config.Path}: {ex.Message}. Use strategy: override.", config.Location.File, config.Location.Line, inner: ex);
        }
        return config.Data;

        static void Merge(YamlMappingNode into, YamlMappingNode from)
        {
            foreach (var (k, v) in from.Children)
            {
                if (into.Children.TryGetValue(k, out var existingNode) && existingNode is YamlMappingNode em && v is YamlMappingNode vm) Merge(em, vm);
                else into.Children[k] = v;
            }
        }
    }

    private async Task PluginsAsync(Node n, PluginPhase phase, CancellationToken ct)
    {
        foreach (var plugin in _doc.Plugins.Where(p => p.Phases.Contains(phase) && (p.Roles.Count == 0 || p.Roles.Any(r => n.Spec.Roles.Contains(r) || r == n.Ip))))
        {
            string step = PhaseName(phase);
            await n.Ssh.RunAsync($"cd {Q(Rootfs)}\n{plugin.Data}", Cmd(n, step, $"plugin '{plugin.Name}'"), ct).ConfigureAwait(false);
        }
    }

    private static string PhaseName(PluginPhase phase) => phase switch
    {
        PluginPhase.PreInstall => StepPreInstall,
        PluginPhase.PreInitHost => StepPreInitHost,
        PluginPhase.PostInitHost => StepPostInitHost,
        PluginPhase.PostInstall => StepPostInstall,
        _ => phase.ToString(),
    };

    private Task ScriptIfPresentAsync(Node n, string step, string script, string args, CancellationToken ct) =>
        n.Ssh.RunAsync($"cd {Q(Rootfs + "/scripts")} 2>/dev/null || exit 0\nif [ -f {Q(script)} ]; then export PATH={Q(Rootfs + "/bin")}:$PATH; bash {Q(script)} {args}; fi",
            Cmd(n, step, $"scripts/{script}"), ct);

    /// <summary>The built-in registry serves HTTPS with a private CA unless the Clusterfile says <c>insecure: true</c>.</summary>
    private bool Tls => !_cluster.Registry.Local.Insecure;

    private string LocalCertDir => Path.Combine(Path.GetDirectoryName(LocalStatePath)!, "certs");

    private string RemoteCertDir => $"{ClusterDir}/certs";

    private string? _caPem;

    /// <summary>
    /// A private CA (kept locally and on master0, so another machine continues with the same CA) and a server certificate
    /// naming the registry domain, every registry host's address and the Clusterfile's subjectAltName entries. Registry hosts
    /// whose certificate changed (e.g. a master was added) get their registry restarted.
    /// </summary>
    private async Task EnsureCertificatesAsync(Node master0, IReadOnlyList<Node> registryNodes, CancellationToken ct)
    {
        var local = _cluster.Registry.Local;
        Directory.CreateDirectory(LocalCertDir);
        string caCrt = Path.Combine(LocalCertDir, CertificateGenerator.CaCertificateFile), caKey = Path.Combine(LocalCertDir, CertificateGenerator.CaKeyFile);
        if (!File.Exists(caCrt) || !File.Exists(caKey))
        {
            var r = await master0.Ssh.RunAsync($"d={Q(RemoteCertDir)}; if [ -f \"$d/ca.crt\" ] && [ -f \"$d/ca.key\" ]; then cat \"$d/ca.crt\"; echo '--- sealer ---'; cat \"$d/ca.key\"; fi",
                new CommandOptions { Description = $"{StepRegistry}: read the registry CA" }, ct).ConfigureAwait(false);
            var parts = r.Stdout.Split("--- sealer ---\n");
            if (parts.Length == 2)
            {
                AtomicFile.WriteAllText(caCrt, parts[0]);
                AtomicFile.WriteAllText(caKey, parts[1]);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(caKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        var sans = new List<string> { local.Domain, "localhost", "127.0.0.1" };
        sans.AddRange(registryNodes.Select(r => r.Ip));
        sans.AddRange(local.SubjectAltNameDns);
        sans.AddRange(local.SubjectAltNameIps);
        sans = sans.Distinct(StringComparer.Ordinal).ToList();
        string sansFile = Path.Combine(LocalCertDir, "sans.txt");
        bool changed = !File.Exists(sansFile) || File.ReadAllText(sansFile) != string.Join('\n', sans)
            || !File.Exists(Path.Combine(LocalCertDir, CertificateGenerator.ServerCertificateFile));
        if (changed)
        {
            CertificateGenerator.Generate(LocalCertDir, sans);
            AtomicFile.WriteAllText(sansFile, string.Join('\n', sans));
        }
        _caPem = File.ReadAllText(caCrt);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["ca.crt"] = File.ReadAllBytes(caCrt),
            ["server.crt"] = File.ReadAllBytes(Path.Combine(LocalCertDir, CertificateGenerator.ServerCertificateFile)),
            ["server.key"] = File.ReadAllBytes(Path.Combine(LocalCertDir, CertificateGenerator.ServerKeyFile)),
        };
        string serverHex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(files["server.crt"]));
        await Task.WhenAll(registryNodes.Select(async n =>
        {
            var have = await n.Ssh.RunAsync($"sha256sum {Q(RemoteCertDir + "/server.crt")} 2>/dev/null | cut -c1-64; true", new CommandOptions { Description = $"{StepRegistry}: check the certificate" }, ct).ConfigureAwait(false);
            bool isMaster0 = n == master0;
            if (have.Stdout.Trim() == serverHex && !isMaster0) return;
            var upload = new Dictionary<string, byte[]>(files, StringComparer.Ordinal);
            if (isMaster0) upload["ca.key"] = File.ReadAllBytes(caKey); // the CA stays with the cluster
            var tar = TarOf(upload.ToDictionary(f => $"certs/{f.Key}", f => f.Value), 0b110_000_000);
            await n.Ssh.RunWithInputAsync($"umask 077; mkdir -p {Q(ClusterDir)} && tar -x -C {Q(ClusterDir)} --no-same-owner", (st, c) => st.WriteAsync(tar, c).AsTask(),
                new CommandOptions { Description = $"{StepRegistry}: install the registry certificate" }, ct).ConfigureAwait(false);
            if (have.Stdout.Trim().Length > 0 && have.Stdout.Trim() != serverHex)
            {
                // a new certificate: restart that registry
                await n.Ssh.RunAsync($"f={Q(ClusterDir + "/registry.pid")}; if [ -f \"$f\" ]; then p=$(cat \"$f\"); kill \"$p\" 2>/dev/null || echo 'the registry had stopped'; " +
                    "for i in $(seq 1 100); do kill -0 \"$p\" 2>/dev/null || break; sleep 0.1; done; fi; rm -f \"$f\"; systemctl restart sealer-registry 2>/dev/null || true",
                    new CommandOptions { Description = $"{StepRegistry}: restart for the new certificate" }, ct).ConfigureAwait(false);
                lock (_state) _state.Hosts.GetValueOrDefault(n.Ip)?.Steps.Remove(StepRegistry);
            }
        })).ConfigureAwait(false);
    }

    private static byte[] TarOf(IReadOnlyDictionary<string, byte[]> files, int mode)
    {
        using var ms = new MemoryStream();
        using (var tar = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, bytes) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(bytes), Mode = (UnixFileMode)mode });
            }
        }
        return ms.ToArray();
    }

    private async Task StartRegistryAsync(Node n, CancellationToken ct)
    {
        var local = _cluster.Registry.Local;
        string? binary = _options.SealerBinary ?? (Environment.ProcessPath is { } p && Path.GetFileName(p) == "sealer" ? p : null);
        string remoteBin = "/usr/local/bin/sealer";
        if (binary is not null)
        {
            var bytes = await File.ReadAllBytesAsync(binary, ct).ConfigureAwait(false);
            string hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            await n.Ssh.RunWithInputAsync(
                $"b={remoteBin}; if [ -f \"$b\" ] && [ \"$(sha256sum \"$b\" | cut -c1-64)\" = {hex} ]; then cat > /dev/null; else mkdir -p /usr/local/bin; cat > \"$b.tmp\" && chmod 755 \"$b.tmp\" && mv -f \"$b.tmp\" \"$b\"; fi",
                (s, c) => s.WriteAsync(bytes, c).AsTask(), new CommandOptions { Description = $"{StepRegistry}: install sealer" }, ct).ConfigureAwait(false);
        }
        string htpasswdArg = "";
        if (local.Username is not null && local.Password is not null)
        {
            string line = $"{local.Username}:{BCrypt.Net.BCrypt.HashPassword(local.Password, 10)}\n";
            await n.Ssh.RunWithInputAsync($"umask 077; mkdir -p {Q(ClusterDir)}; cat > {Q(ClusterDir + "/registry.htpasswd")}",
                (s, c) => s.WriteAsync(Encoding.UTF8.GetBytes(line), c).AsTask(), new CommandOptions { Description = $"{StepRegistry}: write htpasswd" }, ct).ConfigureAwait(false);
            htpasswdArg = $" --htpasswd {Q(ClusterDir + "/registry.htpasswd")}";
        }
        string tlsArg = Tls ? $" --tls-cert {Q(RemoteCertDir + "/server.crt")} --tls-key {Q(RemoteCertDir + "/server.key")}" : "";
        string serve = $"sealer registry serve --layout {Q(Rootfs + "/registry")} --port {local.Port}{htpasswdArg}{tlsArg}";
        string script = $$"""
            export PATH={{Q(Rootfs + "/bin")}}:/usr/local/bin:$PATH
            cd {{Q(Rootfs)}}
            if ! command -v sealer >/dev/null; then
              if [ -f scripts/init-registry.sh ]; then bash scripts/init-registry.sh {{local.Port}} {{Q(Rootfs + "/registry")}} {{Q(local.Domain)}}; exit 0; fi
              echo "no 'sealer' binary on this host and no scripts/init-registry.sh in the image: pass --sealer-binary or ship bin/sealer in the image" >&2; exit 2
            fi
            [ -d registry ] || mkdir -p registry
            [ -f registry/oci-layout ] || { echo '{"imageLayoutVersion":"1.0.0"}' > registry/oci-layout; echo '{"schemaVersion":2,"manifests":[]}' > registry/index.json; }
            if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
              cat > /etc/systemd/system/sealer-registry.service.new <<EOF
            [Unit]
            Description=sealer cluster image registry ({{_cluster.Name}})
            After=network-online.target
            [Service]
            ExecStart=$(command -v sealer) registry serve --layout {{Rootfs}}/registry --port {{local.Port}}{{(htpasswdArg + tlsArg).Replace("'", "", StringComparison.Ordinal)}}
            Restart=always
            [Install]
            WantedBy=multi-user.target
            EOF
              if ! cmp -s /etc/systemd/system/sealer-registry.service.new /etc/systemd/system/sealer-registry.service; then
                mv -f /etc/systemd/system/sealer-registry.service.new /etc/systemd/system/sealer-registry.service
                systemctl daemon-reload; systemctl enable sealer-registry >/dev/null 2>&1; systemctl restart sealer-registry
              else rm -f /etc/systemd/system/sealer-registry.service.new; systemctl start sealer-registry; fi
            else
              pidf={{Q(ClusterDir + "/registry.pid")}}
              if ! { [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }; then
                nohup setsid {{serve}} >> {{Q(ClusterDir + "/registry.log")}} 2>&1 < /dev/null &
                echo $! > "$pidf"
              fi
            fi
            for i in $(seq 1 150); do
              if [ {{(Tls ? 1 : 0)}} = 1 ]; then
                if command -v curl >/dev/null; then
                  status=$(curl -s -o /dev/null -w '%{http_code}' --cacert {{Q(RemoteCertDir + "/ca.crt")}} https://127.0.0.1:{{local.Port}}/v2/ || true)
                  case "$status" in 200|401) echo "registry answers over TLS: $status"; exit 0;; esac
                elif (exec 3<>/dev/tcp/127.0.0.1/{{local.Port}}) 2>/dev/null; then echo "registry listens (TLS)"; exit 0; fi
              elif exec 3<>/dev/tcp/127.0.0.1/{{local.Port}} 2>/dev/null; then
                printf 'GET /v2/ HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
                status=$(head -n1 <&3); exec 3>&-
                case "$status" in *" 200"*|*" 401"*) echo "registry answers: $status"; exit 0;; esac
              fi
              sleep 0.2
            done
            echo "the registry did not answer on port {{local.Port}} within 30 s; its log:" >&2
            tail -n 20 {{Q(ClusterDir + "/registry.log")}} >&2 2>/dev/null || journalctl -u sealer-registry -n 20 >&2
            exit 1
            """;
        await n.Ssh.RunAsync(script, Cmd(n, StepRegistry, "start the registry"), ct).ConfigureAwait(false);
    }

    private async Task ConfigureRuntimeAsync(Node n, IReadOnlyList<string> registryIps, IReadOnlyList<string> domains, CancellationToken ct)
    {
        var local = _cluster.Registry.Local;
        if (_cluster.Registry.External is { } external)
        {
            // every domain is mirrored from the external registry (it holds the images under their original names)
            var ext = RegistryRuntimeConfig.Generate(domains.Where(d => d != local.Domain), [new RegistryEndpoint(external.Url, Tls: true)],
                new RuntimeConfigOptions { Docker = CriOf(n) == "docker" });
            var extTar = TarOf(ext.Files.Where(f => f.Path != "/etc/docker/daemon.json").ToDictionary(f => f.Path.TrimStart('/'), f => Encoding.UTF8.GetBytes(f.Content)), 0b110_100_100);
            await n.Ssh.RunWithInputAsync("tar -x -C / --no-same-owner", (st, c) => st.WriteAsync(extTar, c).AsTask(),
                new CommandOptions { Description = $"{StepRegistryConfig}: write containerd hosts.toml for {external.Url}" }, ct).ConfigureAwait(false);
            return;
        }
        if (registryIps.Count == 0) return;
        // this host's own registry first, then the others: containerd tries them in order
        var endpoints = registryIps.OrderBy(ip => ip == n.Ip ? 0 : 1).Select(ip => new RegistryEndpoint($"{ip}:{local.Port}", Tls: Tls)).ToList();
        if (Tls && _caPem is null)
        {
            string caFile = Path.Combine(LocalCertDir, CertificateGenerator.CaCertificateFile);
            _caPem = File.Exists(caFile) ? File.ReadAllText(caFile) : null;
        }
        bool docker = CriOf(n) == "docker";
        var config = RegistryRuntimeConfig.Generate(domains, endpoints, new RuntimeConfigOptions { Docker = docker, CaPem = _caPem });
        if (docker)
        {
            // never overwrite the host's daemon.json: merge our mirrors into what is there
            var existing = await n.Ssh.RunAsync("cat /etc/docker/daemon.json 2>/dev/null || true", new CommandOptions { Description = $"{StepRegistryConfig}: read daemon.json" }, ct).ConfigureAwait(false);
            config = config with
            {
                Files = config.Files.Select(f => f.Path == "/etc/docker/daemon.json" ? f with { Content = MergeDaemonJson(existing.Stdout, f.Content, n.Ip) } : f).ToList(),
            };
        }
        using var ms = new MemoryStream();
        using (var tar = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var f in config.Files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, f.Path.TrimStart('/')) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(f.Content)), Mode = f.Mode });
            }
        }
        var data = ms.ToArray();
        await n.Ssh.RunWithInputAsync("tar -x -C / --no-same-owner", (s, c) => s.WriteAsync(data, c).AsTask(),
            new CommandOptions { Description = $"{StepRegistryConfig}: write containerd hosts.toml for {domains.Count} domains" }, ct).ConfigureAwait(false);
        if (docker)
        {
            await n.Ssh.RunAsync("if command -v systemctl >/dev/null && systemctl is-active -q docker 2>/dev/null; then systemctl reload docker || systemctl restart docker; fi",
                Cmd(n, StepRegistryConfig, "reload docker"), ct).ConfigureAwait(false);
        }
        // containerd reads certs.d only when config_path points there
        const string fix = """
            c=/etc/containerd/config.toml
            if [ -f "$c" ]; then
              if grep -q 'config_path *= *""' "$c"; then sed -i 's|config_path *= *""|config_path = "/etc/containerd/certs.d"|' "$c"; changed=1
              elif ! grep -q 'config_path' "$c"; then printf '\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n' >> "$c"; changed=1; fi
              if [ -n "$changed" ] && command -v systemctl >/dev/null && systemctl is-active -q containerd 2>/dev/null; then systemctl restart containerd; fi
            fi
            true
            """;
        await n.Ssh.RunAsync(fix, Cmd(n, StepRegistryConfig, "point containerd at certs.d"), ct).ConfigureAwait(false);
    }

    /// <summary>Adds our registry-mirrors / insecure-registries to an existing daemon.json, keeping every other setting.</summary>
    internal static string MergeDaemonJson(string existing, string ours, string host)
    {
        if (string.IsNullOrWhiteSpace(existing)) return ours;
        System.Text.Json.Nodes.JsonObject current;
        try
        {
            current = System.Text.Json.Nodes.JsonNode.Parse(existing) as System.Text.Json.Nodes.JsonObject
                ?? throw new System.Text.Json.JsonException("not an object");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new SealerException(ErrorCodes.RunStepFailed, $"{host}: /etc/docker/daemon.json is not a JSON object ({ex.Message}); fix it, then run again.", inner: ex);
        }
        var add = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(ours)!;
        foreach (var key in new[] { "registry-mirrors", "insecure-registries" })
        {
            if (add[key] is not System.Text.Json.Nodes.JsonArray wanted) continue;
            var list = current[key] as System.Text.Json.Nodes.JsonArray ?? [];
            var have = list.Select(x => x?.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
            var merged = new System.Text.Json.Nodes.JsonArray();
            foreach (var v in wanted.Select(x => x!.GetValue<string>())) merged.Add((System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create(v)); // ours first: tried first
            foreach (var v in have.Where(v => v is not null && !wanted.Any(w => w!.GetValue<string>() == v))) merged.Add((System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create(v));
            current[key] = merged;
        }
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true })) current.WriteTo(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    private string KubePath => $"export PATH={Q(Rootfs + "/bin")}:$PATH; cd {Q(Rootfs)}";

    private async Task KubeadmInitAsync(Node master0, CancellationToken ct)
    {
        string script = $"{KubePath}\ncommand -v kubeadm >/dev/null || {{ echo 'the cluster image has no kubeadm (bin/kubeadm)' >&2; exit 2; }}\n" +
                        "if [ -f etc/kubeadm.yml ]; then kubeadm init --config etc/kubeadm.yml --upload-certs; " +
                        $"else kubeadm init --upload-certs --control-plane-endpoint {ApiServerDomain}:6443 --apiserver-cert-extra-sans {Q(string.Join(',', new[] { "127.0.0.1", ApiServerDomain, Vip }.Concat(_cluster.Masters.Select(m => m.Ip))))}; fi\n" +
                        "if [ -f /etc/kubernetes/admin.conf ]; then mkdir -p \"$HOME/.kube\"; cp -f /etc/kubernetes/admin.conf \"$HOME/.kube/config\"; fi";
        await master0.Ssh.RunAsync(script, Cmd(master0, StepKubeadmInit, "kubeadm init"), ct).ConfigureAwait(false);
    }

    private async Task JoinAsync(Node master0, Node n, CancellationToken ct)
    {
        var join = await master0.Ssh.RunAsync($"{KubePath}\nkubeadm token create --print-join-command", Cmd(master0, StepJoin, "kubeadm token create"), ct).ConfigureAwait(false);
        string command = join.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.TrimStart().StartsWith("kubeadm join", StringComparison.Ordinal))?.Trim()
            ?? throw new SealerException(ErrorCodes.RemoteCommandFailed, $"{master0.Ip}: 'kubeadm token create --print-join-command' printed no join command.");
        if (n.Spec.IsMaster)
        {
            var certs = await master0.Ssh.RunAsync($"{KubePath}\nkubeadm init phase upload-certs --upload-certs", Cmd(master0, StepJoin, "kubeadm upload-certs"), ct).ConfigureAwait(false);
            string key = certs.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().Trim();
            command += $" --control-plane --certificate-key {key}";
        }
        else
        {
            // workers join through the local VIP (Sealer: Discovery.BootstrapToken.APIServerEndpoint = VIP:6443)
            command = JoinEndpointRegex().Replace(command, "kubeadm join " + VipEndpoint, 1);
        }
        await n.Ssh.RunAsync($"{KubePath}\n{command}", Cmd(n, StepJoin, n.Spec.IsMaster ? "kubeadm join --control-plane" : "kubeadm join") with { Description = $"{StepJoin}: kubeadm join{(n.Spec.IsMaster ? " --control-plane" : "")}" }, ct).ConfigureAwait(false);
        if (n.Spec.IsMaster) await WriteEtcHostsAsync(n, RegistryHosts(), ct, joinedMaster: true).ConfigureAwait(false);
    }

    /// <summary>Sealer's API server domain (common.DefaultAPIserverDomain; not configurable in Sealer either).</summary>
    public const string ApiServerDomain = "apiserver.cluster.local";

    /// <summary>Sealer's local VIP for the API servers (common.DefaultVIP / DefaultVIPForIPv6), overridden by env IPvsVIPv4 / IPvsVIPv6.</summary>
    public const string DefaultVip = "10.103.97.2", DefaultVipV6 = "1248:4003:10bb:6a01:83b9:6360:c66d:0002";

    /// <summary>The static pod on every worker (Sealer: /etc/kubernetes/manifests/kube-lvscare.yaml, pod kube-lvscare).</summary>
    public const string LvscareManifest = "/etc/kubernetes/manifests/kube-lvscare.yaml";

    /// <summary>Sealer's common.LvsCareRepoAndTag, under the cluster's registry.</summary>
    public const string LvscareRepoAndTag = "sealerio/lvscare:v1.1.3-beta.8";

    private string Vip => VipOf(_cluster);

    /// <summary>Sealer's VIP: env IPvsVIPv4 (IPvsVIPv6 for IPv6 hosts) from spec.env, else 10.103.97.2 (its IPv6 default).</summary>
    internal static string VipOf(ClusterSpec cluster)
    {
        string? v4 = cluster.Env.LastOrDefault(e => e.Key == "IPvsVIPv4").Value, v6 = cluster.Env.LastOrDefault(e => e.Key == "IPvsVIPv6").Value;
        bool ipv6 = System.Net.IPAddress.TryParse(cluster.Hosts[0].Ip, out var first) && first.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        return (ipv6 ? v6 ?? v4 : v4 ?? v6) ?? (ipv6 ? DefaultVipV6 : DefaultVip);
    }

    private string VipEndpoint => HostPort(Vip, 6443);

    private static string HostPort(string ip, int port) => ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]:{port}" : $"{ip}:{port}";

    [System.Text.RegularExpressions.GeneratedRegex(@"kubeadm join \S+")]
    private static partial System.Text.RegularExpressions.Regex JoinEndpointRegex();

    /// <summary>
    /// The lvscare image: env <c>LvscareImage</c>; else an lvscare image the cluster image carries (by its full name: we
    /// never rewrite references); else Sealer's name, <c>&lt;RegistryURL&gt;/sealerio/lvscare:v1.1.3-beta.8</c> (served from
    /// a Sealer base image's registry content, which has no domain).
    /// </summary>
    private string LvscareImage(ClusterImageSource image, Node master0)
    {
        if (_cluster.Env.LastOrDefault(e => e.Key == "LvscareImage").Value is { Length: > 0 } set) return set;
        var carried = image.RegistryImages(master0.Platform).Where(r => r.Split('@')[0].Split(':')[0].EndsWith("/lvscare", StringComparison.Ordinal) || r.Contains("/lvscare:", StringComparison.Ordinal))
            .OrderByDescending(r => r.Contains(LvscareRepoAndTag, StringComparison.Ordinal)).FirstOrDefault();
        if (carried is not null) return carried;
        string registry = master0.Env.LastOrDefault(e => e.Key == "RegistryURL").Value ?? _cluster.Registry.Local.Url;
        return $"{registry}/{LvscareRepoAndTag}";
    }

    /// <summary>Sealer's kube-lvscare static pod (pkg/ipvs LvsStaticPodYaml): VIP:6443 over every master's :6443, sorted.</summary>
    internal static string LvscarePod(string clusterName, string vipEndpoint, IEnumerable<string> masterIps, string image)
    {
        var sb = new StringBuilder();
        sb.Append("# Generated by sealer for cluster ").Append(clusterName).Append(": the local VIP ").Append(vipEndpoint).Append(" over the API servers\n");
        sb.Append("apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: null\n  name: kube-lvscare\n  namespace: kube-system\nspec:\n  containers:\n  - args:\n");
        sb.Append("    - care\n    - --vs\n    - ").Append(vipEndpoint).Append("\n    - --health-path\n    - /healthz\n    - --health-schem\n    - https\n");
        foreach (var m in masterIps.Order(StringComparer.Ordinal)) sb.Append("    - --rs\n    - ").Append(HostPort(m, 6443)).Append('\n');
        sb.Append("    command:\n    - /usr/bin/lvscare\n    image: ").Append(image).Append('\n');
        sb.Append("    imagePullPolicy: IfNotPresent\n    name: main\n    resources: {}\n    securityContext:\n      privileged: true\n");
        sb.Append("    volumeMounts:\n    - mountPath: /lib/modules\n      name: lib-modules\n      readOnly: true\n");
        sb.Append("  hostNetwork: true\n  volumes:\n  - hostPath:\n      path: /lib/modules\n    name: lib-modules\nstatus: {}\n");
        return sb.ToString();
    }

    /// <summary>
    /// Every worker gets the kube-lvscare static pod over the masters of the Clusterfile (rewritten only when it changes, so
    /// kubelet does not restart lvscare for nothing), and the IPVS rules at once, so kubeadm join reaches the VIP before
    /// kubelet runs lvscare: Sealer's <c>seautil ipvs --run-once</c> when the image ships seautil, else ipvsadm.
    /// </summary>
    private async Task ConfigureLvscareAsync(IReadOnlyList<Node> workers, ClusterImageSource? image, Node? master0, CancellationToken ct,
        IReadOnlyList<string>? masters = null, string? imageName = null)
    {
        if (workers.Count == 0) return;
        masters ??= _cluster.Masters.Select(m => m.Ip).ToList();
        string lvsImage = imageName ?? LvscareImage(image!, master0!);
        string pod = LvscarePod(_cluster.Name, VipEndpoint, masters, lvsImage);
        string rs = string.Join(" ", masters.Order(StringComparer.Ordinal).Select(m => "--rs " + HostPort(m, 6443)));
        string script = $$"""
            {{KubePath}}
            f={{LvscareManifest}}; t=/etc/kubernetes/.kube-lvscare.yaml.new
            mkdir -p /etc/kubernetes/manifests
            cat > "$t" <<'SEALER_LVSCARE'
            {{pod}}SEALER_LVSCARE
            if cmp -s "$t" "$f"; then rm -f "$t"; echo "lvscare: unchanged"; else mv -f "$t" "$f"; echo "lvscare: updated"; fi
            if command -v seautil >/dev/null 2>&1; then
              seautil ipvs --vs {{VipEndpoint}} {{rs}} --health-path /healthz --health-schem https --run-once
            elif command -v ipvsadm >/dev/null 2>&1; then
              ipvsadm -D -t {{VipEndpoint}} >/dev/null 2>&1 || true
              if ipvsadm -A -t {{VipEndpoint}} -s rr; then for r in {{string.Join(" ", masters.Order(StringComparer.Ordinal).Select(m => HostPort(m, 6443)))}}; do ipvsadm -a -t {{VipEndpoint}} -r "$r" -m || true; done
              else echo "warning: ipvsadm could not add {{VipEndpoint}}; kube-lvscare adds it once kubelet runs" >&2; fi
            else
              echo "note: neither seautil nor ipvsadm here: the VIP {{VipEndpoint}} works once kubelet runs kube-lvscare" >&2
            fi
            """;
        var changed = new List<string>();
        var failures = new List<string>();
        await Task.WhenAll(workers.Select(async w =>
        {
            try
            {
                var r = await w.Ssh.RunAsync(script, Cmd(w, "lvscare", $"write {LvscareManifest} ({masters.Count} master(s))"), ct).ConfigureAwait(false);
                if (r.Stdout.Contains("lvscare: updated", StringComparison.Ordinal)) lock (changed) changed.Add(w.Ip);
            }
            catch (SealerException ex)
            {
                lock (failures) failures.Add($"{w.Ip}: {ex.Message}");
            }
        })).ConfigureAwait(false);
        foreach (var ip in changed.Order(StringComparer.Ordinal)) lock (_run) _run.Add($"{ip}:lvscare");
        _options.Status?.Invoke($"{"lvscare",-16} {workers.Count} worker(s), VIP {VipEndpoint} over {masters.Count} master(s){(changed.Count > 0 ? $", updated on {changed.Count}" : ", unchanged")}");
        if (failures.Count > 0)
        {
            throw new SealerException(ErrorCodes.RunStepFailed, $"Step 'lvscare' failed on {failures.Count} host(s):\n{string.Join("\n", failures)}\nFix the cause and run again.");
        }
    }

    private Task LabelsAsync(Node master0, IReadOnlyList<Node> nodes, CancellationToken ct)
    {
        var sb = new StringBuilder(KubePath).Append('\n');
        foreach (var n in nodes)
        {
            foreach (var (k, v) in n.Spec.Labels) sb.Append("kubectl label node ").Append(Q(n.Hostname)).Append(' ').Append(Q($"{k}={v}")).Append(" --overwrite\n");
            foreach (var t in n.Spec.Taints) sb.Append("kubectl taint node ").Append(Q(n.Hostname)).Append(' ').Append(Q(t)).Append(" --overwrite\n");
        }
        return master0.Ssh.RunAsync(sb.ToString(), Cmd(master0, StepLabels, "label and taint nodes"), ct);
    }

    /// <summary>What the apps step launches: raw commands, or apps in order.</summary>
    internal sealed record LaunchPlan(IReadOnlyList<string>? Cmds, IReadOnlyList<string> Apps, string Source);

    private LaunchPlan? _launchPlan;

    /// <summary>
    /// Sealer's precedence (cmd/sealer/cmd/utils ConstructApplication + pkg/application NewAppDriver): Cluster spec.cmd, else
    /// Application spec.cmds, else the apps of Cluster spec.appNames, else Application spec.launchApps (<c>[""]</c>: none),
    /// else the image's CMDS, else its LAUNCH app names.
    /// </summary>
    private LaunchPlan PlanLaunch(SealerImageExtension ext) => PlanLaunch(_doc, ext);

    internal static LaunchPlan PlanLaunch(ClusterfileDocument doc, SealerImageExtension ext)
    {
        var appDoc = doc.Applications.LastOrDefault();
        var cluster = doc.Cluster;
        if (cluster.Cmd.Count > 0) return new(cluster.Cmd, [], "spec.cmd");
        if (appDoc is { Cmds.Count: > 0 }) return new(appDoc.Cmds, [], "Application spec.cmds");
        if (cluster.AppNames.Count > 0) return new(null, cluster.AppNames.Where(a => a.Length > 0).ToList(), "spec.appNames");
        if (appDoc?.LaunchApps is { } la) return new(null, la.Where(a => a.Length > 0).Distinct(StringComparer.Ordinal).ToList(), "Application spec.launchApps");
        if (ext.LaunchCmds.Count > 0) return new(ext.LaunchCmds, [], "the image's CMDS");
        return new(null, ext.LaunchApps, "the image's LAUNCH");
    }

    /// <summary>Before anything changes: every app to launch exists in the image; configs of apps not launched are reported.</summary>
    private void ValidateLaunch(ClusterImageSource image, ClusterImagePlatform platform)
    {
        var ext = image.Extension(platform);
        var plan = _launchPlan = PlanLaunch(ext);
        var known = ext.Apps.Select(a => a.Name).Concat(ext.LaunchApps).ToHashSet(StringComparer.Ordinal);
        var unknown = plan.Apps.Where(a => !known.Contains(a)).ToList();
        if (unknown.Count > 0)
        {
            // images without an applications list: look for the app's directory in the rootfs
            var dirs = image.ReadFileEntries(platform, p => unknown.Any(a => p.StartsWith($"application/apps/{a}/", StringComparison.Ordinal)))
                .Keys.Select(AppOf).OfType<string>().ToHashSet(StringComparer.Ordinal);
            unknown.RemoveAll(dirs.Contains);
        }
        if (unknown.Count > 0)
        {
            var appDoc = _doc.Applications.LastOrDefault();
            var loc = plan.Source == "spec.appNames" || appDoc is null ? _cluster.Location : appDoc.LaunchAppsLocation;
            known.UnionWith(image.ReadFileEntries(platform, p => p.StartsWith("application/apps/", StringComparison.Ordinal)).Keys.Select(AppOf).OfType<string>());
            throw new SealerException(ErrorCodes.AppNotInImage,
                $"{plan.Source} names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which the cluster image {image.Reference} does not have (its apps: {(known.Count == 0 ? "none" : string.Join(", ", known.Order(StringComparer.Ordinal)))}). Fix the name, or build the image with that app.",
                loc.File, loc.Line, loc.Column);
        }
        foreach (var c in _doc.Applications.LastOrDefault()?.Configs ?? [])
        {
            if (!plan.Apps.Contains(c.Name))
            {
                _options.Logger.LogWarning("{Location}: app '{App}' is configured but not launched ({Source} launches {Apps}); its config is ignored, as in Sealer", c.Location, c.Name, plan.Source, plan.Cmds is null ? string.Join(", ", plan.Apps) : "commands");
            }
        }
    }

    /// <summary>The app a rootfs path belongs to (<c>application/apps/NAME/...</c>).</summary>
    private static string? AppOf(string path)
    {
        const string prefix = "application/apps/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal)) return null;
        int slash = path.IndexOf('/', prefix.Length);
        return slash > prefix.Length ? path[prefix.Length..slash] : null;
    }

    private AppConfig? ConfigOf(string app) => _launchPlan is { } plan && plan.Apps.Contains(app)
        ? _doc.Applications.LastOrDefault()?.Configs.FirstOrDefault(c => c.Name == app) : null;

    /// <summary>The host's env, then the image's APPENV for the app, then the Application config's env.</summary>
    private IReadOnlyList<KeyValuePair<string, string>> AppEnv(IReadOnlyList<KeyValuePair<string, string>> hostEnv, SealerImageExtension ext, string app) =>
        DeliveryEnv.WithAppEnv(hostEnv, (ext.Apps.FirstOrDefault(a => a.Name == app)?.Env ?? new Dictionary<string, string>())
            .Concat(ConfigOf(app)?.Env ?? []));

    /// <summary>An Application config file, to write into (or merge with) a file under the app's directory.</summary>
    internal sealed record AppFileOverride(string App, AppFileSpec File)
    {
        private string Direct => $"application/apps/{App}/{File.Path}";

        public bool Matches(string p) => p == Direct || Nested(p);

        // the SDK (like Sealer's APP name local://dir) may keep each source under application/apps/NAME/LEAF/
        private bool Nested(string p) => p.StartsWith($"application/apps/{App}/", StringComparison.Ordinal) && p.EndsWith("/" + File.Path, StringComparison.Ordinal)
            && p.Length - $"application/apps/{App}/".Length - File.Path.Length - 1 is > 0 and var leafLength && !p.AsSpan($"application/apps/{App}/".Length, leafLength).Contains('/');

        public IReadOnlyList<string> Targets(IReadOnlyList<string> existing)
        {
            if (existing.Contains(Direct)) return [Direct];
            var nested = existing.Where(Nested).Order(StringComparer.Ordinal).ToList();
            if (nested.Count > 0) return nested;
            if (File.Strategy == "merge")
            {
                throw new SealerException(ErrorCodes.ClusterfileBadConfig,
                    $"App '{App}': '{File.Path}' (strategy: merge) is not in the cluster image (no {Direct}). Fix the path (relative to the app's directory) or use strategy: overwrite.",
                    File.Location.File, File.Location.Line, File.Location.Column);
            }
            return [Direct];
        }
    }

    private List<AppFileOverride> AppFileOverrides() =>
        (_doc.Applications.LastOrDefault()?.Configs ?? []).Where(c => ConfigOf(c.Name) is not null).SelectMany(c => c.Files.Select(f => new AppFileOverride(c.Name, f))).ToList();

    /// <summary>Sealer's app file strategies: overwrite, or merge (every YAML document of the file deep-merged with the data, data wins).</summary>
    internal static string ApplyAppFile(AppFileOverride a, string? existing, string path)
    {
        if (a.File.Strategy == "overwrite" || existing is null) return a.File.Data;
        try
        {
            var over = new YamlStream();
            over.Load(new StringReader(a.File.Data));
            if (over.Documents.Count != 1 || over.Documents[0].RootNode is not YamlMappingNode o)
            {
                throw new SealerException(ErrorCodes.ClusterfileBadConfig, $"App '{a.App}': the data to merge into {a.File.Path} is not one YAML mapping. Use strategy: overwrite for other content.",
                    a.File.Location.File, a.File.Location.Line, a.File.Location.Column);
            }
            var target = new YamlStream();
            target.Load(new StringReader(existing));
            var parts = new List<string>();
            foreach (var d in target.Documents)
            {
                if (d.RootNode is not YamlMappingNode m)
                {
                    throw new SealerException(ErrorCodes.ClusterfileBadConfig, $"App '{a.App}': {path} in the image holds a YAML document that is not a mapping; it cannot be merged. Use strategy: overwrite.",
                        a.File.Location.File, a.File.Location.Line, a.File.Location.Column);
                }
                MergeMappings(m, o);
                var w = new StringWriter();
                new YamlStream(d).Save(w, assignAnchors: false);
                string text = w.ToString();
                parts.Add(text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text);
            }
            if (parts.Count == 0) return a.File.Data;
            return string.Join("---\n", parts);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new SealerException(ErrorCodes.ClusterfileBadConfig, $"App '{a.App}': cannot merge into {path}: {ex.Message}. Use strategy: overwrite.", a.File.Location.File, a.File.Location.Line, inner: ex);
        }
    }

    private static void MergeMappings(YamlMappingNode into, YamlMappingNode from)
    {
        foreach (var (k, v) in from.Children)
        {
            if (into.Children.TryGetValue(k, out var existingNode) && existingNode is YamlMappingNode em && v is YamlMappingNode vm) MergeMappings(em, vm);
            else into.Children[k] = v;
        }
    }

    private async Task LaunchAppsAsync(Node master0, SealerImageExtension ext, CancellationToken ct)
    {
        var plan = _launchPlan ?? PlanLaunch(ext);
        if (plan.Cmds is not null)
        {
            // raw commands run from the rootfs, as Sealer's CdAndExecCmd does
            foreach (var c in plan.Cmds) await master0.Ssh.RunAsync($"{KubePath}\n{c}", Cmd(master0, StepApps, c), ct).ConfigureAwait(false);
            return;
        }
        foreach (var app in plan.Apps)
        {
            string dir = $"application/apps/{app}";
            var config = ConfigOf(app);
            var opts = Cmd(master0, StepApps, $"launch app '{app}'") with { Env = AppEnv(master0.Env, ext, app) };
            if (config is { Cmds.Count: > 0 })
            {
                // Application launch cmds replace the app's launch; they run from the rootfs (Sealer's CdAndExecCmd)
                foreach (var c in config.Cmds) await master0.Ssh.RunAsync($"{KubePath}\n{c}", opts with { Description = $"{StepApps}: app '{app}': {c}" }, ct).ConfigureAwait(false);
                continue;
            }
            if (config?.Helm is null && ext.Apps.FirstOrDefault(a => a.Name == app) is { Cmds.Count: > 0 } registered)
            {
                // APPCMDS: cd to the app's directory, then the commands (Sealer's GetAppLaunchCmd)
                await master0.Ssh.RunAsync($"{KubePath}\ncd {Q(dir)}\n{string.Join(" ", registered.Cmds)}", opts, ct).ConfigureAwait(false);
                continue;
            }
            var helm = config?.Helm ?? new HelmLaunch();
            var flags = new StringBuilder();
            flags.Append(" --namespace ").Append(Q(helm.Namespace ?? app));
            if (helm.CreateNamespace) flags.Append(" --create-namespace");
            if (helm.Wait ?? true) flags.Append(" --wait");
            if (helm.Timeout is not null) flags.Append(" --timeout ").Append(Q(helm.Timeout));
            if (helm.SkipCrds) flags.Append(" --skip-crds");
            if (helm.DisableHooks) flags.Append(" --no-hooks");
            var valueFiles = string.Join(" ", helm.ValueFiles.Select(Q));
            var sets = string.Join(" ", helm.Values.Select(v => "--set " + Q(v)));
            string script = $$"""
                {{KubePath}}
                d={{Q(dir)}}
                [ -d "$d" ] || { echo "app '{{app}}' is not in the cluster image (no $d)" >&2; exit 2; }
                helm_install() {
                  local chart="$1" f args=()
                  for f in {{valueFiles}}; do
                    case "$f" in /*) ;; *) if [ -f "$chart/$f" ]; then f="$chart/$f"; elif [ -f "$d/$f" ]; then f="$d/$f"; fi;; esac
                    [ -f "$f" ] || { echo "app '{{app}}': values file $f is not in the cluster image" >&2; exit 2; }
                    args+=(-f "$f")
                  done
                  helm upgrade --install {{Q(helm.Name ?? app)}} "$chart"{{flags}} "${args[@]}" {{sets}}
                }
                if [ -f "$d/Chart.yaml" ]; then helm_install "$d"
                elif ls "$d"/*.sh >/dev/null 2>&1; then for s in "$d"/*.sh; do bash "$s"; done
                elif compgen -G "$d/*.yaml" >/dev/null || compgen -G "$d/*.yml" >/dev/null; then kubectl apply -f "$d"
                else
                  # the SDK (like Sealer's APP name local://dir) keeps each source under application/apps/<name>/<leaf>/
                  for c in "$d"/*/; do
                    c="${c%/}"
                    if [ -f "$c/Chart.yaml" ]; then helm_install "$c"
                    elif ls "$c"/*.sh >/dev/null 2>&1; then for s in "$c"/*.sh; do bash "$s"; done
                    elif compgen -G "$c/*.yaml" >/dev/null || compgen -G "$c/*.yml" >/dev/null; then kubectl apply -f "$c"
                    fi
                  done
                fi
                """;
            await master0.Ssh.RunAsync(script, opts, ct).ConfigureAwait(false);
        }
    }

    // ---------------------------------------------------------------- check

    /// <summary><c>sealer check</c>: every host reachable, rootfs of the recorded image, registry answering, hosts.toml in place, no unfinished step.</summary>
    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken = default)
    {
        var knownHosts = KnownHosts.Load(_options.Ssh.KnownHostsPath);
        var (nodes, problems) = await ConnectAllAsync(_cluster.Hosts, knownHosts, cancellationToken).ConfigureAwait(false);
        var ok = new List<string>();
        try
        {
            var master0 = nodes.FirstOrDefault(n => n.Ip == _cluster.Masters.First().Ip);
            _state = await LoadStateAsync(master0, cancellationToken).ConfigureAwait(false);
            var registryIps = RegistryHosts();
            var port = _cluster.Registry.Local.Port;
            await Task.WhenAll(nodes.Select(async n =>
            {
                string script = $$"""
                    set +e
                    [ -f {{Q(Rootfs + "/.sealer-image")}} ] && echo "image=$(cat {{Q(Rootfs + "/.sealer-image")}})"
                    [ -f /etc/containerd/certs.d/_default/hosts.toml ] && echo certs=ok
                    if (exec 3<>/dev/tcp/127.0.0.1/{{port}}) 2>/dev/null; then echo registry=up; fi
                    [ -f {{LvscareManifest}} ] && awk '/- --rs$/ { getline; sub(/^ *- /, ""); print "lvs-rs=" $0 }' {{LvscareManifest}}
                    awk '$2 == "{{ApiServerDomain}}" { print "apiserver=" $1 }' /etc/hosts
                    true
                    """;
                var r = await n.Ssh.RunAsync(script, new CommandOptions { Description = "check" }, cancellationToken).ConfigureAwait(false);
                var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                lock (ok)
                {
                    if (!_state.Hosts.TryGetValue(n.Ip, out var hs)) problems.Add(new PreflightProblem(n.Ip, "state", "the host is in the Clusterfile but was never installed: run 'sealer run' (or 'sealer join')."));
                    else if (!hs.Steps.Contains(StepPostInstall)) problems.Add(new PreflightProblem(n.Ip, "state", $"the install stopped after '{hs.Steps.LastOrDefault() ?? "nothing"}': run 'sealer run' again to finish it."));
                    var image = lines.FirstOrDefault(l => l.StartsWith("image=", StringComparison.Ordinal))?[6..];
                    if (image is null) problems.Add(new PreflightProblem(n.Ip, "rootfs", $"no rootfs under {Rootfs}: run 'sealer run' again."));
                    else if (!_state.ManifestDigests.ContainsValue(image)) problems.Add(new PreflightProblem(n.Ip, "rootfs", $"the rootfs is from {image}, not the recorded image."));
                    else ok.Add($"{n.Ip}: rootfs {image[..19]}");
                    if (lines.Contains("certs=ok")) ok.Add($"{n.Ip}: containerd hosts.toml");
                    else problems.Add(new PreflightProblem(n.Ip, "registry-config", "no /etc/containerd/certs.d/_default/hosts.toml: run 'sealer run' again."));
                    if (registryIps.Contains(n.Ip))
                    {
                        if (lines.Contains("registry=up")) ok.Add($"{n.Ip}: registry on port {port}");
                        else problems.Add(new PreflightProblem(n.Ip, "registry", $"nothing listens on port {port}: run 'sealer run' again to restart the registry."));
                    }
                    if (_state.ClusterDone(StepKubeadmInit) && hs is not null && (hs.Steps.Contains(StepJoin) || n.Ip == _cluster.Masters.First().Ip))
                    {
                        CheckVip(n, lines, ok, problems);
                    }
                }
            })).ConfigureAwait(false);
            if (master0 is not null && _state.ClusterDone(StepKubeadmInit))
            {
                await CheckWorkloadsAsync(master0, ok, problems, cancellationToken).ConfigureAwait(false);
            }
            foreach (var ip in _state.Hosts.Keys.Where(ip => _cluster.Hosts.All(h => h.Ip != ip)))
            {
                problems.Add(new PreflightProblem(ip, "state", "the host is installed but no longer in the Clusterfile: 'sealer delete --hosts " + ip + "' removes it."));
            }
            return new CheckResult(ok, problems);
        }
        finally
        {
            foreach (var n in nodes) n.Ssh.Dispose();
        }
    }

    /// <summary>The API server domain in /etc/hosts and, on workers, kube-lvscare over exactly the masters of the Clusterfile.</summary>
    private void CheckVip(Node n, HashSet<string> lines, List<string> ok, List<PreflightProblem> problems)
    {
        string? alias = lines.FirstOrDefault(l => l.StartsWith("apiserver=", StringComparison.Ordinal))?["apiserver=".Length..];
        string want = n.Spec.IsMaster ? n.Ip : Vip;
        if (alias != want)
        {
            problems.Add(new PreflightProblem(n.Ip, "vip", $"{ApiServerDomain} resolves to {alias ?? "nothing"} in /etc/hosts, not {want}: run 'sealer run' again."));
        }
        if (n.Spec.IsMaster) return;
        var have = lines.Where(l => l.StartsWith("lvs-rs=", StringComparison.Ordinal)).Select(l => l["lvs-rs=".Length..]).Order(StringComparer.Ordinal).ToList();
        var masters = _cluster.Masters.Select(m => HostPort(m.Ip, 6443)).Order(StringComparer.Ordinal).ToList();
        if (have.Count == 0) problems.Add(new PreflightProblem(n.Ip, "vip", $"no {LvscareManifest}: the worker cannot reach the API servers through {VipEndpoint}; run 'sealer run' again."));
        else if (!have.SequenceEqual(masters)) problems.Add(new PreflightProblem(n.Ip, "vip", $"kube-lvscare balances over {string.Join(", ", have)}, but the masters are {string.Join(", ", masters)}: run 'sealer run' again to update it."));
        else ok.Add($"{n.Ip}: lvscare {VipEndpoint} over {masters.Count} master(s)");
    }

    /// <summary>The apps' workloads through kubectl on master0: desired vs ready, image pull errors, crash loops.</summary>
    private async Task CheckWorkloadsAsync(Node master0, List<string> ok, List<PreflightProblem> problems, CancellationToken ct)
    {
        var opts = new CommandOptions { Description = "check: kubectl", Check = false, Timeout = TimeSpan.FromMinutes(1) };
        var workloads = await master0.Ssh.RunAsync($"{KubePath}\nkubectl get deployments,statefulsets,daemonsets -A -o json", opts, ct).ConfigureAwait(false);
        var pods = workloads.Succeeded ? await master0.Ssh.RunAsync($"{KubePath}\nkubectl get pods -A -o json", opts, ct).ConfigureAwait(false) : workloads;
        if (!workloads.Succeeded || !pods.Succeeded)
        {
            var failed = workloads.Succeeded ? pods : workloads;
            problems.Add(new PreflightProblem(master0.Ip, "kubernetes", $"'kubectl get' failed with exit code {failed.ExitCode}: {string.Join(" | ", failed.LastLines.TakeLast(3))}; is the API server up (KUBECONFIG, /etc/kubernetes/admin.conf)?"));
            return;
        }
        List<string> good;
        List<PreflightProblem> bad;
        try
        {
            (good, bad) = WorkloadHealth.Evaluate(master0.Ip, workloads.Stdout, pods.Stdout);
        }
        catch (System.Text.Json.JsonException ex)
        {
            problems.Add(new PreflightProblem(master0.Ip, "kubernetes", $"'kubectl get -o json' printed something that is not JSON ({ex.Message})."));
            return;
        }
        lock (ok)
        {
            ok.AddRange(good);
            problems.AddRange(bad);
            if (good.Count == 0 && bad.Count == 0) ok.Add($"{master0.Ip}: kubernetes answers (no workloads)");
        }
    }

    // ---------------------------------------------------------------- delete

    /// <summary>
    /// <c>sealer delete</c>: on the given hosts (all when null): pre-clean-host plugins, kubeadm reset, registry stopped,
    /// hosts.toml and /etc/hosts entries removed, rootfs and content store removed, post-clean-host plugins; state updated.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteAsync(IReadOnlyList<string>? hostIps = null, CancellationToken cancellationToken = default)
    {
        var targets = hostIps is null ? _cluster.Hosts.ToList() : _cluster.Hosts.Where(h => hostIps.Contains(h.Ip)).ToList();
        foreach (var ip in hostIps ?? [])
        {
            if (_cluster.Hosts.All(h => h.Ip != ip)) throw new SealerException(ErrorCodes.HostNotInCluster, $"{ip} is not a host of cluster '{_cluster.Name}' (see the Clusterfile).");
        }
        var knownHosts = KnownHosts.Load(_options.Ssh.KnownHostsPath);
        var master0Spec = _cluster.Masters.First();
        var connectTo = targets.Any(t => t.Ip == master0Spec.Ip) ? targets : targets.Append(master0Spec).ToList();
        var (nodes, problems) = await ConnectAllAsync(connectTo, knownHosts, cancellationToken).ConfigureAwait(false);
        try
        {
            if (problems.Count > 0) throw Preflight.Failure(problems);
            var master0 = nodes.First(n => n.Ip == master0Spec.Ip);
            _state = await LoadStateAsync(master0, cancellationToken).ConfigureAwait(false);
            var registryHosts = RegistryHosts();
            foreach (var n in nodes)
            {
                n.Env = DeliveryEnv.For(_cluster, n.Spec, [], _cluster.ContainerRuntime ?? "containerd", registryHosts);
            }
            bool all = targets.Count == _cluster.Hosts.Count;
            var removed = new List<string>();
            var doomed = nodes.Where(n => targets.Any(t => t.Ip == n.Ip)).ToList();
            if (!all)
            {
                // drain from the cluster first when kubectl exists on master0
                var names = await Task.WhenAll(doomed.Select(async n => (await n.Ssh.RunAsync("hostname", new CommandOptions { Description = "hostname" }, cancellationToken).ConfigureAwait(false)).Stdout.Trim().ToLowerInvariant())).ConfigureAwait(false);
                await master0.Ssh.RunAsync($"{KubePath} 2>/dev/null || true\n[ -f \"$HOME/.kube/config\" ] || export KUBECONFIG=/etc/kubernetes/admin.conf\nif command -v kubectl >/dev/null; then for n in {string.Join(' ', names.Select(Q))}; do kubectl drain \"$n\" --ignore-daemonsets --delete-emptydir-data --force --timeout=120s || true; kubectl delete node \"$n\" --ignore-not-found || true; done; fi",
                    Cmd(master0, "delete", "remove nodes from the cluster"), cancellationToken).ConfigureAwait(false);
            }
            var failures = new List<string>();
            await Task.WhenAll(doomed.Select(async n =>
            {
                try
                {
                    await PluginsAsync(n, PluginPhase.PreCleanHost, cancellationToken).ConfigureAwait(false);
                    string begin = $"# BEGIN sealer {_cluster.Name}", end = $"# END sealer {_cluster.Name}";
                    string script = $$"""
                        set +e
                        export PATH={{Q(Rootfs + "/bin")}}:$PATH
                        if command -v kubeadm >/dev/null; then kubeadm reset -f; fi
                        if [ -f /etc/systemd/system/sealer-registry.service ]; then systemctl disable --now sealer-registry; rm -f /etc/systemd/system/sealer-registry.service; systemctl daemon-reload; fi
                        pidf={{Q(ClusterDir + "/registry.pid")}}
                        if [ -f "$pidf" ]; then kill "$(cat "$pidf")" 2>/dev/null; fi
                        for d in /etc/containerd/certs.d/*/; do grep -q 'Generated by sealer' "$d/hosts.toml" 2>/dev/null && rm -rf "$d"; done
                        grep -qF {{Q("# Generated by sealer for cluster " + _cluster.Name + ":")}} {{LvscareManifest}} 2>/dev/null && rm -f {{LvscareManifest}}
                        rm -f /etc/sealer/registry/ca.crt; rmdir /etc/sealer/registry 2>/dev/null
                        t=$(mktemp); sed {{Q($"/^{begin}$/,/^{end}$/d")}} /etc/hosts > "$t" && cat "$t" > /etc/hosts; rm -f "$t"
                        rm -rf {{Q(ClusterDir)}}
                        rmdir {{Q(_cluster.DataRoot)}} 2>/dev/null
                        true
                        """;
                    await n.Ssh.RunAsync(script, Cmd(n, "delete", "clean the host"), cancellationToken).ConfigureAwait(false);
                    await n.Ssh.RunAsync($"ls -A {Q(_cluster.DataRoot)} 2>/dev/null | grep -qv '^.store$' || rm -rf {Q(Store)}; rmdir {Q(_cluster.DataRoot)} 2>/dev/null; true",
                        Cmd(n, "delete", "remove the content store when no cluster uses it"), cancellationToken).ConfigureAwait(false);
                    await PluginsAsync(n, PluginPhase.PostCleanHost, cancellationToken).ConfigureAwait(false);
                    lock (removed) removed.Add(n.Ip);
                    _state.ForgetHost(n.Ip);
                }
                catch (SealerException ex)
                {
                    lock (failures) failures.Add($"{n.Ip}: {ex.Message}");
                }
            })).ConfigureAwait(false);
            if (!all && removed.Any(ip => _cluster.Masters.Any(m => m.Ip == ip)) && _state.ClusterDone(StepKubeadmInit))
            {
                // the workers that stay balance over the masters that stay
                var stayingMasters = _cluster.Masters.Select(m => m.Ip).Where(ip => !removed.Contains(ip)).ToList();
                var (workers, unreachable) = await ConnectAllAsync(_cluster.Nodes.Where(w => !removed.Contains(w.Ip)).ToList(), knownHosts, cancellationToken).ConfigureAwait(false);
                try
                {
                    foreach (var p in unreachable) failures.Add($"{p.Host}: cannot update {LvscareManifest} ({p.Message}); run 'sealer run' once it is back");
                    foreach (var w in workers) w.Env = DeliveryEnv.For(_cluster, w.Spec, [], _cluster.ContainerRuntime ?? "containerd", registryHosts);
                    string? lvsImage = null;
                    foreach (var w in workers)
                    {
                        var r = await w.Ssh.RunAsync($"sed -n 's/^    image: //p' {LvscareManifest} 2>/dev/null || true", new CommandOptions { Description = "read the lvscare image" }, cancellationToken).ConfigureAwait(false);
                        if (r.Stdout.Trim() is { Length: > 0 } found) { lvsImage = found; break; }
                    }
                    lvsImage ??= _cluster.Env.LastOrDefault(e => e.Key == "LvscareImage").Value is { Length: > 0 } set ? set : $"{_cluster.Registry.External?.Url ?? _cluster.Registry.Local.Url}/{LvscareRepoAndTag}";
                    _kube = true;
                    await ConfigureLvscareAsync(workers, null, null, cancellationToken, stayingMasters, lvsImage).ConfigureAwait(false);
                }
                catch (SealerException ex)
                {
                    failures.Add(ex.Message);
                }
                finally
                {
                    foreach (var w in workers) w.Ssh.Dispose();
                }
            }
            if (!all && removed.Count > 0 && _clusterfileText is not null && !removed.Contains(master0.Ip))
            {
                // the Clusterfile without the removed hosts, on master0 and in the ConfigMap (as Sealer's delete saves it)
                try
                {
                    string updated = ClusterfileEditor.RemoveHosts(_clusterfileText, removed, _doc.File);
                    await SaveClusterfileAsync(master0, updated, _state.ClusterDone(StepKubeadmInit), cancellationToken).ConfigureAwait(false);
                }
                catch (SealerException ex)
                {
                    lock (failures) failures.Add($"{master0.Ip}: saving the Clusterfile: {ex.Message}");
                }
            }
            if (all && failures.Count == 0)
            {
                if (File.Exists(LocalStatePath)) File.Delete(LocalStatePath);
                if (Directory.Exists(LocalCertDir)) Directory.Delete(LocalCertDir, true);
            }
            else
            {
                if (all) _state.ClusterSteps.Clear();
                await SaveStateAsync(all ? null : master0, cancellationToken).ConfigureAwait(false);
            }
            if (failures.Count > 0)
            {
                throw new SealerException(ErrorCodes.RunStepFailed, $"Cleaning failed on {failures.Count} host(s):\n{string.Join("\n", failures)}\nRun 'sealer delete' again.");
            }
            return removed;
        }
        finally
        {
            foreach (var n in nodes) n.Ssh.Dispose();
        }
    }
}
