using System.Text;
using Sealer.Core.Delivery.Clusterfile;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>Sealer's way for workers to reach the API servers: a local VIP that kube-lvscare balances over every master. Pure.</summary>
public static class ApiServerVip
{
    /// <summary>Sealer's API server domain (common.DefaultAPIserverDomain; not configurable in Sealer either).</summary>
    public const string Domain = "apiserver.cluster.local";

    /// <summary>Sealer's local VIP for the API servers (common.DefaultVIP / DefaultVIPForIPv6), overridden by env IPvsVIPv4 / IPvsVIPv6.</summary>
    public const string DefaultVip = "10.103.97.2", DefaultVipV6 = "1248:4003:10bb:6a01:83b9:6360:c66d:0002";

    /// <summary>The static pod on every worker (Sealer: /etc/kubernetes/manifests/kube-lvscare.yaml, pod kube-lvscare).</summary>
    public const string LvscareManifest = "/etc/kubernetes/manifests/kube-lvscare.yaml";

    /// <summary>Sealer's common.LvsCareRepoAndTag, under the cluster's registry.</summary>
    public const string LvscareRepoAndTag = "sealerio/lvscare:v1.1.3-beta.8";

    /// <summary>Sealer's VIP: env IPvsVIPv4 (IPvsVIPv6 for IPv6 hosts) from spec.env, else 10.103.97.2 (its IPv6 default).</summary>
    internal static string VipOf(ClusterSpec cluster)
    {
        string? v4 = cluster.Env.LastOrDefault(e => e.Key == "IPvsVIPv4").Value, v6 = cluster.Env.LastOrDefault(e => e.Key == "IPvsVIPv6").Value;
        bool ipv6 = System.Net.IPAddress.TryParse(cluster.Hosts[0].Ip, out var first) && first.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        return (ipv6 ? v6 ?? v4 : v4 ?? v6) ?? (ipv6 ? DefaultVipV6 : DefaultVip);
    }

    /// <summary>The unit that puts a worker's route to the VIP back at boot, before kubelet; also the record of that route (its <c># route: VIP</c> line).</summary>
    public const string VipRouteUnit = "/etc/systemd/system/sealer-vip-route.service";

    /// <summary>
    /// Shell for a worker: traffic to the VIP must leave from the host's Clusterfile address, the one the masters answer (IPVS
    /// rewrites only the destination). When the kernel would send it from another (a host on several networks whose default
    /// route is on another one, or no route at all), a route to the VIP from that address's interface, and the unit that
    /// puts it back at boot (Sealer: <c>seautil route add --host VIP --gateway IP</c> on such workers, kept in RHEL's
    /// network-scripts). Prints <c>vip-route: ...</c> when it added the route, <c>vip-route-warning: ...</c> when it cannot.
    /// </summary>
    internal static string VipRouteScript(string clusterName, string vip, string hostIp) => $$"""
        vip={{System.Net.IPAddress.Parse(vip)}}; ip={{System.Net.IPAddress.Parse(hostIp)}}; unit={{VipRouteUnit}}
        if command -v ip >/dev/null 2>&1; then
          old=$(sed -n 's/^# route: //p' "$unit" 2>/dev/null || true)
          if [ -n "$old" ] && [ "$old" != "$vip" ]; then ip route del "$old" metric 50 2>/dev/null || true; rm -f "$unit"; fi
          dev=$(ip -o addr show to "$ip" 2>/dev/null | awk '{ print $2; exit }')
          src=$({{VipSource("\"$vip\"", "\"$ip\"")}})
          if [ -z "$dev" ]; then
            [ -n "$src" ] || echo "vip-route-warning: no route to the VIP $vip, and no interface here has $ip to route it from: kubeadm join and kubelet cannot reach the API servers"
          elif [ "$src" != "$ip" ] || [ -f "$unit" ]; then
            ip route replace "$vip" dev "$dev" src "$ip" metric 50 || exit 1
            if [ -d /etc/systemd/system ]; then
              {
                echo {{Ssh.SshHost.ShellQuote(VipRouteHeader(clusterName) + " the API servers' VIP routed from this worker's cluster address")}}
                echo "# route: $vip"
                echo "[Unit]"
                echo "Description=sealer: route the API servers' VIP $vip from $ip ($dev)"
                echo "Wants=network-online.target"
                echo "After=network-online.target"
                echo "Before=kubelet.service"
                echo "[Service]"
                echo "Type=oneshot"
                echo "RemainAfterExit=yes"
                echo "ExecStart=/bin/sh -c 'for i in \$\$(seq 60); do ip route replace $vip dev $dev src $ip metric 50 && exit 0; sleep 1; done; exit 1'"
                echo "[Install]"
                echo "WantedBy=multi-user.target"
              } > "$unit.new"
              if cmp -s "$unit.new" "$unit"; then rm -f "$unit.new"
              else
                mv -f "$unit.new" "$unit"
                if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload || true; systemctl enable sealer-vip-route.service >/dev/null 2>&1 || true; fi
              fi
            fi
            [ "$src" = "$ip" ] || echo "vip-route: $vip from $ip ($dev), was ${src:-unroutable}"
          fi
        fi
        """;

    /// <summary>
    /// Shell printing the address the kernel sends traffic to <paramref name="vip"/> from (nothing: no route), or
    /// <paramref name="hostIp"/> when the host holds the VIP itself (an lvscare that puts it on a device: IPVS sees it
    /// locally, no route needed). Both are shell words (an address, or a quoted variable).
    /// </summary>
    internal static string VipSource(string vip, string hostIp) =>
        $"if ip route get {vip} 2>/dev/null | grep -q '^local '; then echo {hostIp}; else ip route get {vip} 2>/dev/null | sed -n 's/.* src \\([^ ]*\\).*/\\1/p'; fi";

    private static string VipRouteHeader(string clusterName) => $"# Generated by sealer for cluster {clusterName}:";

    /// <summary>Shell that takes a worker's route to the VIP and its unit out again (only the cluster's own).</summary>
    internal static string VipRouteRemoval(string clusterName) => $$"""
        if grep -qF {{Ssh.SshHost.ShellQuote(VipRouteHeader(clusterName))}} {{VipRouteUnit}} 2>/dev/null; then
          r=$(sed -n 's/^# route: //p' {{VipRouteUnit}}); if [ -n "$r" ]; then ip route del "$r" metric 50 2>/dev/null || true; fi
          if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl disable sealer-vip-route.service >/dev/null 2>&1 || true; fi
          rm -f {{VipRouteUnit}}
          if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload || true; fi
        fi
        """;

    internal static string HostPort(string ip, int port) => ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]:{port}" : $"{ip}:{port}";

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
}
