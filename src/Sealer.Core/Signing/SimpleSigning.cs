using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Signing;

/// <summary>
/// The payload cosign signs for a container image (Red Hat's "simple signing" shape):
/// <c>{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":"cosign container image signature"},"optional":null}</c>,
/// written byte for byte as cosign writes it (compact, members in that order), so a signature made here verifies with cosign.
/// </summary>
public static class SimpleSigning
{
    public const string Type = "cosign container image signature";

    /// <summary>The payload for the image <paramref name="dockerReference"/> (repository, no tag) at <paramref name="manifestDigest"/>.</summary>
    public static byte[] CreatePayload(string dockerReference, string manifestDigest, IReadOnlyDictionary<string, string>? optional = null)
        => JsonSerializer.SerializeToUtf8Bytes(new SimpleSigningPayload
        {
            Critical = new SimpleSigningCritical
            {
                Identity = new SimpleSigningIdentity { DockerReference = dockerReference },
                Image = new SimpleSigningImage { DockerManifestDigest = manifestDigest },
                Type = Type,
            },
            Optional = optional,
        }, SigningJsonContext.Default.SimpleSigningPayload);

    /// <summary>Reads a payload; anything but a cosign container image signature is <see cref="ErrorCodes.SignaturePayloadTampered"/>.</summary>
    public static SimpleSigningPayload ReadPayload(byte[] payload, string where)
    {
        SimpleSigningPayload? doc;
        try
        {
            doc = JsonSerializer.Deserialize(payload, SigningJsonContext.Default.SimpleSigningPayload);
        }
        catch (JsonException ex)
        {
            throw new SealerException(ErrorCodes.SignaturePayloadTampered, $"The signed payload of {where} is not a simple-signing JSON document: {ex.Message}", inner: ex);
        }
        if (doc?.Critical is not { Type: Type, Image.DockerManifestDigest: { } digest } || !digest.StartsWith("sha256:", StringComparison.Ordinal))
        {
            throw new SealerException(ErrorCodes.SignaturePayloadTampered,
                $"The signed payload of {where} is not a '{Type}' naming a sha256 manifest digest.");
        }
        return doc;
    }
}

public sealed record SimpleSigningPayload
{
    [JsonPropertyName("critical")] public SimpleSigningCritical? Critical { get; init; }
    [JsonPropertyName("optional")] public IReadOnlyDictionary<string, string>? Optional { get; init; }
}

public sealed record SimpleSigningCritical
{
    [JsonPropertyName("identity")] public SimpleSigningIdentity? Identity { get; init; }
    [JsonPropertyName("image")] public SimpleSigningImage? Image { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
}

public sealed record SimpleSigningIdentity
{
    [JsonPropertyName("docker-reference")] public string? DockerReference { get; init; }
}

public sealed record SimpleSigningImage
{
    [JsonPropertyName("docker-manifest-digest")] public string? DockerManifestDigest { get; init; }
}

/// <summary>Source-generated JSON for the key document and the signed payload (compact, nulls written: <c>"optional":null</c> as cosign).</summary>
[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(EncryptedKey))]
[JsonSerializable(typeof(SimpleSigningPayload))]
public sealed partial class SigningJsonContext : JsonSerializerContext;
