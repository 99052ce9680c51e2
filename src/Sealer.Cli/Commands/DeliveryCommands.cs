using System.Diagnostics;
using System.Text;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Cli.Commands;

/// <summary><c>sealer run | join | delete | check</c>: deliver a cluster image over SSH as a Clusterfile describes.</summary>
internal static class DeliveryCommands
{
    private static readonly string[] CommonOptions = ["file", "image", "known-hosts", "parallel", "sealer-binary", "state-dir", "connect-timeout", "cache-dir"];
    private static readonly string[] CommonFlags = ["trust-on-first-use", "no-relay", "verbose"];

    private const string CommonUsage = """
          -f, --file FILE          the Clusterfile (default ./Clusterfile)
          --image PATH|NAME        cluster image: OCI layout dir, OCI archive, or a name in the image cache (default: spec.image)
          --known-hosts FILE       host keys to verify against (default ~/.ssh/known_hosts)
          --trust-on-first-use     accept and record keys of hosts not in known_hosts (a changed key is always refused)
          --parallel N             hosts this machine sends to at once (default 3); hosts that have the image relay it to others
          --no-relay               send everything from this machine (no host-to-host copies)
          --sealer-binary FILE     the sealer executable to install on registry hosts (default: this one)
          --state-dir DIR          local state (default ~/.sealer)
          --connect-timeout SEC    SSH connect timeout (default 10)
          -v, --verbose            print every remote output line
        """;

    private static string[] Expand(string[] args) => args.Select(a => a switch
    {
        "-f" => "--file",
        "-m" => "--masters",
        "-n" => "--nodes",
        "-v" => "--verbose",
        "-a" => "--all",
        "-y" => "--yes",
        "-p" => "--passwd",
        "-u" => "--user",
        "-e" => "--env",
        _ => a,
    }).ToArray();

    private static string DefaultClusterfile(CliArgs a, string cluster = "my-cluster") =>
        Path.Combine(a.Value("state-dir") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer"), cluster, "Clusterfile");

    private static (ClusterfileDocument Doc, string Text, string Path) LoadClusterfile(CliArgs a)
    {
        // ./Clusterfile, else the one 'sealer run IMAGE -m ...' wrote for my-cluster (as Sealer does)
        string path = a.Value("file") ?? (File.Exists("Clusterfile") || !File.Exists(DefaultClusterfile(a)) ? "Clusterfile" : DefaultClusterfile(a));
        if (!File.Exists(path))
        {
            throw new SealerException(ErrorCodes.ClusterfileNotFound, $"No Clusterfile at '{path}'. Pass one with -f FILE (see docs for the format: kind: Cluster, spec.image, spec.hosts).");
        }
        string text = File.ReadAllText(path);
        return (ClusterfileReader.Parse(text, path), text, path);
    }

    private static RunOptions Options(CliArgs a, string command)
    {
        bool verbose = a.Flag("verbose");
        return new RunOptions
        {
            Image = a.Value("image"),
            CacheDir = a.Value("cache-dir"),
            StateRoot = a.Value("state-dir"),
            Parallelism = a.Int("parallel", 3, 1, 64, command),
            Relay = !a.Flag("no-relay"),
            SealerBinary = a.Value("sealer-binary"),
            Ssh = new SshOptions
            {
                KnownHostsPath = a.Value("known-hosts") ?? KnownHosts.DefaultPath,
                TrustOnFirstUse = a.Flag("trust-on-first-use"),
                ConnectTimeout = TimeSpan.FromSeconds(a.Int("connect-timeout", 10, 1, 600, command)),
                Logger = new StderrLogger(),
            },
            Logger = new StderrLogger(),
            TransferProgress = new ConsoleProgress(),
            Output = verbose ? line => Console.Out.WriteLine(line) : null,
            Status = line => Console.Out.WriteLine(line),
        };
    }

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = CliArgs.Parse(Expand(args), [.. CommonOptions, "masters", "nodes", "passwd", "user", "pk", "pk-passwd", "port", "env", "cluster-name"], [.. CommonFlags, "plan"], "run");
        if (a.Flag("plan"))
        {
            Console.Out.Write(InstallPipeline.Describe());
            return 0;
        }
        if (a.Help)
        {
            Console.Out.WriteLine($"""
                Usage: sealer run [-f Clusterfile] [options]

                Installs the cluster the Clusterfile describes, or brings it up to date: every host is checked first
                (reachable, host key, login, platform, disk, ports, clock, hostnames) and nothing changes unless all pass.
                A failed run can simply be run again: finished steps are skipped. Hosts added to the Clusterfile are joined.

                Sealer's short form writes the Clusterfile for you (to ~/.sealer/<cluster-name>/Clusterfile, mode 0600):
                  sealer run IMAGE -m|--masters IPS [-n|--nodes IPS] [-u|--user U] [-p|--passwd P | --pk FILE [--pk-passwd P]]
                             [--port N] [-e|--env K=V ...] [--cluster-name NAME (default my-cluster)]

                {CommonUsage}
                  --plan                   print the steps below and exit (reads no Clusterfile, contacts no host)

                {InstallPipeline.Describe()}
                """);
            return 0;
        }
        ClusterfileDocument doc;
        string text;
        if (a.Positionals.Count > 0)
        {
            (doc, text) = FromFlags(a);
        }
        else
        {
            (doc, text, _) = LoadClusterfile(a);
        }
        var sw = Stopwatch.StartNew();
        var result = await new ClusterInstaller(doc, Options(a, "run"), text).RunAsync(cancellationToken).ConfigureAwait(false);
        Summarize(result, doc, sw.Elapsed);
        return 0;
    }

