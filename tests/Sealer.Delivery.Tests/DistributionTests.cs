using System.Security.Cryptography;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

[Collection(HostsCollection.Name)]
public class DistributionTests(TestHosts hosts, Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sealer-dist-").FullName;

    public void Dispose() => Directory.Delete(_work, true);

    private const string Store = "/var/lib/sealer/dist-test";

    private async Task<SshHost> ConnectAsync(int i) =>
        await SshHost.ConnectAsync(hosts.Hosts[i].Ip, hosts.KeySsh, new SshOptions { KnownHostsPath = hosts.KnownHostsFile }, KnownHosts.Load(hosts.KnownHostsFile));

    [Fact]
    public async Task ResumesPartialBlobsSkipsPresentOnesAndDiscardsCorruptOnes()
    {
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 2 * 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var platform = source.Platforms.Single();
        var big = platform.Layers.OrderByDescending(l => l.Size).First();
        var bigBytes = File.ReadAllBytes(source.LayerPath(big));
        var h = hosts.Hosts[3];
        await using var host = await ConnectAsync(3);

        // a transfer that broke half-way left the first half in ingest/
        Directory.CreateDirectory(h.OnHost(Store + "/ingest"));
        long half = bigBytes.Length / 2;
        File.WriteAllBytes(h.OnHost($"{Store}/ingest/{big.ParsedDigest.Encoded}"), bigBytes[..(int)half]);
        var result = (await new BlobDistributor(source, Store).DistributeAsync([host], platform.Layers)).Single();
        Assert.Equal(platform.TotalLayerBytes - half, result.BytesFromController);
        foreach (var layer in platform.Layers)
        {
            var onHost = File.ReadAllBytes(h.OnHost($"{Store}/blobs/sha256/{layer.ParsedDigest.Encoded}"));
            Assert.Equal(layer.ParsedDigest.Encoded, Convert.ToHexStringLower(SHA256.HashData(onHost)));
        }
        Assert.Empty(Directory.GetFiles(h.OnHost(Store + "/ingest")));

        // everything present: nothing is sent
        var again = (await new BlobDistributor(source, Store).DistributeAsync([host], platform.Layers)).Single();
        Assert.Equal(0, again.BytesFromController);
        Assert.Equal(platform.Layers.Count, again.BlobsSkipped);

        // a corrupt partial file: the blob is refused on arrival, nothing wrong lands in the store, the next run heals it
        File.Delete(h.OnHost($"{Store}/blobs/sha256/{big.ParsedDigest.Encoded}"));
        var garbage = RandomNumberGenerator.GetBytes((int)half);
        File.WriteAllBytes(h.OnHost($"{Store}/ingest/{big.ParsedDigest.Encoded}"), garbage);
        var ex = await Assert.ThrowsAsync<SealerException>(() => new BlobDistributor(source, Store).DistributeAsync([host], platform.Layers));
        Assert.Equal(ErrorCodes.TransferDigestMismatch, ex.Code);
        Assert.False(File.Exists(h.OnHost($"{Store}/blobs/sha256/{big.ParsedDigest.Encoded}")));
        Assert.False(File.Exists(h.OnHost($"{Store}/ingest/{big.ParsedDigest.Encoded}")));
        var healed = (await new BlobDistributor(source, Store).DistributeAsync([host], platform.Layers)).Single();
        Assert.Equal(big.Size, healed.BytesFromController);
    }

    [Fact]
    public async Task RelayServesHostsFromHostsAndCleansUp()
    {
        hosts.Wipe("/var/lib/sealer", "/root");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 4 * 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var platform = source.Platforms.Single();
        var all = new List<SshHost>();
        try
        {
            for (int i = 0; i < 4; i++) all.Add(await ConnectAsync(i));
            var progress = new List<TransferProgress>();
            var results = await new BlobDistributor(source, Store, new DistributionOptions { Parallelism = 1, Progress = new Recorder(progress) }).DistributeAsync(all, platform.Layers);
            long fromHere = results.Sum(r => r.BytesFromController);
            long relayed = results.Sum(r => r.BytesRelayed);
            // 4 hosts, one stream from this machine at a time: the finished hosts serve the rest
            Assert.Equal(4 * platform.TotalLayerBytes, fromHere + relayed);
            Assert.True(relayed >= platform.TotalLayerBytes, $"relayed {relayed}, from here {fromHere}");
            Assert.True(fromHere <= 3 * platform.TotalLayerBytes, $"from here {fromHere}");
            Assert.Contains(results, r => r.RelayedFrom is not null);
            log.WriteLine($"4 hosts x {platform.TotalLayerBytes} bytes: {fromHere} bytes from this machine, {relayed} relayed host-to-host");
            foreach (var r in results) log.WriteLine($"  {r.Host}: {r.BytesFromController} from here, {r.BytesRelayed} relayed from {r.RelayedFrom ?? "-"}");
            Assert.Equal(4, progress[^1].HostsDone);
            for (int i = 0; i < 4; i++)
            {
                foreach (var layer in platform.Layers)
                {
                    var onHost = File.ReadAllBytes(hosts.Hosts[i].OnHost($"{Store}/blobs/sha256/{layer.ParsedDigest.Encoded}"));
                    Assert.Equal(layer.ParsedDigest.Encoded, Convert.ToHexStringLower(SHA256.HashData(onHost)));
                }
                var ak = hosts.Hosts[i].OnHost("/root/.ssh/authorized_keys");
                Assert.False(File.Exists(ak) && File.ReadAllText(ak).Contains("sealer-relay", StringComparison.Ordinal), "the one-time key was not removed");
                Assert.Empty(Directory.Exists(hosts.Hosts[i].OnHost(Store + "/relay")) ? Directory.GetFiles(hosts.Hosts[i].OnHost(Store + "/relay")) : []);
            }
        }
        finally
        {
            foreach (var h in all) h.Dispose();
        }
    }

    [Fact]
    public async Task CancelledMidTransferResumesWithoutResendingFinishedBlobs()
    {
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 2 * 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var platform = source.Platforms.Single();
        await using var host = await ConnectAsync(2);
        using var cts = new CancellationTokenSource();
        var first = platform.Layers[0];
        var options = new DistributionOptions { AfterBlob = (_, blob) => { if (blob == first) cts.Cancel(); } };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new BlobDistributor(source, Store, options).DistributeAsync([host], platform.Layers, cts.Token));
        Assert.True(File.Exists(hosts.Hosts[2].OnHost($"{Store}/blobs/sha256/{first.ParsedDigest.Encoded}")));
        var resumed = (await new BlobDistributor(source, Store).DistributeAsync([host], platform.Layers)).Single();
        Assert.Equal(platform.TotalLayerBytes - first.Size, resumed.BytesFromController);
        Assert.Equal(1, resumed.BlobsSkipped);
    }

    private sealed class Recorder(List<TransferProgress> into) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            lock (into) into.Add(value);
        }
    }
}
