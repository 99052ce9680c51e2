using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Checks;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;
using Sealer.Core.RegistryServer;

namespace Sealer.Delivery.Tests.Checks;

/// <summary>
/// <see cref="AirgapCheck"/> over what hosts report: hosts.toml as the registry-config step writes them
/// (<see cref="RegistryRuntimeConfig"/>), kubectl's pod list, ctr's image list and the registry's access log lines.
/// </summary>
public class AirgapCheckTests
{
    private const string Demo = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private const string DemoAmd64 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    private const string Other = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

    private static readonly ServedImages Served = new([
        new ContainedImage
        {
            Reference = "docker.io/library/demo:1.0", Digest = Demo, MediaType = "application/vnd.oci.image.index.v1+json",
            Platforms = [new ContainedPlatform { Platform = "linux/amd64", Digest = DemoAmd64 }],
        },
    ]);

    private static readonly string[] Endpoints = ["10.200.0.11:5000"];

    private static string Toml(string? domain, string endpoint = "10.200.0.11:5000") =>
        RegistryRuntimeConfig.ContainerdHostsToml(domain, [new RegistryEndpoint(endpoint, Tls: true)], "/etc/sealer/registry/ca.crt", skipVerify: false);

    private static string Pods(params (string Node, string Image, string? ImageId)[] containers) =>
        "{\"items\":[" + string.Join(",", containers.Select((c, i) =>
            "{\"metadata\":{\"namespace\":\"shop\",\"name\":\"p" + i + "\"},\"spec\":{\"nodeName\":\"" + c.Node + "\",\"containers\":[{\"name\":\"c\",\"image\":\"" + c.Image + "\"}]}," +
            "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"c\",\"image\":\"" + c.Image + "\",\"imageID\":\"" + (c.ImageId ?? "") + "\"}]}}")) + "]}";

    private static AirgapHostFacts Host(string ip, string name, params string[] domains) => new(ip, name)
    {
        HostsToml = domains.ToDictionary(d => d, d => Toml(d == "_default" ? null : d), StringComparer.Ordinal),
        Images = "REF TYPE DIGEST SIZE PLATFORMS LABELS\n",
    };

    [Fact]
    public void Pods_pulled_through_the_mirror_from_the_registry_pass()
    {
        var pods = Pods(("sealer-h1", "docker.io/library/demo:1.0", "docker.io/library/demo@" + Demo));
        var h1 = Host("10.200.0.11", "sealer-h1", "_default", "docker.io") with
        {
            Images = $"REF                         TYPE                                      DIGEST  SIZE     PLATFORMS   LABELS\ndocker.io/library/demo:1.0 application/vnd.oci.image.index.v1+json {Demo} 3.0 KiB linux/amd64 io.cri-containerd.image=managed\n{DemoAmd64} application/vnd.oci.image.manifest.v1+json {DemoAmd64} 3.0 KiB linux/amd64 -\n",
            AccessLog = "10.200.0.12 - - [02/Dec/2026:07:00:00 +0000] \"GET /v2/library/demo/manifests/1.0?ns=docker.io HTTP/1.1\" 200 1234 0.002\n",
        };
        var result = AirgapCheck.Evaluate(Served, Endpoints, "10.200.0.11", pods, [h1]);
        Assert.Empty(result.Problems);
        Assert.Contains("10.200.0.11: pod shop/p0 container c docker.io/library/demo:1.0 sha256:111111111111 is served by the built-in registry", result.Ok);
        Assert.Contains(result.Ok, o => o.StartsWith("10.200.0.11: containerd on 10.200.0.11 holds docker.io/library/demo:1.0", StringComparison.Ordinal));
        Assert.Contains("10.200.0.11: the registry served 1 manifest request(s) for 1 image(s): docker.io/library/demo:1.0", result.Ok);
    }

