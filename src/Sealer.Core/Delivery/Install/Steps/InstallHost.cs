using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>A host of the Clusterfile with its SSH connection and what preflight learned about it.</summary>
internal sealed class InstallHost(HostSpec spec, SshHost ssh)
{
    public HostSpec Spec { get; } = spec;

    public SshHost Ssh { get; } = ssh;

    public string Ip => Spec.Ip;

    /// <summary>This host's image of a multi-platform cluster image (set after preflight).</summary>
    public ClusterImagePlatform Platform { get; set; } = null!;

    public string Hostname { get; set; } = "";

    /// <summary>The host's env (image ENV &lt; spec.env &lt; host env, derived values).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; set; } = [];

    /// <summary>Connects to every host at once; a host that cannot be reached is a problem, not an exception.</summary>
    public static async Task<(List<InstallHost> Hosts, List<PreflightProblem> Problems)> ConnectAllAsync(IReadOnlyList<HostSpec> hosts, KnownHosts knownHosts, SshOptions options, CancellationToken cancellationToken = default)
    {
        var tasks = hosts.Select(h => SshHost.ConnectAsync(h.Ip, h.Ssh, options, knownHosts, cancellationToken)).ToList();
        var connected = new List<InstallHost>();
        var problems = new List<PreflightProblem>();
        for (int i = 0; i < tasks.Count; i++)
        {
            try
            {
                connected.Add(new InstallHost(hosts[i], await tasks[i].ConfigureAwait(false)));
            }
            catch (SealerException ex)
            {
                problems.Add(new PreflightProblem(hosts[i].Ip, "ssh", $"{ex.Code}: {ex.Message}"));
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        return (connected, problems);
    }
}
