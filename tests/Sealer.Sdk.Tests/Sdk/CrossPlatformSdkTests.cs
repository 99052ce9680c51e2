using Sealer.Core.ClusterImage;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>
/// A project checked out on Windows, built for real with <c>dotnet build</c> on the packed SDK: samples/shop from another
/// checkout path, its .kubeproj written with backslashes (item specs and path metadata, as Visual Studio writes them), in a
/// git work tree whose files lost their mode bits, gives the same cluster image digest and the same images.lock.json as
/// the sample built as shipped.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class CrossPlatformSdkTests(SdkFeed feed)
{
    [Fact]
    public void The_shop_with_backslash_item_specs_from_another_checkout_path_builds_to_the_same_digest()
    {
        string mirrors = string.Join(";", new[] { "docker.io", "quay.io", "registry.k8s.io" }.Select(d => $"{d}={feed.Env.Registry(d).Url}"));
        var env = new Dictionary<string, string> { ["SealerRegistryMirrors"] = mirrors, ["SealerRegistryFallbackToSource"] = "false" };
        string cache = feed.NewProjectDir("cache");

        string a = feed.NewProjectDir("shop");
        CopyTree(Path.Combine(Repo.Root, "samples", "shop"), a);
        var ra = feed.Dotnet(a, "build -c Release", cache, env);
        Assert.True(ra.ExitCode == 0, ra.Output);

        string b = Path.Combine(feed.NewProjectDir("C Drive"), "Users", "Dev Name", "source", "repos", "shop");
        CopyTree(Path.Combine(Repo.Root, "samples", "shop"), b);
        string project = Path.Combine(b, "shop.kubeproj");
        string text = File.ReadAllText(project);
        foreach (var (from, to) in new[]
        {
            ("Include=\"charts/web\"", "Include=\"charts\\web\""), ("ValuesFiles=\"values-prod.yaml\"", "ValuesFiles=\".\\values-prod.yaml\""),
            ("Include=\"manifests/**/*.yaml\"", "Include=\"manifests\\**\\*.yaml\""), ("Include=\"etc/registry_config.yml\" Destination=\"etc/\"", "Include=\"etc\\registry_config.yml\" Destination=\"etc\\\""),
            ("Include=\"scripts/post-install.sh\" Destination=\"scripts/\"", "Include=\"scripts\\post-install.sh\" Destination=\"scripts\\\""),
            ("Destination=\"application/apps/web/\"", "Destination=\"application\\apps\\web\\\""), ("Source=\"charts/web\"", "Source=\"charts\\web\""),
            ("Source=\"manifests/monitoring\"", "Source=\"manifests\\monitoring\""),
        })
        {
            Assert.Contains(from, text, StringComparison.Ordinal);
            text = text.Replace(from, to, StringComparison.Ordinal);
        }
        File.WriteAllText(project, text.Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.Equal(0, Processes.RunCommandLine("git", "init -q", b).ExitCode);
        Assert.Equal(0, Processes.RunCommandLine("git", "config core.fileMode false", b).ExitCode);
        Assert.Equal(0, Processes.RunCommandLine("git", "add -A", b).ExitCode);
        Assert.Equal(0, Processes.RunCommandLine("git", "update-index --chmod=+x scripts/post-install.sh", b).ExitCode);
        File.SetUnixFileMode(Path.Combine(b, "scripts", "post-install.sh"), (UnixFileMode)0b110_100_100);
        var rb = feed.Dotnet(b, "build -c Release", cache, env);
        Assert.True(rb.ExitCode == 0, rb.Output);

        var imageA = ClusterImageReader.Open(Path.Combine(a, "bin", "Release", "shop.tar"));
        var imageB = ClusterImageReader.Open(Path.Combine(b, "bin", "Release", "shop.tar"));
        Assert.Equal(imageA.ImageReferences(), imageB.ImageReferences());
        Assert.Equal(File.ReadAllText(Path.Combine(a, "images.lock.json")), File.ReadAllText(Path.Combine(b, "images.lock.json")));
        Assert.Equal(imageA.Descriptor.Digest, imageB.Descriptor.Digest);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "bin", "Release", "shop.tar")), File.ReadAllBytes(Path.Combine(b, "bin", "Release", "shop.tar")));
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
