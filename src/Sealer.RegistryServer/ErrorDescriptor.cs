using System.Text.Json;

namespace Sealer.RegistryServer;

/// <summary>
/// One registry error code of the distribution spec (spec.md "Error Codes"), with its HTTP status, as distribution's
/// <c>errcode.ErrorDescriptor</c>. Handlers return <c>ErrorDescriptors.BlobUnknown.With(detail)</c>; <see cref="RegistryError.WriteAsync"/>
/// serializes <c>{"errors":[{"code","message","detail"}]}</c>.
/// </summary>
public sealed record ErrorDescriptor(string Value, string Message, string Description, int HttpStatusCode)
{
    public RegistryError With(string? detail = null, string? message = null) => new(this, message ?? Message, detail);
}

/// <summary>
/// The table. Values and statuses follow the distribution spec (every 4xx code is one of its 14) and distribution's
/// registry/api/v2/errors.go; UNKNOWN and UNAVAILABLE are for 5xx only.
/// </summary>
public static class ErrorDescriptors
{
    public static readonly ErrorDescriptor BlobUnknown = new("BLOB_UNKNOWN", "blob unknown to registry",
        "The blob is not in this repository (or not in any layout served).", 404);
    public static readonly ErrorDescriptor BlobUploadInvalid = new("BLOB_UPLOAD_INVALID", "blob upload invalid",
        "The upload failed: bad chunk order, bad Content-Range, or the content did not match the digest.", 400);
    public static readonly ErrorDescriptor BlobUploadUnknown = new("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry",
        "No upload session with this id.", 404);
    public static readonly ErrorDescriptor DigestInvalid = new("DIGEST_INVALID", "provided digest did not match uploaded content",
        "The digest is malformed (expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>) or did not match the content.", 400);
    public static readonly ErrorDescriptor ManifestBlobUnknown = new("MANIFEST_BLOB_UNKNOWN", "manifest references a manifest or blob unknown to registry",
        "A manifest was pushed before the blobs it references.", 404);
    public static readonly ErrorDescriptor ManifestInvalid = new("MANIFEST_INVALID", "manifest invalid",
        "The manifest is not valid JSON of a known media type, or is too large.", 400);
    public static readonly ErrorDescriptor ManifestUnknown = new("MANIFEST_UNKNOWN", "manifest unknown",
        "No manifest with this tag or digest in this repository.", 404);
    public static readonly ErrorDescriptor NameInvalid = new("NAME_INVALID", "invalid repository name",
        "Repository names are lowercase path components of [a-z0-9] joined by '.', '_', '__' or '-', separated by '/'.", 400);
    public static readonly ErrorDescriptor NameUnknown = new("NAME_UNKNOWN", "repository name not known to registry",
        "No image of this repository is served.", 404);
    public static readonly ErrorDescriptor SizeInvalid = new("SIZE_INVALID", "provided length did not match content length",
        "Content-Length did not match the content, or the content is larger than allowed.", 400);
    public static readonly ErrorDescriptor Unauthorized = new("UNAUTHORIZED", "authentication required",
        "Send HTTP basic credentials of a user in the registry's htpasswd file.", 401);
    public static readonly ErrorDescriptor Denied = new("DENIED", "requested access to the resource is denied",
        "The registry is read-only, or this operation is not allowed.", 403);
    public static readonly ErrorDescriptor Unsupported = new("UNSUPPORTED", "The operation is unsupported.",
        "The method is not supported on this route.", 405);
    public static readonly ErrorDescriptor TooManyRequests = new("TOOMANYREQUESTS", "too many requests",
        "The client sent too many requests.", 429);
    /// <summary>Chunked uploads out of order (distribution's 416 for PATCH), with the spec's code.</summary>
    public static readonly ErrorDescriptor RangeInvalid = new("BLOB_UPLOAD_INVALID", "invalid content range",
        "The chunk does not start where the upload ends.", 416);
    public static readonly ErrorDescriptor Unknown = new("UNKNOWN", "unknown error",
        "An unexpected error; the server log has the details.", 500);
    public static readonly ErrorDescriptor Unavailable = new("UNAVAILABLE", "service unavailable",
        "The upstream registry could not be reached.", 503);

    public static IReadOnlyList<ErrorDescriptor> All { get; } =
    [
        BlobUnknown, BlobUploadInvalid, BlobUploadUnknown, DigestInvalid, ManifestBlobUnknown, ManifestInvalid, ManifestUnknown,
        NameInvalid, NameUnknown, SizeInvalid, Unauthorized, Denied, Unsupported, TooManyRequests, RangeInvalid, Unknown, Unavailable,
    ];
}

/// <summary>An error to send: a descriptor, its message and an optional detail.</summary>
public sealed record RegistryError(ErrorDescriptor Descriptor, string Message, string? Detail)
{
    /// <summary>The JSON body <c>{"errors":[{"code":..,"message":..,"detail":..}]}</c>.</summary>
    public byte[] ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("errors");
            w.WriteStartObject();
            w.WriteString("code", Descriptor.Value);
            w.WriteString("message", Message);
            if (Detail is null) w.WriteNull("detail"); else w.WriteString("detail", Detail);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
