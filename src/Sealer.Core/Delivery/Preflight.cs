using System.Globalization;
using System.Text;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery;

public sealed record PreflightProblem(string Host, string Check, string Message)
{
    public override string ToString() => $"{Host}: [{Check}] {Message}";
}

/// <summary>What preflight learnt about a host.</summary>
public sealed record HostFacts(string Host, string Os, string Architecture, string Hostname, long FreeBytes, long ClockSkewSeconds, IReadOnlyList<int> BusyPorts, IReadOnlyList<string> MissingTools);

/// <summary>What a host must offer.</summary>
public sealed record HostRequirements(IReadOnlyList<int> Ports, long DiskBytes);

/// <summary>
/// What preflight found on every host (<c>sealer run --preflight-only</c>, the guided run): the facts of each host it
/// could log in to, what each host must offer, and every problem with what to do about it.
/// </summary>
public sealed record PreflightReport(IReadOnlyList<string> Hosts, IReadOnlyList<HostFacts> Facts, IReadOnlyDictionary<string, HostRequirements> Needs,
    IReadOnlyList<PreflightProblem> Problems, IReadOnlyList<string> ImagePlatforms, string DataRoot)
{
    public bool Passed => Problems.Count == 0;

    /// <summary>One line per host in plain words, its problems under it, and a last line saying whether the run may go on.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        foreach (var host in Hosts)
        {
            var f = Facts.FirstOrDefault(x => x.Host == host);
            var mine = Problems.Where(p => p.Host == host).ToList();
            sb.Append(mine.Count == 0 ? "ok    " : "FAIL  ").Append(host);
            if (f is not null)
            {
                Needs.TryGetValue(host, out var needs);
                sb.Append(CultureInfo.InvariantCulture, $": reachable, host key trusted, logged in; {f.Hostname}, {f.Os}/{f.Architecture}");
                sb.Append(CultureInfo.InvariantCulture, $"; {Bytes.Format(f.FreeBytes)} free under {DataRoot}");
                if (needs is { DiskBytes: > 0 }) sb.Append(CultureInfo.InvariantCulture, $" ({Bytes.Format(needs.DiskBytes)} needed)");
                if (needs is { Ports.Count: > 0 }) sb.Append(CultureInfo.InvariantCulture, $"; port{(needs.Ports.Count > 1 ? "s" : "")} {string.Join(", ", needs.Ports)} {(f.BusyPorts.Count == 0 ? "free" : "checked")}");
                sb.Append(CultureInfo.InvariantCulture, $"; clock {f.ClockSkewSeconds:+#;-#;0} s off this machine");
                sb.Append(f.MissingTools.Count == 0 ? "; tools present" : $"; missing {string.Join(", ", f.MissingTools)}");
            }
            sb.Append('\n');
            foreach (var p in mine) sb.Append("      ").Append(p.Check).Append(": ").Append(p.Message).Append('\n');
        }
        sb.Append(Passed
            ? $"preflight passed on {Hosts.Count} host(s) (image: {string.Join(", ", ImagePlatforms)}); nothing was changed yet\n"
            : $"preflight found {Problems.Count} problem(s); nothing was changed on any host: fix them and run again\n");
        return sb.ToString();
    }
}

/// <summary>
/// Checks every host in parallel before anything is changed: reachable and authenticated (done by connecting),
/// OS/architecture against the image's platforms, free disk under the data root, required ports free, clock skew
/// against this machine, duplicate hostnames, and the tools delivery needs. All problems come back in one report.
/// </summary>
public static class Preflight
{
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(30);

    private static readonly string[] Tools = ["tar", "gzip", "sha256sum", "stat", "sed"];

