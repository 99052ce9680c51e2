using System.Formats.Tar;
using System.Text;
using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Artifacts.Tests.Artifacts;

/// <summary>
/// Versions of one cluster image as a site receives them: the same apps, each an image-blob layer of random content
/// seeded by (app, app version), a rootfs and a registry layer that name the version. Two versions share every app
/// layer whose version did not change.
/// </summary>
public static class VersionedImages
{
    public static readonly string[] Apps = ["web", "api", "db", "cache", "queue", "auth"];

    /// <summary>Builds <c>shop</c> at <paramref name="version"/>; <paramref name="changed"/> apps are at app version 2, the rest at 1.</summary>
    public static Descriptor Build(OciLayout layout, string version, string[] changed, string arch = "amd64", int appBytes = 96 * 1024)
    {
        var layers = new List<(byte[] Bytes, string MediaType, byte[] DiffId, string Kind)>();
        byte[] rootfs = OciImages.Tar(("etc/version", Encoding.UTF8.GetBytes($"shop {version} {arch}\n")));
        layers.Add((OciImages.Gzip(rootfs), MediaTypes.OciLayerGzip, rootfs, ClusterImageFormat.LayerKindRootfs));
        foreach (string app in Apps)
        {
            int appVersion = changed.Contains(app) ? 2 : 1;
            byte[] blob = new byte[appBytes];
            new Random(BitConverter.ToInt32(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{app}/{appVersion}/{arch}")))).NextBytes(blob);
            byte[] tar = OciImages.Tar(($"registry/blobs/sha256/{OciImages.Sha256Hex(blob)}", blob));
            layers.Add((tar, MediaTypes.OciLayer, tar, ClusterImageFormat.LayerKindImageBlob));
        }
        byte[] meta = OciImages.Tar(("registry/images.json", Encoding.UTF8.GetBytes($"{{\"version\":\"{version}\",\"arch\":\"{arch}\",\"changed\":\"{string.Join(",", changed)}\"}}")));
        layers.Add((meta, MediaTypes.OciLayer, meta, ClusterImageFormat.LayerKindRegistry));

        var descriptors = layers.Select(l => layout.WriteBlob(l.Bytes, l.MediaType,
            new Dictionary<string, string> { [ClusterImageFormat.LayerKindAnnotation] = l.Kind })).ToList();
        var config = new ImageConfig
        {
            Architecture = arch, Os = "linux",
            Config = new ImageRuntimeConfig { Labels = new Dictionary<string, string> { ["sealer.io.kubeversion"] = "v1.30.0", ["version"] = version } },
            RootFs = new RootFs { DiffIds = layers.Select(l => "sha256:" + OciImages.Sha256Hex(l.DiffId)).ToList() },
        };
        var configDesc = layout.WriteBlob(OciJsonContext.ToBytes(config, OciJsonContext.Default.ImageConfig), MediaTypes.OciConfig);
        var manifest = new ImageManifest { MediaType = MediaTypes.OciManifest, Config = configDesc, Layers = descriptors };
        return layout.WriteBlob(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest);
    }

    /// <summary>An index over amd64 and arm64 of <see cref="Build"/>.</summary>
    public static Descriptor BuildMultiArch(OciLayout layout, string version, string[] changed)
    {
        var amd = Build(layout, version, changed, "amd64") with { Platform = new Platform { Os = "linux", Architecture = "amd64" } };
        var arm = Build(layout, version, changed, "arm64") with { Platform = new Platform { Os = "linux", Architecture = "arm64" } };
        return layout.WriteBlob(OciJsonContext.ToBytes(new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = [amd, arm] }, OciJsonContext.Default.ImageIndex), MediaTypes.OciIndex);
    }

    /// <summary>The entries of a (plain) tar by name, with their bytes.</summary>
    public static Dictionary<string, byte[]> Entries(string tarPath)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var reader = new TarReader(File.OpenRead(tarPath));
        while (reader.GetNextEntry() is { } e)
        {
            var ms = new MemoryStream();
            e.DataStream?.CopyTo(ms);
            result[e.Name] = ms.ToArray();
        }
        return result;
    }
}

