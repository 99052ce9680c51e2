using System.Net;
using Sealer.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sealer.Core.Delivery.Clusterfile;

/// <summary>
/// What older Sealer files hold, read with Sealer's meaning: Plugin types of v0.5–v0.8 (LABEL, TAINT, HOSTNAME become
/// host settings; ETCD and out-of-tree plugins are refused naming what replaces them), the v0.8 <c>on:</c> selector (IPs,
/// ranges or a label), v1 Clusterfiles (refused with the conversion command) and encrypted SSH passwords.
/// </summary>
public static partial class ClusterfileReader
{
    /// <summary>A Plugin document as read, before the hosts are known (its scope and old types need them).</summary>
    private sealed record PendingPlugin(string Name, string Type, YamlNode? TypeNode, List<PluginPhase> Phases, YamlNode ActionNode,
        string? Scope, YamlNode? ScopeNode, string? On, YamlNode? OnNode, string Data, YamlNode DataNode, SourceLocation Location);

    private sealed partial class Reader
    {
        public static bool IsNull(YamlNode node) => node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" };

        /// <summary>
        /// A v1 Cluster (<c>spec.masters.ipList</c>, <c>provider</c>; apiVersion <c>sealer.aliyun.com/v1alpha1</c>,
        /// <c>zlink.aliyun.com/v1alpha1</c>, or <c>sealer.cloud/v2</c> files still in the v1 shape): Sealer main reads 0 hosts
        /// from it without a word. We say how to convert it.
        /// </summary>
        public void RefuseV1(YamlMappingNode root)
        {
            if (Get(root, "spec") is not YamlMappingNode spec || Get(spec, "hosts") is not null) return;
            var v1 = Get(spec, "masters") ?? Get(spec, "nodes") ?? Get(spec, "provider");
            if (v1 is null) return;
            string api = Get(root, "apiVersion") is YamlScalarNode { Value: { } a } ? a : "(none)";
            throw new SealerException(ErrorCodes.ClusterfileV1, $"This is a Clusterfile v1 (apiVersion {api}, spec.masters/nodes.ipList): Sealer v2 and this tool list hosts under spec.hosts. Convert it: sealer convert clusterfile {file ?? "Clusterfile"} > Clusterfile.v2 (hosts, ssh and env are kept; provider fields are dropped with a note).",
                file, (int)v1.Start.Line, (int)v1.Start.Column);
        }

        public PendingPlugin ReadPlugin(YamlMappingNode root)
        {
            var (name, spec) = Header(root, "Plugin", "plugin");
            CheckKeys(spec, "spec", "type", "action", "scope", "on", "data");
            var typeNode = Get(spec, "type");
            string type = (OptStr(spec, "type", "spec") ?? "SHELL").Trim().ToUpperInvariant();
            var actionNode = Get(spec, "action") ?? throw Error(ErrorCodes.ClusterfileMissingField, spec, $"Plugin '{name}' has no 'action': add e.g. action: post-install.");
            var phases = new List<PluginPhase>();
            foreach (var part in Str(actionNode, "spec.action").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                phases.Add(ParsePhase(part) ?? throw Error(ErrorCodes.ClusterfileBadPlugin, actionNode,
                    $"Plugin '{name}': unknown action '{part}'. Use one of pre-install, pre-init-host, post-init-host, post-install, pre-join, post-join, pre-clean-host, post-clean-host, pre-uninstall, post-uninstall, upgrade-host, upgrade (CamelCase like PreInit, PostInstall works too)."));
            }
            if (phases.Count == 0) throw Error(ErrorCodes.ClusterfileBadPlugin, actionNode, $"Plugin '{name}' has an empty 'action': add e.g. action: post-install.");
            // 'on' (v0.8) is read as written: Go's YAML 1.1 turned an unquoted on: into the key true, so Sealer v0.9+ ran such
            // a plugin on every host; the author meant the selector, which is what we apply ('on' and 'on' quoted alike).
            var scopeNode = Get(spec, "scope");
            var onNode = Get(spec, "on");
            string? data = Data(spec, "data", "spec");
            if (data is null && type is "SHELL" or "HOSTNAME" or "LABEL" or "TAINT")
            {
                throw Error(ErrorCodes.ClusterfileMissingField, spec, $"Plugin '{name}' has no 'data': put the {(type == "SHELL" ? "shell script" : "lines")} under data: |");
            }
            return new PendingPlugin(name, type, typeNode, phases, actionNode,
                scopeNode is null || IsNull(scopeNode) ? null : Str(scopeNode, "spec.scope"), scopeNode,
                onNode is null || IsNull(onNode) ? null : Str(onNode, "spec.on"), onNode,
                data ?? "", Get(spec, "data") ?? spec, Loc(root));
        }

