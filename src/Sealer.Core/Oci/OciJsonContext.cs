using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sealer.Core.Oci;

/// <summary>Source-generated JSON for the OCI models (AOT-safe: no reflection). Output is compact and stable.</summary>
[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never, AllowTrailingCommas = false)]
[JsonSerializable(typeof(Descriptor))]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(OciLayoutFile))]
[JsonSerializable(typeof(ManifestProbe))]
[JsonSerializable(typeof(Dictionary<string, string>))]
public sealed partial class OciJsonContext : JsonSerializerContext
{
    /// <summary>Serializes to UTF-8 bytes; these exact bytes are what gets hashed.</summary>
    public static byte[] ToBytes<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) => JsonSerializer.SerializeToUtf8Bytes(value, info);

    /// <summary>Deserializes or throws <see cref="Diagnostics.SealerException"/> naming what was read.</summary>
    public static T FromBytes<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, info) ?? throw new JsonException("null document");
        }
        catch (JsonException ex)
        {
            throw new Diagnostics.SealerException(Diagnostics.ErrorCodes.InvalidOciJson, $"{what} is not valid JSON of the expected shape: {ex.Message}", inner: ex);
        }
    }
}
