using System.Text;
using System.Text.Json;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;
using TestEnvironment = Sealer.TestSupport.TestEnvironment;

namespace Sealer.Delivery.Tests;

/// <summary>
/// Issue 7's lifecycle end to end, with the packed SDK: a base .kubeproj (lifecycle scripts, fake kubeadm/kubectl/helm,
/// an app whose image comes from the docker.io stand-in, two platforms) is pushed with <c>-t:PushClusterImage</c> to the
/// token-auth registry (credentials from a DOCKER_CONFIG directory only); a second .kubeproj FROM that reference adds a
/// chart whose image comes from the quay.io stand-in, and env; <c>-t:DeliverCluster</c> installs it on the netns hosts.
/// </summary>
[Collection(HostsCollection.Name)]
public class FromBaseDeliveryTests(TestHosts hosts, PackedSdk sdk, Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private const string Evidence = "/var/lib/sealer/evidence.log";
    private const string BaseImage = "docker.io/library/redis:7.4";
    private const string ChildImage = "quay.io/coreos/etcd:v3.5.15";

    private readonly string _work = Directory.CreateTempSubdirectory("sealer-from-").FullName;

    public void Dispose() => Directory.Delete(_work, true);

    /// <summary>The base, built (both platforms) and pushed once per test run; both tests start from it.</summary>
    private sealed record PushedBase(string Dir, string Layout, string Reference, string Digest, string DockerConfig, string Cache, string Store);

    private PushedBase Base => sdk.Shared("from-base", () => BuildAndPushBase(sdk));

    private static string Script(string body) => "#!/bin/bash\nset -e\n" + body + "\n";

    private static void WriteFile(string dir, string relative, string text, bool executable = false)
    {
        string path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        if (executable && !OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    private static Dictionary<string, string?> BuildEnv(PushedBase b) => new()
    {
        ["SEALER_CACHE_DIR"] = b.Cache,
        ["SEALER_IMAGES_DIR"] = b.Store,
        ["DOCKER_CONFIG"] = Path.GetDirectoryName(b.DockerConfig),
        ["SEALER_REGISTRY_MIRRORS"] = null,
    };

    private static PushedBase BuildAndPushBase(PackedSdk sdk)
    {
        var env = TestEnvironment.Current;
        string dir = sdk.NewProjectDir("base");
        string shared = Path.GetDirectoryName(dir)!;
        // the lifecycle of a kube-installer base: evidence of what ran where, with which env
        WriteFile(dir, "rootfs/scripts/containerd.sh", Script($"echo \"runtime $(hostname) BaseVar=$BaseVar ChildVar=${{ChildVar:-unset}} Shared=$Shared ClusterVar=$ClusterVar\" >> {Evidence}"), true);
        WriteFile(dir, "rootfs/scripts/init-kube.sh", Script($"echo \"init-kube $(hostname) ChildVar=$ChildVar registry=$RegistryURL\" >> {Evidence}"), true);
        WriteFile(dir, "rootfs/bin/kubeadm", Script($$"""
            echo "kubeadm $* on $(hostname)" >> {{Evidence}}
            case "$*" in
              "token create --print-join-command") echo "kubeadm join 10.200.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00";;
            esac
            """), true);
        WriteFile(dir, "rootfs/bin/kubectl", Script($$"""
            echo "kubectl $* on $(hostname)" >> {{Evidence}}
            case "$*" in
              "get deployments,statefulsets,daemonsets -A -o json"|"get pods -A -o json") echo '{"items":[]}';;
              "apply -f "*) echo "kubectl applied $(grep -rh 'image:' "$3" | tr -d ' "' | tr '\n' ' ')" >> {{Evidence}};;
            esac
            """), true);
        WriteFile(dir, "rootfs/bin/helm", Script($$"""
            echo "helm $* on $(hostname)" >> {{Evidence}}
            if [ "$1 $2" = "upgrade --install" ]; then echo "helm installed $3 with $(grep -h 'repository:\|tag:' "$4/values.yaml" | tr -d ' ' | tr '\n' ' ')" >> {{Evidence}}; fi
            """), true);
        WriteFile(dir, "rootfs/etc/kubeadm.yml", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n");
        WriteFile(dir, "rootfs/etc/merged.conf.tmpl", "base={{ .BaseVar }} child={{ .ChildVar }} shared={{ .Shared }} cluster={{ .ClusterVar }}\n");
        WriteFile(dir, "manifests/web/deploy.yaml", $"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {"{"}name: web, namespace: web{"}"}
            spec:
              selector: {"{"}matchLabels: {"{"}app: web{"}"}{"}"}
              template:
                metadata: {"{"}labels: {"{"}app: web{"}"}{"}"}
                spec:
                  containers:
                    - name: redis
                      image: {BaseImage}
            """);
        File.WriteAllText(Path.Combine(dir, "base.kubeproj"), $"""
            <Project Sdk="Sealer.Sdk/0.1.0">
              <PropertyGroup>
                <ClusterImageTag>1.0</ClusterImageTag>
                <KubernetesVersion>v1.30.0</KubernetesVersion>
                <SealerPlatforms>linux/amd64;linux/arm64</SealerPlatforms>
                <SealerLaunch>web</SealerLaunch>
              </PropertyGroup>
              <ItemGroup>
                <SealerRegistryMirror Include="docker.io" Mirrors="{env.Registry("docker.io").Url}" FallbackToSource="false" />
                <KubeManifest Include="manifests/web/*.yaml" />
                <SealerApp Include="web" Type="kube" Source="manifests/web" />
                <SealerFile Include="rootfs/scripts/*.sh" Destination="scripts/" />
                <SealerFile Include="rootfs/bin/*" Destination="bin/" />
                <SealerFile Include="rootfs/etc/*" Destination="etc/" />
                <SealerLabel Include="cluster.alpha.sealer.io/cluster-runtime-type" Value="kubernetes" />
                <SealerLabel Include="cluster.alpha.sealer.io/container-runtime-type" Value="containerd" />
                <SealerEnv Include="BaseVar" Value="base" />
                <SealerEnv Include="Shared" Value="frombase" />
              </ItemGroup>
            </Project>
            """);

        // credentials for the token registry only in a DOCKER_CONFIG directory, never in the project
        var token = env.Registry("token");
        string dockerConfig = Path.Combine(Directory.CreateDirectory(Path.Combine(shared, "docker")).FullName, "config.json");
        string auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{token.Username}:{token.Password}"));
        File.WriteAllText(dockerConfig, "{\"auths\":{\"" + token.Address + "\":{\"auth\":\"" + auth + "\"}}}");
        var b = new PushedBase(dir, Path.Combine(dir, "bin", "Release", "base"), $"{token.Address}/fromdeliver/{Guid.NewGuid().ToString("N")[..8]}/base:1.0", "",
            dockerConfig, Path.Combine(shared, "cache"), Path.Combine(shared, "store"));

        var (code, output) = sdk.Dotnet(dir, $"publish base.kubeproj -c Release -t:PushClusterImage -p:SealerPushDestination={b.Reference}", BuildEnv(b));
        Assert.True(code == 0, output);
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(b.Layout, "index.json")));
        string digest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        Assert.Contains($"Sealer: pushed {b.Reference}@{digest}", output, StringComparison.Ordinal);
        return b with { Digest = digest };
    }

    private string Ev(int i) => File.Exists(hosts.Hosts[i].OnHost(Evidence)) ? File.ReadAllText(hosts.Hosts[i].OnHost(Evidence)) : "";

    [Fact]
    public async Task A_kubeproj_from_the_pushed_base_builds_and_delivers()
    {
        hosts.Wipe("/var/lib/sealer", "/etc/containerd", "/tmp");
        var env = TestEnvironment.Current;
        var b = Base;

        // the pushed image round-trips: skopeo reads it back from the token registry with the same DOCKER_CONFIG, same digest
        var (sc, raw) = Tool("skopeo", $"inspect --raw --tls-verify=false --authfile {b.DockerConfig} docker://{b.Reference}");
        Assert.True(sc == 0, raw);
        Assert.Equal(b.Digest, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(raw.TrimEnd('\n')))));

        string dir = sdk.NewProjectDir("child");
        WriteFile(dir, "charts/cache/Chart.yaml", "apiVersion: v2\nname: cache\nversion: 0.1.0\n");
        WriteFile(dir, "charts/cache/values.yaml", "image:\n  repository: quay.io/coreos/etcd\n  tag: v3.5.15\n");
        WriteFile(dir, "charts/cache/templates/deploy.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{ .Release.Name }}
            spec:
              selector: {matchLabels: {app: cache}}
              template:
                metadata: {labels: {app: cache}}
                spec:
                  containers:
                    - name: etcd
                      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
            """);
        File.WriteAllText(Path.Combine(dir, "child.kubeproj"), $"""
            <Project Sdk="Sealer.Sdk/0.1.0">
              <PropertyGroup>
                <ClusterImageTag>2.0</ClusterImageTag>
                <SealerBaseImage>{b.Reference}</SealerBaseImage>
                <SealerLaunch>web;cache</SealerLaunch>
                <SealerKnownHosts>$(TestKnownHosts)</SealerKnownHosts>
              </PropertyGroup>
              <ItemGroup>
                <SealerRegistryMirror Include="quay.io" Mirrors="{env.Registry("quay.io").Url}" FallbackToSource="false" />
                <HelmChart Include="charts/cache" ReleaseName="cache" Namespace="cache" />
                <SealerApp Include="cache" Type="helm" Source="charts/cache" />
                <SealerEnv Include="ChildVar" Value="child" />
                <SealerEnv Include="Shared" Value="fromchild" />
              </ItemGroup>
            </Project>
            """);
        string clusterfile = Path.Combine(dir, "Clusterfile");
        File.WriteAllText(clusterfile, $"""
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata:
              name: fromchild
            spec:
              image: this-is-replaced-by-the-build-output:v0
              env:
                - ClusterVar=fromcluster
              ssh:
                pk: {hosts.PrivateKey}
                port: "22"
              hosts:
                - ips: [10.200.0.11]
                  roles: [master]
                - ips: [10.200.0.12]
                  roles: [node]
                - ips: [10.200.0.13]
                  roles: [node]
                  env: [Shared=fromhost]
            """);

        string wrapper = hosts.SealerWrapper(_work);
        string state = Path.Combine(_work, "state");
        var (code, output) = sdk.Dotnet(dir, $"publish child.kubeproj -c Release -t:DeliverCluster -p:TestKnownHosts={hosts.KnownHostsFile} " +
            $"-p:SealerBinary={wrapper} -p:SealerStateDir={state} -p:SealerDeliverParallelism=2", BuildEnv(b));
        log.WriteLine(output);
        Assert.True(code == 0, output);
        string layout = Path.Combine(dir, "bin", "Release", "child");
        Assert.Contains("delivered in", output, StringComparison.Ordinal);

        // the base's lifecycle ran (kube-installer kept), with the env merged as Sealer does: base ENV < child ENV < spec.env < host env
        Assert.Contains("runtime sealer-h1 BaseVar=base ChildVar=child Shared=fromchild ClusterVar=fromcluster", Ev(0), StringComparison.Ordinal);
        Assert.Contains("runtime sealer-h2 BaseVar=base ChildVar=child Shared=fromchild ClusterVar=fromcluster", Ev(1), StringComparison.Ordinal);
        Assert.Contains("runtime sealer-h3 BaseVar=base ChildVar=child Shared=fromhost ClusterVar=fromcluster", Ev(2), StringComparison.Ordinal);
        Assert.Contains("init-kube sealer-h2 ChildVar=child registry=sea.hub:5000", Ev(1), StringComparison.Ordinal);
        Assert.Contains("kubeadm init --config etc/kubeadm.yml --upload-certs on sealer-h1", Ev(0), StringComparison.Ordinal);
        Assert.Contains("kubeadm join 10.103.97.2:6443", Ev(1), StringComparison.Ordinal); // workers join through the local VIP (lvscare)
        Assert.Contains("kubeadm join 10.103.97.2:6443", Ev(2), StringComparison.Ordinal); // workers join through the local VIP (lvscare)
        Assert.Equal("base=base child=child shared=fromhost cluster=fromcluster\n",
            File.ReadAllText(hosts.Hosts[2].OnHost("/var/lib/sealer/data/fromchild/rootfs/etc/merged.conf")));
        // both apps, on master0, in LAUNCH order (the base's kube app, then the child's chart), after the cluster is up
        TextAssert.InOrder(Ev(0), "kubeadm init", $"kubectl applied image:{BaseImage}", "helm upgrade --install cache application/apps/cache/cache --namespace cache",
            "helm installed cache with repository:quay.io/coreos/etcd tag:v3.5.15");
        Assert.DoesNotContain("helm", Ev(1), StringComparison.Ordinal);

        // the rootfs on the hosts is the child image, whose first layers are the pushed base's
        string sealerImage = File.ReadAllText(hosts.Hosts[1].OnHost("/var/lib/sealer/data/fromchild/rootfs/.sealer-image")).Trim();
        Assert.Contains(sealerImage, File.ReadAllText(Path.Combine(layout, "index.json")), StringComparison.Ordinal);
        var baseLayers = Layers(b.Layout, BaseManifest(b, "amd64"));
        Assert.Equal(baseLayers, Layers(layout, sealerImage).Take(baseLayers.Count));

        // a real containerd on a worker pulls both apps' images by their original names through the delivered registry
        await using (var node = await Connect("10.200.0.13"))
        {
            string fetched = await RealContainerd.FetchAsync(node, null, [BaseImage, ChildImage]);
            foreach (var image in new[] { env.Image("redis"), env.Image("etcd") })
            {
                Assert.Contains(image.Digest, fetched, StringComparison.Ordinal); // the index the source registry served
                Assert.Contains(image.Platforms["linux/amd64"], fetched, StringComparison.Ordinal);
            }
        }
        Assert.Contains("[host.\"https://10.200.0.11:5000\"]", File.ReadAllText(hosts.Hosts[2].OnHost("/etc/containerd/certs.d/quay.io/hosts.toml")), StringComparison.Ordinal);

        // sealer check is happy, and a fourth host joins with the same image
        string cli = $"--image {layout} --known-hosts {hosts.KnownHostsFile} --sealer-binary {wrapper} --state-dir {state} --parallel 1";
        var (cc, check) = Cli($"check -f {clusterfile} {cli}");
        log.WriteLine("$ sealer check\n" + check);
        Assert.True(cc == 0, check);
        Assert.Contains("cluster 'fromchild' is healthy", check, StringComparison.Ordinal);
        var (jc, join) = Cli($"join -f {clusterfile} --nodes 10.200.0.14 {cli}");
        log.WriteLine("$ sealer join --nodes 10.200.0.14\n" + join);
        Assert.True(jc == 0, join);
        Assert.Contains("runtime sealer-h4 BaseVar=base ChildVar=child Shared=fromchild ClusterVar=fromcluster", Ev(3), StringComparison.Ordinal);
        Assert.Contains("kubeadm join 10.103.97.2:6443", Ev(3), StringComparison.Ordinal); // workers join through the local VIP (lvscare)
        Assert.Equal(sealerImage, File.ReadAllText(hosts.Hosts[3].OnHost("/var/lib/sealer/data/fromchild/rootfs/.sealer-image")).Trim());
        Assert.Equal(1, Ev(0).Split('\n').Count(l => l.StartsWith("kubeadm init ", StringComparison.Ordinal)));
        Assert.Equal(1, Ev(0).Split('\n').Count(l => l.StartsWith("helm upgrade", StringComparison.Ordinal))); // apps not launched again
        (cc, check) = Cli($"check -f {clusterfile} {cli}");
        Assert.True(cc == 0, check);
        Assert.Contains("10.200.0.14", check, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_multi_platform_image_gives_each_host_its_own_platform()
    {
        hosts.Wipe("/var/lib/sealer", "/etc/containerd", "/tmp");
        var env = TestEnvironment.Current;
        var b = Base; // one .kubeproj, SealerPlatforms linux/amd64;linux/arm64: an index over two cluster images
        using var top = JsonDocument.Parse(File.ReadAllText(Path.Combine(b.Layout, "index.json")));
        Assert.Equal("application/vnd.oci.image.index.v1+json", top.RootElement.GetProperty("manifests")[0].GetProperty("mediaType").GetString());
        var byArch = new Dictionary<string, string>();
        using (var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(b.Layout, "blobs", "sha256", b.Digest["sha256:".Length..]))))
        {
            foreach (var m in index.RootElement.GetProperty("manifests").EnumerateArray())
            {
                byArch[m.GetProperty("platform").GetProperty("architecture").GetString()!] = m.GetProperty("digest").GetString()!;
            }
        }
        Assert.Equal(["amd64", "arm64"], byArch.Keys.Order());

        // the netns hosts are all x86_64: h2 reports aarch64 to `uname -m` (a wrapper first on its PATH, only in this test)
        string uname = hosts.Hosts[1].OnHost("/usr/local/bin/uname");
        WriteFile(Path.GetDirectoryName(uname)!, "uname", "#!/bin/sh\nif [ \"$1\" = -m ]; then echo aarch64; else exec /usr/bin/uname \"$@\"; fi\n", executable: true);
        try
        {
            string Clusterfile(string nodes) => $"""
                apiVersion: sealer.io/v2
                kind: Cluster
                metadata:
                  name: multiarch
                spec:
                  image: {b.Reference}
                  env: [ChildVar=none, ClusterVar=multiarch]
                  ssh:
                    pk: {hosts.PrivateKey}
                  hosts:
                    - ips: [10.200.0.11]
                      roles: [master]
                {nodes}
                """;
            var options = new RunOptions
            {
                Image = b.Layout,
                StateRoot = Path.Combine(_work, "state"),
                Ssh = new SshOptions { KnownHostsPath = hosts.KnownHostsFile },
                SealerBinary = hosts.SealerWrapper(_work),
                StepTimeout = TimeSpan.FromMinutes(2),
            };
            // an amd64 cluster first; then an arm64 node joins it (its images must reach the registry that already runs)
            var first = await new ClusterInstaller(ClusterfileReader.Parse(Clusterfile("")), options).RunAsync();
            Assert.DoesNotContain(first.StepsRun, s => s.Contains("registry+", StringComparison.Ordinal));
            var doc = ClusterfileReader.Parse(Clusterfile("""
                    - ips: [10.200.0.12]
                      roles: [node]
                """));
            var result = await new ClusterInstaller(doc, options).RunAsync();
            Assert.Contains("10.200.0.12:join", result.StepsRun);
            Assert.Equal("amd64", result.Facts.Single(f => f.Host == "10.200.0.11").Architecture);
            Assert.Equal("arm64", result.Facts.Single(f => f.Host == "10.200.0.12").Architecture);

            // each host unpacked its own platform's cluster image; only the registry host holds app image blobs (registry/)
            string Rootfs(int i, string path) => hosts.Hosts[i].OnHost("/var/lib/sealer/data/multiarch/rootfs/" + path);
            Assert.Equal(byArch["amd64"], File.ReadAllText(Rootfs(0, ".sealer-image")).Trim());
            Assert.Equal(byArch["arm64"], File.ReadAllText(Rootfs(1, ".sealer-image")).Trim());
            var redis = env.Image("redis");
            string Blob(string digest) => "registry/blobs/sha256/" + digest["sha256:".Length..];
            Assert.False(Directory.Exists(Rootfs(1, "registry"))); // a node pulls through the registry host
            Assert.True(File.Exists(Rootfs(0, Blob(redis.Platforms["linux/amd64"]))));
            // only that platform's layers were sent to the node
            string Store(int i) => hosts.Hosts[i].OnHost("/var/lib/sealer/data/.store/blobs/sha256");
            var store1 = Directory.GetFiles(Store(1)).Select(f => "sha256:" + Path.GetFileName(f)).ToHashSet();
            var amdOnly = Layers(b.Layout, byArch["amd64"]).Except(Layers(b.Layout, byArch["arm64"])).ToList();
            var armOnly = Layers(b.Layout, byArch["arm64"]).Except(Layers(b.Layout, byArch["amd64"])).ToList();
            Assert.NotEmpty(amdOnly);
            Assert.Empty(store1.Intersect(amdOnly));
            // the registry host (master0, amd64) serves every node: it also got the arm64 app image blobs, not the arm64 rootfs
            Assert.True(File.Exists(Rootfs(0, Blob(redis.Platforms["linux/arm64"]))));
            Assert.Contains("10.200.0.11:registry+linux/arm64", result.StepsRun);
            Assert.NotEmpty(armOnly); // its image-blob and registry layers (the rootfs layer is the same for both platforms)
            Assert.Subset(Directory.GetFiles(Store(0)).Select(f => "sha256:" + Path.GetFileName(f)).ToHashSet(), armOnly.ToHashSet());
            // ... each arm64 app image blob as a link to the store layer holding it (one copy of the bytes, not two)
            var armBlobs = ImageBlobLayers(b.Layout, byArch["arm64"]).Where(l => armOnly.Contains(l.Layer)).ToList();
            Assert.NotEmpty(armBlobs);
            foreach (var (layer, blob) in armBlobs)
            {
                Assert.False(File.Exists(Rootfs(0, Blob(blob))));
                Assert.Equal("/var/lib/sealer/data/.store/blobs/sha256/" + layer["sha256:".Length..], new FileInfo(Rootfs(0, "registry/in-store/sha256/" + blob["sha256:".Length..])).LinkTarget);
            }
            Assert.Contains("kubeadm join 10.103.97.2:6443", Ev(1), StringComparison.Ordinal); // workers join through the local VIP (lvscare)

            // the arm64 node's runtime gets arm64 images, by their original names, from the cluster's registry
            await using var node = await Connect("10.200.0.12");
            string fetched = await RealContainerd.FetchAsync(node, "linux/arm64", [BaseImage]);
            Assert.Contains(redis.Platforms["linux/arm64"], fetched, StringComparison.Ordinal);
            Assert.Empty((await new ClusterInstaller(doc, options).CheckAsync()).Problems);
        }
        finally
        {
            File.Delete(uname);
        }
    }

    private static string BaseManifest(PushedBase b, string arch)
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(b.Layout, "blobs", "sha256", b.Digest["sha256:".Length..])));
        return index.RootElement.GetProperty("manifests").EnumerateArray()
            .Single(m => m.GetProperty("platform").GetProperty("architecture").GetString() == arch).GetProperty("digest").GetString()!;
    }

    private static List<string> Layers(string layout, string manifestDigest)
    {
        using var m = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", manifestDigest["sha256:".Length..])));
        return m.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!).ToList();
    }

    /// <summary>The image-blob layers of a cluster image manifest: the layer and the app image blob it holds.</summary>
    private static List<(string Layer, string Blob)> ImageBlobLayers(string layout, string manifestDigest)
    {
        using var m = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", manifestDigest["sha256:".Length..])));
        return m.RootElement.GetProperty("layers").EnumerateArray()
            .Where(l => l.TryGetProperty("annotations", out var a) && a.TryGetProperty("io.sealer.sdk.layer", out var k) && k.GetString() == "image-blob")
            .Select(l => (l.GetProperty("digest").GetString()!, l.GetProperty("annotations").GetProperty("io.sealer.sdk.blob").GetString()!)).ToList();
    }

    private Task<SshHost> Connect(string ip) =>
        hosts.ConnectAsync(ip);

    private static (int Code, string Output) Cli(string args)
    {
        var r = SealerCli.Run(args.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return (r.ExitCode, r.Output);
    }

    private static (int Code, string Output) Tool(string file, string args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), file + " " + args + " timed out");
        return (p.ExitCode, output + err.Result);
    }
}
