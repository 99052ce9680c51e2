using Sealer.Core.Bundle;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>`dotnet publish -t:BundleCluster` with the packed SDK: the bundle of a real .kubeproj, made with the sealer the
/// package carries, is the very file `sealer bundle` makes of the same archive, verifies and inspects; a platform the
/// package has no sealer for is a coded error naming SealerCliPath.</summary>
[Collection(SdkCollection.Name)]
public sealed class BundleClusterTests(SdkFeed feed)
{
    [Fact]
    public void Publish_BundleCluster_writes_the_bundle_sealer_bundle_writes_and_it_verifies_and_inspects()
    {
        string dir = feed.NewProjectDir("shop"), cache = feed.NewProjectDir("cache");
        Directory.CreateDirectory(Path.Combine(dir, "apps", "web"));
        File.WriteAllText(Path.Combine(dir, "apps", "web", "deploy.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: docker.io/library/nginx:1.27\n");
        const string template = "apiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: shop\nspec:\n  hosts:\n    - ips: [ ${MASTERS} ]\n      roles: [master]\n";
        File.WriteAllText(Path.Combine(dir, "Clusterfile.template"), template);
        File.WriteAllBytes(Path.Combine(dir, "data.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 << 20)); // for the split below
        new KubeProject().Property("ClusterImageTag", "1.4.0").Item("KubeManifest", "apps/web/deploy.yaml").Item("SealerFile", "data.bin", ("Destination", "files/"))
            .Mirrors(feed.Env).Write(dir, "shop.kubeproj");

        var r = feed.Dotnet(dir, "publish -c Release -t:BundleCluster", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        string bin = Path.Combine(dir, "bin", "Release");
        string run = Path.Combine(bin, "shop-1.4.0-linux-amd64.run");
        Assert.True(File.Exists(run), r.Output);

        // the bundle's own words: verify re-hashes every part, inspect reads the image in place, clusterfile is the template
        var verify = SealerCli.RunExecutable(run, ["verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
        var inspect = SealerCli.RunExecutable(run, ["inspect"]);
        Assert.True(inspect.ExitCode == 0, inspect.Output);
        Assert.Contains("shop:1.4.0", inspect.StdOut, StringComparison.Ordinal);
        Assert.Contains("docker.io/library/nginx:1.27", inspect.StdOut, StringComparison.Ordinal);
        Assert.Equal(template, SealerCli.RunExecutable(run, ["clusterfile"]).StdOut);

        // the same file as `sealer bundle` of the same archive with the same template (the package carries that sealer)
        var bundle = SiteBundle.Open(run);
        Assert.Equal("linux/amd64", bundle.Manifest.SealerPlatform);
        string other = Path.Combine(bin, "by-cli.run");
        var cli = SealerCli.RunExecutable(SealerCli.Aot(), ["bundle", Path.Combine(bin, "shop.tar"), "-o", other, "--clusterfile", Path.Combine(dir, "Clusterfile.template")]);
        Assert.True(cli.ExitCode == 0, cli.Output);
        Assert.True(File.ReadAllBytes(run).AsSpan().SequenceEqual(File.ReadAllBytes(other)), "BundleCluster and sealer bundle wrote different files");

        // SealerBundleSplitSize: no file over it, the parts beside the bundle, the archive read across them
        long split = bundle.Manifest.Sealer.Length + (1 << 20);
        string splitRun = Path.Combine(bin, "split", "shop.run");
        r = feed.Dotnet(dir, $"publish -c Release -t:BundleCluster -p:SealerBundleSplitSize={split} -p:SealerBundleOutput={splitRun}", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("split in 2 files of at most", r.Output, StringComparison.Ordinal);
        var splitFiles = Directory.GetFiles(Path.GetDirectoryName(splitRun)!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["shop.run", "shop.run.part2-of-2"], splitFiles.Select(Path.GetFileName));
        Assert.All(splitFiles, f => Assert.True(new FileInfo(f).Length <= split, $"{f}: {new FileInfo(f).Length} > {split}"));
        var splitBundle = SiteBundle.Open(splitRun);
        Assert.Equal(bundle.Manifest.Archive.Sha256, splitBundle.Manifest.Archive.Sha256); // the same archive, in two files
        verify = SealerCli.RunExecutable(splitRun, ["verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Contains("docker.io/library/nginx:1.27", SealerCli.RunExecutable(splitRun, ["inspect"]).StdOut, StringComparison.Ordinal);
        r = feed.Dotnet(dir, "publish -c Release -t:BundleCluster -p:SealerBundleSplitSize=4X", cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("SEA1903", r.Output, StringComparison.Ordinal);
        Assert.Contains("SealerBundleSplitSize: '4X' is not a split size", r.Output, StringComparison.Ordinal);

        // a platform the package carries no sealer for (test.sh publishes linux-x64 only): SEA1920, naming the property to set
        string missing = File.Exists(Repo.Path("artifacts", "cli", "linux-arm64", "sealer")) ? $" -p:SealerCliPath={Path.Combine(dir, "no-such-sealer")}" : "";
        r = feed.Dotnet(dir, "publish -c Release -t:BundleCluster -p:SealerBundlePlatform=linux/arm64" + missing, cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("SEA1920", r.Output, StringComparison.Ordinal);
        Assert.Contains("SealerCliPath", r.Output, StringComparison.Ordinal);
    }
}
