using System.Text.Json.Serialization;
using Sealer.Core.ClusterImage;

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

/// <summary>How inspect shows the <c>sealer.image.extension</c> annotation (decoded by <see cref="ClusterImageFormat.ParseExtension"/>).</summary>
public sealed record ImageExtensionInfo
{
    public static ImageExtensionInfo From(SealerImageExtension extension)
    {
        var buildClient = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value)) buildClient[key] = value;
        }
        Add("sealerVersion", extension.BuildClient.SealerVersion);
        Add("buildahVersion", extension.BuildClient.BuildahVersion);
        Add("builder", extension.BuildClient.Builder);
        return new ImageExtensionInfo
        {
            Type = extension.Type,
            Applications = extension.Apps.Select(a => new ApplicationInfo { Name = a.Name, Type = a.Type, Version = a.Version, Files = a.AllFiles }).ToList(),
            LaunchApps = extension.Launch.AppNames is null && extension.Launch.Apps is null ? null : extension.LaunchApps,
            LaunchCmds = extension.Launch.Cmds,
            Env = extension.Env is null ? null : new SortedDictionary<string, string>(extension.Env.ToDictionary(), StringComparer.Ordinal),
            BuildClient = buildClient.Count == 0 ? null : buildClient,
        };
    }

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

/// <summary>An artifact whose <c>subject</c> is the cluster image (or one of its platform manifests).</summary>
public sealed record ReferrerInfo
{
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("artifactType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; init; }
    [JsonPropertyName("subject")] public required string Subject { get; init; }
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
[JsonSourceGenerationOptions(WriteIndented = true, NewLine = "\n")]
[JsonSerializable(typeof(ClusterImageInfo))]
[JsonSerializable(typeof(ContainedImageList))]
[JsonSerializable(typeof(List<StoredImageJson>))]
[JsonSerializable(typeof(PushResult))]
[JsonSerializable(typeof(MirrorResult))]
[JsonSerializable(typeof(GcReport))]
[JsonSerializable(typeof(List<GcReport>))]
public sealed partial class ArtifactsJsonContext : JsonSerializerContext
{
    /// <summary>For output people read: <c>+</c>, <c>&lt;</c> and non-ASCII stay as they are instead of <c>\u002B</c>.</summary>
    public static ArtifactsJsonContext Readable { get; } = new(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, NewLine = "\n", Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
