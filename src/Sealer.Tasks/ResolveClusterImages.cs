using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Sealer.Core.Build;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class ResolveClusterImages : SealerTask
{
    protected override Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        string projectDir = TaskInputs.ProjectDirectory(ProjectDirectory);
        var inputs = new ClusterBuildInputs
        {
            ProjectDirectory = projectDir,
            ProjectFile = BuildEngine?.ProjectFileOfTaskNode ?? "",
            Charts = TaskInputs.Charts(Charts),
            Manifests = TaskInputs.Files(Manifests),
            Kustomizations = TaskInputs.Kustomizations(Kustomizations, projectDir),
            ImageLists = TaskInputs.Files(ImageLists),
            Images = TaskInputs.Images(Images),
            Excludes = Excludes.Select(e => e.ItemSpec).ToList(),
            ScanRootfs = ScanRootfs,
            Files = ScanRootfs ? TaskInputs.Files(Files) : [],
            Apps = ScanRootfs ? TaskInputs.Apps(Apps) : [],
            KubeVersion = string.IsNullOrWhiteSpace(KubeVersion) ? null : KubeVersion,
            ChartCacheDirectory = string.IsNullOrWhiteSpace(ChartCacheDirectory) ? null : ChartCacheDirectory,
        };
        var result = ClusterBuild.Resolve(inputs, cancellationToken);
        if (!string.IsNullOrEmpty(KustomizeInputsFile))
        {
            // Kustomizations reach outside their directory (../base): the next build's Inputs are the files this one read.
            Sealer.Core.Layout.AtomicFile.WriteAllText(KustomizeInputsFile, string.Concat(result.KustomizeInputs.Select(f => f + "\n")));
        }
        var images = result.Images.Images;
        bool changed = result.Images.WriteIfChanged(OutputFile);
        ResolvedImages = images.Select(i => (ITaskItem)new TaskItem(i.Reference)).ToArray();
        string charts = result.ChartsRendered + result.ChartsFromCache == 0 ? ""
            : $"; charts: {result.ChartsRendered} rendered, {result.ChartsFromCache} unchanged";
        Log.LogMessage(MessageImportance.High, $"Sealer: {images.Count} images found ({string.Join(", ", images.Select(i => i.Reference).Take(8))}{(images.Count > 8 ? ", ..." : "")}){charts}{(changed ? "" : "; the image list is unchanged")}");
        foreach (var i in images)
        {
            Log.LogMessage(MessageImportance.Low, $"Sealer: {i.Reference} <- {string.Join("; ", i.Sources.Select(s => s.Line > 0 ? $"{s.File}({s.Line}) {s.Detail}" : $"{s.File} {s.Detail}"))}");
        }
        return Task.CompletedTask;
    }
}
