using Microsoft.Build.Framework;
using Sealer.Core.Artifacts;
using Sealer.Core.Build;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class PackClusterDelta : SealerTask
{
    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Source))
        {
            throw new SealerException(ErrorCodes.ImageNotInStore, $"The cluster image '{Source}' does not exist. Build the project first (dotnet build), or run -t:PackClusterDelta, which builds it.");
        }
        string projectDirectory = string.IsNullOrWhiteSpace(ProjectDirectory) ? Directory.GetCurrentDirectory() : ProjectDirectory;
        var options = FromSource.Options(StoreDirectory, projectDirectory);
        var resolved = await BaseImageResolver.ResolveAsync(From, options, cancellationToken).ConfigureAwait(false)
            ?? throw new SealerException(ErrorCodes.BaseImageNotFound, $"SealerDeltaFrom '{From}' names no image; give the cluster image the site has (e.g. shop:1.4.0).", BuildEngine?.ProjectFileOfTaskNode, 0);

        var layout = OciLayout.Open(Source);
        string name = ClusterImageStore.NormalizeName(RefName);
        var root = layout.ReadIndex().Manifests.FirstOrDefault(d => d.GetAnnotation(Annotations.RefName) is { } n && (n == RefName || n == name))
            ?? throw new SealerException(ErrorCodes.ImageNotInStore, $"The layout '{Source}' has no image named '{RefName}'. Rebuild the project.");

        string output = string.IsNullOrWhiteSpace(Output)
            ? Path.Combine(string.IsNullOrWhiteSpace(OutputDirectory) ? Path.GetDirectoryName(Path.GetFullPath(Source))! : OutputDirectory, DefaultFileName(resolved.Reference, name))
            : Path.GetFullPath(Output, projectDirectory);
        bool zstd = output.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) || output.EndsWith(".tzst", StringComparison.OrdinalIgnoreCase);
        Log.LogMessage(MessageImportance.High, $"Sealer: writing the delta of {name} over {resolved.Reference} ({resolved.Descriptor.Digest})");
        var result = await Sealer.Core.Artifacts.DeltaArchive.SaveAsync(new LayoutImage(resolved.Reference, resolved.Layout, resolved.Descriptor), new LayoutImage(name, layout, root), output,
            new ArchiveSaveOptions { Compression = zstd ? ArchiveCompression.Zstd : ArchiveCompression.None }, cancellationToken).ConfigureAwait(false);
        DeltaArchive = output;
        BaseDigest = result.Info.BaseDigest;
        BlobsCarried = result.BlobsCarried;
        BytesCarried = result.BytesCarried;
        Log.LogMessage(MessageImportance.High,
            $"Sealer: delta {output} ({new FileInfo(output).Length} bytes): {result.Manifests} manifests and {result.BlobsCarried} blobs ({result.BytesCarried} bytes) carried, {result.Info.BaseBlobs.Count} blobs ({result.Info.BaseBytes} bytes) left to {result.Info.BaseName}");
    }

    /// <summary><c>shop-1.4.0-to-1.5.0.tar</c>: the new image's last path segment, the base's tag (or short digest), the new tag.</summary>
    private static string DefaultFileName(string baseReference, string name)
    {
        static string Tag(string reference) => ImageReference.TryParse(reference, out var r, out _)
            ? r.Tag ?? r.Digest?[7..19] ?? "latest"
            : Path.GetFileName(reference.TrimEnd('/')).Replace(':', '_');
        var parsed = ImageReference.Parse(name);
        string repo = parsed.Repository.Split('/')[^1];
        return $"{repo}-{Tag(baseReference)}-to-{Tag(name)}.tar";
    }
}
