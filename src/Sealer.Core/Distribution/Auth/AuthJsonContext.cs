using System.Text.Json.Serialization;

namespace Sealer.Core.Distribution.Auth;

/// <summary>~/.docker/config.json (the parts we read).</summary>
public sealed record DockerConfigFile
{
    [JsonPropertyName("auths")] public Dictionary<string, DockerAuthEntry>? Auths { get; init; }
    [JsonPropertyName("credsStore")] public string? CredsStore { get; init; }
    [JsonPropertyName("credHelpers")] public Dictionary<string, string>? CredHelpers { get; init; }
}

public sealed record DockerAuthEntry
{
    [JsonPropertyName("auth")] public string? Auth { get; init; }
    [JsonPropertyName("username")] public string? Username { get; init; }
    [JsonPropertyName("password")] public string? Password { get; init; }
    [JsonPropertyName("identitytoken")] public string? IdentityToken { get; init; }
}

/// <summary>What <c>docker-credential-x get</c> prints.</summary>
public sealed record CredentialHelperAnswer
{
    [JsonPropertyName("ServerURL")] public string? ServerUrl { get; init; }
    [JsonPropertyName("Username")] public string? Username { get; init; }
    [JsonPropertyName("Secret")] public string? Secret { get; init; }
}

/// <summary>A token server's answer (distribution token spec; OAuth2 servers answer access_token).</summary>
public sealed record TokenResponse
{
    [JsonPropertyName("token")] public string? Token { get; init; }
    [JsonPropertyName("access_token")] public string? AccessToken { get; init; }
    [JsonPropertyName("expires_in")] public int? ExpiresIn { get; init; }
    [JsonPropertyName("refresh_token")] public string? RefreshToken { get; init; }
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(DockerConfigFile))]
[JsonSerializable(typeof(CredentialHelperAnswer))]
[JsonSerializable(typeof(TokenResponse))]
internal sealed partial class AuthJsonContext : JsonSerializerContext
{
}
