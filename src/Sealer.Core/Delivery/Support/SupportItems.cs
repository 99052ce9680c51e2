using Sealer.Core.Delivery.Ssh;

namespace Sealer.Core.Delivery.Support;

/// <summary>Where an item is collected.</summary>
public enum SupportScope
{
    /// <summary>This machine (the one running <c>sealer support-bundle</c>).</summary>
    Local,

    /// <summary>Every host of the Clusterfile.</summary>
    EveryHost,

    /// <summary>The hosts that run the built-in registry.</summary>
    RegistryHosts,

    /// <summary>The first master (kubectl, the cluster state).</summary>
    Master0,
}

/// <summary>
/// One thing a support bundle holds: its file in the bundle (under <c>local/</c> or <c>hosts/IP/</c>), where it comes
/// from, and, for host items, the bash script that prints it (run as the Clusterfile's user, elevated like every
/// delivery command; stdout and stderr together).
/// </summary>
public sealed record SupportItem(string File, SupportScope Scope, string What, Func<SupportPaths, string>? Script = null);

/// <summary>The paths a host item's script needs (those of the cluster in the Clusterfile).</summary>
public sealed record SupportPaths(string ClusterDir, string Rootfs, string KubePath);

/// <summary>
/// THE list of what <c>sealer support-bundle</c> collects (<c>sealer support-bundle --list</c> prints it). Each host
/// item is one command with the limits of <see cref="SupportLimits"/>; a command that fails is kept with its exit code
/// (a missing tool is an answer too), one that hangs is cut off and says so.
/// </summary>
public static class SupportItems
{
    private static string Q(string s) => SshHost.ShellQuote(s);

    /// <summary>Prints a file when it exists, else says that it does not.</summary>
    private static string Cat(string path) => $"if [ -e {Q(path)} ]; then cat {Q(path)}; else echo '(no {path})'; fi";

    private static string Kubectl(SupportPaths p, string args) =>
        $"{p.KubePath}\nexport KUBECONFIG=${{KUBECONFIG:-/etc/kubernetes/admin.conf}}\nkubectl {args}";

