using Sealer.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Sealer.Core.Yaml;

namespace Sealer.Core.Delivery.Clusterfile;

/// <summary>
/// <c>sealer convert clusterfile OLD &gt; NEW</c>: a v1 Clusterfile (<c>sealer.aliyun.com/v1alpha1</c>,
/// <c>zlink.aliyun.com/v1alpha1</c>, <c>sealer.cloud/v2</c> in the v1 shape: <c>spec.masters.ipList</c>,
/// <c>spec.nodes.ipList</c>, <c>provider</c>) becomes a v2 one the way Sealer's own <c>ConvertV1ClusterToV2Cluster</c>
/// does (utils/decode.go): masters and nodes become host groups, ssh, env, image and name are kept. What v2 has no place
/// for (provider, machine sizes, network, certSANS, cloud annotations) is dropped, each with a note saying where it
/// goes now. Other documents (Plugin, Config, kubeadm) are copied as they are.
/// </summary>
public static class ClusterfileConverter
{
    public sealed record Result(string Yaml, IReadOnlyList<string> Notes);

    public static Result ConvertV1(string text, string? file = null)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new SafeParser(text));
        }
        catch (YamlException ex)
        {
            throw new SealerException(ErrorCodes.ClusterfileInvalidYaml, $"The Clusterfile is not valid YAML: {(ex.InnerException?.Message ?? ex.Message).TrimEnd('.')}. Fix the syntax at this line.", file, (int)ex.Start.Line, (int)ex.Start.Column, ex);
        }
        var notes = new List<string>();
        var output = new YamlStream();
        bool converted = false;
        foreach (var doc in stream.Documents)
        {
            if (doc.RootNode is not YamlMappingNode root || Scalar(root, "kind") != "Cluster" || Child(root, "spec") is not YamlMappingNode spec || Child(spec, "hosts") is not null)
            {
                if (doc.RootNode is YamlScalarNode { Value: null or "" }) continue;
                output.Add(doc);
                continue;
            }
            converted = true;
            output.Add(new YamlDocument(ConvertCluster(root, spec, notes, file)));
        }
        if (!converted)
        {
            throw new SealerException(ErrorCodes.ClusterfileMissingField, "There is no v1 Cluster document (spec.masters / spec.nodes with ipList) to convert: the file is already v2 (spec.hosts), or has no kind: Cluster.", file, 1, 1);
        }
        var writer = new StringWriter { NewLine = "\n" };
        output.Save(writer, assignAnchors: false);
        string yaml = writer.ToString().Replace("\n...\n", "\n", StringComparison.Ordinal);
        if (yaml.EndsWith("...\n", StringComparison.Ordinal)) yaml = yaml[..^4];
        return new Result(yaml, notes);
    }

    private static YamlMappingNode ConvertCluster(YamlMappingNode root, YamlMappingNode spec, List<string> notes, string? file)
    {
        string Where(YamlNode n) => $"{file ?? "Clusterfile"}({n.Start.Line})";
        var result = new YamlMappingNode
        {
            { "apiVersion", "sealer.io/v2" },
            { "kind", "Cluster" },
        };
        string name = Child(root, "metadata") is YamlMappingNode meta && Scalar(meta, "name") is { Length: > 0 } n ? n : "my-cluster";
        result.Add("metadata", new YamlMappingNode { { "name", name } });
        if (Child(root, "metadata") is YamlMappingNode m2 && Child(m2, "annotations") is YamlMappingNode ann && ann.Children.Count > 0)
        {
            notes.Add($"{Where(ann)}: metadata.annotations dropped ({ann.Children.Count} cloud-provider annotations such as {Key(ann.Children.First().Key)}: v2 keeps no infrastructure state).");
        }
        var newSpec = new YamlMappingNode();
        if (Child(spec, "image") is { } image) newSpec.Add("image", image);
        else throw new SealerException(ErrorCodes.ClusterfileMissingField, "The v1 Cluster has no spec.image: add the cluster image to install, then convert again.", file, (int)spec.Start.Line, (int)spec.Start.Column);
        if (Child(spec, "env") is YamlSequenceNode env && env.Children.Count > 0) newSpec.Add("env", env);
        if (Child(spec, "ssh") is YamlMappingNode ssh)
        {
            var newSsh = new YamlMappingNode();
            foreach (var (k, v) in ssh.Children)
            {
                string key = Key(k);
                if (key is "user" or "passwd" or "pk" or "pkPasswd" or "port" or "encrypted") newSsh.Add(k, v);
                else notes.Add($"{Where(k)}: spec.ssh.{key} dropped (v2 ssh takes user, passwd, pk, pkPasswd, port, encrypted).");
            }
            newSpec.Add("ssh", newSsh);
        }
        var hosts = new YamlSequenceNode();
        foreach (var (group, role) in new[] { ("masters", "master"), ("nodes", "node") })
        {
            if (Child(spec, group) is not YamlMappingNode g) continue;
            if (Child(g, "ipList") is YamlSequenceNode ips && ips.Children.Count > 0)
            {
                hosts.Add(new YamlMappingNode
                {
                    { "ips", new YamlSequenceNode(ips.Children) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow } },
                    { "roles", new YamlSequenceNode(new YamlScalarNode(role)) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow } },
                });
            }
            var machine = g.Children.Keys.Select(Key).Where(k => k != "ipList").ToList();
            if (machine.Count > 0) notes.Add($"{Where(g)}: spec.{group}.{string.Join("/", machine)} dropped (machine sizes for a cloud provider; v2 installs on the hosts you list).");
        }
        if (hosts.Children.Count == 0)
        {
            throw new SealerException(ErrorCodes.ClusterfileMissingField, "The v1 Cluster lists no host (spec.masters.ipList is empty): Sealer created those machines on a cloud provider, which v2 does not. Write the hosts' addresses into spec.masters.ipList (and nodes), then convert again.", file, (int)spec.Start.Line, (int)spec.Start.Column);
        }
        newSpec.Add("hosts", hosts);
        foreach (var (k, v) in spec.Children)
        {
            string key = Key(k);
            string? note = key switch
            {
                "image" or "env" or "ssh" or "masters" or "nodes" => null,
                "provider" => $"spec.provider ({(v as YamlScalarNode)?.Value}) dropped: v2 has no provider, it installs over SSH on the hosts listed.",
                "network" => "spec.network dropped: the CNI comes with the cluster image; pod/service CIDRs (podCIDR, svcCIDR) go in a kubeadm ClusterConfiguration document (networking.podSubnet / serviceSubnet), the interface in the image's env (e.g. Interface=eth0 for calico).",
                "certSANS" => "spec.certSANS dropped: put the names in a kubeadm ClusterConfiguration document (apiServer.certSANs).",
                _ => $"spec.{key} dropped (no v2 field).",
            };
            if (note is not null) notes.Add($"{Where(k)}: {note}");
        }
        result.Add("spec", newSpec);
        return result;
    }

    private static YamlNode? Child(YamlMappingNode map, string key)
        => map.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: var v } && v == key).Value;

    private static string? Scalar(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;

    private static string Key(YamlNode node) => (node as YamlScalarNode)?.Value ?? "?";
}
