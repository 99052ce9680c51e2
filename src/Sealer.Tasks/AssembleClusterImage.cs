using System.Globalization;
using Microsoft.Build.Framework;
using Task = System.Threading.Tasks.Task;
using Sealer.Core.Build;
using Sealer.Core.ClusterImage;
using Sealer.Core.IO;
using Sealer.Core.Oci;

namespace Sealer.Tasks;

public sealed partial class AssembleClusterImage : SealerTask
{
    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        var platforms = Platforms.Where(p => !string.IsNullOrWhiteSpace(p)).Select(Platform.Parse).ToList();
        var pulled = string.IsNullOrEmpty(PulledFile) ? new PulledImagesFile() : PulledImagesFile.Read(PulledFile);
        string projectDir = TaskInputs.ProjectDirectory(ProjectDirectory);
        var inputs = new ClusterBuildInputs
        {
            ProjectDirectory = projectDir,
            ProjectFile = !string.IsNullOrEmpty(ProjectFile) ? ProjectFile : BuildEngine?.ProjectFileOfTaskNode ?? "",
            RefName = RefName,
            Charts = TaskInputs.Charts(Charts),
            Manifests = TaskInputs.Files(Manifests),
            Kustomizations = TaskInputs.Kustomizations(Kustomizations, projectDir),
            KubeVersion = string.IsNullOrWhiteSpace(KubeVersion) ? null : KubeVersion,
            Files = TaskInputs.Files(Files),
            Apps = TaskInputs.Apps(Apps),
            Platforms = platforms,
            BaseImage = string.IsNullOrWhiteSpace(BaseImage) ? "scratch" : BaseImage,
            StoreDirectory = string.IsNullOrWhiteSpace(StoreDirectory) ? null : StoreDirectory,
            Labels = Labels.GroupBy(l => l.ItemSpec, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().GetMetadata("Value"), StringComparer.Ordinal),
            Env = Env.Select(e => new KeyValuePair<string, string>(e.ItemSpec, e.GetMetadata("Value"))).ToList(),
            Launch = Launch,
            Cmds = Cmds,
            ImageType = ImageType,
            SourceDateEpoch = long.TryParse(SourceDateEpoch, NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch) && epoch >= 0 ? epoch : 0,
            BuilderVersion = string.IsNullOrEmpty(SdkVersion) ? "0.1.0" : SdkVersion,
        };

        string? stage = null;
        var progress = CreateProgress<AssemblyProgress>((p, meter) =>
        {
            if (p.Stage != stage) meter.Reset(); // the archive's bytes are not the image layers'
            stage = p.Stage;
            return Line(p, meter);
        });
        static string? Line(AssemblyProgress p, TransferMeter meter) => p.Stage switch
        {
            "images" => $"Sealer: image layers {p.Item}, {meter.Describe(p.Bytes, p.BytesTotal)}",
            "archive" => $"Sealer: writing {p.Item}, {meter.Describe(p.Bytes, p.BytesTotal)}",
            _ => null,
        };
        var output = new ClusterImageOutput(OutputLayout, string.IsNullOrWhiteSpace(OutputArchive) ? null : OutputArchive, string.IsNullOrWhiteSpace(LayerMapFile) ? null : LayerMapFile);
        var result = await ClusterBuild.AssembleAsync(inputs, pulled, CacheDirectory, string.IsNullOrEmpty(LockFile) ? null : LockFile, output, CreateLogger(), progress, cancellationToken).ConfigureAwait(false);
        ManifestDigest = result.Descriptor.Digest;
        MediaType = result.Descriptor.MediaType;
        Log.LogMessage(MessageImportance.High, $"{RefName} -> {result.LayoutPath} ({result.Descriptor.Digest}, {string.Join(", ", result.Manifests.Keys)}, {pulled.Images.Count} images, {result.BlobsWritten} blobs written, {result.BlobsReused} reused)");
        if (result.ArchivePath is not null && result.Archive is { } arc)
        {
            string how = arc.BytesWritten == 0 ? "up to date" : $"{arc.BytesWritten} bytes written, {arc.BytesKept} kept{(arc.Recovered ? ", an interrupted update completed" : "")}";
            Log.LogMessage(MessageImportance.High, $"{RefName} -> {result.ArchivePath} ({arc.Length} bytes: {how})");
        }
    }
}