        /// <summary>Turns the read plugins into SHELL hooks with their host selection, applying old LABEL/TAINT/HOSTNAME plugins to the hosts.</summary>
        public (List<PluginSpec> Plugins, List<HostSpec> Hosts) ResolvePlugins(List<PendingPlugin> pending, IReadOnlyList<HostSpec> hostList)
        {
            var hosts = hostList.ToList();
            var plugins = new List<PluginSpec>();
            var allRoles = hosts.SelectMany(h => h.Roles).Distinct(StringComparer.Ordinal).ToList();
            foreach (var p in pending)
            {
                switch (p.Type)
                {
                    case "SHELL":
                        plugins.Add(new PluginSpec(p.Name, p.Phases, Selection(p, hosts, allRoles), p.Data, p.Location));
                        break;
                    case "LABEL":
                        // v0.8 labels.go: one host a line, "IP k=v,k2=v2" (applied after install, as the labels step does).
                        foreach (var (ip, rest, line) in HostLines(p, hosts))
                        {
                            var labels = new Dictionary<string, string>(hosts[ip].Labels, StringComparer.Ordinal);
                            foreach (var kv in rest.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                            {
                                int eq = kv.IndexOf('=', StringComparison.Ordinal);
                                if (eq <= 0) throw LineError(p, line, $"Plugin '{p.Name}' (LABEL): '{kv}' is not key=value. Better: move the label to spec.hosts[].labels of that host.");
                                labels[kv[..eq]] = kv[(eq + 1)..];
                            }
                            hosts[ip] = hosts[ip] with { Labels = labels };
                        }
                        break;
                    case "TAINT":
                        // v0.8: "IP key=value:Effect" (several separated by ','); "key:Effect-" removed a taint, which a new cluster has not.
                        foreach (var (ip, rest, line) in HostLines(p, hosts))
                        {
                            var taints = hosts[ip].Taints.ToList();
                            foreach (var t in rest.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                            {
                                if (t.EndsWith('-')) continue;
                                if (!t.Contains(':', StringComparison.Ordinal) || t.EndsWith(':'))
                                {
                                    throw LineError(p, line, $"Plugin '{p.Name}' (TAINT): '{t}' needs an effect (key=value:NoSchedule). Better: move it to spec.hosts[].taints of that host.");
                                }
                                taints.Add(t);
                            }
                            hosts[ip] = hosts[ip] with { Taints = taints };
                        }
                        break;
                    case "HOSTNAME":
                        // v0.8 hostname_plugin.go: "IP name" a line, set before init. One SHELL hook per host does the same.
                        foreach (var (ip, rest, line) in HostLines(p, hosts))
                        {
                            string hostname = rest.Trim();
                            if (hostname.Length == 0 || hostname.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '.')))
                            {
                                throw LineError(p, line, $"Plugin '{p.Name}' (HOSTNAME): '{hostname}' is not a host name (letters, digits, '-', '.').");
                            }
                            plugins.Add(new PluginSpec($"{p.Name}-{hosts[ip].Ip}", p.Phases, [hosts[ip].Ip],
                                $"hostnamectl set-hostname {hostname} 2>/dev/null || hostname {hostname}\n", p.Location));
                        }
                        break;
                    case "ETCD":
                        throw Error(ErrorCodes.ClusterfileOldPluginType, p.TypeNode!,
                            $"Plugin '{p.Name}' has type ETCD (Sealer v0.8's etcd backup, run by 'sealer plugin'). Replace it with a SHELL plugin on the masters, e.g. type: SHELL, action: post-install, scope: master, data: ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key snapshot save /var/lib/etcd-backup.db");
                    case "OUT":
                    default:
                        throw Error(ErrorCodes.ClusterfileOldPluginType, p.TypeNode ?? p.ActionNode,
                            $"Plugin '{p.Name}' has type '{p.Type}': an out-of-tree (Go .so) or unknown plugin type of Sealer v0.8, which nothing loads any more. Write it as type: SHELL with the commands under data; host labels and taints go in spec.hosts[].labels / taints, host names in a SHELL plugin (hostnamectl set-hostname).");
                }
            }
            return (plugins, hosts);
        }