    public static IReadOnlyList<SupportItem> All { get; } =
    [
        // this machine
        new("local/state.json", SupportScope.Local, "the cluster state kept here (~/.sealer/CLUSTER/state.json): steps done per host, image history"),
        new("local/last-failure.json", SupportScope.Local, "the last failed run: step, hosts, error code and message with the command's last output lines"),
        new("local/run.log", SupportScope.Local, "every status line of run, join, check and delete from this machine, with times (and run.log.1)"),
        new("local/Clusterfile", SupportScope.Local, "the Clusterfile (secrets redacted)"),
        new("local/check.txt", SupportScope.Local, "'sealer check': hosts, rootfs, registry, containerd configuration, workloads"),
        new("local/facts.txt", SupportScope.Local, "sealer version, OS, time, disk and memory of this machine"),
        // every host
        new("facts.txt", SupportScope.EveryHost, "OS, kernel, uptime, time (UTC and the clock's sync), disk (df -h, df -i), memory, CPUs, addresses",
            _ => "uname -a; cat /etc/os-release 2>/dev/null; echo; uptime; date -u '+time: %Y-%m-%dT%H:%M:%S.%NZ'; timedatectl 2>/dev/null | grep -i -E 'synchron|NTP'; echo; df -h; echo; df -i; echo; free -m; echo; nproc; ip -brief addr 2>/dev/null"),
        new("sealer-dir.txt", SupportScope.EveryHost, "what sealer put on the host: the cluster directory and the rootfs (ls, sizes)",
            p => $"ls -la {Q(p.ClusterDir)} 2>&1; echo; du -sh {Q(p.Rootfs)} {Q(p.ClusterDir)}/../.store 2>&1; echo; cat {Q(p.Rootfs + "/.sealer-image")} 2>&1"),
        new("containerd/config.toml", SupportScope.EveryHost, "/etc/containerd/config.toml", _ => Cat("/etc/containerd/config.toml")),
        new("containerd/hosts.toml.txt", SupportScope.EveryHost, "every /etc/containerd/certs.d/*/hosts.toml (registry mirrors)",
            _ => "for f in /etc/containerd/certs.d/*/hosts.toml; do [ -e \"$f\" ] || { echo '(no /etc/containerd/certs.d/*/hosts.toml)'; break; }; echo \"## $f\"; cat \"$f\"; echo; done"),
        new("docker/daemon.json", SupportScope.EveryHost, "/etc/docker/daemon.json", _ => Cat("/etc/docker/daemon.json")),
        new("images-ctr.txt", SupportScope.EveryHost, "ctr -n k8s.io images ls", _ => "ctr -n k8s.io images ls"),
        new("images-crictl.txt", SupportScope.EveryHost, "crictl images and crictl ps -a", _ => "crictl images; echo; crictl ps -a"),
        new("journal-kubelet.txt", SupportScope.EveryHost, "the last 500 lines of kubelet's journal", _ => "journalctl -u kubelet -n 500 --no-pager"),
        new("journal-runtime.txt", SupportScope.EveryHost, "the last 500 lines of containerd's and docker's journals", _ => "journalctl -u containerd -n 500 --no-pager; echo; journalctl -u docker -n 300 --no-pager"),
        // registry hosts
        new("registry-access.log", SupportScope.RegistryHosts, "the built-in registry's access log (its registry.log, else its journal): the last 2 MiB",
            p => $"if [ -s {Q(p.ClusterDir + "/registry.log")} ]; then tail -c 2097152 {Q(p.ClusterDir + "/registry.log")}; else journalctl -u sealer-registry -n 5000 --no-pager; fi"),
        // master0
        new("state.json", SupportScope.Master0, "the cluster state on master0 (it wins over the local one)", p => Cat(p.ClusterDir + "/state.json")),
        new("Clusterfile", SupportScope.Master0, "the Clusterfile the last run saved on master0 (secrets redacted)", p => Cat(p.ClusterDir + "/Clusterfile")),
        new("kubectl/nodes.txt", SupportScope.Master0, "kubectl get nodes -o wide", p => Kubectl(p, "get nodes -o wide")),
        new("kubectl/pods.txt", SupportScope.Master0, "kubectl get pods -A -o wide", p => Kubectl(p, "get pods -A -o wide")),
        new("kubectl/events.txt", SupportScope.Master0, "kubectl get events -A (oldest first)", p => Kubectl(p, "get events -A --sort-by=.lastTimestamp")),
        new("kubectl/workloads.yaml", SupportScope.Master0, "kubectl get deployments,statefulsets,daemonsets,jobs -A -o yaml (env values that look secret redacted)",
            p => Kubectl(p, "get deployments,statefulsets,daemonsets,jobs -A -o yaml")),
        new("kubectl/failing-pods.txt", SupportScope.Master0, "describe and the last 200 log lines (and the previous container's) of up to 20 pods that are not Running/Completed or restart",
            p => Kubectl(p, """get pods -A --no-headers 2>&1 | awk '$4 != "Running" && $4 != "Completed" || $5 > 0 { print $1, $2 }' | head -n 20 | while read -r ns pod; do [ -n "$pod" ] || continue; echo "## $ns/$pod"; kubectl -n "$ns" describe pod "$pod" 2>&1 | tail -n 60; kubectl -n "$ns" logs "$pod" --all-containers --tail=200 2>&1; kubectl -n "$ns" logs "$pod" --all-containers --previous --tail=100 2>&1; echo; done""")),
    ];

    /// <summary>The list as <c>--list</c> prints it.</summary>
    public static string Describe(SupportLimits limits)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var group in All.GroupBy(i => i.Scope))
        {
            sb.Append(group.Key switch
            {
                SupportScope.Local => "this machine (local/):",
                SupportScope.EveryHost => "every host (hosts/IP/):",
                SupportScope.RegistryHosts => "registry hosts (hosts/IP/):",
                _ => "master0 (hosts/IP/):",
            }).Append('\n');
            foreach (var i in group) sb.Append($"  {i.File,-26} {i.What}\n");
        }
        sb.Append($"""
            summary.txt at the top: which host and step failed, with the last lines; hosts that could not be reached.
            Limits: each command {limits.CommandTimeout.TotalSeconds:0} s, each host {limits.HostTimeout.TotalSeconds:0} s in all, each file {limits.MaxFileBytes >> 20} MiB (its last bytes kept), each host {limits.MaxHostBytes >> 20} MiB.
            Secrets are redacted from every file: the Clusterfile's passwords, key passphrases, private keys and secret-looking env values (*PASSWORD*, *TOKEN*, *SECRET*, *KEY*...), and anything shaped like one.

            """);
        return sb.ToString();
    }
}

/// <summary>The bounds of a collection (the defaults are documented in <c>--list</c> and docs/cli.md).</summary>
public sealed record SupportLimits
{
    /// <summary>One command on a host; a command still running then is cut off (killed on the host too).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Everything on one host, connecting included; items left when it is spent are recorded as skipped.</summary>
    public TimeSpan HostTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>One file; a longer output keeps its last bytes (the end of a log is what matters).</summary>
    public long MaxFileBytes { get; init; } = 4 << 20;

    /// <summary>All files of one host; items past it are recorded as skipped.</summary>
    public long MaxHostBytes { get; init; } = 32 << 20;
}
