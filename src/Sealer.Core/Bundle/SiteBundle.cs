using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Layout;

namespace Sealer.Core.Bundle;

/// <summary>
/// A site bundle: ONE executable file a site runs — the NativeAOT <c>sealer</c> for the site's platform, then the cluster
/// image as a plain OCI archive, then an optional Clusterfile template, then a JSON manifest and a fixed 64-byte trailer:
/// <code>
/// [ sealer (ELF) ][ start mark, 32 B ][ OCI archive (tar) ][ Clusterfile template ][ manifest JSON ][ trailer, 64 B ]
/// trailer = manifest length (u64 LE) | sha256 of the manifest (32 B) | 8 zero bytes | "sealer-bundle-01"
/// start   = "sealer-bundle-st" | total file length (u64 LE) | 8 zero bytes
/// </code>
/// Opening reads only the trailer, the manifest and the archive's tar headers (seeks), so a 20 GB bundle starts in
/// milliseconds and its archive is read in place (<see cref="ArchiveLayout"/>), never copied to a temporary directory.
/// Integrity: the manifest's digest is in the trailer; the manifest records every section's length and sha256 and the
/// digest of the archive's index.json, which is checked on open — from there every manifest, config and layer is
/// content-addressed and verified when it is read (hosts re-hash each blob they receive). <see cref="VerifyAsync"/>
/// re-hashes every section whole; <see cref="ExtractAsync"/> does while it copies. A truncated bundle (the start mark
/// after the ELF image says how long the file must be) or an altered one is refused with <see cref="ErrorCodes.BundleDamaged"/>.
/// </summary>
public sealed class SiteBundle
{
    public const int TrailerSize = 64;
    public const int StartMarkSize = 32;
    private static ReadOnlySpan<byte> TrailerMagic => "sealer-bundle-01"u8;
    private static ReadOnlySpan<byte> StartMagic => "sealer-bundle-st"u8;
    private const int MaxManifestBytes = 1 << 20;

    /// <summary>rwxr-xr-x: a bundle, and the sealer extracted from one.</summary>
    public const UnixFileMode ExecutableMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private SiteBundle(string path, BundleManifest manifest)
    {
        Path = path;
        Manifest = manifest;
    }

    public string Path { get; }

    public BundleManifest Manifest { get; }