        /// <summary>The hosts a SHELL plugin runs on: <c>scope</c> roles (or IPs), or v0.8's <c>on</c> (IPs/ranges, or a label <c>k=v</c>).</summary>
        private List<string> Selection(PendingPlugin p, List<HostSpec> hosts, List<string> allRoles)
        {
            var selected = new List<string>();
            if (p.Scope is { } scope)
            {
                // Sealer splits on '|' (ORed); files also write "master | node", "master,node" and "master/node".
                foreach (var part in scope.Split(['|', ',', '/'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    string r = part.StartsWith("role=", StringComparison.Ordinal) ? part[5..] : part;
                    if (allRoles.Contains(r, StringComparer.Ordinal) || IPAddress.TryParse(r, out _) || r is "master" or "node")
                    {
                        selected.Add(r);
                        continue;
                    }
                    throw Error(ErrorCodes.ClusterfileBadPlugin, p.ScopeNode!, $"Plugin '{p.Name}': scope '{part}' is no role a host has ({string.Join(", ", allRoles)}) nor an IP address, so the plugin would run nowhere. Write scope: master|node (roles separated by '|').");
                }
            }
            if (p.On is { } on)
            {
                foreach (var part in on.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (part.StartsWith("role=", StringComparison.Ordinal) && part.Length > 5) { selected.Add(part[5..]); continue; }
                    int eq = part.IndexOf('=', StringComparison.Ordinal);
                    if (eq > 0)
                    {
                        // A node label (v0.8 listed nodes by it after install): node-role.kubernetes.io/<role>= is the role,
                        // any other label selects the hosts whose Clusterfile labels carry it.
                        string key = part[..eq], value = part[(eq + 1)..];
                        const string rolePrefix = "node-role.kubernetes.io/";
                        if (key.StartsWith(rolePrefix, StringComparison.Ordinal) && value.Length == 0)
                        {
                            string role = key[rolePrefix.Length..] is "control-plane" ? "master" : key[rolePrefix.Length..];
                            selected.Add(role);
                            continue;
                        }
                        var matching = hosts.Where(h => h.Labels.TryGetValue(key, out var v) && v == value).Select(h => h.Ip).ToList();
                        if (matching.Count == 0)
                        {
                            throw Error(ErrorCodes.ClusterfileBadPlugin, p.OnNode!, $"Plugin '{p.Name}': on '{part}' selects hosts by a label no host has in spec.hosts[].labels. Give the hosts that label, or use scope: with roles.");
                        }
                        selected.AddRange(matching);
                        continue;
                    }
                    try
                    {
                        selected.AddRange(ExpandIpRange(part));
                    }
                    catch (FormatException ex)
                    {
                        throw Error(ErrorCodes.ClusterfileBadPlugin, p.OnNode!, $"Plugin '{p.Name}': on '{part}' is not an IP, a range or a label ({ex.Message}). Use scope: master|node instead.");
                    }
                }
            }
            return selected.Distinct(StringComparer.Ordinal).ToList();
        }

        /// <summary>Old LABEL/TAINT/HOSTNAME data: "IP rest" a line (# comments and blank lines skipped); IP must be a host of the cluster.</summary>
        private IEnumerable<(int Host, string Text, int Line)> HostLines(PendingPlugin p, List<HostSpec> hosts)
        {
            var lines = p.Data.Split('\n');
            // a literal block starts on the line after 'data: |'
            int first = (int)p.DataNode.Start.Line + (p.DataNode is YamlScalarNode { Style: ScalarStyle.Literal or ScalarStyle.Folded } ? 1 : 0);
            for (int i = 0; i < lines.Length; i++)
            {
                string l = lines[i].Trim();
                if (l.Length == 0 || l.StartsWith('#')) continue;
                int sp = l.IndexOfAny([' ', '\t']);
                string ipText = sp < 0 ? l : l[..sp];
                string rest = sp < 0 ? "" : l[(sp + 1)..].Trim();
                IReadOnlyList<string> ips;
                try
                {
                    ips = ExpandIpRange(ipText);
                }
                catch (FormatException)
                {
                    throw LineError(p, first + i, $"Plugin '{p.Name}' ({p.Type}): a line starts with '{ipText}', not a host IP. Write 'IP value' lines.");
                }
                foreach (var ip in ips)
                {
                    int h = hosts.FindIndex(x => x.Ip == ip);
                    if (h < 0) throw LineError(p, first + i, $"Plugin '{p.Name}' ({p.Type}): {ip} is no host of spec.hosts.");
                    yield return (h, rest, first + i);
                }
            }
        }

        private SealerException LineError(PendingPlugin p, int line, string message) => new(ErrorCodes.ClusterfileOldPluginType, message, file, line, 1);

        /// <summary><c>ssh.encrypted: true</c>: the passwd was written by Sealer's AES encryption (utils/hash/aes.go); decrypt it as Sealer does.</summary>
        public string? DecryptPassword(YamlMappingNode m, string path)
        {
            string? cipherText = Secret(m, "passwd", path);
            if (cipherText is null) return null;
            return SealerPasswordCipher.TryDecrypt(cipherText) ?? throw Error(ErrorCodes.ClusterfileBadValue, Get(m, "passwd")!,
                $"{path}.passwd is marked encrypted: true but is not a password Sealer encrypted (base64 of AES-256-CBC with Sealer's key). Replace it with the clear password and remove 'encrypted: true' (keep the file mode 0600), or better, log in with a key (pk).");
        }
    }
}
