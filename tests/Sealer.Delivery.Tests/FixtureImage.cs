using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Layout;

namespace Sealer.Delivery.Tests;

/// <summary>
/// A small but real cluster image in an OCI layout directory (TestSupport's <see cref="ClusterImages"/>, layers annotated
/// as the SDK does): a rootfs with lifecycle scripts that leave evidence on the hosts (and a fake kubeadm/kubectl/helm,
/// since there is no kubelet here), one per-blob layer holding an app image layer, and the registry/ layer naming
/// docker.io/library/demo:1.0; tagged example.com/fixture/kubernetes:v1.
/// </summary>
public sealed class FixtureImage
{
    public required string Dir { get; init; }
    public required string ManifestDigest { get; init; }
    public required string AppManifestDigest { get; init; }
    public required long TotalBytes { get; init; }

    /// <summary>The rootfs layer: all a host that runs no registry gets.</summary>
    public required long RootfsBytes { get; init; }
    public required string RootfsDigest { get; init; }

    /// <summary>The image-blob and registry layers: only the registry hosts get them.</summary>
    public required IReadOnlyList<string> RegistryContentDigests { get; init; }

    /// <summary>The app image's one layer (what the image-blob layer, <see cref="RegistryContentDigests"/>[0], holds).</summary>
    public required string AppLayerDigest { get; init; }

    public const string Evidence = "/var/lib/sealer/evidence.log";

