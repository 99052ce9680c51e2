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

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(RegistryErrorBody))]
internal sealed partial class DistributionJsonContext : JsonSerializerContext
{
}