    /// <summary>
    /// Opens <paramref name="path"/> as a bundle: null when it is not one (no trailer and no start mark after an ELF
    /// image: a plain <c>sealer</c> or any other file); <see cref="ErrorCodes.BundleDamaged"/> when it was one but is
    /// truncated or altered.
    /// </summary>
    public static SiteBundle? TryOpen(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        long size = fs.Length;
        Span<byte> trailer = stackalloc byte[TrailerSize];
        if (size < TrailerSize || !ReadAt(fs, size - TrailerSize, trailer) || !trailer[48..].SequenceEqual(TrailerMagic))
        {
            // no trailer: a plain file, unless the start mark right after the executable says a bundle was cut short
            if (ElfImage.EndOf(fs) is long end && end + StartMarkSize <= size)
            {
                Span<byte> mark = stackalloc byte[StartMarkSize];
                if (ReadAt(fs, end, mark) && mark[..16].SequenceEqual(StartMagic))
                {
                    long expected = BinaryPrimitives.ReadInt64LittleEndian(mark[16..]);
                    throw Damaged(path, $"it is {size} bytes but was written as {expected} bytes: the file is truncated (an interrupted copy or download)");
                }
            }
            return null;
        }
        long manifestLength = BinaryPrimitives.ReadInt64LittleEndian(trailer);
        if (manifestLength <= 0 || manifestLength > MaxManifestBytes || manifestLength > size - TrailerSize)
        {
            throw Damaged(path, $"its trailer names a manifest of {manifestLength} bytes");
        }
        var manifestBytes = new byte[manifestLength];
        ReadAt(fs, size - TrailerSize - manifestLength, manifestBytes);
        if (!SHA256.HashData(manifestBytes).AsSpan().SequenceEqual(trailer.Slice(8, 32)))
        {
            throw Damaged(path, "its manifest does not match the digest in its trailer");
        }
        BundleManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(manifestBytes, BundleJsonContext.Default.BundleManifest) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw Damaged(path, $"its manifest is not readable ({ex.Message})");
        }
        if (manifest.SchemaVersion != 1)
        {
            throw new SealerException(ErrorCodes.BundleUnsupported, $"'{path}' is a site bundle of format {manifest.SchemaVersion}; this sealer reads format 1. Use the sealer that made it (it is inside the bundle: run the bundle itself).", path);
        }
        // the sections tile the file exactly: binary, start mark, archive, template, manifest, trailer
        long at = 0;
        foreach (var (name, section) in manifest.Sections())
        {
            if (section.Offset != at || section.Length < 0) throw Damaged(path, $"its {name} section does not start where the previous one ends");
            at = section.Offset + section.Length + (name == "sealer" ? StartMarkSize : 0);
        }
        if (at + manifestLength + TrailerSize != size)
        {
            throw Damaged(path, $"it is {size} bytes but its manifest describes {at + manifestLength + TrailerSize}");
        }
        return new SiteBundle(path, manifest);
    }

    /// <summary>Opens <paramref name="path"/>, which must be a bundle.</summary>
    public static SiteBundle Open(string path)
    {
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.NotABundle, $"'{path}' does not exist. Give the .run file written by 'sealer bundle'.", path);
        return TryOpen(path) ?? throw new SealerException(ErrorCodes.NotABundle, $"'{path}' is not a site bundle (no bundle trailer at its end). Give the .run file written by 'sealer bundle'.", path);
    }

    /// <summary>The cluster image archive, read in place; its index.json is checked against the manifest first.</summary>
    public ArchiveLayout OpenArchive()
    {
        var archive = ArchiveLayout.Open(Path, Manifest.Archive.Offset, Manifest.Archive.Length);
        string index = Convert.ToHexStringLower(SHA256.HashData(archive.ReadEntry("index.json")));
        if (index != Manifest.ArchiveIndexSha256)
        {
            throw Damaged(Path, "the index.json of its cluster image does not match its manifest (the archive was altered)");
        }
        return archive;
    }

    /// <summary>The Clusterfile template, checked against its digest; null when the bundle has none.</summary>
    public string? ReadClusterfileTemplate()
    {
        if (Manifest.ClusterfileTemplate is not { } t) return null;
        var data = new byte[t.Length];
        using (var s = new FileRegionStream(Path, t.Offset, t.Length, 1)) s.ReadExactly(data);
        if (Convert.ToHexStringLower(SHA256.HashData(data)) != t.Sha256) throw Damaged(Path, "its Clusterfile template does not match its manifest");
        return System.Text.Encoding.UTF8.GetString(data);
    }

    /// <summary>Re-hashes every section whole (the binary, the archive, the template); throws <see cref="ErrorCodes.BundleDamaged"/> naming the first that differs.</summary>
    public async Task VerifyAsync(IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        foreach (var (name, section) in Manifest.Sections())
        {
            await using var s = new FileRegionStream(Path, section.Offset, section.Length, 1 << 20);
            string actual = await HashAsync(s, Stream.Null, progress, cancellationToken).ConfigureAwait(false);
            if (actual != section.Sha256) throw Damaged(Path, $"its {name} section has sha256 {actual}, its manifest says {section.Sha256}");
        }
    }

    /// <summary>
    /// Writes the bundle's parts as files into <paramref name="directory"/>: <c>sealer</c> (executable), the archive
    /// (<c>NAME.tar</c>) and <c>Clusterfile.template</c>, each hashed while copied and renamed into place only when it matches.
    /// </summary>
    public async Task<IReadOnlyList<string>> ExtractAsync(string directory, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var (name, section) in Manifest.Sections())
        {
            string file = System.IO.Path.Combine(directory, name switch
            {
                "sealer" => "sealer",
                "archive" => Manifest.ArchiveFileName(),
                _ => "Clusterfile.template",
            });
            await ExtractSectionAsync(name, section, file, progress, cancellationToken).ConfigureAwait(false);
            written.Add(file);
        }
        return written;
    }

    /// <summary>
    /// Copies one section of the bundle to <paramref name="file"/>: hashed while copied into a temporary file beside it,
    /// renamed into place only when it matches the manifest (<see cref="ErrorCodes.BundleDamaged"/> otherwise, nothing
    /// kept); the <c>sealer</c> section is made executable (<see cref="ExecutableMode"/>).
    /// </summary>
    public async Task ExtractSectionAsync(string name, BundleSection section, string file, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        string tmp = AtomicFile.TempPathFor(file);
        try
        {
            await using (var s = new FileRegionStream(Path, section.Offset, section.Length, 1 << 20))
            await using (var output = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                string actual = await HashAsync(s, output, progress, cancellationToken).ConfigureAwait(false);
                if (actual != section.Sha256) throw Damaged(Path, $"its {name} section has sha256 {actual}, its manifest says {section.Sha256}; nothing of it was kept");
            }
            if (name == "sealer") FilePlatform.Current.SetUnixFileMode(tmp, ExecutableMode);
            AtomicFile.Replace(tmp, file);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>
    /// Writes a bundle to <paramref name="outputPath"/> (atomically: a temporary file renamed at the end): the executable at
    /// <paramref name="binaryPath"/>, then the archive <paramref name="writeArchive"/> writes (a plain OCI archive: it is
    /// read in place, so it must not be compressed), then the optional template. The output is made executable.
    /// </summary>
    public static async Task<SiteBundle> WriteAsync(string outputPath, string binaryPath, Func<Stream, CancellationToken, Task> writeArchive, BundleWriteOptions options, CancellationToken cancellationToken = default)
    {
        string full = System.IO.Path.GetFullPath(outputPath);
        string tmp = AtomicFile.TempPathFor(full);
        try
        {
            var manifest = new BundleManifest
            {
                SchemaVersion = 1,
                Image = options.Image,
                Platforms = options.Platforms.ToList(),
                SealerPlatform = options.SealerPlatform,
                SealerVersion = options.SealerVersion,
            };
            await using (var output = new FileStream(tmp, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1 << 20, FileOptions.Asynchronous))
            {
                await using (var binary = new FileStream(binaryPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous))
                {
                    if (ElfImage.EndOf(binary) is long end && end != binary.Length)
                    {
                        throw new SealerException(ErrorCodes.BundleBadInput, $"'{binaryPath}' carries {binary.Length - end} bytes after its executable image (is it a bundle already?). Give a plain sealer binary.", binaryPath);
                    }
                    binary.Seek(0, SeekOrigin.Begin);
                    manifest.Sealer = new BundleSection { Offset = 0, Length = binary.Length, Sha256 = await HashAsync(binary, output, null, cancellationToken).ConfigureAwait(false) };
                }
                long markAt = output.Position;
                await output.WriteAsync(new byte[StartMarkSize], cancellationToken).ConfigureAwait(false); // filled in at the end

                long archiveAt = output.Position;
                var hashing = new HashingWriteStream(output, options.Progress);
                await writeArchive(hashing, cancellationToken).ConfigureAwait(false);
                await hashing.FlushAsync(cancellationToken).ConfigureAwait(false);
                manifest.Archive = new BundleSection { Offset = archiveAt, Length = hashing.Written, Sha256 = hashing.Finish() };

                if (options.ClusterfileTemplate is { } template)
                {
                    var bytes = System.Text.Encoding.UTF8.GetBytes(template);
                    manifest.ClusterfileTemplate = new BundleSection { Offset = output.Position, Length = bytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
                    await output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                }
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);

                // the archive must be an OCI archive we can read in place; record its index.json's digest
                var archive = ArchiveLayout.Open(tmp, manifest.Archive.Offset, manifest.Archive.Length);
                manifest.ArchiveIndexSha256 = Convert.ToHexStringLower(SHA256.HashData(archive.ReadEntry("index.json")));

                byte[] manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, BundleJsonContext.Default.BundleManifest);
                output.Seek(0, SeekOrigin.End);
                await output.WriteAsync(manifestBytes, cancellationToken).ConfigureAwait(false);
                var trailer = new byte[TrailerSize];
                BinaryPrimitives.WriteInt64LittleEndian(trailer, manifestBytes.Length);
                SHA256.HashData(manifestBytes).CopyTo(trailer, 8);
                TrailerMagic.CopyTo(trailer.AsSpan(48));
                await output.WriteAsync(trailer, cancellationToken).ConfigureAwait(false);

                var mark = new byte[StartMarkSize];
                StartMagic.CopyTo(mark);
                BinaryPrimitives.WriteInt64LittleEndian(mark.AsSpan(16), output.Position);
                output.Seek(markAt, SeekOrigin.Begin);
                await output.WriteAsync(mark, cancellationToken).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            FilePlatform.Current.SetUnixFileMode(tmp, ExecutableMode);
            AtomicFile.Replace(tmp, full);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        return Open(full);
    }

    /// <summary>
    /// Writes a bundle of a plain OCI archive file (<c>sealer bundle FILE.tar</c>, the SDK's BundleCluster target): the
    /// archive is copied as it is after <paramref name="binaryPath"/>, whose platform (<see cref="PlatformOfBinary"/>)
    /// the manifest records. <paramref name="options"/>'s <see cref="BundleWriteOptions.SealerPlatform"/> is ignored.
    /// </summary>
    public static Task<SiteBundle> WriteFromArchiveAsync(string outputPath, string binaryPath, string archivePath, BundleWriteOptions options, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(binaryPath)) throw new SealerException(ErrorCodes.BundleBadInput, $"The sealer binary '{binaryPath}' does not exist. build/publish-cli.sh writes artifacts/cli/RID/sealer.", binaryPath);
        return WriteAsync(outputPath, binaryPath, async (s, ct) =>
        {
            await using var input = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await input.CopyToAsync(s, 1 << 20, ct).ConfigureAwait(false);
        }, options with { SealerPlatform = PlatformOfBinary(binaryPath) }, cancellationToken);
    }

    /// <summary><c>linux/amd64</c> or <c>linux/arm64</c> from the ELF header of <paramref name="binary"/>; <see cref="ErrorCodes.BundleBadInput"/> for anything else.</summary>
    public static string PlatformOfBinary(string binary)
    {
        Span<byte> h = stackalloc byte[20];
        using (var fs = File.OpenRead(binary))
        {
            if (fs.ReadAtLeast(h, 20, throwOnEndOfStream: false) < 20 || h[0] != 0x7f || h[1] != (byte)'E' || h[2] != (byte)'L' || h[3] != (byte)'F')
            {
                throw new SealerException(ErrorCodes.BundleBadInput, $"'{binary}' is not a Linux executable; a bundle carries the NativeAOT sealer for Linux (build/publish-cli.sh).", binary);
            }
        }
        return BinaryPrimitives.ReadUInt16LittleEndian(h[18..]) switch
        {
            0x3E => "linux/amd64",
            0xB7 => "linux/arm64",
            var m => throw new SealerException(ErrorCodes.BundleBadInput, $"'{binary}' is an executable for ELF machine {m}; sealer runs on linux/amd64 and linux/arm64.", binary),
        };
    }

    /// <summary><c>shop-1.4.0-linux-amd64.run</c>: the image's last path segment and tag, and the platform the bundle runs on.</summary>
    public static string DefaultFileName(string image, string sealerPlatform)
    {
        string last = image[(image.LastIndexOf('/') + 1)..];
        int at = last.IndexOf('@');
        if (at >= 0) last = last[..at];
        int colon = last.LastIndexOf(':');
        string name = colon < 0 ? last : last[..colon], tag = colon < 0 ? "latest" : last[(colon + 1)..];
        return $"{name}-{tag}-{sealerPlatform.Replace('/', '-')}.run";
    }

    private static async Task<string> HashAsync(Stream input, Stream output, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, n);
            if (output != Stream.Null) await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            progress?.Report(n);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static bool ReadAt(FileStream fs, long offset, Span<byte> buffer)
    {
        fs.Seek(offset, SeekOrigin.Begin);
        return fs.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;
    }

    private static SealerException Damaged(string path, string what)
        => new(ErrorCodes.BundleDamaged, $"The site bundle '{path}' is damaged: {what}. Nothing was used from it. Copy the bundle again from its source (compare its sha256 with the vendor's).", path);

    /// <summary>Counts and hashes what passes through to the bundle file.</summary>
    private sealed class HashingWriteStream(Stream inner, IProgress<long>? progress) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long Written { get; private set; }

        public string Finish() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            inner.Write(buffer);
            Written += buffer.Length;
            progress?.Report(buffer.Length);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Written += buffer.Length;
            progress?.Report(buffer.Length);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>What <see cref="SiteBundle.WriteAsync"/> records besides the parts.</summary>
public sealed record BundleWriteOptions
{
    /// <summary>The cluster image's name (e.g. <c>shop:1.4.0</c>), shown by <c>inspect</c> and used to name the extracted archive.</summary>
    public required string Image { get; init; }

    /// <summary>The image's platforms (<c>linux/amd64</c>).</summary>
    public IReadOnlyList<string> Platforms { get; init; } = [];

    /// <summary>The platform the embedded <c>sealer</c> runs on.</summary>
    public required string SealerPlatform { get; init; }

    public string? SealerVersion { get; init; }

    public string? ClusterfileTemplate { get; init; }

    /// <summary>Archive bytes written, as they go.</summary>
    public IProgress<long>? Progress { get; init; }
}

/// <summary>The bundle's manifest (JSON, before the trailer).</summary>
public sealed class BundleManifest
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; }
    [JsonPropertyName("image")] public string Image { get; set; } = "";
    [JsonPropertyName("platforms")] public List<string> Platforms { get; set; } = [];
    [JsonPropertyName("sealerPlatform")] public string SealerPlatform { get; set; } = "";
    [JsonPropertyName("sealerVersion"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? SealerVersion { get; set; }
    [JsonPropertyName("sealer")] public BundleSection Sealer { get; set; } = new();
    [JsonPropertyName("archive")] public BundleSection Archive { get; set; } = new();
    [JsonPropertyName("archiveIndexSha256")] public string ArchiveIndexSha256 { get; set; } = "";
    [JsonPropertyName("clusterfileTemplate"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public BundleSection? ClusterfileTemplate { get; set; }

    /// <summary>The sections in file order (the start mark follows the sealer section).</summary>
    public IEnumerable<(string Name, BundleSection Section)> Sections()
    {
        yield return ("sealer", Sealer);
        yield return ("archive", Archive);
        if (ClusterfileTemplate is { } t) yield return ("clusterfile-template", t);
    }

    /// <summary><c>shop-1.4.0.tar</c> for image <c>shop:1.4.0</c>.</summary>
    public string ArchiveFileName()
    {
        string name = Image.Length == 0 ? "cluster-image" : Image[(Image.LastIndexOf('/') + 1)..].Replace(':', '-').Replace('@', '-');
        return name + ".tar";
    }
}

public sealed class BundleSection
{
    [JsonPropertyName("offset")] public long Offset { get; set; }
    [JsonPropertyName("length")] public long Length { get; set; }
    [JsonPropertyName("sha256")] public string Sha256 { get; set; } = "";
}

[JsonSourceGenerationOptions(WriteIndented = true, NewLine = "\n")]
[JsonSerializable(typeof(BundleManifest))]
internal sealed partial class BundleJsonContext : JsonSerializerContext;
