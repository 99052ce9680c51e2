using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// Everything a run shares, in one place: the inputs (Clusterfile, options, image), the connected hosts with their facts,
/// the cluster state, what the steps learn on the way (<see cref="CaPem"/>) and what the run reports (steps run and
/// skipped, transfers). Steps are stateless; they read and write only this.
/// </summary>
internal sealed class InstallContext(ClusterfileDocument doc, RunOptions options, string? clusterfileText)
{
    private readonly List<string> _run = [];
    private readonly List<string> _skipped = [];
    private readonly List<HostTransfer> _transfers = [];

    public ClusterfileDocument Doc { get; } = doc;

    public ClusterSpec Cluster => Doc.Cluster;

    public RunOptions Options { get; } = options;

    /// <summary>The Clusterfile to save on master0 (null: none to save).</summary>
    public string? ClusterfileText { get; } = clusterfileText;

    /// <summary>What has been done (loaded from master0 or locally before the first step, saved after every step).</summary>
    public ClusterState State { get; set; } = new();

    /// <summary>The cluster image (run only).</summary>
    public ClusterImageSource Image { get; set; } = null!;

    /// <summary>The connected hosts, in Clusterfile order.</summary>
    public IReadOnlyList<InstallHost> Hosts { get; set; } = [];

    /// <summary>The first master (null when it could not be reached; then nothing runs).</summary>
    public InstallHost? Master0 { get; set; }

    /// <summary>master0's image extension (type, LAUNCH, CMDS, apps).</summary>
    public SealerImageExtension Extension { get; set; } = SealerImageExtension.Empty;

    /// <summary>A Kubernetes cluster: a kube-installer image whose cluster runtime is kubernetes.</summary>
    public bool Kube { get; set; }

    /// <summary>What the apps step launches (<see cref="LaunchPlanner"/>), decided before anything changes.</summary>
    public LaunchPlan? LaunchPlan { get; set; }

    /// <summary>The plan of the upgrade (or rollback) this run carries out (null: an install or a re-run of the same image).</summary>
    public UpgradePlan? Upgrade { get; set; }

    /// <summary>The registry CA certificate (PEM), once the certificates step or a re-run found it.</summary>
    public string? CaPem { get; set; }

    public string ClusterDir => $"{Cluster.DataRoot}/{Cluster.Name}";

    public string Rootfs => $"{ClusterDir}/rootfs";

    /// <summary>The built-in registry's access log on a registry host (one line per request; <c>sealer check --airgap</c> reads it).</summary>
    public string RegistryAccessLog => $"{ClusterDir}/registry-access.log";

    /// <summary>The content store the blobs are distributed to.</summary>
    public string Store => $"{Cluster.DataRoot}/.store";

    public string LocalStatePath => ClusterState.LocalPath(Cluster.Name, Options.StateRoot);

    public string LocalCertDir => Path.Combine(Path.GetDirectoryName(LocalStatePath)!, "certs");

    public string RemoteCertDir => $"{ClusterDir}/certs";

    /// <summary>The prologue of a command using the image's binaries (kubeadm, kubectl, helm), from the rootfs.</summary>
    public string KubePath => $"export PATH={SshHost.ShellQuote(Rootfs + "/bin")}:$PATH; cd {SshHost.ShellQuote(Rootfs)}";

    /// <summary>The built-in registry serves HTTPS with a private CA unless the Clusterfile says <c>insecure: true</c>.</summary>
    public bool Tls => !Cluster.Registry.Local.Insecure;

    public string Vip => ApiServerVip.VipOf(Cluster);

    public string VipEndpoint => ApiServerVip.HostPort(Vip, 6443);

    /// <summary>The hosts that run the registry: every master when ha (Sealer's default), else master0; none with an externalRegistry (the cluster pulls from it, as in Sealer).</summary>
    public IReadOnlyList<string> RegistryIps { get; } =
        doc.Cluster.Registry.External is not null ? []
        : doc.Cluster.Registry.Local.Ha ? doc.Cluster.Masters.Select(m => m.Ip).ToList() : [doc.Cluster.Masters.First().Ip];

