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
/// <para>
/// Split (<see cref="BundleWriteOptions.SplitSize"/>, format 2): for media with a file size limit (FAT32 holds no file of
/// 4 GiB or more; a 20 GB image does not fit), the archive is cut between tar entries into parts of at most that size.
/// The first file is still the executable with the first part, the template and the manifest; the other parts are plain
/// files <c>NAME.partK-of-N</c> beside it (their names, lengths and sha256 are in the manifest, which only the first file
/// carries). Read in place all the same: a blob lies whole inside one part, so it is still one <see cref="BlobLocation"/>.
/// The parts put one after the other are the archive, byte for byte (its sha256 is the manifest's archive digest).
/// Bundles that fit in one file are written in format 1, as before.
/// </para>
/// </summary>
public sealed partial class SiteBundle
{
    /// <summary>The smallest split size taken (1 MiB).</summary>
    public const long MinSplitSize = 1 << 20;

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
        if (manifest.SchemaVersion is not (1 or 2))
        {
            throw new SealerException(ErrorCodes.BundleUnsupported, $"'{path}' is a site bundle of format {manifest.SchemaVersion}; this sealer reads formats 1 and 2. Use the sealer that made it (it is inside the bundle: run the bundle itself).", path);
        }
        CheckParts(path, manifest);
        // the sections tile the file exactly: binary, start mark, archive (its first part when split), template, manifest, trailer
        long at = 0;
        foreach (var (name, section) in manifest.Sections())
        {
            long inFile = name == "archive" && manifest.ArchiveParts is { Count: > 0 } parts ? parts[0].Length : section.Length;
            if (section.Offset != at || section.Length < 0) throw Damaged(path, $"its {name} section does not start where the previous one ends");
            at = section.Offset + inFile + (name == "sealer" ? StartMarkSize : 0);
        }
        if (at + manifestLength + TrailerSize != size)
        {
            throw Damaged(path, $"it is {size} bytes but its manifest describes {at + manifestLength + TrailerSize}");
        }
        return new SiteBundle(path, manifest);
    }

    /// <summary>The OCI archive a file holds, read in place: a site bundle's (split or not), else the file itself as a plain archive.</summary>
    public static ArchiveLayout OpenArchiveOf(string path) => TryOpen(path)?.OpenArchive() ?? ArchiveLayout.Open(path);

    /// <summary>Opens <paramref name="path"/>, which must be a bundle.</summary>
    public static SiteBundle Open(string path)
    {
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.NotABundle, $"'{path}' does not exist. Give the .run file written by 'sealer bundle'.", path);
        return TryOpen(path) ?? throw new SealerException(ErrorCodes.NotABundle, $"'{path}' is not a site bundle (no bundle trailer at its end). Give the .run file written by 'sealer bundle'.", path);
    }

    /// <summary>The cluster image archive, read in place; its index.json is checked against the manifest first.</summary>
    public ArchiveLayout OpenArchive()
    {
        var archive = ArchiveLayout.Open(ArchiveRegions().Select(r => (r.Path, r.Offset, r.Length)).ToList());
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
            if (name == "archive" && IsSplit)
            {
                // part by part (a damaged part is named), and the archive they make whole
                var regions = ArchiveRegions();
                using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                foreach (var r in regions)
                {
                    await using var part = new FileRegionStream(r.Path, r.Offset, r.Length, 1 << 20);
                    string actualPart = await HashAsync(part, Stream.Null, progress, cancellationToken, whole).ConfigureAwait(false);
                    if (actualPart != r.Sha256) throw Damaged(Path, $"its archive part {r.Label} has sha256 {actualPart}, its manifest says {r.Sha256}");
                }
                string all = Convert.ToHexStringLower(whole.GetHashAndReset());
                if (all != section.Sha256) throw Damaged(Path, $"its archive's parts together have sha256 {all}, its manifest says {section.Sha256}");
                continue;
            }
            await using var s = new FileRegionStream(Path, section.Offset, section.Length, 1 << 20);
            string actual = await HashAsync(s, Stream.Null, progress, cancellationToken).ConfigureAwait(false);
            if (actual != section.Sha256) throw Damaged(Path, $"its {name} section has sha256 {actual}, its manifest says {section.Sha256}");
        }
    }

    /// <summary>True when the archive is split over several files (format 2).</summary>
    public bool IsSplit => Manifest.ArchiveParts is { Count: > 1 };

    /// <summary>One region of the archive: this file's first part, or a part file beside it.</summary>
    public sealed record ArchiveRegion(string Path, long Offset, long Length, string Sha256, string Label);

    /// <summary>
    /// Where the archive's bytes are, in order: the region of this file, then (split) each part file beside it, each
    /// checked to be there with its length (<see cref="ErrorCodes.BundlePartMissing"/>, <see cref="ErrorCodes.BundleDamaged"/>).
    /// </summary>
    public IReadOnlyList<ArchiveRegion> ArchiveRegions()
    {
        if (Manifest.ArchiveParts is not { Count: > 0 } parts)
        {
            return [new ArchiveRegion(Path, Manifest.Archive.Offset, Manifest.Archive.Length, Manifest.Archive.Sha256, "1 of 1")];
        }
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        var regions = new List<ArchiveRegion>(parts.Count) { new(Path, Manifest.Archive.Offset, parts[0].Length, parts[0].Sha256, $"1 of {parts.Count} ('{System.IO.Path.GetFileName(Path)}')") };
        var missing = new List<string>();
        for (int i = 1; i < parts.Count; i++)
        {
            string file = System.IO.Path.Combine(dir, parts[i].File!);
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                missing.Add(parts[i].File!);
                continue;
            }
            if (info.Length != parts[i].Length)
            {
                throw Damaged(Path, $"its part {i + 1} of {parts.Count}, '{file}', is {info.Length} bytes but was written as {parts[i].Length} bytes (an interrupted copy)");
            }
            regions.Add(new ArchiveRegion(file, 0, parts[i].Length, parts[i].Sha256, $"{i + 1} of {parts.Count} ('{parts[i].File}')"));
        }
        if (missing.Count > 0)
        {
            throw new SealerException(ErrorCodes.BundlePartMissing,
                $"The site bundle '{Path}' is split in {parts.Count} files, and {string.Join(", ", missing.Select(m => $"'{m}'"))} {(missing.Count == 1 ? "is" : "are")} not beside it in '{dir}'. " +
                $"Copy every part of it ({string.Join(", ", parts.Skip(1).Select(p => p.File))}) into that folder, then run again.", Path);
        }
        return regions;
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
        file = System.IO.Path.GetFullPath(file);
        string dir = System.IO.Path.GetDirectoryName(file)!;
        CheckRoom(file, section.Length, null, $"Extracting its {name} ('{System.IO.Path.GetFileName(file)}')", ErrorCodes.DiskWriteFailed,
            "Extract onto a file system without that limit, or run the bundle where it is: it is read in place, nothing needs extracting to run it.");
        string tmp = AtomicFile.TempPathFor(file);
        try
        {
            await using (Stream s = name == "archive" && IsSplit
                ? new ConcatRegionStream(ArchiveRegions().Select(r => (r.Path, r.Offset, r.Length)).ToList(), 1 << 20)
                : new FileRegionStream(Path, section.Offset, section.Length, 1 << 20))
            await using (var output = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                string actual = await HashAsync(s, output, progress, cancellationToken).ConfigureAwait(false);
                if (actual != section.Sha256) throw Damaged(Path, $"its {name} section has sha256 {actual}, its manifest says {section.Sha256}; nothing of it was kept");
            }
            if (name == "sealer") FilePlatform.Current.SetUnixFileMode(tmp, ExecutableMode);
            AtomicFile.Replace(tmp, file);
        }
        catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
        {
            throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk under '{dir}' is full: extracting the bundle's {name} ({Bytes.Format(section.Length)}) did not fit. Free some space or extract elsewhere (-o); nothing of it was kept.", file, inner: ex);
        }
        catch (ArgumentOutOfRangeException ex) when (ex.ParamName == "value")
        {
            throw new SealerException(ErrorCodes.DiskWriteFailed, $"The file system under '{dir}' refused a file of {Bytes.Format(section.Length)} ({ex.Message}; FAT32 holds none of 4 GiB or more). Extract onto a file system without that limit, or run the bundle where it is: it is read in place, nothing needs extracting to run it. Nothing of it was kept.", file, inner: ex);
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
    public static Task<SiteBundle> WriteAsync(string outputPath, string binaryPath, Func<Stream, CancellationToken, Task> writeArchive, BundleWriteOptions options, CancellationToken cancellationToken = default)
        => WriteAsync(outputPath, binaryPath, writeArchive, null, options, cancellationToken);

    /// <param name="archiveFile">the archive <paramref name="writeArchive"/> copies, when it is a file: a split bundle is then
    /// planned from its entries first and written in one pass, each part straight into its file</param>
    private static async Task<SiteBundle> WriteAsync(string outputPath, string binaryPath, Func<Stream, CancellationToken, Task> writeArchive, string? archiveFile, BundleWriteOptions options, CancellationToken cancellationToken)
    {
        string full = System.IO.Path.GetFullPath(outputPath);
        string tmp = AtomicFile.TempPathFor(full);
        var partTemps = new List<string>();
        if (options.SplitSize is < MinSplitSize)
        {
            throw new SealerException(ErrorCodes.BundleBadInput, $"--split {options.SplitSize} is too small: a part holds at least {MinSplitSize} bytes (the first one also holds sealer).", outputPath);
        }
        long? archiveSize = archiveFile is not null ? new FileInfo(archiveFile).Length : options.ArchiveSize;
        if (archiveSize is long known && File.Exists(binaryPath))
        {
            // before the first byte: the whole bundle's size is known (the binary, the archive, the template, the manifest's room)
            CheckRoom(full, new FileInfo(binaryPath).Length + StartMarkSize + known
                + (options.ClusterfileTemplate is { } t ? System.Text.Encoding.UTF8.GetByteCount(t) : 0) + ManifestReserve + TrailerSize, options.SplitSize);
        }
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
            // CreateNew, here and for every temporary file of a bundle (their names are new): FileMode.Create truncates even a
            // new file to zero (ftruncate after open), and ext4 (auto_da_alloc) then writes back every dirty page of it when
            // it is closed, so a cancelled write's close and unlink waited on the disk for the partial bundle (1.2 s in CI).
            await using (var output = new FileStream(tmp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1 << 20, FileOptions.Asynchronous))
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
                byte[]? templateBytes = options.ClusterfileTemplate is { } template ? System.Text.Encoding.UTF8.GetBytes(template) : null;
                long fixedBytes = archiveAt + (templateBytes?.Length ?? 0) + ManifestReserve + TrailerSize; // the first file without archive bytes
                if (options.SplitSize is long least && fixedBytes > least)
                {
                    throw new SealerException(ErrorCodes.BundleBadInput, $"--split {least} leaves no room in the first file: the sealer binary, the Clusterfile template and the manifest take {fixedBytes} bytes there. Give a larger split size.", outputPath);
                }
                if (options.SplitSize is long split && archiveFile is not null && fixedBytes + archiveSize!.Value > split)
                {
                    // one pass: the cuts from the source's entries, each part copied (and hashed) straight into its file
                    var source = ArchiveLayout.Open(archiveFile);
                    manifest.ArchiveIndexSha256 = Convert.ToHexStringLower(SHA256.HashData(source.ReadEntry("index.json")));
                    var cuts = PlanParts(source, split - fixedBytes, split, full);
                    manifest.SchemaVersion = 2;
                    (manifest.Archive, manifest.ArchiveParts) = await CopyPartsAsync(archiveFile, output, archiveAt, cuts, full, partTemps, options.Progress, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    if (archiveFile is not null)
                    {
                        await using var input = new FileStream(archiveFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
                        string sha = await HashAsync(input, output, options.Progress, cancellationToken).ConfigureAwait(false);
                        manifest.Archive = new BundleSection { Offset = archiveAt, Length = output.Position - archiveAt, Sha256 = sha };
                    }
                    else
                    {
                        var hashing = new HashingWriteStream(output, options.Progress);
                        await writeArchive(hashing, cancellationToken).ConfigureAwait(false);
                        await hashing.FlushAsync(cancellationToken).ConfigureAwait(false);
                        manifest.Archive = new BundleSection { Offset = archiveAt, Length = hashing.Written, Sha256 = hashing.Finish() };
                    }
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);

                    // the archive must be an OCI archive we can read in place; record its index.json's digest
                    var archive = ArchiveLayout.Open(tmp, manifest.Archive.Offset, manifest.Archive.Length);
                    manifest.ArchiveIndexSha256 = Convert.ToHexStringLower(SHA256.HashData(archive.ReadEntry("index.json")));
                    if (options.SplitSize is long size && fixedBytes + manifest.Archive.Length > size)
                    {
                        // written from a stream (the store): the cuts are known only now; the parts are moved out of the file
                        var cuts = PlanParts(archive, size - fixedBytes, size, full);
                        manifest.SchemaVersion = 2;
                        manifest.ArchiveParts = await CarvePartsAsync(output, tmp, archiveAt, cuts, full, partTemps, cancellationToken).ConfigureAwait(false);
                    }
                }

                output.Seek(0, SeekOrigin.End);
                if (templateBytes is not null)
                {
                    manifest.ClusterfileTemplate = new BundleSection { Offset = output.Position, Length = templateBytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(templateBytes)) };
                    await output.WriteAsync(templateBytes, cancellationToken).ConfigureAwait(false);
                }

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
            if (options.SplitSize is long limit && new FileInfo(tmp).Length > limit)
            {
                throw new SealerException(ErrorCodes.BundleBadInput, $"The first file of the bundle would be {new FileInfo(tmp).Length} bytes, more than --split {limit}: the sealer binary and the Clusterfile template alone take {manifest.Archive.Offset + (manifest.ClusterfileTemplate?.Length ?? 0)} bytes. Give a larger split size.", outputPath);
            }
            FilePlatform.Current.SetUnixFileMode(tmp, ExecutableMode);
            // the parts first, the first file last: it is what names them
            for (int i = 0; i < partTemps.Count; i++) AtomicFile.Replace(partTemps[i], System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, manifest.ArchiveParts![i + 1].File!));
            partTemps.Clear();
            AtomicFile.Replace(tmp, full);
            DeleteStaleParts(full, manifest);
        }
        catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
        {
            throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk under '{System.IO.Path.GetDirectoryName(full)}' is full: the bundle did not fit ({Free(full)} free now that its temporary files are gone). Free some space or write the bundle elsewhere (-o); nothing of it was kept.", outputPath, inner: ex);
        }
        catch (ArgumentOutOfRangeException ex) when (ex.ParamName == "value")
        {
            // EFBIG: the file system holds no file this large (what FAT32 answers at 4 GiB)
            throw new SealerException(ErrorCodes.BundleBadInput, $"The file system under '{System.IO.Path.GetDirectoryName(full)}' refused a file this large ({ex.Message}). FAT32 holds no file of 4 GiB or more: write the bundle with --split fat32 (SealerBundleSplitSize=fat32), or to a file system without that limit. Nothing of it was kept.", outputPath, inner: ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SealerException(ErrorCodes.DiskWriteFailed, $"Cannot write the bundle into '{System.IO.Path.GetDirectoryName(full)}': {ex.Message}. Write it where you may (-o).", outputPath, inner: ex);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            foreach (string t in partTemps) if (File.Exists(t)) File.Delete(t);
        }
        return Open(full);
    }

    /// <summary>FAT32's largest file: 4 GiB − 1 byte (<c>--split fat32</c>).</summary>
    public const long Fat32MaxFile = (1L << 32) - 1;

    /// <summary>
    /// A split size as given on the command line or in SealerBundleSplitSize: bytes, or a number with K/M/G/T (powers of
    /// 1024, also KiB…TiB) or KB/MB/GB/TB (powers of 1000), or <c>fat32</c> (4 GiB − 1, the largest file FAT32 holds).
    /// <see cref="ErrorCodes.BundleBadInput"/> for anything else.
    /// </summary>
    public static long ParseSplitSize(string text)
    {
        string t = text.Trim();
        if (t.Equals("fat32", StringComparison.OrdinalIgnoreCase)) return Fat32MaxFile;
        int digits = 0;
        while (digits < t.Length && char.IsAsciiDigit(t[digits])) digits++;
        long factor = t[digits..].ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KIB" => 1L << 10,
            "M" or "MIB" => 1L << 20,
            "G" or "GIB" => 1L << 30,
            "T" or "TIB" => 1L << 40,
            "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "TB" => 1_000_000_000_000,
            _ => 0,
        };
        if (digits == 0 || factor == 0 || !long.TryParse(t.AsSpan(0, digits), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n) || n > long.MaxValue / factor)
        {
            throw new SealerException(ErrorCodes.BundleBadInput, $"'{text}' is not a split size. Give bytes, or a number with K, M, G or T (powers of 1024) or KB, MB, GB, TB (powers of 1000), e.g. 4G, 4700MB, or 'fat32' (4 GiB - 1 byte, the largest file FAT32 media hold).");
        }
        return n * factor;
    }

    /// <summary>
    /// Before anything is written: the output's file system must have room for the whole bundle (its temporary files are
    /// renamed into place, so an old bundle of the same name still takes its space until then), and must hold files as
    /// large as the largest one written (<see cref="LargestFileOn"/>: FAT32's 4 GiB − 1, unless split below it).
    /// </summary>
    private static void CheckRoom(string output, long needed, long? split)
        => CheckRoom(output, needed, split, "The bundle", ErrorCodes.BundleBadInput, "Write it with --split fat32 (SealerBundleSplitSize=fat32): its parts stay below that size.");

    /// <param name="what">what needs the room, to start the message</param>
    /// <param name="fatCode">the code, and <paramref name="fatRemedy"/> what to do, when the file system's largest file is too small</param>
    private static void CheckRoom(string output, long needed, long? split, string what, string fatCode, string fatRemedy)
    {
        string dir = System.IO.Path.GetDirectoryName(output)!;
        Directory.CreateDirectory(dir);
        if (Sealer.Core.IO.Drives.Of(dir) is not { } drive) return; // not a mount we can inspect (its write errors are still mapped)
        if (drive.AvailableFreeSpace < needed)
        {
            throw new SealerException(ErrorCodes.DiskWriteFailed,
                $"{what} needs {Bytes.Format(needed)} under '{dir}', which has {Bytes.Format(drive.AvailableFreeSpace)} free. Free some space or write it elsewhere (-o); nothing was written.", output);
        }
        long largest = Math.Min(needed, split ?? long.MaxValue);
        if (LargestFileOn(drive.DriveFormat) is long limit && largest > limit)
        {
            throw new SealerException(fatCode,
                $"'{dir}' is on a {drive.DriveFormat} file system, whose largest file is {limit} bytes; {what.ToLowerInvariant()[0]}{what[1..]} would write one of {largest} bytes. {fatRemedy} Nothing was written.", output);
        }
    }

    /// <summary>The largest file a file system holds, by its Linux type name (<see cref="DriveInfo.DriveFormat"/>): FAT
    /// (<c>vfat</c>, <c>msdos</c>, <c>fat</c>) 4 GiB − 1; null for those without a limit a bundle meets (exFAT, ext4, NTFS, XFS, …).</summary>
    public static long? LargestFileOn(string driveFormat) => driveFormat.ToLowerInvariant() switch
    {
        "vfat" or "msdos" or "fat" or "fat16" or "fat32" or "umsdos" => Fat32MaxFile,
        _ => null,
    };

    private static string Free(string output)
        => Sealer.Core.IO.Drives.Of(System.IO.Path.GetDirectoryName(output)!) is { } drive ? Bytes.Format(drive.AvailableFreeSpace) : "unknown";

    /// <summary>Room kept in the first file for the manifest when the bundle is split (its real size is checked after).</summary>
    private const int ManifestReserve = 64 << 10;

    /// <summary><c>shop-1.4.0-linux-amd64.run.part2-of-5</c>: the file of part <paramref name="index"/> (0-based; 0 is the bundle file itself).</summary>
    public static string PartFileName(string bundleFileName, int index, int count) => $"{bundleFileName}.part{index + 1}-of-{count}";

    /// <summary>
    /// Where to cut the archive (its offsets; the last is its length): the first part gets at most
    /// <paramref name="firstBudget"/> bytes (what the binary, the template and the manifest leave of the split size), the
    /// others at most <paramref name="budget"/>; a part ends at the last entry end that fits, so no entry is cut.
    /// </summary>
    internal static List<long> PlanParts(ArchiveLayout archive, long firstBudget, long budget, string output)
    {
        var ends = archive.EntryEnds;
        var cuts = new List<long>();
        long start = 0, length = archive.Length;
        int next = 0; // first entry end after start
        while (start < length)
        {
            long room = cuts.Count == 0 ? Math.Max(0, firstBudget) : budget;
            if (length - start <= room)
            {
                cuts.Add(length);
                break;
            }
            long cut = -1;
            while (next < ends.Count && ends[next].End <= start + room)
            {
                if (ends[next].End > start) cut = ends[next].End;
                next++;
            }
            if (cut < 0)
            {
                if (cuts.Count == 0)
                {
                    cuts.Add(0); // the first file carries no archive bytes: the binary leaves no room for the first entry
                    continue;
                }
                var (end, name) = next < ends.Count ? ends[next] : (length, "the archive's end");
                long entryStart = next > 0 ? ends[next - 1].End : 0;
                throw new SealerException(ErrorCodes.BundleBadInput,
                    $"'{name}' takes {end - entryStart} bytes of the archive, more than a part of --split {budget} bytes can hold, and one entry is never cut (no single file on the media can hold it: FAT32 holds no file of 4 GiB or more). Use a larger split size and media that hold such a file (exFAT, ext4, NTFS).", output);
            }
            cuts.Add(cut);
            start = cut;
        }
        if (cuts.Count == 0) cuts.Add(0);
        return cuts;
    }

    /// <summary>
    /// Moves every part after the first out of <paramref name="tmp"/> (last one first, truncating behind it, so the disk
    /// holds the archive and one part at most) into temporary files beside <paramref name="output"/>, hashing each; then
    /// hashes the first part where it stays. Returns the parts as the manifest records them.
    /// </summary>
    private static async Task<List<BundlePart>> CarvePartsAsync(FileStream file, string tmp, long archiveAt, List<long> cuts, string output, List<string> partTemps, CancellationToken cancellationToken)
    {
        int count = cuts.Count;
        var parts = new BundlePart[count];
        string name = System.IO.Path.GetFileName(output);
        for (int i = count - 1; i >= 1; i--)
        {
            long from = cuts[i - 1], to = cuts[i];
            string partFile = PartFileName(name, i, count);
            string partTmp = AtomicFile.TempPathFor(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(output)!, partFile));
            partTemps.Insert(0, partTmp);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            string sha;
            await using (var region = new FileRegionStream(tmp, archiveAt + from, to - from, 1 << 20, FileShare.ReadWrite))
            await using (var partStream = new FileStream(partTmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                sha = await HashAsync(region, partStream, null, cancellationToken).ConfigureAwait(false);
            }
            parts[i] = new BundlePart { File = partFile, Offset = 0, Length = to - from, Sha256 = sha };
            file.SetLength(archiveAt + from);
        }
        await using (var first = new FileRegionStream(tmp, archiveAt, cuts[0], 1 << 20, FileShare.ReadWrite))
        {
            parts[0] = new BundlePart { Offset = archiveAt, Length = cuts[0], Sha256 = await HashAsync(first, Stream.Null, null, cancellationToken).ConfigureAwait(false) };
        }
        return [.. parts];
    }

    /// <summary>
    /// Copies the archive file's parts (between <paramref name="cuts"/>): the first into <paramref name="first"/> at
    /// <paramref name="archiveAt"/>, each other into a temporary file beside <paramref name="output"/>; one read of the
    /// archive hashes every part and the whole.
    /// </summary>
    private static async Task<(BundleSection Archive, List<BundlePart> Parts)> CopyPartsAsync(string archiveFile, FileStream first, long archiveAt, List<long> cuts, string output, List<string> partTemps, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        int count = cuts.Count;
        var parts = new List<BundlePart>(count);
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string name = System.IO.Path.GetFileName(output), dir = System.IO.Path.GetDirectoryName(output)!;
        for (int i = 0; i < count; i++)
        {
            long from = i == 0 ? 0 : cuts[i - 1], to = cuts[i];
            await using var region = new FileRegionStream(archiveFile, from, to - from, 1 << 20, cancellationToken: cancellationToken);
            if (i == 0)
            {
                parts.Add(new BundlePart { Offset = archiveAt, Length = to - from, Sha256 = await HashAsync(region, first, progress, cancellationToken, whole).ConfigureAwait(false) });
                await first.FlushAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            string partFile = PartFileName(name, i, count);
            string partTmp = AtomicFile.TempPathFor(System.IO.Path.Combine(dir, partFile));
            partTemps.Add(partTmp);
            await using var part = new FileStream(partTmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            parts.Add(new BundlePart { File = partFile, Offset = 0, Length = to - from, Sha256 = await HashAsync(region, part, progress, cancellationToken, whole).ConfigureAwait(false) });
        }
        return (new BundleSection { Offset = archiveAt, Length = cuts[^1], Sha256 = Convert.ToHexStringLower(whole.GetHashAndReset()) }, parts);
    }

    /// <summary>Part files of an earlier bundle of the same name that this one does not have (it was split in more or fewer parts).</summary>
    private static void DeleteStaleParts(string output, BundleManifest manifest)
    {
        string dir = System.IO.Path.GetDirectoryName(output)!, name = System.IO.Path.GetFileName(output);
        var keep = (manifest.ArchiveParts ?? []).Select(p => p.File).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (string f in Directory.EnumerateFiles(dir, name + ".part*-of-*"))
        {
            string leaf = System.IO.Path.GetFileName(f);
            if (!keep.Contains(leaf) && PartSuffix().IsMatch(leaf[name.Length..])) File.Delete(f);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\.part[0-9]+-of-[0-9]+$")]
    private static partial System.Text.RegularExpressions.Regex PartSuffix();

    /// <summary>A split bundle's parts as the manifest states them, checked before any file is looked for: the first is this
    /// file's archive region, each other a plain file name (no folder: parts are looked for beside the bundle only).</summary>
    private static void CheckParts(string path, BundleManifest manifest)
    {
        var parts = manifest.ArchiveParts;
        if (manifest.SchemaVersion == 1)
        {
            if (parts is not null) throw Damaged(path, "its format-1 manifest names archive parts");
            return;
        }
        if (parts is not { Count: >= 2 } || parts.Count > 100_000) throw Damaged(path, "its format-2 manifest names no archive parts");
        if (parts[0].File is not null || parts[0].Offset != manifest.Archive.Offset) throw Damaged(path, "its first archive part is not in the bundle file where its archive starts");
        long total = 0;
        for (int i = 0; i < parts.Count; i++)
        {
            var p = parts[i];
            if (p.Length < 0) throw Damaged(path, $"its archive part {i + 1} has a negative length");
            if (i > 0 && (p.Offset != 0 || p.File is not { Length: > 0 } f || f is "." or ".." || f.IndexOfAny(['/', '\\', '\0']) >= 0))
            {
                throw Damaged(path, $"its archive part {i + 1} is not a plain file name beside the bundle");
            }
            total += p.Length;
        }
        if (total != manifest.Archive.Length) throw Damaged(path, $"its archive parts add up to {total} bytes, its archive is {manifest.Archive.Length}");
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
        }, archivePath, options with { SealerPlatform = PlatformOfBinary(binaryPath) }, cancellationToken);
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

    /// <summary>
    /// Copies <paramref name="input"/> to <paramref name="output"/> (unless <see cref="Stream.Null"/>) and returns its
    /// sha256, as a pipeline over three 1 MiB buffers: the next read is under way while a buffer is hashed, and its write
    /// while the next is read and hashed (a bundle of 10 GiB is written at about the pace of <c>cp</c>, not at the sum of
    /// reading, hashing and writing). <paramref name="also"/> (a split archive's whole digest) is fed the same bytes on
    /// another core, so the parts' and the whole's digests cost the wall time of one.
    /// </summary>
    private static async Task<string> HashAsync(Stream input, Stream output, IProgress<long>? progress, CancellationToken cancellationToken, IncrementalHash? also = null)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[][] buffers = [new byte[1 << 20], new byte[1 << 20], new byte[1 << 20]];
        bool writing = output != Stream.Null;
        Task written = Task.CompletedTask, behind = Task.CompletedTask;
        Task<int>? next = null;
        try
        {
            next = input.ReadAsync(buffers[0], cancellationToken).AsTask();
            for (int i = 0; ; i++)
            {
                var buffer = buffers[i % 3];
                int n = await next.ConfigureAwait(false);
                next = null;
                if (n == 0) break;
                // buffers[(i + 1) % 3] was last written and hashed at i - 2; both were awaited at i - 1
                next = input.ReadAsync(buffers[(i + 1) % 3], cancellationToken).AsTask();
                if (also is not null)
                {
                    await behind.ConfigureAwait(false);
                    behind = Task.Run(() => also.AppendData(buffer, 0, n), CancellationToken.None);
                }
                hash.AppendData(buffer, 0, n);
                await written.ConfigureAwait(false);
                if (writing) written = output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).AsTask();
                progress?.Report(n);
            }
        }
        finally
        {
            // nothing may still use the buffers (or the streams) when this returns or throws
            if (next is not null) await Task.WhenAny(next).ConfigureAwait(false);
            await Task.WhenAny(written).ConfigureAwait(false);
            await Task.WhenAny(behind).ConfigureAwait(false);
        }
        await written.ConfigureAwait(false);
        await behind.ConfigureAwait(false);
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

    /// <summary>The size the streamed archive will have, when known before it is written (<c>OciArchive.PlannedSize</c>):
    /// the room on the output's file system is then checked first, as for an archive file.</summary>
    public long? ArchiveSize { get; init; }

    /// <summary>
    /// When set, no file of the bundle is larger than this (<c>--split 4G</c>, <c>--split fat32</c>): the archive is cut between
    /// entries into part files beside the first (format 2). A bundle that fits in one such file is written whole (format 1).
    /// </summary>
    public long? SplitSize { get; init; }
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

    /// <summary>Format 2 (split): the archive's parts in order, the first in this file (no <c>file</c>) at the archive's offset.</summary>
    [JsonPropertyName("archiveParts"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<BundlePart>? ArchiveParts { get; set; }

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

/// <summary>One part of a split archive: a file beside the bundle (<c>file</c>), or the bundle's own region (no <c>file</c>).</summary>
public sealed class BundlePart
{
    [JsonPropertyName("file"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? File { get; set; }
    [JsonPropertyName("offset")] public long Offset { get; set; }
    [JsonPropertyName("length")] public long Length { get; set; }
    [JsonPropertyName("sha256")] public string Sha256 { get; set; } = "";
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
