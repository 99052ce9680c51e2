using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// The files the SDK's build steps hand to each other under obj/ (so a skipped step's result is still there):
/// <c>images.json</c> (what resolution found) and <c>pulled.json</c> (what the lock pinned, per image).
/// </summary>
public sealed record ResolvedImagesFile
{
    [JsonPropertyName("images")] public List<ResolvedImageEntry> Images { get; init; } = [];

    public static ResolvedImagesFile Read(string path) => BuildStateFile.Read(path, ClusterImageJsonContext.Default.ResolvedImagesFile);

    public void Write(string path) => BuildStateFile.Write(path, this, ClusterImageJsonContext.Default.ResolvedImagesFile);

    /// <summary>Writes the file unless it already holds exactly this content (its time stamp then stays, and so do the
    /// build steps that take it as input); true when written.</summary>
    public bool WriteIfChanged(string path) => BuildStateFile.WriteIfChanged(path, this, ClusterImageJsonContext.Default.ResolvedImagesFile);
}

public sealed record ResolvedImageEntry
{
    /// <summary>Full normalized reference.</summary>
    [JsonPropertyName("reference")] public required string Reference { get; init; }
    [JsonPropertyName("sources")] public List<ImageSourceEntry> Sources { get; init; } = [];
}

/// <summary>Where an image was found: file, line and what (e.g. <c>Deployment/web container nginx</c>).</summary>
public sealed record ImageSourceEntry
{
    [JsonPropertyName("file")] public required string File { get; init; }
    [JsonPropertyName("line")] public int Line { get; init; }
    [JsonPropertyName("detail"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Detail { get; init; }
}

public sealed record PulledImagesFile
{
    [JsonPropertyName("images")] public List<PulledImageEntry> Images { get; init; } = [];
    [JsonPropertyName("baseImage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public PulledImageEntry? BaseImage { get; init; }

    public static PulledImagesFile Read(string path) => BuildStateFile.Read(path, ClusterImageJsonContext.Default.PulledImagesFile);

    public void Write(string path) => BuildStateFile.Write(path, this, ClusterImageJsonContext.Default.PulledImagesFile);
}

public sealed record PulledImageEntry
{
    [JsonPropertyName("reference")] public required string Reference { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("mediaType")] public required string MediaType { get; init; }

    /// <summary>On an app image: the FROM base reference it comes from (the base carries it; it was not pulled into the cache).</summary>
    [JsonPropertyName("from"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? From { get; init; }

    /// <summary>On the base image: the OCI layout holding it (the image cache for a registry ref, else the store or an <c>oci:</c> directory).</summary>
    [JsonPropertyName("layout"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Layout { get; init; }
}

internal static class BuildStateFile
{
    public static T Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), info) ?? throw new JsonException("null");
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new SealerException(ErrorCodes.InvalidProjectValue, $"The build state file '{path}' is missing or damaged ({ex.Message}). Rebuild (dotnet build --no-incremental) to write it again.", inner: ex);
        }
    }

    public static void Write<T>(string path, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
        => AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(value, info));

    public static bool WriteIfChanged<T>(string path, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(value, info);
        try
        {
            if (File.Exists(path) && new FileInfo(path).Length == bytes.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes)) return false;
        }
        catch (IOException)
        {
            // unreadable: write it again
        }
        AtomicFile.WriteAllBytes(path, bytes);
        return true;
    }
}

/// <summary>Source-generated JSON for the build's own state files (obj/): layer map, resolved and pulled images (AOT-safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(LayerMapFile))]
[JsonSerializable(typeof(ResolvedImagesFile))]
[JsonSerializable(typeof(PulledImagesFile))]
public sealed partial class ClusterImageJsonContext : JsonSerializerContext;

/// <summary>Which output layer holds which cache blob (so a rebuild re-uses layers without re-reading blobs).</summary>
public sealed record LayerMapFile
{
    [JsonPropertyName("layers")] public Dictionary<string, LayerMapEntry> Layers { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Per platform: the app images' part of the last build (which blobs, the registry layer), with the key of
    /// what it was made from (<see cref="ImagePartEntry.Key"/>). A rebuild whose images, base and platform are the same
    /// takes it from here instead of walking every image's manifests again: a chart edit costs the chart, not the images.</summary>
    // set, not init: the source-generated reader sets init-only properties a file lacks to null (a layer map from before).
    [JsonPropertyName("imageParts")] public Dictionary<string, ImagePartEntry> ImageParts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>What compressed <see cref="RootfsMembers"/> (<see cref="GzipMembers.Compressor"/>): another one's are not reused.</summary>
    [JsonPropertyName("rootfsCompressor")] public string? RootfsCompressor { get; set; }

    /// <summary>Per rootfs layer of the last build (by digest): its gzip members (<see cref="GzipMembers"/>), which the next
    /// build copies instead of compressing the same bytes again.</summary>
    [JsonPropertyName("rootfsMembers")] public Dictionary<string, List<GzipMemberEntry>> RootfsMembers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The last build's rootfs layers (of their own: a folder of <see cref="RootfsLayers.OwnLayerBytes"/> or more;
    /// or shared), by the stamp of the files they were made from (<see cref="RootfsLayers.Stamp"/>): a rebuild whose files
    /// have the same stamp takes the layer as it is, without reading them.</summary>
    [JsonPropertyName("rootfsLayers")] public Dictionary<string, RootfsLayerEntry> RootfsLayers { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A rootfs layer: its blob, its diff ID (the SHA-256 of its tar), which is not read back from it, and its name
/// (the folder of a layer of its own, or "the rest[, part i of n]").</summary>
public sealed record RootfsLayerEntry
{
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("size")] public required long Size { get; init; }
    [JsonPropertyName("diffId")] public required string DiffId { get; init; }
    [JsonPropertyName("group")] public required string Group { get; init; }
}

/// <summary>One gzip member of a rootfs layer: the SHA-256 of its uncompressed bytes, where it starts in the layer, its length.</summary>
public sealed record GzipMemberEntry
{
    [JsonPropertyName("tar")] public required string Tar { get; init; }
    [JsonPropertyName("at")] public required long At { get; init; }
    [JsonPropertyName("size")] public required long Size { get; init; }
}

public sealed record ImagePartEntry
{
    /// <summary>SHA-256 of the format's version, the platform, the base's manifest digest and every image (reference, digest, media type, from base).</summary>
    [JsonPropertyName("key")] public required string Key { get; init; }

    /// <summary>The app image blobs (digest → size) the images' manifests list, base-carried ones included.</summary>
    [JsonPropertyName("blobs")] public required Dictionary<string, long> Blobs { get; init; }

    /// <summary>The registry metadata layer (uncompressed tar: its digest is its diff ID).</summary>
    [JsonPropertyName("registry")] public required LayerMapEntry Registry { get; init; }

    /// <summary>How many images the registry index lists (the layer's history line).</summary>
    [JsonPropertyName("images")] public required int Images { get; init; }
}

public sealed record LayerMapEntry
{
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("size")] public required long Size { get; init; }
}
