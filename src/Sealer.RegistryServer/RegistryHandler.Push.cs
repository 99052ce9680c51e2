using System.Globalization;
using Microsoft.AspNetCore.Http;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer;

/// <summary>
/// Optional push (for CI): blob uploads (monolithic POST ?digest=, chunked POST/PATCH/PUT, cross-repo mount) into the
/// writable layout, and manifest PUT, which records the full reference in that layout's index.json. Every upload is
/// hashed and checked against the digest the client names before it is moved into <c>blobs/</c>; upload ids are
/// server-made GUIDs, so a session file path never comes from the request.
/// </summary>
public sealed partial class RegistryHandler
{
    private OciLayout Writable => _store.Writable!;

    private string UploadDir => Path.Combine(Writable.Root, "ingest", "uploads");

    private string? UploadPath(string uuid)
        => Guid.TryParseExact(uuid, "N", out var g) ? Path.Combine(UploadDir, g.ToString("N")) : null;

    private async Task StartUploadAsync(HttpContext ctx, string requestedName, string fullName)
    {
        var query = ctx.Request.Query;
        string? mount = query["mount"].FirstOrDefault();
        if (mount is not null && Digest.TryParse(mount, out var mounted) && _store.FindBlob(mounted) is not null)
        {
            _store.AddPushedBlob(fullName, mounted);
            BlobCreated(ctx, requestedName, mounted);
            return;
        }
        string? digestText = query["digest"].FirstOrDefault();
        Directory.CreateDirectory(UploadDir);
        string uuid = Guid.NewGuid().ToString("N");
        string path = UploadPath(uuid)!;
        if (digestText is not null)
        {
            if (!Digest.TryParse(digestText, out var digest))
            {
                await WriteErrorAsync(ctx, ErrorDescriptors.DigestInvalid.With(digestText)).ConfigureAwait(false);
                return;
            }
            await AppendBodyAsync(ctx, path).ConfigureAwait(false);
            await CommitUploadAsync(ctx, requestedName, fullName, path, digest).ConfigureAwait(false);
            return;
        }
        await File.WriteAllBytesAsync(path, [], ctx.RequestAborted).ConfigureAwait(false);
        UploadAccepted(ctx, requestedName, uuid, 0);
    }