    /// <summary>Sealer's <c>sealer run IMAGE -m ... -n ... -p ...</c>: a Clusterfile is written from the flags and used.</summary>
    private static (ClusterfileDocument, string) FromFlags(CliArgs a)
    {
        if (a.Positionals.Count != 1) throw new SealerException(ErrorCodes.BadCommandLine, $"'run': give one image, not '{string.Join(' ', a.Positionals)}'.");
        var masters = a.Values("masters");
        if (masters.Count == 0) throw new SealerException(ErrorCodes.BadCommandLine, "'run IMAGE' needs -m|--masters IPS (or use -f Clusterfile).");
        if (a.Value("passwd") is not null)
        {
            Console.Error.WriteLine("warning: a password given with --passwd is visible to other users of this machine (ps); prefer --pk, or a Clusterfile only you can read.");
        }
        static string Y(string v) => "'" + v.Replace("'", "''", StringComparison.Ordinal) + "'";
        string name = a.Value("cluster-name") ?? "my-cluster";
        var sb = new StringBuilder();
        sb.Append("apiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: ").Append(Y(name)).Append("\nspec:\n  image: ").Append(Y(a.Positionals[0])).Append('\n');
        var env = a.Values("env");
        if (env.Count > 0)
        {
            sb.Append("  env:\n");
            foreach (var e in env) sb.Append("    - ").Append(Y(e)).Append('\n');
        }
        sb.Append("  ssh:\n    user: ").Append(Y(a.Value("user") ?? "root")).Append('\n');
        if (a.Value("passwd") is { } pw) sb.Append("    passwd: ").Append(Y(pw)).Append('\n');
        if (a.Value("pk") is { } pk) sb.Append("    pk: ").Append(Y(Path.GetFullPath(pk))).Append('\n');
        if (a.Value("pk-passwd") is { } pkp) sb.Append("    pkPasswd: ").Append(Y(pkp)).Append('\n');
        if (a.Value("port") is { } port) sb.Append("    port: ").Append(Y(port)).Append('\n');
        sb.Append("  hosts:\n    - ips: [").Append(string.Join(", ", masters.Select(Y))).Append("]\n      roles: [master]\n");
        var nodes = a.Values("nodes");
        if (nodes.Count > 0) sb.Append("    - ips: [").Append(string.Join(", ", nodes.Select(Y))).Append("]\n      roles: [node]\n");
        string text = sb.ToString();
        string path = DefaultClusterfile(a, name);
        var doc = ClusterfileReader.Parse(text, path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, text);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Console.Out.WriteLine($"wrote {path} (use it with -f for join, check and delete)");
        return (doc, text);
    }

