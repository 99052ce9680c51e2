using Microsoft.Build.Framework;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Images;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class PullClusterImages : SealerTask
{
    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        var resolved = ResolvedImagesFile.Read(ImagesFile);
        var requests = resolved.Images
            .Select(i => new ImageRequest(ImageReference.Parse(i.Reference), i.Sources.Select(s => new ImageSource(s.File, s.Line, s.Detail)).ToList()))
            .ToList();
        var registry = RegistrySettings.Create(Mirrors, FallbackToSource, UserAgent);

        var platforms = Platforms.Where(p => !string.IsNullOrWhiteSpace(p)).Select(Platform.Parse).ToList();
        if (platforms.Count == 0) platforms.Add(Platform.Parse("linux/amd64"));
        var existing = ImagesLock.Read(LockFile);
        var options = new PullOptions
        {
            Platforms = platforms,
            Lock = existing,
            Refresh = Refresh,
            MaxConcurrentBlobs = Math.Max(1, MaxConcurrentBlobs),
            Registry = registry,
        };
        var cache = OciLayout.OpenOrCreate(CacheDirectory);
        var progress = CreateProgress<PullProgress>(p => p.BlobsTotal == 0 ? null
            : $"Sealer: pulling images {p.ImagesDone}/{p.ImagesTotal}, blobs {p.BlobsDone}/{p.BlobsTotal}, {p.BytesDone / 1048576.0:F1}/{p.BytesTotal / 1048576.0:F1} MiB{(p.CurrentImage is null ? "" : " (" + p.CurrentImage + ")")}");
        string projectFile = !string.IsNullOrEmpty(ProjectFile) ? ProjectFile : BuildEngine?.ProjectFileOfTaskNode ?? LockFile;
        string projectDir = !string.IsNullOrEmpty(ProjectDirectory) ? Path.GetFullPath(ProjectDirectory) : Path.GetDirectoryName(Path.GetFullPath(projectFile)) ?? Directory.GetCurrentDirectory();
        using var client = new RegistryClient(registry, CreateLogger());
        var puller = new ImagePuller(cache, client, CreateLogger());
        var locked = new List<LockedImage>();
        long networkRequests = 0, bytesDownloaded = 0, blobsDownloaded = 0, blobsCached = 0, blobsLocal = 0;
        async Task<PullResult?> Pull(IReadOnlyList<ImageRequest> what)
        {
            if (what.Count == 0) return null;
            try
            {
                var r = await puller.PullAsync(what, options, progress, cancellationToken).ConfigureAwait(false);
                locked.AddRange(r.Lock.Images);
                networkRequests += r.NetworkRequests;
                bytesDownloaded += r.BytesDownloaded;
                blobsDownloaded += r.BlobsDownloaded;
                blobsCached += r.BlobsCached;
                blobsLocal += r.BlobsLocal;
                return r;
            }
            catch (ImagePullException ex)
            {
                foreach (var e in ex.Errors) LogSealerError(e);
                return null;
            }
        }

        // 1. The base first: what it carries is not pulled again.
        BaseImage? baseImage = null;
        PulledImageEntry? baseEntry = null;
        if (!FromSource.IsScratch(BaseImage) && !FromSource.IsLocal(BaseImage!, StoreDirectory))
        {
            var baseRef = ImageReference.Parse(BaseImage!);
            var (file, line) = FromSource.Line(projectFile);
            var r = await Pull([new ImageRequest(baseRef, [new ImageSource(Path.GetFileName(file), line, "SealerBaseImage")])]).ConfigureAwait(false);
            if (r is null) return;
            var d = r.Images[baseRef.ToString()];
            baseImage = new BaseImage(baseRef.ToString(), cache, d);
            baseEntry = new PulledImageEntry { Reference = baseRef.ToString(), Digest = d.Digest, MediaType = d.MediaType };
        }
        else if (!FromSource.IsScratch(BaseImage))
        {
            baseImage = await FromSource.ResolveLocalAsync(BaseImage!, StoreDirectory, projectDir, projectFile, cancellationToken).ConfigureAwait(false);
            if (baseImage is not null)
            {
                baseEntry = new PulledImageEntry { Reference = baseImage.Reference, Digest = baseImage.Descriptor.Digest, MediaType = baseImage.Descriptor.MediaType, Layout = baseImage.Layout.Root };
            }
        }

        // 2. App images the base carries come from it: same full ref, and the digest the lock pins unless refreshing. A lock
        //    entry that itself came from a base ("from") is the base's pin, not the project's: it follows the base.
        var carried = baseImage is null ? new Dictionary<string, CarriedImage>() : BaseImageContent.CarriedImages(baseImage, platforms);
        var fromBase = new List<LockedImage>();
        var toPull = new List<ImageRequest>();
        foreach (var request in requests)
        {
            string name = request.Reference.ToString();
            var previous = existing.Find(name);
            string? pinned = request.Reference.Digest ?? (Refresh || previous?.From is not null ? null : previous?.Digest);
            if (carried.TryGetValue(name, out var c) && (pinned is null || pinned == c.Top.Digest))
            {
                fromBase.Add(new LockedImage(name, c.Top.Digest, c.Top.MediaType, c.Platforms, request.Sources, From: baseImage!.Reference));
            }
            else
            {
                toPull.Add(request);
            }
        }

        // 3. The rest from the registries; blobs they share with images the base carries are read out of the base's layers.
        if (baseImage is not null) options.LocalBlobs = BaseImageContent.BlobSource(baseImage, platforms);
        if (await Pull(toPull).ConfigureAwait(false) is null && toPull.Count > 0) return;

        var lockFile = new ImagesLock(locked.Concat(fromBase).GroupBy(l => l.Reference, StringComparer.Ordinal).Select(g => g.First()));
        NetworkRequests = (int)networkRequests;
        BytesDownloaded = bytesDownloaded;
        string? before = File.Exists(LockFile) ? File.ReadAllText(LockFile) : null;
        if (before != lockFile.ToJson()) lockFile.Write(LockFile);

        var byRef = lockFile.Images.ToDictionary(i => i.Reference, StringComparer.Ordinal);
        PulledImageEntry Entry(string reference)
        {
            if (!byRef.TryGetValue(reference, out var l))
            {
                throw new SealerException(ErrorCodes.ImageNotInCache, $"{reference} is missing from {LockFile} after the pull.");
            }
            return new PulledImageEntry { Reference = reference, Digest = l.Digest, MediaType = l.MediaType, From = l.From };
        }
        new PulledImagesFile
        {
            Images = resolved.Images.Select(i => Entry(i.Reference)).ToList(),
            BaseImage = baseEntry,
        }.Write(OutputFile);
        string fromBaseNote = fromBase.Count == 0 ? "" : $", {fromBase.Count} carried by the base image";
        Log.LogMessage(MessageImportance.High, $"Sealer: {requests.Count} images ({requests.Count - fromBase.Count} in the cache{fromBaseNote}; {networkRequests} registry requests, {blobsDownloaded} blobs / {bytesDownloaded} bytes downloaded, {blobsCached} blobs cached{(blobsLocal > 0 ? $", {blobsLocal} blobs from the base image" : "")})");
    }
}