[Collection(RegistryCollection.Name)]
public class DeltaTests(RegistryFixture fixture)
{
    private const string V14 = "example.com/shop/shop:1.4.0", V15 = "example.com/shop/shop:1.5.0", V16 = "example.com/shop/shop:1.6.0";

    /// <summary>A "build side" store with 1.4.0 and 1.5.0 (1.5.0 changed the api and db apps).</summary>
    private static (ClusterImageStore Store, StoredImage Base, StoredImage New) BuildSide(TempDir tmp, bool multiArch = false)
    {
        var store = ClusterImageStore.Open(tmp.Sub("build"));
        var v14 = multiArch ? VersionedImages.BuildMultiArch(store.Layout, "1.4.0", []) : VersionedImages.Build(store.Layout, "1.4.0", []);
        var v15 = multiArch ? VersionedImages.BuildMultiArch(store.Layout, "1.5.0", ["api", "db"]) : VersionedImages.Build(store.Layout, "1.5.0", ["api", "db"]);
        return (store, store.Add(V14, v14), store.Add(V15, v15));
    }

    /// <summary>A "site" store that holds 1.4.0 (loaded from a full archive of it).</summary>
    private static async Task<ClusterImageStore> SiteWithBase(TempDir tmp, ClusterImageStore build, string name = V14)
    {
        await OciArchive.SaveAsync(build, [V14], tmp.Sub("base.tar"));
        var site = ClusterImageStore.Open(tmp.Sub("site"));
        await OciArchive.LoadAsync(site, tmp.Sub("base.tar"), new OciArchive.LoadOptions { Name = name });
        return site;
    }

    private static HashSet<string> BlobEntries(string tar)
        => VersionedImages.Entries(tar).Keys.Where(k => k.StartsWith("blobs/", StringComparison.Ordinal)).Select(k => "sha256:" + k.Split('/')[2]).ToHashSet(StringComparer.Ordinal);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Delta_holds_exactly_the_blobs_the_base_lacks_plus_every_manifest_and_config(bool multiArch)
    {
        using var tmp = new TempDir();
        var (store, v14, v15) = BuildSide(tmp, multiArch);
        var result = await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"));

        var baseGraph = ImageGraph.Load(store.Layout, v14.Descriptor);
        var newGraph = ImageGraph.Load(store.Layout, v15.Descriptor);
        var inBase = baseGraph.AllDigests.Select(d => d.ToString()).ToHashSet();
        var configs = newGraph.Manifests.Where(m => m.Manifest is not null).Select(m => m.Manifest!.Config.Digest).ToHashSet();
        var layers = newGraph.Manifests.Where(m => m.Manifest is not null).SelectMany(m => m.Manifest!.Layers).Select(l => l.Digest).ToHashSet();
        var changedLayers = layers.Where(l => !inBase.Contains(l)).ToHashSet();
        // per platform: the rootfs, the api and db app layers, the registry layer
        Assert.Equal(multiArch ? 8 : 4, changedLayers.Count);

        var entries = BlobEntries(tmp.Sub("delta.tar"));
        var record = Digest.Parse(OciJsonContext.FromBytes(VersionedImages.Entries(tmp.Sub("delta.tar"))["index.json"], OciJsonContext.Default.ImageIndex, "index")
            .Annotations![DeltaArchive.RecordAnnotation]).ToString();
        var expected = changedLayers.Concat(configs).Concat(newGraph.Manifests.Select(m => m.Descriptor.Digest)).Append(record).ToHashSet();
        Assert.Equal(expected.Order(), entries.Order());

        Assert.Equal(V14, result.Info.BaseName);
        Assert.Equal(v14.Digest, result.Info.BaseDigest);
        Assert.Equal(layers.Except(changedLayers).Order(), result.Info.BaseBlobs.Select(b => b.Digest).Order());
        Assert.Equal(changedLayers.Count + configs.Count, result.BlobsCarried);
    }

