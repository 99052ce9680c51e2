using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Sdk.Tests.ClusterImage;

/// <summary>Builds an image cache (an OCI layout with full refs) holding real, small images made here: gzip tar layers, configs, manifests, indexes.</summary>
internal static class CacheFixture
{
    public static byte[] TarGz(params (string Name, string Content)[] files)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                var e = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
                tar.WriteEntry(e);
            }
        }
        return ms.ToArray();
    }

    /// <summary>Writes a single-platform image; returns its manifest descriptor (with platform).</summary>
    public static Descriptor AddManifest(OciLayout cache, string os, string arch, params byte[][] layers)
    {
        var layerDescriptors = layers.Select(l => cache.WriteBlob(l, MediaTypes.OciLayerGzip)).ToList();
        var config = new ImageConfig
        {
            Os = os,
            Architecture = arch,
            RootFs = new RootFs { DiffIds = layers.Select(l => Digest.Sha256(Gunzip(l)).ToString()).ToList() },
        };
        var configDescriptor = cache.WriteBlob(OciJsonContext.ToBytes(config, OciJsonContext.Default.ImageConfig), MediaTypes.OciConfig);
        var manifest = new ImageManifest { MediaType = MediaTypes.OciManifest, Config = configDescriptor, Layers = layerDescriptors };
        var d = cache.WriteBlob(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest);
        return d with { Platform = new Platform { Os = os, Architecture = arch } };
    }

    public static Descriptor AddIndex(OciLayout cache, params Descriptor[] manifests)
    {
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = manifests };
        return cache.WriteBlob(OciJsonContext.ToBytes(index, OciJsonContext.Default.ImageIndex), MediaTypes.OciIndex);
    }

    private static byte[] Gunzip(byte[] data)
    {
        using var gz = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>A cache with docker.io/library/nginx:1.27 (amd64+arm64 index), quay.io/demo/app:2 (amd64 only) sharing a base layer.</summary>
    public static (OciLayout Cache, List<Sealer.Core.ClusterImage.ClusterImageContent> Images) Create(string dir)
    {
        var cache = OciLayout.OpenOrCreate(dir);
        byte[] shared = TarGz(("etc/os-release", "ID=fixture\n"));
        var amd = AddManifest(cache, "linux", "amd64", shared, TarGz(("usr/sbin/nginx", "amd64 nginx\n")));
        var arm = AddManifest(cache, "linux", "arm64", TarGz(("etc/os-release", "ID=fixture-arm\n")), TarGz(("usr/sbin/nginx", "arm64 nginx\n")));
        var nginx = AddIndex(cache, amd, arm);
        cache.SetRef("docker.io/library/nginx:1.27", nginx);
        var app = AddManifest(cache, "linux", "amd64", shared, TarGz(("app/run", "#!/bin/sh\necho app\n")));
        cache.SetRef("quay.io/demo/app:2", app with { Platform = null });
        return (cache, [
            new("docker.io/library/nginx:1.27", nginx.ParsedDigest, MediaTypes.OciIndex),
            new("quay.io/demo/app:2", app.ParsedDigest, MediaTypes.OciManifest),
        ]);
    }
}

/// <summary>A temp directory removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sealer-sdk-tests", Guid.NewGuid().ToString("N")[..12]);

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Runs an external tool (skopeo, umoci, dotnet) and captures its output.</summary>
internal static class Tool
{
    public static (int ExitCode, string Output) Run(string file, string args, string? workDir = null, IDictionary<string, string?>? env = null, int timeoutMs = 300_000)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        if (env is not null)
        {
            foreach (var kv in env)
            {
                if (kv.Value is null) psi.Environment.Remove(kv.Key);
                else psi.Environment[kv.Key] = kv.Value;
            }
        }
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {args} did not finish in {timeoutMs} ms");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    public static bool Exists(string name) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(System.IO.Path.Combine(d, name)));
}
