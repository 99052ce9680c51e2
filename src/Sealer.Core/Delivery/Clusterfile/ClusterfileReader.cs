using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Sealer.Core.Diagnostics;
using Sealer.Core.References;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Sealer.Core.Yaml;

namespace Sealer.Core.Delivery.Clusterfile;

/// <summary>
/// Reads a Sealer Clusterfile (v2 and the variants found in the wild) with YamlDotNet's representation model (no
/// reflection). Documents are dispatched on <c>kind</c> only; <c>apiVersion</c> is not checked. Every unknown field,
/// wrong shape or bad value is a <see cref="SealerException"/> with the file, line and column, and a message that says
/// how to fix it. Passwords never appear in messages.
/// </summary>
public static partial class ClusterfileReader
{
    private static readonly string[] KubeadmKinds =
        ["InitConfiguration", "ClusterConfiguration", "JoinConfiguration", "KubeletConfiguration", "KubeProxyConfiguration", "KubeadmConfig"];

    public static ClusterfileDocument Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SealerException(ErrorCodes.ClusterfileNotFound, $"Cannot read the Clusterfile '{path}': {ex.Message}. Pass an existing file with -f.", path, inner: ex);
        }
        return Parse(text, path);
    }

    public static ClusterfileDocument Parse(string text, string? file = null)
    {
        var stream = new YamlStream();
        try
        {
            FindUndefinedAlias(text);
            stream.Load(new SafeParser(text));
        }
        catch (AnchorNotFoundException ex)
        {
            int line = (int)ex.Start.Line;
            string src = SourceLine(text, line);
            int colon = src.IndexOf(':', StringComparison.Ordinal);
            string key = colon > 0 ? src[..colon].Trim().TrimStart('-', ' ') : "the value";
            throw new SealerException(ErrorCodes.ClusterfileUnquotedAlias,
                $"The value of '{key}' starts with '*', which YAML reads as an alias to an anchor that does not exist. Quote it: {key}: '...' (the value is not shown).",
                file, line, (int)ex.Start.Column);
        }
        catch (YamlException ex)
        {
            throw new SealerException(ErrorCodes.ClusterfileInvalidYaml, $"The Clusterfile is not valid YAML: {(ex.InnerException?.Message ?? ex.Message).TrimEnd('.')}. Fix the syntax at this line (indentation, a missing ':' or an unclosed quote).",
                file, (int)ex.Start.Line, (int)ex.Start.Column, ex);
        }

        var r = new Reader(file);
        ClusterSpec? cluster = null;
        var configs = new List<ConfigSpec>();
        var plugins = new List<PendingPlugin>();
        var apps = new List<ApplicationSpec>();
        var kubeadm = new List<RawDocument>();
        foreach (var doc in stream.Documents)
        {
            if (doc.RootNode is YamlScalarNode { Value: null or "" }) continue; // empty document between '---'
            var root = r.Map(doc.RootNode, "document", "a document must be a mapping with kind, metadata and spec");
            var kindNode = r.Get(root, "kind");
            if (kindNode is null)
            {
                throw r.Error(ErrorCodes.ClusterfileMissingField, root, "This document has no 'kind'. Add 'kind: Cluster' (or Plugin, Config, Application).");
            }
            string kind = r.Str(kindNode, "kind");
            switch (kind)
            {
                case "Cluster":
                    r.RefuseV1(root); // a v1 file (masters.ipList) would give 0 hosts in Sealer: say how to convert it
                    cluster = r.ReadCluster(root); // the last Cluster document wins, as in Sealer
                    break;
                case "Plugin":
                    plugins.Add(r.ReadPlugin(root));
                    break;
                case "Config":
                    configs.Add(r.ReadConfig(root));
                    break;
                case "Application":
                    apps.Add(r.ReadApplication(root));
                    break;
                default:
                    if (KubeadmKinds.Contains(kind, StringComparer.Ordinal))
                    {
                        kubeadm.Add(new RawDocument(kind, r.Slice(doc.RootNode), r.Loc(doc.RootNode)));
                        break;
                    }
                    throw r.Error(ErrorCodes.ClusterfileUnknownKind, kindNode,
                        $"Unknown kind '{kind}'. A Clusterfile holds Cluster, Plugin, Config, Application and kubeadm ({string.Join(", ", KubeadmKinds)}) documents.");
            }
        }
        if (cluster is null)
        {
            throw new SealerException(ErrorCodes.ClusterfileNoCluster, "The Clusterfile has no 'kind: Cluster' document. Add one with spec.image and spec.hosts.", file, 1, 1);
        }
        // Plugins need the hosts: 'on' selects by IP or label, old LABEL/TAINT/HOSTNAME plugins become host settings.
        var (resolvedPlugins, hostsAfterPlugins) = r.ResolvePlugins(plugins, cluster.Hosts);
        cluster = cluster with { Hosts = hostsAfterPlugins };
        return new ClusterfileDocument { Cluster = cluster, Configs = configs, Plugins = resolvedPlugins, Applications = apps, KubeadmDocuments = kubeadm, File = file };
    }

    /// <summary>Finds an alias to an anchor that does not exist (<c>passwd: *****</c>) before the loader reports it without a useful position.</summary>
    private static void FindUndefinedAlias(string text)
    {
        var parser = new SafeParser(text);
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case YamlDotNet.Core.Events.AnchorAlias alias when !anchors.Contains(alias.Value.Value):
                    throw new AnchorNotFoundException(alias.Start, alias.End, "undefined alias");
                case YamlDotNet.Core.Events.NodeEvent { Anchor.IsEmpty: false } node:
                    anchors.Add(node.Anchor.Value);
                    break;
                case YamlDotNet.Core.Events.DocumentStart:
                    anchors.Clear();
                    break;
            }
        }
    }

    private static string SourceLine(string text, int line)
    {
        var lines = text.Split('\n');
        return line >= 1 && line <= lines.Length ? lines[line - 1] : "";
    }

    /// <summary>Expands <c>a.b.c.d-a.b.c.e</c> into each address; a single address is returned as is (normalized).</summary>
    public static IReadOnlyList<string> ExpandIpRange(string value)
    {
        value = value.Trim();
        int dash = value.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return IPAddress.TryParse(value, out var single) ? [single.ToString()] : throw new FormatException($"'{value}' is not an IP address");
        }
        if (!IPAddress.TryParse(value[..dash].Trim(), out var first) || !IPAddress.TryParse(value[(dash + 1)..].Trim(), out var last)
            || first.AddressFamily != AddressFamily.InterNetwork || last.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new FormatException($"'{value}' is not an IPv4 range of the form 192.168.0.2-192.168.0.9");
        }
        uint a = ToUInt(first), b = ToUInt(last);
        if (b < a) throw new FormatException($"the range '{value}' ends before it starts");
        if (b - a >= 4096) throw new FormatException($"the range '{value}' holds more than 4096 addresses");
        var result = new List<string>((int)(b - a + 1));
        for (uint i = a; i <= b; i++)
        {
            result.Add(new IPAddress([(byte)(i >> 24), (byte)(i >> 16), (byte)(i >> 8), (byte)i]).ToString());
        }
        return result;

        static uint ToUInt(IPAddress ip)
        {
            var bytes = ip.GetAddressBytes();
            return ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
        }
    }

    private sealed partial class Reader(string? file)
    {
        private static readonly Dictionary<string, string> Hints = new(StringComparer.Ordinal)
        {
            ["masters"] = "that is a Clusterfile v1 field; convert the file with 'sealer convert clusterfile OLD > NEW' (hosts go under spec.hosts with roles: [master])",
            ["nodes"] = "that is a Clusterfile v1 field; convert the file with 'sealer convert clusterfile OLD > NEW' (hosts go under spec.hosts with roles: [node])",
            ["provider"] = "that is a Clusterfile v1 field; v2 has no provider (hosts are reached over SSH)",
            ["network"] = "that is a Clusterfile v1 field; configure the CNI through a Config or the image's env",
            ["certSANS"] = "that is a Clusterfile v1 field; use a kubeadm ClusterConfiguration document (apiServer.certSANs)",
            ["password"] = "the SSH password field is 'passwd'",
            ["privateKey"] = "the SSH private key field is 'pk'",
            ["ip"] = "a host group lists its addresses in 'ips' (a list)",
        };

        public SealerException Error(string code, YamlNode node, string message) =>
            new(code, message, file, (int)node.Start.Line, (int)node.Start.Column);

        public SourceLocation Loc(YamlNode node) => new(file, (int)node.Start.Line, (int)node.Start.Column);

        /// <summary>The line a scalar's first line of text is on: the line after the indicator of a block scalar (<c>|</c>, <c>&gt;</c>).</summary>
        private static int DataFirstLine(YamlScalarNode node) =>
            (int)node.Start.Line + (node.Style is ScalarStyle.Literal or ScalarStyle.Folded ? 1 : 0);

        public string Slice(YamlNode node)
        {
            var writer = new StringWriter();
            new YamlStream(new YamlDocument(node)).Save(writer, assignAnchors: false);
            string yaml = writer.ToString();
            return yaml.EndsWith("...\n", StringComparison.Ordinal) ? yaml[..^4] : yaml;
        }

        public YamlMappingNode Map(YamlNode node, string path, string hint) => node as YamlMappingNode
            ?? throw Error(ErrorCodes.ClusterfileWrongShape, node, $"'{path}' must be a mapping (key: value lines), not {Describe(node)}; {hint}.");

        public YamlSequenceNode Seq(YamlNode node, string path, string hint) => node as YamlSequenceNode
            ?? throw Error(ErrorCodes.ClusterfileWrongShape, node, $"'{path}' must be a list ('- item' lines), not {Describe(node)}; {hint}.");

        public string Str(YamlNode node, string path)
        {
            if (node is YamlScalarNode s) return s.Value ?? "";
            throw Error(ErrorCodes.ClusterfileWrongShape, node, $"'{path}' must be a single value, not {Describe(node)}.");
        }

        public string? OptStr(YamlMappingNode map, string key, string path)
        {
            var n = Get(map, key);
            if (n is null) return null;
            if (n is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" }) return null;
            return Str(n, $"{path}.{key}");
        }

        /// <summary>A secret; the mask the saved copies carry (<see cref="ClusterfileEditor.Masked"/>) is refused.</summary>
        public string? Secret(YamlMappingNode map, string key, string path)
        {
            string? v = OptStr(map, key, path);
            if (v == ClusterfileEditor.Masked)
            {
                throw Error(ErrorCodes.ClusterfileBadValue, Get(map, key)!,
                    $"'{path}.{key}' is masked: this Clusterfile is a copy from the cluster (ConfigMap kube-system/{ClusterfileEditor.ConfigMapName}), which never holds secrets. Put the real value back (the full file is the Clusterfile under the data root on master0, mode 0600).");
            }
            return v;
        }

        /// <summary>A document's <c>data</c>: a copy from the cluster's ConfigMap has its secret lines masked, which is refused.</summary>
        public string? Data(YamlMappingNode map, string key, string path)
        {
            string? v = OptStr(map, key, path);
            if (v is not null && v.Contains(ClusterfileEditor.Masked, StringComparison.Ordinal))
            {
                throw Error(ErrorCodes.ClusterfileBadValue, Get(map, key)!,
                    $"'{path}.{key}' holds masked secrets: this Clusterfile is a copy from the cluster (ConfigMap kube-system/{ClusterfileEditor.ConfigMapName}). Put the real values back (the full file is the Clusterfile under the data root on master0, mode 0600).");
            }
            return v;
        }

        public int Port(YamlNode node, string path)
        {
            string v = Str(node, path).Trim();
            return int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is > 0 and <= 65535
                ? p
                : throw Error(ErrorCodes.ClusterfileBadPort, node, $"'{path}' must be a port number from 1 to 65535 (quoted or not), not '{v}'.");
        }

        public bool Bool(YamlNode node, string path)
        {
            string v = Str(node, path).Trim();
            return v.ToLowerInvariant() switch
            {
                "true" => true,
                "false" => false,
                _ => throw Error(ErrorCodes.ClusterfileBadValue, node, $"'{path}' must be true or false, not '{v}'."),
            };
        }

        public List<string> StrList(YamlNode node, string path, string example)
        {
            if (IsNull(node)) return []; // 'key:' with no value is an empty list (Go's yaml reads null into a nil slice)
            var seq = Seq(node, path, $"write it as {example}");
            var list = new List<string>();
            foreach (var item in seq) list.Add(Str(item, $"{path}[]"));
            return list;
        }

        public YamlNode? Get(YamlMappingNode map, string key)
        {
            foreach (var (k, v) in map.Children)
            {
                if (k is YamlScalarNode { Value: var name } && name == key) return v;
            }
            return null;
        }

        public void CheckKeys(YamlMappingNode map, string path, params string[] allowed)
        {
            foreach (var (k, _) in map.Children)
            {
                string name = k is YamlScalarNode s ? s.Value ?? "" : "?";
                if (allowed.Contains(name, StringComparer.Ordinal)) continue;
                string hint = Hints.TryGetValue(name, out var h) ? h
                    : Closest(name, allowed) is { } c ? $"did you mean '{c}'?"
                    : $"'{path}' takes: {string.Join(", ", allowed)}";
                throw Error(ErrorCodes.ClusterfileUnknownField, k, $"Unknown field '{name}' in '{path}': {hint}");
            }
        }

        private static string? Closest(string name, string[] allowed)
        {
            string? best = null;
            int bestD = int.MaxValue;
            foreach (var a in allowed)
            {
                int d = Distance(name.ToLowerInvariant(), a.ToLowerInvariant());
                if (d < bestD) { bestD = d; best = a; }
            }
            return bestD <= Math.Max(2, name.Length / 3) ? best : null;
        }

        private static int Distance(string a, string b)
        {
            var d = new int[a.Length + 1, b.Length + 1];
            for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
            for (int j = 0; j <= b.Length; j++) d[0, j] = j;
            for (int i = 1; i <= a.Length; i++)
            {
                for (int j = 1; j <= b.Length; j++)
                {
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                }
            }
            return d[a.Length, b.Length];
        }

        private static string Describe(YamlNode node) => node switch
        {
            YamlMappingNode => "a mapping",
            YamlSequenceNode => "a list",
            YamlScalarNode s when string.IsNullOrEmpty(s.Value) => "empty",
            _ => "a single value",
        };

        private (string Name, YamlMappingNode Spec) Header(YamlMappingNode root, string kind, string defaultName)
        {
            CheckKeys(root, kind, "apiVersion", "kind", "metadata", "spec", "status");
            string name = defaultName;
            if (Get(root, "metadata") is { } metaNode)
            {
                var meta = Map(metaNode, "metadata", "e.g. metadata: {name: my-cluster}");
                CheckKeys(meta, "metadata", "name", "namespace", "labels", "annotations", "creationTimestamp", "generation", "resourceVersion", "uid");
                name = OptStr(meta, "name", "metadata") ?? defaultName;
            }
            var specNode = Get(root, "spec") ?? throw Error(ErrorCodes.ClusterfileMissingField, root, $"The {kind} document has no 'spec'.");
            return (name, Map(specNode, "spec", $"the {kind} settings go under spec"));
        }

        public List<KeyValuePair<string, string>> Env(YamlNode node, string path)
        {
            if (IsNull(node)) return []; // 'env:' with no value, as Sealer reads it
            if (node is YamlMappingNode)
            {
                throw Error(ErrorCodes.ClusterfileWrongShape, node,
                    $"'{path}' must be a list of KEY=value entries, not a mapping: write each entry as '- KEY=value' (Sealer's format).");
            }
            var seq = Seq(node, path, "write each entry as '- KEY=value'");
            var env = new List<KeyValuePair<string, string>>();
            foreach (var item in seq)
            {
                string entry = Str(item, $"{path}[]");
                int eq = entry.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || entry[..eq].Trim().Length == 0 || entry[..eq].Any(char.IsWhiteSpace))
                {
                    throw Error(ErrorCodes.ClusterfileBadEnv, item, $"The {path} entry '{entry}' is not KEY=value. Write it as '- NAME=value'.");
                }
                string key = entry[..eq], value = entry[(eq + 1)..];
                if (key is "IPvsVIPv4" or "IPvsVIPv6" && !(IPAddress.TryParse(value, out var vip) && (key == "IPvsVIPv4"
                    ? vip.AddressFamily == AddressFamily.InterNetwork && vip.ToString() == value // not 10.103 (10.0.0.103)
                    : vip.AddressFamily == AddressFamily.InterNetworkV6 && vip.ScopeId == 0)))
                {
                    throw Error(ErrorCodes.ClusterfileBadValue, item,
                        $"{key} '{value}' is not an {(key == "IPvsVIPv4" ? "IPv4" : "IPv6")} address: it is the API servers' local VIP on every worker (default {(key == "IPvsVIPv4" ? "10.103.97.2" : "1248:4003:10bb:6a01:83b9:6360:c66d:0002")}), an address no host or service of the site uses.");
                }
                env.Add(new(key, value));
            }
            return env;
        }

        public ClusterSpec ReadCluster(YamlMappingNode root)
        {
            var (name, spec) = Header(root, "Cluster", "my-cluster");
            CheckKeys(spec, "spec", "image", "env", "cmd_args", "cmd", "appNames", "ssh", "hosts", "registry", "containerRuntime", "hostAliases", "dataRoot", "imageVerifyKey");
            string image = OptStr(spec, "image", "spec")
                ?? throw Error(ErrorCodes.ClusterfileMissingField, spec, "spec.image is missing: name the cluster image to install, e.g. image: docker.io/sealerio/kubernetes:v1.22.15.");
            var env = Get(spec, "env") is { } e ? Env(e, "spec.env") : [];
            var cmdArgs = Get(spec, "cmd_args") is { } ca ? StrList(ca, "spec.cmd_args", "a list") : [];
            var cmd = Get(spec, "cmd") is { } c ? StrList(c, "spec.cmd", "a list") : [];
            var appNames = Get(spec, "appNames") is { } an ? StrList(an, "spec.appNames", "[app1, app2]") : [];
            var (ssh, _) = Get(spec, "ssh") is { } sshNode ? ReadSsh(sshNode, "spec.ssh", new SshSpec()) : (new SshSpec(), null);

            var hostsNode = Get(spec, "hosts") ?? throw Error(ErrorCodes.ClusterfileMissingField, spec, "spec.hosts is missing: list the hosts, e.g. hosts: [{ips: [192.168.0.2], roles: [master]}].");
            if (hostsNode is YamlMappingNode)
            {
                throw Error(ErrorCodes.ClusterfileWrongShape, hostsNode,
                    "'spec.hosts' must be a list of host groups, not a mapping: start each group with '- ', e.g.\n  hosts:\n    - ips: [192.168.0.2]\n      roles: [master]");
            }
            var hosts = new List<HostSpec>();
            var seen = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var groupNode in Seq(hostsNode, "spec.hosts", "start each host group with '- ips: [...]'"))
            {
                var group = Map(groupNode, "spec.hosts[]", "a host group has ips, roles, ssh, env, labels, taints");
                CheckKeys(group, "spec.hosts[]", "ips", "roles", "ssh", "env", "labels", "taints");
                var ipsNode = Get(group, "ips") ?? throw Error(ErrorCodes.ClusterfileMissingField, group, "This host group has no 'ips': add ips: [192.168.0.2] (ranges like 192.168.0.2-192.168.0.4 work).");
                var rolesNode = Get(group, "roles") ?? throw Error(ErrorCodes.ClusterfileMissingField, group, "This host group has no 'roles': add roles: [master] or roles: [node].");
                var roles = StrList(rolesNode, "roles", "[master] or [node]").Select(x => x.Trim().ToLowerInvariant()).ToList();
                foreach (var (role, i) in roles.Select((r, i) => (r, i)))
                {
                    // Sealer keeps any role (its decoder tests use roles: [node, db]): extra roles label the host
                    // node-role.kubernetes.io/<role> and select Plugin scopes.
                    if (!RoleRegex().IsMatch(role))
                    {
                        var at = rolesNode is YamlSequenceNode rs && i < rs.Children.Count ? rs.Children[i] : rolesNode;
                        throw Error(ErrorCodes.ClusterfileBadRole, at, $"The role '{role}' is not a valid role name: use master, node, or a name of lowercase letters, digits, '-', '_' and '.' (it becomes the label node-role.kubernetes.io/{role}).");
                    }
                }
                if (roles.Count == 0) throw Error(ErrorCodes.ClusterfileMissingField, rolesNode, "'roles' is empty: add master or node.");
                SshSpec hostSsh = ssh;
                if (Get(group, "ssh") is { } hs)
                {
                    var (over, set) = ReadSsh(hs, "spec.hosts[].ssh", new SshSpec());
                    hostSsh = ssh.Merge(over, set);
                }
                var hostEnv = Get(group, "env") is { } he ? Env(he, "spec.hosts[].env") : [];
                var labels = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var extra in roles.Where(x => x is not ("master" or "node"))) labels[$"node-role.kubernetes.io/{extra}"] = "";
                if (Get(group, "labels") is { } ln && !IsNull(ln))
                {
                    foreach (var (k, v) in Map(ln, "labels", "write labels as key: value lines").Children) labels[Str(k, "labels")] = Str(v, "labels");
                }
                var taintsNode = Get(group, "taints");
                var taints = taintsNode is not null ? StrList(taintsNode, "taints", "[key=value:NoSchedule]") : [];
                foreach (var t in taints)
                {
                    if (!t.Contains(':', StringComparison.Ordinal) || t.EndsWith(':'))
                    {
                        throw Error(ErrorCodes.ClusterfileBadValue, taintsNode!, $"The taint '{t}' needs an effect: write key=value:NoSchedule (or PreferNoSchedule, NoExecute).");
                    }
                }
                foreach (var ipNode in Seq(ipsNode, "ips", "write ips: [192.168.0.2, 192.168.0.3]"))
                {
                    string raw = Str(ipNode, "ips[]");
                    IReadOnlyList<string> ips;
                    try
                    {
                        ips = ExpandIpRange(raw);
                    }
                    catch (FormatException ex)
                    {
                        throw Error(ErrorCodes.ClusterfileBadAddress, ipNode, $"Bad address: {ex.Message}. Write one address (192.168.0.2) or a range (192.168.0.2-192.168.0.9).");
                    }
                    foreach (var ip in ips)
                    {
                        if (seen.TryGetValue(ip, out var first))
                        {
                            throw Error(ErrorCodes.ClusterfileDuplicateHost, ipNode, $"The host {ip} is listed twice (first at line {first.Start.Line}). List each host once; give it both roles if needed.");
                        }
                        seen[ip] = ipNode;
                        hosts.Add(new HostSpec { Ip = ip, Roles = roles, Ssh = hostSsh, Env = hostEnv, Labels = labels, Taints = taints, Location = Loc(ipNode) });
                    }
                }
            }
            if (hosts.Count == 0) throw Error(ErrorCodes.ClusterfileMissingField, hostsNode, "spec.hosts lists no host: add at least one master.");
            if (!hosts.Any(h => h.IsMaster)) throw Error(ErrorCodes.ClusterfileNoMaster, hostsNode, "No host has the master role: give the first host roles: [master].");

            var registry = Get(spec, "registry") is { } rn ? ReadRegistry(rn) : new RegistrySpec();
            string? runtime = null;
            if (Get(spec, "containerRuntime") is { } crNode)
            {
                var cr = Map(crNode, "spec.containerRuntime", "write containerRuntime: {type: containerd}");
                CheckKeys(cr, "spec.containerRuntime", "type");
                runtime = OptStr(cr, "type", "spec.containerRuntime");
                if (runtime is not (null or "containerd" or "docker"))
                {
                    throw Error(ErrorCodes.ClusterfileBadValue, cr, $"spec.containerRuntime.type must be containerd or docker, not '{runtime}'.");
                }
            }
            var aliases = new List<HostAlias>();
            if (Get(spec, "hostAliases") is { } haNode)
            {
                foreach (var item in Seq(haNode, "spec.hostAliases", "write - ip: 10.0.0.1\n    hostnames: [a.example]"))
                {
                    var m = Map(item, "spec.hostAliases[]", "each alias has ip and hostnames");
                    CheckKeys(m, "spec.hostAliases[]", "ip", "hostnames");
                    string ip = OptStr(m, "ip", "hostAliases[]") ?? throw Error(ErrorCodes.ClusterfileMissingField, m, "This host alias has no 'ip'.");
                    if (!IPAddress.TryParse(ip, out _)) throw Error(ErrorCodes.ClusterfileBadAddress, m, $"The host alias ip '{ip}' is not an IP address.");
                    var names = Get(m, "hostnames") is { } hn ? StrList(hn, "hostnames", "[a.example, b.example]") : [];
                    aliases.Add(new HostAlias(ip, names));
                }
            }
            string dataRoot = OptStr(spec, "dataRoot", "spec") ?? "/var/lib/sealer/data";
            if (!dataRoot.StartsWith('/')) throw Error(ErrorCodes.ClusterfileBadValue, Get(spec, "dataRoot")!, $"spec.dataRoot must be an absolute path, not '{dataRoot}'.");
            return new ClusterSpec
            {
                Name = name, Image = image, Env = env, CmdArgs = cmdArgs, Cmd = cmd, AppNames = appNames, Ssh = ssh, Hosts = hosts,
                Registry = registry, ContainerRuntime = runtime, HostAliases = aliases, DataRoot = dataRoot.TrimEnd('/'), Location = Loc(root),
                ImageVerifyKey = OptStr(spec, "imageVerifyKey", "spec"),
            };
        }

        private (SshSpec Spec, SshOverrides Set) ReadSsh(YamlNode node, string path, SshSpec defaults)
        {
            var m = Map(node, path, "ssh takes user, passwd, pk, pkPasswd, port");
            CheckKeys(m, path, "user", "passwd", "pk", "pkPasswd", "port", "encrypted", "jumpHost");
            bool encrypted = Get(m, "encrypted") is { } enc && Bool(enc, $"{path}.encrypted");
            string? pk = OptStr(m, "pk", path);
            if (pk is { Length: 0 }) pk = null; // pk: "" clears the cluster's key for this host
            if (pk is not null && pk.StartsWith("~/", StringComparison.Ordinal))
            {
                pk = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), pk[2..]);
            }
            var set = new SshOverrides(Get(m, "user") is not null, Get(m, "passwd") is not null, Get(m, "pk") is not null,
                Get(m, "pkPasswd") is not null, Get(m, "port") is not null, Get(m, "jumpHost") is not null);
            var spec = defaults with
            {
                User = OptStr(m, "user", path) ?? defaults.User,
                Password = (encrypted ? DecryptPassword(m, path) : Secret(m, "passwd", path)) ?? defaults.Password,
                PrivateKeyPath = pk ?? defaults.PrivateKeyPath,
                PrivateKeyPassphrase = Secret(m, "pkPasswd", path) ?? defaults.PrivateKeyPassphrase,
                Port = Get(m, "port") is { } p && !(p is YamlScalarNode { Value: "" }) ? Port(p, $"{path}.port") : defaults.Port,
                JumpHost = OptStr(m, "jumpHost", path) ?? defaults.JumpHost,
            };
            return (spec, set);
        }

        private RegistrySpec ReadRegistry(YamlNode node)
        {
            var m = Map(node, "spec.registry", "registry takes localRegistry and externalRegistry");
            CheckKeys(m, "spec.registry", "localRegistry", "externalRegistry");
            var local = new LocalRegistrySpec();
            if (Get(m, "localRegistry") is { } ln)
            {
                var l = Map(ln, "spec.registry.localRegistry", "it takes domain, port, username, password, ha, insecure, cert");
                const string p = "spec.registry.localRegistry";
                CheckKeys(l, p, "domain", "port", "username", "password", "ha", "insecure", "cert");
                var dns = new List<string>();
                var ips = new List<string>();
                if (Get(l, "cert") is { } cn)
                {
                    var cert = Map(cn, $"{p}.cert", "cert takes subjectAltName");
                    CheckKeys(cert, $"{p}.cert", "subjectAltName");
                    if (Get(cert, "subjectAltName") is { } sn)
                    {
                        var san = Map(sn, $"{p}.cert.subjectAltName", "subjectAltName takes dnsNames and ips");
                        CheckKeys(san, $"{p}.cert.subjectAltName", "dnsNames", "ips");
                        if (Get(san, "dnsNames") is { } d) dns = StrList(d, "dnsNames", "[a.example]");
                        if (Get(san, "ips") is { } i)
                        {
                            ips = StrList(i, "ips", "[10.0.0.1]");
                            foreach (var ip in ips)
                            {
                                if (!IPAddress.TryParse(ip, out _)) throw Error(ErrorCodes.ClusterfileBadAddress, i, $"subjectAltName ip '{ip}' is not an IP address.");
                            }
                        }
                    }
                }
                local = new LocalRegistrySpec
                {
                    Domain = OptStr(l, "domain", p) ?? "sea.hub",
                    Port = Get(l, "port") is { } pn ? Port(pn, $"{p}.port") : 5000,
                    Username = OptStr(l, "username", p),
                    Password = Secret(l, "password", p),
                    Ha = Get(l, "ha") is not { } ha || Bool(ha, $"{p}.ha"),
                    Insecure = Get(l, "insecure") is { } ins && Bool(ins, $"{p}.insecure"),
                    SubjectAltNameDns = dns,
                    SubjectAltNameIps = ips,
                };
                CheckLoginPair(l, "spec.registry.localRegistry", local.Username, local.Password,
                    "the built-in registry would start without authentication while the file says it has some");
            }
            ExternalRegistrySpec? external = null;
            if (Get(m, "externalRegistry") is { } en)
            {
                var e = Map(en, "spec.registry.externalRegistry", "it takes domain, port, username, password, prefix");
                const string p = "spec.registry.externalRegistry";
                CheckKeys(e, p, "domain", "port", "username", "password", "prefix");
                string? prefix = OptStr(e, "prefix", p)?.Trim('/');
                if (prefix is not null && !MirrorPaths.IsValidPrefix(prefix))
                {
                    throw Error(ErrorCodes.ClusterfileBadValue, Get(e, "prefix")!,
                        $"externalRegistry prefix '{prefix}' is not a repository path: lower-case components of [a-z0-9] joined by '.', '_' or '-', separated by '/' (e.g. a Harbor project: prefix: sealer).");
                }
                external = new ExternalRegistrySpec(
                    OptStr(e, "domain", p) ?? throw Error(ErrorCodes.ClusterfileMissingField, e, "externalRegistry needs a domain."),
                    Get(e, "port") is { } pn ? Port(pn, $"{p}.port") : null,
                    OptStr(e, "username", p), Secret(e, "password", p), prefix);
                CheckLoginPair(e, p, external.Username, external.Password, "the hosts would pull from it anonymously");
            }
            return new RegistrySpec { Local = local, External = external };
        }

        /// <summary>A registry's login is a username with its password: one without the other is refused, never taken as no login.</summary>
        private void CheckLoginPair(YamlMappingNode map, string path, string? username, string? password, string consequence)
        {
            if ((username is null) == (password is null)) return;
            string has = username is null ? "password" : "username", lacks = username is null ? "username" : "password";
            throw Error(ErrorCodes.ClusterfileMissingField, Get(map, has)!,
                $"'{path}' has a {has} but no {lacks}: {consequence}. Give both {path}.username and {path}.password, or neither.");
        }

        /// <summary>
        /// An action in any spelling Sealer files use: kebab-case (<c>pre-init-host</c>), CamelCase of v0.8
        /// (<c>PreInit</c>, <c>PostInstall</c>) or v0.9 (<c>PreInitHost</c>), and <c>Originally</c> (before anything else).
        /// </summary>
        public static PluginPhase? ParsePhase(string action) => action.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant() switch
        {
            "preinstall" or "originally" => PluginPhase.PreInstall,
            "preinithost" or "preinit" => PluginPhase.PreInitHost,
            "postinithost" or "postinit" => PluginPhase.PostInitHost,
            "postinstall" => PluginPhase.PostInstall,
            "prejoin" => PluginPhase.PreJoin,
            "postjoin" => PluginPhase.PostJoin,
            "precleanhost" or "preclean" => PluginPhase.PreCleanHost,
            "postcleanhost" or "postclean" => PluginPhase.PostCleanHost,
            "preuninstall" => PluginPhase.PreUninstall,
            "postuninstall" => PluginPhase.PostUninstall,
            "upgradehost" => PluginPhase.UpgradeHost,
            "upgrade" => PluginPhase.Upgrade,
            _ => null,
        };

        public ConfigSpec ReadConfig(YamlMappingNode root)
        {
            var (name, spec) = Header(root, "Config", "config");
            CheckKeys(spec, "spec", "path", "data", "strategy", "process");
            string path = OptStr(spec, "path", "spec") ?? throw Error(ErrorCodes.ClusterfileBadConfig, spec, $"Config '{name}' has no 'path': name the file under the rootfs, e.g. path: etc/values.yaml.");
            if (path.StartsWith('/') || path.Split('/').Contains(".."))
            {
                throw Error(ErrorCodes.ClusterfileBadConfig, Get(spec, "path")!, $"Config '{name}': path '{path}' must be relative to the rootfs and stay inside it (no leading '/', no '..').");
            }
            string strategy = OptStr(spec, "strategy", "spec") ?? "merge";
            if (strategy is not ("merge" or "override" or "insert"))
            {
                throw Error(ErrorCodes.ClusterfileBadConfig, Get(spec, "strategy")!, $"Config '{name}': strategy '{strategy}' is not merge, override or insert.");
            }
            return new ConfigSpec(name, path, Data(spec, "data", "spec") ?? "", strategy, OptStr(spec, "process", "spec"), Loc(root));
        }

        public ApplicationSpec ReadApplication(YamlMappingNode root)
        {
            var (name, spec) = Header(root, "Application", "application");
            CheckKeys(spec, "spec", "cmds", "launchApps", "configs");
            var cmds = Get(spec, "cmds") is { } cm ? StrList(cm, "spec.cmds", "[\"kubectl apply -f x.yaml\"]") : [];
            var laNode = Get(spec, "launchApps");
            List<string>? launch = laNode is null || laNode is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" } ? null : StrList(laNode, "spec.launchApps", "[app1, app2]");
            var configs = new List<AppConfig>();
            if (Get(spec, "configs") is { } cn)
            {
                foreach (var item in Seq(cn, "spec.configs", "each entry is - name: app"))
                {
                    var m = Map(item, "spec.configs[]", "each entry has name, launch, env, files");
                    CheckKeys(m, "spec.configs[]", "name", "launch", "env", "files");
                    string app = OptStr(m, "name", "spec.configs[]") ?? throw Error(ErrorCodes.ClusterfileMissingField, m, "This app config has no 'name': name the app it configures (name: my-app).");
                    if (configs.Any(c => c.Name == app)) throw Error(ErrorCodes.ClusterfileBadValue, Get(m, "name")!, $"App '{app}' is configured twice in spec.configs: merge the two entries.");
                    var appCmds = new List<string>();
                    HelmLaunch? helm = null;
                    if (Get(m, "launch") is { } ln)
                    {
                        var l = Map(ln, "spec.configs[].launch", "launch takes cmds or helm");
                        CheckKeys(l, "spec.configs[].launch", "cmds", "helm");
                        if (Get(l, "cmds") is { } c) appCmds = StrList(c, "spec.configs[].launch.cmds", "[\"kubectl apply -f x.yaml\"]");
                        if (Get(l, "helm") is { } h) helm = ReadHelm(Map(h, "spec.configs[].launch.helm", "e.g. helm: {namespace: web, values: [replicaCount=3]}"));
                        if (appCmds.Count > 0 && helm is not null)
                        {
                            throw Error(ErrorCodes.ClusterfileBadValue, l, $"App '{app}': launch has both cmds and helm. Use cmds (a full command line) or helm (settings for the chart's install), not both.");
                        }
                    }
                    var env = Get(m, "env") is { } e ? Env(e, "spec.configs[].env") : [];
                    var files = new List<AppFileSpec>();
                    if (Get(m, "files") is { } fn)
                    {
                        foreach (var f in Seq(fn, "spec.configs[].files", "each entry is - path: values.yaml"))
                        {
                            var fm = Map(f, "spec.configs[].files[]", "each entry has path, strategy, data");
                            CheckKeys(fm, "spec.configs[].files[]", "path", "strategy", "data");
                            string path = OptStr(fm, "path", "spec.configs[].files[]") ?? throw Error(ErrorCodes.ClusterfileMissingField, fm, $"A file of app '{app}' has no 'path': name it relative to the app's directory (path: values.yaml).");
                            if (path.StartsWith('/') || path.Split('/').Contains(".."))
                            {
                                throw Error(ErrorCodes.ClusterfileBadConfig, Get(fm, "path")!, $"App '{app}': file path '{path}' must be relative to the app's directory and stay inside it (no leading '/', no '..').");
                            }
                            string strategy = OptStr(fm, "strategy", "spec.configs[].files[]") ?? "overwrite";
                            if (strategy is not ("overwrite" or "merge"))
                            {
                                throw Error(ErrorCodes.ClusterfileBadConfig, Get(fm, "strategy")!, $"App '{app}': file strategy '{strategy}' is not overwrite or merge (Sealer's strategies).");
                            }
                            files.Add(new AppFileSpec(path, strategy, Data(fm, "data", "spec.configs[].files[]") ?? "", Loc(fm)) { DataFirstLine = Get(fm, "data") is YamlScalarNode dn ? DataFirstLine(dn) : 0 });
                        }
                    }
                    configs.Add(new AppConfig(app, appCmds, env) { Files = files, Helm = helm, Location = Loc(m) });
                }
            }
            return new ApplicationSpec(name, launch, configs, Loc(root)) { Cmds = cmds, LaunchAppsLocation = laNode is null ? Loc(root) : Loc(laNode) };
        }

        private HelmLaunch ReadHelm(YamlMappingNode h)
        {
            const string path = "spec.configs[].launch.helm";
            // Sealer's Helm type: Name (json "Name"), Namespace (no json tag), the rest camelCase; Go's JSON decoding ignores case
            var keys = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            string[] allowed = ["name", "namespace", "createNamespace", "wait", "atomic", "timeout", "skipCRDs", "disableHooks", "values", "valueFiles", "chart"];
            foreach (var (k, v) in h.Children)
            {
                string key = k is YamlScalarNode s ? s.Value ?? "" : "?";
                string? canonical = allowed.FirstOrDefault(a => string.Equals(a, key, StringComparison.OrdinalIgnoreCase));
                if (canonical is null) CheckKeys(new YamlMappingNode(k, v), path, allowed);
                if (canonical == "chart")
                {
                    throw Error(ErrorCodes.ClusterfileUnknownField, k, "App launch.helm.chart is not supported: the chart is the app's own directory in the cluster image (air-gapped installs fetch nothing).");
                }
                keys[canonical!] = v;
            }
            string? S(string key) => keys.TryGetValue(key, out var n) && n is not YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" } ? Str(n, $"{path}.{key}") : null;
            var values = keys.TryGetValue("values", out var vn) ? StrList(vn, $"{path}.values", "[replicaCount=3, image.tag=v2]") : [];
            foreach (var (v, i) in values.Select((v, i) => (v, i)))
            {
                if (v.IndexOf('=', StringComparison.Ordinal) <= 0)
                {
                    throw Error(ErrorCodes.ClusterfileBadValue, ((YamlSequenceNode)vn!).Children[i], $"The helm value '{v}' is not key=value (helm --set syntax, e.g. image.tag=v2).");
                }
            }
            var valueFiles = keys.TryGetValue("valueFiles", out var fn) ? StrList(fn, $"{path}.valueFiles", "[values-prod.yaml]") : [];
            foreach (var (f, i) in valueFiles.Select((f, i) => (f, i)))
            {
                if (f.Contains("://", StringComparison.Ordinal) || f.Split('/').Contains(".."))
                {
                    throw Error(ErrorCodes.ClusterfileBadValue, ((YamlSequenceNode)fn!).Children[i], $"The helm values file '{f}' must be a file in the cluster image (relative to the app's directory or absolute), not a URL.");
                }
            }
            string? timeout = S("timeout");
            if (timeout is not null && !TimeoutRegex().IsMatch(timeout))
            {
                throw Error(ErrorCodes.ClusterfileBadValue, keys["timeout"], $"The helm timeout '{timeout}' is not a Go duration (e.g. 5m, 90s, 1h30m).");
            }
            return new HelmLaunch
            {
                Name = S("name"),
                Namespace = S("namespace"),
                CreateNamespace = !keys.TryGetValue("createNamespace", out var cn) || Bool(cn, $"{path}.createNamespace"),
                Wait = keys.TryGetValue("wait", out var w) ? Bool(w, $"{path}.wait") : null,
                Atomic = keys.TryGetValue("atomic", out var at) && Bool(at, $"{path}.atomic"),
                Timeout = timeout,
                SkipCrds = keys.TryGetValue("skipCRDs", out var sc) && Bool(sc, $"{path}.skipCRDs"),
                DisableHooks = keys.TryGetValue("disableHooks", out var dh) && Bool(dh, $"{path}.disableHooks"),
                Values = values,
                ValueLocations = vn is YamlSequenceNode vs ? vs.Children.Select(Loc).ToList() : [],
                ValueFiles = valueFiles,
            };
        }
    }

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")]
    private static partial Regex RoleRegex();

    [GeneratedRegex(@"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")]
    private static partial Regex TimeoutRegex();
}
