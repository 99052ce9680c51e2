using System.Formats.Tar;
using Sealer.Core.Oci;

namespace Sealer.Core.Layout;

/// <summary>
/// Blobs of an OCI layout that are held inside another file instead of under <c>blobs/</c>: the served registry layout of
/// a registry host (<c>rootfs/registry</c>). A cluster image carries each app image blob as an <c>image-blob</c> layer, an
/// uncompressed tar whose one member is <c>registry/blobs/&lt;alg&gt;/&lt;hex&gt;</c>; the host's content store keeps that
/// layer, so instead of extracting a second copy the install links <c>&lt;layout&gt;/in-store/&lt;alg&gt;/&lt;hex&gt;</c>
/// to the store's layer file and the built-in registry serves the member's bytes from it (<see cref="Locate"/>). A layout
/// blob file, when there is one, comes first. Nothing here trusts the link: the member must be a regular file named for
/// the digest, and the registry still re-hashes the bytes before it first serves them.
/// </summary>
public static class InStoreBlobs
{
    /// <summary>The directory of a layout holding the links.</summary>
    public const string DirectoryName = "in-store";

    /// <summary>The link of a blob in a layout rooted at <paramref name="layoutRoot"/>: <c>in-store/&lt;alg&gt;/&lt;hex&gt;</c>.</summary>
    public static string LinkPath(string layoutRoot, Digest digest) => Path.Combine(layoutRoot, DirectoryName, digest.Algorithm, digest.Encoded);

    /// <summary>The member an <c>image-blob</c> layer holds for a digest (<c>registry/blobs/&lt;alg&gt;/&lt;hex&gt;</c>).</summary>
    public static string MemberName(Digest digest) => $"registry/blobs/{digest.Algorithm}/{digest.Encoded}";

    /// <summary>
    /// Where the bytes of <paramref name="digest"/> lie in the tar at <paramref name="tarPath"/> (the file the link names,
    /// if it is one): its first member, which must be the regular file <see cref="MemberName"/>. Null when there is no such file;
    /// <paramref name="problem"/> says why when the file is there but is not that (not a tar, another member, truncated).
    /// Also how a build reads an app image blob out of its FROM base's image-blob layer instead of downloading it.
    /// </summary>
    public static BlobLocation? Locate(string tarPath, Digest digest, out string? problem)
    {
        problem = null;
        string link = tarPath;
        // most lookups are for blobs a layout has no link for: no exception for those (File.Exists is true for a link
        // whose target is gone, which is reported below)
        if (!File.Exists(link)) return null;
        try
        {
            // the file the link names (a store layer, named by its own digest: what it holds never changes)
            if (File.ResolveLinkTarget(tarPath, returnFinalTarget: true) is { } target) tarPath = target.FullName;
            using var fs = new FileStream(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096);
            return Locate(fs, new BlobLocation(tarPath, 0, fs.Length), digest, out problem);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            if (new FileInfo(link).LinkTarget is { } dangling) problem = $"'{link}' links to '{dangling}', which is missing (the content store lost the layer holding {digest})";
            return null;
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or UnauthorizedAccessException)
        {
            problem = $"'{tarPath}' cannot be read as the layer holding {digest}: {ex.Message}";
            return null;
        }
    }

    /// <summary>
    /// Where the bytes of <paramref name="digest"/> lie in an <c>image-blob</c> layer whose bytes are <paramref name="layer"/>
    /// (a store layer file, or a region of a cluster image's archive), read through <paramref name="tar"/> (positioned at
    /// the layer's start): its first member, which must be the regular file <see cref="MemberName"/> and lie inside the
    /// layer. Null with <paramref name="problem"/> saying why otherwise.
    /// </summary>
    public static BlobLocation? Locate(Stream tar, BlobLocation layer, Digest digest, out string? problem)
    {
        problem = null;
        try
        {
            using var reader = new TarReader(tar, leaveOpen: true);
            var entry = reader.GetNextEntry();
            if (entry is null)
            {
                problem = $"'{layer.Path}' is an empty tar, not the layer holding {digest}";
                return null;
            }
            string name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || name != MemberName(digest))
            {
                problem = $"'{layer.Path}' starts with '{entry.Name}', not the file {MemberName(digest)}: it is not the layer holding {digest}";
                return null;
            }
            if (entry.DataOffset < 0 || entry.DataOffset + entry.Length > layer.Length)
            {
                problem = $"'{layer.Path}' is truncated: {MemberName(digest)} runs past its end";
                return null;
            }
            return new BlobLocation(layer.Path, layer.Offset + entry.DataOffset, entry.Length);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            problem = $"'{layer.Path}' cannot be read as the layer holding {digest}: {ex.Message}";
            return null;
        }
    }
}
