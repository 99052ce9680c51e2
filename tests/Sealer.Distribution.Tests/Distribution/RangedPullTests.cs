using System.Security.Cryptography;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Auth;
using Sealer.Core.Images;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Distribution.Tests.Distribution;

/// <summary>
/// Big blobs come in parallel HTTP ranges (RegistryClient.Ranged.cs): from the test environment's real docker-registry,
/// and, for the faults it does not produce, from <see cref="RangeServer"/> (Range ignored, wrong bytes, another range than
/// asked, a cut connection, a cancelled pull).
/// </summary>
[Collection(RegistryCollection.Name)]
public class RangedPullTests(RegistryFixture fixture)
{
    private const int BlobSize = (3 << 20) + 12345; // 13 ranges of 256 KiB, the last one short
    private const long Chunk = 256 * 1024;

    private static readonly byte[] Blob = RandomNumberGenerator.GetBytes(BlobSize);
    private static readonly Descriptor BlobDescriptor = new() { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Sha256(Blob).ToString(), Size = BlobSize };

    private static RegistryOptions Ranged(RegistryOptions? from = null)
    {
        var o = from ?? new RegistryOptions { Credentials = AnonymousCredentialProvider.Instance };
        o.MaxAttempts = 3;
        o.RetryBaseDelay = TimeSpan.FromMilliseconds(1);
        o.ParallelRanges = 4;
        o.ParallelRangeThreshold = 1 << 20;
        o.RangeChunkSize = Chunk;
        return o;
    }

    private static ImageReference At(RangeServer server) => ImageReference.Parse($"{server.Address}/app/x:1");

    private static void AssertStoredIntact(TempCache cache)
    {
        string path = cache.Layout.BlobPath(BlobDescriptor.ParsedDigest);
        Assert.True(File.Exists(path));
        Assert.Equal(BlobDescriptor.Digest, Digest.Sha256(File.ReadAllBytes(path)).ToString());
        AssertNoTemp(cache);
    }

    private static void AssertNoTemp(TempCache cache)
    {
        string ingest = Path.Combine(cache.Root, "ingest");
        Assert.Empty(Directory.Exists(ingest) ? Directory.GetFiles(ingest) : []);
    }

    /// <summary>
    /// Fetches <see cref="Blob"/> from <paramref name="server"/> into a fresh cache with ranges on (<see cref="Ranged"/>,
    /// changed by <paramref name="configure"/>), checks it is stored whole with nothing left in <c>ingest/</c>, and returns
    /// what the client counted and the Range header of every request the server saw (null: no Range).
    /// </summary>
    private static async Task<(long RangedBlobs, long RangeFallbacks, List<string?> Ranges)> FetchIntactAsync(RangeServer server, Action<RegistryOptions>? configure = null,
        Action<RegistryClient>? afterwards = null)
    {
        using var cache = TestRegistries.NewCache();
        var options = Ranged();
        configure?.Invoke(options);
        using var client = new RegistryClient(options);
        Assert.True(await client.FetchBlobAsync(At(server), BlobDescriptor, cache.Layout));
        AssertStoredIntact(cache);
        afterwards?.Invoke(client);
        return (client.RangedBlobs, client.RangeFallbacks, server.Ranges.ToList());
    }

    /// <summary>
    /// Exactly one request without Range (the one-stream GET) reached the server, and it came after the range starting at
    /// <paramref name="from"/>, whose bad answer caused it. The server records a request when its head arrives, and range
    /// requests the client sent before it gave up can arrive on their own connections after the plain GET, so the plain GET
    /// need not be the last one recorded; it can only follow the bad range, which it answered.
    /// </summary>
    private static void AssertOneStreamAfter(List<string?> ranges, long from)
    {
        int bad = ranges.FindIndex(r => r is not null && r.StartsWith($"bytes={from}-", StringComparison.Ordinal));
        Assert.True(bad >= 0, $"no range starting at {from} in: {string.Join(", ", ranges)}");
        Assert.Single(ranges, r => r is null);
        Assert.True(ranges.IndexOf(null) > bad, $"the one-stream GET came before the bad range: {string.Join(", ", ranges)}");
    }