    /// <param name="extraRootfs">more rootfs files (path → content; paths ending in .sh or .sh.tmpl, or under bin/, are executable)</param>
    /// <param name="appImage">the app image's name in registry/index.json</param>
    /// <param name="kubeVersion">the cluster-runtime-version label (null: none)</param>
    /// <param name="launch">the LAUNCH app names (default demo)</param>
    /// <param name="drop">rootfs paths (or path prefixes) of the default image to leave out</param>
    /// <param name="upperRootfs">a second rootfs layer over the first (path → content), as a base image's upper layer with whiteouts</param>
    public static FixtureImage Build(string dir, int appLayerBytes = 3 * 1024 * 1024, string architecture = "amd64", IReadOnlyDictionary<string, string>? extraRootfs = null,
        string appImage = "docker.io/library/demo:1.0", string? kubeVersion = null, IReadOnlyList<string>? launch = null, IReadOnlyList<string>? drop = null,
        IReadOnlyDictionary<string, string>? upperRootfs = null)
    {
        var appLayer = OciImages.Gzip(Tar(new() { ["hello.txt"] = Encoding.UTF8.GetBytes("hello\n"), ["noise.bin"] = RandomNumberGenerator.GetBytes(appLayerBytes) }));

        string Script(string body) => "#!/bin/bash\nset -e\n" + body + "\n";
        var rootfs = new Dictionary<string, byte[]>
        {
            ["scripts/containerd.sh"] = Encoding.UTF8.GetBytes(Script("""
                if [ -f /tmp/fail-runtime ]; then rm -f /tmp/fail-runtime; echo "injected failure in containerd.sh" >&2; exit 3; fi
                if [ -f /tmp/down-runtime ]; then rm -f /tmp/down-runtime; echo "taking the network down"; ip link set eth0 down; sleep 30; exit 0; fi
                echo "runtime $(hostname) HostIP=$HostIP CRI=$ContainerRuntime MyVar=$MyVar" >> /var/lib/sealer/evidence.log
                # as real base images do: containerd's own default file (registry config_path empty), which registry-config then points at certs.d
                if [ "$ContainerRuntime" = containerd ]; then mkdir -p /etc/containerd && containerd config default > /etc/containerd/config.toml; fi
                """)),
            // as a Docker base image's installer does: a daemon.json of the host's own (registry-config merges ours into it)
            ["scripts/docker.sh"] = Encoding.UTF8.GetBytes(Script("""
                echo "runtime $(hostname) HostIP=$HostIP CRI=$ContainerRuntime" >> /var/lib/sealer/evidence.log
                mkdir -p /etc/docker && printf '{"log-driver": "json-file", "registry-mirrors": ["https://mirror.site.example"]}\n' > /etc/docker/daemon.json
                """)),
            ["scripts/init-kube.sh"] = Encoding.UTF8.GetBytes(Script("echo \"init-kube $(hostname) registry=$RegistryURL\" >> /var/lib/sealer/evidence.log")),
            ["bin/kubeadm"] = Encoding.UTF8.GetBytes(Script("""
                echo "kubeadm $* on $(hostname)" >> /var/lib/sealer/evidence.log
                if [ "$*" = "upgrade node" ] && [ -f /tmp/down-upgrade ]; then rm -f /tmp/down-upgrade; ip link set eth0 down; sleep 30; exit 0; fi
                case "$*" in
                  "token create --print-join-command") echo "kubeadm join 10.200.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00";;
                  "init phase upload-certs --upload-certs") echo "[upload-certs] Using certificate key:"; echo "0123456789abcdef";;
                esac
                """)),
            // `kubectl get ... -o json` answers from files a test puts on the host (an empty list when there are none)
            ["bin/kubectl"] = Encoding.UTF8.GetBytes(Script("""
                echo "kubectl $* on $(hostname) KUBECONFIG=${KUBECONFIG:-}" >> /var/lib/sealer/evidence.log
                case "$*" in
                  apply*"-f -") mkdir -p /var/lib/sealer/fake-kube/applied; n=$(ls /var/lib/sealer/fake-kube/applied | wc -l); cat > "/var/lib/sealer/fake-kube/applied/$(printf %03d "$n").json";;
                  "get deployments,statefulsets,daemonsets -A -o json") cat /var/lib/sealer/fake-kube/workloads.json 2>/dev/null || echo '{"items":[]}';;
                  "get pods -A -o json") cat /var/lib/sealer/fake-kube/pods.json 2>/dev/null || echo '{"items":[]}';;
                esac
                """)),
            ["etc/registry.conf.tmpl"] = Encoding.UTF8.GetBytes("url={{ .RegistryURL }} host={{ .HostIP }} my={{ .MyVar }} other={{ .Unset | default \"dflt\" }}\n"),
            ["etc/kubeadm.yml"] = Encoding.UTF8.GetBytes("apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n"),
            ["etc/values.yaml"] = Encoding.UTF8.GetBytes("replicas: 1\nimage:\n  tag: v1\n  pull: Always\n"),
            ["application/apps/demo/install.sh"] = Encoding.UTF8.GetBytes(Script("echo \"app demo launched on $(hostname) from $(pwd) args=$* DemoEnv=${DemoEnv:-}\" >> /var/lib/sealer/evidence.log")),
            // the fake helm records its arguments and the values it would install with (the chart's values.yaml, every -f file)
            ["bin/helm"] = Encoding.UTF8.GetBytes(Script("""
                echo "helm $* on $(hostname) WebGreeting=${WebGreeting:-}" >> /var/lib/sealer/evidence.log
                if [ -f /tmp/fail-helm ]; then rm -f /tmp/fail-helm; echo "injected helm failure" >&2; exit 1; fi
                if [ "$1 $2" = "upgrade --install" ]; then
                  chart="$4"
                  { echo "--- chart $chart values.yaml"; cat "$chart/values.yaml"; } >> /var/lib/sealer/helm-values.log
                  prev=""
                  for a in "$@"; do
                    if [ "$prev" = "-f" ]; then { echo "--- -f $a"; cat "$a"; } >> /var/lib/sealer/helm-values.log; fi
                    prev="$a"
                  done
                fi
                """)),
            // Sealer base images ship seautil (ipvs --run-once sets the VIP before kubelet runs lvscare)
            ["bin/seautil"] = Encoding.UTF8.GetBytes(Script("echo \"seautil $* on $(hostname)\" >> /var/lib/sealer/evidence.log")),
            // a chart app as the SDK lays it out (application/apps/<name>/<leaf>/), a kube app
            ["application/apps/web/web/Chart.yaml"] = Encoding.UTF8.GetBytes("apiVersion: v2\nname: web\nversion: 0.1.0\n"),
            ["application/apps/web/web/values.yaml"] = Encoding.UTF8.GetBytes("replicaCount: 1\nimage:\n  repository: docker.io/library/demo\n  tag: \"1.0\"\n"),
            ["application/apps/web/web/values-prod.yaml"] = Encoding.UTF8.GetBytes("resources:\n  limits:\n    cpu: 500m\n"),
            ["application/apps/web/web/templates/cm.yaml"] = Encoding.UTF8.GetBytes("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"),
            ["application/apps/web/web/greeting.txt.tmpl"] = Encoding.UTF8.GetBytes("{{ .WebGreeting }} from {{ .HostIP }}\n"),
            ["application/apps/extra/cm.yaml"] = Encoding.UTF8.GetBytes("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"),
        };
        foreach (var d in drop ?? []) foreach (var k in rootfs.Keys.Where(k => k.StartsWith(d, StringComparison.Ordinal)).ToList()) rootfs.Remove(k);
        foreach (var (k, v) in extraRootfs ?? new Dictionary<string, string>()) rootfs[k] = Encoding.UTF8.GetBytes(v);
        var layout = OciLayout.OpenOrCreate(dir);
        var image = ClusterImages.Build(layout, new ClusterImageContents
        {
            Architecture = architecture,
            Rootfs = [.. rootfs.Select(f => (f.Key, f.Value))],
            UpperRootfs = upperRootfs is null ? null : [.. upperRootfs.Select(f => (f.Key, Encoding.UTF8.GetBytes(f.Value)))],
            Executable = p => p.StartsWith("bin/", StringComparison.Ordinal) || p.EndsWith(".sh", StringComparison.Ordinal) || p.EndsWith(".sh.tmpl", StringComparison.Ordinal),
            AppLayer = appLayer,
            AppReference = appImage,
            AppArchitecture = "amd64",
            Extension = """{"type":"kube-installer","applications":[{"name":"demo","type":"shell","files":["install.sh"]},{"name":"web","type":"helm","env":{"WebGreeting":"hi-from-image"}},{"name":"extra","type":"kube","files":["cm.yaml"]}],"launch":{"app_names":[LAUNCH]}}"""
                .Replace("LAUNCH", string.Join(",", (launch ?? ["demo"]).Select(a => $"\"{a}\"")), StringComparison.Ordinal),
            Labels = new Dictionary<string, string>
            {
                ["cluster.alpha.sealer.io/cluster-runtime-type"] = "kubernetes",
                ["cluster.alpha.sealer.io/container-runtime-type"] = "containerd",
            }.Concat(kubeVersion is null ? [] : [new("cluster.alpha.sealer.io/cluster-runtime-version", kubeVersion)]).ToDictionary(),
            Env = ["MyVar=fromimage", "ImageOnly=yes"],
            SdkLayerAnnotations = true,
        });
        layout.SetRef("example.com/fixture/kubernetes:v1", image.Manifest);
        return new FixtureImage
        {
            Dir = dir, ManifestDigest = image.Manifest.Digest, AppManifestDigest = image.AppManifest.Digest, TotalBytes = image.TotalBytes,
            RootfsBytes = image.Layers.Take(image.RootfsLayers).Sum(l => l.Size), RootfsDigest = image.Rootfs.Digest,
            RegistryContentDigests = [.. image.RegistryContent.Select(l => l.Digest)],
            AppLayerDigest = "sha256:" + OciImages.Sha256Hex(appLayer),
        };
    }

    private static byte[] Tar(Dictionary<string, byte[]> files, Func<string, bool>? executable = null) => OciImages.Tar(files.Select(f => (f.Key, f.Value)), executable);
}
