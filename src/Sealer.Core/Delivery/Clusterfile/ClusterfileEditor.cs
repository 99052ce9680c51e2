using Sealer.Core.Diagnostics;
using YamlDotNet.RepresentationModel;
using Sealer.Core.Yaml;

namespace Sealer.Core.Delivery.Clusterfile;

/// <summary>
/// Changes the host list of a Clusterfile for <c>sealer join</c> and <c>sealer delete --hosts</c>, keeping the other
/// documents. (The YAML is re-emitted, so comments are not kept; the file is validated again by the reader.)
/// </summary>
public static partial class ClusterfileEditor
{
    /// <summary>Appends a host group per role for the given addresses (ranges allowed).</summary>
    public static string AddHosts(string text, IReadOnlyList<string> masters, IReadOnlyList<string> nodes, string? file = null)
    {
        var (stream, hosts) = Load(text, file);
        return AppendGroups(stream, hosts, masters, nodes, file);
    }

    private static string AppendGroups(YamlStream stream, YamlSequenceNode hosts, IReadOnlyList<string> masters, IReadOnlyList<string> nodes, string? file)
    {
        foreach (var (ips, role) in new[] { (masters, "master"), (nodes, "node") })
        {
            if (ips.Count == 0) continue;
            var group = new YamlMappingNode
            {
                { "ips", new YamlSequenceNode(ips.Select(i => new YamlScalarNode(i)).Cast<YamlNode>()) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow } },
                { "roles", new YamlSequenceNode(new YamlScalarNode(role)) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow } },
            };
            hosts.Add(group);
        }
        string result = Save(stream);
        ClusterfileReader.Parse(result, file); // duplicates and bad addresses are reported as for a hand-written file
        return result;
    }

    /// <summary>
    /// Replaces every host group with one group of masters and one of nodes (Sealer's <c>sealer run -m IPS -n IPS</c>, or a
    /// project's <c>SealerMasters</c>/<c>SealerNodes</c>): per-group ssh, env, labels and taints of the old groups go with them.
    /// </summary>
    public static string ReplaceHosts(string text, IReadOnlyList<string> masters, IReadOnlyList<string> nodes, string? file = null)
    {
        if (masters.Count == 0)
        {
            throw new SealerException(ErrorCodes.ClusterfileWrongShape, "Replacing the Clusterfile's hosts needs at least one master (SealerMasters, or -m).", file);
        }
        var (stream, hosts) = Load(text, file);
        hosts.Children.Clear();
        return AppendGroups(stream, hosts, masters, nodes, file);
    }

    /// <summary>
    /// Sets <c>spec.env</c> entries of the Cluster document (Sealer's <c>sealer run -e K=V</c>): an existing entry for the
    /// key is replaced in place, a new key is appended. Host env still wins over cluster env, as in Sealer.
    /// </summary>
    public static string SetEnv(string text, IReadOnlyList<KeyValuePair<string, string>> env, string? file = null)
    {
        if (env.Count == 0) return text;
        var (stream, _) = Load(text, file);
        var spec = ClusterSpecNode(stream);
        var key = new YamlScalarNode("env");
        if (!spec.Children.TryGetValue(key, out var node) || node is not YamlSequenceNode list)
        {
            list = new YamlSequenceNode();
            spec.Children[key] = list;
        }
        foreach (var (k, v) in env)
        {
            var entry = new YamlScalarNode($"{k}={v}") { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted };
            int at = list.Children.ToList().FindIndex(e => e is YamlScalarNode { Value: { } ev } && (ev == k || ev.StartsWith(k + "=", StringComparison.Ordinal)));
            if (at >= 0) list.Children[at] = entry; else list.Add(entry);
        }
        string result = Save(stream);
        ClusterfileReader.Parse(result, file);
        return result;
    }

    /// <summary>Removes addresses from the host groups (ranges are expanded as needed; empty groups are dropped).</summary>
    public static string RemoveHosts(string text, IReadOnlyList<string> ips, string? file = null)
    {
        var (stream, hosts) = Load(text, file);
        var remove = ips.SelectMany(ClusterfileReader.ExpandIpRange).ToHashSet(StringComparer.Ordinal);
        foreach (var group in hosts.Children.OfType<YamlMappingNode>().ToList())
        {
            if (!group.Children.TryGetValue(new YamlScalarNode("ips"), out var node) || node is not YamlSequenceNode seq) continue;
            var kept = seq.Children.OfType<YamlScalarNode>().SelectMany(s => ClusterfileReader.ExpandIpRange(s.Value ?? "")).Where(ip => !remove.Contains(ip)).ToList();
            if (kept.Count == 0) hosts.Children.Remove(group);
            else group.Children[new YamlScalarNode("ips")] = new YamlSequenceNode(kept.Select(i => new YamlScalarNode(i)).Cast<YamlNode>()) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow };
        }
        string result = Save(stream);
        ClusterfileReader.Parse(result, file);
        return result;
    }

    /// <summary>What secrets are replaced with in <see cref="MaskSecrets"/>; the reader refuses it as a value.</summary>
    public const string Masked = "<masked>";

    /// <summary>Sealer's ConfigMap for the Clusterfile: kube-system/sealer-clusterfile, key Clusterfile (pkg/clusterfile).</summary>
    public const string ConfigMapName = "sealer-clusterfile", ConfigMapNamespace = "kube-system", ConfigMapKey = "Clusterfile";

    /// <summary>
    /// The Clusterfile without secrets, for copies others can read (the ConfigMap): every <c>passwd</c>, <c>pkPasswd</c> and
    /// <c>password</c> value, and env entries (<c>spec.env</c>, hosts' <c>env</c>, Application configs' <c>env</c>) whose
    /// name looks secret (<see cref="SecretNames.IsSecret"/>), become <see cref="Masked"/>; so do
    /// such lines inside documents' <c>data</c> (<see cref="MaskData"/>).
    /// </summary>
    public static string MaskSecrets(string text)
    {
        var stream = SafeParser.LoadStream(text);
        foreach (var d in stream.Documents) Walk(d.RootNode, null);
        return Save(stream);

        static void Walk(YamlNode node, string? key)
        {
            switch (node)
            {
                case YamlMappingNode m:
                    foreach (var (k, v) in m.Children.ToList())
                    {
                        string name = k is YamlScalarNode ks ? ks.Value ?? "" : "";
                        if (name is "passwd" or "pkPasswd" or "password" && v is YamlScalarNode { Value.Length: > 0 })
                        {
                            m.Children[k] = new YamlScalarNode(Masked) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted };
                        }
                        else if (name == "data" && v is YamlScalarNode { Value: { Length: > 0 } data } && MaskData(data) is var masked && masked != data)
                        {
                            m.Children[k] = new YamlScalarNode(masked) { Style = YamlDotNet.Core.ScalarStyle.Literal };
                        }
                        else Walk(v, name);
                    }
                    break;
                case YamlSequenceNode seq when key == "env":
                    for (int i = 0; i < seq.Children.Count; i++)
                    {
                        if (seq.Children[i] is YamlScalarNode { Value: { } e } && e.IndexOf('=', StringComparison.Ordinal) is > 0 and var eq && SecretNames.IsSecret(e[..eq]))
                        {
                            seq.Children[i] = new YamlScalarNode($"{e[..eq]}={Masked}") { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted };
                        }
                    }
                    break;
                case YamlSequenceNode seq:
                    foreach (var c in seq.Children) Walk(c, null);
                    break;
            }
        }
    }

    /// <summary>
    /// The <c>data</c> of Config, Plugin and Application file documents, line by line: the value of every
    /// <c>name: value</c>, <c>name=value</c> or <c>export name=value</c> line whose name says secret becomes <see cref="Masked"/>
    /// (YAML values files, env files and scripts keep their shape; a secret in a multi-line block is not recognized).
    /// </summary>
    internal static string MaskData(string data)
    {
        var lines = data.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var m = SecretLine().Match(lines[i]);
            if (!m.Success || !SecretNames.IsSecret(m.Groups["name"].Value)) continue;
            string value = m.Groups["value"].Value.Trim();
            if (value.Length == 0 || value is "|" or ">" or "|-" or ">-" or Masked or "\"" + Masked + "\"") continue;
            lines[i] = m.Groups["head"].Value + (m.Groups["sep"].Value == ":" ? "\"" + Masked + "\"" : Masked);
        }
        return string.Join('\n', lines);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<head>\s*(?:-\s+)?(?:export\s+)?[""']?(?<name>[A-Za-z_][A-Za-z0-9_.-]*)[""']?\s*(?<sep>[:=])\s*)(?<value>[^#\r]*?)(?:\s+#.*)?\r?$")]
    private static partial System.Text.RegularExpressions.Regex SecretLine();

    private static (YamlStream, YamlSequenceNode) Load(string text, string? file)
    {
        ClusterfileReader.Parse(text, file); // the same errors as any run
        var stream = SafeParser.LoadStream(text);
        var spec = ClusterSpecNode(stream);
        return spec.Children[new YamlScalarNode("hosts")] is YamlSequenceNode hosts
            ? (stream, hosts)
            : throw new SealerException(ErrorCodes.ClusterfileWrongShape, "spec.hosts must be a list.", file);
    }

    private static YamlMappingNode ClusterSpecNode(YamlStream stream)
    {
        var cluster = stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()
            .Last(m => m.Children.TryGetValue(new YamlScalarNode("kind"), out var k) && k is YamlScalarNode { Value: "Cluster" });
        return (YamlMappingNode)cluster.Children[new YamlScalarNode("spec")];
    }

    private static string Save(YamlStream stream)
    {
        var w = new StringWriter();
        stream.Save(w, assignAnchors: false);
        return w.ToString().Replace("\n...\n", "\n---\n", StringComparison.Ordinal).TrimEnd('\n', '.', '-') + "\n";
    }
}
