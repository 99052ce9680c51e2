using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.References;

namespace Sealer.Core.Images;

/// <summary>One image in images.lock.json: what a reference resolved to, per platform, and where the project uses it.
/// <see cref="From"/> names the FROM base image the content came from when the base already carried it (nothing pulled).</summary>
public sealed record LockedImage(
    [property: JsonPropertyName("reference")] string Reference,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("platforms")] IReadOnlyDictionary<string, string> Platforms,
    [property: JsonPropertyName("sources")] IReadOnlyList<ImageSource> Sources,
    [property: JsonPropertyName("from"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? From = null);

/// <summary>
/// <c>images.lock.json</c>: for each image reference (full normalized form) the digest it resolved to (index or manifest),
/// its media type, the manifest digest per platform, and the sources that use it. A tag in the lock is not resolved again
/// unless a refresh is asked for; a reference pinned by digest never is. Written atomically as stable, sorted JSON.
/// </summary>
public sealed class ImagesLock
{
    public const int CurrentVersion = 1;

    public ImagesLock(IEnumerable<LockedImage> images)
    {
        Images = images
            .Select(i => i with
            {
                Platforms = new SortedDictionary<string, string>(i.Platforms.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal),
                Sources = i.Sources.Distinct().OrderBy(s => s.File, StringComparer.Ordinal).ThenBy(s => s.Line).ThenBy(s => s.Detail, StringComparer.Ordinal).ToList(),
            })
            .OrderBy(i => i.Reference, StringComparer.Ordinal)
            .ToList();
    }

    public static ImagesLock Empty { get; } = new([]);

    public IReadOnlyList<LockedImage> Images { get; }

    private Dictionary<string, LockedImage>? _byReference;

    /// <summary>The entry for a full normalized reference (<c>docker.io/library/nginx:1.27</c>), or null (the first, if the
    /// lock lists one twice). A lookup, not a scan: a pull asks once per image, 600 images of a 600-entry lock.</summary>
    public LockedImage? Find(string reference)
        => LazyInitializer.EnsureInitialized(ref _byReference, () =>
        {
            var map = new Dictionary<string, LockedImage>(StringComparer.Ordinal);
            foreach (var i in Images) map.TryAdd(i.Reference, i);
            return map;
        }).GetValueOrDefault(reference);

    /// <summary>Reads a lock file; a missing file is an empty lock.</summary>
    public static ImagesLock Read(string path)
    {
        if (!File.Exists(path)) return Empty;
        LockFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllBytes(path), ImagesLockJsonContext.Default.LockFile);
        }
        catch (JsonException ex)
        {
            throw new SealerException(ErrorCodes.ImagesLockInvalid, $"'{path}' is not a valid images.lock.json ({ex.Message}). Fix it, or delete it to resolve every image again.", path, (int)(ex.LineNumber ?? -1) + 1, inner: ex);
        }
        if (file is null || file.Version != CurrentVersion || file.Images is null)
        {
            throw new SealerException(ErrorCodes.ImagesLockInvalid, $"'{path}' has version {file?.Version}; this Sealer reads version {CurrentVersion}. Delete it to resolve every image again.", path, 1);
        }
        foreach (var i in file.Images)
        {
            if (string.IsNullOrEmpty(i.Reference) || !Oci.Digest.TryParse(i.Digest, out _) || i.Platforms is null)
            {
                throw new SealerException(ErrorCodes.ImagesLockInvalid, $"'{path}': the entry '{i.Reference}' lacks a reference, a valid digest or platforms. Delete it to resolve it again.", path, 1);
            }
        }
        return new ImagesLock(file.Images.Select(i => i with { Sources = i.Sources ?? [] }));
    }

    /// <summary>Writes the lock atomically as indented JSON, sorted (same content, same bytes).</summary>
    public void Write(string path)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new LockFile { Version = CurrentVersion, Images = Images.ToList() }, ImagesLockJsonContext.Default.LockFile);
        AtomicFile.WriteAllBytes(path, [.. bytes, (byte)'\n']);
    }

    /// <summary>The JSON text <see cref="Write"/> produces.</summary>
    public string ToJson()
        => System.Text.Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(new LockFile { Version = CurrentVersion, Images = Images.ToList() }, ImagesLockJsonContext.Default.LockFile)) + "\n";
}

internal sealed record LockFile
{
    [JsonPropertyName("version")] public int Version { get; init; }
    [JsonPropertyName("images")] public List<LockedImage>? Images { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, NewLine = "\n", AllowTrailingCommas = true, ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(LockFile))]
internal sealed partial class ImagesLockJsonContext : JsonSerializerContext
{
}
