using System.Globalization;
using System.Text.Json;
using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.References;

namespace Sealer.Cli.Commands;

/// <summary>
/// Cluster images in the local store (<c>~/.sealer/images</c>, or <c>SEALER_IMAGES_DIR</c>, or <c>--store DIR</c>):
/// images, inspect, tag, rmi, prune, save, load, push, pull.
/// </summary>
internal static class ImageCommands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Task<int> ImagesAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "images", "List cluster images in the local store.", "[--format table|json] [--store DIR]", ["--format", "--store"], []);
        if (a is null) return Task.FromResult(0);
        var store = OpenStore(a);
        var images = store.List();
        if (a.Get("--format") == "json")
        {
            var json = images.Select(i => new StoredImageJson { Name = i.Name, Digest = i.Digest, Platforms = i.Platforms, Size = i.Size }).ToList();
            Console.Out.WriteLine(JsonSerializer.Serialize(json, ArtifactsJsonContext.Readable.ListStoredImageJson));
            return Task.FromResult(0);
        }
        int width = Math.Max(10, images.Count == 0 ? 0 : images.Max(i => i.Name.Length));
        Console.Out.WriteLine($"{"NAME".PadRight(width)}  {"DIGEST",-19}  {"PLATFORMS",-24}  SIZE");
        foreach (var i in images)
        {
            Console.Out.WriteLine($"{i.Name.PadRight(width)}  {i.Descriptor.ParsedDigest.Encoded[..12],-19}  {string.Join(",", i.Platforms),-24}  {Size(i.Size)}");
        }
        return Task.FromResult(0);
    }

    public static Task<int> InspectAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "inspect", "Show a cluster image: platforms, labels, apps, the images inside, referrers. --images prints only the list of app images with their digests (JSON).",
            "NAME [-o text|json] [--images] [--store DIR]", ["-o", "--output", "--store"], ["--images"]);
        if (a is null) return Task.FromResult(0);
        var info = ClusterImageInspector.Inspect(OpenStore(a), a.Single("image name"));
        if (a.Has("--images"))
        {
            var all = info.Platforms.SelectMany(p => p.Images).GroupBy(i => i.Reference, StringComparer.Ordinal)
                .Select(g => g.First() with { Platforms = g.SelectMany(i => i.Platforms).DistinctBy(p => p.Digest).ToList() }).ToList();
            Console.Out.WriteLine(JsonSerializer.Serialize(new ContainedImageList { Images = all }, ArtifactsJsonContext.Readable.ContainedImageList));
            return Task.FromResult(0);
        }
        if ((a.Get("-o") ?? a.Get("--output")) == "json")
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(info, ArtifactsJsonContext.Readable.ClusterImageInfo));
            return Task.FromResult(0);
        }
        var w = Console.Out;
        w.WriteLine($"Name:       {info.Name}");
        w.WriteLine($"Digest:     {info.Digest}");
        w.WriteLine($"MediaType:  {info.MediaType}");
        w.WriteLine($"Size:       {Size(info.Size)}");
        foreach (var p in info.Platforms)
        {
            w.WriteLine();
            w.WriteLine($"Platform {p.Platform}: manifest {p.ManifestDigest}, {p.LayerCount} layers, {Size(p.Size)}");
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
        return Task.FromResult(0);
    }

    public static Task<int> TagAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "tag", "Give a cluster image another name.", "SOURCE TARGET [--store DIR]", ["--store"], []);
        if (a is null) return Task.FromResult(0);
        if (a.Positional.Count != 2) throw Usage("tag needs SOURCE and TARGET");
        var img = OpenStore(a).Tag(a.Positional[0], a.Positional[1]);
        Console.Out.WriteLine($"{img.Name} -> {img.Digest}");
        return Task.FromResult(0);
    }

    public static Task<int> RmiAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "rmi", "Remove cluster image names from the store (run 'sealer prune' to free the space).", "NAME... [--prune] [--store DIR]", ["--store"], ["--prune"]);
        if (a is null) return Task.FromResult(0);
        if (a.Positional.Count == 0) throw Usage("rmi needs at least one NAME");
        var store = OpenStore(a);
        foreach (var name in a.Positional)
        {
            var removed = store.Remove(name);
            Console.Out.WriteLine($"Untagged: {removed.Name} ({removed.Digest})");
        }
        if (a.Has("--prune")) PrintGc(GarbageCollector.Collect(store.Layout, TimeSpan.Zero));
        return Task.FromResult(0);
    }

    public static Task<int> PruneAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "prune", "Delete blobs no image references, in the store and the image cache.", "[--dry-run] [--grace 10m] [--no-cache] [--cache DIR] [--store DIR] [--format json]",
            ["--grace", "--cache", "--store", "--format"], ["--dry-run", "--no-cache"]);
        if (a is null) return Task.FromResult(0);
        var grace = a.Get("--grace") is { } g ? ParseDuration(g) : GarbageCollector.DefaultGracePeriod;
        var reports = new List<GcReport> { GarbageCollector.Collect(OpenStore(a).Layout, grace, a.Has("--dry-run")) };
        string cacheDir = a.Get("--cache") ?? ClusterImageStore.DefaultCacheDirectory;
        if (!a.Has("--no-cache") && File.Exists(Path.Combine(cacheDir, "oci-layout")))
        {
            reports.Add(GarbageCollector.Collect(Sealer.Core.Layout.OciLayout.Open(cacheDir), grace, a.Has("--dry-run")));
        }
        if (a.Get("--format") == "json")
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(reports, ArtifactsJsonContext.Readable.ListGcReport));
            return Task.FromResult(0);
        }
        foreach (var r in reports) PrintGc(r);
        Console.Out.WriteLine($"Total {(a.Has("--dry-run") ? "would free" : "freed")}: {Size(reports.Sum(r => r.TotalFreed))}");
        return Task.FromResult(0);
    }

    private static void PrintGc(GcReport r)
        => Console.Out.WriteLine($"{r.Root}: {(r.DryRun ? "would remove" : "removed")} {r.BlobsRemoved} blobs ({Size(r.BytesFreed)}) and {r.PartialsRemoved} partial downloads ({Size(r.PartialBytesFreed)}); kept {r.BlobsKept} blobs ({Size(r.BytesKept)})");

    public static async Task<int> SaveAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "save", "Write cluster images to one OCI archive file (skopeo: oci-archive:FILE).", "-o FILE|- NAME... [--zstd] [--zstd-level N] [--store DIR]   (-o - streams to stdout: sealer save -o - x | ssh host sealer load -i -)",
            ["-o", "--output", "--zstd-level", "--store"], ["--zstd"]);
        if (a is null) return 0;
        string output = a.Get("-o") ?? a.Get("--output") ?? throw Usage("save needs -o FILE");
        if (a.Positional.Count == 0) throw Usage("save needs at least one image NAME");
        bool zstd = a.Has("--zstd") || output.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) || output.EndsWith(".tzst", StringComparison.OrdinalIgnoreCase);
        var options = new ArchiveSaveOptions
        {
            Compression = zstd ? ArchiveCompression.Zstd : ArchiveCompression.None,
            ZstdLevel = a.Get("--zstd-level") is { } l ? int.Parse(l, Inv) : 3,
            Progress = ProgressPrinter("saved"),
        };
        if (output == "-")
        {
            if (!Console.IsOutputRedirected) throw Usage("refusing to write an archive to a terminal; redirect stdout or give -o FILE");
            await using var stdout = Console.OpenStandardOutput();
            await OciArchive.SaveToStreamAsync(OpenStore(a), a.Positional, stdout, options with { Progress = null }, cancellationToken).ConfigureAwait(false);
            return 0;
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var images = await OciArchive.SaveAsync(OpenStore(a), a.Positional, output, options, cancellationToken).ConfigureAwait(false);
        ClearProgress();
        foreach (var i in images) Console.Out.WriteLine($"Saved {i.Name} ({i.Digest}, {string.Join(",", i.Platforms)})");
        Console.Out.WriteLine($"{output}: {Size(new FileInfo(output).Length)} in {sw.Elapsed.TotalSeconds:F1}s");
        return 0;
    }

    public static async Task<int> LoadAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "load", "Load cluster images from an OCI archive (plain/zstd/gzip) or OCI layout directory; every blob is verified.",
            "-i FILE|DIR|- [--name REF] [--store DIR]", ["-i", "--input", "--name", "--store"], []);
        if (a is null) return 0;
        string input = a.Get("-i") ?? a.Get("--input") ?? (a.Positional.Count == 1 ? a.Positional[0] : throw Usage("load needs -i FILE"));
        var loadOptions = new OciArchive.LoadOptions { Name = a.Get("--name"), Progress = ProgressPrinter("loaded") };
        IReadOnlyList<StoredImage> loaded;
        if (input == "-")
        {
            await using var stdin = Console.OpenStandardInput();
            loaded = await OciArchive.LoadFromStreamAsync(OpenStore(a), stdin, "stdin", loadOptions, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            loaded = await OciArchive.LoadAsync(OpenStore(a), input, loadOptions, cancellationToken).ConfigureAwait(false);
        }
        ClearProgress();
        foreach (var i in loaded) Console.Out.WriteLine($"Loaded {i.Name} ({i.Digest}, {string.Join(",", i.Platforms)}, {Size(i.Size)})");
        return 0;
    }

    public static async Task<int> PushAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "push", "Push a cluster image (every platform) to a registry. Credentials: SEALER_REGISTRY_USER/PASSWORD, ~/.docker/config.json, or -u with --password-stdin.",
            "NAME|LAYOUT_DIR|ARCHIVE [DESTINATION] [--concurrency 4] [--chunk-size-mb 64] [--mount-from REPO]... [--tag T]... [--plain-http] [-u USER --password-stdin] [--format json] [--store DIR]",
            ["--concurrency", "--chunk-size-mb", "--mount-from", "--tag", "-u", "--username", "--store", "--format"], ["--plain-http", "--password-stdin"]);
        if (a is null) return 0;
        if (a.Positional.Count is < 1 or > 2) throw Usage("push needs NAME and optionally DESTINATION");
        string source = a.Positional[0];
        bool fromPath = Directory.Exists(source) || (File.Exists(source) && (source.Contains('/') || source.Contains('.')));
        if (fromPath && a.Positional.Count != 2) throw Usage("pushing a layout directory or archive needs a DESTINATION");
        var store = fromPath ? null : OpenStore(a);
        var image = store?.Resolve(source);
        var destination = ImageReference.Parse(a.Positional.Count == 2 ? a.Positional[1] : image!.Name);
        var options = new PushOptions { Progress = PushProgressPrinter() };
        if (a.Get("--concurrency") is { } c) options.Concurrency = int.Parse(c, Inv);
        if (a.Get("--chunk-size-mb") is { } cs) options.ChunkSize = long.Parse(cs, Inv) * 1024 * 1024;
        foreach (var m in a.All("--mount-from")) options.MountFrom.Add(m);
        foreach (var t in a.All("--tag")) options.AdditionalTags.Add(t);
        if (a.Has("--plain-http")) options.PlainHttp = true;
        if ((a.Get("-u") ?? a.Get("--username")) is { } user)
        {
            if (!a.Has("--password-stdin")) throw Usage("-u needs --password-stdin (passwords are never taken on the command line)");
            options.Credentials = RegistryTransport.StaticCredentials(destination.Domain, user, (Console.In.ReadLine() ?? "").TrimEnd('\r', '\n'));
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var result = store is null
            ? await new RegistryPusher(options).PushAsync(source, destination.ToString(), null, cancellationToken).ConfigureAwait(false)
            : await new RegistryPusher(options).PushAsync(store.Layout, image!.Descriptor, destination, cancellationToken).ConfigureAwait(false);
        ClearProgress();
        if (a.Get("--format") == "json")
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(result, ArtifactsJsonContext.Readable.PushResult));
            return 0;
        }
        Console.Out.WriteLine($"Pushed {result.Reference}@{result.Digest}");
        Console.Out.WriteLine($"  {result.BlobsTotal} blobs: {result.BlobsUploaded} uploaded ({Size(result.BytesUploaded)}), {result.BlobsSkipped} already there, {result.BlobsMounted} mounted; {result.Manifests} manifests; {sw.Elapsed.TotalSeconds:F1}s");
        foreach (var t in options.AdditionalTags) Console.Out.WriteLine($"  also tagged {destination.Name}:{t}");
        return 0;
    }

    public static async Task<int> PullAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "pull", "Pull a cluster image (every platform, or one with --platform) into the local store. Mirrors/insecure registries: SEALER_REGISTRY_MIRRORS, SEALER_INSECURE_REGISTRIES.",
            "REFERENCE [--platform linux/arm64] [--concurrency 4] [--store DIR]", ["--platform", "--concurrency", "--store"], []);
        if (a is null) return 0;
        var options = new ClusterImagePullOptions { Progress = ProgressPrinter("pulled") };
        if (a.Get("--platform") is { } p) options.Platform = Sealer.Core.Oci.Platform.Parse(p);
        if (a.Get("--concurrency") is { } c) options.Concurrency = int.Parse(c, Inv);
        var image = await ClusterImagePuller.PullAsync(OpenStore(a), a.Single("image reference"), options, cancellationToken).ConfigureAwait(false);
        ClearProgress();
        Console.Out.WriteLine($"Pulled {image.Name} ({image.Digest}, {string.Join(",", image.Platforms)}, {Size(image.Size)})");
        return 0;
    }

    public static Task<int> AttachAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = Args.Parse(args, "attach", "Attach a file (signature, SBOM, attestation) to a cluster image as an OCI referrer; it travels with push, pull, save and load.",
            "NAME --artifact-type TYPE --file FILE [--store DIR]", ["--artifact-type", "--file", "--store"], []);
        if (a is null) return Task.FromResult(0);
        string type = a.Get("--artifact-type") ?? throw Usage("attach needs --artifact-type (e.g. application/vnd.dev.cosign.simplesigning.v1+json)");
        string file = a.Get("--file") ?? throw Usage("attach needs --file");
        if (!File.Exists(file)) throw new SealerException(ErrorCodes.BadCommandLine, $"'{file}' does not exist.", file);
        var descriptor = ReferrerStore.Attach(OpenStore(a), a.Single("image name"), type, File.ReadAllBytes(file),
            new Dictionary<string, string> { [Sealer.Core.Oci.Annotations.Title] = Path.GetFileName(file) });
        Console.Out.WriteLine($"Attached {descriptor.Digest} ({type})");
        return Task.FromResult(0);
    }

    // ---- helpers ----

    private static ClusterImageStore OpenStore(Args a) => ClusterImageStore.Open(a.Get("--store"));

    private static SealerException Usage(string message) => new(ErrorCodes.BadCommandLine, message + ". Run with --help for usage.");

    internal static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : string.Create(Inv, $"{v:F1} {units[u]}");
    }

    private static TimeSpan ParseDuration(string s)
    {
        s = s.Trim();
        if (s == "0") return TimeSpan.Zero;
        char unit = s[^1];
        if (!double.TryParse(s[..^1], NumberStyles.Float, Inv, out var n)) throw Usage($"'{s}' is not a duration like 30s, 10m, 2h");
        return unit switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), 'd' => TimeSpan.FromDays(n), _ => throw Usage($"'{s}' is not a duration like 30s, 10m, 2h") };
    }

    private static bool Interactive => !Console.IsErrorRedirected;
    private static long _lastTick;

    private static IProgress<long> ProgressPrinter(string verb) => new SyncProgress<long>(bytes =>
    {
        if (!Interactive) return;
        long now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _lastTick) < 200) return;
        Interlocked.Exchange(ref _lastTick, now);
        Console.Error.Write($"\r{verb} {Size(bytes)}        ");
    });

    private static IProgress<PushProgress> PushProgressPrinter() => new SyncProgress<PushProgress>(p =>
    {
        if (!Interactive) return;
        long now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _lastTick) < 200) return;
        Interlocked.Exchange(ref _lastTick, now);
        Console.Error.Write($"\rpushed {Size(p.BytesUploaded)} / {Size(p.BytesTotal)}, {p.BlobsDone}/{p.BlobsTotal} blobs        ");
    });

    private static void ClearProgress()
    {
        if (Interactive) Console.Error.Write("\r" + new string(' ', 70) + "\r");
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool out of order).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

