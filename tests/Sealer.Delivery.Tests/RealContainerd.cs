using System.Text;
using Sealer.Core.Delivery.Ssh;

namespace Sealer.Delivery.Tests;

/// <summary>The real containerd (Debian package) on a test host, pulling through the hosts.toml mirrors delivery wrote.</summary>
internal static class RealContainerd
{
    /// <summary>Starts a private containerd on the host and fetches <paramref name="references"/> (for <paramref name="platform"/>, default the host's) through
    /// <paramref name="hostsDir"/> (default /etc/containerd/certs.d); returns the digests in its content store (`ctr content ls -q`).</summary>
    public static async Task<string> FetchAsync(SshHost node, string? platform, IReadOnlyList<string> references, string hostsDir = "/etc/containerd/certs.d")
    {
        const string ctrd = "/var/lib/sealer/ctrd";
        await node.RunAsync($$"""
            mkdir -p {{ctrd}}
            cat > {{ctrd}}/config.toml <<'EOF'
            version = 2
            root = "{{ctrd}}/root"
            state = "{{ctrd}}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "{{ctrd}}/containerd.sock"
            EOF
            nohup setsid containerd --config {{ctrd}}/config.toml > {{ctrd}}/log 2>&1 < /dev/null &
            for i in $(seq 1 100); do [ -S {{ctrd}}/containerd.sock ] && break; sleep 0.1; done
            """);
        var sb = new StringBuilder();
        foreach (var r in references)
        {
            sb.Append($"ctr --address {ctrd}/containerd.sock -n test content fetch --hosts-dir {hostsDir} {(platform is null ? "" : "--platform " + platform)} {r} >/dev/null\n");
        }
        sb.Append($"ctr --address {ctrd}/containerd.sock -n test content ls -q\n");
        var result = await node.RunAsync(sb.ToString(), new CommandOptions { Timeout = TimeSpan.FromSeconds(60) });
        return result.Stdout;
    }
}
