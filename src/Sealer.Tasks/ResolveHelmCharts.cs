using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Sealer.Core.Build;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class ResolveHelmCharts : SealerTask
{
    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        string projectFile = !string.IsNullOrEmpty(ProjectFile) ? ProjectFile : BuildEngine?.ProjectFileOfTaskNode ?? LockFile;
        string projectDir = !string.IsNullOrEmpty(ProjectDirectory) ? Path.GetFullPath(ProjectDirectory) : Path.GetDirectoryName(Path.GetFullPath(projectFile)) ?? Directory.GetCurrentDirectory();
        var settings = new ClusterBuild.ChartSettings(CacheDirectory, LockFile)
        {
            Registry = TaskInputs.Registry(Mirrors, FallbackToSource, UserAgent),
            Refresh = Refresh,
            UserAgent = UserAgent,
            RepositoryConfig = string.IsNullOrWhiteSpace(RepositoryConfig) ? null : RepositoryConfig,
        };
        var charts = TaskInputs.Charts(Charts);
        var outcome = await ClusterBuild.ResolveChartsAsync(charts, projectDir, projectFile, settings, CreateLogger(), cancellationToken).ConfigureAwait(false);
        NetworkRequests = (int)outcome.NetworkRequests;
        if (outcome.LockWritten) Log.LogMessage(MessageImportance.Normal, $"Sealer: wrote {LockFile}");
        if (outcome.RemoteCharts > 0 || outcome.NetworkRequests > 0)
        {
            Log.LogMessage(MessageImportance.High, $"Sealer: {outcome.RemoteCharts} charts from repositories and registries ({NetworkRequests} network requests)");
        }

        var output = new List<ITaskItem>();
        for (int i = 0; i < Charts.Length; i++)
        {
            var item = Charts[i];
            var before = charts[i];
            var after = outcome.Charts[i];
            var copy = new TaskItem(ReferenceEquals(before, after) || after.FullPath == before.FullPath ? item.ItemSpec : after.FullPath);
            item.CopyMetadataTo(copy);
            if (before.IsRemote)
            {
                copy.SetMetadata("SealerInclude", item.ItemSpec);
                copy.SetMetadata("Destination", after.Destination);
                copy.SetMetadata("SealerChartVersion", after.ResolvedVersion ?? "");
            }
            if (after.Dependencies.Count > 0) copy.SetMetadata("SealerDependencies", string.Join(";", after.Dependencies.Select(d => $"{d.Path}|{d.Name}")));
            if (after.DisplayNames.Count > 0) copy.SetMetadata("SealerDisplayNames", string.Join(";", after.DisplayNames.Select(kv => $"{kv.Key}={kv.Value}")));
            output.Add(copy);
        }
        ResolvedCharts = output.ToArray();
    }
}