    [Fact]
    public async Task Delta_info_names_the_base_and_the_new_image_without_loading_anything()
    {
        using var tmp = new TempDir();
        var (store, v14, v15) = BuildSide(tmp);
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar.zst"), new ArchiveSaveOptions { Compression = ArchiveCompression.Zstd });
        await OciArchive.SaveAsync(store, [V15], tmp.Sub("full.tar"));

        var info = await DeltaArchive.ReadDeltaInfoAsync(tmp.Sub("delta.tar.zst"));
        Assert.NotNull(info);
        Assert.Equal(V14, info.BaseName);
        Assert.Equal(v14.Digest, info.BaseDigest);
        Assert.Equal(v15.Digest, Assert.Single(info.Images).Digest);
        Assert.Equal(V15, info.Images[0].GetAnnotation(Annotations.RefName));
        Assert.Equal(4, info.BaseBlobs.Count); // the web, cache, queue and auth app layers: nothing else is shared
        Assert.Null(await DeltaArchive.ReadDeltaInfoAsync(tmp.Sub("full.tar")));

        // a plain delta is mapped by its headers, not read as a stream: the same record
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"));
        var plain = await DeltaArchive.ReadDeltaInfoAsync(tmp.Sub("delta.tar"));
        Assert.NotNull(plain);
        Assert.Equal((info.BaseName, info.BaseDigest), (plain.BaseName, plain.BaseDigest));
        Assert.Equal(info.BaseBlobs.Select(b => b.Digest), plain.BaseBlobs.Select(b => b.Digest));
        Assert.Equal(info.Images.Select(i => i.Digest), plain.Images.Select(i => i.Digest));
        // a full archive with index.json last (as the build writes it) is a full one without reading up to it
        using (var from = File.OpenRead(tmp.Sub("full.tar")))
        using (var to = File.Create(tmp.Sub("index-last.tar")))
        {
            using var reader = new System.Formats.Tar.TarReader(from);
            using var writer = new System.Formats.Tar.TarWriter(to);
            System.Formats.Tar.TarEntry? index = null;
            while (reader.GetNextEntry(copyData: true) is { } e)
            {
                if (e.Name == "index.json") index = e;
                else writer.WriteEntry(e);
            }
            writer.WriteEntry(index!);
        }
        Assert.Null(await DeltaArchive.ReadDeltaInfoAsync(tmp.Sub("index-last.tar")));
        // what is not an OCI tar still says so
        File.WriteAllText(tmp.Sub("text.tar"), "not a tar\n");
        Assert.Equal(ErrorCodes.NotAnOciArchive, (await Assert.ThrowsAsync<SealerException>(() => DeltaArchive.ReadDeltaInfoAsync(tmp.Sub("text.tar")))).Code);
    }

    [Theory]
    [InlineData(ArchiveCompression.None)]
    [InlineData(ArchiveCompression.Zstd)]
    public async Task Delta_loaded_where_the_base_is_gives_the_new_image_with_its_original_digest(ArchiveCompression compression)
    {
        using var tmp = new TempDir();
        var (store, _, v15) = BuildSide(tmp, multiArch: true);
        var site = await SiteWithBase(tmp, store);
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"), new ArchiveSaveOptions { Compression = compression });

        var result = await site.LoadAsync(tmp.Sub("delta.tar"));

        var loaded = Assert.Single(result.Images);
        Assert.Equal(V15, loaded.Name);
        Assert.Equal(v15.Digest, loaded.Digest);
        Assert.Equal(v15.Size, loaded.Size);
        Assert.Equal(["linux/amd64", "linux/arm64"], loaded.Platforms);
        Assert.NotNull(result.Delta);
        Assert.Equal(8 + 2 + 3, result.BlobsLoaded); // the changed layers, both configs, the index and both manifests
        foreach (var d in ImageGraph.Load(site.Layout, loaded.Descriptor).AllDigests)
        {
            Assert.True(await site.Layout.VerifyBlobAsync(d), $"{d} verifies");
        }
    }