    public IReadOnlyList<InstallHost> RegistryHosts => Hosts.Where(h => RegistryIps.Contains(h.Ip)).ToList();

    public string CriOf(InstallHost h) => Cluster.ContainerRuntime ?? h.Platform?.ContainerRuntime ?? "containerd";

    /// <summary>The host's container runtime is Docker Engine (kubelet through cri-dockerd): its own certs.d, daemon.json and image store.</summary>
    public bool IsDocker(InstallHost h) => CriOf(h) == "docker";

    /// <summary>A step's command on a host: the host's env, the step in the description and in every output line, the step timeout.</summary>
    public CommandOptions Cmd(InstallHost h, string step, string description, TimeSpan? timeout = null) => new()
    {
        Env = h.Env,
        Description = $"{step}: {description}",
        Timeout = timeout ?? Options.StepTimeout,
        OnOutputLine = Options.Output is { } o ? line => o($"[{h.Ip}] {step}: {line}") : null,
    };

    private readonly Dictionary<(ClusterImagePlatform, string), Dictionary<string, byte[]>> _files = [];

    /// <summary>Files of a platform's merged rootfs read once per run under <paramref name="key"/> (<see cref="ClusterImageSource.ReadFiles"/>).</summary>
    public Dictionary<string, byte[]> ImageFiles(ClusterImagePlatform platform, string key, Func<string, bool> predicate)
    {
        lock (_files)
        {
            if (!_files.TryGetValue((platform, key), out var files)) _files[(platform, key)] = files = Image.ReadFiles(platform, predicate);
            return files;
        }
    }

    public AppConfig? ConfigOf(string app) => LaunchPlanner.ConfigOf(Doc, LaunchPlan, app);

    public IReadOnlyList<KeyValuePair<string, string>> AppEnv(IReadOnlyList<KeyValuePair<string, string>> hostEnv, SealerImageExtension ext, string app) =>
        LaunchPlanner.AppEnv(hostEnv, ext, app, ConfigOf(app));

    /// <summary>A status line: to <see cref="RunOptions.Status"/> and, with its time, to the cluster's local run.log (<see cref="RunRecord"/>).</summary>
    public void Status(string line)
    {
        Options.Status?.Invoke(line);
        RunRecord.Append(LocalStatePath, line);
    }

    /// <summary>Whether this run recorded its failure already (the step runner did, naming step and hosts).</summary>
    public bool FailureRecorded { get; private set; }

    /// <summary>Records the run's failure next to the local state (<see cref="RunRecord.SaveFailure"/>), once.</summary>
    public void RecordFailure(string? step, IEnumerable<string> hosts, SealerException ex)
    {
        if (FailureRecorded) return;
        FailureRecorded = true;
        RunRecord.SaveFailure(LocalStatePath, new RunFailure { At = DateTimeOffset.UtcNow.ToString("O"), Step = step, Hosts = hosts.ToList(), Code = ex.Code, Message = ex.Message });
    }

    /// <summary>Reports <paramref name="step"/> on <paramref name="host"/> to the live view (<see cref="RunOptions.Steps"/>).</summary>
    public void Step(string step, string host, StepEventKind kind, string? detail = null) => Options.Steps?.Report(new StepEvent(step, host, kind, detail));

    /// <summary>Records a step that ran (<c>host:step</c>, or <c>step</c> for a cluster step).</summary>
    public void Ran(string entry)
    {
        lock (_run) _run.Add(entry);
    }

    /// <summary>Records a step that was skipped because it was done before.</summary>
    public void Skipped(string entry)
    {
        lock (_skipped) _skipped.Add(entry);
    }

    public void AddTransfers(IEnumerable<HostTransfer> transfers)
    {
        lock (_transfers) _transfers.AddRange(transfers);
    }

    /// <summary>What the garbage collection after an upgrade removed (null: none ran).</summary>
    public IReadOnlyList<RegistryGcHost>? Collected { get; set; }

    public RunResult Result(IReadOnlyList<HostFacts> facts) => new(_run, _skipped, _transfers, facts) { Plan = Upgrade, Image = State.Image, Collected = Collected };
}
