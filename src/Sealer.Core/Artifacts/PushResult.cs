using System.Text.Json.Serialization;

namespace Sealer.Core.Artifacts;

/// <summary>What a push did: the tag and digest it published and how much it had to send.</summary>
public sealed record PushResult
{
    [JsonPropertyName("reference")] public required string Reference { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("mediaType")] public required string MediaType { get; init; }
    [JsonPropertyName("manifests")] public required int Manifests { get; init; }
    [JsonPropertyName("blobsTotal")] public required int BlobsTotal { get; init; }
    [JsonPropertyName("blobsSkipped")] public required int BlobsSkipped { get; init; }
    [JsonPropertyName("blobsMounted")] public required int BlobsMounted { get; init; }
    [JsonPropertyName("blobsUploaded")] public required int BlobsUploaded { get; init; }
    [JsonPropertyName("bytesUploaded")] public required long BytesUploaded { get; init; }
    [JsonPropertyName("referrers")] public int Referrers { get; init; }
    /// <summary>Each platform's manifest digest (<c>linux/amd64</c> → <c>sha256:…</c>); for a single-platform image, its one manifest.</summary>
    [JsonPropertyName("platforms")] public IReadOnlyDictionary<string, string> Platforms { get; init; } = new Dictionary<string, string>();
    /// <summary>Every tag the push set (the destination's and <see cref="PushOptions.AdditionalTags"/>).</summary>
    [JsonPropertyName("tags")] public IReadOnlyList<string> Tags { get; init; } = [];
}
