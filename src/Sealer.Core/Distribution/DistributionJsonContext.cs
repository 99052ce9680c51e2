using System.Text.Json.Serialization;

namespace Sealer.Core.Distribution;

/// <summary>The registry error body: <c>{"errors":[{"code","message","detail"}]}</c>.</summary>
public sealed record RegistryErrorBody
{
    [JsonPropertyName("errors")] public List<RegistryErrorEntry>? Errors { get; init; }
}

public sealed record RegistryErrorEntry
{
    [JsonPropertyName("code")] public string? Code { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("detail")] public System.Text.Json.JsonElement? Detail { get; init; }
}

/// <summary>The tags list API's answer (<c>GET /v2/&lt;name&gt;/tags/list</c>).</summary>
public sealed record TagListResponse
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("tags")] public List<string>? Tags { get; init; }
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(RegistryErrorBody))]
[JsonSerializable(typeof(TagListResponse))]
internal sealed partial class DistributionJsonContext : JsonSerializerContext
{
}