    [RegistryFact]
    public async Task A_big_layer_from_the_real_registry_comes_in_parallel_ranges_and_is_verified()
    {
        var env = fixture.Env;
        string agent = TestRegistries.NewAgent();
        using var cache = TestRegistries.NewCache();
        var options = Ranged(TestRegistries.Options(env, userAgent: agent));
        long mark = env.LogMark("docker.io");
        var result = await new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests("nginx:1.27"),
            new PullOptions { Platforms = [Platform.Parse("linux/amd64")], Registry = options });
        Assert.Single(result.Lock.Images);
        var lines = env.RequestsSince("docker.io", mark, agent);
        // docker-registry's access log: the nginx layer (> 1 MiB) was fetched as 256 KiB pieces, each answered 206.
        var ranged = lines.Where(l => l.Contains("/blobs/sha256:", StringComparison.Ordinal) && l.Contains("\" 206 ", StringComparison.Ordinal)).ToList();
        Assert.True(ranged.Count >= 4, "expected the big layer in >= 4 ranged GETs, saw:\n" + string.Join('\n', lines));
        Assert.DoesNotContain(lines, l => l.Contains("/blobs/sha256:", StringComparison.Ordinal) && l.Contains("\" 200 ", StringComparison.Ordinal)
            && ranged.Any(r => SamePath(r, l)));
        // Every blob in the cache hashes to its name, and nothing is left in ingest/.
        foreach (var file in Directory.GetFiles(Path.Combine(cache.Root, "blobs", "sha256")))
        {
            Assert.Equal(Path.GetFileName(file), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))));
        }
        AssertNoTemp(cache);
    }

    private static bool SamePath(string a, string b)
    {
        static string PathOf(string line) => line.Split('"').ElementAtOrDefault(1)?.Split(' ').ElementAtOrDefault(1) ?? "";
        return PathOf(a) == PathOf(b);
    }

    [RegistryFact]
    public async Task A_blob_corrupt_on_the_real_registry_is_refused_whether_ranged_or_streamed()
    {
        var env = fixture.Env;
        using var cache = TestRegistries.NewCache();
        var options = Ranged(TestRegistries.Options(env));
        options.ParallelRangeThreshold = 64 * 1024;
        options.RangeChunkSize = 64 * 1024;
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests("corrupt:1.0"),
            new PullOptions { Platforms = [Platform.Parse("linux/amd64")], Registry = options }));
        Assert.Equal(ErrorCodes.DigestMismatch, ex.Code);
        Assert.False(cache.Layout.HasBlob(Digest.Parse(env.Image("corrupt").CorruptBlob!)));
        // No ranged temp file; the one-stream fallback keeps its (emptied) resume file, as it always has.
        var left = Directory.GetFiles(Path.Combine(cache.Root, "ingest"));
        Assert.DoesNotContain(left, f => f.EndsWith(".tmp", StringComparison.Ordinal));
        Assert.All(left, f => Assert.Equal(0, new FileInfo(f).Length));
    }

    [Fact]
    public async Task Ranges_are_fetched_in_parallel_and_the_blob_is_stored_whole()
    {
        await using var server = new RangeServer(Blob);
        var (ranged, fallbacks, ranges) = await FetchIntactAsync(server);
        Assert.Equal(1, ranged);
        Assert.Equal(0, fallbacks);
        Assert.Equal(13, ranges.Count);
        Assert.Equal("bytes=0-262143", ranges[0]);
        Assert.Contains($"bytes={12 * Chunk}-{BlobSize - 1}", ranges);
    }

    [Fact]
    public async Task A_server_that_ignores_Range_gets_one_stream()
    {
        await using var server = new RangeServer(Blob) { IgnoreRange = true };
        var (ranged, fallbacks, ranges) = await FetchIntactAsync(server);
        Assert.Equal(1, fallbacks);
        Assert.Equal(0, ranged);
        // The probe (first range) answered 200, then one plain GET: no parallel requests.
        Assert.Equal(["bytes=0-262143", null], ranges);
    }

    [Fact]
    public async Task Wrong_bytes_in_one_range_are_caught_by_the_digest_and_the_blob_comes_again_in_one_stream()
    {
        await using var server = new RangeServer(Blob) { CorruptRangeAt = 5 * Chunk };
        var (ranged, fallbacks, ranges) = await FetchIntactAsync(server);
        Assert.Equal(1, fallbacks);
        Assert.Equal(0, ranged);
        AssertOneStreamAfter(ranges, 5 * Chunk);
    }

    [Fact]
    public async Task A_range_answered_as_another_range_falls_back_to_one_stream()
    {
        await using var server = new RangeServer(Blob) { ShiftedRangeAt = 7 * Chunk };
        var (_, fallbacks, ranges) = await FetchIntactAsync(server);
        Assert.Equal(1, fallbacks);
        AssertOneStreamAfter(ranges, 7 * Chunk);
    }

    [Fact]
    public async Task A_range_whose_connection_drops_resumes_from_its_last_byte()
    {
        await using var server = new RangeServer(Blob) { DropRangeEndingAt = 4 * Chunk - 1, Drops = 1 };
        var (ranged, fallbacks, ranges) = await FetchIntactAsync(server);
        Assert.Equal(1, ranged);
        Assert.Equal(0, fallbacks);
        Assert.Equal(14, ranges.Count); // 13 ranges + one resumed
        // The resumed request starts inside range 3 (after the bytes that arrived), and ends where range 3 ends.
        Assert.Contains(ranges, r => r is not null && r.EndsWith($"-{4 * Chunk - 1}", StringComparison.Ordinal) && r != $"bytes={3 * Chunk}-{4 * Chunk - 1}");
    }

    [Fact]
    public async Task A_range_that_keeps_failing_is_a_coded_error_and_leaves_nothing_in_the_cache()
    {
        await using var server = new RangeServer(Blob) { DropRangeEndingAt = 3 * Chunk - 1, Drops = 100 };
        using var cache = TestRegistries.NewCache();
        using var client = new RegistryClient(Ranged());
        var ex = await Assert.ThrowsAsync<SealerException>(() => client.FetchBlobAsync(At(server), BlobDescriptor, cache.Layout));
        Assert.Equal(ErrorCodes.RegistryUnreachable, ex.Code);
        Assert.Contains($"-{3 * Chunk - 1} of blob", ex.Message, StringComparison.Ordinal);
        Assert.False(cache.Layout.HasBlob(BlobDescriptor));
        AssertNoTemp(cache);
    }

    [Fact]
    public async Task Cancelling_a_ranged_pull_leaves_neither_blob_nor_temp_file()
    {
        await using var server = new RangeServer(Blob) { SendDelay = TimeSpan.FromMilliseconds(50) };
        using var cache = TestRegistries.NewCache();
        using var client = new RegistryClient(Ranged());
        using var cts = new CancellationTokenSource();
        long seen = 0;
        var progress = new SyncProgress<long>(n =>
        {
            Interlocked.Exchange(ref seen, n);
            if (n > 512 * 1024) cts.Cancel();
        });
        var pull = client.FetchBlobAsync(At(server), BlobDescriptor, cache.Layout, progress, cts.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pull);
        Assert.True(Interlocked.Read(ref seen) > 512 * 1024);
        Assert.False(cache.Layout.HasBlob(BlobDescriptor));
        AssertNoTemp(cache);
    }

    [Fact]
    public async Task A_blob_under_the_threshold_is_one_GET_without_Range()
    {
        await using var server = new RangeServer(Blob);
        var (_, _, ranges) = await FetchIntactAsync(server, o => o.ParallelRangeThreshold = BlobSize + 1);
        Assert.Equal([null], ranges);
    }

    [Fact]
    public async Task A_big_blob_with_no_room_for_more_streams_comes_in_one_worker_eight_pieces_per_request()
    {
        await using var server = new RangeServer(Blob);
        int peak = 0;
        var (ranged, fallbacks, ranges) = await FetchIntactAsync(server, o => o.MaxBlobStreams = 1, c => peak = c.PeakBlobStreams);
        Assert.Equal(1, ranged);
        Assert.Equal(0, fallbacks);
        Assert.Equal([$"bytes=0-{8 * Chunk - 1}", $"bytes={8 * Chunk}-{BlobSize - 1}"], ranges);
        Assert.Equal(1, peak);
        Assert.Equal(1, server.MaxConcurrent);
    }

    [Fact]
    public async Task Range_helpers_join_a_big_blob_only_up_to_the_client_s_stream_budget()
    {
        await using var server = new RangeServer(Blob) { SendDelay = TimeSpan.FromMilliseconds(2) };
        int peak = 0;
        var (ranged, _, ranges) = await FetchIntactAsync(server, o => o.MaxBlobStreams = 2, c => peak = c.PeakBlobStreams);
        Assert.Equal(1, ranged);
        Assert.Equal(13, ranges.Count); // one piece per request: a helper could join (or had joined) at every claim
        Assert.Equal(2, peak);
        // The server saw pieces in parallel (it counts a request from its head to its last byte sent, so a piece that
        // follows another on the client can overlap it there by a moment: at least 2, not exactly 2).
        Assert.True(server.MaxConcurrent >= 2, $"the server never saw two pieces at once ({server.MaxConcurrent})");
    }

    [Fact]
    public async Task Range_helpers_join_a_big_blob_once_another_download_has_left_room()
    {
        // Another blob (under the threshold: one stream) is downloading slowly from another server when the big one starts:
        // with a budget of 2 streams the big one gets no helper, so its one worker claims eight pieces at once. When the
        // other download has ended, the next claim has room: pieces one by one, a helper beside the worker.
        byte[] small = RandomNumberGenerator.GetBytes(640 * 1024);
        var smallDescriptor = new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Sha256(small).ToString(), Size = small.Length };
        await using var other = new RangeServer(small) { SendDelay = TimeSpan.FromMilliseconds(10) };
        await using var server = new RangeServer(Blob) { SendDelay = TimeSpan.FromMilliseconds(15) };
        using var cache = TestRegistries.NewCache();
        var options = Ranged();
        options.MaxBlobStreams = 2;
        using var client = new RegistryClient(options);
        var slow = client.FetchBlobAsync(At(other), smallDescriptor, cache.Layout);
        while (other.Ranges.IsEmpty) await Task.Delay(5);
        Assert.True(await client.FetchBlobAsync(At(server), BlobDescriptor, cache.Layout));
        Assert.True(slow.IsCompletedSuccessfully, "the other download (~100 ms) should have ended before the big one (~500 ms)");
        Assert.True(await slow);
        AssertStoredIntact(cache);
        var ranges = server.Ranges.ToList();
        Assert.Equal($"bytes=0-{8 * Chunk - 1}", ranges[0]);
        Assert.Equal(6, ranges.Count); // then the five pieces left, one per request
        Assert.Equal(2, client.PeakBlobStreams); // the other download and the worker, then the worker and a helper
        Assert.True(server.MaxConcurrent >= 2, $"the server never saw two pieces at once ({server.MaxConcurrent})");
    }
}