    [Fact]
    public async Task Delta_loads_when_the_base_is_in_the_store_under_another_name()
    {
        using var tmp = new TempDir();
        var (store, _, v15) = BuildSide(tmp);
        var site = await SiteWithBase(tmp, store, name: "registry.site.local/mirror/shop-base:old");
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"));

        var loaded = Assert.Single((await site.LoadAsync(tmp.Sub("delta.tar"))).Images);
        Assert.Equal(v15.Digest, loaded.Digest);
        Assert.Equal([V15, "registry.site.local/mirror/shop-base:old"], site.List().Select(i => i.Name));
    }

    [Fact]
    public async Task Delta_without_its_base_is_SEA1710_naming_the_base_and_nothing_is_written()
    {
        using var tmp = new TempDir();
        var (store, v14, _) = BuildSide(tmp);
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"));
        var empty = ClusterImageStore.Open(tmp.Sub("empty"));

        var ex = await Assert.ThrowsAsync<SealerException>(() => empty.LoadAsync(tmp.Sub("delta.tar")));

        Assert.Equal(ErrorCodes.DeltaBaseMissing, ex.Code);
        Assert.Contains(V14, ex.Message);
        Assert.Contains(v14.Digest, ex.Message);
        Assert.Contains("lacks 4 of the 4 blobs", ex.Message);
        Assert.Empty(empty.List());
        Assert.Empty(empty.Layout.ReadIndex().Manifests);
        Assert.Empty(Directory.GetFiles(Path.Combine(empty.Root, "blobs", "sha256"))); // refused before any blob was written
    }

    [Fact]
    public async Task Delta_whose_base_lost_one_blob_is_refused_counting_only_that_blob()
    {
        using var tmp = new TempDir();
        var (store, _, _) = BuildSide(tmp);
        var site = await SiteWithBase(tmp, store);
        var info = (await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"))).Info;
        File.Delete(site.Layout.BlobPath(info.BaseBlobs[0].ParsedDigest));

        var ex = await Assert.ThrowsAsync<SealerException>(() => site.LoadAsync(tmp.Sub("delta.tar")));

        Assert.Equal(ErrorCodes.DeltaBaseMissing, ex.Code);
        Assert.Contains($"lacks 1 of the 4 blobs it takes from that base ({DeltaArchive_Size(info.BaseBlobs[0].Size)}", ex.Message);
        Assert.Null(site.TryResolve(V15));
    }

    private static string DeltaArchive_Size(long bytes) => bytes < 1024 ? $"{bytes} B" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB");

    [Fact]
    public async Task Truncated_delta_is_refused_and_nothing_is_named()
    {
        using var tmp = new TempDir();
        var (store, _, _) = BuildSide(tmp);
        var site = await SiteWithBase(tmp, store);
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"));
        byte[] bytes = File.ReadAllBytes(tmp.Sub("delta.tar"));
        var before = site.Layout.ReadIndex().Manifests.Count;

        foreach (int cut in new[] { bytes.Length / 2, bytes.Length - 1024 - 512, bytes.Length * 9 / 10 })
        {
            File.WriteAllBytes(tmp.Sub("cut.tar"), bytes[..cut]);
            var ex = await Assert.ThrowsAsync<SealerException>(() => site.LoadAsync(tmp.Sub("cut.tar")));
            Assert.True(ex.Code is ErrorCodes.NotAnOciArchive or ErrorCodes.ArchiveIncomplete or ErrorCodes.ArchiveBlobCorrupt, $"cut at {cut}: {ex.ToDiagnosticString()}");
            Assert.Null(site.TryResolve(V15));
            Assert.Equal(before, site.Layout.ReadIndex().Manifests.Count);
        }
        // The whole delta still loads afterwards (the verified blobs the cut loads left are reused).
        Assert.Single((await site.LoadAsync(tmp.Sub("delta.tar"))).Images);
    }

    [Fact]
    public async Task Delta_with_a_tampered_record_is_refused()
    {
        using var tmp = new TempDir();
        var (store, _, _) = BuildSide(tmp);
        var site = await SiteWithBase(tmp, store);
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"));
        var entries = VersionedImages.Entries(tmp.Sub("delta.tar"));
        var index = OciJsonContext.FromBytes(entries["index.json"], OciJsonContext.Default.ImageIndex, "index");
        string recordEntry = "blobs/sha256/" + Digest.Parse(index.Annotations![DeltaArchive.RecordAnnotation]).Encoded;
        // Claim the base provides nothing: the record no longer hashes to its name.
        entries[recordEntry] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(entries[recordEntry]).Replace("\"blobs\":[", "\"blobs\":[ "));
        File.WriteAllBytes(tmp.Sub("tampered.tar"), OciImages.Tar(entries.Select(e => (e.Key, e.Value)).ToArray()));

        var ex = await Assert.ThrowsAsync<SealerException>(() => site.LoadAsync(tmp.Sub("tampered.tar")));
        Assert.Equal(ErrorCodes.ArchiveBlobCorrupt, ex.Code);
        Assert.Null(site.TryResolve(V15));

        // Without the record blob at all.
        entries.Remove(recordEntry);
        File.WriteAllBytes(tmp.Sub("norecord.tar"), OciImages.Tar(entries.Select(e => (e.Key, e.Value)).ToArray()));
        ex = await Assert.ThrowsAsync<SealerException>(() => site.LoadAsync(tmp.Sub("norecord.tar")));
        Assert.Equal(ErrorCodes.DeltaRecordInvalid, ex.Code);
        Assert.Null(site.TryResolve(V15));
    }

