using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Sealer.Core.Artifacts;
using Sealer.Core.Bundle;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.IO;
using Sealer.Core.Layout;
using Sealer.Core.References;

namespace Sealer.Cli.Commands;

/// <summary>
/// Cluster images in the local store (<c>~/.sealer/images</c>, or <c>SEALER_IMAGES_DIR</c>, or <c>--store DIR</c>):
/// images, inspect, tag, rmi, prune, save, load, push, pull, attach. One method a command: its arguments and options, then
/// its action.
/// </summary>
internal static class ImageCommands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static IEnumerable<Command> Create() => [Images(), Inspect(), Tag(), Rmi(), Prune(), Save(), Load(), Push(), Mirror(), Pull(), Attach()];

    private static Argument<string> ImageName(string name = "NAME", string description = "cluster image name in the store") =>
        new(name) { Description = description };

    private static Command Images()
    {
        var store = CliOptions.Store();
        var format = CliOptions.Format("table");
        var command = new SealerCommand("images", "List cluster images in the local store") { format, store };
        command.SetAction(p =>
        {
            var images = ClusterImageStore.Open(p.GetValue(store)).List();
            if (p.GetValue(format) == "json")
            {
                var json = images.Select(i => new StoredImageJson { Name = i.Name, Digest = i.Digest, Platforms = i.Platforms, Size = i.Size }).ToList();
                Console.Out.WriteLine(JsonSerializer.Serialize(json, ArtifactsJsonContext.Readable.ListStoredImageJson));
                return 0;
            }
            int width = Math.Max(10, images.Count == 0 ? 0 : images.Max(i => i.Name.Length));
            Console.Out.WriteLine($"{"NAME".PadRight(width)}  {"DIGEST",-19}  {"PLATFORMS",-24}  SIZE");
            foreach (var i in images)
            {
                Console.Out.WriteLine($"{i.Name.PadRight(width)}  {i.Descriptor.ParsedDigest.Encoded[..12],-19}  {string.Join(",", i.Platforms),-24}  {Bytes.Format(i.Size)}");
            }
            return 0;
        });
        return command;
    }

    private static Command Inspect()
    {
        var name = ImageName("NAME", "cluster image name in the store, or an OCI archive (.tar) or site bundle file");
        var output = CliOptions.OneOf("--output", "output format", ["text", "json"], "-o");
        var imagesOnly = CliOptions.Flag("--images", "print only the list of app images with their digests (JSON)");
        var sbom = CliOptions.Flag("--sbom", "print the image's SPDX 2.3 SBOM (the attached referrer; generated from the image when none is attached)");
        var store = CliOptions.Store();
        var command = new SealerCommand("inspect", "Show a cluster image: platforms, labels, apps, images inside (-o json)",
            "Shows a cluster image (from the store, an OCI archive or a site bundle, read in place): platforms, labels, apps, the images inside, referrers.") { name, output, imagesOnly, sbom, store };
        command.SetAction(p =>
        {
            string what = p.GetValue(name)!;
            if (p.GetValue(sbom))
            {
                Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(ReadSbom(what, p.GetValue(store))).TrimEnd());
                return 0;
            }
            var info = File.Exists(what)
                ? ClusterImageInspector.Inspect(SiteBundle.OpenArchiveOf(what))
                : ClusterImageInspector.Inspect(ClusterImageStore.Open(p.GetValue(store)), what);
            if (p.GetValue(imagesOnly))
            {
                var all = info.Platforms.SelectMany(x => x.Images).GroupBy(i => i.Reference, StringComparer.Ordinal)
                    .Select(g => g.First() with { Platforms = g.SelectMany(i => i.Platforms).DistinctBy(x => x.Digest).ToList() }).ToList();
                Console.Out.WriteLine(JsonSerializer.Serialize(new ContainedImageList { Images = all }, ArtifactsJsonContext.Readable.ContainedImageList));
                return 0;
            }
            if (p.GetValue(output) == "json")
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(info, ArtifactsJsonContext.Readable.ClusterImageInfo));
                return 0;
            }
            PrintInfo(info);
            return 0;
        });
        return command;
    }

    /// <summary>The SBOM referrer of a store image or archive; when none is attached, one generated from the image (said on stderr).</summary>
    private static byte[] ReadSbom(string what, string? storeDir)
    {
        ClusterImageInfo info;
        byte[]? attached;
        if (File.Exists(what))
        {
            var archive = SiteBundle.OpenArchiveOf(what);
            info = ClusterImageInspector.Inspect(archive);
            attached = ClusterImageSbom.Find(archive.ReadIndex(), d => archive.HasBlob(d), (d, max) => archive.ReadBlobBytes(d, max), info.Digest);
        }
        else
        {
            var s = ClusterImageStore.Open(storeDir);
            var image = s.Resolve(what);
            info = ClusterImageInspector.Inspect(s, what);
            attached = ClusterImageSbom.Find(s.Layout.ReadIndex(), d => s.Layout.HasBlob(d), (d, max) => s.Layout.ReadBlobBytes(d, max), image.Digest);
        }
        if (attached is not null) return attached;
        Console.Error.WriteLine($"{what} has no SBOM attached; this one is generated from the image now ('sealer push --sbom' attaches it).");
        return ClusterImageSbom.Create(info, DateTimeOffset.UtcNow);
    }

    private static void PrintInfo(ClusterImageInfo info)
    {
        var w = Console.Out;
        w.WriteLine($"Name:       {info.Name}");
        w.WriteLine($"Digest:     {info.Digest}");
        w.WriteLine($"MediaType:  {info.MediaType}");
        w.WriteLine($"Size:       {Bytes.Format(info.Size)}");
        foreach (var p in info.Platforms)
        {
            w.WriteLine();
            w.WriteLine($"Platform {p.Platform}: manifest {p.ManifestDigest}, {p.LayerCount} layers, {Bytes.Format(p.Size)}");
            if (p.Labels.Count > 0)
            {
                w.WriteLine("  Labels:");
                foreach (var kv in p.Labels) w.WriteLine($"    {kv.Key}={kv.Value}");
            }
            if (p.Env is { Count: > 0 }) w.WriteLine($"  Env: {string.Join(" ", p.Env)}");
            if (p.Extension is { } ext)
            {
                w.WriteLine($"  Type: {ext.Type}");
                foreach (var app in ext.Applications) w.WriteLine($"  App {app.Name} ({app.Type}{(app.Version is null ? "" : " " + app.Version)}): {string.Join(", ", app.Files)}");
                if (ext.LaunchApps is not null) w.WriteLine($"  Launch apps: {string.Join(", ", ext.LaunchApps)}");
                if (ext.LaunchCmds is not null) w.WriteLine($"  Launch cmds: {string.Join(" && ", ext.LaunchCmds)}");
            }
            w.WriteLine($"  Images ({p.Images.Count}):");
            foreach (var i in p.Images) w.WriteLine($"    {i.Reference}@{i.Digest} [{string.Join(",", i.Platforms.Select(x => x.Platform ?? "?"))}]");
        }
        if (info.Referrers is { } refs)
        {
            w.WriteLine();
            foreach (var r in refs) w.WriteLine($"Referrer {r.Digest} ({r.ArtifactType}) → {r.Subject}");
        }
    }

    private static Command Tag()
    {
        var source = ImageName("SOURCE", "the image's current name");
        var target = new Argument<string>("TARGET") { Description = "the new name" };
        var store = CliOptions.Store();
        var command = new SealerCommand("tag", "Give a cluster image another name") { source, target, store };
        command.SetAction(p =>
        {
            var img = ClusterImageStore.Open(p.GetValue(store)).Tag(p.GetValue(source)!, p.GetValue(target)!);
            Console.Out.WriteLine($"{img.Name} -> {img.Digest}");
            return 0;
        });
        return command;
    }

    private static Command Rmi()
    {
        var names = new Argument<string[]>("NAME") { Description = "cluster image names to remove", Arity = ArgumentArity.OneOrMore };
        var prune = CliOptions.Flag("--prune", "free the blobs no image references afterwards (as 'sealer prune --grace 0' on the store)");
        var store = CliOptions.Store();
        var command = new SealerCommand("rmi", "Remove cluster image names from the local store",
            "Removes names from the store; run 'sealer prune' (or pass --prune) to free the space.") { names, prune, store };
        command.SetAction(p =>
        {
            var s = ClusterImageStore.Open(p.GetValue(store));
            foreach (var name in p.GetValue(names)!)
            {
                var removed = s.Remove(name);
                Console.Out.WriteLine($"Untagged: {removed.Name} ({removed.Digest})");
            }
            if (p.GetValue(prune)) PrintGc(GarbageCollector.Collect(s.Layout, TimeSpan.Zero));
            return 0;
        });
        return command;
    }

    private static Command Prune()
    {
        var dryRun = CliOptions.Flag("--dry-run", "report what would be freed, delete nothing");
        var grace = CliOptions.Text("--grace", "keep blobs younger than this (being written): 30s, 10m, 2h, 1d or 0 (default 10m)", "DURATION");
        var noCache = CliOptions.Flag("--no-cache", "leave the image cache alone");
        var cache = CliOptions.Text("--cache", "image cache to prune too (default: $SEALER_CACHE_DIR, else ~/.sealer/cache)", "DIR", "--cache-dir");
        var store = CliOptions.Store();
        var format = CliOptions.Format();
        var command = new SealerCommand("prune", "Free blobs no image references (store and image cache)",
            "Deletes blobs no image references, in the store and the image cache, and partial downloads.") { dryRun, grace, noCache, cache, store, format };
        command.SetAction(p =>
        {
            bool dry = p.GetValue(dryRun);
            var g = p.GetValue(grace) is { } text ? ParseDuration(text) : GarbageCollector.DefaultGracePeriod;
            var reports = new List<GcReport> { GarbageCollector.Collect(ClusterImageStore.Open(p.GetValue(store)).Layout, g, dry) };
            string cacheDir = p.GetValue(cache) ?? ClusterImageStore.DefaultCacheDirectory;
            if (!p.GetValue(noCache) && File.Exists(Path.Combine(cacheDir, "oci-layout")))
            {
                reports.Add(GarbageCollector.Collect(Sealer.Core.Layout.OciLayout.Open(cacheDir), g, dry));
            }
            if (p.GetValue(format) == "json")
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(reports, ArtifactsJsonContext.Readable.ListGcReport));
                return 0;
            }
            foreach (var r in reports) PrintGc(r);
            Console.Out.WriteLine($"Total {(dry ? "would free" : "freed")}: {Bytes.Format(reports.Sum(r => r.TotalFreed))}");
            return 0;
        });
        return command;
    }

    private static void PrintGc(GcReport r)
        => Console.Out.WriteLine($"{r.Root}: {(r.DryRun ? "would remove" : "removed")} {r.BlobsRemoved} blobs ({Bytes.Format(r.BytesFreed)}) and {r.PartialsRemoved} partial downloads ({Bytes.Format(r.PartialBytesFreed)}); kept {r.BlobsKept} blobs ({Bytes.Format(r.BytesKept)})");

    private static Command Save()
    {
        var names = new Argument<string[]>("NAME") { Description = "cluster images to write", Arity = ArgumentArity.OneOrMore };
        var output = CliOptions.Text("--output", "the archive to write, or - for stdout (sealer save -o - x | ssh host sealer load -i -)", "FILE", "-o");
        output.Required = true;
        var zstd = CliOptions.Flag("--zstd", "compress with zstd (also when FILE ends in .zst or .tzst)");
        var level = CliOptions.Int("--zstd-level", "zstd level", 3, 1, 22);
        var since = CliOptions.Text("--since", "write a delta: only the blobs NAME has that BASE lacks (plus every manifest and config); load it where BASE is", "BASE");
        var store = CliOptions.Store();
        var command = new SealerCommand("save", "Write cluster images to one OCI archive (optionally zstd), or a delta over a base",
            "Writes cluster images to one OCI archive file (skopeo: oci-archive:FILE).\n" +
            "With --since BASE: a delta archive of one image, carrying only the layers BASE lacks; 'sealer load' of it\n" +
            "needs BASE's blobs in the store (under any name) and refuses otherwise.") { names, output, zstd, level, since, store };
        command.SetAction(async (p, cancellationToken) =>
        {
            string file = p.GetValue(output)!;
            var images = p.GetValue(names)!;
            bool compress = p.GetValue(zstd) || file.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".tzst", StringComparison.OrdinalIgnoreCase);
            var options = new ArchiveSaveOptions
            {
                Compression = compress ? ArchiveCompression.Zstd : ArchiveCompression.None,
                ZstdLevel = p.GetValue(level),
                Progress = ProgressPrinter("saved"),
            };
            if (p.GetValue(since) is { } baseName)
            {
                if (images.Length != 1) throw Usage("--since writes the delta of exactly one image; name one NAME");
                return await SaveDeltaAsync(ClusterImageStore.Open(p.GetValue(store)), baseName, images[0], file, options, cancellationToken).ConfigureAwait(false);
            }
            if (file == "-")
            {
                if (!Console.IsOutputRedirected) throw Usage("refusing to write an archive to a terminal; redirect stdout or give -o FILE");
                await using var stdout = Console.OpenStandardOutput();
                await OciArchive.SaveToStreamAsync(ClusterImageStore.Open(p.GetValue(store)), images, stdout, options with { Progress = null }, cancellationToken).ConfigureAwait(false);
                return 0;
            }
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var saved = await OciArchive.SaveAsync(ClusterImageStore.Open(p.GetValue(store)), images, file, options, cancellationToken).ConfigureAwait(false);
            ClearProgress();
            foreach (var i in saved) Console.Out.WriteLine($"Saved {i.Name} ({i.Digest}, {string.Join(",", i.Platforms)})");
            Console.Out.WriteLine($"{file}: {Bytes.Format(new FileInfo(file).Length)} in {sw.Elapsed.TotalSeconds:F1}s");
            return 0;
        });
        return command;
    }

    private static async Task<int> SaveDeltaAsync(ClusterImageStore store, string baseName, string name, string file, ArchiveSaveOptions options, CancellationToken cancellationToken)
    {
        if (file == "-")
        {
            if (!Console.IsOutputRedirected) throw Usage("refusing to write an archive to a terminal; redirect stdout or give -o FILE");
            await using var stdout = Console.OpenStandardOutput();
            await DeltaArchive.SaveToStreamAsync(store, baseName, name, stdout, options with { Progress = null }, cancellationToken).ConfigureAwait(false);
            return 0;
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var result = await DeltaArchive.SaveAsync(store, baseName, name, file, options, cancellationToken).ConfigureAwait(false);
        ClearProgress();
        Console.Out.WriteLine($"Saved {result.Name} ({result.Root.Digest}) as a delta over {result.Info.BaseName} ({result.Info.BaseDigest})");
        Console.Out.WriteLine($"  carried: {result.Manifests} manifests, {result.BlobsCarried} blobs ({Bytes.Format(result.BytesCarried)}); left to the base: {result.Info.BaseBlobs.Count} blobs ({Bytes.Format(result.Info.BaseBytes)})");
        Console.Out.WriteLine($"{file}: {Bytes.Format(new FileInfo(file).Length)} in {sw.Elapsed.TotalSeconds:F1}s");
        return 0;
    }

    private static Command Load()
    {
        var path = new Argument<string?>("FILE") { Description = "the archive, layout or site bundle (instead of -i)", Arity = ArgumentArity.ZeroOrOne };
        var input = CliOptions.Text("--input", "OCI archive (plain, zstd or gzip), OCI layout directory, site bundle (.run, split or not), or - for stdin", "FILE|DIR|-", "-i");
        var name = CliOptions.Text("--name", "name to give the image (when the archive has one image)", "REF");
        var store = CliOptions.Store();
        var command = new SealerCommand("load", "Load cluster images from an OCI archive or layout, verifying every blob",
            "Loads cluster images from an OCI archive (plain/zstd/gzip), an OCI layout directory or a site bundle (its\n" +
            "archive read in place, across its part files when split); every blob is verified.\n" +
            "A delta archive (sealer save --since BASE) loads only into a store holding BASE's blobs; the image is named\n" +
            "once its whole graph is there, and without the base nothing is loaded (error SEA1710).") { path, input, name, store };
        command.SetAction(async (p, cancellationToken) =>
        {
            string from = p.GetValue(input) ?? p.GetValue(path) ?? throw Usage("load needs -i FILE");
            var loadOptions = new OciArchive.LoadOptions { Name = p.GetValue(name), Progress = ProgressPrinter("loaded") };
            var s = ClusterImageStore.Open(p.GetValue(store));
            ArchiveLoadResult loaded;
            if (from == "-")
            {
                await using var stdin = Console.OpenStandardInput();
                loaded = await s.LoadAsync(stdin, "stdin", loadOptions, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                loaded = await s.LoadAsync(from, loadOptions, cancellationToken).ConfigureAwait(false);
            }
            ClearProgress();
            foreach (var i in loaded.Images) Console.Out.WriteLine($"Loaded {i.Name} ({i.Digest}, {string.Join(",", i.Platforms)}, {Bytes.Format(i.Size)})");
            if (loaded.Delta is { } delta)
            {
                Console.Out.WriteLine($"  from a delta over {delta.BaseName} ({delta.BaseDigest}): {loaded.BlobsLoaded} blobs ({Bytes.Format(loaded.BytesLoaded)}) new in the store, {delta.BaseBlobs.Count} blobs ({Bytes.Format(delta.BaseBytes)}) taken from the base");
            }
            return 0;
        });
        return command;
    }

    private static Command Push()
    {
        var source = new Argument<string>("SOURCE") { Description = "a name in the store, or an OCI layout directory, archive or site bundle (then DESTINATION is needed)" };
        var destination = new Argument<string?>("DESTINATION") { Description = "where to push (default: the name in the store)", Arity = ArgumentArity.ZeroOrOne };
        var concurrency = CliOptions.Int("--concurrency", "blobs uploaded at once", 4, 1, 32);
        var chunk = CliOptions.Int("--chunk-size-mb", "upload chunk size in MiB (an interrupted upload resends at most one chunk)", 64, 1, 1024);
        var mountFrom = CliOptions.Repeatable("--mount-from", "repository on the same registry to mount blobs from", "REPO", false);
        var tags = CliOptions.Repeatable("--tag", "another tag to push the image under", "T", false);
        var plainHttp = CliOptions.Flag("--plain-http", "use http:// (a registry without TLS)");
        var (user, passwordStdin) = LoginOptions();
        var attachSbom = CliOptions.Flag("--sbom", "attach the image's SPDX 2.3 SBOM (app images, apps) as a referrer before pushing");
        var format = CliOptions.Format();
        var store = CliOptions.Store();
        var command = new SealerCommand("push", "Push a cluster image (all platforms) to a registry",
            "Pushes a cluster image (every platform) to a registry. Credentials: SEALER_REGISTRY_USER/PASSWORD,\n" +
            "~/.docker/config.json, or -u with --password-stdin. A plain archive or a site bundle (split or not) is read\n" +
            "in place: nothing is unpacked, and the registry checks every blob's digest.")
        {
            source, destination, concurrency, chunk, mountFrom, tags, plainHttp, user, passwordStdin, attachSbom, format, store,
        };
        command.SetAction(async (p, cancellationToken) =>
        {
            string src = p.GetValue(source)!;
            string? dest = p.GetValue(destination);
            bool fromPath = Directory.Exists(src) || (File.Exists(src) && (src.Contains('/') || src.Contains('.')));
            if (fromPath && dest is null) throw Usage("pushing a layout directory, archive or site bundle needs a DESTINATION");
            var s = fromPath ? null : ClusterImageStore.Open(p.GetValue(store));
            var image = s?.Resolve(src);
            var target = ImageReference.Parse(dest ?? image!.Name);
            var options = new PushOptions { Progress = PushProgressPrinter() };
            options.Concurrency = p.GetValue(concurrency);
            options.ChunkSize = p.GetValue(chunk) * 1024L * 1024;
            foreach (var m in p.GetValue(mountFrom)!) options.MountFrom.Add(m);
            foreach (var t in p.GetValue(tags)!) options.AdditionalTags.Add(t);
            if (p.GetValue(plainHttp)) options.PlainHttp = true;
            options.AttachSbom = p.GetValue(attachSbom);
            options.Credentials = StdinCredentials(p, user, passwordStdin, target.Domain);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var result = s is null
                ? await new RegistryPusher(options).PushAsync(src, target.ToString(), null, cancellationToken).ConfigureAwait(false)
                : await new RegistryPusher(options).PushAsync(s.Layout, image!.Descriptor, target, cancellationToken).ConfigureAwait(false);
            ClearProgress();
            if (p.GetValue(format) == "json")
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(result, ArtifactsJsonContext.Readable.PushResult));
                return 0;
            }
            Console.Out.WriteLine($"Pushed {result.Reference}@{result.Digest}");
            Console.Out.WriteLine($"  {result.BlobsTotal} blobs: {result.BlobsUploaded} uploaded ({Bytes.Format(result.BytesUploaded)}), {result.BlobsSkipped} already there, {result.BlobsMounted} mounted; {result.Manifests} manifests; {sw.Elapsed.TotalSeconds:F1}s");
            foreach (var t in options.AdditionalTags) Console.Out.WriteLine($"  also tagged {target.Name}:{t}");
            return 0;
        });
        return command;
    }

    private static Command Mirror()
    {
        var source = new Argument<string>("IMAGE") { Description = "a cluster image: a name in the store, or an OCI layout directory, archive or site bundle" };
        var registry = new Argument<string>("REGISTRY") { Description = "the registry to fill: host[:port] (e.g. harbor.site), or host[:port]/PREFIX to put every image under PREFIX/DOMAIN/ (one Harbor project: harbor.site/sealer)" };
        var concurrency = CliOptions.Int("--concurrency", "blobs uploaded at once", 4, 1, 32);
        var plainHttp = CliOptions.Flag("--plain-http", "use http:// (a registry without TLS)");
        var (user, passwordStdin) = LoginOptions();
        var check = CliOptions.Flag("--check", "send nothing: say which app images REGISTRY lacks or serves with other content (exit 1, SEA1309), or that it serves them all");
        var format = CliOptions.Format();
        var store = CliOptions.Store();
        var command = new SealerCommand("mirror", "Push the app images a cluster image carries into a registry, under their own paths",
            "Pushes every app image the cluster image carries into REGISTRY under its own path and tag\n" +
            "(docker.io/library/nginx:1.27 -> REGISTRY/library/nginx:1.27): what hosts that pull every domain through that\n" +
            "registry (a Clusterfile's externalRegistry; 'sealer run' does this itself) need. Read in place; blobs the registry\n" +
            "has are skipped and shared layers are sent once. An index the image carries only some platforms of is pushed as it\n" +
            "is, or, when the registry refuses that, as an index of the carried platforms. A Sealer base's own images (its\n" +
            "rootfs's registry/docker/registry/v2 tree) go too, under their paths as they are: its manifests are read first, and\n" +
            "only the blobs REGISTRY lacks are unpacked, into TMPDIR (which needs room for them). With REGISTRY/PREFIX every image\n" +
            "goes under PREFIX/DOMAIN/PATH (docker.io/library/nginx:1.27 -> REGISTRY/PREFIX/docker.io/library/nginx:1.27): one\n" +
            "project holds them all and two domains' same paths stay apart (the Clusterfile's externalRegistry.prefix, which\n" +
            "points containerd there). Credentials: SEALER_REGISTRY_USER/PASSWORD,\n" +
            "~/.docker/config.json, or -u with --password-stdin.")
        {
            source, registry, concurrency, plainHttp, user, passwordStdin, check, format, store,
        };
        command.SetAction(async (p, cancellationToken) =>
        {
            string target = p.GetValue(registry)!.TrimEnd('/');
            var (host, _, problem) = MirrorPaths.SplitTarget(target);
            if (problem is not null)
            {
                throw Usage($"REGISTRY is host[:port] or host[:port]/PREFIX ('{target}' is not: {problem})");
            }
            var options = new PushOptions { Concurrency = p.GetValue(concurrency), PlainHttp = p.GetValue(plainHttp) };
            options.Credentials = StdinCredentials(p, user, passwordStdin, host);
            var image = Sealer.Core.Delivery.ClusterImageSource.Open(p.GetValue(source)!, storeDir: p.GetValue(store));
            bool checkOnly = p.GetValue(check);
            var read = ProgressPrinter("read from a Sealer base's registry tree:");
            using var carried = checkOnly ? await image.CarriedImagesAsync(read, manifestsOnly: true, cancellationToken).ConfigureAwait(false)
                : await image.CarriedImagesForMirrorAsync(target, options, read, cancellationToken).ConfigureAwait(false);
            ClearProgress();
            options.Progress = PushProgressPrinter();
            foreach (var n in carried.NotPushable)
            {
                Console.Error.WriteLine($"warning {ErrorCodes.SealerFormatImagesNotMirrored}: not pushed, from the rootfs's Sealer-format {SealerFormatImages.Tree}: {n}");
            }
            if (carried.Images.Count == 0)
            {
                throw new SealerException(ErrorCodes.NothingToMirror, $"'{p.GetValue(source)}' carries no app images (its registry/index.json lists none, and its rootfs has no Sealer-format {SealerFormatImages.Tree} to push): there is nothing to mirror.");
            }
            if (checkOnly)
            {
                var missing = await ImageMirror.CheckAsync(carried, target, options, cancellationToken).ConfigureAwait(false);
                if (missing.Count > 0)
                {
                    throw new SealerException(ErrorCodes.MirrorIncomplete,
                        $"{target} lacks {missing.Count} of the {carried.Images.Count} app images as 'sealer mirror' puts them:\n  {string.Join("\n  ", missing)}\nRun 'sealer mirror {p.GetValue(source)} {target}'.");
                }
                Console.Out.WriteLine($"{target} serves all {carried.Images.Count} app images as pushed");
                return 0;
            }
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var result = await ImageMirror.MirrorAsync(carried, target, options, cancellationToken).ConfigureAwait(false);
            ClearProgress();
            if (p.GetValue(format) == "json")
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(result, ArtifactsJsonContext.Readable.MirrorResult));
                return 0;
            }
            foreach (var i in result.Images)
            {
                Console.Out.WriteLine(i.PlatformsLeftOut == 0 ? $"{i.Source} -> {i.Destination}"
                    : $"{i.Source} -> {i.Destination} ({i.Digest}: an index of the carried platforms; {i.PlatformsLeftOut} left out, as {target} refuses an index without them)");
            }
            Console.Out.WriteLine($"Mirrored {result.Images.Count} images into {target}: {result.BlobsUploaded} blobs uploaded ({Bytes.Format(result.BytesUploaded)}), {result.BlobsMounted} mounted, {result.BlobsPresent} already there; {sw.Elapsed.TotalSeconds:F1}s");
            return 0;
        });
        return command;
    }

    /// <summary><c>-u USER</c> and <c>--password-stdin</c> of the commands that log in to a registry.</summary>
    private static (Option<string?> User, Option<bool> PasswordStdin) LoginOptions()
        => (CliOptions.Text("--username", "user name; the password is read from stdin (with --password-stdin)", "USER", "-u"),
            CliOptions.Flag("--password-stdin", "read the password from the first line of stdin"));

    /// <summary>The credentials <see cref="LoginOptions"/> gave for <paramref name="registry"/> (the password from stdin), or null.</summary>
    private static Sealer.Core.Distribution.Auth.ICredentialProvider? StdinCredentials(ParseResult p, Option<string?> user, Option<bool> passwordStdin, string registry)
    {
        if (p.GetValue(user) is not { } u) return null;
        if (!p.GetValue(passwordStdin)) throw Usage("-u needs --password-stdin (passwords are never taken on the command line)");
        return RegistryTransport.StaticCredentials(registry, u, (Console.In.ReadLine() ?? "").TrimEnd('\r', '\n'));
    }

    private static Command Pull()
    {
        var reference = new Argument<string>("REFERENCE") { Description = "the cluster image to pull" };
        var platform = CliOptions.Platform("pull only this platform (default: every platform)");
        var concurrency = CliOptions.Int("--concurrency", "blobs downloaded at once", 4, 1, 32);
        var store = CliOptions.Store();
        var command = new SealerCommand("pull", "Pull a cluster image (all platforms) into the local store",
            "Pulls a cluster image (every platform, or one with --platform) into the local store.\n" +
            "Mirrors and insecure registries: SEALER_REGISTRY_MIRRORS, SEALER_INSECURE_REGISTRIES.") { reference, platform, concurrency, store };
        command.SetAction(async (p, cancellationToken) =>
        {
            var options = new ClusterImagePullOptions { Progress = ProgressPrinter("pulled") };
            if (p.GetValue(platform) is { } pl) options.Platform = Sealer.Core.Oci.Platform.Parse(pl);
            options.Concurrency = p.GetValue(concurrency);
            var image = await ClusterImagePuller.PullAsync(ClusterImageStore.Open(p.GetValue(store)), p.GetValue(reference)!, options, cancellationToken).ConfigureAwait(false);
            ClearProgress();
            Console.Out.WriteLine($"Pulled {image.Name} ({image.Digest}, {string.Join(",", image.Platforms)}, {Bytes.Format(image.Size)})");
            return 0;
        });
        return command;
    }

    private static Command Attach()
    {
        var name = ImageName();
        var type = CliOptions.Text("--artifact-type", "the referrer's artifact type (e.g. application/vnd.dev.cosign.simplesigning.v1+json)", "TYPE");
        type.Required = true;
        var file = CliOptions.Text("--file", "the file to attach", "FILE");
        file.Required = true;
        var store = CliOptions.Store();
        var command = new SealerCommand("attach", "Attach a signature/SBOM to a cluster image as an OCI referrer",
            "Attaches a file (signature, SBOM, attestation) to a cluster image as an OCI referrer; it travels with push, pull, save and load.")
        {
            name, type, file, store,
        };
        command.SetAction(p =>
        {
            string path = p.GetValue(file)!;
            string artifactType = p.GetValue(type)!;
            if (!File.Exists(path)) throw new SealerException(ErrorCodes.BadCommandLine, $"'{path}' does not exist.", path);
            var descriptor = ReferrerStore.Attach(ClusterImageStore.Open(p.GetValue(store)), p.GetValue(name)!, artifactType, File.ReadAllBytes(path),
                new Dictionary<string, string> { [Sealer.Core.Oci.Annotations.Title] = Path.GetFileName(path) });
            Console.Out.WriteLine($"Attached {descriptor.Digest} ({artifactType})");
            return 0;
        });
        return command;
    }

    // ---- helpers ----

    private static SealerException Usage(string message) => new(ErrorCodes.BadCommandLine, message + ". Run with --help for usage.");

    private static TimeSpan ParseDuration(string s)
    {
        s = s.Trim();
        if (s == "0") return TimeSpan.Zero;
        char unit = s[^1];
        if (!double.TryParse(s[..^1], NumberStyles.Float, Inv, out var n)) throw Usage($"'{s}' is not a duration like 30s, 10m, 2h");
        return unit switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), 'd' => TimeSpan.FromDays(n), _ => throw Usage($"'{s}' is not a duration like 30s, 10m, 2h") };
    }

    private static bool Interactive => !Console.IsErrorRedirected;

    private static LiveProgress<long>? _live;

    /// <summary>The live line (bytes, rate) of save, load and pull; <see cref="ClearProgress"/> ends it.</summary>
    private static IProgress<long> ProgressPrinter(string verb)
        => _live = new LiveProgress<long>((bytes, meter) => $"{verb} {meter.Describe(bytes, 0)}");

    private static IProgress<PushProgress> PushProgressPrinter()
    {
        var live = new LiveProgress<PushProgress>((p, meter) => $"pushed {meter.Describe(p.BytesUploaded, p.BytesTotal)}, {p.BlobsDone}/{p.BlobsTotal} blobs");
        _livePush = live;
        return live;
    }

    private static LiveProgress<PushProgress>? _livePush;

    private static void ClearProgress()
    {
        Interlocked.Exchange(ref _live, null)?.Dispose();
        Interlocked.Exchange(ref _livePush, null)?.Dispose();
    }
}
