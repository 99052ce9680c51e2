using Sealer.Core.Charts;
using Sealer.Core.References;
using Sealer.Core.Charts.Remote;
using Sealer.Core.Discovery;
using Sealer.Core.Distribution;
using Sealer.Core.Images;

namespace Sealer.Cli.Commands;

/// <summary>find-images: charts from registries and repositories, and unvendored dependencies of local charts, fetched into the cache.</summary>
internal static class RemoteCharts
{
    public static async Task AddAsync(DiscoveryInput input, IReadOnlyList<string> remote, string? repoUrl, string? version, string? caFile, bool insecure,
        ChartInputs charts, CancellationToken cancellationToken)
    {
        var repositories = HelmRepositoriesFile.Read();
        var requests = new List<ChartRequest>();
        foreach (var r in remote)
        {
            requests.Add(ChartRequest.FromItem(r, r.StartsWith("oci://", StringComparison.Ordinal) ? null : repoUrl, version, new ImageSource(r, 0, "chart"),
                caFile is null ? null : Path.GetFullPath(caFile), insecure));
        }
        var plans = new Dictionary<ChartInput, DependencyPlan>();
        foreach (var chart in input.Charts.Where(c => Directory.Exists(c.Path)))
        {
            var plan = ChartDependencies.Plan(chart.Path, repositories, cancellationToken);
            if (plan.Missing.Count == 0) continue;
            plans[chart] = plan;
            requests.AddRange(plan.Missing.Where(m => m.Request is not null).Select(m => m.Request!));
        }
        if (requests.Count == 0) return;

        string cache = Environment.GetEnvironmentVariable("SEALER_CACHE_DIR") is { Length: > 0 } c ? c
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer", "cache");
        using var registry = new RegistryClient(new RegistryOptions().AddFromEnvironment());
        using var http = new HttpChartRepository(new ChartRepositoryCredentials(null, repositories));
        var resolver = new ChartSourceResolver(cache, registry, http, ChartsLock.Empty, refresh: false);
        var resolved = await resolver.ResolveAsync(requests, cancellationToken).ConfigureAwait(false);
        var byRequest = new Dictionary<ChartRequest, ResolvedChart>(ReferenceEqualityComparer.Instance);
        foreach (var r in resolved) byRequest[r.Request] = r;
        foreach (var request in requests.Take(remote.Count))
        {
            var r = byRequest[request];
            input.Charts.Add(charts.For(r.ArchivePath, new(StringComparer.Ordinal) { [r.ArchivePath] = r.Locked.Url }));
        }
        foreach (var (chart, plan) in plans)
        {
            var deps = plan.Missing.Select(m => m.Request is not null ? (byRequest[m.Request]).ArchivePath : m.LocalPath!).ToList();
            int i = input.Charts.IndexOf(chart);
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var m in plan.Missing.Where(m => m.Request is not null)) names[(byRequest[m.Request!]).ArchivePath] = (byRequest[m.Request!]).Locked.Url;
            input.Charts[i] = charts.For(chart.Path, names, deps);
        }
    }
}