    public static async Task<(IReadOnlyList<HostFacts> Facts, IReadOnlyList<PreflightProblem> Problems)> CheckAsync(
        IReadOnlyList<(HostSpec Spec, SshHost Host, HostRequirements Needs)> hosts,
        IReadOnlyList<(string Os, string Architecture)> platforms, string dataRoot, CancellationToken cancellationToken = default)
    {
        var tasks = hosts.Select(h => FactsAsync(h.Spec, h.Host, h.Needs, dataRoot, cancellationToken)).ToList();
        var facts = new List<HostFacts>();
        var problems = new List<PreflightProblem>();
        for (int i = 0; i < tasks.Count; i++)
        {
            try
            {
                facts.Add(await tasks[i].ConfigureAwait(false));
            }
            catch (SealerException ex)
            {
                problems.Add(new PreflightProblem(hosts[i].Spec.Ip, "facts", ex.Message));
            }
        }
        foreach (var f in facts)
        {
            var needs = hosts.First(h => h.Spec.Ip == f.Host).Needs;
            if (!platforms.Any(p => p.Os == f.Os && p.Architecture == f.Architecture))
            {
                problems.Add(new PreflightProblem(f.Host, "platform", $"the host is {f.Os}/{f.Architecture} but the cluster image has only {string.Join(", ", platforms.Select(p => p.Os + "/" + p.Architecture))}; build the image for this platform (SealerPlatforms)."));
            }
            if (f.FreeBytes < needs.DiskBytes)
            {
                problems.Add(new PreflightProblem(f.Host, "disk", $"{Bytes.Format(f.FreeBytes)} free under {dataRoot}, {Bytes.Format(needs.DiskBytes)} needed; free some space or set spec.dataRoot to a larger disk."));
            }
            foreach (var port in f.BusyPorts)
            {
                problems.Add(new PreflightProblem(f.Host, "port", $"port {port} is already in use; stop what listens on it (ss -ltnp 'sport = :{port}') or change the port in the Clusterfile."));
            }
            if (Math.Abs(f.ClockSkewSeconds) > MaxClockSkew.TotalSeconds)
            {
                problems.Add(new PreflightProblem(f.Host, "clock", $"the clock is {f.ClockSkewSeconds:+#;-#;0} s off this machine's; certificates and etcd need synchronized clocks: enable NTP (chrony/timesyncd)."));
            }
            foreach (var tool in f.MissingTools)
            {
                problems.Add(new PreflightProblem(f.Host, "tools", $"'{tool}' is missing; install it (coreutils/tar/gzip/sed)."));
            }
        }
        foreach (var dup in facts.GroupBy(f => f.Hostname, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            foreach (var f in dup)
            {
                problems.Add(new PreflightProblem(f.Host, "hostname", $"hostname '{f.Hostname}' is also used by {string.Join(", ", dup.Where(o => o != f).Select(o => o.Host))}; Kubernetes node names must be unique: set distinct hostnames (hostnamectl set-hostname)."));
            }
        }
        return (facts, problems);
    }

    public static SealerException Failure(IReadOnlyList<PreflightProblem> problems)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Preflight found {problems.Count} problem(s); nothing was changed on any host:");
        foreach (var p in problems.OrderBy(p => p.Host, StringComparer.Ordinal)) sb.Append("\n  ").Append(p);
        return new SealerException(ErrorCodes.PreflightFailed, sb.ToString());
    }

    private static async Task<HostFacts> FactsAsync(HostSpec spec, SshHost host, HostRequirements needs, string dataRoot, CancellationToken cancellationToken)
    {
        var script = new StringBuilder();
        script.Append("set +e\n");
        script.Append("echo \"os=$(uname -s | tr 'A-Z' 'a-z')\"; echo \"arch=$(uname -m)\"; echo \"hostname=$(hostname)\"\n");
        script.Append("p=").Append(SshHost.ShellQuote(dataRoot)).Append("; while [ ! -d \"$p\" ]; do p=$(dirname \"$p\"); done\n");
        script.Append("echo \"free=$(df -Pk \"$p\" | awk 'NR==2{print $4}')\"\n");
        foreach (var port in needs.Ports)
        {
            script.Append(CultureInfo.InvariantCulture, $"if (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null || (exec 3<>/dev/tcp/{spec.Ip}/{port}) 2>/dev/null; then echo busy={port}; fi\n");
        }
        foreach (var tool in Tools) script.Append("command -v ").Append(tool).Append(" >/dev/null || echo missing=").Append(tool).Append('\n');
        script.Append("echo \"time=$(date +%s)\"\n");
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var r = await host.RunAsync(script.ToString(), new CommandOptions { Description = "preflight facts", Timeout = TimeSpan.FromSeconds(60) }, cancellationToken).ConfigureAwait(false);
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string os = "", arch = "", hostname = "";
        long free = 0, time = (before + after) / 2;
        var busy = new List<int>();
        var missing = new List<string>();
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0) continue;
            string k = line[..eq], v = line[(eq + 1)..].Trim();
            switch (k)
            {
                case "os": os = v; break;
                case "arch": arch = NormalizeArch(v); break;
                case "hostname": hostname = v; break;
                case "free": free = long.TryParse(v, CultureInfo.InvariantCulture, out long kb) ? kb * 1024 : 0; break;
                case "busy": busy.Add(int.Parse(v, CultureInfo.InvariantCulture)); break;
                case "missing": missing.Add(v); break;
                case "time": time = long.TryParse(v, CultureInfo.InvariantCulture, out long t) ? t : time; break;
            }
        }
        long skew = time < before ? time - before : time > after ? time - after : 0;
        return new HostFacts(spec.Ip, os, arch, hostname, free, skew, busy, missing);
    }

    /// <summary>uname -m to OCI architecture names.</summary>
    public static string NormalizeArch(string machine) => machine switch
    {
        "x86_64" or "amd64" => "amd64",
        "aarch64" or "arm64" => "arm64",
        "armv7l" or "armv7" or "armhf" => "arm",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "loongarch64" => "loong64",
        _ => machine,
    };
}
