using System.CommandLine;
using Sealer.Core.Artifacts;
using Sealer.Core.Bundle;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Layout;

namespace Sealer.Cli.Commands;

/// <summary>
/// <c>sealer bundle IMAGE -o shop-1.4.0-linux-amd64.run</c>: one executable file for a site (<see cref="SiteBundle"/>);
/// what that file does when run is <see cref="BundleMode"/>.
/// </summary>
internal static class BundleCommands
{
    public static IEnumerable<Command> Create() => [Bundle()];

    private static Command Bundle()
    {
        var image = new Argument<string>("IMAGE") { Description = "cluster image: a name in the store, or a plain OCI archive (.tar from sealer save / dotnet build)" };
        var output = CliOptions.Text("--output", "the bundle file to write (e.g. shop-1.4.0-linux-amd64.run)", "FILE", "-o");
        var clusterfile = CliOptions.Text("--clusterfile", "a Clusterfile template to carry (printed by BUNDLE clusterfile; placeholders stay as they are)", "FILE");
        var sealer = CliOptions.Text("--sealer", "the NativeAOT sealer binary to embed, for the machine the site runs the bundle on (default: this sealer)", "FILE");
        var split = CliOptions.Text("--split", "no file larger than SIZE (e.g. 4G, 4700MB, or fat32 for FAT32 media): the archive is cut between entries into FILE.partK-of-N files beside FILE", "SIZE");
        var store = CliOptions.Store();
        var command = new SealerCommand("bundle", "Make one executable file for a site: sealer + a cluster image + a Clusterfile template", """
            Writes a site bundle: the sealer binary, then the cluster image as a plain OCI archive (read in place, never
            unpacked), then an optional Clusterfile template and a trailer with the digests of every part. Run the file
            itself at the site: './FILE run -f Clusterfile', './FILE inspect', './FILE clusterfile', './FILE extract -o DIR',
            './FILE verify'. A truncated or altered bundle is refused before anything is used. With --split, the parts
            after the first go beside it as FILE.partK-of-N; copy them all into one folder at the site and run FILE as
            before (each part is checked; a missing one is named).
            """) { image, output, clusterfile, sealer, split, store };
        command.SetAction(async (p, cancellationToken) =>
        {
            string file = p.GetValue(output) ?? throw Usage("bundle needs -o FILE");
            string name = p.GetValue(image)!;
            string binary = p.GetValue(sealer) ?? OwnBinary();
            if (!File.Exists(binary)) throw new SealerException(ErrorCodes.BundleBadInput, $"The sealer binary '{binary}' does not exist. Give --sealer FILE (build/publish-cli.sh writes artifacts/cli/RID/sealer).", binary);
            string? template = p.GetValue(clusterfile) is { } t ? ReadTemplate(t) : null;
            string machine = SiteBundle.PlatformOfBinary(binary);
            long? splitSize = p.GetValue(split) is { } sz ? SiteBundle.ParseSplitSize(sz) : null;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            SiteBundle bundle;
            long total = File.Exists(name) ? new FileInfo(name).Length : 0, done = 0;
            using var live = new LiveProgress<long>((bytes, meter) => $"bundled {meter.Describe(bytes, total)}");
            var progress = new SyncProgress<long>(n => live.Report(Interlocked.Add(ref done, n)));
            if (File.Exists(name))
            {
                var archive = ArchiveLayout.Open(name); // must be a plain OCI archive: the bundle is read in place
                var info = ClusterImageInspector.Inspect(archive);
                bundle = await SiteBundle.WriteFromArchiveAsync(file, binary, name, new BundleWriteOptions
                {
                    Image = info.Name == name ? Path.GetFileNameWithoutExtension(name) : info.Name,
                    Platforms = info.Platforms.Select(x => x.Platform).ToList(),
                    SealerPlatform = machine,
                    SealerVersion = SealerCli.Version,
                    ClusterfileTemplate = template,
                    SplitSize = splitSize,
                    Progress = progress,
                }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var images = ClusterImageStore.Open(p.GetValue(store));
                var stored = images.Resolve(name);
                total = OciArchive.PlannedSize(images, [stored.Name]);
                bundle = await SiteBundle.WriteAsync(file, binary,
                    (s, ct) => OciArchive.SaveToStreamAsync(images, [stored.Name], s, new ArchiveSaveOptions(), ct),
                    new BundleWriteOptions
                    {
                        Image = stored.Name,
                        Platforms = stored.Platforms,
                        SealerPlatform = machine,
                        SealerVersion = SealerCli.Version,
                        ClusterfileTemplate = template,
                        SplitSize = splitSize,
                        Progress = progress,
                        ArchiveSize = total,
                    }, cancellationToken).ConfigureAwait(false);
            }
            live.Dispose();
            var m = bundle.Manifest;
            Console.Out.WriteLine($"Bundled {m.Image} ({string.Join(",", m.Platforms)}) with sealer {m.SealerVersion} for {m.SealerPlatform}{(m.ClusterfileTemplate is null ? "" : " and a Clusterfile template")}");
            Console.Out.WriteLine($"{file}: {Bytes.Format(new FileInfo(file).Length)} in {sw.Elapsed.TotalSeconds:F1}s. At the site: ./{Path.GetFileName(file)} --help");
            if (m.ArchiveParts is { Count: > 1 } parts)
            {
                Console.Out.WriteLine($"Split in {parts.Count} files; carry them all into one folder at the site:");
                foreach (var part in parts.Skip(1)) Console.Out.WriteLine($"  {part.File}: {Bytes.Format(part.Length)}");
            }
            return 0;
        });
        return command;
    }

    private static string ReadTemplate(string path)
    {
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.BundleBadInput, $"The Clusterfile template '{path}' does not exist.", path);
        return File.ReadAllText(path);
    }

    /// <summary>This process's executable when it is the NativeAOT sealer (not 'dotnet sealer.dll').</summary>
    private static string OwnBinary()
    {
        string? self = Environment.ProcessPath;
        if (self is null || Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            throw new SealerException(ErrorCodes.BundleBadInput, "This sealer runs on the .NET runtime, which a site does not have. Give --sealer FILE: the NativeAOT sealer for the site's machine (build/publish-cli.sh writes artifacts/cli/RID/sealer).");
        }
        return self;
    }

    private static SealerException Usage(string message) => new(ErrorCodes.BadCommandLine, message + ". Run with --help for usage.");
}
