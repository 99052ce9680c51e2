using Sealer.Core.References;
using Sealer.Core.Charts.Remote;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Images;

namespace Sealer.Charts.Tests.Remote;

/// <summary>Charts from a real HTTP repository (helm repo index + nginx, basic auth) and from a real registry (helm push).</summary>
[Collection(ChartRepoCollection.Name)]
public sealed class RemoteChartTests(ChartRepoServer repo) : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("sealer-chart-cache-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    private static readonly ImageSource Origin = new("app.kubeproj", 7, "HelmChart");

    private string AuthPrefix => ChartRepositoryCredentials.VariablePrefix(new Uri(repo.AuthUrl));

    private Func<string, string?> WithCredentials(string? password = ChartRepoServer.Password)
        => name => name == AuthPrefix + "_USERNAME" ? ChartRepoServer.User : name == AuthPrefix + "_PASSWORD" ? password : null;

    private (ChartSourceResolver Resolver, RegistryClient Registry, HttpChartRepository Http) Resolver(ChartsLock? chartsLock = null, bool refresh = false, Func<string, string?>? env = null)
    {
        var registry = new RegistryClient(new RegistryOptions());
        var http = new HttpChartRepository(new ChartRepositoryCredentials(env ?? (_ => null)));
        return (new ChartSourceResolver(_cache, registry, http, chartsLock ?? ChartsLock.Empty, refresh), registry, http);
    }

    private async Task<ResolvedChart> ResolveAsync(ChartRequest request, ChartsLock? chartsLock = null, bool refresh = false, Func<string, string?>? env = null)
    {
        var (resolver, registry, http) = Resolver(chartsLock, refresh, env);
        using (registry)
        using (http)
        {
            return Assert.Single(await resolver.ResolveAsync([request]));
        }
    }

    [Theory]
    [InlineData("1.x")]
    [InlineData("")]
    [InlineData("^1.0.0")]
    [InlineData(">=1.0.0 <2.0.0")]
    [InlineData("~1.0")]
    [InlineData("1.2.0-rc.1")]
    [InlineData(">=1.2.0-0")]
    [InlineData("2.0.0")]
    public async Task A_version_constraint_picks_what_helm_pull_picks_and_the_archive_is_the_repositorys_bytes(string constraint)
    {
        var r = await ResolveAsync(new ChartRequest("demo", repo.OpenUrl, constraint, Origin));

        string dest = Directory.CreateTempSubdirectory("helm-pull-").FullName;
        var args = new List<string> { "pull", "demo", "--repo", repo.OpenUrl, "-d", dest };
        if (constraint.Length > 0) args.AddRange(["--version", constraint]);
        ChartRepoServer.Run(repo.Helm, [.. args]);
        string pulled = Assert.Single(Directory.GetFiles(dest));
        Assert.Equal(Path.GetFileName(pulled), r.FileName);
        Assert.Equal(File.ReadAllBytes(pulled), File.ReadAllBytes(r.ArchivePath));
        Assert.Equal(repo.DigestOf(r.FileName), r.Locked.Digest);
        Assert.Equal(repo.OpenUrl + "/" + r.FileName, r.Locked.Url); // the index's relative URL, resolved against the repository
        Directory.Delete(dest, true);
    }

    [Fact]
    public async Task Basic_auth_comes_from_the_environment_and_absolute_urls_are_followed()
    {
        var r = await ResolveAsync(new ChartRequest("demo", repo.AuthUrl, "1.0.0", Origin), env: WithCredentials());
        Assert.Equal("1.0.0", r.Locked.Version);
        Assert.Equal(repo.DigestOf("demo-1.0.0.tgz"), r.Locked.Digest);
        Assert.Equal(repo.AuthUrl + "/demo-1.0.0.tgz", r.Locked.Url);
    }

    [Fact]
    public async Task A_repository_that_wants_credentials_names_the_variables_and_never_the_secret()
    {
        var ex = await Assert.ThrowsAsync<SealerException>(() => ResolveAsync(new ChartRequest("demo", repo.AuthUrl, "1.0.0", Origin)));
        Assert.Equal(ErrorCodes.ChartRepositoryError, ex.Code);
        Assert.Contains("401", ex.Message);
        Assert.Contains(AuthPrefix + "_USERNAME", ex.Message);
        Assert.Equal(("app.kubeproj", 7), (ex.File, ex.Line));

        ex = await Assert.ThrowsAsync<SealerException>(() => ResolveAsync(new ChartRequest("demo", repo.AuthUrl, "1.0.0", Origin), env: WithCredentials("wrong-password-xyz")));
        Assert.Equal(ErrorCodes.ChartRepositoryError, ex.Code);
        Assert.DoesNotContain("wrong-password-xyz", ex.ToString());
    }

    [Fact]
    public async Task An_unreachable_repository_is_named_without_its_secret()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        int port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        string url = $"http://127.0.0.1:{port}/charts";
        string prefix = ChartRepositoryCredentials.VariablePrefix(new Uri(url));
        var ex = await Assert.ThrowsAsync<SealerException>(() => ResolveAsync(new ChartRequest("demo", url, "1.x", Origin),
            env: n => n == prefix + "_USERNAME" ? "u" : n == prefix + "_PASSWORD" ? "very-secret-pw" : null));
        Assert.Equal(ErrorCodes.ChartRepositoryUnreachable, ex.Code);
        Assert.Contains(url, ex.Message);
        Assert.DoesNotContain("very-secret-pw", ex.ToString());
        Assert.Equal(7, ex.Line);
    }

    [Fact]
    public async Task An_unknown_chart_lists_the_nearest_names_and_an_unsatisfiable_constraint_the_nearest_versions()
    {
        var ex = await Assert.ThrowsAsync<SealerException>(() => ResolveAsync(new ChartRequest("demoo", repo.OpenUrl, "1.x", Origin)));
        Assert.Equal(ErrorCodes.ChartNameNotFound, ex.Code);
        Assert.Contains("nearest names: demo", ex.Message);

        ex = await Assert.ThrowsAsync<SealerException>(() => ResolveAsync(new ChartRequest("demo", repo.OpenUrl, "3.x", Origin)));
        Assert.Equal(ErrorCodes.ChartVersionNotFound, ex.Code);
        Assert.Contains("nearest versions: 2.0.0, 1.1.0", ex.Message);
        Assert.Equal(("app.kubeproj", 7), (ex.File, ex.Line));
    }

    [Fact]
    public async Task A_chart_whose_bytes_differ_from_the_index_digest_is_refused()
    {
        string tampered = Path.Combine(repo.Www, "tampered");
        Directory.CreateDirectory(tampered);
        File.Copy(Path.Combine(repo.Www, "open", "index.yaml"), Path.Combine(tampered, "index.yaml"), overwrite: true);
        File.Copy(Path.Combine(repo.Www, "open", "demo-1.1.0.tgz"), Path.Combine(tampered, "demo-1.0.0.tgz"), overwrite: true);
        var ex = await Assert.ThrowsAsync<SealerException>(() => ResolveAsync(new ChartRequest("demo", $"http://127.0.0.1:{repo.Port}/tampered", "1.0.0", Origin)));
        Assert.Equal(ErrorCodes.ChartDigestMismatch, ex.Code);
        Assert.Empty(Directory.GetFiles(Path.Combine(_cache, "charts", "blobs", "sha256"))); // nothing half-trusted in the cache
    }

    [Fact]
    public async Task A_locked_and_cached_chart_costs_no_request_and_a_cache_miss_fetches_only_the_locked_url()
    {
        var first = await ResolveAsync(new ChartRequest("demo", repo.OpenUrl, "1.x", Origin));
        var chartsLock = new ChartsLock([first.Locked]);

        int before = repo.Requests().Length;
        var (resolver, registry, http) = Resolver(chartsLock);
        var again = Assert.Single(await resolver.ResolveAsync([new ChartRequest("demo", repo.OpenUrl, "1.x", Origin)]));
        Assert.Equal(0, resolver.NetworkRequests);
        Assert.Equal(before, repo.Requests().Length); // nginx saw nothing
        Assert.Equal(first.Locked.Digest, again.Locked.Digest);
        registry.Dispose(); http.Dispose();

        Directory.Delete(Path.Combine(_cache, "charts"), recursive: true);
        before = repo.Requests().Length;
        (resolver, registry, http) = Resolver(chartsLock);
        await resolver.ResolveAsync([new ChartRequest("demo", repo.OpenUrl, "1.x", Origin)]);
        var lines = repo.Requests()[before..];
        Assert.Single(lines);
        Assert.Contains("GET /open/demo-1.1.0.tgz", lines[0]); // no index.yaml: the lock knows the URL
        registry.Dispose(); http.Dispose();
    }

    [Fact]
    public async Task A_re_published_chart_contradicting_the_lock_is_an_error_with_the_origin_unless_refreshing()
    {
        var first = await ResolveAsync(new ChartRequest("demo", repo.OpenUrl, "1.x", Origin));
        var forged = new ChartsLock([first.Locked with { Digest = repo.DigestOf("demo-2.0.0.tgz") }]);
        var ex = await Assert.ThrowsAsync<SealerException>(() => ResolveAsync(new ChartRequest("demo", repo.OpenUrl, "1.x", Origin), forged));
        Assert.Equal(ErrorCodes.ChartLockMismatch, ex.Code);
        Assert.Equal(("app.kubeproj", 7), (ex.File, ex.Line));
        Assert.Contains("SealerRefresh=true", ex.Message);

        var refreshed = await ResolveAsync(new ChartRequest("demo", repo.OpenUrl, "1.x", Origin), forged, refresh: true);
        Assert.Equal(first.Locked.Digest, refreshed.Locked.Digest);
    }

    [Fact]
    public async Task The_index_is_revalidated_with_its_etag()
    {
        await ResolveAsync(new ChartRequest("demo", repo.OpenUrl, "1.0.0", Origin));
        int before = repo.Requests().Length;
        await ResolveAsync(new ChartRequest("demo", repo.OpenUrl, "1.1.0", Origin));
        var index = repo.Requests()[before..].Where(l => l.Contains("GET /open/index.yaml", StringComparison.Ordinal)).ToList();
        Assert.Contains("\" 304 ", Assert.Single(index));
    }

    [RegistryFact]
    public async Task An_oci_chart_pushed_by_helm_resolves_by_tag_and_constraint_through_the_registry_client()
    {
        string chart = repo.OciNamespace + "/demo";
        var exact = await ResolveAsync(new ChartRequest("demo", chart, "1.0.0", Origin));
        Assert.Equal(repo.DigestOf("demo-1.0.0.tgz"), exact.Locked.Digest); // helm push stores the packaged chart as the layer
        var ranged = await ResolveAsync(new ChartRequest("demo", chart, "1.x", Origin));
        Assert.Equal("1.1.0", ranged.Locked.Version);
        Assert.Equal(chart + ":1.1.0", ranged.Locked.Url);
        Assert.Equal(File.ReadAllBytes(Path.Combine(repo.Www, "open", "demo-1.1.0.tgz")), File.ReadAllBytes(ranged.ArchivePath));

        var ex = await Assert.ThrowsAsync<SealerException>(() => ResolveAsync(new ChartRequest("demo", chart, "1.5.0", Origin)));
        Assert.Equal(ErrorCodes.ChartVersionNotFound, ex.Code);
        Assert.Contains("2.0.0", ex.Message);

        // Locked and cached: the registry sees no request (its access log is the proof).
        var env = TestEnvironment.Current;
        long mark = env.LogMark("quay.io");
        var (resolver, registry, http) = Resolver(new ChartsLock([ranged.Locked]));
        await resolver.ResolveAsync([new ChartRequest("demo", chart, "1.x", Origin)]);
        Assert.Equal(0, resolver.NetworkRequests);
        Assert.DoesNotContain(env.RequestsSince("quay.io", mark), l => l.Contains(repo.OciNamespace!["oci://".Length..].Split('/', 2)[1], StringComparison.Ordinal));
        registry.Dispose(); http.Dispose();
    }

    [RegistryFact]
    public async Task An_oci_artifact_that_is_not_a_helm_chart_is_refused()
    {
        var image = TestEnvironment.Current.Image("busybox");
        string registryAddress = TestEnvironment.Current.Registry(image.Registry).Address;
        var ex = await Assert.ThrowsAsync<SealerException>(() => ResolveAsync(new ChartRequest("busybox", $"oci://{registryAddress}/{image.Repository}", image.Tag, Origin)));
        Assert.True(ex.Code == ErrorCodes.NotAHelmChart, ex.ToString());
    }
}
