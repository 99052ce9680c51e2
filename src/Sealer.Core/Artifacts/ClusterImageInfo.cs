using System.Text.Json.Serialization;

namespace Sealer.Core.Artifacts;

/// <summary>What <c>sealer inspect</c> shows about a cluster image (also its JSON output, <c>-o json</c>).</summary>
public sealed record ClusterImageInfo
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("mediaType")] public required string MediaType { get; init; }
    /// <summary>Sum of the distinct blobs of every platform: what a push or save moves at most.</summary>
    [JsonPropertyName("size")] public required long Size { get; init; }
    [JsonPropertyName("platforms")] public required IReadOnlyList<PlatformImageInfo> Platforms { get; init; }
    /// <summary>Artifacts attached to the image (signatures, SBOMs) stored as OCI referrers.</summary>
    [JsonPropertyName("referrers"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<ReferrerInfo>? Referrers { get; init; }
}

/// <summary>One platform's cluster image (a manifest).</summary>
public sealed record PlatformImageInfo
{
    [JsonPropertyName("platform")] public required string Platform { get; init; }
    [JsonPropertyName("manifest")] public required string ManifestDigest { get; init; }
    [JsonPropertyName("config")] public required string ConfigDigest { get; init; }
    [JsonPropertyName("size")] public required long Size { get; init; }
    [JsonPropertyName("layers")] public required int LayerCount { get; init; }
    [JsonPropertyName("labels")] public required IReadOnlyDictionary<string, string> Labels { get; init; }
    [JsonPropertyName("env"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Env { get; init; }
    /// <summary>Decoded <c>sealer.image.extension</c>, when present.</summary>
    [JsonPropertyName("extension"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ImageExtensionInfo? Extension { get; init; }
    /// <summary>The app images carried in <c>registry/</c> (full references with digests): the image's software list.</summary>
    [JsonPropertyName("images")] public required IReadOnlyList<ContainedImage> Images { get; init; }
}

/// <summary>The decoded <c>sealer.image.extension</c> manifest annotation.</summary>
public sealed record ImageExtensionInfo
{
    [JsonPropertyName("type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Type { get; init; }
    [JsonPropertyName("applications")] public IReadOnlyList<ApplicationInfo> Applications { get; init; } = [];
    [JsonPropertyName("launchApps"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? LaunchApps { get; init; }
    [JsonPropertyName("launchCmds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? LaunchCmds { get; init; }
    [JsonPropertyName("env"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Env { get; init; }
    [JsonPropertyName("buildClient"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? BuildClient { get; init; }
}

public sealed record ApplicationInfo
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Type { get; init; }
    [JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Version { get; init; }
    [JsonPropertyName("files")] public IReadOnlyList<string> Files { get; init; } = [];
}

/// <summary>An app image inside the cluster image's <c>registry/</c> layout: one entry of its software list.</summary>
public sealed record ContainedImage
{
    [JsonPropertyName("ref")] public required string Reference { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("mediaType")] public required string MediaType { get; init; }
    [JsonPropertyName("platforms")] public required IReadOnlyList<ContainedPlatform> Platforms { get; init; }
}

/// <summary>One platform manifest of a contained image, with its config and layer digests.</summary>
public sealed record ContainedPlatform
{
    [JsonPropertyName("platform"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Platform { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("config"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Config { get; init; }
    [JsonPropertyName("layers")] public IReadOnlyList<string> Layers { get; init; } = [];
    [JsonPropertyName("size")] public long Size { get; init; }
}

/// <summary>An artifact whose <c>subject</c> is the cluster image (or one of its platform manifests).</summary>
public sealed record ReferrerInfo
{
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("artifactType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; init; }
    [JsonPropertyName("subject")] public required string Subject { get; init; }
}

/// <summary>The images list document (<c>registry/images.json</c>, media type <see cref="MediaType"/>): the cluster
/// image's software list with every digest, written by assembly and read by inspect and verification.</summary>
public sealed record ContainedImageList
{
    public const string MediaType = "application/vnd.sealer.image-list.v1+json";
    [JsonPropertyName("mediaType")] public string DocumentMediaType { get; init; } = MediaType;
    [JsonPropertyName("images")] public required IReadOnlyList<ContainedImage> Images { get; init; }
}

/// <summary>The images of <c>sealer images</c> as JSON.</summary>
public sealed record StoredImageJson
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("platforms")] public required IReadOnlyList<string> Platforms { get; init; }
    [JsonPropertyName("size")] public required long Size { get; init; }
}

/// <summary>Source-generated JSON for the artifact models (AOT-safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(ClusterImageInfo))]
[JsonSerializable(typeof(ContainedImageList))]
[JsonSerializable(typeof(List<StoredImageJson>))]
[JsonSerializable(typeof(PushResult))]
[JsonSerializable(typeof(GcReport))]
[JsonSerializable(typeof(List<GcReport>))]
public sealed partial class ArtifactsJsonContext : JsonSerializerContext
{
    /// <summary>For output people read: <c>+</c>, <c>&lt;</c> and non-ASCII stay as they are instead of <c>\u002B</c>.</summary>
    public static ArtifactsJsonContext Readable { get; } = new(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
