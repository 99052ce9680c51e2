using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer.Tests;

/// <summary>
/// A registry host's layout whose layer blobs are links into the content store (<see cref="InStoreBlobs"/>): each link
/// names the store's file of the one-member tar (an <c>image-blob</c> layer) holding the blob, and the registry serves
/// the member's bytes from it — whole, by range, verified — without a copy under <c>blobs/</c>.
/// </summary>
[Collection("registry")]
public sealed class InStoreBlobTests(RegistryFixture f)
{
    /// <summary>
    /// A layout like a registry host's rootfs/registry: the image's layers moved out into <c>store/blobs/sha256</c> as the
    /// tars a cluster image carries them in (written by .NET's TarWriter, PAX, or by GNU tar: both read), linked from
    /// <c>in-store/sha256/&lt;blob hex&gt;</c>. Returns the layout, the image, and the store file of each layer.
    /// </summary>
    private static (OciLayout Layout, BuiltImage Image, List<string> StoreFiles) LinkedLayout(string root, string seed, int layerBytes, bool gnuTar = false)
    {
        var layout = OciLayout.OpenOrCreate(Path.Combine(root, "rootfs", "registry"));
        var image = OciImages.Add(layout, $"docker.io/library/{seed}:1", seed, layers: 2, layerBytes: layerBytes);
        string store = Path.Combine(root, "store", "blobs", "sha256");
        Directory.CreateDirectory(store);
        var files = new List<string>();
        foreach (var layer in image.Layers)
        {
            var d = layer.ParsedDigest;
            byte[] blob = File.ReadAllBytes(layout.BlobPath(d));
            byte[] tar;
            if (gnuTar)
            {
                string work = Path.Combine(root, "gnu-" + d.Encoded[..8]);
                Directory.CreateDirectory(Path.Combine(work, "registry", "blobs", "sha256"));
                File.WriteAllBytes(Path.Combine(work, InStoreBlobs.MemberName(d)), blob);
                string tarFile = Path.Combine(root, "gnu.tar");
                using (var p = Process.Start(new ProcessStartInfo("tar", ["--format=gnu", "-cf", tarFile, "-C", work, InStoreBlobs.MemberName(d)]))!) p.WaitForExit();
                tar = File.ReadAllBytes(tarFile);
            }
            else
            {
                tar = OciImages.Tar((InStoreBlobs.MemberName(d), blob));
            }
            string storeFile = Path.Combine(store, OciImages.Sha256Hex(tar));
            File.WriteAllBytes(storeFile, tar);
            File.Delete(layout.BlobPath(d));
            string link = InStoreBlobs.LinkPath(layout.Root, d);
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            File.CreateSymbolicLink(link, storeFile);
            files.Add(storeFile);
        }
        return (layout, image, files);
    }

