using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer;

/// <summary>
/// The whole registry as one request delegate: parse the raw path into a <see cref="V2Route"/>, check auth once, then
/// dispatch by route name and method (distribution's <c>app.dispatcher</c> + <c>MethodHandler</c>). Errors are
/// <see cref="RegistryError"/>s written as <c>{"errors":[...]}</c>.
/// </summary>
public sealed partial class RegistryHandler
{
    private const string ApiVersionHeader = "Docker-Distribution-API-Version";
    private const string ApiVersion = "registry/2.0";
    private const int MaxPageSize = 10000;
    private static readonly byte[] EmptyJson = "{}"u8.ToArray();

    private readonly RegistryStore _store;
    private readonly NameResolver _names;
    private readonly HtpasswdAuthenticator? _auth;
    private readonly AccessLog? _accessLog;
    private readonly ILogger _logger;
    private readonly bool _allowPush;
    private readonly PullThrough? _pull;

    public RegistryHandler(RegistryStore store, NameResolver names, HtpasswdAuthenticator? auth, AccessLog? accessLog, bool allowPush, ILogger logger, PullThrough? pullThrough = null)
    {
        _pull = pullThrough;
        _store = store;
        _names = names;
        _auth = auth;
        _accessLog = accessLog;
        _allowPush = allowPush && store.Writable is not null;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext ctx)
    {
        long start = Stopwatch.GetTimestamp();
        string? user = null;
        try
        {
            ctx.Response.Headers[ApiVersionHeader] = ApiVersion;
            string target = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path.Value ?? "/";
            int q = target.IndexOf('?');
            string rawPath = q >= 0 ? target[..q] : target;
            var route = V2Route.Parse(rawPath, out var pathError);
            if (route is null)
            {
                await WriteErrorAsync(ctx, pathError is null ? ErrorDescriptors.NameUnknown.With(rawPath, "no such route") : pathError.With(rawPath)).ConfigureAwait(false);
                return;
            }
            var r = route.Value;
            if (r.Name == RouteName.Health)
            {
                await WriteJsonBytesAsync(ctx, 200, "{\"status\":\"ok\"}"u8.ToArray()).ConfigureAwait(false);
                return;
            }
            if (_auth is not null)
            {
                user = _auth.Authenticate(ctx.Request.Headers.Authorization);
                if (user is null)
                {
                    ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"sealer-registry\", charset=\"UTF-8\"";
                    await WriteErrorAsync(ctx, ErrorDescriptors.Unauthorized.With()).ConfigureAwait(false);
                    return;
                }
            }
            string method = ctx.Request.Method;
            bool isRead = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
            string? fullName = null;
            if (r.Name is not (RouteName.Base or RouteName.Catalog))
            {
                string? ns = ctx.Request.Query["ns"].FirstOrDefault();
                fullName = _names.Resolve(r.Repository, ns);
                // Proxying (spec "Registry Proxying"): a registry scoping by ns SHOULD echo it.
                if (!string.IsNullOrEmpty(ns)) ctx.Response.Headers["OCI-Namespace"] = ns;
                if (fullName is null)
                {
                    await WriteErrorAsync(ctx, ErrorDescriptors.NameInvalid.With(r.Repository)).ConfigureAwait(false);
                    return;
                }
            }
            if (!isRead && !_allowPush)
            {
                await WriteErrorAsync(ctx, ErrorDescriptors.Unsupported.With(method, "the registry is read-only")).ConfigureAwait(false);
                return;
            }
            Task task = (r.Name, isRead) switch
            {
                (RouteName.Base, true) => WriteJsonBytesAsync(ctx, 200, EmptyJson),
                (RouteName.Catalog, true) => CatalogAsync(ctx),
                (RouteName.Tags, true) => TagsAsync(ctx, r.Repository, fullName!),
                (RouteName.Manifest, true) => GetManifestAsync(ctx, fullName!, r.Reference),
                (RouteName.Manifest, false) when HttpMethods.IsPut(method) => PutManifestAsync(ctx, fullName!, r.Reference),
                (RouteName.Blob, true) => GetBlobAsync(ctx, fullName!, r.Reference),
                (RouteName.Referrers, true) => ReferrersAsync(ctx, fullName!, r.Reference),
                (RouteName.BlobUpload, false) when HttpMethods.IsPost(method) => StartUploadAsync(ctx, r.Repository, fullName!),
                (RouteName.BlobUploadChunk, true) => UploadStatusAsync(ctx, r.Repository, r.Reference),
                (RouteName.BlobUploadChunk, false) when HttpMethods.IsPatch(method) => PatchUploadAsync(ctx, r.Repository, r.Reference),
                (RouteName.BlobUploadChunk, false) when HttpMethods.IsPut(method) => FinishUploadAsync(ctx, r.Repository, fullName!, r.Reference),
                (RouteName.BlobUploadChunk, false) when HttpMethods.IsDelete(method) => CancelUploadAsync(ctx, r.Reference),
                _ => WriteErrorAsync(ctx, ErrorDescriptors.Unsupported.With(method + " " + r.Name)),
            };
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (IOException) when (ctx.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "{Code}: {Method} {Path} failed", Sealer.Core.Diagnostics.ErrorCodes.Internal, ctx.Request.Method, ctx.Request.Path.Value);
            if (!ctx.Response.HasStarted) await WriteErrorAsync(ctx, ErrorDescriptors.Unknown.With()).ConfigureAwait(false);
            else ctx.Abort();
        }
        finally
        {
            _accessLog?.Write(ctx, user, Stopwatch.GetElapsedTime(start));
        }
    }

