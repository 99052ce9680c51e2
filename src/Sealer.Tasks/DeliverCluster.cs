using System.Diagnostics;
using Microsoft.Build.Framework;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class DeliverCluster : SealerTask
{
    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        string path = Path.GetFullPath(Clusterfile);
        if (!File.Exists(path))
        {
            string project = BuildEngine?.ProjectFileOfTaskNode ?? "";
            throw new SealerException(ErrorCodes.ClusterfileNotFound,
                $"No Clusterfile at '{path}'. Put one named 'Clusterfile' next to the project or set <SealerClusterfile>path</SealerClusterfile> (or -p:SealerClusterfile=path).",
                project.Length > 0 ? project : null, 0);
        }
        if (!Directory.Exists(Image) && !File.Exists(Image))
        {
            throw new SealerException(ErrorCodes.BadClusterImage, $"The cluster image '{Image}' does not exist: build the project first (DeliverCluster depends on Build).");
        }
        string text = ProjectOverrides(File.ReadAllText(path), path);
        var doc = Override(ClusterfileReader.Parse(text, path));

        var options = new RunOptions
        {
            Image = Image,
            CacheDir = string.IsNullOrWhiteSpace(CacheDirectory) ? null : CacheDirectory,
            StateRoot = string.IsNullOrWhiteSpace(StateDirectory) ? null : StateDirectory,
            Parallelism = Math.Clamp(Parallelism, 1, 64),
            Relay = Relay,
            PlanOnly = PlanOnly,
            PruneApps = PruneApps,
            SealerBinary = string.IsNullOrWhiteSpace(SealerBinary) ? null : SealerBinary,
            Ssh = new SshOptions
            {
                KnownHostsPath = string.IsNullOrWhiteSpace(KnownHosts) ? Sealer.Core.Delivery.Ssh.KnownHosts.DefaultPath : KnownHosts,
                TrustOnFirstUse = TrustOnFirstUse,
                ConnectTimeout = TimeSpan.FromSeconds(Math.Clamp(ConnectTimeout, 1, 600)),
                Logger = CreateLogger(),
            },
            Logger = CreateLogger(),
            StepTimeout = TimeSpan.FromMinutes(Math.Max(1, StepTimeout)),
            TransferProgress = CreateProgress<TransferProgress>((p, meter) => p.BytesTotal == 0 ? null
                : $"Sealer: distributing {meter.Describe(p.BytesDone, p.BytesTotal)}, hosts {p.HostsDone}/{p.HostsTotal}{(p.Host is null ? "" : " (" + p.Host + (p.Source is null ? "" : " from " + p.Source) + ")")}"),
            Status = line => Log.LogMessage(MessageImportance.High, "Sealer: " + line),
            Output = line => Log.LogMessage(MessageImportance.Low, line),
        };
        Log.LogMessage(MessageImportance.High, $"Sealer: delivering {Image} to {doc.Cluster.Hosts.Count} host(s) of cluster '{doc.Cluster.Name}' ({path})");
        var sw = Stopwatch.StartNew();
        var result = await new ClusterInstaller(doc, options, text).RunAsync(cancellationToken).ConfigureAwait(false);
        if (PlanOnly)
        {
            Log.LogMessage(MessageImportance.High, result.Plan is null ? $"Sealer: no upgrade: cluster '{doc.Cluster.Name}' is not installed from another image; nothing was changed (SealerDeliverPlanOnly)." : "Sealer: nothing was changed (SealerDeliverPlanOnly).");
            return;
        }
        StepsRun = [.. result.StepsRun];
        StepsSkipped = [.. result.StepsSkipped];
        BytesSent = result.Transfers.Sum(t => t.BytesFromController);
        BytesRelayed = result.Transfers.Sum(t => t.BytesRelayed);
        foreach (var t in result.Transfers)
        {
            Log.LogMessage(MessageImportance.High, $"Sealer: {t.Host}: {t.BlobsSent} blob(s) sent ({t.BytesFromController / 1048576.0:F1} MiB from here{(t.Transport == "none" ? "" : " via " + t.Transport)}, {t.BytesRelayed / 1048576.0:F1} MiB relayed{(t.RelayedFrom is null ? "" : " from " + t.RelayedFrom)}), {t.BlobsSkipped} already there");
        }
        Log.LogMessage(MessageImportance.High, $"Sealer: cluster '{doc.Cluster.Name}' delivered in {sw.Elapsed.TotalSeconds:F1}s: {result.StepsRun.Count} step(s) run, {result.StepsSkipped.Count} already done.");
    }

    /// <summary>
    /// Hosts and env from the project (SealerMasters, SealerNodes, @(SealerClusterEnv)) written into the Clusterfile text, so
    /// the Clusterfile saved on the cluster is the one that was delivered.
    /// </summary>
    private string ProjectOverrides(string text, string path)
    {
        static List<string> Ips(string? value) => [.. (value ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        var masters = Ips(Masters);
        var nodes = Ips(Nodes);
        if (masters.Count > 0 || nodes.Count > 0)
        {
            if (masters.Count == 0) masters = [.. ClusterfileReader.Parse(text, path).Cluster.Masters.Select(m => m.Ip)];
            text = ClusterfileEditor.ReplaceHosts(text, masters, nodes, path);
            Log.LogMessage(MessageImportance.High, $"Sealer: hosts from the project: masters {string.Join(",", masters)}{(nodes.Count == 0 ? "" : "; nodes " + string.Join(",", nodes))}");
        }
        var env = ClusterEnv.Where(i => !string.IsNullOrWhiteSpace(i.ItemSpec))
            .Select(i => new KeyValuePair<string, string>(i.ItemSpec.Trim(), i.GetMetadata("Value"))).ToList();
        if (env.Count > 0) text = ClusterfileEditor.SetEnv(text, env, path);
        return text;
    }

    /// <summary>Project-level SSH overrides (user, key) and the password from the environment, for the cluster and every host.</summary>
    private ClusterfileDocument Override(ClusterfileDocument doc)
    {
        string variable = string.IsNullOrWhiteSpace(PasswordVariable) ? "SEALER_SSH_PASSWORD" : PasswordVariable.Trim();
        string? envPassword = Environment.GetEnvironmentVariable(variable);
        string? key = string.IsNullOrWhiteSpace(PrivateKey) ? null : Path.GetFullPath(PrivateKey);
        string? user = string.IsNullOrWhiteSpace(User) ? null : User.Trim();
        if (key is null && user is null && string.IsNullOrEmpty(envPassword)) return doc;

        SshSpec Apply(SshSpec s) => s with
        {
            User = user ?? s.User,
            PrivateKeyPath = key ?? s.PrivateKeyPath,
            Password = s.Password ?? (key is null && s.PrivateKeyPath is null ? NullIfEmpty(envPassword) : null),
        };
        var c = doc.Cluster;
        return doc with { Cluster = c with { Ssh = Apply(c.Ssh), Hosts = [.. c.Hosts.Select(h => h with { Ssh = Apply(h.Ssh) })] } };
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
