using Sealer.Core.Charts;
using Sealer.Core.Charts.Remote;
using Sealer.Core.Diagnostics;
using Sealer.Core.Discovery;
using Sealer.Core.Distribution;

namespace Sealer.Charts.Tests.Remote;

/// <summary>
/// Unvendored dependencies of real charts (corpus: prometheus, argo-cd, bitnami-redis — their vendored charts/ removed and
/// their dependency repositories pointed at the loopback repository / registry) resolved by Sealer and by real
/// <c>helm dependency update</c>/<c>build</c>: the same versions, the same archives, the same Chart.lock digest, and the
/// same images rendered.
/// </summary>
[Collection(ChartRepoCollection.Name)]
public sealed class DependencyDifferentialTests(ChartRepoServer repo)
{
    /// <summary>Copies a corpus chart without charts/ and Chart.lock, with its dependency repositories replaced.</summary>
    private static string Unvendored(string name, Func<string, string> rewrite)
    {
        string dest = Directory.CreateTempSubdirectory("sealer-deps-" + name + "-").FullName;
        string src = Path.Combine(HelmOracle.CorpusDir, name);
        foreach (var f in Directory.GetFiles(src, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(src, f);
            if (rel.StartsWith("charts" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || rel == "Chart.lock") continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dest, rel))!);
            File.Copy(f, Path.Combine(dest, rel));
        }
        string chartYaml = Path.Combine(dest, "Chart.yaml");
        File.WriteAllText(chartYaml, rewrite(File.ReadAllText(chartYaml)));
        return dest;
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target, overwrite: true);
        }
    }

    private static async Task<IReadOnlyList<ResolvedChart>> ResolveAsync(DependencyPlan plan, string cache, ChartsLock? chartsLock = null)
    {
        using var registry = new RegistryClient(new RegistryOptions());
        using var http = new HttpChartRepository(new ChartRepositoryCredentials(_ => null));
        var resolver = new ChartSourceResolver(cache, registry, http, chartsLock ?? ChartsLock.Empty, refresh: false);
        return await resolver.ResolveAsync(plan.Missing.Select(m => m.Request!).ToList());
    }

    [Theory]
    [InlineData("prometheus")]
    [InlineData("argo-cd")]
    public Task Dependencies_from_an_http_repository_resolve_to_what_helm_dependency_update_downloads_and_render_the_same_images(string name)
        => CompareWithHelmAsync(name);

    /// <summary>bitnami-redis depends on bitnami's common chart from an OCI registry.</summary>
    [RegistryFact]
    public Task Dependencies_from_an_oci_registry_resolve_to_what_helm_dependency_update_downloads_and_render_the_same_images()
        => CompareWithHelmAsync("bitnami-redis");

    private async Task CompareWithHelmAsync(string name)
    {
        string Rewrite(string yaml) => yaml
            .Replace("https://prometheus-community.github.io/helm-charts", repo.OpenUrl)
            .Replace("https://dandydeveloper.github.io/charts/", repo.OpenUrl)
            .Replace("oci://registry-1.docker.io/bitnamicharts", repo.OciNamespace ?? "oci://unused");
        string helmDir = Unvendored(name, Rewrite);
        string ourDir = Unvendored(name, Rewrite);
        string cache = Directory.CreateTempSubdirectory("sealer-deps-cache-").FullName;
        try
        {
            // helm: resolve the constraints, write Chart.lock, download into charts/.
            ChartRepoServer.Run(repo.Helm, "dependency", "update", helmDir, "--plain-http");
            var (lockDigest, _, helmLocked) = ChartDependencies.ReadLock(Path.Combine(helmDir, "Chart.lock"));

            // Sealer, without a Chart.lock: the constraints.
            var plan = ChartDependencies.Plan(ourDir, HelmRepositoriesFile.Read(Path.Combine(ourDir, "no-repositories.yaml")));
            Assert.Equal(helmLocked.Select(d => d.Name).Order(), plan.Missing.Select(m => m.Dependency.Name).Order());
            var ours = await ResolveAsync(plan, cache);
            foreach (var l in helmLocked)
            {
                var mine = Assert.Single(ours, r => r.Locked.Name == l.Name);
                Assert.Equal(l.Version, mine.Locked.Version);
                string helmArchive = Path.Combine(helmDir, "charts", $"{l.Name}-{l.Version}.tgz");
                Assert.Equal(File.ReadAllBytes(helmArchive), File.ReadAllBytes(mine.ArchivePath));
            }
            Assert.Equal(lockDigest, ChartDependencies.HashReq(ChartLoaderMetadata(ourDir), helmLocked));

            // Sealer, with helm's Chart.lock: the digest check passes and the locked versions are used.
            File.Copy(Path.Combine(helmDir, "Chart.lock"), Path.Combine(ourDir, "Chart.lock"));
            var locked = ChartDependencies.Plan(ourDir, HelmRepositoriesFile.Read(Path.Combine(ourDir, "no-repositories.yaml")));
            Assert.Equal(helmLocked.Select(d => (d.Name, d.Version)).Order(), locked.Missing.Select(m => (m.Dependency.Name, m.Request!.Version!)).Order());

            // Rendering: conditions and tags decide as in helm (images equal to helm template of the helm-built chart).
            var input = new DiscoveryInput
            {
                Charts = [new ChartInput { Path = ourDir, AdditionalDependencies = ours.Select(r => r.ArchivePath).ToList() }],
            };
            var found = ImageDiscovery.Discover(input).Images.Select(i => i.Reference).ToList();
            var helmOut = HelmOracle.Run(repo.Helm, ["template", "release-name", helmDir, "--namespace", "default"]);
            Assert.True(helmOut.ExitCode == 0, helmOut.StdErr);
            var helmImages = ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = [WriteTemp(helmOut.StdOut)] }).Images.Select(i => i.Reference).ToList();
            Assert.Equal(helmImages, found);
            Assert.NotEmpty(found);
        }
        finally
        {
            Directory.Delete(helmDir, true);
            Directory.Delete(ourDir, true);
            Directory.Delete(cache, true);
        }
    }

    private static List<Sealer.Core.Charts.ChartDependency> ChartLoaderMetadata(string dir)
        => Sealer.Core.Charts.ChartLoader.LoadDirectory(dir).Metadata.Dependencies;

    private static string WriteTemp(string text)
    {
        string f = Path.Combine(Path.GetTempPath(), $"helm-template-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(f, text);
        return f;
    }

    [Fact]
    public void A_chart_lock_out_of_sync_with_chart_yaml_fails_as_helm_dependency_build_does()
    {
        string Rewrite(string yaml) => yaml.Replace("https://prometheus-community.github.io/helm-charts", repo.OpenUrl);
        string dir = Unvendored("prometheus", Rewrite);
        try
        {
            ChartRepoServer.Run(repo.Helm, "dependency", "update", dir);
            Directory.Delete(Path.Combine(dir, "charts"), true);
            string chartYaml = Path.Combine(dir, "Chart.yaml");
            File.WriteAllText(chartYaml, File.ReadAllText(chartYaml).Replace("version: \"1.42.*\"", "version: \"1.43.*\""));

            var helm = HelmOracle.Run(repo.Helm, ["dependency", "build", dir, "--skip-refresh"]);
            Assert.NotEqual(0, helm.ExitCode);
            Assert.Contains("out of sync", helm.StdErr);

            var ex = Assert.Throws<SealerException>(() => ChartDependencies.Plan(dir, HelmRepositoriesFile.Read(Path.Combine(dir, "none.yaml"))));
            Assert.Equal(ErrorCodes.ChartDependencyLockOutOfSync, ex.Code);
            Assert.Equal(Path.Combine(dir, "Chart.lock"), ex.File);
            Assert.True(ex.Line > 1);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>The corpus' Chart.lock files were written by helm: our digest of their dependencies is theirs.</summary>
    [Theory]
    [InlineData("prometheus")]
    [InlineData("argo-cd")]
    [InlineData("bitnami-redis")]
    [InlineData("bitnami-nginx")]
    [InlineData("bitnami-postgresql")]
    public void The_chart_lock_digest_is_helms(string name)
    {
        string dir = Path.Combine(HelmOracle.CorpusDir, name);
        var (digest, _, locked) = ChartDependencies.ReadLock(Path.Combine(dir, "Chart.lock"));
        Assert.Equal(digest, ChartDependencies.HashReq(ChartLoaderMetadata(dir), locked));
    }

    [Fact]
    public void Vendored_charts_win_and_aliased_repositories_come_from_the_repositories_file()
    {
        // prometheus with its vendored charts/: nothing to fetch.
        Assert.Empty(ChartDependencies.Plan(Path.Combine(HelmOracle.CorpusDir, "prometheus"), HelmRepositoriesFile.Read("/nonexistent.yaml")).Missing);

        string dir = Unvendored("argo-cd", y => y.Replace("https://dandydeveloper.github.io/charts/", "\"@loopback\""));
        string repos = Path.Combine(dir, "repositories.yaml");
        try
        {
            var ex = Assert.Throws<SealerException>(() => ChartDependencies.Plan(dir, HelmRepositoriesFile.Read(repos)));
            Assert.Equal(ErrorCodes.ChartReferenceInvalid, ex.Code);
            Assert.Contains("@loopback", ex.Message);
            File.WriteAllText(repos, $"apiVersion: \"\"\nrepositories:\n- name: loopback\n  url: {repo.OpenUrl}\n");
            var plan = ChartDependencies.Plan(dir, HelmRepositoriesFile.Read(repos));
            Assert.Equal(repo.OpenUrl, Assert.Single(plan.Missing).Request!.Repository);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
