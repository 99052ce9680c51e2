using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

public class ClusterfileEditorTests
{
    private const string File1 = """
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata: {name: c}
        spec:
          image: img
          hosts:
            - ips: [10.0.0.1]
              roles: [master]
            - ips: [10.0.0.2-10.0.0.4]
              roles: [node]
        ---
        kind: Plugin
        metadata: {name: p}
        spec: {action: post-install, data: "echo hi"}
        """;

    [Fact]
    public void AddHostsAppendsGroupsAndKeepsOtherDocuments()
    {
        var text = ClusterfileEditor.AddHosts(File1, ["10.0.0.8"], ["10.0.0.9-10.0.0.10"]);
        var doc = ClusterfileReader.Parse(text);
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.8", "10.0.0.9", "10.0.0.10"], doc.Cluster.Hosts.Select(h => h.Ip));
        Assert.True(doc.Cluster.Hosts.Single(h => h.Ip == "10.0.0.8").IsMaster);
        Assert.Single(doc.Plugins);
    }

    [Fact]
    public void AddingAKnownHostIsTheDuplicateError()
    {
        var ex = Assert.Throws<SealerException>(() => ClusterfileEditor.AddHosts(File1, [], ["10.0.0.3"]));
        Assert.Equal(ErrorCodes.ClusterfileDuplicateHost, ex.Code);
    }

    [Fact]
    public void RemoveHostsSplitsRangesAndDropsEmptyGroups()
    {
        var text = ClusterfileEditor.RemoveHosts(File1, ["10.0.0.3"]);
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.4"], ClusterfileReader.Parse(text).Cluster.Hosts.Select(h => h.Ip));
        var text2 = ClusterfileEditor.RemoveHosts(text, ["10.0.0.2", "10.0.0.4"]);
        var doc = ClusterfileReader.Parse(text2);
        Assert.Equal(["10.0.0.1"], doc.Cluster.Hosts.Select(h => h.Ip));
        Assert.Single(doc.Plugins);
    }
}
