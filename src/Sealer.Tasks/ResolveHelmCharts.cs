using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Sealer.Core.References;
using Sealer.Core.Charts.Remote;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Images;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class ResolveHelmCharts : SealerTask
{
    internal static bool IsRemote(ITaskItem item)
        => item.ItemSpec.StartsWith("oci://", StringComparison.Ordinal) || !string.IsNullOrWhiteSpace(item.GetMetadata("Repository"));

    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        string projectFile = !string.IsNullOrEmpty(ProjectFile) ? ProjectFile : BuildEngine?.ProjectFileOfTaskNode ?? LockFile;
        string projectDir = !string.IsNullOrEmpty(ProjectDirectory) ? Path.GetFullPath(ProjectDirectory) : Path.GetDirectoryName(Path.GetFullPath(projectFile)) ?? Directory.GetCurrentDirectory();
        string Relative(string? file) => string.IsNullOrEmpty(file) ? "" : Path.IsPathRooted(file) ? Path.GetRelativePath(projectDir, file).Replace('\\', '/') : file;

        var repositories = HelmRepositoriesFile.Read(string.IsNullOrWhiteSpace(RepositoryConfig) ? null : RepositoryConfig);
        var requests = new List<ChartRequest>();
        var remoteOf = new Dictionary<ITaskItem, ChartRequest>();
        var plans = new Dictionary<ITaskItem, DependencyPlan>();
        foreach (var item in Charts)
        {
            var (file, line) = ItemLocation.Of(item);
            if (IsRemote(item))
            {
                string? ca = item.GetMetadata("CaFile") is { Length: > 0 } c ? Path.GetFullPath(Path.Combine(projectDir, c)) : null;
                bool insecure = string.Equals(item.GetMetadata("InsecureSkipTlsVerify"), "true", StringComparison.OrdinalIgnoreCase);
                var request = ChartRequest.FromItem(item.ItemSpec, item.GetMetadata("Repository"), item.GetMetadata("Version") is { Length: > 0 } v ? v.Trim() : null,
                    new ImageSource(file ?? projectFile, line, "HelmChart"), ca, insecure);
                remoteOf[item] = request;
                requests.Add(request);
                continue;
            }
            string full = item.GetMetadata("FullPath");
            if (!Directory.Exists(full) || !File.Exists(Path.Combine(full, "Chart.yaml"))) continue; // .tgz, or a missing path (ResolveClusterImages reports it)
            var plan = ChartDependencies.Plan(full, repositories, cancellationToken);
            if (plan.Missing.Count == 0) continue;
            plans[item] = plan;
            requests.AddRange(plan.Missing.Where(m => m.Request is not null).Select(m => m.Request!));
        }

        IReadOnlyList<ResolvedChart> resolved = [];
        if (requests.Count > 0)
        {
            using var registry = new RegistryClient(RegistrySettings.Create(Mirrors, FallbackToSource, UserAgent), CreateLogger());
            using var http = new HttpChartRepository(new ChartRepositoryCredentials(null, repositories), UserAgent, CreateLogger());
            var resolver = new ChartSourceResolver(CacheDirectory, registry, http, ChartsLock.Read(LockFile), Refresh, CreateLogger());
            resolved = await resolver.ResolveAsync(requests, cancellationToken).ConfigureAwait(false);
            NetworkRequests = (int)resolver.NetworkRequests;
            var newLock = new ChartsLock(resolved.Select(r => r.Locked with { Sources = r.Locked.Sources.Select(s => s with { File = Relative(s.File) }).ToList() }));
            if (newLock.WriteIfChanged(LockFile)) Log.LogMessage(MessageImportance.Normal, $"Sealer: wrote {LockFile}");
            Log.LogMessage(MessageImportance.High, $"Sealer: {resolved.Select(r => r.Locked.Key).Distinct().Count()} charts from repositories and registries ({NetworkRequests} network requests)");
        }
        var byRequest = new Dictionary<ChartRequest, ResolvedChart>(ReferenceEqualityComparer.Instance);
        foreach (var r in resolved) byRequest[r.Request] = r;

        var output = new List<ITaskItem>();
        foreach (var item in Charts)
        {
            if (remoteOf.TryGetValue(item, out var request))
            {
                var r = byRequest[request];
                var copy = new TaskItem(r.ArchivePath);
                item.CopyMetadataTo(copy);
                copy.SetMetadata("SealerInclude", item.ItemSpec);
                if (string.IsNullOrEmpty(item.GetMetadata("Destination"))) copy.SetMetadata("Destination", "charts/" + r.FileName);
                copy.SetMetadata("SealerDisplayNames", $"{r.ArchivePath}={r.Locked.Url}");
                copy.SetMetadata("SealerChartVersion", r.Locked.Version);
                output.Add(copy);
            }
            else if (plans.TryGetValue(item, out var plan))
            {
                var copy = new TaskItem(item);
                var deps = new List<string>();
                var names = new List<string>();
                foreach (var m in plan.Missing)
                {
                    if (m.Request is not null)
                    {
                        var r = byRequest[m.Request];
                        deps.Add($"{r.ArchivePath}|{r.FileName}");
                        names.Add($"{r.ArchivePath}={r.Locked.Url}");
                    }
                    else if (m.LocalPath is not null)
                    {
                        deps.Add($"{m.LocalPath}|{Path.GetFileName(m.LocalPath.TrimEnd('/', Path.DirectorySeparatorChar))}");
                    }
                }
                copy.SetMetadata("SealerDependencies", string.Join(";", deps));
                copy.SetMetadata("SealerDisplayNames", string.Join(";", names));
                output.Add(copy);
            }
            else
            {
                output.Add(new TaskItem(item));
            }
        }
        ResolvedCharts = output.ToArray();
    }

    /// <summary>Splits <c>SealerDependencies</c> into (path, name in charts/).</summary>
    internal static List<(string Path, string Name)> Dependencies(ITaskItem item)
        => ItemLocation.List(item, "SealerDependencies").Select(d =>
        {
            int bar = d.LastIndexOf('|');
            return bar < 0 ? (d, Path.GetFileName(d)) : (d[..bar], d[(bar + 1)..]);
        }).ToList();

    /// <summary>Splits <c>SealerDisplayNames</c> into a path → display map.</summary>
    internal static Dictionary<string, string> DisplayNames(ITaskItem item)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in ItemLocation.List(item, "SealerDisplayNames"))
        {
            int eq = p.IndexOf('=');
            if (eq > 0) map[p[..eq]] = p[(eq + 1)..];
        }
        return map;
    }
}
