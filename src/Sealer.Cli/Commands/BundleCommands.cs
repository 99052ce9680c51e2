using System.CommandLine;
using Sealer.Core.Artifacts;
using Sealer.Core.Bundle;
using Sealer.Core.Diagnostics;
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
        var store = CliOptions.Store();
        var command = new SealerCommand("bundle", "Make one executable file for a site: sealer + a cluster image + a Clusterfile template", """
            Writes a site bundle: the sealer binary, then the cluster image as a plain OCI archive (read in place, never
            unpacked), then an optional Clusterfile template and a trailer with the digests of every part. Run the file
            itself at the site: './FILE run -f Clusterfile', './FILE inspect', './FILE clusterfile', './FILE extract -o DIR',
            './FILE verify'. A truncated or altered bundle is refused before anything is used.
            """) { image, output, clusterfile, sealer, store };
        command.SetAction(async (p, cancellationToken) =>
        {
            string file = p.GetValue(output) ?? throw Usage("bundle needs -o FILE");
            string name = p.GetValue(image)!;
            string binary = p.GetValue(sealer) ?? OwnBinary();
            if (!File.Exists(binary)) throw new SealerException(ErrorCodes.BundleBadInput, $"The sealer binary '{binary}' does not exist. Give --sealer FILE (build/publish-cli.sh writes artifacts/cli/RID/sealer).", binary);
            string? template = p.GetValue(clusterfile) is { } t ? ReadTemplate(t) : null;
            string machine = ElfMachine(binary);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            SiteBundle bundle;
            if (File.Exists(name))
            {
                var archive = ArchiveLayout.Open(name); // must be a plain OCI archive: the bundle is read in place
                var info = ClusterImageInspector.Inspect(archive);
                bundle = await SiteBundle.WriteAsync(file, binary, async (s, ct) =>
                {
                    await using var input = new FileStream(name, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
                    await input.CopyToAsync(s, 1 << 20, ct).ConfigureAwait(false);
                }, new BundleWriteOptions
                {
                    Image = info.Name == name ? Path.GetFileNameWithoutExtension(name) : info.Name,
                    Platforms = info.Platforms.Select(x => x.Platform).ToList(),
                    SealerPlatform = machine,
                    SealerVersion = SealerCli.Version,
                    ClusterfileTemplate = template,
                }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var images = ClusterImageStore.Open(p.GetValue(store));
                var stored = images.Resolve(name);
                bundle = await SiteBundle.WriteAsync(file, binary,
                    (s, ct) => OciArchive.SaveToStreamAsync(images, [stored.Name], s, new ArchiveSaveOptions(), ct),
                    new BundleWriteOptions
                    {
                        Image = stored.Name,
                        Platforms = stored.Platforms,
                        SealerPlatform = machine,
                        SealerVersion = SealerCli.Version,
                        ClusterfileTemplate = template,
                    }, cancellationToken).ConfigureAwait(false);
            }
            var m = bundle.Manifest;
            Console.Out.WriteLine($"Bundled {m.Image} ({string.Join(",", m.Platforms)}) with sealer {m.SealerVersion} for {m.SealerPlatform}{(m.ClusterfileTemplate is null ? "" : " and a Clusterfile template")}");
            Console.Out.WriteLine($"{file}: {ImageCommands.Size(new FileInfo(file).Length)} in {sw.Elapsed.TotalSeconds:F1}s. At the site: ./{Path.GetFileName(file)} --help");
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

    /// <summary>linux/amd64 or linux/arm64 from the ELF header of <paramref name="binary"/>.</summary>
    private static string ElfMachine(string binary)
    {
        Span<byte> h = stackalloc byte[20];
        using (var fs = File.OpenRead(binary))
        {
            if (fs.ReadAtLeast(h, 20, throwOnEndOfStream: false) < 20 || h[0] != 0x7f || h[1] != (byte)'E' || h[2] != (byte)'L' || h[3] != (byte)'F')
            {
                throw new SealerException(ErrorCodes.BundleBadInput, $"'{binary}' is not a Linux executable; a bundle carries the NativeAOT sealer for Linux (build/publish-cli.sh).", binary);
            }
        }
        return BitConverter.ToUInt16(h[18..]) switch
        {
            0x3E => "linux/amd64",
            0xB7 => "linux/arm64",
            var m => throw new SealerException(ErrorCodes.BundleBadInput, $"'{binary}' is an executable for ELF machine {m}; sealer runs on linux/amd64 and linux/arm64.", binary),
        };
    }

    private static SealerException Usage(string message) => new(ErrorCodes.BadCommandLine, message + ". Run with --help for usage.");
}