    // ---- catalog and tags ----------------------------------------------------------------------------------------

    private async Task CatalogAsync(HttpContext ctx)
    {
        string? ns = ctx.Request.Query["ns"].FirstOrDefault();
        IEnumerable<string> names = _store.RepositoryNames;
        if (!string.IsNullOrEmpty(ns))
        {
            string prefix = NameResolver.NormalizeDomain(ns) + "/";
            names = names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => n[prefix.Length..]);
        }
        if (!TryPage(ctx, names.ToList(), out var page, out var next, out var error))
        {
            await WriteErrorAsync(ctx, error!).ConfigureAwait(false);
            return;
        }
        await WriteListAsync(ctx, "repositories", null, page, next, "/v2/_catalog").ConfigureAwait(false);
    }

    private async Task TagsAsync(HttpContext ctx, string requestedName, string fullName)
    {
        if (!_store.HasRepository(fullName))
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.NameUnknown.With(requestedName)).ConfigureAwait(false);
            return;
        }
        if (!TryPage(ctx, _store.Tags(fullName), out var page, out var next, out var error))
        {
            await WriteErrorAsync(ctx, error!).ConfigureAwait(false);
            return;
        }
        await WriteListAsync(ctx, "tags", requestedName, page, next, $"/v2/{requestedName}/tags/list").ConfigureAwait(false);
    }

    /// <summary>n/last pagination (spec: results lexically after <c>last</c>, at most <c>n</c>, Link header when more).</summary>
    private static bool TryPage(HttpContext ctx, IReadOnlyList<string> sorted, out IReadOnlyList<string> page, out string? nextLast, out RegistryError? error)
    {
        page = sorted;
        nextLast = null;
        error = null;
        string? nText = ctx.Request.Query["n"].FirstOrDefault();
        string? last = ctx.Request.Query["last"].FirstOrDefault();
        int n = int.MaxValue;
        if (nText is not null)
        {
            if (!int.TryParse(nText, NumberStyles.None, CultureInfo.InvariantCulture, out n) || n < 0)
            {
                error = PaginationNumberInvalid.With(nText);
                return false;
            }
            n = Math.Min(n, MaxPageSize);
        }
        IEnumerable<string> items = sorted;
        if (!string.IsNullOrEmpty(last)) items = items.Where(t => string.CompareOrdinal(t, last) > 0);
        var list = items.ToList();
        if (list.Count > n)
        {
            page = list.Take(n).ToList();
            nextLast = n > 0 ? page[^1] : null;
        }
        else
        {
            page = list;
        }
        return true;
    }

    /// <summary>distribution answers PAGINATION_NUMBER_INVALID, which is not one of the spec's codes; this keeps its 400 with a spec code.</summary>
    internal static readonly ErrorDescriptor PaginationNumberInvalid = ErrorDescriptors.Unsupported with
    {
        Message = "invalid number of results requested: n must be a non-negative integer",
        HttpStatusCode = 400,
    };

    private static async Task WriteListAsync(HttpContext ctx, string property, string? name, IReadOnlyList<string> items, string? nextLast, string path)
    {
        if (nextLast is not null)
        {
            int n = items.Count;
            string ns = ctx.Request.Query["ns"].FirstOrDefault() is { Length: > 0 } v ? "&ns=" + Uri.EscapeDataString(v) : "";
            ctx.Response.Headers.Link = $"<{path}?n={n}&last={Uri.EscapeDataString(nextLast)}{ns}>; rel=\"next\"";
        }
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (name is not null) w.WriteString("name", name);
            w.WriteStartArray(property);
            foreach (var item in items) w.WriteStringValue(item);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        await WriteJsonBytesAsync(ctx, 200, buffer.WrittenSpan.ToArray()).ConfigureAwait(false);
    }

    // ---- referrers (distribution-spec 1.1) ----------------------------------------------------------------------

    private async Task ReferrersAsync(HttpContext ctx, string fullName, string reference)
    {
        if (!Digest.TryParse(reference, out var digest))
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.DigestInvalid.With(reference, "invalid digest")).ConfigureAwait(false);
            return;
        }
        string? artifactType = ctx.Request.Query["artifactType"].FirstOrDefault();
        if (!string.IsNullOrEmpty(artifactType)) ctx.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        var list = _store.Referrers(fullName, digest, string.IsNullOrEmpty(artifactType) ? null : artifactType);
        var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = list };
        byte[] body = OciJsonContext.ToBytes(index, OciJsonContext.Default.ImageIndex);
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = MediaTypes.OciIndex;
        ctx.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(ctx.Request.Method)) await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted).ConfigureAwait(false);
    }

    // ---- manifests -----------------------------------------------------------------------------------------------

    private async Task GetManifestAsync(HttpContext ctx, string fullName, string reference)
    {
        CachedManifest? manifest;
        bool byTag;
        if (reference.Contains(':'))
        {
            if (!Digest.TryParse(reference, out var digest))
            {
                await WriteErrorAsync(ctx, ErrorDescriptors.DigestInvalid.With(reference, "invalid digest")).ConfigureAwait(false);
                return;
            }
            byTag = false;
            manifest = _store.Contains(fullName, digest) ? _store.GetManifest(digest) : null;
        }
        else
        {
            if (!IsValidTag(reference))
            {
                await WriteErrorAsync(ctx, ErrorDescriptors.ManifestInvalid.With(reference, "invalid tag")).ConfigureAwait(false);
                return;
            }
            byTag = true;
            var desc = _store.ResolveTag(fullName, reference);
            manifest = desc is not null && Digest.TryParse(desc.Digest, out var d) ? _store.GetManifest(d, desc.MediaType) : null;
        }
        if (manifest is null && _pull?.For(fullName) is not null && await _pull.FetchManifestAsync(fullName, reference, ctx.RequestAborted).ConfigureAwait(false))
        {
            if (byTag)
            {
                var desc = _store.ResolveTag(fullName, reference);
                manifest = desc is not null && Digest.TryParse(desc.Digest, out var d) ? _store.GetManifest(d, desc.MediaType) : null;
            }
            else
            {
                manifest = _store.GetManifest(Digest.Parse(reference));
            }
        }
        if (manifest is null)
        {
            var error = _store.HasRepository(fullName) ? ErrorDescriptors.ManifestUnknown.With(reference) : ErrorDescriptors.NameUnknown.With(fullName);
            await WriteErrorAsync(ctx, error).ConfigureAwait(false);
            return;
        }
        var accept = ParseAccept(ctx.Request.Headers.Accept);
        if (accept is not null && !accept.Contains(manifest.MediaType))
        {
            // Content negotiation: a client that cannot take an index gets the linux/amd64 manifest of a tag (as distribution
            // does for manifest lists); by digest the exact content was asked for, so it is refused rather than swapped.
            CachedManifest? chosen = byTag && MediaTypes.IsIndex(manifest.MediaType) ? PickPlatformManifest(fullName, manifest, accept) : null;
            if (chosen is null && MediaTypes.IsIndex(manifest.MediaType))
            {
                await WriteErrorAsync(ctx, ErrorDescriptors.ManifestUnknown.With(reference,
                    $"{manifest.MediaType} found, but the Accept header does not allow it")).ConfigureAwait(false);
                return;
            }
            manifest = chosen ?? manifest;
        }
        var h = ctx.Response.Headers;
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = manifest.MediaType;
        ctx.Response.ContentLength = manifest.Bytes.Length;
        h["Docker-Content-Digest"] = manifest.Digest;
        h.ETag = "\"" + manifest.Digest + "\"";
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await ctx.Response.Body.WriteAsync(manifest.Bytes, ctx.RequestAborted).ConfigureAwait(false);
    }

    private CachedManifest? PickPlatformManifest(string fullName, CachedManifest index, HashSet<string> accept)
    {
        var parsed = OciJsonContext.FromBytes(index.Bytes, OciJsonContext.Default.ImageIndex, index.Digest);
        var want = new Platform { Os = "linux", Architecture = "amd64" };
        foreach (var child in parsed.Manifests)
        {
            if (!want.Matches(child.Platform) || !Digest.TryParse(child.Digest, out var d) || !_store.Contains(fullName, d)) continue;
            var m = _store.GetManifest(d, child.MediaType);
            if (m is not null && accept.Contains(m.MediaType)) return m;
        }
        return null;
    }

    /// <summary>The accepted media types, or null when anything goes (no header, or a wildcard).</summary>
    internal static HashSet<string>? ParseAccept(StringValues values)
    {
        if (StringValues.IsNullOrEmpty(values)) return null;
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var value in values)
        {
            if (value is null) continue;
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string type = part.Split(';', 2)[0].Trim();
                if (type is "*/*" or "application/*") return null;
                if (type.Length > 0) set.Add(type);
            }
        }
        return set.Count == 0 ? null : set;
    }

    // ---- blobs ---------------------------------------------------------------------------------------------------

    private async Task GetBlobAsync(HttpContext ctx, string fullName, string reference)
    {
        if (!Digest.TryParse(reference, out var digest))
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.DigestInvalid.With(reference, "invalid digest")).ConfigureAwait(false);
            return;
        }
        BlobLocation? found = _store.Contains(fullName, digest) ? _store.FindBlob(digest) : null;
        if (found is null && _pull?.For(fullName) is not null && await _pull.FetchBlobAsync(fullName, digest, ctx.RequestAborted).ConfigureAwait(false))
        {
            // The upstream served it for this repository and it was verified on the way in.
            _store.AddPushedBlob(fullName, digest);
            found = _store.FindBlob(digest);
        }
        if (found is not { } at)
        {
            var error = _store.HasRepository(fullName) || _store.Writable is not null ? ErrorDescriptors.BlobUnknown.With(digest.ToString()) : ErrorDescriptors.NameUnknown.With(fullName);
            await WriteErrorAsync(ctx, error).ConfigureAwait(false);
            return;
        }
        long size = at.Length;
        if (!await _store.VerifyBlobAsync(at, digest).ConfigureAwait(false))
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.Unknown.With(digest.ToString(), "the blob is corrupt on the server; it is not served")).ConfigureAwait(false);
            return;
        }
        var h = ctx.Response.Headers;
        h["Docker-Content-Digest"] = digest.ToString();
        h.ETag = "\"" + digest + "\"";
        h.AcceptRanges = "bytes";
        h.CacheControl = "max-age=31536000";
        ctx.Response.ContentType = "application/octet-stream";
        long offset = 0, count = size;
        string? range = ctx.Request.Headers.Range;
        if (!string.IsNullOrEmpty(range))
        {
            var parsed = ParseRange(range, size);
            if (parsed is null)
            {
                // The spec's JSON error codes have none for ranges; answer 416 as RFC 9110 (and Go's ServeContent) do.
                h.ContentRange = $"bytes */{size}";
                byte[] text = "invalid range: the Range header is malformed or outside the blob\n"u8.ToArray();
                ctx.Response.StatusCode = 416;
                ctx.Response.ContentType = "text/plain; charset=utf-8";
                ctx.Response.ContentLength = text.Length;
                if (!HttpMethods.IsHead(ctx.Request.Method)) await ctx.Response.Body.WriteAsync(text, ctx.RequestAborted).ConfigureAwait(false);
                return;
            }
            if (parsed.Value.Count >= 0)
            {
                (offset, count) = parsed.Value;
                ctx.Response.StatusCode = 206;
                h.ContentRange = $"bytes {offset}-{offset + count - 1}/{size}";
            }
        }
        ctx.Response.ContentLength = count;
        if (HttpMethods.IsHead(ctx.Request.Method) || count == 0) return;
        await SendFileRangeAsync(ctx, at.Path, at.Offset + offset, count).ConfigureAwait(false);
    }

    /// <summary>Bytes read from the file per step, straight into the response pipe's memory.</summary>
    internal const int SendChunkSize = 1 << 18;

    /// <summary>
    /// Sends <paramref name="count"/> bytes of the file from <paramref name="offset"/> (a blob's own file, or the store
    /// layer holding it). Kestrel's
    /// <c>SendFileAsync</c> is no sendfile(2): it copies through a 64 KiB FileStream buffer into the pipe's 4 KiB blocks.
    /// This reads 256 KiB at a time (positional reads, no FileStream buffer, sequential read-ahead) directly into memory
    /// the pipe hands out and then sends it (one copy less, 1/4 of the read calls), and Kestrel's response buffer
    /// (<see cref="RegistryHost"/>: MaxResponseBufferSize) lets the next read overlap the send of the previous one.
    /// </summary>
    private static async Task SendFileRangeAsync(HttpContext ctx, string path, long offset, long count)
    {
        var writer = ctx.Response.BodyWriter;
        var token = ctx.RequestAborted;
        await ctx.Response.StartAsync(token).ConfigureAwait(false);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.SequentialScan);
        long end = offset + count;
        while (offset < end)
        {
            int want = (int)Math.Min(SendChunkSize, end - offset);
            var memory = writer.GetMemory(want);
            if (memory.Length > want) memory = memory[..want];
            // A page-cache read; blocking a pool thread briefly is cheaper here than an async hop per chunk.
            int n = RandomAccess.Read(handle, memory.Span, offset);
            if (n <= 0) throw new IOException($"'{path}' ended at {offset} of {end} bytes while it was being sent.");
            writer.Advance(n);
            offset += n;
            var flushed = await writer.FlushAsync(token).ConfigureAwait(false);
            if (flushed.IsCanceled || flushed.IsCompleted) return;
        }
    }

    /// <summary>
    /// One byte range of RFC 9110: <c>bytes=a-b</c>, <c>bytes=a-</c>, <c>bytes=-n</c>. Returns (offset, count); count -1 means
    /// "ignore the header and send everything" (several ranges, or another unit); null means unsatisfiable or malformed (416).
    /// </summary>
    internal static (long Offset, long Count)? ParseRange(string header, long size)
    {
        header = header.Trim();
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return (0, -1);
        string spec = header[6..].Trim();
        if (spec.Contains(',')) return (0, -1);
        int dash = spec.IndexOf('-');
        if (dash < 0) return null;
        string a = spec[..dash].Trim(), b = spec[(dash + 1)..].Trim();
        const NumberStyles digits = NumberStyles.None;
        if (a.Length == 0)
        {
            if (!long.TryParse(b, digits, CultureInfo.InvariantCulture, out long suffix) || suffix == 0 || size == 0) return null;
            suffix = Math.Min(suffix, size);
            return (size - suffix, suffix);
        }
        if (!long.TryParse(a, digits, CultureInfo.InvariantCulture, out long first) || first >= size) return null;
        long last = size - 1;
        if (b.Length > 0)
        {
            if (!long.TryParse(b, digits, CultureInfo.InvariantCulture, out last) || last < first) return null;
            last = Math.Min(last, size - 1);
        }
        return (first, last - first + 1);
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    internal static Task WriteErrorAsync(HttpContext ctx, RegistryError error)
    {
        if (ctx.Response.HasStarted) { ctx.Abort(); return Task.CompletedTask; }
        var body = error.ToJson();
        ctx.Response.StatusCode = error.Descriptor.HttpStatusCode;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        ctx.Response.ContentLength = body.Length;
        return HttpMethods.IsHead(ctx.Request.Method) ? Task.CompletedTask : ctx.Response.Body.WriteAsync(body, ctx.RequestAborted).AsTask();
    }

    private static Task WriteJsonBytesAsync(HttpContext ctx, int status, byte[] body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        ctx.Response.ContentLength = body.Length;
        return HttpMethods.IsHead(ctx.Request.Method) ? Task.CompletedTask : ctx.Response.Body.WriteAsync(body, ctx.RequestAborted).AsTask();
    }

    /// <summary>tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (distribution spec).</summary>
    internal static bool IsValidTag(string tag)
    {
        if (tag.Length is 0 or > 128) return false;
        if (!(char.IsAsciiLetterOrDigit(tag[0]) || tag[0] == '_')) return false;
        foreach (char c in tag) if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')) return false;
        return true;
    }
}
