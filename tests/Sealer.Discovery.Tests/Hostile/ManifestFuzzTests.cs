using System.Text;
using Sealer.Core.Discovery;

namespace Sealer.Discovery.Tests.Hostile;

/// <summary>
/// Hostile input (docs/hostile-input.md): real Kubernetes manifests (the kustomize corpus' plain resources: Deployments,
/// CRDs, RBAC, Services, multi-document files) and image lists, mutated, go through discovery as <c>find-images</c>
/// runs it: each input yields its images or is refused with a coded error, within a time limit, never a crash. A
/// mutated manifest whose image value breaks is refused (strict fields) — never a silent drop.
/// </summary>
public class ManifestFuzzTests
{
    [Fact]
    public void Mutated_manifests_give_images_or_a_coded_error_never_a_crash_or_a_hang()
    {
        string corpus = Repo.Path("tests", "Sealer.Charts.Tests", "kustomize-corpus");
        var seeds = Directory.EnumerateFiles(corpus, "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is not ("kustomization.yaml" or "Kustomization") && new FileInfo(f).Length < 20_000)
            .Where(f => File.ReadAllText(f).Contains("image:", StringComparison.Ordinal) || f.Contains("kube-prometheus", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Take(60).Select(File.ReadAllBytes).ToList();
        Assert.True(seeds.Count >= 30, $"only {seeds.Count} seeds");
        using var tmp = new TempDir();
        string file = tmp.Sub("m.yaml");
        int withImages = 0;
        var report = Fuzz.Run("manifest", Fuzz.Mutations(seeds, 2500 * Fuzz.Scale), (input, ct) =>
        {
            File.WriteAllBytes(file, input);
            var result = ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = [file] }, ct);
            if (result.Images.Count > 0) withImages++;
        });
        report.AssertClean(2500);
        Assert.True(withImages > 100, $"only {withImages} inputs gave images");
    }

    [Fact]
    public void Mutated_image_lists_give_images_or_a_coded_error_never_a_crash_or_a_hang()
    {
        var seeds = new[]
        {
            "# images of the shop\nnginx:1.27\ndocker.io/library/redis:7.2\nquay.io/prometheus/node-exporter:v1.8.2\n\nregistry.k8s.io/pause:3.9\n",
            "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nlocalhost:5000/a/b/c:v1\n[::1]:5000/x:y\n",
            "registry.example.com:8443/team/api:2.0.1 # pinned by the release\n\t busybox\n",
        }.Select(Encoding.UTF8.GetBytes).ToList();
        using var tmp = new TempDir();
        string file = tmp.Sub("images.txt");
        var report = Fuzz.Run("image-list", Fuzz.Mutations(seeds, 2000 * Fuzz.Scale, [.. Fuzz.YamlTokens, "@sha256:", ":", "/", "..", "//", "@", "sha256:", "A", "_", "__", "-"]), (input, ct) =>
        {
            File.WriteAllBytes(file, input);
            ImageDiscovery.Discover(new DiscoveryInput { ImageListFiles = [file] }, ct);
        });
        report.AssertClean(2000);
    }
}
