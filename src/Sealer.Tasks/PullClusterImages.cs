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
        ImageReference? baseRef = null;
        if (!FromSource.IsScratch(BaseImage) && !FromSource.IsLocal(BaseImage!, StoreDirectory))
        {
            baseRef = ImageReference.Parse(BaseImage!);
            string project = BuildEngine?.ProjectFileOfTaskNode ?? LockFile;
            int line = File.Exists(project) ? Array.FindIndex(File.ReadAllLines(project), l => l.Contains("SealerBaseImage", StringComparison.Ordinal)) + 1 : 0;
            requests.Add(new ImageRequest(baseRef, [new ImageSource(Path.GetFileName(project), line, "SealerBaseImage")]));
        }

        var registry = new RegistryOptions();
        foreach (var m in Mirrors)
        {
            // <SealerRegistryMirror Include="docker.io" Mirrors="http://a;http://b" />, or "docker.io=http://a,http://b" (from the SealerRegistryMirrors property).
            string domain = m.ItemSpec;
            var endpoints = ItemLocation.List(m, "Mirrors").ToList();
            int eq = domain.IndexOf('=');
            if (eq > 0)
            {
                endpoints.AddRange(domain[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                domain = domain[..eq].Trim();
            }
            if (endpoints.Count == 0)
            {
                var (file, line) = ItemLocation.Of(m);
                throw new SealerException(ErrorCodes.InvalidProjectValue, $"SealerRegistryMirror '{m.ItemSpec}' names no mirror: add Mirrors=\"http://host:port\" (several separated by ';').", file, line);
            }
            foreach (var endpoint in endpoints)
            {
                registry.AddMirror(domain, endpoint);
                if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || string.Equals(m.GetMetadata("Insecure"), "true", StringComparison.OrdinalIgnoreCase)))
                {
                    registry.AddInsecureRegistry(uri.Authority);
                }
            }
            if (string.Equals(m.GetMetadata("FallbackToSource"), "false", StringComparison.OrdinalIgnoreCase)) registry.FallbackToSource = false;
        }
        if (!FallbackToSource) registry.FallbackToSource = false;
        if (!string.IsNullOrWhiteSpace(UserAgent)) registry.UserAgent = UserAgent.Trim();

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
        PullResult result;
        try
        {
            result = await new ImagePuller(cache, logger: CreateLogger()).PullAsync(requests, options, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (ImagePullException ex)
        {
            foreach (var e in ex.Errors) LogSealerError(e);
            return;
        }
        NetworkRequests = (int)result.NetworkRequests;
        BytesDownloaded = result.BytesDownloaded;
        string? before = File.Exists(LockFile) ? File.ReadAllText(LockFile) : null;
        if (before != result.Lock.ToJson()) result.Lock.Write(LockFile);

        var byRef = result.Lock.Images.ToDictionary(i => i.Reference, StringComparer.Ordinal);
        PulledImageEntry Entry(string reference)
        {
            if (!byRef.TryGetValue(reference, out var locked))
            {
                throw new SealerException(ErrorCodes.ImageNotInCache, $"{reference} is missing from {LockFile} after the pull.");
            }
            return new PulledImageEntry { Reference = reference, Digest = locked.Digest, MediaType = locked.MediaType };
        }
        new PulledImagesFile
        {
            Images = resolved.Images.Select(i => Entry(i.Reference)).ToList(),
            BaseImage = baseRef is null ? null : Entry(baseRef.ToString()),
        }.Write(OutputFile);
        Log.LogMessage(MessageImportance.High, $"Sealer: {requests.Count} images in the cache ({result.NetworkRequests} registry requests, {result.BlobsDownloaded} blobs / {result.BytesDownloaded} bytes downloaded, {result.BlobsCached} blobs cached)");
    }
}