    private static async Task<(RegistryHost Host, HttpClient Client, ListLogger Log)> ServeAsync(OciLayout layout)
    {
        var log = new ListLogger();
        var options = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0, Logger = log };
        options.Layouts.Add(layout.Root);
        var host = await RegistryHost.StartAsync(options);
        return (host, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") }, log);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_linked_blob_is_served_whole_by_range_and_by_HEAD_from_the_store_layer(bool gnuTar)
    {
        string root = Path.Combine(f.Root, "in-store-" + (gnuTar ? "gnu" : "pax"));
        var (layout, image, storeFiles) = LinkedLayout(root, gnuTar ? "linkedgnu" : "linkedpax", 300_000, gnuTar);
        var (host, client, _) = await ServeAsync(layout);
        await using (host)
        using (client)
        {
            foreach (var l in image.Layers) Assert.False(File.Exists(layout.BlobPath(l.ParsedDigest)));
            for (int i = 0; i < image.Layers.Count; i++)
            {
                var layer = image.Layers[i];
                string name = gnuTar ? "linkedgnu" : "linkedpax";
                var r = await client.GetAsync($"/v2/library/{name}/blobs/{layer.Digest}");
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                byte[] body = await r.Content.ReadAsByteArrayAsync();
                Assert.Equal(layer.Size, body.Length);
                Assert.Equal(layer.Digest, Digest.Sha256(body).ToString());
                Assert.Equal(layer.Digest, r.Headers.GetValues("Docker-Content-Digest").Single());
                // the bytes are the member's, inside the bigger store file
                Assert.True(new FileInfo(storeFiles[i]).Length > layer.Size + 512);

                var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/library/{name}/blobs/{layer.Digest}"));
                Assert.Equal(layer.Size, head.Content.Headers.ContentLength);

                var ranged = new HttpRequestMessage(HttpMethod.Get, $"/v2/library/{name}/blobs/{layer.Digest}");
                ranged.Headers.Range = new RangeHeaderValue(1000, 200_999);
                var part = await client.SendAsync(ranged);
                Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
                Assert.Equal(body.AsSpan(1000, 200_000).ToArray(), await part.Content.ReadAsByteArrayAsync());
                Assert.Equal($"bytes 1000-200999/{layer.Size}", part.Content.Headers.ContentRange!.ToString());
            }
        }
    }

    [Fact]
    public async Task Skopeo_copies_an_image_whose_layers_are_links_and_every_digest_holds()
    {
        string root = Path.Combine(f.Root, "in-store-skopeo");
        var (layout, image, _) = LinkedLayout(root, "linkedcopy", 100_000);
        var (host, client, _) = await ServeAsync(layout);
        await using (host)
        using (client)
        {
            string dest = Path.Combine(root, "copied");
            var psi = new ProcessStartInfo("/usr/bin/skopeo", ["copy", "--src-tls-verify=false", $"docker://127.0.0.1:{host.Port}/docker.io/library/linkedcopy:1", $"oci:{dest}:x"])
            { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.Environment["REGISTRY_AUTH_FILE"] = "/nonexistent-auth.json";
            using var p = Process.Start(psi)!;
            string err = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            Assert.True(p.ExitCode == 0, err);
            foreach (var layer in image.Layers)
            {
                string copied = Path.Combine(dest, "blobs", "sha256", layer.ParsedDigest.Encoded);
                Assert.Equal(layer.Digest, Digest.Sha256(File.ReadAllBytes(copied)).ToString());
            }
        }
    }

    [Fact]
    public async Task A_corrupt_store_layer_a_wrong_one_and_a_dangling_link_are_never_served_and_say_why()
    {
        string root = Path.Combine(f.Root, "in-store-bad");
        var (layout, image, storeFiles) = LinkedLayout(root, "linkedbad", 50_000);
        var extra = OciImages.Add(layout, "docker.io/library/linkedmore:1", "linkedmore", layers: 1, layerBytes: 4096);
        // layer 0: a byte of the member flipped in the store file (its tar still reads)
        var at = InStoreBlobs.Locate(storeFiles[0], image.Layers[0].ParsedDigest, out _)!.Value;
        byte[] tar = File.ReadAllBytes(storeFiles[0]);
        tar[at.Offset + 100] ^= 0xff;
        File.WriteAllBytes(storeFiles[0], tar);
        // layer 1: its link points at the other layer's tar (another member)
        string link1 = InStoreBlobs.LinkPath(layout.Root, image.Layers[1].ParsedDigest);
        File.Delete(link1);
        File.CreateSymbolicLink(link1, storeFiles[0]);
        // extra's layer: moved to a link whose store file is gone
        var gone = extra.Layers[0].ParsedDigest;
        File.Delete(layout.BlobPath(gone));
        File.CreateSymbolicLink(InStoreBlobs.LinkPath(layout.Root, gone), Path.Combine(root, "store", "blobs", "sha256", new string('0', 64)));

        var (host, client, log) = await ServeAsync(layout);
        await using (host)
        using (client)
        {
            var corrupt = await client.GetAsync($"/v2/library/linkedbad/blobs/{image.Layers[0].Digest}");
            Assert.Equal(HttpStatusCode.InternalServerError, corrupt.StatusCode);
            Assert.Contains(log.Lines, l => l.Contains(image.Layers[0].Digest, StringComparison.Ordinal) && l.Contains("does not match its digest", StringComparison.Ordinal) && l.Contains($"bytes {at.Offset}+{at.Length}", StringComparison.Ordinal));

            var wrong = await client.GetAsync($"/v2/library/linkedbad/blobs/{image.Layers[1].Digest}");
            Assert.Equal(HttpStatusCode.NotFound, wrong.StatusCode);
            Assert.Contains(log.Lines, l => l.Contains("SEA", StringComparison.Ordinal) && l.Contains(image.Layers[1].Digest, StringComparison.Ordinal) && l.Contains("not the layer holding", StringComparison.Ordinal));

            var dangling = await client.GetAsync($"/v2/library/linkedmore/blobs/{gone}");
            Assert.Equal(HttpStatusCode.NotFound, dangling.StatusCode);
            Assert.Contains(log.Lines, l => l.Contains(gone.ToString(), StringComparison.Ordinal) && l.Contains("which is missing", StringComparison.Ordinal));
            // the rest of the image is untouched
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v2/library/linkedbad/blobs/{image.Configs[0].Digest}")).StatusCode);
        }
    }

    [Fact]
    public async Task A_blob_file_of_the_layout_wins_over_a_link()
    {
        string root = Path.Combine(f.Root, "in-store-both");
        var (layout, image, storeFiles) = LinkedLayout(root, "linkedboth", 20_000);
        var d = image.Layers[0].ParsedDigest;
        // the blob back under blobs/, and the store file broken: the file is what is served
        var at = InStoreBlobs.Locate(storeFiles[0], d, out _)!.Value;
        File.WriteAllBytes(layout.BlobPath(d), File.ReadAllBytes(storeFiles[0]).AsSpan((int)at.Offset, (int)at.Length).ToArray());
        File.WriteAllBytes(storeFiles[0], new byte[10]);
        var (host, client, _) = await ServeAsync(layout);
        await using (host)
        using (client)
        {
            var r = await client.GetAsync($"/v2/library/linkedboth/blobs/{d}");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(d.ToString(), Digest.Sha256(await r.Content.ReadAsByteArrayAsync()).ToString());
        }
    }
}
