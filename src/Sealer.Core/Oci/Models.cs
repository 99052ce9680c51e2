using System.Text.Json.Serialization;

namespace Sealer.Core.Oci;

/// <summary>image-spec descriptor.</summary>
public sealed record Descriptor
{
    [JsonPropertyName("mediaType")] public required string MediaType { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("size")] public required long Size { get; init; }
    [JsonPropertyName("urls"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Urls { get; init; }
    [JsonPropertyName("annotations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Annotations { get; init; }
    [JsonPropertyName("platform"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Platform? Platform { get; init; }
    [JsonPropertyName("artifactType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; init; }

    [JsonIgnore] public Digest ParsedDigest => Oci.Digest.Parse(Digest);

    public string? GetAnnotation(string key) => Annotations is not null && Annotations.TryGetValue(key, out var v) ? v : null;
}

/// <summary>image-spec platform. <see cref="ToString"/> gives <c>os/arch[/variant]</c>.</summary>
public sealed record Platform
{
    [JsonPropertyName("architecture")] public required string Architecture { get; init; }
    [JsonPropertyName("os")] public required string Os { get; init; }
    [JsonPropertyName("os.version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? OsVersion { get; init; }
    [JsonPropertyName("os.features"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? OsFeatures { get; init; }
    [JsonPropertyName("variant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Variant { get; init; }

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    /// <summary>Parses <c>linux/amd64</c>, <c>linux/arm64/v8</c>. arm64 without a variant matches v8, as containerd does.</summary>
    public static Platform Parse(string value)
    {
        var parts = value.Trim().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(string.IsNullOrWhiteSpace))
        {
            throw new Diagnostics.SealerException(Diagnostics.ErrorCodes.InvalidPlatform,
                $"'{value}' is not a platform: write os/arch[/variant], e.g. linux/amd64 or linux/arm64.");
        }
        return new Platform { Os = parts[0].ToLowerInvariant(), Architecture = parts[1].ToLowerInvariant(), Variant = parts.Length == 3 ? parts[2].ToLowerInvariant() : null };
    }

    /// <summary>True when <paramref name="candidate"/> (from an index) satisfies this wanted platform.</summary>
    public bool Matches(Platform? candidate)
    {
        if (candidate is null) return false;
        if (!string.Equals(Os, candidate.Os, StringComparison.OrdinalIgnoreCase) || !string.Equals(Architecture, candidate.Architecture, StringComparison.OrdinalIgnoreCase)) return false;
        if (Variant is null) return true;
        var cv = candidate.Variant ?? (candidate.Architecture == "arm64" ? "v8" : null);
        return string.Equals(Variant, cv, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>image-spec manifest (also reads Docker v2 schema 2, which has the same shape).</summary>
public sealed record ImageManifest
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = 2;
    [JsonPropertyName("mediaType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; init; }
    [JsonPropertyName("artifactType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; init; }
    [JsonPropertyName("config")] public required Descriptor Config { get; init; }
    [JsonPropertyName("layers")] public required IReadOnlyList<Descriptor> Layers { get; init; }
    [JsonPropertyName("subject"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Descriptor? Subject { get; init; }
    [JsonPropertyName("annotations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}

/// <summary>image-spec image index (also reads Docker manifest lists). Also the shape of a layout's index.json.</summary>
public sealed record ImageIndex
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = 2;
    [JsonPropertyName("mediaType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; init; }
    [JsonPropertyName("artifactType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; init; }
    [JsonPropertyName("manifests")] public required IReadOnlyList<Descriptor> Manifests { get; init; }
    [JsonPropertyName("subject"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Descriptor? Subject { get; init; }
    [JsonPropertyName("annotations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}

/// <summary>image-spec config (the parts we read and write).</summary>
public sealed record ImageConfig
{
    [JsonPropertyName("created"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Created { get; init; }
    [JsonPropertyName("author"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Author { get; init; }
    [JsonPropertyName("architecture")] public required string Architecture { get; init; }
    [JsonPropertyName("os")] public required string Os { get; init; }
    [JsonPropertyName("variant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Variant { get; init; }
    [JsonPropertyName("config"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ImageRuntimeConfig? Config { get; init; }
    [JsonPropertyName("rootfs")] public required RootFs RootFs { get; init; }
    [JsonPropertyName("history"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<HistoryEntry>? History { get; init; }
}

public sealed record ImageRuntimeConfig
{
    [JsonPropertyName("Env"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Env { get; init; }
    [JsonPropertyName("Entrypoint"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Entrypoint { get; init; }
    [JsonPropertyName("Cmd"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Cmd { get; init; }
    [JsonPropertyName("WorkingDir"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? WorkingDir { get; init; }
    [JsonPropertyName("Labels"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

public sealed record RootFs
{
    [JsonPropertyName("type")] public string Type { get; init; } = "layers";
    [JsonPropertyName("diff_ids")] public required IReadOnlyList<string> DiffIds { get; init; }
}

public sealed record HistoryEntry
{
    [JsonPropertyName("created"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Created { get; init; }
    [JsonPropertyName("created_by"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? CreatedBy { get; init; }
    [JsonPropertyName("comment"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Comment { get; init; }
    [JsonPropertyName("empty_layer"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool EmptyLayer { get; init; }
}

/// <summary>The <c>oci-layout</c> file.</summary>
public sealed record OciLayoutFile
{
    [JsonPropertyName("imageLayoutVersion")] public string ImageLayoutVersion { get; init; } = "1.0.0";
}

/// <summary>Just enough of any manifest/index JSON to tell which it is.</summary>
public sealed record ManifestProbe
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; }
    [JsonPropertyName("mediaType")] public string? MediaType { get; init; }
    [JsonPropertyName("manifests")] public IReadOnlyList<Descriptor>? Manifests { get; init; }
    [JsonPropertyName("config")] public Descriptor? Config { get; init; }
}
