using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests.Install;

/// <summary><see cref="KubeadmConfigPatch"/>: Sealer's API server endpoint and SANs in etc/kubeadm.yml.</summary>
public class KubeadmConfigPatchTests
{
    [Fact]
    public void A_user_set_endpoint_is_kept_and_the_sans_are_added_once()
    {
        var kubeadm = KubeadmConfigPatch.WithApiServerEndpoint("""
            apiVersion: kubeadm.k8s.io/v1beta3
            kind: ClusterConfiguration
            controlPlaneEndpoint: my.lb:6443
            apiServer:
              certSANs: [10.0.0.1, apiserver.cluster.local]
            """, ["10.0.0.1", "10.0.0.2"], "10.9.9.9");
        Assert.Contains("controlPlaneEndpoint: my.lb:6443", kubeadm, StringComparison.Ordinal);
        Assert.Contains("certSANs: [10.0.0.1, apiserver.cluster.local, 127.0.0.1, 10.9.9.9, 10.0.0.2]", kubeadm, StringComparison.Ordinal);
    }

    [Theory]
    // no ClusterConfiguration: one is added with the apiVersion of the file's kubeadm documents
    [InlineData("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: apiserver.cluster.local:6443")]
    // nothing kubeadm at all: v1beta3
    [InlineData("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration")]
    // an empty endpoint is Sealer's
    [InlineData("apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: ''\n", "controlPlaneEndpoint: apiserver.cluster.local:6443")]
    public void The_cluster_configuration_gets_sealers_endpoint(string yaml, string expected)
    {
        var patched = KubeadmConfigPatch.WithApiServerEndpoint(yaml, ["10.0.0.1"], "10.103.97.2");
        Assert.Contains(expected, patched, StringComparison.Ordinal);
        Assert.Contains("- 127.0.0.1\n", patched, StringComparison.Ordinal);
        Assert.Contains("- apiserver.cluster.local\n", patched, StringComparison.Ordinal);
        Assert.Contains("- 10.103.97.2\n", patched, StringComparison.Ordinal);
        Assert.Contains("- 10.0.0.1\n", patched, StringComparison.Ordinal);
        Assert.Contains("kind: InitConfiguration\nlocalAPIEndpoint:\n  bindPort: 6443\n  advertiseAddress: 10.0.0.1\n", patched, StringComparison.Ordinal);
        Assert.Equal(yaml.Split("kind:").Length - 1 + (yaml.Contains("ClusterConfiguration", StringComparison.Ordinal) ? 0 : 1) + (yaml.Contains("InitConfiguration", StringComparison.Ordinal) ? 0 : 1),
            patched.Split("kind:").Length - 1);
        Assert.DoesNotContain("...", patched, StringComparison.Ordinal);
    }

    [Fact]
    public void Master0_is_the_address_kubeadm_init_advertises_over_a_placeholder_and_the_port_is_kept()
    {
        // a Sealer base image's InitConfiguration with a placeholder address (Sealer overwrites it too), a custom bind port
        var kubeadm = KubeadmConfigPatch.WithApiServerEndpoint("""
            apiVersion: kubeadm.k8s.io/v1beta3
            kind: InitConfiguration
            localAPIEndpoint:
              advertiseAddress: 192.168.2.110
              bindPort: 6443
            nodeRegistration:
              criSocket: /run/containerd/containerd.sock
            ---
            apiVersion: kubeadm.k8s.io/v1beta3
            kind: ClusterConfiguration
            kubernetesVersion: v1.22.15
            """, ["10.0.0.7", "10.0.0.8"], "10.103.97.2");
        Assert.StartsWith("apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 10.0.0.7\n  bindPort: 6443\nnodeRegistration:\n  criSocket: /run/containerd/containerd.sock\n---\n", kubeadm, StringComparison.Ordinal);
        Assert.DoesNotContain("192.168.2.110", kubeadm, StringComparison.Ordinal);
        // no InitConfiguration: one is added, with the apiVersion of the ClusterConfiguration
        var added = KubeadmConfigPatch.WithApiServerEndpoint("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n", ["fd00::11"], "10.103.97.2");
        Assert.EndsWith("\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  bindPort: 6443\n  advertiseAddress: fd00::11\n", added, StringComparison.Ordinal);
        Assert.Equal(1, added.Split("\n---\n").Length - 1);
    }

    [Fact]
    public void An_address_the_Clusterfile_gives_kubeadm_init_is_kept()
    {
        var loc = new SourceLocation("Clusterfile", 1, 1);
        RawDocument[] userSet = [new("InitConfiguration", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 172.16.0.7\n", loc)];
        Assert.True(KubeadmConfigPatch.SetsAdvertiseAddress(userSet));
        Assert.False(KubeadmConfigPatch.SetsAdvertiseAddress([new("InitConfiguration", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nlocalAPIEndpoint:\n  bindPort: 6443\n", loc)]));
        Assert.False(KubeadmConfigPatch.SetsAdvertiseAddress([new("KubeletConfiguration", "kind: KubeletConfiguration\nlocalAPIEndpoint: {advertiseAddress: 1.2.3.4}\n", loc)]));
        string yaml = KubeadmConfigPatch.AppendDocuments("apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n", userSet);
        var patched = KubeadmConfigPatch.WithApiServerEndpoint(yaml, ["10.0.0.7"], "10.103.97.2", KubeadmConfigPatch.SetsAdvertiseAddress(userSet));
        Assert.Contains("advertiseAddress: 172.16.0.7\n", patched, StringComparison.Ordinal);
        Assert.DoesNotContain("advertiseAddress: 10.0.0.7", patched, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_yaml_is_an_image_error_naming_the_file_and_line()
    {
        var ex = Assert.Throws<SealerException>(() => KubeadmConfigPatch.WithApiServerEndpoint("kind: ClusterConfiguration\napiServer: [1\n", ["10.0.0.1"], "10.103.97.2"));
        Assert.Equal(ErrorCodes.BadClusterImage, ex.Code);
        Assert.Equal("etc/kubeadm.yml", ex.File);
        Assert.True(ex.Line >= 2);
    }

    [Fact]
    public void Kubeadm_documents_are_appended_after_the_images_file()
    {
        var loc = new SourceLocation("Clusterfile", 1, 1);
        Assert.Equal("a: 1\n---\nkind: KubeletConfiguration\n---\nkind: KubeProxyConfiguration\n",
            KubeadmConfigPatch.AppendDocuments("a: 1\n\n", [new RawDocument("KubeletConfiguration", "kind: KubeletConfiguration\n", loc), new RawDocument("KubeProxyConfiguration", "kind: KubeProxyConfiguration", loc)]));
        Assert.Equal("\n---\nkind: KubeletConfiguration\n", KubeadmConfigPatch.AppendDocuments(null, [new RawDocument("KubeletConfiguration", "kind: KubeletConfiguration", loc)]));
    }
}
