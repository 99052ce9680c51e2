using System.Globalization;
using Microsoft.Build.Framework;
using Task = System.Threading.Tasks.Task;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Tasks;

public sealed partial class AssembleClusterImage : SealerTask
{
    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        var platforms = new List<Platform>();
        foreach (var p in Platforms.Where(p => !string.IsNullOrWhiteSpace(p)).Distinct(StringComparer.OrdinalIgnoreCase)) platforms.Add(Platform.Parse(p));
        if (platforms.Count == 0) platforms.Add(Platform.Parse("linux/amd64"));

        var pulled = string.IsNullOrEmpty(PulledFile) ? new PulledImagesFile() : PulledImagesFile.Read(PulledFile);
        var images = pulled.Images.Select(i => new ClusterImageContent(i.Reference, Digest.Parse(i.Digest), i.MediaType, FromBase: i.From is not null)).ToList();
        var cache = OciLayout.OpenOrCreate(CacheDirectory);
        BaseImage? baseImage = null;
        if (!FromSource.IsScratch(BaseImage) && pulled.BaseImage is { Layout: { } layoutDir } local)
        {
            // PullClusterImages resolved a local FROM already (an oci-archive: is loaded once, not on every assembly).
            var layout = OciLayout.Open(layoutDir);
            var digest = Digest.Parse(local.Digest);
            if (!layout.HasBlob(digest)) throw new SealerException(ErrorCodes.BaseImageNotFound, $"The base image {local.Reference} ({local.Digest}) is no longer in '{layoutDir}'. Rebuild (dotnet build --no-incremental).");
            baseImage = new BaseImage(local.Reference, layout, new Descriptor { MediaType = local.MediaType, Digest = local.Digest, Size = new FileInfo(layout.BlobPath(digest)).Length });
        }
        else if (!FromSource.IsScratch(BaseImage) && FromSource.IsLocal(BaseImage!, StoreDirectory))
        {
            string dir = string.IsNullOrEmpty(ProjectDirectory) ? Directory.GetCurrentDirectory() : Path.GetFullPath(ProjectDirectory);
            string project = !string.IsNullOrEmpty(ProjectFile) ? ProjectFile : BuildEngine?.ProjectFileOfTaskNode ?? "";
            baseImage = await FromSource.ResolveLocalAsync(BaseImage!, StoreDirectory, dir, project, cancellationToken).ConfigureAwait(false);
        }
        else if (!FromSource.IsScratch(BaseImage))
        {
            var b = pulled.BaseImage
                ?? throw new SealerException(ErrorCodes.ImageNotInCache, $"The base image {BaseImage} (SealerBaseImage) was not pulled. Rebuild (dotnet build --no-incremental).");
            var digest = Digest.Parse(b.Digest);
            if (!cache.HasBlob(digest)) throw new SealerException(ErrorCodes.ImageNotInCache, $"The base image {b.Reference} ({b.Digest}) is not in the image cache '{cache.Root}'. Rebuild (dotnet build --no-incremental) so it is pulled.");
            baseImage = new BaseImage(b.Reference, cache, new Descriptor { MediaType = b.MediaType, Digest = b.Digest, Size = new FileInfo(cache.BlobPath(digest)).Length });
        }