    [Fact]
    public async Task Delta_chain_loads_in_order_and_out_of_order_is_refused()
    {
        using var tmp = new TempDir();
        var (store, _, _) = BuildSide(tmp);
        var v16 = store.Add(V16, VersionedImages.Build(store.Layout, "1.6.0", ["api", "db", "web"]));
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("1.4-1.5.tar"));
        await DeltaArchive.SaveAsync(store, V15, V16, tmp.Sub("1.5-1.6.tar"));
        var site = await SiteWithBase(tmp, store);

        var ex = await Assert.ThrowsAsync<SealerException>(() => site.LoadAsync(tmp.Sub("1.5-1.6.tar")));
        Assert.Equal(ErrorCodes.DeltaBaseMissing, ex.Code);
        Assert.Contains(V15, ex.Message);
        Assert.Null(site.TryResolve(V16));

        await site.LoadAsync(tmp.Sub("1.4-1.5.tar"));
        var loaded = Assert.Single((await site.LoadAsync(tmp.Sub("1.5-1.6.tar"))).Images);
        Assert.Equal(v16.Digest, loaded.Digest);
        Assert.Equal([V14, V15, V16], site.List().Select(i => i.Name));
    }

    [Fact]
    public async Task Delta_of_a_build_layout_over_a_store_image_loads_from_an_unpacked_layout_directory_too()
    {
        using var tmp = new TempDir();
        var (store, v14, _) = BuildSide(tmp);
        var build = OciLayout.OpenOrCreate(tmp.Sub("bin"));
        var root = VersionedImages.Build(build, "1.5.0", ["queue"]);
        await DeltaArchive.SaveAsync(new LayoutImage(V14, store.Layout, v14.Descriptor), new LayoutImage("example.com/shop/shop:1.5.1", build, root), tmp.Sub("d.tar"));
        Directory.CreateDirectory(tmp.Sub("unpacked"));
        Assert.Equal(0, Processes.Run("tar", "-xf", tmp.Sub("d.tar"), "-C", tmp.Sub("unpacked")).ExitCode);
        var site = await SiteWithBase(tmp, store);

        var result = await site.LoadAsync(tmp.Sub("unpacked"));

        Assert.Equal(root.Digest, Assert.Single(result.Images).Digest);
        Assert.NotNull(result.Delta);
    }

    [SkippableFactIfNoSkopeo]
    public async Task Skopeo_reads_the_delta_index_and_manifest_but_a_copy_fails_on_the_left_out_layers()
    {
        using var tmp = new TempDir();
        var (store, _, v15) = BuildSide(tmp);
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"));

        var (rc, raw) = Processes.Run("skopeo", "inspect", "--raw", $"oci-archive:{tmp.Sub("delta.tar")}");
        Assert.True(rc == 0, raw);
        Assert.Equal(v15.Descriptor.ParsedDigest, Digest.Sha256(Encoding.UTF8.GetBytes(raw.TrimEnd('\n'))));
        (rc, var config) = Processes.Run("skopeo", "inspect", "--config", $"oci-archive:{tmp.Sub("delta.tar")}");
        Assert.True(rc == 0, config);
        Assert.Contains("\"version\": \"1.5.0\"", config);

        (rc, var copy) = Processes.Run("skopeo", "copy", "--preserve-digests", "--quiet", $"oci-archive:{tmp.Sub("delta.tar")}", $"oci:{tmp.Sub("copy")}:x");
        Assert.NotEqual(0, rc);
        Assert.Contains("sha256", copy);
    }

    [RegistryFact]
    public async Task Image_completed_from_a_delta_pushes_and_skopeo_copies_it_with_the_original_digest()
    {
        using var tmp = new TempDir();
        var (store, _, v15) = BuildSide(tmp, multiArch: true);
        var site = await SiteWithBase(tmp, store);
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar.zst"), new ArchiveSaveOptions { Compression = ArchiveCompression.Zstd });
        var loaded = Assert.Single((await site.LoadAsync(tmp.Sub("delta.tar.zst"))).Images);
        var dest = ImageReference.Parse($"{fixture.Env.Registry("docker.io").Address}/artifacts/delta-{Guid.NewGuid().ToString("N")[..8]}:1.5.0");

        var pushed = await new RegistryPusher().PushAsync(site.Layout, loaded.Descriptor, dest);

        Assert.Equal(v15.Digest, pushed.Digest);
        var (rc, output) = Processes.Run("skopeo", "copy", "--all", "--preserve-digests", "--quiet", "--src-tls-verify=false", $"docker://{dest}", $"oci:{tmp.Sub("pulled")}:{dest}");
        Assert.True(rc == 0, output); // skopeo verifies every blob digest while copying
        (rc, output) = Processes.Run("skopeo", "copy", "--all", "--preserve-digests", "--quiet", $"oci:{site.Root}:{V15}", $"oci-archive:{tmp.Sub("from-store.tar")}:{V15}");
        Assert.True(rc == 0, output);
        var other = ClusterImageStore.Open(tmp.Sub("other"));
        Assert.Equal(v15.Digest, Assert.Single(await OciArchive.LoadAsync(other, tmp.Sub("from-store.tar"))).Digest);
    }

    [Fact]
    public async Task Running_a_delta_directly_says_to_load_it_where_its_base_is()
    {
        using var tmp = new TempDir();
        var (store, _, _) = BuildSide(tmp);
        await DeltaArchive.SaveAsync(store, V14, V15, tmp.Sub("delta.tar"));
        var ex = Assert.Throws<Sealer.Core.Diagnostics.SealerException>(() => Sealer.Core.Delivery.ClusterImageSource.Open(tmp.Sub("delta.tar")));
        Assert.Equal(Sealer.Core.Diagnostics.ErrorCodes.BadClusterImage, ex.Code);
        Assert.Contains("is a delta of", ex.Message, StringComparison.Ordinal);
        Assert.Contains("sealer load", ex.Message, StringComparison.Ordinal);
    }
}
