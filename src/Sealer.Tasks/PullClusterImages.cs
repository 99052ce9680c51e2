using Microsoft.Build.Framework;
using Sealer.Core.Build;
using Sealer.Core.ClusterImage;
using Sealer.Core.Images;
using Sealer.Core.Oci;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class PullClusterImages : SealerTask
{
    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        var platforms = Platforms.Where(p => !string.IsNullOrWhiteSpace(p)).Select(Platform.Parse).ToList();
        string projectFile = !string.IsNullOrEmpty(ProjectFile) ? ProjectFile : BuildEngine?.ProjectFileOfTaskNode ?? LockFile;
        string projectDir = !string.IsNullOrEmpty(ProjectDirectory) ? Path.GetFullPath(ProjectDirectory) : Path.GetDirectoryName(Path.GetFullPath(projectFile)) ?? Directory.GetCurrentDirectory();
        var inputs = new ClusterBuildInputs
        {
            ProjectDirectory = projectDir,
            ProjectFile = projectFile,
            Platforms = platforms,
            BaseImage = string.IsNullOrWhiteSpace(BaseImage) ? "scratch" : BaseImage,
            StoreDirectory = string.IsNullOrWhiteSpace(StoreDirectory) ? null : StoreDirectory,
        };
        var settings = new ClusterBuild.PullSettings(CacheDirectory, LockFile)
        {
            Registry = TaskInputs.Registry(Mirrors, FallbackToSource, UserAgent),
            Refresh = Refresh,
            MaxConcurrentBlobs = MaxConcurrentBlobs,
        };
        var progress = CreateProgress<PullProgress>((p, meter) => p.BlobsTotal == 0 ? null
            : $"Sealer: pulling images {p.ImagesDone}/{p.ImagesTotal}, blobs {p.BlobsDone}/{p.BlobsTotal}, {meter.Describe(p.BytesDone, p.BytesTotal)}{(p.CurrentImage is null ? "" : " (" + p.CurrentImage + ")")}");
        ClusterBuild.PullOutcome o;
        try
        {
            o = await ClusterBuild.PullAsync(inputs, ResolvedImagesFile.Read(ImagesFile), settings, CreateLogger(), progress, cancellationToken).ConfigureAwait(false);
        }
        catch (ImagePullException ex)
        {
            foreach (var e in ex.Errors) LogSealerError(e);
            return;
        }
        o.Pulled.Write(OutputFile);
        NetworkRequests = (int)o.NetworkRequests;
        BytesDownloaded = o.BytesDownloaded;
        string fromBaseNote = o.FromBase == 0 ? "" : $", {o.FromBase} carried by the base image";
        Log.LogMessage(MessageImportance.High, $"Sealer: {o.Requested} images ({o.Requested - o.FromBase} in the cache{fromBaseNote}; {o.NetworkRequests} registry requests, {o.BlobsDownloaded} blobs / {o.BytesDownloaded} bytes downloaded, {o.BlobsCached} blobs cached{(o.BlobsLocal > 0 ? $", {o.BlobsLocal} blobs from the base image" : "")})");
    }
}