    public static async Task<int> JoinAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = CliArgs.Parse(Expand(args), [.. CommonOptions, "masters", "nodes"], CommonFlags, "join");
        if (a.Help)
        {
            Console.Out.WriteLine($"""
                Usage: sealer join [-f Clusterfile] (-m|--masters IPS | -n|--nodes IPS) [options]

                Adds hosts (comma lists and ranges like 192.168.0.5-192.168.0.7) to the cluster: they are checked,
                get the cluster image, run the lifecycle and join; the Clusterfile is updated when the join succeeds.

                {CommonUsage}
                """);
            return 0;
        }
        var masters = a.Values("masters");
        var nodes = a.Values("nodes");
        if (masters.Count == 0 && nodes.Count == 0) throw new SealerException(ErrorCodes.BadCommandLine, "'join' needs --masters IPS or --nodes IPS.");
        var (_, text, path) = LoadClusterfile(a);
        string updated = ClusterfileEditor.AddHosts(text, masters, nodes, path);
        var doc = ClusterfileReader.Parse(updated, path);
        var sw = Stopwatch.StartNew();
        var result = await new ClusterInstaller(doc, Options(a, "join"), updated).RunAsync(cancellationToken).ConfigureAwait(false);
        AtomicFile.WriteAllText(path, updated);
        Summarize(result, doc, sw.Elapsed);
        Console.Out.WriteLine($"updated {path}");
        return 0;
    }

    public static async Task<int> DeleteAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = CliArgs.Parse(Expand(args), [.. CommonOptions, "hosts", "masters", "nodes"], [.. CommonFlags, "all", "yes"], "delete");
        if (a.Help)
        {
            Console.Out.WriteLine($"""
                Usage: sealer delete [-f Clusterfile] (-a|--all | --hosts IPS) [-y|--yes] [options]

                Removes the cluster from all hosts (--all), or the given hosts from the cluster (they are drained
                first, then cleaned: kubeadm reset, registry, containerd hosts.toml, /etc/hosts entries, rootfs).
                Plugins with pre-clean-host / post-clean-host run around it. With --hosts the Clusterfile is updated.

                {CommonUsage}
                """);
            return 0;
        }
        var ips = a.Values("hosts").Concat(a.Values("masters")).Concat(a.Values("nodes")).SelectMany(ClusterfileReader.ExpandIpRange).ToList();
        bool all = a.Flag("all");
        if (all == ips.Count > 0) throw new SealerException(ErrorCodes.BadCommandLine, "'delete' needs either --all or --hosts IPS.");
        var (doc, text, path) = LoadClusterfile(a);
        if (!a.Flag("yes") && !Console.IsInputRedirected)
        {
            Console.Out.Write(all ? $"Delete cluster '{doc.Cluster.Name}' from {doc.Cluster.Hosts.Count} hosts? [y/N] " : $"Remove {string.Join(", ", ips)} from cluster '{doc.Cluster.Name}'? [y/N] ");
            if (Console.In.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes")) return 1;
        }
        var removed = await new ClusterInstaller(doc, Options(a, "delete"), text).DeleteAsync(all ? null : ips, cancellationToken).ConfigureAwait(false);
        Console.Out.WriteLine($"cleaned {removed.Count} host(s): {string.Join(", ", removed)}");
        if (!all)
        {
            AtomicFile.WriteAllText(path, ClusterfileEditor.RemoveHosts(text, ips, path));
            Console.Out.WriteLine($"updated {path}");
        }
        return 0;
    }

    public static async Task<int> CheckAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = CliArgs.Parse(Expand(args), CommonOptions, CommonFlags, "check");
        if (a.Help)
        {
            Console.Out.WriteLine($"""
                Usage: sealer check [-f Clusterfile] [options]

                Checks the cluster against the Clusterfile and the recorded state: hosts reachable, rootfs of the
                installed image, registry answering, containerd configured; and, through kubectl on master0, every
                app's workloads (deployments, statefulsets, daemonsets: ready vs desired), pods that cannot pull their
                image and crash-looping containers. Exit code 1 when something is wrong.

                {CommonUsage}
                """);
            return 0;
        }
        var (doc, text, _) = LoadClusterfile(a);
        var result = await new ClusterInstaller(doc, Options(a, "check"), text).CheckAsync(cancellationToken).ConfigureAwait(false);
        foreach (var ok in result.Ok) Console.Out.WriteLine($"ok    {ok}");
        foreach (var p in result.Problems) Console.Out.WriteLine($"FAIL  {p}");
        Console.Out.WriteLine(result.Problems.Count == 0 ? $"cluster '{doc.Cluster.Name}' is healthy" : $"{result.Problems.Count} problem(s)");
        return result.Problems.Count == 0 ? 0 : 1;
    }

    private static void Summarize(RunResult result, ClusterfileDocument doc, TimeSpan elapsed)
    {
        long fromHere = result.Transfers.Sum(t => t.BytesFromController);
        long relayed = result.Transfers.Sum(t => t.BytesRelayed);
        var via = result.Transfers.SelectMany(t => t.Transport.Split('+')).Where(t => t != "none").Distinct().Order(StringComparer.Ordinal).ToList();
        Console.Out.WriteLine($"cluster '{doc.Cluster.Name}' is up: {result.StepsRun.Count} steps run, {result.StepsSkipped.Count} already done; " +
            $"sent {Preflight.FormatBytes(fromHere)} from here{(via.Count > 0 ? $" ({string.Join(", ", via)})" : "")}, {Preflight.FormatBytes(relayed)} host-to-host; {elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>One progress line a second: bytes, percent, hosts, throughput.</summary>
    private sealed class ConsoleProgress : IProgress<TransferProgress>
    {
        private Stopwatch? _clock;
        private long _lastTick = -1000;

        public void Report(TransferProgress p)
        {
            _clock ??= Stopwatch.StartNew(); // the rate counts from the first byte's report, not from the start of the run
            long now = _clock.ElapsedMilliseconds;
            bool final = p.HostsDone == p.HostsTotal && p.HostsTotal > 0;
            if (!final && now - Interlocked.Read(ref _lastTick) < 1000) return;
            Interlocked.Exchange(ref _lastTick, now);
            double rate = p.BytesDone / Math.Max(0.001, now / 1000.0);
            var sb = new StringBuilder("distribute: ");
            sb.Append(Preflight.FormatBytes(p.BytesDone)).Append(" / ").Append(Preflight.FormatBytes(p.BytesTotal));
            if (p.BytesTotal > 0) sb.Append($" ({100.0 * p.BytesDone / p.BytesTotal:0}%)");
            sb.Append($", {p.HostsDone}/{p.HostsTotal} hosts, {Preflight.FormatBytes((long)rate)}/s");
            Console.Error.WriteLine(sb.ToString());
        }
    }
}
