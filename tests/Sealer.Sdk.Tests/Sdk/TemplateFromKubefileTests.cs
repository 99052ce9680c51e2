using System.Text.Json;
using System.Text.RegularExpressions;
using Sealer.Core.Diagnostics;
using Sealer.Core.References;
using Sealer.Sdk.Tests.Kubefile;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>
/// <c>dotnet new kubeproj --from-kubefile Kubefile</c>, run in a Kubefile's build context: the template writes a one-line
/// project naming the Kubefile and its post-action runs the SDK's ConvertKubefile target on it, so one command leaves the
/// project <c>sealer convert kubefile</c> writes, and nothing else in the context (a <c>COPY . dir</c> would carry it).
/// Built with the packed SDK against the loopback stand-in registry, it gives the cluster image <c>sealer build</c> gives.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed partial class TemplateFromKubefileTests(SdkFeed feed, StandInRegistry registry) : IClassFixture<StandInRegistry>
{
    /// <summary>A published Kubefile whose <c>COPY . manifests</c> carries the whole build context: any file the template
    /// left beside the project would change the digest.</summary>
    private const string Corpus = "applications/redis-operator";

    [Fact]
    public void Dotnet_new_kubeproj_from_a_Kubefile_is_the_converted_project_and_builds_the_image_sealer_build_builds()
    {
        string hive = TemplateTests.InstallTemplates(feed);
        string context = Copy(Path.Combine(KubefileCorpusTests.Root, Corpus), feed.NewProjectDir("redisop"));
        var before = Files(context);

        var made = feed.Dotnet(context, $"new kubeproj --from-kubefile Kubefile --allow-scripts yes --debug:custom-hive {hive}", hive);
        Assert.True(made.ExitCode == 0, made.Output);
        string project = Path.Combine(context, "redisop.kubeproj");
        Assert.True(File.Exists(project), made.Output);
        Assert.Equal(before.Append("redisop.kubeproj").Order(StringComparer.Ordinal), Files(context)); // no global.json, .gitignore, charts, obj/

        // the text sealer convert kubefile writes (it names its own version; the template the SDK it came with)
        using var cli = new TempDir();
        string cliContext = Copy(Path.Combine(KubefileCorpusTests.Root, Corpus), cli.Sub("redisop"));
        var convert = SealerCli.Run(["convert", "kubefile", Path.Combine(cliContext, "Kubefile"), "-o", Path.Combine(cliContext, "redisop.kubeproj")]);
        Assert.True(convert.ExitCode == 0, convert.Output);
        string version = TemplateTests.PackedVersion(feed);
        Assert.Equal(SdkAttribute().Replace(File.ReadAllText(Path.Combine(cliContext, "redisop.kubeproj")), $"Sdk=\"Sealer.Sdk/{version}\""), File.ReadAllText(project));

        // built: the same cluster image and lock as sealer build of the Kubefile
        var domains = registry.FromImages.Concat(registry.AppImages).Select(i => ImageReference.Parse(i).Domain).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var build = feed.Dotnet(context, "build -c Release", cli.Sub("cache-sdk"), new Dictionary<string, string>
        {
            ["SealerRegistryMirrors"] = string.Join(';', domains.Select(d => $"{d}={registry.Url}")),
            ["SealerRegistryFallbackToSource"] = "false",
        });
        Assert.True(build.ExitCode == 0, File.ReadAllText(project) + "\n" + build.Output);
        string kubefileDir = Copy(Path.Combine(KubefileCorpusTests.Root, Corpus), cli.Sub("kubefile"));
        var sealerBuild = SealerCli.Run(["build", "-t", "redisop:1.0.0", "--cache-dir", cli.Sub("cache-cli"), "--no-fallback", .. domains.SelectMany(d => new[] { "--mirror", $"{d}={registry.Url}" }), kubefileDir]);
        Assert.True(sealerBuild.ExitCode == 0, sealerBuild.Output);
        Assert.Equal(TopDigest(Path.Combine(kubefileDir, "bin", "redisop")), TopDigest(Path.Combine(context, "bin", "Release", "redisop")));
        Assert.Equal(File.ReadAllText(Path.Combine(kubefileDir, "images.lock.json")), File.ReadAllText(Path.Combine(context, "images.lock.json")));
    }

    [Fact]
    public void Without_allow_scripts_the_template_says_how_to_convert_and_the_project_converts_itself()
    {
        string hive = TemplateTests.InstallTemplates(feed);
        string context = Copy(Path.Combine(KubefileCorpusTests.Root, "applications/minio"), feed.NewProjectDir("minio"));
        var made = feed.Dotnet(context, $"new kubeproj --from-kubefile Kubefile --allow-scripts no --debug:custom-hive {hive}", hive);
        // the files are made; the refused post-action is dotnet new's exit code 104 with the manual instruction, naming the project
        Assert.True(made.ExitCode is 0 or 104, made.Output);
        Assert.Contains("created successfully", made.Output, StringComparison.Ordinal);
        Assert.Contains("dotnet msbuild minio.kubeproj -t:ConvertKubefile", made.Output, StringComparison.Ordinal);
        string project = Path.Combine(context, "minio.kubeproj");
        Assert.Contains("<SealerKubefile>Kubefile</SealerKubefile>", File.ReadAllText(project), StringComparison.Ordinal);

        var converted = feed.Dotnet(context, "msbuild minio.kubeproj -t:ConvertKubefile -nologo -nodeReuse:false", feed.NewProjectDir("cache"));
        Assert.True(converted.ExitCode == 0, converted.Output);
        string text = File.ReadAllText(project);
        Assert.Contains("<SealerBaseImage>registry.cn-qingdao.aliyuncs.com/sealer-apps/openebs-localpv:2.11.0</SealerBaseImage>", text, StringComparison.Ordinal);
        Assert.Contains("<SealerCmds>kubectl apply -f minio-manifest.yaml</SealerCmds>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SealerKubefile", text, StringComparison.Ordinal);

        // a project outside the Kubefile's build context: its paths would be wrong, so it is refused with the code
        string elsewhere = feed.NewProjectDir("elsewhere");
        File.WriteAllText(Path.Combine(elsewhere, "x.kubeproj"), $"<Project Sdk=\"Sealer.Sdk/{TemplateTests.PackedVersion(feed)}\" />\n");
        var refused = feed.Dotnet(elsewhere, $"msbuild x.kubeproj -t:ConvertKubefile -nologo -nodeReuse:false -p:SealerKubefile={Path.Combine(context, "Kubefile")}", feed.NewProjectDir("cache"));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(ErrorCodes.ConvertedProjectOutsideContext, refused.Output, StringComparison.Ordinal);
        Assert.Equal($"<Project Sdk=\"Sealer.Sdk/{TemplateTests.PackedVersion(feed)}\" />\n", File.ReadAllText(Path.Combine(elsewhere, "x.kubeproj")));
    }

    private static List<string> Files(string dir)
        => Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal).ToList();

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

    [GeneratedRegex(@"Sdk=""Sealer\.Sdk/[^""]+""")]
    private static partial Regex SdkAttribute();
}
