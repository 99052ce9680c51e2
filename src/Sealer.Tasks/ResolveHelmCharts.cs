using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Sealer.Core.Build;
using Sealer.Core.Charts.Remote;
using Sealer.Core.Layout;
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
            if (string.IsNullOrEmpty(copy.GetMetadata(DefiningProjectMetadata))) copy.SetMetadata(DefiningProjectMetadata, item.GetMetadata("DefiningProjectFullPath"));
            output.Add(copy);
        }
        ResolvedCharts = output.ToArray();
        if (!string.IsNullOrEmpty(ItemsFile)) WriteItemsFile(ItemsFile, ResolvedCharts, outcome.Charts, settings.RepositoryConfig);
    }

    /// <summary>The metadata that names the project a HelmChart came from (<see cref="ItemLocation"/>): items read back from
    /// <see cref="ItemsFile"/> are defined there, not in the project.</summary>
    internal const string DefiningProjectMetadata = "SealerDefiningProject";

    private static readonly System.Xml.Linq.XNamespace Msb = "http://schemas.microsoft.com/developer/msbuild/2003";

    private static void WriteItemsFile(string path, ITaskItem[] charts, IReadOnlyList<Sealer.Core.Build.ChartItem> resolved, string? repositoryConfig)
    {
        var group = new System.Xml.Linq.XElement(Msb + "ItemGroup");
        foreach (ITaskItem2 c in charts.Cast<ITaskItem2>())
        {
            var item = new System.Xml.Linq.XElement(Msb + "_SealerCachedHelmChart", new System.Xml.Linq.XAttribute("Include", c.EvaluatedIncludeEscaped));
            var metadata = c.CloneCustomMetadataEscaped();
            foreach (var name in metadata.Keys.Cast<string>().Order(StringComparer.Ordinal))
            {
                item.Add(new System.Xml.Linq.XElement(Msb + name, (string?)metadata[name] ?? ""));
            }
            group.Add(item);
        }
        // What the result was made from besides the charts' own files (the target globs those): a deleted or newer one
        // runs the task again.
        var inputs = new SortedSet<string>(StringComparer.Ordinal);
        bool fetched = false;
        foreach (var chart in resolved)
        {
            if (chart.IsRemote || chart.ResolvedVersion is not null) { inputs.Add(chart.FullPath); fetched = true; }
            foreach (var (depPath, _) in chart.Dependencies)
            {
                fetched = true;
                string chartYaml = Path.Combine(depPath, "Chart.yaml");
                inputs.Add(Directory.Exists(depPath) ? chartYaml : depPath);
            }
        }
        string repositories = string.IsNullOrWhiteSpace(repositoryConfig) ? HelmRepositoriesFile.DefaultPath() : repositoryConfig;
        if (fetched && File.Exists(repositories)) inputs.Add(Path.GetFullPath(repositories));
        foreach (var file in inputs) group.Add(new System.Xml.Linq.XElement(Msb + "_SealerCachedChartsInput", new System.Xml.Linq.XAttribute("Include", Escape(file))));
        var doc = new System.Xml.Linq.XDocument(new System.Xml.Linq.XElement(Msb + "Project",
            new System.Xml.Linq.XComment(" Written by Sealer.Sdk's ResolveHelmCharts for the next build (imported by Sdk.targets). Do not edit. "), group));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, doc.ToString() + "\n");
    }

    /// <summary>MSBuild's escaping (%XX) of the characters an item Include would otherwise expand or split on.</summary>
    internal static string Escape(string text)
    {
        var sb = new System.Text.StringBuilder(text.Length);
        foreach (char ch in text)
        {
            if (ch is '%' or '*' or '?' or '@' or '$' or '(' or ')' or ';' or '\'') sb.Append('%').Append(((int)ch).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else sb.Append(ch);
        }
        return sb.ToString();
    }
}