        var rootfs = new RootfsCollector();
        string projectDir = string.IsNullOrEmpty(ProjectDirectory) ? Directory.GetCurrentDirectory() : Path.GetFullPath(ProjectDirectory);
        foreach (var c in Charts)
        {
            var (file, line) = ItemLocation.Of(c);
            string chartPath = c.GetMetadata("FullPath");
            rootfs.AddChart(chartPath, c.GetMetadata("Destination"), file, line);
            // Unvendored dependencies go where helm dependency build puts them: the chart's charts/.
            string chartDest = c.GetMetadata("Destination") is { Length: > 0 } d ? d.TrimEnd('/') : "charts/" + Path.GetFileName(chartPath.TrimEnd('/', Path.DirectorySeparatorChar));
            foreach (var (depPath, depName) in ResolveHelmCharts.Dependencies(c)) rootfs.AddTree(depPath, $"{chartDest}/charts/{depName}", file, line);
        }
        foreach (var m in Manifests)
        {
            var (file, line) = ItemLocation.Of(m);
            string full = m.GetMetadata("FullPath");
            string dest = m.GetMetadata("Destination");
            if (string.IsNullOrEmpty(dest))
            {
                string rel = Path.GetRelativePath(projectDir, full).Replace('\\', '/');
                dest = rel.StartsWith("manifests/", StringComparison.Ordinal) ? rel
                    : "manifests/" + (m.GetMetadata("RecursiveDir") + m.GetMetadata("Filename") + m.GetMetadata("Extension")).Replace('\\', '/');
            }
            else if (dest.EndsWith('/'))
            {
                dest += m.GetMetadata("Filename") + m.GetMetadata("Extension");
            }
            rootfs.AddFile(full, dest, file, line);
        }
        foreach (var k in Kustomizations)
        {
            var (file, line) = ItemLocation.Of(k);
            string full = k.GetMetadata("FullPath").TrimEnd('/', Path.DirectorySeparatorChar);
            var rendered = KustomizationItems.Render(full, KubeVersion, file, line, cancellationToken);
            rootfs.AddContent(KustomizationItems.Destination(k, projectDir), System.Text.Encoding.UTF8.GetBytes(rendered.ToYaml()));
        }
        foreach (var f in Files)
        {
            var (file, line) = ItemLocation.Of(f);
            string full = f.GetMetadata("FullPath");
            string dest = f.GetMetadata("Destination");
            if (string.IsNullOrEmpty(dest) || dest is "." or "./") dest = "./";
            if (dest.EndsWith('/')) dest += (f.GetMetadata("RecursiveDir") + f.GetMetadata("Filename") + f.GetMetadata("Extension")).Replace('\\', '/');
            rootfs.AddTree(full, dest, file, line);
        }
        foreach (var a in Apps)
        {
            var (file, line) = ItemLocation.Of(a);
            var sources = ItemLocation.List(a, "Source").Select(s => Path.GetFullPath(Path.Combine(projectDir, s.StartsWith("local://", StringComparison.Ordinal) ? s["local://".Length..] : s))).ToList();
            rootfs.AddApp(a.ItemSpec, sources, a.GetMetadata("Type"), a.GetMetadata("Version") is { Length: > 0 } v ? v : null,
                ItemLocation.List(a, "Cmds"), ItemLocation.Pairs(a, "Env"), file, line);
        }
        if (!string.IsNullOrEmpty(LockFile) && File.Exists(LockFile)) rootfs.AddFile(LockFile, "images.lock.json");

        var spec = new ClusterImageSpec
        {
            RefName = RefName,
            RootfsFiles = rootfs.Entries,
            Images = images,
            ImageCache = cache,
            Platforms = platforms,
            Labels = Labels.GroupBy(l => l.ItemSpec, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().GetMetadata("Value"), StringComparer.Ordinal),
            Env = Env.Select(e => new KeyValuePair<string, string>(e.ItemSpec, e.GetMetadata("Value"))).ToList(),
            Apps = rootfs.Apps,
            Launch = Launch.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList(),
            Cmds = Cmds.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList(),
            ImageType = string.IsNullOrWhiteSpace(ImageType) ? null : ImageType,
            BaseImage = baseImage,
            SourceDateEpoch = long.TryParse(SourceDateEpoch, NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch) && epoch >= 0 ? epoch : 0,
            BuilderVersion = string.IsNullOrEmpty(SdkVersion) ? "0.1.0" : SdkVersion,
        };

        var progress = CreateProgress<AssemblyProgress>(p => p.Stage switch
        {
            "images" => $"Sealer: image layers {p.Item}",
            "archive" => $"Sealer: writing {p.Item}",
            _ => null,
        });
        var output = new ClusterImageOutput(OutputLayout, string.IsNullOrWhiteSpace(OutputArchive) ? null : OutputArchive, string.IsNullOrWhiteSpace(LayerMapFile) ? null : LayerMapFile);
        var result = await new ClusterImageBuilder(CreateLogger()).BuildAsync(spec, output, progress, cancellationToken).ConfigureAwait(false);
        ManifestDigest = result.Descriptor.Digest;
        MediaType = result.Descriptor.MediaType;
        Log.LogMessage(MessageImportance.High, $"{RefName} -> {result.LayoutPath} ({result.Descriptor.Digest}, {string.Join(", ", result.Manifests.Keys)}, {images.Count} images, {result.BlobsWritten} blobs written, {result.BlobsReused} reused)");
        if (result.ArchivePath is not null && result.Archive is { } arc)
        {
            string how = arc.BytesWritten == 0 ? "up to date" : $"{arc.BytesWritten} bytes written, {arc.BytesKept} kept{(arc.Recovered ? ", an interrupted update completed" : "")}";
            Log.LogMessage(MessageImportance.High, $"{RefName} -> {result.ArchivePath} ({arc.Length} bytes: {how})");
        }
    }
}
