using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Sealer.Core.Charts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Discovery;
using Sealer.Core.References;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class ResolveClusterImages : SealerTask
{
    protected override Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        string projectDir = string.IsNullOrEmpty(ProjectDirectory) ? Directory.GetCurrentDirectory() : Path.GetFullPath(ProjectDirectory);
        // Sources are kept relative to the project, so images.lock.json (committed, and carried in the rootfs) is the same on every machine.
        string Relative(string file) => Path.IsPathRooted(file) ? Path.GetRelativePath(projectDir, file).Replace('\\', '/') : file;

        // ContainerImage items: checked here so an error names the item's line in the project.
        var explicitImages = new Dictionary<string, ImageSourceEntry>(StringComparer.Ordinal);
        foreach (var item in Images)
        {
            var (file, line) = ItemLocation.Of(item);
            var reference = ImageReference.Parse(item.ItemSpec, file, line);
            explicitImages.TryAdd(reference.ToString(), new ImageSourceEntry { File = Relative(file ?? ""), Line = line, Detail = "ContainerImage" });
        }

        var input = new DiscoveryInput
        {
            Charts = Charts.Select(c => new ChartInput
            {
                Path = c.GetMetadata("FullPath"),
                ValuesFiles = ItemLocation.List(c, "ValuesFiles").Select(v => Path.GetFullPath(Path.Combine(projectDir, v))).ToList(),
                SetValues = ItemLocation.List(c, "SetValues").ToList(),
                SetStringValues = ItemLocation.List(c, "SetStringValues").ToList(),
                ReleaseName = c.GetMetadata("ReleaseName") is { Length: > 0 } r ? r : null,
                Namespace = c.GetMetadata("Namespace") is { Length: > 0 } ns ? ns : null,
                AdditionalDependencies = ResolveHelmCharts.Dependencies(c).Select(d => d.Path).ToList(),
                DisplayNames = ResolveHelmCharts.DisplayNames(c),
            }).ToList(),
            ManifestFiles = Manifests.Select(m => m.GetMetadata("FullPath")).ToList(),
            Kustomizations = Kustomizations.Select(k => k.GetMetadata("FullPath").TrimEnd('/', Path.DirectorySeparatorChar)).ToList(),
            ImageListFiles = ImageLists.Select(l => l.GetMetadata("FullPath")).ToList(),
            ExtraImages = explicitImages.Keys.ToList(),
            ExcludeImages = Excludes.Select(e => e.ItemSpec).ToList(),
            KubeVersion = string.IsNullOrWhiteSpace(KubeVersion) ? null : KubeVersion,
        };
        foreach (var chart in Charts.Where(c => !File.Exists(c.GetMetadata("FullPath")) && !Directory.Exists(c.GetMetadata("FullPath"))))
        {
            var (file, line) = ItemLocation.Of(chart);
            throw new SealerException(ErrorCodes.InputFileMissing, $"HelmChart '{chart.ItemSpec}' does not exist: point Include at a chart directory or a .tgz.", file, line);
        }
        foreach (var list in ImageLists.Concat(Manifests).Where(i => !File.Exists(i.GetMetadata("FullPath"))))
        {
            var (file, line) = ItemLocation.Of(list);
            throw new SealerException(ErrorCodes.InputFileMissing, $"'{list.ItemSpec}' does not exist. Fix the item's Include, or remove it.", file, line);
        }

        foreach (var k in Kustomizations)
        {
            var (file, line) = ItemLocation.Of(k);
            KustomizationItems.Check(k, file, line);
        }

        var result = ImageDiscovery.Discover(input, cancellationToken);
        if (!string.IsNullOrEmpty(KustomizeInputsFile))
        {
            // Kustomizations reach outside their directory (../base): the next build's Inputs are the files this one read.
            var kustomizeInputs = Kustomizations.Length == 0 ? [] : result.InputFiles;
            Sealer.Core.Layout.AtomicFile.WriteAllText(KustomizeInputsFile, string.Concat(kustomizeInputs.Select(f => f + "\n")));
        }
        var images = result.Images.Select(i => new ResolvedImageEntry
        {
            Reference = i.Reference,
            Sources = i.Sources.Select(o => o.File == "(ExtraImages)" && explicitImages.TryGetValue(i.Reference, out var item)
                ? item
                : new ImageSourceEntry { File = Relative(o.File), Line = o.Line, Detail = o.Detail }).ToList(),
        }).ToList();
        new ResolvedImagesFile { Images = images }.Write(OutputFile);
        ResolvedImages = images.Select(i => (ITaskItem)new TaskItem(i.Reference)).ToArray();
        Log.LogMessage(MessageImportance.High, $"Sealer: {images.Count} images found ({string.Join(", ", images.Select(i => i.Reference).Take(8))}{(images.Count > 8 ? ", ..." : "")})");
        foreach (var i in images)
        {
            Log.LogMessage(MessageImportance.Low, $"Sealer: {i.Reference} <- {string.Join("; ", i.Sources.Select(s => s.Line > 0 ? $"{s.File}({s.Line}) {s.Detail}" : $"{s.File} {s.Detail}"))}");
        }
        return Task.CompletedTask;
    }
}
