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
        await hosts.ConnectAsync(hosts.Hosts[i].Ip);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Resumes_partial_blobs_skips_present_ones_and_discards_corrupt_ones(bool systemSsh)
    {
        // every blob through the system ssh client, or every blob through SSH.NET
        var options = new DistributionOptions { SystemSsh = systemSsh, SystemSshMinBytes = 0 };
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 2 * 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var platform = source.Platforms.Single();
        var big = platform.Layers.OrderByDescending(l => l.Size).First();
        var bigBytes = File.ReadAllBytes(source.Locate(big).Path);
        var h = hosts.Hosts[3];
        await using var host = await ConnectAsync(3);

        // a transfer that broke half-way left the first half in ingest/
        Directory.CreateDirectory(h.OnHost(Store + "/ingest"));
        long half = bigBytes.Length / 2;
        File.WriteAllBytes(h.OnHost($"{Store}/ingest/{big.ParsedDigest.Encoded}"), bigBytes[..(int)half]);
        var result = (await new BlobDistributor(source, Store, options).DistributeAsync([host], platform.Layers)).Single();
        Assert.Equal(platform.TotalLayerBytes - half, result.BytesFromController);
        Assert.Equal(systemSsh ? "openssh" : "ssh.net", result.Transport);
        foreach (var layer in platform.Layers)
        {
            var onHost = File.ReadAllBytes(h.OnHost($"{Store}/blobs/sha256/{layer.ParsedDigest.Encoded}"));
            Assert.Equal(layer.ParsedDigest.Encoded, Convert.ToHexStringLower(SHA256.HashData(onHost)));
        }
        Assert.Empty(Directory.GetFiles(h.OnHost(Store + "/ingest")));

        // everything present: nothing is sent
        var again = (await new BlobDistributor(source, Store, options).DistributeAsync([host], platform.Layers)).Single();
        Assert.Equal(0, again.BytesFromController);
        Assert.Equal(platform.Layers.Count, again.BlobsSkipped);

        // a corrupt partial file: the blob is refused on arrival, nothing wrong lands in the store, the next run heals it
        File.Delete(h.OnHost($"{Store}/blobs/sha256/{big.ParsedDigest.Encoded}"));
        var garbage = RandomNumberGenerator.GetBytes((int)half);
        File.WriteAllBytes(h.OnHost($"{Store}/ingest/{big.ParsedDigest.Encoded}"), garbage);
        var ex = await Assert.ThrowsAsync<SealerException>(() => new BlobDistributor(source, Store, options).DistributeAsync([host], platform.Layers));
        Assert.Equal(ErrorCodes.TransferDigestMismatch, ex.Code);
        Assert.False(File.Exists(h.OnHost($"{Store}/blobs/sha256/{big.ParsedDigest.Encoded}")));
        Assert.False(File.Exists(h.OnHost($"{Store}/ingest/{big.ParsedDigest.Encoded}")));
        var healed = (await new BlobDistributor(source, Store, options).DistributeAsync([host], platform.Layers)).Single();
        Assert.Equal(big.Size, healed.BytesFromController);
    }

    [Fact]
    public async Task Relay_serves_hosts_from_hosts_and_cleans_up()
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
    public async Task A_relay_that_sends_a_corrupt_blob_stops_and_this_machine_sends_what_is_left()
    {
        hosts.Wipe("/var/lib/sealer", "/root");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var blobs = BigBlobs(image, 6, 5);
        await using var a = await ConnectAsync(0);
        await using var b = await ConnectAsync(1);
        await using var c = await ConnectAsync(2);
        await new BlobDistributor(source, Store).DistributeAsync([a], blobs);
        // the relay's copy of the third blob went bad after it arrived
        var bad = blobs[2];
        File.WriteAllBytes(hosts.Hosts[0].OnHost($"{Store}/blobs/sha256/{bad.ParsedDigest.Encoded}"), RandomNumberGenerator.GetBytes((int)bad.Size));
        // two hosts to fill, one stream from here: one of them is served by the first host, a relay
        var logger = new ListLogger();
        var results = await new BlobDistributor(source, Store, new DistributionOptions { Parallelism = 1, StreamsPerHost = 2, Logger = logger }).DistributeAsync([a, b, c], blobs);
        foreach (var line in logger.Lines) log.WriteLine(line);
        string failed = Assert.Single(logger.Lines, l => l.Contains($"Relay {hosts.Hosts[0].Ip} -> ", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal));
        var target = hosts.Hosts.First(h => failed.Contains($"-> {h.Ip} ", StringComparison.Ordinal));
        var got = results.Single(r => r.Host == target.Ip);
        log.WriteLine($"{got.Host}: {got.BytesFromController} from here via {got.Transport}, {got.BytesRelayed} relayed from {got.RelayedFrom ?? "-"}");
        // the target refused the bad copy; the blobs the relay had sent whole stayed, this machine sent the rest (the bad one included)
        Assert.Null(got.RelayedFrom);
        Assert.True(got.BytesFromController >= bad.Size, $"{got.BytesFromController} bytes from here");
        Assert.True(got.BytesFromController < blobs.Sum(x => x.Size), "the relay's whole blobs were sent again");
        foreach (var h in new[] { hosts.Hosts[1], hosts.Hosts[2] })
        {
            AssertLandedWhole(h, blobs);
            var ak = h.OnHost("/root/.ssh/authorized_keys");
            Assert.False(File.Exists(ak) && File.ReadAllText(ak).Contains("sealer-relay", StringComparison.Ordinal), "the one-time key was not removed");
        }
    }

    [Fact]
    public async Task Each_host_gets_its_own_layers_and_relays_serve_only_what_they_hold()
    {
        hosts.Wipe("/var/lib/sealer", "/root");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 4 * 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var platform = source.Platforms.Single();
        var rootfs = platform.LayersFor(registryHost: false);
        Assert.Equal([image.RootfsDigest], rootfs.Select(l => l.Digest));
        Assert.Equal(platform.Layers, platform.LayersFor(registryHost: true));
        var all = new List<SshHost>();
        try
        {
            for (int i = 0; i < 4; i++) all.Add(await ConnectAsync(i));
            // host 1 runs the registry; hosts 2-4 are workers. One stream from this machine at a time: relays must serve the rest
            var targets = all.Select((h, i) => new HostBlobs(h, i == 0 ? platform.Layers : rootfs)).ToList();
            var results = await new BlobDistributor(source, Store, new DistributionOptions { Parallelism = 1 }).DistributeAsync(targets);
            foreach (var r in results) log.WriteLine($"  {r.Host}: {r.BytesFromController} from here via {r.Transport}, {r.BytesRelayed} relayed from {r.RelayedFrom ?? "-"}");
            Assert.Equal(platform.TotalLayerBytes + 3 * image.RootfsBytes, results.Sum(r => r.BytesFromController + r.BytesRelayed));
            Assert.Contains(results, r => r.RelayedFrom is not null);
            for (int i = 0; i < 4; i++)
            {
                var want = i == 0 ? platform.Layers.Select(l => l.Digest).ToList() : [image.RootfsDigest];
                var got = Directory.GetFiles(hosts.Hosts[i].OnHost(Store + "/blobs/sha256")).Select(f => "sha256:" + Path.GetFileName(f)).Order().ToList();
                Assert.Equal(want.Order(), got);
                foreach (var f in Directory.GetFiles(hosts.Hosts[i].OnHost(Store + "/blobs/sha256")))
                {
                    Assert.Equal(Path.GetFileName(f), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));
                }
            }

            // the registry host needs more than a worker holds: only this machine (or another registry host) can serve it
            File.Delete(hosts.Hosts[0].OnHost($"{Store}/blobs/sha256/{image.RegistryContentDigests[0]["sha256:".Length..]}"));
            var again = await new BlobDistributor(source, Store, new DistributionOptions { Parallelism = 1 }).DistributeAsync(targets);
            var h1 = again.Single(r => r.Host == hosts.Hosts[0].Ip);
            Assert.Null(h1.RelayedFrom);
            Assert.Equal(1, h1.BlobsSent);
            Assert.All(again.Where(r => r != h1), r => Assert.Equal(0, r.BlobsSent));
        }
        finally
        {
            foreach (var h in all) h.Dispose();
        }
    }

    [Fact]
    public async Task System_ssh_for_key_logins_SSH_NET_for_password_logins_both_verified()
    {
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 6 * 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var platform = source.Platforms.Single();
        var kh = KnownHosts.Load(hosts.KnownHostsFile);
        var options = new SshOptions { KnownHostsPath = hosts.KnownHostsFile };
        await using var byKey = await SshHost.ConnectAsync(hosts.Hosts[0].Ip, hosts.KeySsh, options, kh);
        await using var byRsaKeyAsSudoer = await SshHost.ConnectAsync(hosts.Hosts[1].Ip, new Sealer.Core.Delivery.Clusterfile.SshSpec { User = "sealer", PrivateKeyPath = hosts.RsaKey, Port = 2222 }, options, kh);
        await using var byPassword = await SshHost.ConnectAsync(hosts.Hosts[2].Ip, new Sealer.Core.Delivery.Clusterfile.SshSpec { Password = hosts.Password }, options, kh);
        await using var byPassphraseKey = await SshHost.ConnectAsync(hosts.Hosts[3].Ip, new Sealer.Core.Delivery.Clusterfile.SshSpec { PrivateKeyPath = hosts.PassphraseKey, PrivateKeyPassphrase = hosts.Passphrase }, options, kh);
        // through a jump host (both keys pinned: the jump host's and the target's, as SSH.NET verified them)
        await using var viaJump = await SshHost.ConnectAsync(hosts.Hosts[2].Ip, hosts.KeySsh with { JumpHost = "root@10.200.0.11:22" }, options, kh);
        Assert.Null(viaJump.SystemSshUnusableReason);
        var jumped = (await new BlobDistributor(source, Store, new DistributionOptions { SystemSshMinBytes = 0 }).DistributeAsync([viaJump], platform.Layers)).Single();
        Assert.Equal("openssh", jumped.Transport);
        Assert.Equal(platform.TotalLayerBytes, jumped.BytesFromController);
        Directory.Delete(hosts.Hosts[2].OnHost(Store), true);
        Assert.Null(byKey.SystemSshUnusableReason);
        Assert.Null(byRsaKeyAsSudoer.SystemSshUnusableReason);
        Assert.Equal("it logs in with a password", byPassword.SystemSshUnusableReason);
        Assert.Equal("its private key has a passphrase", byPassphraseKey.SystemSshUnusableReason);

        var before = Directory.GetDirectories(Path.GetTempPath(), "sealer-ssh-*").ToHashSet();
        var results = await new BlobDistributor(source, Store, new DistributionOptions { Relay = false, SystemSshMinBytes = 1024 * 1024 })
            .DistributeAsync([byKey, byRsaKeyAsSudoer, byPassword, byPassphraseKey], platform.Layers);
        // the master connections (ssh -M) are closed and their directories (pinned known_hosts, control socket) removed
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetTempPath(), "sealer-ssh-*"), d => !before.Contains(d));
        // the big blob (the app image layer) through ssh where the login allows it, the small ones over the open SSH.NET connection
        Assert.Equal("openssh+ssh.net", results.Single(r => r.Host == hosts.Hosts[0].Ip).Transport);
        Assert.Equal("openssh+ssh.net", results.Single(r => r.Host == hosts.Hosts[1].Ip).Transport);
        Assert.Equal("ssh.net", results.Single(r => r.Host == hosts.Hosts[2].Ip).Transport);
        Assert.Equal("ssh.net", results.Single(r => r.Host == hosts.Hosts[3].Ip).Transport);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(platform.TotalLayerBytes, results[i].BytesFromController);
            foreach (var layer in platform.Layers)
            {
                var onHost = File.ReadAllBytes(hosts.Hosts[i].OnHost($"{Store}/blobs/sha256/{layer.ParsedDigest.Encoded}"));
                Assert.Equal(layer.ParsedDigest.Encoded, Convert.ToHexStringLower(SHA256.HashData(onHost)));
            }
        }
    }

    [Fact]
    public async Task System_ssh_refuses_a_host_key_other_than_the_verified_one()
    {
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var platform = source.Platforms.Single();
        await using var host = await ConnectAsync(2);
        await using var other = await ConnectAsync(3);
        // the host now presents a key other than the one SSH.NET verified at connect (another host's key stands for the new one)
        host.PinnedKnownHostsLine = $"{hosts.Hosts[2].Ip} {other.KnownHostsLine.Split(' ', 2)[1]}";
        var ex = await Assert.ThrowsAsync<SealerException>(() =>
            new BlobDistributor(source, Store, new DistributionOptions { SystemSshMinBytes = 0 }).DistributeAsync([host], platform.Layers));
        Assert.Equal(ErrorCodes.SshHostKeyChanged, ex.Code);
        Assert.Contains(hosts.Hosts[2].Ip, ex.Message, StringComparison.Ordinal);
        // refused before anything was sent, and not retried over SSH.NET
        Assert.Empty(Directory.Exists(hosts.Hosts[2].OnHost(Store + "/blobs/sha256")) ? Directory.GetFiles(hosts.Hosts[2].OnHost(Store + "/blobs/sha256")) : []);
        Assert.Empty(Directory.Exists(hosts.Hosts[2].OnHost(Store + "/ingest")) ? Directory.GetFiles(hosts.Hosts[2].OnHost(Store + "/ingest")) : []);
    }

    [Fact]
    public async Task Cancelled_mid_transfer_resumes_without_resending_finished_blobs()
    {
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 2 * 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var platform = source.Platforms.Single();
        await using var host = await ConnectAsync(2);
        using var cts = new CancellationTokenSource();
        var first = platform.Layers[0];
        // one blob per channel and one at a time, so the cancel comes between two blobs (batches:
        // Hundreds_of_small_blobs_travel_in_batches_...; two at a time: Cancelled_with_two_streams_...)
        var options = new DistributionOptions { BatchBlobMaxBytes = 0, StreamsPerHost = 1, AfterBlob = (_, blob) => { if (blob == first) cts.Cancel(); } };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new BlobDistributor(source, Store, options).DistributeAsync([host], platform.Layers, cts.Token));
        Assert.True(File.Exists(hosts.Hosts[2].OnHost($"{Store}/blobs/sha256/{first.ParsedDigest.Encoded}")));
        var resumed = (await new BlobDistributor(source, Store).DistributeAsync([host], platform.Layers)).Single();
        Assert.Equal(platform.TotalLayerBytes - first.Size, resumed.BytesFromController);
        Assert.Equal(1, resumed.BlobsSkipped);
    }

    /// <summary>Every one of <paramref name="blobs"/> is in <paramref name="h"/>'s store with the bytes its digest names, and
    /// nothing is left half-way in ingest/.</summary>
    private static void AssertLandedWhole(TestHosts.Host h, IEnumerable<Sealer.Core.Oci.Descriptor> blobs)
    {
        foreach (var b in blobs) Assert.Equal(b.ParsedDigest.Encoded, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(h.OnHost($"{Store}/blobs/sha256/{b.ParsedDigest.Encoded}")))));
        Assert.Empty(Directory.GetFiles(h.OnHost(Store + "/ingest")));
    }

    /// <summary>Blobs of random bytes, one of each of <paramref name="sizes"/>, written into the image's blob directory
    /// beside its layers.</summary>
    internal static List<Sealer.Core.Oci.Descriptor> AddBlobs(FixtureImage image, IEnumerable<int> sizes)
    {
        var blobs = new List<Sealer.Core.Oci.Descriptor>();
        foreach (int size in sizes)
        {
            var bytes = RandomNumberGenerator.GetBytes(size);
            string hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
            File.WriteAllBytes(Path.Combine(image.Dir, "blobs", "sha256", hex), bytes);
            blobs.Add(new Sealer.Core.Oci.Descriptor { MediaType = "application/vnd.oci.image.layer.v1.tar", Digest = "sha256:" + hex, Size = bytes.Length });
        }
        return blobs;
    }

    /// <summary><paramref name="count"/> blobs of <paramref name="mib"/> MiB (<see cref="AddBlobs"/>).</summary>
    private static List<Sealer.Core.Oci.Descriptor> BigBlobs(FixtureImage image, int count, int mib) => AddBlobs(image, Enumerable.Repeat(mib * 1024 * 1024, count));

    [Theory]
    [InlineData(2, true)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    public async Task With_two_streams_per_host_the_next_blob_arrives_while_the_host_checks_the_last(int streams, bool systemSsh)
    {
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var blobs = BigBlobs(image, 4, 6); // each over SystemSshMinBytes: one session each, not a batch
        var h = hosts.Hosts[1];
        await using var host = await ConnectAsync(1);
        bool Arrived(Sealer.Core.Oci.Descriptor d) =>
            File.Exists(h.OnHost($"{Store}/ingest/{d.ParsedDigest.Encoded}")) || File.Exists(h.OnHost($"{Store}/blobs/sha256/{d.ParsedDigest.Encoded}"));
        // when the first blob is done (received and checked), the second is under way already with two streams; with one it
        // starts only after this hook returns, so it cannot appear while the hook waits
        bool? secondUnderWay = null;
        var options = new DistributionOptions
        {
            StreamsPerHost = streams, SystemSsh = systemSsh, BatchBlobMaxBytes = 0,
            AfterBlob = (_, b) =>
            {
                if (b != blobs[0]) return;
                var wait = System.Diagnostics.Stopwatch.StartNew();
                while (!Arrived(blobs[1]) && wait.Elapsed < TimeSpan.FromSeconds(streams > 1 ? 30 : 2)) Thread.Sleep(20);
                secondUnderWay = Arrived(blobs[1]);
            },
        };
        var result = (await new BlobDistributor(source, Store, options).DistributeAsync([host], blobs).WaitAsync(TimeSpan.FromMinutes(5))).Single();
        Assert.Equal(streams > 1, secondUnderWay);
        Assert.Equal(systemSsh ? "openssh" : "ssh.net", result.Transport);
        Assert.Equal(blobs.Sum(b => b.Size), result.BytesFromController);
        Assert.Equal(blobs.Count, result.BlobsSent);
        AssertLandedWhole(h, blobs);
    }

    [Fact]
    public async Task With_two_streams_a_blob_that_arrives_corrupt_stops_the_host_after_the_one_beside_it()
    {
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var blobs = BigBlobs(image, 8, 5);
        // the second blob's bytes are no longer what its digest says
        var wrong = blobs[1];
        File.WriteAllBytes(Path.Combine(image.Dir, "blobs", "sha256", wrong.ParsedDigest.Encoded), RandomNumberGenerator.GetBytes((int)wrong.Size));
        var h = hosts.Hosts[2];
        await using var host = await ConnectAsync(2);
        var ex = await Assert.ThrowsAsync<SealerException>(() => new BlobDistributor(source, Store, new DistributionOptions { StreamsPerHost = 2 }).DistributeAsync([host], blobs));
        Assert.Equal(ErrorCodes.TransferDigestMismatch, ex.Code);
        Assert.Contains(wrong.ParsedDigest.Encoded, ex.Message, StringComparison.Ordinal);
        string InStore(Sealer.Core.Oci.Descriptor d) => h.OnHost($"{Store}/blobs/sha256/{d.ParsedDigest.Encoded}");
        Assert.False(File.Exists(InStore(wrong)));
        Assert.True(File.Exists(InStore(blobs[0]))); // the one beside it was let finish
        Assert.False(File.Exists(InStore(blobs[^1]))); // nothing new started after the failure
        Assert.Empty(Directory.GetFiles(h.OnHost(Store + "/ingest"))); // no send was left half-way
    }

    [Fact]
    public async Task Cancelled_with_two_streams_resumes_what_arrived_whole_or_in_part_and_resends_nothing()
    {
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        var blobs = BigBlobs(image, 6, 8);
        var h = hosts.Hosts[3];
        await using var host = await ConnectAsync(3);
        using var cts = new CancellationTokenSource();
        // cancelled when the first blob is done: the second is on its way (two streams), cut off wherever it is
        var options = new DistributionOptions { StreamsPerHost = 2, AfterBlob = (_, b) => { if (b == blobs[0]) cts.Cancel(); } };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new BlobDistributor(source, Store, options).DistributeAsync([host], blobs, cts.Token));
        // the host may still be writing what was in flight when the stream was cut: wait until ingest/ stops growing
        string ingest = h.OnHost(Store + "/ingest");
        long IngestBytes() => Directory.Exists(ingest) ? Directory.GetFiles(ingest).Sum(f => new FileInfo(f).Length) : 0;
        var settle = System.Diagnostics.Stopwatch.StartNew();
        for (long last = -1, now = IngestBytes(); now != last && settle.Elapsed < TimeSpan.FromSeconds(20); last = now, now = IngestBytes()) Thread.Sleep(500);
        long onHost = 0;
        foreach (var b in blobs)
        {
            string hex = b.ParsedDigest.Encoded;
            if (File.Exists(h.OnHost($"{Store}/blobs/sha256/{hex}"))) onHost += b.Size;
            else if (File.Exists(h.OnHost($"{Store}/ingest/{hex}"))) onHost += new FileInfo(h.OnHost($"{Store}/ingest/{hex}")).Length;
        }
        Assert.True(File.Exists(h.OnHost($"{Store}/blobs/sha256/{blobs[0].ParsedDigest.Encoded}")));
        var resumed = (await new BlobDistributor(source, Store).DistributeAsync([host], blobs)).Single();
        Assert.Equal(blobs.Sum(b => b.Size) - onHost, resumed.BytesFromController);
        AssertLandedWhole(h, blobs);
    }

    [Fact]
    public async Task Hundreds_of_small_blobs_travel_in_batches_each_verified_and_a_wrong_one_never_lands()
    {
        hosts.Wipe("/var/lib/sealer");
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 1024 * 1024);
        var source = ClusterImageSource.Open(image.Dir);
        // 300 small blobs beside the image's layers (one empty), as a project with hundreds of images has
        var small = AddBlobs(image, Enumerable.Range(0, 300).Select(i => i == 0 ? 0 : 1 + RandomNumberGenerator.GetInt32(64 * 1024)));
        var blobs = source.Platforms.Single().Layers.Concat(small).ToList();
        await using var host = await ConnectAsync(1);
        string OnHost(Sealer.Core.Oci.Descriptor d) => hosts.Hosts[1].OnHost($"{Store}/blobs/sha256/{d.ParsedDigest.Encoded}");

        // when the first small blob is reported, the 240th (one of the last of its batch of 256) is already in place: they came together
        bool? lastOfBatchThere = null;
        var options = new DistributionOptions { AfterBlob = (_, b) => { if (b == small[0]) lastOfBatchThere = File.Exists(OnHost(small[239])); } };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var result = (await new BlobDistributor(source, Store, options).DistributeAsync([host], blobs)).Single();
        log.WriteLine($"{blobs.Count} blobs ({blobs.Sum(b => b.Size)} bytes) in batches: {sw.Elapsed.TotalSeconds:F2} s");
        Assert.True(lastOfBatchThere, "the small blobs were not sent as one batch");
        Assert.Equal(blobs.Sum(b => b.Size), result.BytesFromController);
        Assert.Equal(blobs.Count, result.BlobsSent);
        foreach (var b in blobs) Assert.Equal(b.ParsedDigest.Encoded, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(OnHost(b)))));
        Assert.Empty(Directory.GetFiles(hosts.Hosts[1].OnHost(Store + "/ingest")));
        // the same one channel per blob, for the record (this machine's load decides the times; nothing is asserted on them),
        // the empty blob included: alone on its channel it gets no bytes and no EOF from SSH.NET, and must land all the same
        await using (var other = await ConnectAsync(2))
        {
            sw.Restart();
            var each = (await new BlobDistributor(source, Store, new DistributionOptions { BatchBlobMaxBytes = 0 }).DistributeAsync([other], blobs).WaitAsync(TimeSpan.FromMinutes(5))).Single();
            log.WriteLine($"the same, one channel per blob: {sw.Elapsed.TotalSeconds:F2} s");
            Assert.Equal(result.BytesFromController, each.BytesFromController);
            Assert.Equal(blobs.Count, each.BlobsSent);
            Assert.True(File.Exists(hosts.Hosts[2].OnHost($"{Store}/blobs/sha256/{small[0].ParsedDigest.Encoded}")), "the empty blob did not land");
            Assert.Equal(0, new FileInfo(hosts.Hosts[2].OnHost($"{Store}/blobs/sha256/{small[0].ParsedDigest.Encoded}")).Length);
        }

        // a blob whose bytes are not what its digest says is refused on arrival; the right ones of its batch are kept
        hosts.Wipe("/var/lib/sealer");
        var wrong = small[7];
        File.WriteAllBytes(Path.Combine(image.Dir, "blobs", "sha256", wrong.ParsedDigest.Encoded), RandomNumberGenerator.GetBytes((int)wrong.Size));
        var ex = await Assert.ThrowsAsync<SealerException>(() => new BlobDistributor(source, Store).DistributeAsync([host], small));
        Assert.Equal(ErrorCodes.TransferDigestMismatch, ex.Code);
        Assert.Contains(wrong.Digest, ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(OnHost(wrong)));
        Assert.True(File.Exists(OnHost(small[8])));
        Assert.Empty(Directory.GetFiles(hosts.Hosts[1].OnHost(Store + "/ingest")));
    }

    private sealed class Recorder(List<TransferProgress> into) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            lock (into) into.Add(value);
        }
    }
}
