using Sealer.Core.ClusterImage;
using Sealer.Sdk.Tests.ClusterImage;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>samples/shop builds as shipped: its chart is rendered with values-prod.yaml, so the prod-only cache image is found.</summary>
[Collection(SdkCollection.Name)]
public sealed class SampleTests(SdkFeed feed)
{
    [Fact]
    public void The_shop_sample_builds_for_two_platforms_with_the_chart_rendered_with_production_values()
    {
        string dir = feed.NewProjectDir("shop");
        CopyTree(Path.Combine(Repo.Root, "samples", "shop"), dir);
        string mirrors = string.Join(";", new[] { "docker.io", "quay.io", "registry.k8s.io" }.Select(d => $"{d}={feed.Env.Registry(d).Url}"));
        var env = new Dictionary<string, string> { ["SealerRegistryMirrors"] = mirrors, ["SealerRegistryFallbackToSource"] = "false" };
        var r = feed.Dotnet(dir, "build -c Release", feed.NewProjectDir("cache"), env);
        Assert.True(r.ExitCode == 0, r.Output);

        var reader = ClusterImageReader.Open(Path.Combine(dir, "bin", "Release", "shop.tar"));
        Assert.Equal("shop:1.4.0", reader.RefName);
        Assert.Equal(["linux/amd64", "linux/arm64"], reader.Platforms.Select(p => p.Platform.ToString()));
        Assert.Equal(
            ["docker.io/library/nginx:1.27", "docker.io/library/redis:7.4", "quay.io/coreos/etcd:v3.5.15", "quay.io/prometheus/node-exporter:v1.8.2",
             "registry.k8s.io/coredns/coredns:v1.11.1", "registry.k8s.io/pause:3.9"],
            reader.ImageReferences());
        var ext = reader.Platforms[0].Extension!;
        Assert.Equal(["monitoring", "web"], ext.Launch.AppNames!);
        Assert.Equal(["monitoring", "web"], ext.Applications!.Select(a => a.Name));
        string lockText = File.ReadAllText(Path.Combine(dir, "images.lock.json"));
        Assert.Contains("charts/web/templates/deployment.yaml", lockText);
        var (code, output) = Processes.RunCommandLine("skopeo", $"inspect --override-arch arm64 oci:{Path.Combine(dir, "bin", "Release", "shop")}:shop:1.4.0");
        Assert.True(code == 0, output);
        Assert.Contains("\"Architecture\": \"arm64\"", output);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(from, f);
            if (rel.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || rel.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || rel == "images.lock.json") continue;
            string dest = Path.Combine(to, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(f, dest);
        }
    }
}
