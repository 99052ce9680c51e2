using System.Text;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using YamlDotNet.RepresentationModel;
using Sealer.Core.Yaml;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>What Sealer changes in the image's <c>etc/kubeadm.yml</c>. Pure.</summary>
internal static class KubeadmConfigPatch
{
    public const string Path = "etc/kubeadm.yml";

    /// <summary>The Clusterfile's kubeadm documents appended to the image's file, each after a <c>---</c>.</summary>
    public static string AppendDocuments(string? existing, IEnumerable<RawDocument> documents)
    {
        var sb = new StringBuilder((existing ?? "").TrimEnd());
        foreach (var d in documents) sb.Append("\n---\n").Append(d.Yaml.TrimEnd());
        return sb.Append('\n').ToString();
    }

    /// <summary>
    /// Whether the Clusterfile's kubeadm documents give master0's <c>localAPIEndpoint.advertiseAddress</c> themselves (an
    /// address the host holds where the Clusterfile's is translated on the way): then it is kept, not master0's Clusterfile address.
    /// </summary>
    public static bool SetsAdvertiseAddress(IEnumerable<RawDocument> documents) => documents.Any(d =>
    {
        if (d.Kind != "InitConfiguration") return false;
        var stream = new YamlStream();
        try
        {
            stream.Load(new SafeParser(d.Yaml));
        }
        catch (YamlDotNet.Core.YamlException)
        {
            return false; // the file's own error is reported where it is patched
        }
        return stream.Documents.FirstOrDefault()?.RootNode is YamlMappingNode root
            && root.Children.TryGetValue(new YamlScalarNode("localAPIEndpoint"), out var e) && e is YamlMappingNode endpoint
            && endpoint.Children.TryGetValue(new YamlScalarNode("advertiseAddress"), out var a) && a is YamlScalarNode { Value.Length: > 0 };
    });

    /// <summary>The API server certificate's extra SANs: 127.0.0.1, the API server domain, the VIP and every master.</summary>
    public static IEnumerable<string> CertSans(IEnumerable<string> masters, string vip) => new[] { "127.0.0.1", ApiServerVip.Domain, vip }.Concat(masters);

    /// <summary>
    /// As Sealer's kubeadm config (pkg/runtime/kubernetes/kubeadm): the ClusterConfiguration's <c>controlPlaneEndpoint</c> is
    /// <c>apiserver.cluster.local:6443</c> unless set, and <c>apiServer.certSANs</c> holds the domain, the VIP, 127.0.0.1 and
    /// every master, so workers reach the API servers through the VIP and masters through the domain with valid TLS; the
    /// InitConfiguration's <c>localAPIEndpoint.advertiseAddress</c> is master0's Clusterfile address (<paramref name="masters"/>[0];
    /// Sealer sets it always, over a base image's placeholder; we keep one the Clusterfile sets), else kubeadm takes the address of the default route's
    /// interface, on another network on a host on several (the API server and etcd would advertise an address the other
    /// masters and the workers may not reach).
    /// </summary>
    /// <param name="keepAdvertiseAddress">the Clusterfile's kubeadm documents set the address (<see cref="SetsAdvertiseAddress"/>): the user's word stands</param>
    public static string WithApiServerEndpoint(string yaml, IReadOnlyList<string> masters, string vip, bool keepAdvertiseAddress = false)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new SafeParser(yaml));
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new SealerException(ErrorCodes.BadClusterImage, $"etc/kubeadm.yml is not valid YAML ({ex.Message}): fix it in the cluster image or in the Clusterfile's kubeadm documents.", Path, (int)ex.Start.Line, inner: ex);
        }
        static string? Scalar(YamlMappingNode m, string key) => m.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s ? s.Value : null;
        var docs = stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
        var cc = docs.LastOrDefault(d => Scalar(d, "kind") == "ClusterConfiguration");
        if (cc is null)
        {
            string api = docs.Select(d => Scalar(d, "apiVersion")).FirstOrDefault(v => v?.StartsWith("kubeadm.k8s.io/", StringComparison.Ordinal) == true) ?? "kubeadm.k8s.io/v1beta3";
            cc = new YamlMappingNode { { "apiVersion", api }, { "kind", "ClusterConfiguration" } };
            stream.Documents.Add(new YamlDocument(cc));
        }
        var init = docs.LastOrDefault(d => Scalar(d, "kind") == "InitConfiguration");
        if (init is null)
        {
            init = new YamlMappingNode { { "apiVersion", Scalar(cc, "apiVersion") ?? "kubeadm.k8s.io/v1beta3" }, { "kind", "InitConfiguration" } };
            stream.Documents.Add(new YamlDocument(init));
        }
        if (!init.Children.TryGetValue(new YamlScalarNode("localAPIEndpoint"), out var endpointNode) || endpointNode is not YamlMappingNode endpoint)
        {
            endpoint = new YamlMappingNode { { "bindPort", "6443" } };
            init.Children[new YamlScalarNode("localAPIEndpoint")] = endpoint;
        }
        if (!keepAdvertiseAddress) endpoint.Children[new YamlScalarNode("advertiseAddress")] = new YamlScalarNode(masters[0]);
        if (Scalar(cc, "controlPlaneEndpoint") is not { Length: > 0 }) cc.Children[new YamlScalarNode("controlPlaneEndpoint")] = new YamlScalarNode($"{ApiServerVip.Domain}:6443");
        if (!cc.Children.TryGetValue(new YamlScalarNode("apiServer"), out var apiNode) || apiNode is not YamlMappingNode apiServer)
        {
            apiServer = [];
            cc.Children[new YamlScalarNode("apiServer")] = apiServer;
        }
        if (!apiServer.Children.TryGetValue(new YamlScalarNode("certSANs"), out var sansNode) || sansNode is not YamlSequenceNode sans)
        {
            sans = [];
            apiServer.Children[new YamlScalarNode("certSANs")] = sans;
        }
        var have = sans.Children.OfType<YamlScalarNode>().Select(x => x.Value).ToHashSet(StringComparer.Ordinal);
        foreach (var san in CertSans(masters, vip))
        {
            if (have.Add(san)) sans.Add(new YamlScalarNode(san));
        }
        var w = new StringWriter();
        stream.Save(w, assignAnchors: false);
        return w.ToString().Replace("\n...\n", "\n---\n", StringComparison.Ordinal).TrimEnd('\n', '.', '-') + "\n";
    }
}
