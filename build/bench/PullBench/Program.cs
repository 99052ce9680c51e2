// sealer-pull-bench --cache DIR [--platform linux/amd64] [--blobs 8] [--ranges 4] [--streams 6] [--hash-at-end] REF...
// --ranges N: parallel range requests per big blob (1 = one stream); --streams N: blob streams open at most before a big
// blob's extra ranges wait (RegistryOptions.MaxBlobStreams); --hash-at-end: hash a ranged blob after its last range.
// Pulls REFs (loopback registries allowed over plain HTTP) into the cache and prints one line of results.
using System.Diagnostics;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Auth;
using Sealer.Core.Images;
using Sealer.Core.Oci;
using Sealer.Core.References;

string? cacheDir = null;
var platforms = new List<Platform>();
int blobs = 8;
int ranges = new RegistryOptions().ParallelRanges;
int streams = new RegistryOptions().MaxBlobStreams;
bool hashAtEnd = false;
var refs = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--cache": cacheDir = args[++i]; break;
        case "--platform": platforms.Add(Platform.Parse(args[++i])); break;
        case "--blobs": blobs = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--ranges": ranges = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--streams": streams = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--hash-at-end": hashAtEnd = true; break;
        default: refs.Add(args[i]); break;
    }
}
if (cacheDir is null || refs.Count == 0)
{
    Console.Error.WriteLine("usage: sealer-pull-bench --cache DIR [--platform os/arch] [--blobs N] [--ranges N] [--streams N] [--hash-at-end] REF...");
    return 2;
}
var cache = ImageCache.Open(cacheDir);
var options = new PullOptions
{
    Platforms = platforms.Count > 0 ? platforms : [Platform.Parse("linux/amd64")],
    MaxConcurrentBlobs = blobs,
    Registry = new RegistryOptions { Credentials = AnonymousCredentialProvider.Instance, ParallelRanges = ranges, MaxBlobStreams = streams, HashRangesWhileDownloading = !hashAtEnd },
};
var sw = Stopwatch.StartNew();
try
{
    var result = await new ImagePuller(cache).PullAsync(refs.Select(r => new ImageRequest(ImageReference.Parse(r), [])).ToList(), options);
    sw.Stop();
    Console.WriteLine($"pulled {result.Lock.Images.Count} images: {result.BytesDownloaded / 1e6:F1} MB in {sw.Elapsed.TotalSeconds:F2} s ({result.BytesDownloaded / 1e6 / sw.Elapsed.TotalSeconds:F0} MB/s), {result.BlobsDownloaded} blobs, {result.NetworkRequests} requests");
    return 0;
}
catch (SealerException ex)
{
    Console.Error.WriteLine(ex.ToDiagnosticString());
    return 1;
}
