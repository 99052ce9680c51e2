using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Images;

/// <summary>An image to pull, with every place the project uses it (for the lock and for error locations).</summary>
public sealed record ImageRequest(ImageReference Reference, IReadOnlyList<ImageSource> Sources)
{
    public ImageRequest(string reference, string? file = null, int line = 0)
        : this(ImageReference.Parse(reference, file, line), file is null ? [] : [new ImageSource(file, line)])
    {
    }
}

/// <summary>What to pull and how.</summary>
public sealed class PullOptions
{
    private int _maxConcurrentBlobs = 8;
    private int _maxConcurrentImages = 8;

    /// <summary>Platforms to fetch (default linux/amd64). An image lacking one is an error naming where it is used.</summary>
    public IReadOnlyList<Platform> Platforms { get; set; } = [Platform.Parse("linux/amd64")];

    /// <summary>The previous images.lock.json, if any: tags in it are not resolved again (unless <see cref="Refresh"/>).</summary>
    public ImagesLock? Lock { get; set; }

    /// <summary>Resolve tags again even when the lock has them. References pinned by digest are never resolved again.</summary>
    public bool Refresh { get; set; }

    /// <summary>Never touch the network (design-time builds): content the lock and cache do not have is a coded error.</summary>
    public bool Offline { get; set; }

    /// <summary>Blobs downloaded at once, across all images (default 8).</summary>
    public int MaxConcurrentBlobs
    {
        get => _maxConcurrentBlobs;
        set => _maxConcurrentBlobs = value is >= 1 and <= 256 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "1..256");
    }

    /// <summary>Images whose manifests are resolved at once (default 8).</summary>
    public int MaxConcurrentImages
    {
        get => _maxConcurrentImages;
        set => _maxConcurrentImages = value is >= 1 and <= 256 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "1..256");
    }

    /// <summary>
    /// Local content to take a blob from before asking a registry (e.g. the image-blob layers of a FROM base cluster image):
    /// returns a readable stream of exactly the blob, or null. What it gives is verified against the digest like a download;
    /// a mismatch falls back to the registry.
    /// </summary>
    public Func<Descriptor, Stream?>? LocalBlobs { get; set; }

    /// <summary>Mirrors, insecure registries, credentials; used when the <see cref="ImagePuller"/> was made without a client.</summary>
    public RegistryOptions Registry { get; set; } = new();
}

/// <summary>A progress snapshot. Totals grow as manifests are resolved.</summary>
public sealed record PullProgress(int ImagesTotal, int ImagesDone, int BlobsTotal, int BlobsDone, long BytesTotal, long BytesDone, string? CurrentImage = null);

/// <summary>The outcome of <see cref="ImagePuller.PullAsync"/>.</summary>
public sealed class PullResult
{
    /// <summary>The lock for exactly the requested images (write it with <see cref="ImagesLock.Write"/>).</summary>
    public required ImagesLock Lock { get; init; }

    /// <summary>The cache's index.json descriptor of each image (by full reference).</summary>
    public required IReadOnlyDictionary<string, Descriptor> Images { get; init; }

    /// <summary>HTTP requests made (0 on a warm no-op).</summary>
    public long NetworkRequests { get; init; }

    /// <summary>Blob bytes received from registries.</summary>
    public long BytesDownloaded { get; init; }

    public int BlobsDownloaded { get; init; }

    public int BlobsCached { get; init; }

    /// <summary>Blobs copied from <see cref="PullOptions.LocalBlobs"/> instead of downloaded.</summary>
    public int BlobsLocal { get; init; }
}

/// <summary>Several images failed: <see cref="Errors"/> holds each (with its code, file and line); this one carries the first's.</summary>
public sealed class ImagePullException(IReadOnlyList<SealerException> errors)
    : SealerException(errors[0].Code, errors.Count == 1 ? errors[0].Message : $"{errors[0].Message} (and {errors.Count - 1} more failed images)", errors[0].File, errors[0].Line, errors[0].Column, errors[0])
{
    public IReadOnlyList<SealerException> Errors { get; } = errors;
}

/// <summary>The shared image cache: an OCI layout at <c>SEALER_CACHE_DIR</c> or <c>~/.sealer/cache</c>.</summary>
public static class ImageCache
{
    public static string DefaultDirectory
    {
        get
        {
            string? dir = Environment.GetEnvironmentVariable("SEALER_CACHE_DIR");
            return string.IsNullOrEmpty(dir) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer", "cache") : Path.GetFullPath(dir);
        }
    }

    /// <summary>Opens (creating if needed) the cache at <paramref name="directory"/> or the default.</summary>
    public static Layout.OciLayout Open(string? directory = null) => Layout.OciLayout.OpenOrCreate(string.IsNullOrEmpty(directory) ? DefaultDirectory : directory);
}