/// <summary>A small option parser: <c>--opt value</c>, <c>--opt=value</c>, flags, positionals, <c>--help</c>.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v[^1] : null;

    public IEnumerable<string> All(string name) => _values.TryGetValue(name, out var v) ? v : [];

    public bool Has(string flag) => _flags.Contains(flag);

    public string Single(string what) => Positional.Count == 1 ? Positional[0]
        : throw new SealerException(ErrorCodes.BadCommandLine, $"Give exactly one {what}. Run with --help for usage.");

    /// <summary>Parses; prints help and returns null for <c>--help</c>.</summary>
    public static Args? Parse(string[] args, string command, string summary, string usage, string[] options, string[] flags)
    {
        var result = new Args();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                Console.Out.WriteLine($"sealer {command} {usage}");
                Console.Out.WriteLine();
                Console.Out.WriteLine(summary);
                return null;
            }
            string name = arg, value = "";
            bool inline = false;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                value = arg[(eq + 1)..];
                inline = true;
            }
            if (options.Contains(name))
            {
                if (!inline)
                {
                    if (i + 1 >= args.Length) throw new SealerException(ErrorCodes.BadCommandLine, $"'{name}' needs a value. Run 'sealer {command} --help'.");
                    value = args[++i];
                }
                if (!result._values.TryGetValue(name, out var list)) result._values[name] = list = [];
                list.Add(value);
            }
            else if (flags.Contains(arg))
            {
                result._flags.Add(arg);
            }
            else if (arg.StartsWith('-') && arg.Length > 1)
            {
                throw new SealerException(ErrorCodes.BadCommandLine, $"Unknown option '{arg}' for 'sealer {command}'. Run 'sealer {command} --help'.");
            }
            else
            {
                result.Positional.Add(arg);
            }
        }
        return result;
    }
}