    [Fact]
    public void A_domain_without_a_mirror_and_an_image_not_from_the_registry_are_reported()
    {
        var pods = Pods(("sealer-h2", "quay.io/acme/agent:2", "quay.io/acme/agent@" + Other), ("sealer-h2", "docker.io/library/demo:1.0", "docker.io/library/demo@" + DemoAmd64));
        var h1 = Host("10.200.0.11", "sealer-h1", "_default", "docker.io") with
        {
            AccessLog = "10.200.0.12 - - [02/Dec/2026:07:00:01 +0000] \"HEAD /v2/acme/agent/manifests/2?ns=quay.io HTTP/1.1\" 404 0 0.001\n",
        };
        // h2's docker.io mirror points elsewhere, quay.io has none, _default is missing
        var h2 = new AirgapHostFacts("10.200.0.12", "sealer-h2")
        {
            HostsToml = new Dictionary<string, string> { ["docker.io"] = Toml("docker.io", "mirror.example.com:443") },
            Images = null,
            ImagesError = "ctr failed: connection refused",
        };
        var result = AirgapCheck.Evaluate(Served, Endpoints, "10.200.0.11", pods, [h1, h2]);
        var messages = result.Problems.Select(p => p.ToString()).ToList();
        Assert.Contains(messages, m => m.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: no /etc/containerd/certs.d/_default/hosts.toml", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: /etc/containerd/certs.d/docker.io/hosts.toml does not point at the cluster's registry (10.200.0.11:5000)", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: no /etc/containerd/certs.d/quay.io/hosts.toml, but quay.io/acme/agent:2 uses quay.io", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapImageNotServed}: pod shop/p0 container c quay.io/acme/agent:2 ({Other}) is not an image the built-in registry serves", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith($"10.200.0.11: [airgap] {ErrorCodes.AirgapImageNotServed}: the registry was asked for quay.io/acme/agent:2 (1 time(s)) and does not have it", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.Contains(ErrorCodes.AirgapImageNotServed, StringComparison.Ordinal) && m.Contains("demo", StringComparison.Ordinal)); // its platform manifest's digest is served
        Assert.Equal(5, messages.Count);
        Assert.Contains("10.200.0.12: containerd's images not listed (ctr failed: connection refused)", result.Ok);
    }

    [Theory]
    [InlineData("/etc/containerd/certs.d", true)]
    [InlineData("/etc/containerd/certs.d/:/etc/docker/certs.d", true)]
    [InlineData("/etc/docker/certs.d:/etc/containerd/certs.d", true)]
    [InlineData("", false)]
    [InlineData("/etc/docker/certs.d", false)]
    public void Containerds_CRI_must_read_certs_d(string configPath, bool reads)
    {
        var h1 = Host("10.200.0.11", "sealer-h1", "_default") with { CriConfigPath = configPath };
        var result = AirgapCheck.Evaluate(Served, Endpoints, "10.200.0.11", null, [h1]);
        var problem = result.Problems.Select(p => p.ToString()).SingleOrDefault(p => p.Contains("containerd's CRI", StringComparison.Ordinal));
        if (reads)
        {
            Assert.Null(problem);
            Assert.Contains("10.200.0.11: containerd's CRI reads /etc/containerd/certs.d (config_path)", result.Ok);
        }
        else
        {
            Assert.Equal($"10.200.0.11: [airgap] {ErrorCodes.AirgapMirrorMissing}: containerd's CRI does not read /etc/containerd/certs.d (its config_path is \"{configPath}\" in /etc/containerd/config.toml): " +
                "every mirror there is ignored and each pull goes to the image's own registry. Run 'sealer run' again (registry-config sets it).", problem);
        }
        // not asked (Docker, or no containerd): nothing said either way
        var docker = AirgapCheck.Evaluate(Served, Endpoints, "10.200.0.11", null, [h1 with { CriConfigPath = null }]);
        Assert.DoesNotContain(docker.Problems.Concat<object>(docker.Ok).Select(x => x.ToString()), m => m!.Contains("containerd's CRI", StringComparison.Ordinal));
    }

    [Fact]
    public void A_Docker_host_is_judged_by_Docker_Engines_certs_d_and_the_images_docker_holds()
    {
        // docker image ls --digests --format '{{.Repository}}:{{.Tag}} {{.Digest}}': Docker Hub's names short, <none> where
        // an image has no tag or no digest (a dangling build stage left out, one pulled by digest kept by it)
        string held = $"demo:1.0 {Demo}\nquay.io/acme/agent:2 {Other}\n<none>:<none> <none>\nregistry.k8s.io/pause:<none> {DemoAmd64}\nlocal/built:dev <none>\n";
        Assert.Equal(
            [("demo:1.0", Demo), ("quay.io/acme/agent:2", Other), ("registry.k8s.io/pause@" + DemoAmd64, DemoAmd64), ("local/built:dev", null)],
            AirgapCheck.DockerImages(held, "10.200.0.12").Select(i => (i.Reference, i.Digest)));
        var h2 = new AirgapHostFacts("10.200.0.12", "sealer-h2")
        {
            Runtime = "docker",
            DockerStore = DockerImageStore.Containerd,
            CertsDir = RuntimeConfigOptions.DefaultDockerCertsDir,
            HostsToml = new Dictionary<string, string> { ["docker.io"] = Toml("docker.io") },
            Images = held,
        };
        var result = AirgapCheck.Evaluate(Served, Endpoints, "10.200.0.11", null, [h2]);
        var messages = result.Problems.Select(p => p.ToString()).ToList();
        Assert.Contains($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: no /etc/docker/certs.d/_default/hosts.toml: images of other registries are pulled from the internet. Run 'sealer run' again (registry-config).", messages);
        Assert.Contains(messages, m => m.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: no /etc/docker/certs.d/quay.io/hosts.toml, but quay.io/acme/agent:2 uses quay.io", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapImageNotServed}: docker on 10.200.0.12 holds quay.io/acme/agent:2 ({Other})", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapImageNotServed}: docker on 10.200.0.12 holds local/built:dev is not", StringComparison.Ordinal));
        Assert.Contains("10.200.0.12: certs.d/docker.io mirrors to the cluster's registry", result.Ok);
        Assert.Contains(result.Ok, o => o.StartsWith("10.200.0.12: docker on 10.200.0.12 holds demo:1.0 sha256:111111111111 is served", StringComparison.Ordinal));
        Assert.Contains(result.Ok, o => o.StartsWith($"10.200.0.12: docker on 10.200.0.12 holds registry.k8s.io/pause@{DemoAmd64}", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.Contains("containerd", StringComparison.Ordinal));

        var silent = AirgapCheck.Evaluate(Served, Endpoints, "10.200.0.11", null, [h2 with { Images = null, ImagesError = "docker is not installed" }]);
        Assert.Contains("10.200.0.12: docker's images not listed (docker is not installed)", silent.Ok);
    }

    [Fact]
    public void Dockers_classic_image_store_mirrors_docker_io_only_and_its_other_domains_are_leaks()
    {
        // docker info --format '{{json .DriverStatus}}': the containerd image store names its snapshotter, overlay2 its own status
        Assert.Equal(DockerImageStore.Containerd, DockerImageStore.Of("[[\"driver-type\",\"io.containerd.snapshotter.v1\"]]\n"));
        Assert.Equal(DockerImageStore.Classic, DockerImageStore.Of("[[\"Backing Filesystem\",\"extfs\"],[\"Supports d_type\",\"true\"],[\"Using metacopy\",\"false\"],[\"Native Overlay Diff\",\"true\"],[\"userxattr\",\"false\"]]\n"));
        Assert.Equal(["10.200.0.11:5000", "mirror.site.example"], AirgapCheck.DockerRegistryMirrors("""{"log-driver":"json-file","registry-mirrors":["https://10.200.0.11:5000","https://mirror.site.example"]}"""));
        Assert.Empty(AirgapCheck.DockerRegistryMirrors("{}")!);
        Assert.Null(AirgapCheck.DockerRegistryMirrors(""));
        Assert.Null(AirgapCheck.DockerRegistryMirrors("[1]"));

        var h2 = new AirgapHostFacts("10.200.0.12", "sealer-h2")
        {
            Runtime = "docker",
            DockerStore = DockerImageStore.Classic,
            DockerRegistryMirrors = ["10.200.0.11:5000"],
            CertsDir = RuntimeConfigOptions.DefaultDockerCertsDir,
            // the hosts.toml files are there, but the classic store does not read them
            HostsToml = new Dictionary<string, string> { ["_default"] = Toml(null), ["quay.io"] = Toml("quay.io") },
            Images = $"demo:1.0 {Demo}\nquay.io/acme/agent:2 {Other}\n",
        };
        var result = AirgapCheck.Evaluate(Served, Endpoints, "10.200.0.11", null, [h2]);
        var messages = result.Problems.Select(p => p.ToString()).ToList();
        Assert.Equal([$"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: Docker's classic image store mirrors docker.io only (it reads no hosts.toml), but quay.io/acme/agent:2 uses quay.io: a pull goes to quay.io directly. " +
            "Turn on Docker's containerd image store (\"features\": {\"containerd-snapshotter\": true} in /etc/docker/daemon.json, restart docker; it pulls its images again), or run the cluster on containerd.",
            $"10.200.0.12: [airgap] {ErrorCodes.AirgapImageNotServed}: docker on 10.200.0.12 holds quay.io/acme/agent:2 ({Other}) is not an image the built-in registry serves: it did not come from the cluster image. Add it to the cluster image, or remove what runs it."], messages);
        Assert.Contains("10.200.0.12: Docker uses its classic image store: it reads no hosts.toml and mirrors docker.io only (registry-mirrors in /etc/docker/daemon.json)", result.Ok);
        Assert.Contains("10.200.0.12: docker.io mirrors to the cluster's registry (registry-mirrors)", result.Ok);
        Assert.DoesNotContain(result.Ok, o => o.Contains("certs.d", StringComparison.Ordinal));

        // the registry's own name (a Sealer base's sea.hub:5000/pause): pulled from it directly, wherever the runtime's mirrors point
        var own = AirgapCheck.Evaluate(Served, [.. Endpoints, "sea.hub:5000"], "10.200.0.11", null, [h2 with { Images = $"sea.hub:5000/library/demo:1.0 {Demo}\n" }]);
        Assert.Empty(own.Problems);
        Assert.Contains("10.200.0.12: sea.hub:5000 is the cluster's registry", own.Ok);
        Assert.Contains(own.Ok, o => o.StartsWith("10.200.0.12: docker on 10.200.0.12 holds sea.hub:5000/library/demo:1.0 sha256:111111111111 is served", StringComparison.Ordinal));

        // registry-mirrors without the cluster's registry, or no daemon.json: docker.io's pulls leave the site too
        foreach (var (mirrors, said) in new (string[]?, string)[] { (["mirror.site.example"], "the registry-mirrors of /etc/docker/daemon.json do not name the cluster's registry (10.200.0.11:5000)"), (null, "/etc/docker/daemon.json is missing or not JSON") })
        {
            var other = AirgapCheck.Evaluate(Served, Endpoints, "10.200.0.11", null, [h2 with { DockerRegistryMirrors = mirrors }]);
            Assert.Contains($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: {said}, but demo:1.0 uses docker.io: a pull goes to docker.io directly. Run 'sealer run' again (registry-config).", other.Problems.Select(p => p.ToString()));
        }

        // the store not known (no daemon answering): judged as the containerd image store, by Docker's certs.d, and said so
        var unknown = AirgapCheck.Evaluate(Served, Endpoints, "10.200.0.11", null, [h2 with { DockerStore = null, DockerStoreError = "docker failed: Cannot connect to the Docker daemon" }]);
        Assert.Contains("10.200.0.12: Docker's image store not known (docker failed: Cannot connect to the Docker daemon): judged by /etc/docker/certs.d as the containerd image store reads it", unknown.Ok);
        Assert.Contains("10.200.0.12: certs.d/quay.io mirrors to the cluster's registry", unknown.Ok);
        Assert.Contains(unknown.Problems.Select(p => p.ToString()), m => m.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: no /etc/docker/certs.d/docker.io/hosts.toml, but demo:1.0 uses docker.io", StringComparison.Ordinal));
    }

    [Fact]
    public void Mirror_hosts_are_read_from_hosts_toml_with_their_ports()
    {
        Assert.Equal(["10.200.0.11:5000", "10.200.0.12:5000"], AirgapCheck.MirrorHosts(Toml("docker.io") + "\n[host.\"http://10.200.0.12:5000\"]\n  capabilities = [\"pull\"]\n"));
        Assert.Empty(AirgapCheck.MirrorHosts("server = \"https://registry-1.docker.io\"\n"));
    }

    [Fact]
    public void Pods_that_ended_are_not_running_images_and_a_bad_list_is_an_error()
    {
        Assert.Empty(AirgapCheck.PodImages("""{"items":[{"metadata":{"namespace":"a","name":"job"},"spec":{"containers":[{"name":"c","image":"x:1"}]},"status":{"phase":"Succeeded"}}]}"""));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => AirgapCheck.PodImages("""{"kind":"List"}"""));
    }
}
