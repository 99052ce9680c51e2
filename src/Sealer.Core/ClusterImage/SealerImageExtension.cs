using System.Text.Json.Serialization;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// The <c>sealer.image.extension</c> manifest annotation, as Sealer (v0.9+) writes and reads it: build client, image type,
/// applications, launch (app names or cmds), env. Sealer ignores unknown members, so per-app <c>cmds</c>/<c>env</c> ride along.
/// </summary>
public sealed record SealerImageExtension
{
    public const string KubeInstaller = "kube-installer";
    public const string AppInstaller = "app-installer";

    [JsonPropertyName("buildClient")] public BuildClientInfo BuildClient { get; init; } = new();
    [JsonPropertyName("schemaVersion")] public string SchemaVersion { get; init; } = "v1alpha1";
    [JsonPropertyName("type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Type { get; init; }
    [JsonPropertyName("applications"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<SealerApplication>? Applications { get; init; }
    [JsonPropertyName("launch")] public SealerLaunch Launch { get; init; } = new();
    [JsonPropertyName("env"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Env { get; init; }
}

public sealed record BuildClientInfo
{
    [JsonPropertyName("sealerVersion")] public string SealerVersion { get; init; } = "";
    [JsonPropertyName("buildahVersion")] public string BuildahVersion { get; init; } = "";
    /// <summary>Our own marker: which tool built the image.</summary>
    [JsonPropertyName("builder"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Builder { get; init; }
}

public sealed record SealerApplication
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Type { get; init; }
    /// <summary>Sealer v0.9.0 wrote <c>launchfiles</c>.</summary>
    [JsonPropertyName("launchfiles"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? LaunchFiles { get; init; }
    /// <summary>Sealer v0.9.1+ writes <c>files</c>; readers take either.</summary>
    [JsonPropertyName("files"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Files { get; init; }
    [JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Version { get; init; }
    [JsonPropertyName("cmds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Cmds { get; init; }
    [JsonPropertyName("env"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Env { get; init; }
}

public sealed record SealerLaunch
{
    [JsonPropertyName("cmds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Cmds { get; init; }
    [JsonPropertyName("app_names"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? AppNames { get; init; }
}

/// <summary>Source-generated JSON for the cluster image's own documents (AOT-safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(SealerImageExtension))]
[JsonSerializable(typeof(LayerMapFile))]
[JsonSerializable(typeof(ResolvedImagesFile))]
[JsonSerializable(typeof(PulledImagesFile))]
public sealed partial class ClusterImageJsonContext : JsonSerializerContext;

/// <summary>Which output layer holds which cache blob (so a rebuild re-uses layers without re-reading blobs).</summary>
public sealed record LayerMapFile
{
    [JsonPropertyName("layers")] public Dictionary<string, LayerMapEntry> Layers { get; init; } = new(StringComparer.Ordinal);
}

public sealed record LayerMapEntry
{
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("size")] public required long Size { get; init; }
}
