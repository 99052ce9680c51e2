namespace Sealer.Delivery.Tests;

/// <summary>
/// <c>dotnet publish app.kubeproj -t:DeliverCluster</c> against the freshly packed SDK (build/pack.sh into a private feed):
/// a scratch-based project carrying the fixture's lifecycle scripts as files is built and delivered to the netns hosts.
/// </summary>
[Collection(HostsCollection.Name)]
public class DeliverClusterTaskTests(TestHosts hosts, PackedSdk sdk, Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sealer-deliver-").FullName;

    public void Dispose() => Directory.Delete(_work, true);

    private static string Script(string body) => "#!/bin/bash\nset -e\n" + body + "\n";

    private void WriteFile(string dir, string relative, string text, bool executable = false)
    {
        string path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        if (executable && !OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    [Fact]
    public void Publish_DeliverCluster_builds_then_installs_on_the_hosts()
    {
        hosts.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");

        // the SDK as users get it: packed, restored from a private feed into a private packages folder
        string dir = sdk.NewProjectDir("app");
        WriteFile(dir, "rootfs/scripts/containerd.sh", Script("echo \"runtime $(hostname) HostIP=$HostIP CRI=$ContainerRuntime MyVar=$MyVar\" >> /var/lib/sealer/evidence.log"), true);
        WriteFile(dir, "rootfs/scripts/init-kube.sh", Script("echo \"init-kube $(hostname)\" >> /var/lib/sealer/evidence.log"), true);
        WriteFile(dir, "rootfs/bin/kubeadm", Script("""
            echo "kubeadm $* on $(hostname)" >> /var/lib/sealer/evidence.log
            case "$*" in
              "token create --print-join-command") echo "kubeadm join 10.200.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00";;
            esac
            """), true);
        WriteFile(dir, "rootfs/bin/kubectl", Script("echo \"kubectl $* on $(hostname)\" >> /var/lib/sealer/evidence.log"), true);
        WriteFile(dir, "rootfs/etc/kubeadm.yml", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n");
        WriteFile(dir, "apps/demo/install.sh", Script("echo \"app demo launched on $(hostname)\" >> /var/lib/sealer/evidence.log"), true);
        File.WriteAllText(Path.Combine(dir, "app.kubeproj"), """
            <Project Sdk="Sealer.Sdk/0.1.0">
              <PropertyGroup>
                <ClusterImageTag>1.0.0</ClusterImageTag>
                <SealerLaunch>demo</SealerLaunch>
                <SealerKnownHosts>$(TestKnownHosts)</SealerKnownHosts>
              </PropertyGroup>
              <ItemGroup>
                <SealerFile Include="rootfs/scripts/*.sh" Destination="scripts/" />
                <SealerFile Include="rootfs/bin/*" Destination="bin/" />
                <SealerFile Include="rootfs/etc/kubeadm.yml" Destination="etc/" />
                <SealerApp Include="demo" Source="apps/demo" Type="shell" />
                <SealerLabel Include="cluster.alpha.sealer.io/container-runtime-type" Value="containerd" />
                <SealerLabel Include="cluster.alpha.sealer.io/cluster-runtime-type" Value="kubernetes" />
                <!-- set over the Clusterfile's spec.env, as `sealer run -e` -->
                <SealerClusterEnv Include="MyVar" Value="fromproject" />
              </ItemGroup>
            </Project>
            """);
        // no key and no password in the Clusterfile or the project: the key comes from a property on the command line
        File.WriteAllText(Path.Combine(dir, "Clusterfile"), """
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata:
              name: kubeproj
            spec:
              image: this-is-replaced-by-the-build-output:v0
              env:
                - MyVar=fromclusterfile
              ssh:
                port: "22"
              hosts:
                - ips: [10.200.0.11]
                  roles: [master]
                - ips: [10.200.0.12]
                  roles: [node]
            """);

        var wrapper = hosts.SealerWrapper(_work);

        var env = new Dictionary<string, string?> { ["SEALER_CACHE_DIR"] = Path.Combine(_work, "cache") };
        string args = $"publish app.kubeproj -t:DeliverCluster -p:TestKnownHosts={hosts.KnownHostsFile} -p:SealerSshPrivateKey={hosts.PrivateKey} " +
                      $"-p:SealerBinary={wrapper} -p:SealerStateDir={Path.Combine(_work, "state")} -p:SealerDeliverParallelism=1";
        var (code, output) = sdk.Dotnet(dir, args, env);
        log.WriteLine(output);
        Assert.True(code == 0, output);

        // built first, then delivered: the image on the hosts is the build output, not spec.image
        string layout = Path.Combine(dir, "bin", "Release", "app");
        if (!Directory.Exists(layout)) layout = Path.Combine(dir, "bin", "Debug", "app");
        Assert.True(File.Exists(Path.Combine(layout, "index.json")), output);
        Assert.Contains("Sealer: delivering ", output, StringComparison.Ordinal);
        Assert.Contains("Sealer: 10.200.0.11: ", output, StringComparison.Ordinal);
        Assert.Contains("delivered in", output, StringComparison.Ordinal);
        Assert.DoesNotContain("this-is-replaced-by-the-build-output", output, StringComparison.Ordinal);

        string Evidence(int i) => File.Exists(hosts.Hosts[i].OnHost("/var/lib/sealer/evidence.log")) ? File.ReadAllText(hosts.Hosts[i].OnHost("/var/lib/sealer/evidence.log")) : "";
        Assert.Contains("runtime sealer-h1 HostIP=10.200.0.11 CRI=containerd MyVar=fromproject", Evidence(0), StringComparison.Ordinal);
        Assert.Contains("runtime sealer-h2 HostIP=10.200.0.12 CRI=containerd MyVar=fromproject", Evidence(1), StringComparison.Ordinal);
        Assert.Contains("init-kube sealer-h1", Evidence(0), StringComparison.Ordinal);
        Assert.Contains("kubeadm init", Evidence(0), StringComparison.Ordinal);
        Assert.Contains("kubeadm join", Evidence(1), StringComparison.Ordinal);
        Assert.Contains("app demo launched on sealer-h1", Evidence(0), StringComparison.Ordinal);
        Assert.Equal("", Evidence(2)); // not in the Clusterfile

        // the rootfs on the hosts is exactly the built image (manifest digest recorded by unpack)
        string index = File.ReadAllText(Path.Combine(layout, "index.json"));
        string sealerImage = File.ReadAllText(hosts.Hosts[1].OnHost("/var/lib/sealer/data/kubeproj/rootfs/.sealer-image")).Trim();
        Assert.StartsWith("sha256:", sealerImage, StringComparison.Ordinal);
        Assert.Contains(sealerImage, index, StringComparison.Ordinal);

        // a second publish is incremental: nothing rebuilt, every step skipped
        var (code2, output2) = sdk.Dotnet(dir, args, env);
        log.WriteLine("---- second publish ----\n" + output2);
        Assert.True(code2 == 0, output2);
        Assert.True(output2.Contains(" 1 step(s) run", StringComparison.Ordinal), output2); // only the Clusterfile is saved again
        Assert.Contains("kubeadm-init     done before", output2, StringComparison.Ordinal);
        Assert.DoesNotContain("blobs written", output2, StringComparison.Ordinal); // the image was not rebuilt
        Assert.Single(Evidence(0).Split('\n'), l => l.StartsWith("kubeadm init", StringComparison.Ordinal));

        // hosts from the project, as `sealer run -n`: the third host joins, nothing else is redone
        var (code4, output4) = sdk.Dotnet(dir, args + " -p:SealerNodes=10.200.0.12-10.200.0.13", env);
        log.WriteLine("---- publish with SealerNodes ----\n" + output4);
        Assert.True(code4 == 0, output4);
        Assert.Contains("hosts from the project: masters 10.200.0.11; nodes 10.200.0.12-10.200.0.13", output4, StringComparison.Ordinal);
        Assert.Contains("runtime sealer-h3 HostIP=10.200.0.13 CRI=containerd MyVar=fromproject", Evidence(2), StringComparison.Ordinal);
        Assert.Contains("kubeadm join", Evidence(2), StringComparison.Ordinal);
        Assert.Single(Evidence(0).Split('\n'), l => l.StartsWith("kubeadm init", StringComparison.Ordinal));
        Assert.Single(Evidence(1).Split('\n'), l => l.StartsWith("kubeadm join", StringComparison.Ordinal));
        // the Clusterfile saved on master0 is the one delivered: project hosts and env in it
        string saved = File.ReadAllText(hosts.Hosts[0].OnHost("/var/lib/sealer/data/kubeproj/Clusterfile"));
        Assert.Contains("10.200.0.13", saved, StringComparison.Ordinal);
        Assert.Contains("MyVar=fromproject", saved, StringComparison.Ordinal);
        Assert.DoesNotContain("MyVar=fromclusterfile", saved, StringComparison.Ordinal);

        // a missing Clusterfile is a coded error pointing at the project
        var (code3, output3) = sdk.Dotnet(dir, args + " -p:SealerClusterfile=nope.yaml", env);
        Assert.NotEqual(0, code3);
        Assert.Contains("error SEA2500", output3, StringComparison.Ordinal);
        Assert.Contains("nope.yaml", output3, StringComparison.Ordinal);
    }
}
