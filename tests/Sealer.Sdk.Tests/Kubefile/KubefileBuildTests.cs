using System.Text.Json;
using Sealer.Core.ClusterImage;
using Sealer.Core.References;
using Sealer.Sdk.Tests.Sdk;

namespace Sealer.Sdk.Tests.Kubefile;

/// <summary>
/// Every corpus Kubefile whose sources are present is converted (<c>sealer convert kubefile</c>) and built twice: the
/// Kubefile with <c>sealer build</c>, the converted project with <c>dotnet build</c> (the packed SDK). Both must give the
/// same cluster image digest and the same images.lock.json. Remote FROMs and the app images come from
/// <see cref="StandInRegistry"/> on loopback.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class KubefileBuildTests(SdkFeed feed, StandInRegistry registry) : IClassFixture<StandInRegistry>
{
    public static TheoryData<string> Buildable() => new(KubefileCorpusTests.Expected.Where(e => e.Value is null).Select(e => e.Key));

    [Theory]
    [MemberData(nameof(Buildable))]
    public void A_published_Kubefile_and_its_converted_project_build_the_same_cluster_image(string rel)
    {
        string name = "corpus-" + rel.Replace('/', '-').ToLowerInvariant();
        string[] platform = rel.EndsWith("multi_arch", StringComparison.Ordinal) ? ["--platform", "linux/amd64,linux/arm64"] : [];
        var domains = registry.FromImages.Concat(registry.AppImages).Select(i => ImageReference.Parse(i).Domain).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        using var work = new TempDir();

        // sealer build of the Kubefile
        string kubefileDir = Copy(Path.Combine(KubefileCorpusTests.Root, rel), work.Sub("kubefile"));
        var build = SealerCli.Run(["build", "-t", name + ":1", "--cache-dir", work.Sub("cache-cli"), "--no-fallback", .. domains.SelectMany(d => new[] { "--mirror", $"{d}={registry.Url}" }), .. platform, kubefileDir]);
        Assert.True(build.ExitCode == 0, build.Output);
        string cliLayout = Path.Combine(kubefileDir, "bin", name);
        Assert.True(File.Exists(cliLayout + ".tar"), build.Output);

        // sealer convert + dotnet build of the project
        string projectDir = Copy(Path.Combine(KubefileCorpusTests.Root, rel), feed.NewProjectDir(name));
        var convert = SealerCli.Run(["convert", "kubefile", Path.Combine(projectDir, "Kubefile"), "-t", name + ":1", .. platform]);
        Assert.True(convert.ExitCode == 0, convert.Output);
        string project = Path.Combine(projectDir, name + ".kubeproj");
        Assert.True(File.Exists(project), convert.Output);
        var dotnet = feed.Dotnet(projectDir, $"build -c Release {name}.kubeproj", work.Sub("cache-sdk"), new Dictionary<string, string>
        {
            ["SealerRegistryMirrors"] = string.Join(';', domains.Select(d => $"{d}={registry.Url}")),
            ["SealerRegistryFallbackToSource"] = "false",
        });
        Assert.True(dotnet.ExitCode == 0, File.ReadAllText(project) + "\n" + dotnet.Output);
        string sdkLayout = Path.Combine(projectDir, "bin", "Release", name);

        Assert.Equal(TopDigest(sdkLayout), TopDigest(cliLayout));
        Assert.Contains(TopDigest(cliLayout), build.StdOut, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(projectDir, "images.lock.json")), File.ReadAllText(Path.Combine(kubefileDir, "images.lock.json")));
        // Both write the same SBOM beside the image (but for its creation time).
        static string Sbom(string layout) => string.Join('\n', File.ReadAllLines(layout + ".spdx.json").Where(l => !l.TrimStart().StartsWith("\"created\"", StringComparison.Ordinal)));
        Assert.Equal(Sbom(sdkLayout), Sbom(cliLayout));
        Assert.Contains(TopDigest(cliLayout)["sha256:".Length..], Sbom(cliLayout), StringComparison.Ordinal);
        // What the image carries is what the rootfs names (found as Sealer's lite build finds it), and the FROM is the stand-in.
        var image = ClusterImageReader.OpenLayout(cliLayout);
        var plan = KubefileCorpusTests.Plan(kubefileDir);
        Assert.Equal(Sealer.Core.Build.ClusterBuild.Resolve(Sealer.Core.Kubefile.KubefileBuild.Inputs(plan, name + ":1")).Images.Images.Select(i => i.Reference).Order(StringComparer.Ordinal),
            image.ImageReferences().Order(StringComparer.Ordinal));
    }

    private static string TopDigest(string layout)
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "index.json"))).RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;

    private static string Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return to;
    }
}