    private async Task PatchUploadAsync(HttpContext ctx, string requestedName, string uuid)
    {
        string? path = UploadPath(uuid);
        if (path is null || !File.Exists(path))
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.BlobUploadUnknown.With(uuid)).ConfigureAwait(false);
            return;
        }
        long current = new FileInfo(path).Length;
        string? contentRange = ctx.Request.Headers.ContentRange;
        if (!string.IsNullOrEmpty(contentRange))
        {
            // "start-end" (the spec's form) or "bytes start-end/*".
            string cr = contentRange.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase) ? contentRange[6..] : contentRange;
            int dash = cr.IndexOf('-');
            if (dash <= 0 || !long.TryParse(cr[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out long start) || start != current)
            {
                ctx.Response.Headers.Range = current == 0 ? "0-0" : $"0-{current - 1}";
                await WriteErrorAsync(ctx, ErrorDescriptors.RangeInvalid.With(contentRange, "chunk out of order")).ConfigureAwait(false);
                return;
            }
        }
        long size = await AppendBodyAsync(ctx, path).ConfigureAwait(false);
        UploadAccepted(ctx, requestedName, uuid, size);
    }

    private async Task UploadStatusAsync(HttpContext ctx, string requestedName, string uuid)
    {
        string? path = UploadPath(uuid);
        if (path is null || !File.Exists(path))
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.BlobUploadUnknown.With(uuid)).ConfigureAwait(false);
            return;
        }
        UploadAccepted(ctx, requestedName, uuid, new FileInfo(path).Length);
        ctx.Response.StatusCode = 204;
    }

    private async Task FinishUploadAsync(HttpContext ctx, string requestedName, string fullName, string uuid)
    {
        string? path = UploadPath(uuid);
        if (path is null || !File.Exists(path))
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.BlobUploadUnknown.With(uuid)).ConfigureAwait(false);
            return;
        }
        string? digestText = ctx.Request.Query["digest"].FirstOrDefault();
        if (!Digest.TryParse(digestText, out var digest))
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.DigestInvalid.With(digestText ?? "(missing ?digest=)")).ConfigureAwait(false);
            return;
        }
        await AppendBodyAsync(ctx, path).ConfigureAwait(false);
        await CommitUploadAsync(ctx, requestedName, fullName, path, digest).ConfigureAwait(false);
    }

    private Task CancelUploadAsync(HttpContext ctx, string uuid)
    {
        string? path = UploadPath(uuid);
        if (path is null || !File.Exists(path)) return WriteErrorAsync(ctx, ErrorDescriptors.BlobUploadUnknown.With(uuid));
        File.Delete(path);
        ctx.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    private static async Task<long> AppendBodyAsync(HttpContext ctx, string path)
    {
        await using var fs = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await ctx.Request.Body.CopyToAsync(fs, 1 << 17, ctx.RequestAborted).ConfigureAwait(false);
        return fs.Length;
    }

    private async Task CommitUploadAsync(HttpContext ctx, string requestedName, string fullName, string path, Digest digest)
    {
        bool ok;
        await using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            using var hash = digest.CreateHash();
            byte[] buffer = new byte[1 << 17];
            int n;
            while ((n = await fs.ReadAsync(buffer, ctx.RequestAborted).ConfigureAwait(false)) > 0) hash.AppendData(buffer, 0, n);
            ok = Digest.FromHash(digest.Algorithm, hash.GetHashAndReset()) == digest;
        }
        if (!ok)
        {
            File.Delete(path);
            await WriteErrorAsync(ctx, ErrorDescriptors.DigestInvalid.With(digest.ToString())).ConfigureAwait(false);
            return;
        }
        string final = Writable.BlobPath(digest);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        File.Move(path, final, overwrite: true);
        _store.AddPushedBlob(fullName, digest);
        BlobCreated(ctx, requestedName, digest);
    }

    private static void BlobCreated(HttpContext ctx, string requestedName, Digest digest)
    {
        ctx.Response.StatusCode = 201;
        ctx.Response.Headers.Location = $"/v2/{requestedName}/blobs/{digest}";
        ctx.Response.Headers["Docker-Content-Digest"] = digest.ToString();
        ctx.Response.ContentLength = 0;
    }

    private static void UploadAccepted(HttpContext ctx, string requestedName, string uuid, long size)
    {
        ctx.Response.StatusCode = 202;
        ctx.Response.Headers.Location = $"/v2/{requestedName}/blobs/uploads/{uuid}";
        ctx.Response.Headers.Range = size == 0 ? "0-0" : $"0-{size - 1}";
        ctx.Response.Headers["Docker-Upload-UUID"] = uuid;
        ctx.Response.ContentLength = 0;
    }

    private async Task PutManifestAsync(HttpContext ctx, string fullName, string reference)
    {
        bool byDigest = reference.Contains(':');
        Digest expected = default;
        if (byDigest ? !Digest.TryParse(reference, out expected) || expected.Algorithm != "sha256" : !IsValidTag(reference))
        {
            await WriteErrorAsync(ctx, (byDigest ? ErrorDescriptors.DigestInvalid : ErrorDescriptors.ManifestInvalid).With(reference)).ConfigureAwait(false);
            return;
        }
        var ms = new MemoryStream();
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (ms.Length + n > OciLimits.MaxManifestBytes)
            {
                await WriteErrorAsync(ctx, ErrorDescriptors.SizeInvalid.With($"manifests are limited to {OciLimits.MaxManifestBytes} bytes")).ConfigureAwait(false);
                return;
            }
            ms.Write(buffer, 0, n);
        }
        byte[] bytes = ms.ToArray();
        var digest = Digest.Sha256(bytes);
        if (byDigest && digest != expected)
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.DigestInvalid.With(reference, "the manifest does not have the digest it was pushed by")).ConfigureAwait(false);
            return;
        }
        string? contentType = ctx.Request.ContentType?.Split(';')[0].Trim();
        string? mediaType = RegistryStore.DetectManifestMediaType(bytes, contentType);
        if (mediaType is null)
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.ManifestInvalid.With(contentType, "not an OCI/Docker v2 manifest or index")).ConfigureAwait(false);
            return;
        }
        // Every referenced blob/manifest must be here already.
        IEnumerable<Descriptor> refs;
        try
        {
            refs = MediaTypes.IsIndex(mediaType)
                ? OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, "manifest").Manifests
                : OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageManifest, "manifest") is var m ? m.Layers.Where(l => l.Urls is null).Prepend(m.Config) : [];
        }
        catch (Sealer.Core.Diagnostics.SealerException ex)
        {
            await WriteErrorAsync(ctx, ErrorDescriptors.ManifestInvalid.With(ex.Message)).ConfigureAwait(false);
            return;
        }
        foreach (var d in refs)
        {
            if (!Digest.TryParse(d.Digest, out var rd) || _store.FindBlob(rd) is null)
            {
                await WriteErrorAsync(ctx, ErrorDescriptors.ManifestBlobUnknown.With(d.Digest)).ConfigureAwait(false);
                return;
            }
        }
        var written = Writable.WriteBlob(bytes, mediaType);
        string refName = byDigest ? $"{fullName}@{digest}" : $"{fullName}:{reference}";
        Writable.SetRef(refName, written);
        _store.AddPushedBlob(fullName, digest);
        _store.Reload();
        ctx.Response.StatusCode = 201;
        ctx.Response.Headers.Location = $"/v2/{fullName}/manifests/{digest}";
        ctx.Response.Headers["Docker-Content-Digest"] = digest.ToString();
        ctx.Response.ContentLength = 0;
    }
}
